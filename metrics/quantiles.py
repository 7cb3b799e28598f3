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
FOLD_EVERY = 4096  # once folded, samples are folded into the bins this many at a time (one numpy pass)
REL = 1e-3  # relative width of a bin: a percentile read from bins is within 0.1 % of the exact one
_LOG_STEP = math.log1p(REL)


class Quantiles:
    """Samples of one non-negative quantity ([s] usually): add, merge, and read percentiles, count and mean."""

    __slots__ = ("_bins", "_count", "_exact", "_greatest", "_least", "_pending", "_total", "_zeros")

    def __init__(self) -> None:
        self._exact: array | None = array("d")  # the samples themselves, until there are too many
        # Once folded: log-bin index -> samples, samples <= 0 (a job that never queued), and the exact count,
        # sum, least and greatest of everything folded.
        self._bins: dict[int, int] = {}
        self._pending = array("d")  # once folded: samples waiting to be folded together (FOLD_EVERY at a time)
        self._zeros = 0
        self._count = 0
        self._total = 0.0
        self._least = math.inf
        self._greatest = -math.inf

    def add(self, x: float) -> None:
        exact = self._exact
        if exact is not None:  # the common case, kept to one append: it runs for every frame and message
            exact.append(x)
            if len(exact) > EXACT_UP_TO:
                self._fold_exact()
        else:
            self._pending.append(x)
            if len(self._pending) >= FOLD_EVERY:
                self._fold_pending()

    def extend(self, xs: np.ndarray) -> None:
        """``add`` every sample of ``xs`` in order (one copy while they stay exact): what a compiled kernel
        buffered is taken in as if added one by one."""
        exact = self._exact
        if exact is not None and len(exact) + len(xs) <= EXACT_UP_TO:
            exact.frombytes(np.ascontiguousarray(xs, dtype=float).tobytes())
            return
        for x in np.asarray(xs, dtype=float).tolist():
            self.add(x)

    def merge(self, other: Quantiles) -> None:
        """Take in every sample of ``other`` (kept exact while the two together are few enough)."""
        if other._exact is not None:
            if self._exact is not None and len(self._exact) + len(other._exact) <= EXACT_UP_TO:
                self._exact += other._exact
                return
            self._fold_exact()
            self._fold(np.frombuffer(other._exact, dtype=float))
            return
        self._fold_exact()
        self._fold_pending()
        other._fold_pending()
        self._count += other._count
        self._total += other._total
        self._least = min(self._least, other._least)
        self._greatest = max(self._greatest, other._greatest)
        self._zeros += other._zeros
        for k, c in other._bins.items():
            self._bins[k] = self._bins.get(k, 0) + c

    @property
    def count(self) -> int:
        return len(self._exact) if self._exact is not None else self._count + len(self._pending)

    def __len__(self) -> int:
        return self.count

    @property
    def exact(self) -> bool:
        """Whether percentiles are still taken from the samples themselves."""
        return self._exact is not None

    @property
    def least(self) -> float:
        if self._exact is not None:
            return min(self._exact) if self._exact else math.inf
        self._fold_pending()
        return self._least

    @property
    def greatest(self) -> float:
        if self._exact is not None:
            return max(self._exact) if self._exact else -math.inf
        self._fold_pending()
        return self._greatest

    def mean(self) -> float:
        if self._exact is not None:
            return float(np.frombuffer(self._exact, dtype=float).sum()) / len(self._exact) if self._exact else 0.0
        self._fold_pending()
        return self._total / self._count if self._count else 0.0

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0..100) as ``numpy.percentile`` takes it (linear between the two samples of
        neighbouring rank); once folded, each of those two samples is read as its bin's middle (within REL / 2)."""
        if not self.count:
            raise ValueError("no samples")
        if self._exact is not None:
            return float(np.percentile(np.frombuffer(self._exact, dtype=float), q))
        self._fold_pending()
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

    def _fold_exact(self) -> None:
        """From here on, bins: fold the samples kept so far (nothing to do once folded)."""
        if self._exact is not None:
            kept, self._exact = self._exact, None
            if kept:
                self._fold(np.frombuffer(kept, dtype=float))

    def _fold_pending(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, array("d")
            self._fold(np.frombuffer(pending, dtype=float))

    def _fold(self, xs: np.ndarray) -> None:
        self._count += int(xs.size)
        self._total += float(xs.sum())
        self._least = min(self._least, float(xs.min()))
        self._greatest = max(self._greatest, float(xs.max()))
        pos = xs[xs > 0.0]
        self._zeros += int(xs.size - pos.size)
        keys, counts = np.unique(np.floor(np.log(pos) / _LOG_STEP).astype(np.int64), return_counts=True)
        for k, c in zip(keys.tolist(), counts.tolist(), strict=True):
            self._bins[k] = self._bins.get(k, 0) + c
