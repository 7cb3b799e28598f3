"""Who is ahead of whom: bumper gaps to the next truck on the same directed road, across junctions, and who
yields where two roads merge into one.

Compiled with numba: this runs every tick for every truck on the road, and a sort plus a short walk
ahead is far cheaper as one compiled loop than as dozens of small numpy calls.

Merges (docs/architecture.md, "Traffic"): where two directed roads feed the same next road, the truck nearer
the junction (by distance along its own path; ties to the lower index) has the right of way. A truck further
from it stops short of the junction, as if that truck already stood at the start of the shared road, until it
has entered; from then on it follows it as an ordinary leader, with no jump in the gap. The order is fixed by
distance, so two trucks can never wait for each other.
"""

from __future__ import annotations

import numpy as np
from numba import njit

LOOKAHEAD_EDGES = 3  # graph edges searched beyond the current one
EDGE_KEY = 1.0e7  # [m] longer than any edge: sorts by (edge, offset) with one key
YIELD = -1  # leader index of a truck whose nearest constraint is a junction it must give way at (or nothing)


@njit(cache=True)
def leader_gaps(seg: np.ndarray, s: np.ndarray, route: np.ndarray, seg_edge: np.ndarray,
                seg_edge_s0: np.ndarray, seg_k: np.ndarray, route_edges: np.ndarray,
                route_edge_s0: np.ndarray, n_edges: int, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gap [m] from each truck's front to what it must stop behind, and which truck that is.

    All inputs are for trucks on the road (index j); ``length`` [m] per j. The constraint is the rear of the
    next truck ahead on the current edge or on the next ``LOOKAHEAD_EDGES`` edges of the route (``leader`` is
    that truck), or the start of a shared edge where a truck nearer the junction on another road has the right
    of way and has not yet entered (``leader = YIELD``; the gap is to that truck's rear as if it stood at the
    start of the shared edge). ``gap = inf`` and
    ``leader = YIELD`` where there is neither. Opposite directions are different directed edges and do not
    interact here.
    """
    work = following_work(len(s), n_edges)
    work[2][:] = np.argsort(seg_edge[seg] * EDGE_KEY + (s - seg_edge_s0[seg]), kind="mergesort")
    leader_gaps_into(seg, s, route, seg_edge, seg_edge_s0, seg_k, route_edges, route_edge_s0, length, work)
    return work[0], work[1]


@njit(cache=True)
def following_work(n: int, n_edges: int) -> tuple:
    """Arrays ``leader_gaps_into`` works in, for ``n`` trucks on a network of ``n_edges`` directed edges: made once
    per kernel call and reused by every tick of it. ``[0]`` gap, ``[1]`` leader, ``[2]`` the order of the trucks
    along the roads (kept from tick to tick: it barely changes), the rest scratch."""
    return (np.empty(n), np.empty(n, dtype=np.int64), np.arange(n), np.empty(n), np.empty(n, dtype=np.int64),
            np.empty(n_edges), np.empty(n_edges, dtype=np.int64), np.empty(n, dtype=np.int64),
            np.empty(n_edges, dtype=np.int64), np.empty(n * LOOKAHEAD_EDGES, dtype=np.int64),
            np.empty(n * LOOKAHEAD_EDGES, dtype=np.int64), np.empty(n * LOOKAHEAD_EDGES),
            np.empty(n * LOOKAHEAD_EDGES, dtype=np.int64))


@njit(cache=True)
def sort_along(order: np.ndarray, key: np.ndarray) -> None:
    """Insertion sort of ``order`` by (key, index), in place: from last tick's order a truck moves a place or two
    at most, so this is about one pass. The result is the stable (mergesort) order of ``key``."""
    for p in range(1, len(order)):
        j = order[p]
        kj = key[j]
        q = p - 1
        while q >= 0 and (key[order[q]] > kj or (key[order[q]] == kj and order[q] > j)):
            order[q + 1] = order[q]
            q -= 1
        order[q + 1] = j


@njit(cache=True, inline="always")  # compiled into the tick kernel (fleet.kinematics), which runs it every tick
def leader_gaps_into(seg, s, route, seg_edge, seg_edge_s0, seg_k, route_edges, route_edge_s0, length,
                     work) -> None:
    """``leader_gaps`` into ``work`` (``following_work``), whose order ``work[2]`` holds a permutation of the
    trucks (any; the nearer to sorted, the less to do)."""
    gap, leader, order, key, edge, tail_off, tail_truck, heads, first, chain, entry_truck, entry_dist, entry_from = work
    n = len(s)
    for j in range(n):
        gap[j] = np.inf
        leader[j] = YIELD
        edge[j] = seg_edge[seg[j]]
        key[j] = edge[j] * EDGE_KEY + (s[j] - seg_edge_s0[seg[j]])
    sort_along(order, key)
    tail_off[:] = np.inf
    tail_truck[:] = -1
    n_heads = 0
    for p in range(n):
        i = order[p]
        if p + 1 < n and edge[order[p + 1]] == edge[i]:
            leader[i] = order[p + 1]
            gap[i] = (s[order[p + 1]] - seg_edge_s0[seg[order[p + 1]]]) - (s[i] - seg_edge_s0[seg[i]]) \
                - length[order[p + 1]]
        else:
            heads[n_heads] = i  # the front-most truck of its edge: the only one that can reach a merge first
            n_heads += 1
        if p == 0 or edge[order[p - 1]] != edge[i]:
            tail_off[edge[i]] = s[i] - seg_edge_s0[seg[i]]
            tail_truck[edge[i]] = i
    width = route_edges.shape[1]
    # Who is coming to which edge: (truck, distance to the edge's start, edge it comes from), chained per edge.
    first[:] = -1
    q = 0
    for p in range(n_heads):
        h = heads[p]
        r = route[h]
        for kk in range(seg_k[seg[h]] + 1, min(seg_k[seg[h]] + 1 + LOOKAHEAD_EDGES, width)):
            e = route_edges[r, kk]
            if e < 0:
                break
            entry_truck[q], entry_dist[q], entry_from[q] = h, route_edge_s0[r, kk] - s[h], route_edges[r, kk - 1]
            chain[q] = first[e]
            first[e] = q
            q += 1
    for i in range(n):
        if leader[i] >= 0:
            continue
        r = route[i]
        k = seg_k[seg[i]]
        for kk in range(k + 1, min(k + 1 + LOOKAHEAD_EDGES, width)):
            e = route_edges[r, kk]
            if e < 0:
                break
            dist = route_edge_s0[r, kk] - s[i]  # [m] from this truck's front to the start of edge e
            if tail_truck[e] >= 0:
                gap[i] = dist + tail_off[e] - length[tail_truck[e]]
                leader[i] = tail_truck[e]
            came_from = route_edges[r, kk - 1]
            q = first[e]
            while q >= 0:
                h = entry_truck[q]
                if (h != i and entry_from[q] != came_from
                        and (entry_dist[q] < dist or (entry_dist[q] == dist and h < i))
                        and dist - length[h] < gap[i]):
                    # Give way: keep behind that truck's rear as if it already stood at the start of edge e, so
                    # the gap runs on without a jump once it has entered.
                    gap[i] = dist - length[h]
                    leader[i] = YIELD
                q = chain[q]
            if gap[i] < np.inf:
                break
