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
        """Sample times [s] and production rate [t/h] over the window ending at each.

        Tonnes are counted from the start of the shift, so (0 s, 0 t) is known even when the series began
        later (the view opened mid-run, a replay seek): history before the first sample is interpolated
        from it rather than left out, which would turn the first minutes into a wild rate.
        """
        if not self.t or self.t[-1] <= 0:
            return np.zeros(0), np.zeros(0)
        t, tonnes = np.asarray(self.t), np.asarray(self.tonnes)
        if t[0] > 0:
            t, tonnes = np.concatenate([[0.0], t]), np.concatenate([[0.0], tonnes])
        keep = t > 0
        start = np.maximum(t[keep] - self.window_s, 0.0)
        rate = (tonnes[keep] - np.interp(start, t, tonnes)) / (t[keep] - start) * 3600.0
        return t[keep], rate
