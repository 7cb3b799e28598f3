"""The compiled serving-cell chain against the same chain written with numpy arrays, over random fleets."""

from __future__ import annotations

import numpy as np

from net.radio import cells

HYST, TTT, OUTAGE, PING_PONG = 3.0, 0.32, -6.0, 1.0


def _reference(t, w, rx, state, dl_of):
    """One measurement as array operations (the formulation of TS 38.331 the link documents)."""
    f, serving, a3_since, left, t_ho = (a.copy() for a in state)
    rows = np.arange(len(rx))
    f = np.where(np.isnan(f), rx, (1.0 - w) * f + w * rx)
    new = serving < 0
    serving[new] = np.argmax(rx[new], axis=1)
    entering = f > f[rows, serving][:, None] + HYST
    entering[rows, serving] = False
    a3_since = np.where(entering, np.minimum(a3_since, t), np.inf)
    ripe = entering & (t - a3_since >= TTT - 1e-9)
    a3 = ripe.any(axis=1)
    dl = dl_of(serving)
    strongest = np.argmax(rx, axis=1)
    lost = (dl < OUTAGE) & (strongest != serving)
    target = np.where(a3, np.argmax(np.where(ripe, f, -np.inf), axis=1), strongest)
    switch = ~new & (a3 | lost)
    pp = int(np.sum(switch & (target == left) & (t - t_ho <= PING_PONG)))
    left[switch] = serving[switch]
    t_ho[switch] = t
    serving[switch] = target[switch]
    a3_since[switch] = np.inf
    return switch, pp, (f, serving, a3_since, left, t_ho)


def test_random_measurements_switch_as_the_array_chain_does() -> None:
    rng = np.random.default_rng(11)
    n, sites = 40, 5
    state = (np.full((n, sites), np.nan), np.full(n, -1, dtype=np.int64), np.full((n, sites), np.inf),
             np.full(n, -1, dtype=np.int64), np.full(n, -np.inf))
    mine = tuple(a.copy() for a in state)
    level = rng.uniform(-110, -70, (n, sites))
    switches = pings = 0
    for step in range(300):
        t = 0.2 * step
        level += rng.normal(0.0, 3.0, level.shape)  # a random walk: cells overtake each other
        rx = np.round(level, 1)  # ties between sites on purpose
        rx[rng.random(n) < 0.05, 0] = np.nan  # now and then a NaN, which argmax takes as the greatest
        outage = rng.random(n) < 0.1

        def dl_of(serving, outage=outage):
            return np.where(outage, -10.0, 10.0)

        w = 0.5 if step else 1.0
        want_switch, want_pp, state = _reference(t, w, rx, state, dl_of)
        f, serving, a3_since, left, t_ho = mine
        ripe, new = np.empty((n, sites), dtype=bool), np.empty(n, dtype=bool)
        a3 = cells.filter_and_enter(t, 1.0 - w, w, rx, f, serving, a3_since, HYST, TTT - 1e-9, ripe, new)
        switch, pp = cells.hand_over(t, rx, f, dl_of(serving), OUTAGE, ripe, a3, new, serving, left, t_ho, a3_since,
                                     PING_PONG)
        assert np.array_equal(switch, want_switch) and pp == want_pp
        for a, b in zip(mine, state, strict=True):
            assert np.array_equal(a, b, equal_nan=True)
        switches += int(switch.sum())
        pings += pp
    assert switches > 100 and pings > 0  # the walk did hand trucks over, and back
