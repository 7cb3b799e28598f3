"""The tick grid gives the clock the accumulation ``t = round(t + dt, 9)`` gave, bit for bit."""

import math

import pytest

from fleet.tickgrid import TickGrid


def accumulated(dt: float, n: int) -> list[float]:
    times = [0.0]
    for _ in range(n):
        times.append(round(times[-1] + dt, 9))
    return times


@pytest.mark.parametrize("dt", [0.1, 0.05, 0.2, 0.25, 0.01, 0.3, 0.7, 1.0, 2.0, 0.125, 0.123456789, 1 / 3, 0.1 + 1e-12])
def test_times_equal_the_accumulated_clock(dt):
    n = 200_000
    grid = TickGrid(dt)
    ref = accumulated(dt, n)
    for k in list(range(0, 2000)) + list(range(n - 2000, n + 1)) + list(range(0, n, 997)):
        assert grid.time(k) == ref[k], (dt, k)


def test_decimal_steps_use_the_closed_form_and_others_accumulate():
    assert TickGrid(0.1)._nanos == 100_000_000
    assert TickGrid(1 / 3)._nanos == 0  # more than 9 decimals: accumulated, as the clock always did
    grid = TickGrid(1 / 3)
    assert grid.time(3) == round(round(round(1 / 3, 9) + 1 / 3, 9) + 1 / 3, 9)
    assert grid.time(3) != 1.0  # the accumulation drifts from the decimal; the grid keeps that drift


@pytest.mark.parametrize("dt", [0.1, 0.25, 1 / 3])
def test_first_at_or_after_matches_a_tick_by_tick_search(dt):
    grid = TickGrid(dt)
    ref = accumulated(dt, 5000)

    def by_ticks(k: int, horizon: float, most: int) -> int:
        n = 0
        while n < most:
            n += 1
            if ref[k + n] >= horizon:
                break
        return n

    for k in (0, 1, 7, 123, 2000):
        t = ref[k]
        horizons = [t - 1.0, t, ref[k + 1], ref[k + 1] - 1e-12, ref[k + 1] + 1e-12, ref[k + 10], ref[k + 10] + 1e-9,
                    t + 17.3 * dt, t + 1.0, ref[k + 400], math.inf]
        for horizon in horizons:
            for most in (1, 2, 5, 50, 1000):
                assert grid.first_at_or_after(k, horizon, most) == by_ticks(k, horizon, most), (k, horizon, most)


@pytest.mark.parametrize("dt", [0.1, 0.25, 0.05, 1 / 3])
def test_every_fires_where_first_at_or_after_in_turn_would(dt):
    """``every`` (compiled for decimal steps) against the loop it replaces: a happening due at ``at``, then a period
    after each tick it fired at, over the next ``most`` ticks."""
    grid = TickGrid(dt)

    def in_turn(k: int, at: float, period: float, most: int) -> list[int]:
        out, n = [], 0
        while True:
            n += grid.first_at_or_after(k + n, at, most - n)
            if n >= most:
                return out
            out.append(n)
            at = grid.time(k + n) + period

    for k in (0, 3, 1234, 99_999):
        t = grid.time(k)
        for at in (t - 5.0, t, t + 1e-12, t + dt, t + 0.95, t + 1.0, t + 7.3, math.inf, -1e300, 1e300):
            for period in (1.0, 0.3, 2.5, dt):
                for most in (0, 1, 2, 9, 10, 11, 57, 300):
                    got = grid.every(k, at, period, most)
                    assert got.tolist() == in_turn(k, at, period, most), (k, at, period, most)
