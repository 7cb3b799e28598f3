"""What a run leaves for replay and review: a compact trace of the fleet (positions, heading, state and payload
at a fixed period) and the event log."""

from __future__ import annotations

import csv
import shutil
import tempfile
import zipfile
from array import array
from pathlib import Path
from typing import IO

import numpy as np

from fleet.engine import Simulation


class TraceRecorder:
    """Engine observer sampling every ``period_s`` [s] of simulation time into float32/uint8 rows.

    Rows go to an anonymous temporary file every ``SPILL_SAMPLES`` samples (gone with the process, whatever
    ends it), and ``save`` streams them into ``trace.npz``: a 48 h shift's trace costs the process no more memory
    than an hour's."""

    SPILL_SAMPLES = 256

    def __init__(self, period_s: float) -> None:
        self.period_s = period_s
        self._next = 0.0
        self.t = array("d")
        self._rows: list[np.ndarray] = []
        self._state: list[np.ndarray] = []
        self._spill: tuple[IO[bytes], IO[bytes]] | None = None  # (xyhvp rows, states) already written out

    def __call__(self, sim: Simulation) -> None:
        if sim.t + 1e-9 < self._next:
            return
        self._next += self.period_s
        f = sim.fleet
        self.t.append(sim.t)
        self._rows.append(np.stack([f.x, f.y, f.heading, f.v, f.payload_t]).astype(np.float32))
        self._state.append(f.state.astype(np.uint8))
        if len(self._rows) >= self.SPILL_SAMPLES:
            self._write_out()

    def next_due(self) -> float:
        """The simulation time from which the next sample is due (lets the engine run the ticks before it back
        to back)."""
        return self._next - 1e-9

    def _write_out(self) -> None:
        if self._spill is None:  # open as long as the recorder lives; unlinked from the start
            self._spill = (tempfile.TemporaryFile(prefix="minefleet-trace-"),  # noqa: SIM115
                           tempfile.TemporaryFile(prefix="minefleet-trace-"))  # noqa: SIM115
        for fh, rows in zip(self._spill, (self._rows, self._state), strict=True):
            for row in rows:
                fh.write(row.tobytes())
        self._rows, self._state = [], []

    def save(self, path: Path, sim: Simulation) -> None:
        """Write the samples, with each truck's class, size and capacity so a replay draws a mixed fleet true."""
        f = sim.fleet
        cls = f.class_index
        n = len(f.ids)
        self._write_out()
        rows, states = self._spill
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            _stream_npy(zf, "xyhvp", np.dtype(np.float32), (len(self.t), 5, n), rows)
            _stream_npy(zf, "state", np.dtype(np.uint8), (len(self.t), n), states)
            small = {"t": np.frombuffer(self.t, dtype=float), "trucks": np.asarray(f.ids),
                     "truck_class": np.asarray([sim.classes[c].id for c in cls.tolist()]),
                     "length_m": sim.ct.length[cls], "width_m": sim.ct.width[cls],
                     "capacity_t": sim.ct.payload_t[cls]}
            for name, a in small.items():
                with zf.open(f"{name}.npy", "w", force_zip64=True) as out:
                    np.lib.format.write_array(out, a, allow_pickle=False)


def _stream_npy(zf: zipfile.ZipFile, name: str, dtype: np.dtype, shape: tuple[int, ...], src: IO[bytes]) -> None:
    """One ``.npy`` member of an ``.npz``, its data copied from ``src`` in chunks, never whole in memory."""
    with zf.open(f"{name}.npy", "w", force_zip64=True) as out:
        header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_2_0(out, header)
        src.seek(0)
        shutil.copyfileobj(src, out, 1 << 20)


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
