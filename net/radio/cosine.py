"""A cosine for compiled loops: within one unit in the last place, and vectorised by the compiler.

The shadow field (``shadow.py``) sums 64 plane waves per link and measurement, millions of cosines per simulated
hour of a 5G fleet. A call to the C library's ``cos`` per wave cannot be vectorised and costs about 18 ns here;
this one is plain arithmetic that LLVM turns into SIMD code, about 1.2 ns, so the shadowing that was a third of a
perception run's time becomes a few percent. Being plain IEEE arithmetic (no fused multiply-add: numba does not
contract), it also gives the same bits on every machine, where libm's may differ between versions.

The method is the classic one (the structure of fdlibm's ``__ieee754_rem_pio2``, ``__kernel_cos`` and
``__kernel_sin``, Sun Microsystems 1993, whose minimax coefficients are used): ``x = n pi/2 + y`` with pi/2
split into three 33-bit parts and a tail, so ``n`` times each part is exact for ``|n| < 2^20`` and ``y`` is
carried as a double-double (head and tail, the tail from exact two-sums); then a degree-14 polynomial for cos or
a degree-13 one for sin on ``|y| <= pi/4``, picked by ``n mod 4``. Both polynomials are evaluated and the
quadrant selects, so the loop has no branch. Beyond ``REDUCTION_LIMIT`` (2^20 quadrants) the split is no
longer exact: those arguments, a few waves of a field at most, are taken by libm in a second, scalar pass
(``cos_into``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

INV_PIO2 = 6.36619772367581382433e-01  # 2/pi
PIO2_1 = 1.57079632673412561417e+00  # pi/2: first 33 bits
PIO2_2 = 6.07710050630396597660e-11  # next 33 bits
PIO2_3 = 2.02226624871116645580e-21  # next 33 bits
PIO2_3T = 8.47842766036889956997e-32  # pi/2 - (PIO2_1 + PIO2_2 + PIO2_3)
C1, C2, C3 = 4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05
C4, C5, C6 = -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11
S1, S2, S3 = -1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04
S4, S5, S6 = 2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10
REDUCTION_LIMIT = 1.6e6  # [rad] below 2^20 pi/2: n times each 33-bit part of pi/2 is exact


@njit(cache=True, inline="always")
def _two_sum(a, b):  # pragma: no cover - compiled
    """a + b rounded, and its rounding error exactly (Knuth's two-sum, any order of magnitude)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@njit(cache=True, inline="always")
def cos_reduced(x):  # pragma: no cover - compiled
    """cos(x) for ``|x| <= REDUCTION_LIMIT`` (and NaN for NaN), branch-free so that a loop of it vectorises."""
    fn = np.floor(x * INV_PIO2 + 0.5)  # nearest quadrant
    n = np.int64(fn)
    r1 = x - fn * PIO2_1  # exact: fn * PIO2_1 fits 53 bits and is near x
    r2, e2 = _two_sum(r1, -(fn * PIO2_2))
    r3, e3 = _two_sum(r2, -(fn * PIO2_3))
    tail = (e2 + e3) - fn * PIO2_3T
    y = r3 + tail  # y + yt = x - n pi/2, |y| <= pi/4
    yt = (r3 - y) + tail
    z = y * y
    zz = z * z
    rc = z * (C1 + z * (C2 + z * C3)) + zz * zz * (C4 + z * (C5 + z * C6))
    hz = 0.5 * z
    w = 1.0 - hz
    c = w + (((1.0 - w) - hz) + (z * rc - y * yt))
    rs = S2 + z * (S3 + z * S4) + z * zz * (S5 + z * S6)
    v = z * y
    s = y - ((z * (0.5 * yt - v * rs) - yt) - v * S1)
    value = c if (n & 1) == 0 else s  # quadrants 0, 2: +-cos y; 1, 3: -+sin y
    return -value if ((n + 1) & 2) != 0 else value


@njit(cache=True)
def cos_into(x, out):  # pragma: no cover - compiled
    """``out[:] = cos(x)`` for a 1-D array: the vectorised cosine, then libm for the rare huge arguments."""
    for k in range(x.size):
        out[k] = cos_reduced(x[k])
    for k in range(x.size):
        if abs(x[k]) > REDUCTION_LIMIT:
            out[k] = math.cos(x[k])
