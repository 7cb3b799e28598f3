"""The command API: the one way to steer a running simulation, shared by the view and the CLI.

Live pacing follows SimPy's real-time idea: the simulation clock chases wall time x a speed factor; frame
rate and simulation speed stay separate (the view draws whatever the last tick produced).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from fleet.snapshot import Snapshot, take

SPEEDS = (1, 2, 4, 8, 16, 32, 64)  # [x real time]


class Controller:
    def __init__(self, sim: Any, models: list[str] | None = None) -> None:
        self.sim = sim
        self.models = models or []
        self.paused = False
        self.speed = 1
        self.selected: int | None = None
        self.lag_s = 0.0  # [s] simulation time the clock is behind wall time x speed
        self.until: float | None = None  # [s] stop advancing here (end of shift)

    # -- time ---------------------------------------------------------------------------------------

    def toggle_pause(self) -> None:
        self.paused = not self.paused

    def set_speed(self, speed: int) -> None:
        if speed not in SPEEDS:
            raise ValueError(f"speed must be one of {SPEEDS}, got {speed}")
        self.speed = speed

    def faster(self) -> None:
        self.speed = SPEEDS[min(SPEEDS.index(self.speed) + 1, len(SPEEDS) - 1)]

    def slower(self) -> None:
        self.speed = SPEEDS[max(SPEEDS.index(self.speed) - 1, 0)]

    def step_once(self) -> None:
        """One tick, paused or not (single-step)."""
        if self.until is None or self.sim.t < self.until:
            self.sim.step()

    def advance(self, wall_dt: float, budget_s: float = 0.05) -> int:
        """Run the ticks that ``wall_dt`` [s] of wall time buys at the current speed.

        Stops after ``budget_s`` [s] of host time so the window stays responsive; what is left over is
        carried as lag and caught up on later frames.
        """
        if self.paused:
            return 0
        target = self.sim.t + self.lag_s + wall_dt * self.speed
        if self.until is not None:
            target = min(target, self.until)
        dt = self.sim.params.dt
        started = time.perf_counter()
        ticks = 0
        while self.sim.t + dt <= target + 1e-9:
            self.sim.step()
            ticks += 1
            if time.perf_counter() - started > budget_s:
                break
        self.lag_s = max(target - self.sim.t, 0.0)
        return ticks

    # -- trucks -------------------------------------------------------------------------------------

    def select(self, truck_id: str | None) -> None:
        self.selected = None if truck_id is None else self.sim.fleet.ids.index(truck_id)

    def select_at(self, x: float, y: float, radius_m: float) -> str | None:
        """Select the truck nearest (x, y) [m] within ``radius_m``; returns its id or None."""
        f = self.sim.fleet
        d = np.hypot(f.x - x, f.y - y)
        i = int(np.argmin(d))
        self.selected = i if d[i] <= radius_m else None
        return f.ids[i] if self.selected is not None else None

    def swap_model(self, ref: str, everyone: bool = False) -> None:
        """Put model ``ref`` on the selected truck, or on every truck."""
        ob = self.sim.onboard
        if ob is None:
            raise ValueError("this run has no perception to swap")
        if everyone:
            trucks = np.arange(self.sim.fleet.n)
        elif self.selected is not None:
            trucks = np.array([self.selected])
        else:
            raise ValueError("select a truck first (or swap for all)")
        ob.swap_model(trucks, ref)

    def next_model(self, everyone: bool = False) -> str:
        """Cycle the selected truck (or all) to the next model in ``models``; returns its name."""
        ob = self.sim.onboard
        if ob is None or not self.models:
            raise ValueError("this run has no perception models to cycle through")
        current = ob.model_of(self.selected if self.selected is not None and not everyone else 0)
        nxt = self.models[(self.models.index(current) + 1) % len(self.models)] if current in self.models \
            else self.models[0]
        self.swap_model(nxt, everyone=everyone or self.selected is None)
        return nxt

    def snapshot(self) -> Snapshot:
        return take(self.sim)
