"""What a run leaves for replay and review: a compact trace of the fleet (positions, heading, state and payload
at a fixed period) and the event log."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from fleet.engine import Simulation


class TraceRecorder:
    """Engine observer sampling every ``period_s`` [s] of simulation time into float32/uint8 arrays."""

    def __init__(self, period_s: float) -> None:
        self.period_s = period_s
        self._next = 0.0
        self.t: list[float] = []
        self.rows: list[np.ndarray] = []
        self.state: list[np.ndarray] = []

    def __call__(self, sim: Simulation) -> None:
        if sim.t + 1e-9 < self._next:
            return
        self._next += self.period_s
        f = sim.fleet
        self.t.append(sim.t)
        self.rows.append(np.stack([f.x, f.y, f.heading, f.v, f.payload_t]).astype(np.float32))
        self.state.append(f.state.astype(np.uint8))

    def save(self, path: Path, sim: Simulation) -> None:
        """Write the samples, with each truck's class, size and capacity so a replay draws a mixed fleet true."""
        f = sim.fleet
        cls = f.class_index
        with path.open("wb") as fh:
            np.savez_compressed(
                fh, t=np.asarray(self.t), xyhvp=np.asarray(self.rows, dtype=np.float32),
                state=np.asarray(self.state, dtype=np.uint8), trucks=np.asarray(f.ids),
                truck_class=np.asarray([sim.classes[c].id for c in cls.tolist()]),
                length_m=sim.ct.length[cls], width_m=sim.ct.width[cls], capacity_t=sim.ct.payload_t[cls])


EVENT_COLUMNS = ("t_s", "truck", "event", "facility", "payload_t", "cause")


def write_events(path: Path, sim: Simulation) -> None:
    """``events.csv``: every logged event, one row each. ``cause`` is filled on collision rows only (why the
    truck struck the obstacle, ``fleet.onboard.CAUSES``); readers that take columns by name are unaffected."""
    causes = sim.onboard.causes if sim.onboard is not None else {}
    index = {tid: i for i, tid in enumerate(sim.fleet.ids)}
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(EVENT_COLUMNS)
        w.writerows((f"{t:.1f}", tid, ev, fac, f"{p:.1f}", causes.get((t, index.get(tid, -1)), ""))
                    for t, tid, ev, fac, p in sim.log)
