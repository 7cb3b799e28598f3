"""A KPI time series for the HUD sparkline: production rate [t/h] over simulation time.

The snapshot's ``tonnes_per_hour`` is the shift average, which flattens as the shift goes on; the sparkline
shows the rate over a moving window instead, so a jam or a slow model shows up while it happens.
"""

from __future__ import annotations

import math

import numpy as np

from fleet.snapshot import Snapshot


class KpiSeries:
    """Cumulative tonnes sampled every ``period_s`` [s]; rates over ``window_s`` [s]; ``length`` samples kept."""

    def __init__(self, period_s: float = 60.0, window_s: float = 900.0, length: int = 720) -> None:
        self.period_s = period_s
        self.window_s = window_s
        self.length = length
        self.t: list[float] = []
        self.tonnes: list[float] = []
        self._next_t = -math.inf

    def record(self, snap: Snapshot) -> None:
        tonnes = snap.kpis.get("tonnes")
        if tonnes is None:
            return
        if self.t and snap.t < self.t[-1] - 1e-9:  # a replay went back in time: the old history is void
            self.t.clear()
            self.tonnes.clear()
            self._next_t = -math.inf
        if snap.t + 1e-9 < self._next_t:
            return
        self.t.append(float(snap.t))
        self.tonnes.append(float(tonnes))
        if len(self.t) > self.length:
            del self.t[0], self.tonnes[0]
        self._next_t = (math.floor(snap.t / self.period_s + 1e-9) + 1) * self.period_s

    def rates(self) -> tuple[np.ndarray, np.ndarray]:
        """Sample times [s] and production rate [t/h] over the window ending at each (shorter at the start)."""
        if len(self.t) < 2:
            return np.zeros(0), np.zeros(0)
        t, tonnes = np.asarray(self.t), np.asarray(self.tonnes)
        j = np.searchsorted(t, t - self.window_s - 1e-9)
        j = np.minimum(j, np.arange(len(t)) - 1)
        j[0] = 0
        span = t - t[j]
        rate = np.where(span > 0, (tonnes - tonnes[j]) / np.where(span > 0, span, 1.0) * 3600.0, 0.0)
        return t[1:], rate[1:]
