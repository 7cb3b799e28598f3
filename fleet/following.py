"""Who is ahead of whom: bumper gaps to the next truck on the same directed road, across junctions."""

from __future__ import annotations

import numpy as np

from fleet.routes import RouteTable

LOOKAHEAD_EDGES = 3  # graph edges searched beyond the current one


def leader_gaps(rt: RouteTable, route: np.ndarray, seg: np.ndarray, s: np.ndarray,
                leader_length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gap [m] from each truck's front to the rear of the next truck ahead on its path, and that truck.

    Inputs are for trucks on the road only (index j). Returns (gap, leader) with ``gap = inf`` and
    ``leader = -1`` where nobody is within the next ``LOOKAHEAD_EDGES`` edges. ``leader_length`` [m] is
    indexed by j too. Trucks on opposite directions use different directed edges and do not interact here.
    """
    n = len(s)
    gap = np.full(n, np.inf)
    leader = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return gap, leader
    edge = rt.seg_edge[seg]
    off = s - rt.seg_edge_s0[seg]
    order = np.lexsort((off, edge))
    es, os = edge[order], off[order]
    same = es[1:] == es[:-1]
    follower = order[:-1][same]
    ahead = order[1:][same]
    gap[follower] = os[1:][same] - os[:-1][same]
    leader[follower] = ahead

    # The rearmost truck of every edge is what a truck entering that edge sees first.
    first = np.flatnonzero(np.r_[True, ~same])
    tail_off = np.full(len(rt.edge_len) + 1, np.inf)  # last slot: padding for "no edge"
    tail_truck = np.full(len(rt.edge_len) + 1, -1, dtype=np.int64)
    tail_off[es[first]] = os[first]
    tail_truck[es[first]] = order[first]

    free = np.flatnonzero(leader < 0)
    if len(free):
        k = rt.seg_k[seg[free]]
        cols = k[:, None] + np.arange(1, LOOKAHEAD_EDGES + 1)[None, :]
        cols = np.minimum(cols, rt.route_edges.shape[1] - 1)
        r = route[free][:, None]
        nxt = rt.route_edges[r, cols]
        nxt = np.where(nxt < 0, len(rt.edge_len), nxt)
        cand = rt.route_edge_s0[r, cols] - s[free][:, None] + tail_off[nxt]
        best = np.argmin(cand, axis=1)
        rows = np.arange(len(free))
        gap[free] = cand[rows, best]
        leader[free] = tail_truck[nxt[rows, best]]
    has = leader >= 0
    gap[has] -= leader_length[leader[has]]
    return gap, leader
