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
        levels.append({"dust": dust, **_score(out, data.truth, spec, threshold)})
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
    dist = truth[..., 1] * spec.max_range_m
    bins = np.arange(0.0, spec.max_range_m + RANGE_BIN_M, RANGE_BIN_M)
    recall_bins = []
    reach = 0.0
    for lo, hi in itertools.pairwise(bins):
        sel = real & (dist >= lo) & (dist < hi)
        rec = float(np.mean(pred[sel])) if sel.any() else float("nan")
        recall_bins.append(round(rec, 4))
        if reach == lo and sel.any() and rec >= RANGE_RECALL:
            reach = float(hi)
    return {"recall": round(tp / max(tp + fn, 1), 4), "precision": round(tp / max(tp + fp, 1), 4),
            "distance_mae_m": round(float(err.mean()) if err.size else 0.0, 3),
            "recall_by_range": recall_bins, "range_m": reach}
