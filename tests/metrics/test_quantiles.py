"""Bounded distributions (metrics/quantiles.py): exact while few, within REL after, memory bound by range."""

from __future__ import annotations

import math

import numpy as np
import pytest

from metrics.quantiles import EXACT_UP_TO, REL, Quantiles


def filled(xs: np.ndarray) -> Quantiles:
    q = Quantiles()
    for x in xs.tolist():
        q.add(x)
    return q


def test_few_samples_give_numpys_own_percentiles():
    xs = np.random.default_rng(1).gamma(2.0, 0.01, 5000)
    q = filled(xs)
    assert q.exact
    for p in (0, 1, 50, 90, 99, 100):
        assert q.percentile(p) == np.percentile(xs, p)
    assert q.count == 5000 and q.mean() == pytest.approx(xs.mean(), rel=1e-12)


@pytest.mark.parametrize("dist", ["gamma", "lognormal", "with zeros"])
def test_many_samples_stay_within_rel_of_exact(dist):
    rng = np.random.default_rng(2)
    n = 3 * EXACT_UP_TO
    xs = {"gamma": rng.gamma(2.0, 0.01, n), "lognormal": rng.lognormal(-4.0, 1.0, n),
          "with zeros": np.where(rng.random(n) < 0.3, 0.0, rng.exponential(0.005, n))}[dist]
    q = filled(xs)
    assert not q.exact
    for p in (1, 10, 50, 90, 99, 99.9):
        exact = np.percentile(xs, p)
        assert q.percentile(p) == pytest.approx(exact, rel=REL, abs=1e-12), p
    assert q.percentile(0) == xs.min() and q.percentile(100) == xs.max()
    assert (q.count, q.least, q.greatest) == (n, xs.min(), xs.max())
    assert q.mean() == pytest.approx(xs.mean(), rel=1e-9)


def test_memory_is_bound_by_the_range_of_values_not_their_number():
    rng = np.random.default_rng(3)
    q = Quantiles()
    bins = []
    for _ in range(4):
        for x in rng.uniform(1e-3, 1e-1, 200_000).tolist():
            q.add(x)
        bins.append(len(q._bins))
    most = math.log(100.0) / math.log1p(REL) + 2  # bins a hundredfold range can ever need
    assert bins[-1] <= most
    assert bins[-1] - bins[1] < 0.01 * most  # the second 400,000 samples added next to nothing


def test_merge_keeps_exact_while_few_and_folds_after():
    rng = np.random.default_rng(4)
    a, b = rng.gamma(2.0, 0.01, 1000), rng.gamma(3.0, 0.01, 2000)
    qa, qb = filled(a), filled(b)
    qa.merge(qb)
    both = np.concatenate([a, b])
    assert qa.exact and qa.percentile(99) == np.percentile(both, 99) and qa.count == 3000
    big = rng.gamma(2.0, 0.01, EXACT_UP_TO + 10)
    qa.merge(filled(big))
    everything = np.concatenate([both, big])
    assert not qa.exact and qa.count == everything.size
    assert qa.percentile(50) == pytest.approx(np.percentile(everything, 50), rel=REL)
    folded = Quantiles()
    folded.merge(qa)  # a folded one into an empty one
    assert folded.percentile(50) == qa.percentile(50) and folded.count == qa.count


def test_empty_has_no_percentile():
    q = Quantiles()
    assert q.count == 0 and q.mean() == 0.0
    with pytest.raises(ValueError):
        q.percentile(50)
