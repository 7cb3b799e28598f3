"""The simulation clock's tick boundaries, computed instead of accumulated (docs/architecture.md, "Time").

The clock has always advanced by ``t = round(t + dt, 9)`` per tick, so that a decimal step such as 0.1 s keeps
landing on the decimal times (0.3, not 0.30000000000000004). Doing that once per tick in Python cost a call per
tick twice over (once to find how many quiet ticks fit before the next event, once to advance), which on a long
shift of cheap ticks was a tenth of the run. ``TickGrid`` gives the same times from the tick count alone.

Why the closed form equals the accumulation: let dt have at most 9 decimals, dt = D / 1e9 for an integer D. By
induction t_k is the double nearest k·D / 1e9: t_(k-1) + dt lies within a few units in the last place of that
decimal, far inside the half-nanosecond that ``round(., 9)`` resolves, so the rounding returns the decimal k·D / 1e9
exactly, i.e. its nearest double. ``(k * D) / 1e9`` is that same double, since k·D is an exact integer below 2^53
and IEEE division is correctly rounded. Where dt has more decimals than 9 (or a shift so long that k·D passes
2^53), the times are accumulated as before, once per tick, and kept, so the clock is the same in every case.
"""

from __future__ import annotations

import math
from array import array

import numpy as np
from numba import njit

EXACT_LIMIT = 2**53  # k * D stays an exact integer in a double below this


class TickGrid:
    """Times of tick boundaries ``k = 0, 1, 2, ...`` for a step ``dt`` [s], identical to accumulating
    ``round(t + dt, 9)`` from ``t = 0``."""

    def __init__(self, dt: float) -> None:
        self.dt = dt
        nanos = round(dt * 1e9)
        self._nanos = nanos if nanos > 0 and round(dt, 9) == dt and nanos / 1e9 == dt else 0
        self._times = array("d", [0.0])  # accumulated times, only where the closed form does not hold

    def time(self, k: int) -> float:
        """[s] the clock after ``k`` ticks."""
        if self._nanos and k * self._nanos < EXACT_LIMIT:
            return (k * self._nanos) / 1e9
        times = self._times
        while len(times) <= k:
            times.append(round(times[-1] + self.dt, 9))
        return times[k]

    def first_at_or_after(self, k: int, horizon: float, most: int) -> int:
        """The fewest ticks n (1 <= n <= ``most``) after tick ``k`` at whose end the clock has reached ``horizon``
        [s]; ``most`` when it does not within them."""
        if most <= 1 or horizon == math.inf:
            return most
        nanos = self._nanos
        if nanos and (k + most) * nanos < EXACT_LIMIT:  # the closed form, inline: this runs before every tick call
            n = min(max(math.ceil((horizon - (k * nanos) / 1e9) / self.dt), 1), most)
            while n > 1 and ((k + n - 1) * nanos) / 1e9 >= horizon:
                n -= 1
            while n < most and ((k + n) * nanos) / 1e9 < horizon:
                n += 1
            return n
        n = min(max(math.ceil((horizon - self.time(k)) / self.dt), 1), most)
        while n > 1 and self.time(k + n - 1) >= horizon:
            n -= 1
        while n < most and self.time(k + n) < horizon:
            n += 1
        return n

    def every(self, k: int, at: float, period: float, most: int) -> np.ndarray:
        """The tick offsets n (1 <= n < ``most``) after tick ``k`` at whose ends a periodic happening fires: first
        at the first tick at or after ``at`` [s], each next one at the first tick at or after ``period`` [s] past
        the tick the last one fired at (``first_at_or_after`` in turn). Compiled where the closed form holds: a
        kernel call that runs through several telemetry periods asks this once."""
        if self._nanos and (k + most) * self._nanos < EXACT_LIMIT:
            return _every(k, self._nanos, self.dt, at, period, most)
        offsets = []
        n = 0
        while True:
            n += self.first_at_or_after(k + n, at, most - n)
            if n >= most:
                return np.array(offsets, dtype=np.int64)
            offsets.append(n)
            at = self.time(k + n) + period


@njit(cache=True)
def _every(k: int, nanos: int, dt: float, at: float, period: float, most: int) -> np.ndarray:
    """``TickGrid.every`` in the closed form: ``first_at_or_after``'s arithmetic, operation for operation."""
    out = np.empty(max(most, 0), dtype=np.int64)
    m = 0
    n = 0
    while True:
        left = most - n
        if left <= 1 or at == math.inf:
            step = left
        else:
            kk = k + n
            q = (at - (kk * nanos) / 1e9) / dt
            # min(max(ceil(q), 1), left), without casting a q far out of range to an integer
            step = left if q >= left else (max(math.ceil(q), 1) if q > 0.0 else 1)
            while step > 1 and ((kk + step - 1) * nanos) / 1e9 >= at:
                step -= 1
            while step < left and ((kk + step) * nanos) / 1e9 < at:
                step += 1
        n += step
        if n >= most:
            return out[:m]
        out[m] = n
        m += 1
        at = ((k + n) * nanos) / 1e9 + period
