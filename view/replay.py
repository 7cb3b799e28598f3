"""Replay of a run directory's ``trace.npz`` through the same ``Source`` interface as a live ``Controller``.

The trace holds positions, heading, speed, payload and state at a fixed period. Between samples positions
and heading are interpolated (so trucks glide at x1 rather than jump every period); state and payload are
the last sample's. Tonnes and loads are read off the payload (each drop is a load dumped),
destinations and collisions off ``events.csv`` when it is there. The recording cannot be steered: a model
swap is refused.
"""

from __future__ import annotations

import csv
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from fleet.control import SPEEDS
from fleet.snapshot import STATE_NAMES, FacilityView, Snapshot, TruckArrays

QUEUES = {"QUEUE_LOAD": ("shovel", "queue"), "SPOT": ("shovel", "busy"), "LOADING": ("shovel", "busy"),
          "QUEUE_DUMP": ("dump", "queue"), "DUMPING": ("dump", "busy")}  # state -> facility kind, counter


def run_map_path(run_dir: str | Path) -> Path:
    """The map file a run directory was made on (``[scenario] map_file`` of its ``scenario.toml``)."""
    doc = tomllib.loads((Path(run_dir) / "scenario.toml").read_text(encoding="utf-8"))
    return Path(doc["scenario"]["map_file"])


class ReplaySource:
    """Playback clock over a trace: pause, x1..x64, single step (one sample), seek, jump."""

    def __init__(self, trace: dict[str, np.ndarray], *, site: str = "", mine: Any = None,
                 events: list[dict[str, str]] | None = None, length_m: float | np.ndarray = 0.0,
                 width_m: float | np.ndarray = 0.0, capacity_t: float | np.ndarray | None = None) -> None:
        self.times = np.asarray(trace["t"], dtype=np.float64)  # [s]
        if self.times.size == 0:
            raise ValueError("the trace has no samples")
        self.xyhvp = np.asarray(trace["xyhvp"], dtype=np.float64)  # [k, 5, n]
        self.states = np.asarray(trace["state"], dtype=np.int64)  # [k, n]
        self.ids = [str(s) for s in trace["trucks"]]
        self.site = site or (mine.site if mine is not None else "")
        n = len(self.ids)
        payload = self.xyhvp[:, 4, :]
        observed = payload.max(axis=0) if capacity_t is None else np.broadcast_to(capacity_t, (n,)).astype(float)
        self.capacity_t = observed
        self.length_m = np.broadcast_to(length_m, (n,)).astype(float)
        self.width_m = np.broadcast_to(width_m, (n,)).astype(float)
        step = np.diff(payload, axis=0, prepend=payload[:1])
        self.tonnes = np.cumsum(np.clip(-step, 0.0, None).sum(axis=1))  # [t] dumped by each sample
        self.loads = np.cumsum((step < 0).sum(axis=1))  # loads delivered (dumped), as the live KPI counts them
        self.facilities = _facilities(mine)
        self._events(events or [])
        self.paused = False
        self.speed = 1  # [x real time]
        self.selected: int | None = None
        self.lag_s = 0.0  # a recording never falls behind
        self.until: float | None = None
        self.t = float(self.times[0])

    @classmethod
    def from_run_dir(cls, run_dir: str | Path, mine: Any = None, truck_class: Any = None) -> ReplaySource:
        """Open ``run_dir``; ``mine`` (the run's map) gives facilities. Each truck's size and capacity come from
        the trace (every class of a mixed fleet); ``truck_class`` stands in for traces that lack them."""
        run_dir = Path(run_dir)
        with np.load(run_dir / "trace.npz") as data:
            trace = {k: data[k] for k in data.files}
        events_path = run_dir / "events.csv"
        events = None
        if events_path.is_file():
            with events_path.open(newline="", encoding="utf-8") as fh:
                events = list(csv.DictReader(fh))
        dims: dict[str, Any] = {}
        if "length_m" in trace:
            dims = {k: trace[k] for k in ("length_m", "width_m", "capacity_t")}
        elif truck_class is not None:
            dims = {"length_m": truck_class.length_m, "width_m": truck_class.width_m,
                    "capacity_t": truck_class.payload_t}
        return cls(trace, site=mine.site if mine is not None else run_dir.name, mine=mine, events=events, **dims)

    def _events(self, events: list[dict[str, str]]) -> None:
        """Per truck: times of departures and arrivals with the destination; collision times, sorted."""
        index = {tid: i for i, tid in enumerate(self.ids)}
        moves: list[list[tuple[float, str]]] = [[] for _ in self.ids]
        crashes = []
        for e in events:
            i = index.get(e.get("truck", ""))
            kind, t = e.get("event", ""), float(e.get("t_s", "nan"))
            if i is not None and kind in ("depart", "arrive"):
                moves[i].append((t, e.get("facility", "") if kind == "depart" else ""))
            elif kind.startswith("collision"):
                crashes.append(t)
        self._move_t = [np.array([m[0] for m in ms]) for ms in moves]
        self._move_dest = [[m[1] for m in ms] for ms in moves]
        self._crash_t = np.sort(np.array(crashes))
        self._has_events = bool(events)

    # -- the Source interface ----------------------------------------------------------------------------

    @property
    def start_s(self) -> float:
        return float(self.times[0])

    @property
    def end_s(self) -> float:
        return float(self.times[-1])

    def toggle_pause(self) -> None:
        self.paused = not self.paused

    def faster(self) -> None:
        self.speed = SPEEDS[min(SPEEDS.index(self.speed) + 1, len(SPEEDS) - 1)]

    def slower(self) -> None:
        self.speed = SPEEDS[max(SPEEDS.index(self.speed) - 1, 0)]

    def advance(self, wall_dt: float) -> int:
        """Move the playback clock by ``wall_dt`` [s] x speed; pauses at the end. Returns samples passed."""
        if self.paused:
            return 0
        stop = self.end_s if self.until is None else min(self.until, self.end_s)
        before = self._index()
        self.t = min(self.t + wall_dt * self.speed, stop)
        if self.t >= self.end_s:
            self.paused = True
        return self._index() - before

    def step_once(self) -> None:
        """To the next recorded sample."""
        k = int(np.searchsorted(self.times, self.t + 1e-9, side="right"))
        self.t = float(self.times[min(k, len(self.times) - 1)])

    def seek(self, t: float) -> None:
        self.t = float(min(max(t, self.start_s), self.end_s))

    def jump(self, dt: float) -> None:
        self.seek(self.t + dt)

    def select(self, truck_id: str | None) -> None:
        self.selected = None if truck_id is None else self.ids.index(truck_id)

    def select_at(self, x: float, y: float, radius_m: float) -> str | None:
        px, py, _ = self._pose()
        d = np.hypot(px - x, py - y)
        i = int(np.argmin(d))
        self.selected = i if d[i] <= radius_m else None
        return self.ids[i] if self.selected is not None else None

    def next_model(self, everyone: bool = False) -> str:
        raise ValueError("a recording cannot change perception models")

    # -- snapshots ----------------------------------------------------------------------------------------

    def _index(self) -> int:
        """The last sample at or before ``t``."""
        return max(int(np.searchsorted(self.times, self.t + 1e-9, side="right")) - 1, 0)

    def _pose(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k = self._index()
        a = self.xyhvp[k]
        if k + 1 >= len(self.times):
            return a[0], a[1], a[2]
        b = self.xyhvp[k + 1]
        f = (self.t - self.times[k]) / (self.times[k + 1] - self.times[k])
        turn = (b[2] - a[2] + math.pi) % (2 * math.pi) - math.pi  # the short way round
        return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + turn * f

    def _dest(self) -> list[str]:
        out = []
        for times, dests in zip(self._move_t, self._move_dest, strict=True):
            j = int(np.searchsorted(times, self.t, side="right")) - 1
            out.append(dests[j] if j >= 0 else "")
        return out

    def snapshot(self) -> Snapshot:
        k = self._index()
        x, y, heading = self._pose()
        state = self.states[k].copy()
        n = len(self.ids)
        trucks = TruckArrays(
            ids=list(self.ids), x=x, y=y, heading=heading, state=state, payload_t=self.xyhvp[k, 4].copy(),
            capacity_t=self.capacity_t, speed_mps=self.xyhvp[k, 3].copy(), safe_speed_mps=np.full(n, np.inf),
            dest=self._dest(), model=[""] * n, length_m=self.length_m, width_m=self.width_m)
        facilities = self._queues(state, x, y)
        hours = max(self.t / 3600.0, 1e-9)
        kpis: dict[str, Any] = {"tonnes": float(self.tonnes[k]), "tonnes_per_hour": float(self.tonnes[k]) / hours,
                                "loads": int(self.loads[k]),
                                "queue_shovels": sum(f.queue for f in facilities if f.kind == "shovel"),
                                "queue_dumps": sum(f.queue for f in facilities if f.kind in ("dump", "crusher"))}
        if self._has_events:
            kpis["collisions"] = int(np.searchsorted(self._crash_t, self.t, side="right"))
        empty = np.zeros(0)
        return Snapshot(t=self.t, site=self.site, trucks=trucks, facilities=facilities,
                        obstacles={"x": empty, "y": empty, "r": empty, "kind": np.zeros(0, dtype=object)},
                        kpis=kpis)

    def _queues(self, state: np.ndarray, x: np.ndarray, y: np.ndarray) -> list[FacilityView]:
        """Waiting and in-service counts per facility: each truck in such a state counts at the nearest one."""
        if not self.facilities:
            return []
        counts = {f.id: {"queue": 0, "busy": 0} for f in self.facilities}
        for name, (kind, counter) in QUEUES.items():
            cands = [f for f in self.facilities if (f.kind == "shovel") == (kind == "shovel") and f.kind != "park"]
            trucks = np.flatnonzero(state == STATE_NAMES.index(name))
            if not cands or trucks.size == 0:
                continue
            fx, fy = np.array([f.x for f in cands]), np.array([f.y for f in cands])
            near = np.argmin(np.hypot(x[trucks, None] - fx, y[trucks, None] - fy), axis=1)
            for j in near.tolist():
                counts[cands[j].id][counter] += 1
        return [FacilityView(f.id, f.kind, f.x, f.y, counts[f.id]["queue"], counts[f.id]["busy"], f.bays, f.units)
                for f in self.facilities]


def _facilities(mine: Any) -> list[FacilityView]:
    if mine is None:
        return []
    # A load point has a bay per unit (a shovel alone: one), as the live simulation counts it.
    out = [FacilityView(lp.id, "shovel", lp.xyz[0], lp.xyz[1], 0, 0, len(lp.units),
                        tuple((u.xyz[0], u.xyz[1], True) for u in lp.units)) for lp in mine.load_points()]
    out += [FacilityView(d.id, d.kind, d.xyz[0], d.xyz[1], 0, 0, d.bays) for d in mine.dumps]
    return out + [FacilityView(p.id, "park", p.xyz[0], p.xyz[1], 0, 0, 0) for p in mine.parks]
