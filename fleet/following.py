"""Who is ahead of whom: bumper gaps to the next truck on the same directed road, across junctions.

Compiled with numba: this runs every tick for every truck on the road, and a sort plus a short walk
ahead is far cheaper as one compiled loop than as dozens of small numpy calls.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LOOKAHEAD_EDGES = 3  # graph edges searched beyond the current one
_EDGE_KEY = 1.0e7  # [m] longer than any edge: sorts by (edge, offset) with one key


@njit(cache=True)
def leader_gaps(seg: np.ndarray, s: np.ndarray, route: np.ndarray, seg_edge: np.ndarray,
                seg_edge_s0: np.ndarray, seg_k: np.ndarray, route_edges: np.ndarray,
                route_edge_s0: np.ndarray, n_edges: int, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gap [m] from each truck's front to the rear of the next truck ahead on its path, and which truck.

    All inputs are for trucks on the road (index j); ``length`` [m] per j. ``gap = inf`` and
    ``leader = -1`` where nobody is on the current edge ahead or on the next ``LOOKAHEAD_EDGES`` edges
    of the route. Opposite directions are different directed edges and do not interact here.
    """
    n = len(s)
    gap = np.full(n, np.inf)
    leader = np.full(n, -1, dtype=np.int64)
    edge = seg_edge[seg]
    off = s - seg_edge_s0[seg]
    order = np.argsort(edge * _EDGE_KEY + off, kind="mergesort")
    tail_off = np.full(n_edges, np.inf)
    tail_truck = np.full(n_edges, -1, dtype=np.int64)
    for p in range(n):
        i = order[p]
        if p + 1 < n and edge[order[p + 1]] == edge[i]:
            leader[i] = order[p + 1]
            gap[i] = off[order[p + 1]] - off[i]
        if p == 0 or edge[order[p - 1]] != edge[i]:
            tail_off[edge[i]] = off[i]
            tail_truck[edge[i]] = i
    width = route_edges.shape[1]
    for i in range(n):
        if leader[i] < 0:
            r = route[i]
            k = seg_k[seg[i]]
            for kk in range(k + 1, min(k + 1 + LOOKAHEAD_EDGES, width)):
                e = route_edges[r, kk]
                if e < 0:
                    break
                if tail_truck[e] >= 0:
                    gap[i] = route_edge_s0[r, kk] - s[i] + tail_off[e]
                    leader[i] = tail_truck[e]
                    break
        if leader[i] >= 0:
            gap[i] -= length[leader[i]]
    return gap, leader
