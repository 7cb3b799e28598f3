"""Every haul route between facilities, flattened into segment arrays for vectorised lookups.

A truck's place is (route id, distance along the route s). All routes' polyline segments are laid end to end
in one global array, so one ``searchsorted`` finds every truck's segment at once. Per segment we precompute
the speed cap and a braking envelope (docs/architecture.md, "Trucks and motion"), per truck class and payload
state ("variant").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from fleet.errors import InputError
from fleet.mapfile import MineMap
from fleet.roads import RoadNetwork, facility_label
from fleet.truckclass import TruckClass, steady_speed


@dataclass(frozen=True)
class Route:
    index: int
    id: str  # "<origin>><dest>", with ":<n>" for the n-th distinct path between the same pair
    origin: str
    dest: str
    edges: tuple[int, ...]
    length_m: float
    serves: tuple[tuple[int, bool], ...]  # (class index, loaded) variants it was first chosen for


class RouteTable:
    """The fastest route between every ordered pair of facilities for each truck class, loaded and empty.

    Route choice is by each class's own free-flow time over each road (posted limit, grade and rolling
    resistance through the rimpull and retarder curves), so a slow class is not sent over a path that is only
    fastest for a fast one. Variants that share a path share one route.
    """

    def __init__(self, mine: MineMap, net: RoadNetwork, classes: list[TruckClass],
                 closures: tuple[frozenset[str], ...] = ()) -> None:
        """``closures``: sets of road ids closed together at some time in the run (scheduled road closures);
        each gets its own choice of routes (``choice[closed]``), the open network is ``by_pair``."""
        self.net = net
        self.classes = classes
        self._costs: dict[tuple[int, bool], np.ndarray] = {}
        self._edge_segments()
        self.routes: list[Route] = []
        self.choice: dict[frozenset[str], dict[tuple[str, str, int, bool], int]] = {}
        self._by_edges: dict[tuple[str, str, tuple[int, ...]], int] = {}
        for closed in (frozenset(), *closures):
            if closed not in self.choice:
                self.choice[closed] = self._choose(mine, closed)
        self.by_pair = self.choice[frozenset()]
        self._check_reachability(mine)
        self._flatten()
        self._envelopes()

    def _choose(self, mine: MineMap, closed: frozenset[str]) -> dict[tuple[str, str, int, bool], int]:
        """The fastest route per (origin, dest, class, loaded) with the roads in ``closed`` out of use."""
        net = self.net
        shut = np.array([e.road_id in closed for e in net.edges])
        variants = [(c, loaded) for c in range(len(self.classes)) for loaded in (False, True)]
        paths = {v: net.paths(np.where(shut, np.inf, self._edge_cost(*v))) for v in variants}
        choice: dict[tuple[str, str, int, bool], int] = {}
        fac = mine.facility_ids()
        for a in fac:
            for b in fac:
                if a == b:
                    continue
                found: dict[tuple[int, ...], list[tuple[int, bool]]] = {}
                for v in variants:
                    edges = paths[v].path(net.facility_node[a], net.facility_node[b])
                    if edges:
                        found.setdefault(tuple(edges), []).append(v)
                for edges, serves in found.items():
                    index = self._by_edges.get((a, b, edges))
                    if index is None:
                        n = sum(1 for r in self.routes if r.origin == a and r.dest == b)
                        rid = f"{a}>{b}" if n == 0 else f"{a}>{b}:{n + 1}"
                        length = float(sum(net.edges[e].length_m for e in edges))
                        index = len(self.routes)
                        self.routes.append(Route(index, rid, a, b, edges, length, tuple(serves)))
                        self._by_edges[(a, b, edges)] = index
                    for c, loaded in serves:
                        choice[(a, b, c, loaded)] = index
        return choice

    def route(self, origin: str, dest: str, class_index: int = 0, loaded: bool = False) -> Route | None:
        i = self.by_pair.get((origin, dest, class_index, loaded))
        return None if i is None else self.routes[i]

    def _edge_segments(self) -> None:
        """Every edge's polyline segments in one set of arrays (``eseg_*``), lengths scaled to the edge's
        declared length (1.0 on drawn maps; the matrix entry over the drawn line on a matrix map)."""
        p0, p1, owner = [], [], []
        for e in self.net.edges:
            c = e.coords
            p0.append(c[:-1])
            p1.append(c[1:])
            owner.append(np.full(len(c) - 1, e.index))
        self.eseg_p0, self.eseg_p1 = np.vstack(p0), np.vstack(p1)
        self.eseg_edge = np.concatenate(owner)
        d = self.eseg_p1 - self.eseg_p0
        geo = np.linalg.norm(d, axis=1)
        drawn = np.bincount(self.eseg_edge, weights=geo, minlength=len(self.net.edges))
        declared = np.array([e.length_m for e in self.net.edges])
        scale = (declared / drawn)[self.eseg_edge]
        self.eseg_len = geo * scale
        self.eseg_grade = d[:, 2] / (np.hypot(d[:, 0], d[:, 1]) * scale)
        self.eseg_first = np.concatenate([[0], np.cumsum(np.bincount(self.eseg_edge))[:-1]])
        edges = self.net.edges
        self.eseg_limit = np.array([edges[e].speed_limit_mps for e in self.eseg_edge])
        self.eseg_rr = np.array([edges[e].rolling_resistance for e in self.eseg_edge])

    def _edge_cost(self, class_index: int, loaded: bool) -> np.ndarray:
        """Free-flow time over each edge for one class and payload state [s]; inf where it cannot climb."""
        cached = self._costs.get((class_index, loaded))
        if cached is not None:
            return cached
        tc = self.classes[class_index]
        n = len(self.eseg_len)
        v = np.minimum(self.eseg_limit, steady_speed(tc, np.full(n, tc.payload_t if loaded else 0.0),
                                                     self.eseg_grade, self.eseg_rr, np.full(n, loaded)))
        with np.errstate(divide="ignore"):
            seg_t = np.where(v > 0, self.eseg_len / np.maximum(v, 1e-9), np.inf)
        cost = np.bincount(self.eseg_edge, weights=seg_t, minlength=len(self.net.edges))
        self._costs[(class_index, loaded)] = cost
        return cost

    # -- checks ---------------------------------------------------------------------------------------

    def _check_reachability(self, mine: MineMap) -> None:
        """Every load point reaches a sink for its material and back, and every park a load point, for every
        truck class of the run: a class that cannot climb a ramp loaded is named, not left to stand idle."""
        points = mine.load_points()
        for lp in points:
            label = facility_label(mine, lp.id)
            sinks = [d for d in mine.dumps if lp.material in d.accepts]
            if not sinks:
                raise InputError(mine.path, label, f"no dump or crusher accepts its material {lp.material!r}")
            for c, tc in enumerate(self.classes):
                if not any((lp.id, d.id, c, True) in self.by_pair and (d.id, lp.id, c, False) in self.by_pair
                           for d in sinks):
                    raise InputError(mine.path, label, "no road route to and back from any dump that accepts its "
                                                       f"material (truck class {tc.id})")
        for pk in mine.parks:
            for c, tc in enumerate(self.classes):
                if not any((pk.id, lp.id, c, False) in self.by_pair for lp in points):
                    raise InputError(mine.path, f"park {pk.id}", f"no road route to any shovel (truck class {tc.id})")

    # -- flattening -----------------------------------------------------------------------------------

    def _flatten(self) -> None:
        """Lay every route's edge segments end to end (one global segment array; see the module docstring)."""
        max_edges = max(len(r.edges) for r in self.routes)
        n_routes = len(self.routes)
        self.route_edges = np.full((n_routes, max_edges + 1), -1, dtype=np.int64)
        self.route_edge_s0 = np.full((n_routes, max_edges + 1), np.inf)
        self.route_len = np.array([r.length_m for r in self.routes])
        self.route_base = np.concatenate([[0.0], np.cumsum(self.route_len)[:-1]])
        count = np.bincount(self.eseg_edge)
        edge_len = np.array([e.length_m for e in self.net.edges])
        sel, seg_route, seg_k = [], [], []
        for r in self.routes:
            edges = np.asarray(r.edges)
            self.route_edges[r.index, :len(edges)] = edges
            self.route_edge_s0[r.index, :len(edges)] = np.concatenate([[0.0], np.cumsum(edge_len[edges])[:-1]])
            for k, e in enumerate(r.edges):
                sel.append(np.arange(self.eseg_first[e], self.eseg_first[e] + count[e]))
                seg_k.append(np.full(count[e], k))
            seg_route.append(np.full(sum(count[e] for e in r.edges), r.index))
        sel_a = np.concatenate(sel)
        self.seg_route = np.concatenate(seg_route)
        self.seg_k = np.concatenate(seg_k)
        self.seg_edge = self.eseg_edge[sel_a]
        self.p0, self.p1 = self.eseg_p0[sel_a], self.eseg_p1[sel_a]
        self.seg_len = self.eseg_len[sel_a]
        self.seg_grade = self.eseg_grade[sel_a]
        d = self.p1 - self.p0
        self.seg_heading = np.arctan2(d[:, 1], d[:, 0])
        self.seg_edge_s0 = self.route_edge_s0[self.seg_route, self.seg_k]
        # Distance along the route of each segment start: cumulative within the route.
        cum = np.cumsum(self.seg_len) - self.seg_len
        first = np.searchsorted(self.seg_route, np.arange(n_routes))
        self.seg_s0 = cum - cum[first][self.seg_route]
        self.seg_gs0 = self.route_base[self.seg_route] + self.seg_s0
        seg_edge = self.seg_edge
        edges = self.net.edges
        self.seg_limit = np.array([edges[e].speed_limit_mps for e in seg_edge])
        self.seg_rr = np.array([edges[e].rolling_resistance for e in seg_edge])
        self.seg_lane = np.array([edges[e].lane_offset_m for e in seg_edge])  # [m] right of centreline
        self.seg_lane_xy = lane_shift(self.seg_lane, self.seg_heading)  # [m] (x, y) from centreline to lane
        self.seg_half_width = np.array([self.net.widths[edges[e].road_id] / 2 for e in seg_edge])  # [m]
        self.edge_section = np.array([e.section for e in edges], dtype=np.int64)
        self.edge_len = np.array([e.length_m for e in edges])
        self.has_sections = bool(np.any(self.edge_section >= 0))
        self._sections_ahead()

    def _sections_ahead(self) -> None:
        """Per segment: the next single-lane section the route enters, where, and from which node; for a segment in
        a section, where along the route that section starts (``section_start_s``; inf elsewhere), from which node
        (``section_node``) and where it ends (``section_end_s``); and where the next one ends
        (``next_section_end_s``; inf where there is none)."""
        n = len(self.seg_len)
        self.seg_section = self.edge_section[self.seg_edge]
        self.next_section = np.full(n, -1, dtype=np.int64)
        self.next_section_s = np.full(n, np.inf)
        self.next_section_node = np.full(n, -1, dtype=np.int64)
        self.section_start_s = np.full(n, np.inf)
        self.section_node = np.full(n, -1, dtype=np.int64)
        self.section_end_s = np.full(n, np.inf)
        self.next_section_end_s = np.full(n, np.inf)
        self.route_section_node = np.full(self.route_edges.shape, -1, dtype=np.int64)
        for r in self.routes:
            entry = -1
            for k, e in enumerate(r.edges):
                sec = self.edge_section[e]
                prev = self.edge_section[r.edges[k - 1]] if k else -1
                if sec >= 0 and sec != prev:
                    entry = self.net.edges[e].u
                self.route_section_node[r.index, k] = entry if sec >= 0 else -1
        for r in self.routes:
            edges = r.edges
            # where the run of edges of one section that edge k lies in starts and ends, along the route
            start = [np.inf] * len(edges)
            for k in range(len(edges)):
                sec = self.edge_section[edges[k]]
                if sec >= 0:
                    start[k] = start[k - 1] if k and self.edge_section[edges[k - 1]] == sec \
                        else self.route_edge_s0[r.index, k]
            end = [np.inf] * len(edges)
            for k in range(len(edges) - 1, -1, -1):
                sec = self.edge_section[edges[k]]
                if sec < 0:
                    continue
                if k + 1 == len(edges):
                    end[k] = r.length_m
                elif self.edge_section[edges[k + 1]] != sec:
                    end[k] = self.route_edge_s0[r.index, k + 1]
                else:
                    end[k] = end[k + 1]
            # the next section each edge leads into: (section, where it starts, from which node, where it ends)
            nxt = (-1, np.inf, -1, np.inf)
            ahead = [nxt] * len(edges)
            for k in range(len(edges) - 2, -1, -1):
                sec_next = self.edge_section[edges[k + 1]]
                if sec_next >= 0 and sec_next != self.edge_section[edges[k]]:
                    nxt = (sec_next, self.route_edge_s0[r.index, k + 1], self.route_section_node[r.index, k + 1],
                           end[k + 1])
                ahead[k] = nxt
            segs = np.flatnonzero(self.seg_route == r.index)
            for k in range(len(edges)):
                sel = segs[self.seg_k[segs] == k]
                (self.next_section[sel], self.next_section_s[sel], self.next_section_node[sel],
                 self.next_section_end_s[sel]) = ahead[k]
                self.section_start_s[sel], self.section_node[sel] = start[k], self.route_section_node[r.index, k]
                self.section_end_s[sel] = end[k]

    # -- braking envelopes ------------------------------------------------------------------------------

    def variant(self, class_index: np.ndarray, loaded: np.ndarray) -> np.ndarray:
        return class_index * 2 + loaded.astype(np.int64)

    def _envelopes(self) -> None:
        """vmax and exit-speed envelopes per (class, loaded) variant and segment [m/s]."""
        n = len(self.seg_len)
        nv = 2 * len(self.classes)
        self.vmax = np.zeros((nv, n))
        self.vexit = np.zeros((nv, n))
        for ci, tc in enumerate(self.classes):
            for loaded in (0, 1):
                v = ci * 2 + loaded
                payload = np.full(n, tc.payload_t if loaded else 0.0)
                # Downhill the retarder binds; uphill the drive train slows the truck by itself.
                down = np.minimum(self.seg_grade, 0.0)
                cap = steady_speed(tc, payload, down, self.seg_rr, np.full(n, bool(loaded)))
                self.vmax[v] = np.minimum(self.seg_limit, cap)
                self.vexit[v] = self._exit_speeds(self.vmax[v], tc.service_brake_mps2)

    def _exit_speeds(self, vmax: np.ndarray, brake: float) -> np.ndarray:
        """Highest speed at each segment's end from which every later cap (and the stop) is reachable."""
        out = np.zeros_like(vmax)
        for r in self.routes:
            idx = np.flatnonzero(self.seg_route == r.index)
            nxt = 0.0  # stop at the destination
            for i in idx[::-1]:
                out[i] = nxt
                nxt = min(vmax[i], np.sqrt(nxt * nxt + 2.0 * brake * self.seg_len[i]))
        return out

    def free_flow_time_s(self, route: int, class_index: int, loaded: bool) -> float:
        """Travel time at the speed caps and steady grade speeds, without other traffic [s]."""
        cost = self._edge_cost(class_index, loaded)
        return float(cost[list(self.routes[route].edges)].sum())


@njit(cache=True)
def lane_shift(lane: np.ndarray, heading: np.ndarray) -> np.ndarray:
    """(x, y) [m] from a segment's centreline to its lane, ``lane`` [m] to the right of travel: computed once per
    segment rather than every tick, with the kernel's own sine and cosine so positions stay bit for bit."""
    out = np.empty((len(lane), 2))
    for k in range(len(lane)):
        out[k, 0] = lane[k] * np.sin(heading[k])
        out[k, 1] = -(lane[k] * np.cos(heading[k]))
    return out
