"""Perception latency reaches speed and tonnes."""

from __future__ import annotations

import numpy as np
from shifts import shift


def test_slower_perception_lowers_safe_speed_and_tonnes():
    """The small model in heavy dust, 30 ms vs 900 ms latency (budget 1.2 s), same seeds, 2 h: the
    perception-safe speed falls and so do the tonnes."""
    def run(latency_ms, seed):
        return shift("small", seed, trucks=20, hours=2.0, device="none", latency_ms=latency_ms, budget_ms=1200.0,
                     dust=0.6)

    fast = [run(30.0, seed) for seed in (1, 2)]
    slow = [run(900.0, seed) for seed in (1, 2)]
    assert np.mean([s["safe_speed_mean_kmh"] for s in slow]) < np.mean([s["safe_speed_mean_kmh"] for s in fast]) - 3
    assert sum(s["tph"] for s in slow) < 0.98 * sum(s["tph"] for s in fast)
