"""The serving-cell chain of one measurement, compiled: layer-3 filter, event A3 entry and time-to-trigger,
then the handovers. ``FiveGLink._measure`` calls ``filter_and_enter``, takes the downlink SINR (numpy, whose
power and logarithm define the figures), then ``hand_over``; the order of operations and every comparison are
those of the array version they replace, so the results are bit for bit the same (net/radio/link.py has the
standards, docs/architecture.md "Messages" the link's place in a run).

Why compiled: a measurement touches arrays of trucks x sites (60 x 6 in a large run) with some thirty numpy
calls, five times per simulated second; their fixed cost per call was most of the measurement.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _first_max(row: np.ndarray) -> int:
    """``np.argmax`` of one row: the first greatest value, or the first NaN if there is one."""
    best = 0
    if row[0] != row[0]:
        return 0
    for k in range(1, row.size):
        v = row[k]
        if v != v:
            return k
        if v > row[best]:
            best = k
    return best


@njit(cache=True)
def filter_and_enter(t, keep, w, rx, rsrp_l3, serving, a3_since, hysteresis_db, ripe_after_s, ripe, new):
    """Filter the measurement ``rx`` (trucks, sites) [dBm] into ``rsrp_l3`` (F = keep F + w M, the first sample
    as it is), give trucks without a cell the strongest, and mark where a neighbour's A3 entry condition holds:
    ``a3_since`` keeps when its unbroken run began, ``ripe`` where it has lasted ``ripe_after_s``. ``new``: the
    trucks given their first cell. Returns whether any truck has a ripe neighbour, per truck, in ``ripe``'s
    rows (``ripe.any(axis=1)``)."""
    n, sites = rx.shape
    a3 = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        for k in range(sites):
            f = rsrp_l3[i, k]
            rsrp_l3[i, k] = rx[i, k] if f != f else keep * f + w * rx[i, k]
        new[i] = serving[i] < 0
        if new[i]:
            serving[i] = _first_max(rx[i])
        bar = rsrp_l3[i, serving[i]] + hysteresis_db
        for k in range(sites):
            entering = rsrp_l3[i, k] > bar and k != serving[i]
            a3_since[i, k] = min(a3_since[i, k], t) if entering else np.inf
            ripe[i, k] = entering and t - a3_since[i, k] >= ripe_after_s
            a3[i] |= ripe[i, k]
    return a3


@njit(cache=True)
def hand_over(t, rx, rsrp_l3, dl, outage_db, ripe, a3, new, serving, left_cell, t_handover, a3_since,
              ping_pong_s):
    """Switch every truck (not ``new``) with a ripe A3 neighbour to the strongest ripe one (filtered), or, its
    downlink SINR ``dl`` [dB] below ``outage_db`` with a stronger cell measured, to the strongest measured.
    Returns per truck whether it switched, and the number of ping-pongs (back to the cell it last left within
    ``ping_pong_s``)."""
    n, sites = rx.shape
    switch = np.zeros(n, dtype=np.bool_)
    masked = np.empty(sites)
    ping_pongs = 0
    for i in range(n):
        strongest = _first_max(rx[i])
        lost = dl[i] < outage_db and strongest != serving[i]
        if not ((a3[i] or lost) and not new[i]):
            continue
        if a3[i]:
            for k in range(sites):
                masked[k] = rsrp_l3[i, k] if ripe[i, k] else -np.inf
            target = _first_max(masked)
        else:
            target = strongest
        switch[i] = True
        ping_pongs += target == left_cell[i] and t - t_handover[i] <= ping_pong_s
        left_cell[i] = serving[i]
        t_handover[i] = t
        serving[i] = target
        for k in range(sites):
            a3_since[i, k] = np.inf
    return switch, ping_pongs
