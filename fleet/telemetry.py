"""Telemetry: every truck reports position, speed, state and payload once a period, as one columnar batch.

In a run whose telemetry is the only thing due every second (no radio link to re-evaluate, no barrier, no
per-tick work), the periods between two other happenings need no Python at all: the kernel that moves the fleet
also takes each period's report, at the tick the telemetry event would have fired at, into a buffer
(``kinematics.tick(reports=...)``), and the reports are sent afterwards, in order, before anything else of the
tick the kernel stopped at. Nothing is read from them in between (the cloud acts only on events and requests, and
nothing else is due before that tick), and the event queue sees the same pushes in the same order, so a run is
the same with or without this. docs/architecture.md, "Time".

A mixin of ``fleet.engine.Simulation``, like ``fleet.breakdowns``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from fleet.state import STATE_NAME_OF


@njit(cache=True)
def telemetry_columns_into(x: np.ndarray, y: np.ndarray, v: np.ndarray, out: np.ndarray) -> None:
    """Position [m] to the centimetre and speed [m/s] to the millimetre per second, as telemetry reports them, into
    rows 0, 1, 2 of ``out``: ``np.round(x, 2)``, ``np.round(y, 2)``, ``np.round(v, 3)`` bit for bit (numpy rounds
    as ``rint(a * 10**d) / 10**d``)."""
    for k in range(len(x)):
        out[0, k] = np.rint(x[k] * 100.0) / 100.0
        out[1, k] = np.rint(y[k] * 100.0) / 100.0
        out[2, k] = np.rint(v[k] * 1000.0) / 1000.0


@njit(cache=True)
def telemetry_columns(x: np.ndarray, y: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``telemetry_columns_into`` as three new arrays, in one compiled pass instead of three numpy calls."""
    out = np.empty((3, len(x)))
    telemetry_columns_into(x, y, v, out)
    return out[0], out[1], out[2]


class Telemetry:
    """Telemetry of the simulation (see the module docstring)."""

    fleet: Any
    params: Any
    queue: Any
    comms: Any
    grid: Any
    ticks: int
    t: float
    _link_update: Any
    _sync: Any

    def _init_telemetry(self) -> None:
        # Reports may be taken inside the kernel: telemetry on, and nothing else due every tick or second.
        self.reports_in_kernel = (self.params.telemetry_period_s > 0 and self._link_update is None
                                  and self._sync is None)
        if self.params.telemetry_period_s > 0:
            self.queue.push(0.0, self._telemetry)

    def _telemetry(self) -> None:
        """Every truck reports, now (the telemetry event)."""
        f = self.fleet
        x, y, v = telemetry_columns(f.x, f.y, f.v)
        self._report(self.t, x, y, v, STATE_NAME_OF[f.state], f.payload_t.copy())

    def _report(self, t: float, x: np.ndarray, y: np.ndarray, v: np.ndarray, state: np.ndarray,
                payload_t: np.ndarray) -> None:
        """Send the period's report taken at ``t`` [s] (rounded columns, state names, payloads) and set the next
        period."""
        self.comms.telemetry_all(t, x, y, v, state, payload_t)
        self.queue.push(t + self.params.telemetry_period_s, self._telemetry)

    def _telemetry_due(self) -> bool:
        """The next thing in the event queue is a telemetry event the kernel may take instead."""
        return self.reports_in_kernel and self.queue.head_is(self._telemetry)

    def _reports_within(self, ticks: int) -> np.ndarray | None:
        """Tick offsets (1 ... ``ticks`` - 1, after the tick with that number) at which the telemetry events due
        before the last of the next ``ticks`` ticks fire: each at the first tick at or after its time, the next one
        a period after that tick, as the events themselves would. None where there is none."""
        if ticks <= 1 or not self._telemetry_due():
            return None
        offsets = self.grid.every(self.ticks, self.queue.next_time(), self.params.telemetry_period_s, ticks)
        return offsets if len(offsets) else None

    def _send_reports(self, k0: int, offsets: np.ndarray, done: int, taken: np.ndarray) -> None:
        """Send the reports the kernel took (those at offsets before ``done``) from tick ``k0`` on, in one hand-over
        (``FleetComms.telemetry_periods``), and set the period after the last. Each of them stood for the telemetry
        event at the head of the queue, the next one a period after it: only the first is in the queue (nothing else
        is pushed between them). No truck changes state or payload inside a kernel call: the reports share them."""
        m = int(np.searchsorted(offsets, done))
        if m == 0:
            return
        if not self.queue.head_is(self._telemetry):
            raise RuntimeError("a telemetry report taken in the kernel is not the next event")
        self.queue.pop_head()
        f = self.fleet
        times = [self.grid.time(k0 + k) for k in offsets[:m].tolist()]
        self.comms.telemetry_periods(times, taken[:m, 0], taken[:m, 1], taken[:m, 2], STATE_NAME_OF[f.state],
                                     f.payload_t.copy())
        self.queue.push(times[-1] + self.params.telemetry_period_s, self._telemetry)
