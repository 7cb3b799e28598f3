"""The compiled cosine of the shadow field: accuracy against libm, the huge-argument pass, and fixed bits."""

import hashlib
import math

import numpy as np
import pytest

from net.radio.cosine import REDUCTION_LIMIT, cos_into


def _cos(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    cos_into(np.ascontiguousarray(x, dtype=float), out)
    return out


@pytest.mark.parametrize("scale", [1e-3, 1.0, 10.0, 1e3, 1e5, REDUCTION_LIMIT])
def test_within_one_ulp_of_libm(scale):
    """Within one unit in the last place of numpy's cosine wherever the value is not near a zero crossing, and
    within 1.2e-16 absolute everywhere, across the range where the quadrant split is exact."""
    x = np.random.default_rng(int(scale * 7) % 1000).uniform(-scale, scale, 400_000)
    got, ref = _cos(x), np.cos(x)
    away = np.abs(ref) > 0.01
    assert np.all(np.abs(got - ref)[away] <= np.spacing(np.abs(ref))[away])
    assert np.max(np.abs(got - ref)) <= 1.2e-16
    assert np.mean(got != ref) < 0.1  # most values are libm's own


def test_quadrant_boundaries_and_exact_points():
    """Around each multiple of pi/4 (where the quadrant and the polynomial change) the value is continuous and
    right; cos(0) is 1 exactly and the function is even."""
    k = np.arange(-4000, 4001)
    x = (k * (math.pi / 4))[:, None] + np.array([-1e-12, -1e-15, 0.0, 1e-15, 1e-12])[None, :]
    x = x.ravel()
    assert np.max(np.abs(_cos(x) - np.cos(x))) <= 1.2e-16
    assert _cos(np.array([0.0, -0.0]))[0] == 1.0
    y = np.random.default_rng(3).uniform(0, 1e5, 10_000)
    assert np.array_equal(_cos(y), _cos(-y))


def test_huge_and_special_arguments():
    """Past the exact split the cosine is libm's own; infinities and NaN give NaN, as numpy's does."""
    x = np.array([REDUCTION_LIMIT * 1.01, -3e7, 1e12, 2.0**60])
    assert np.array_equal(_cos(x), np.array([math.cos(v) for v in x]))
    out = _cos(np.array([np.inf, -np.inf, np.nan]))
    assert np.all(np.isnan(out))


def test_compiled_is_the_same_arithmetic_as_python():
    """The vectorised machine code gives, bit for bit, what the same function gives run by the interpreter
    (IEEE doubles, one rounding per operation): the compiler neither fused nor reordered anything."""
    from net.radio.cosine import cos_reduced

    x = np.random.default_rng(11).uniform(-REDUCTION_LIMIT, REDUCTION_LIMIT, 3000)
    x[:1000] /= 1e4
    assert np.array_equal(_cos(x), np.array([cos_reduced.py_func(float(v)) for v in x]))


def test_same_bits_as_recorded():
    """Plain IEEE arithmetic with no fused multiply-add: the bits of 100,000 cosines are fixed. A different
    digest means the compiler changed the arithmetic (fast-math, contraction) and runs would no longer repeat
    across machines."""
    x = np.random.default_rng(2026).uniform(-2e4, 2e4, 100_000)
    digest = hashlib.sha256(_cos(x).tobytes()).hexdigest()
    assert digest == DIGEST


DIGEST = "12b3e930455a628da8f5ea42a738b164fc8790aebaef707777732d785dba7008"
