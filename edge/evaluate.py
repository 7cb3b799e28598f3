"""Held-out metrics of a perception model: recall, precision and distance error per dust level, and the
detection range (how far recall stays >= 0.9) that the safety controller's speed limit rests on.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from edge.contract import SensorSpec
from edge.dataset import generate

DUST_LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)
RANGE_BIN_M = 10.0  # [m]
RANGE_RECALL = 0.9  # [-] recall a distance bin must keep to count as within detection range


def metrics(predict: Callable[[np.ndarray], np.ndarray], spec: SensorSpec, half_widths: np.ndarray,
            seed: int, frames_per_level: int = 3000, threshold: float = 0.5) -> dict:
    """Evaluate ``predict(scans) -> sectors`` on fresh frames (a seed never used for training)."""
    levels = []
    for k, dust in enumerate(DUST_LEVELS):
        rng = np.random.default_rng([seed, k])
        data = generate(frames_per_level, spec, half_widths, rng, dust=dust, rain=0.0)
        out = predict(data.scans)
        levels.append({"dust": dust, **_score(out, data.truth, spec, threshold),
                       "range_m": _reach(out, data.truth_small, spec, threshold)})
    return {
        "threshold": threshold,
        "frames_per_level": frames_per_level,
        "by_dust": levels,
        "detect_range_m": {"dust": [lv["dust"] for lv in levels], "range_m": [lv["range_m"] for lv in levels]},
    }


def _score(out: np.ndarray, truth: np.ndarray, spec: SensorSpec, thr: float) -> dict:
    pred, real = out[..., 0] >= thr, truth[..., 0] >= 0.5
    tp, fp, fn = int(np.sum(pred & real)), int(np.sum(pred & ~real)), int(np.sum(~pred & real))
    both = pred & real
    err = np.abs(out[..., 1][both] - truth[..., 1][both]) * spec.max_range_m
    return {"recall": round(tp / max(tp + fn, 1), 4), "precision": round(tp / max(tp + fp, 1), 4),
            "distance_mae_m": round(float(err.mean()) if err.size else 0.0, 3)}


def _reach(out: np.ndarray, truth_small: np.ndarray, spec: SensorSpec, thr: float) -> float:
    """Detection range [m]: out to where per-frame recall of small obstacles (spillage, people) stays high.

    Range bins of ``RANGE_BIN_M`` from the truck outwards; the range ends at the first bin whose recall
    falls below ``RANGE_RECALL``. Small obstacles, because a model that sees trucks far away but people
    only close must be trusted only as far as it sees people.
    """
    pred, real = out[..., 0] >= thr, truth_small[..., 0] >= 0.5
    dist = truth_small[..., 1] * spec.max_range_m
    reach = 0.0
    for lo, hi in itertools.pairwise(np.arange(0.0, spec.max_range_m + RANGE_BIN_M, RANGE_BIN_M)):
        sel = real & (dist >= lo) & (dist < hi)
        if not sel.any() or float(np.mean(pred[sel])) < RANGE_RECALL:
            break
        reach = float(hi)
    return reach
