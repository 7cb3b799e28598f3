"""Latency and wait distributions whose memory does not grow with the length of a shift.

A 48 h shift of 60 trucks settles tens of millions of frames and messages; keeping every sample to take exact
percentiles at the end made a run's memory grow without bound. ``Quantiles`` keeps the first ``EXACT_UP_TO``
samples exactly (short runs report the same percentiles as numpy on the raw samples), then folds everything into
a log-spaced histogram whose bins are ``REL`` wide relative to their value, so a percentile past that point is
within ``REL`` of the exact one and memory is bounded by the range of values seen, not their number. Count, sum,
least and greatest stay exact throughout. docs/architecture.md, "Runs and KPIs".
"""

from __future__ import annotations

import math
from array import array

import numpy as np

EXACT_UP_TO = 65_536  # samples kept as they are (512 KiB) before folding into bins
REL = 1e-3  # relative width of a bin: a percentile read from bins is within 0.1 % of the exact one
_LOG_STEP = math.log1p(REL)


class Quantiles:
    """Samples of one non-negative quantity ([s] usually): add, merge, and read percentiles, count and mean."""

    __slots__ = ("_bins", "_exact", "_zeros", "count", "greatest", "least", "total")

    def __init__(self) -> None:
        self._exact: array | None = array("d")  # the samples themselves, until there are too many
        self._bins: dict[int, int] = {}  # log-bin index -> samples, once folded
        self._zeros = 0  # folded samples <= 0 (a job that never queued)
        self.count = 0
        self.total = 0.0
        self.least = math.inf
        self.greatest = -math.inf

    def add(self, x: float) -> None:
        self.count += 1
        self.total += x
        self.least = min(self.least, x)
        self.greatest = max(self.greatest, x)
        if self._exact is not None:
            self._exact.append(x)
            if len(self._exact) > EXACT_UP_TO:
                self._fold(np.frombuffer(self._exact, dtype=float))
                self._exact = None
        else:
            self._fold_one(x)

    def merge(self, other: Quantiles) -> None:
        """Take in every sample of ``other`` (kept exact while the two together are few enough)."""
        self.count += other.count
        self.total += other.total
        self.least = min(self.least, other.least)
        self.greatest = max(self.greatest, other.greatest)
        if self._exact is not None and other._exact is not None and len(self._exact) + len(other._exact) <= \
                EXACT_UP_TO:
            self._exact += other._exact
            return
        if self._exact is not None:
            self._fold(np.frombuffer(self._exact, dtype=float))
            self._exact = None
        if other._exact is not None:
            self._fold(np.frombuffer(other._exact, dtype=float))
        else:
            self._zeros += other._zeros
            for k, c in other._bins.items():
                self._bins[k] = self._bins.get(k, 0) + c

    def __len__(self) -> int:
        return self.count

    @property
    def exact(self) -> bool:
        """Whether percentiles are still taken from the samples themselves."""
        return self._exact is not None

    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0..100) as ``numpy.percentile`` takes it (linear between the two samples of
        neighbouring rank); once folded, each of those two samples is read as its bin's middle (within REL / 2)."""
        if not self.count:
            raise ValueError("no samples")
        if self._exact is not None:
            return float(np.percentile(np.frombuffer(self._exact, dtype=float), q))
        if q <= 0.0:
            return self.least
        if q >= 100.0:
            return self.greatest
        rank = q / 100.0 * (self.count - 1)
        below = math.floor(rank)
        lo, hi = self._ranked(below), self._ranked(below + 1)
        return lo + (rank - below) * (hi - lo)

    def _ranked(self, rank: int) -> float:
        """The folded sample of this rank (0-based), as its bin's middle kept within the least and greatest."""
        if rank < self._zeros:
            return 0.0 if self.least >= 0.0 else self.least
        seen = self._zeros
        for k in sorted(self._bins):
            seen += self._bins[k]
            if rank < seen:
                return min(max(math.exp((k + 0.5) * _LOG_STEP), self.least), self.greatest)
        return self.greatest

    def _fold_one(self, x: float) -> None:
        if x <= 0.0:
            self._zeros += 1
        else:
            k = math.floor(math.log(x) / _LOG_STEP)
            self._bins[k] = self._bins.get(k, 0) + 1

    def _fold(self, xs: np.ndarray) -> None:
        pos = xs[xs > 0.0]
        self._zeros += int(xs.size - pos.size)
        keys, counts = np.unique(np.floor(np.log(pos) / _LOG_STEP).astype(np.int64), return_counts=True)
        for k, c in zip(keys.tolist(), counts.tolist(), strict=True):
            self._bins[k] = self._bins.get(k, 0) + c
