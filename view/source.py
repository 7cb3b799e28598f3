"""What the view needs from whatever it shows: a live simulation's ``Controller`` or a recorded run.

The view draws snapshots and sends commands; it never looks behind this interface. ``fleet.control.Controller``
satisfies ``Source`` as it is, and ``view.replay.ReplaySource`` implements it over a trace. A source that can
also jump in time (a replay) is ``Seekable``; the app offers the time slider and the seek keys only then.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from fleet.snapshot import Snapshot


@runtime_checkable
class Source(Protocol):
    paused: bool
    speed: int  # [x real time]
    selected: int | None  # index of the selected truck in the snapshot arrays
    lag_s: float  # [s] how far the clock is behind wall time x speed
    until: float | None  # [s] the clock stops here

    def toggle_pause(self) -> None: ...

    def faster(self) -> None: ...

    def slower(self) -> None: ...

    def step_once(self) -> None: ...

    def advance(self, wall_dt: float) -> int: ...

    def select(self, truck_id: str | None) -> None: ...

    def select_at(self, x: float, y: float, radius_m: float) -> str | None: ...

    def next_model(self, everyone: bool = False) -> str: ...

    def snapshot(self) -> Snapshot: ...


@runtime_checkable
class Seekable(Protocol):
    start_s: float  # [s] first recorded time
    end_s: float  # [s] last recorded time

    def seek(self, t: float) -> None: ...

    def jump(self, dt: float) -> None: ...
