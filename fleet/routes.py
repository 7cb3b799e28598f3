"""Every haul route between facilities, flattened into segment arrays for vectorised lookups.

A truck's place is (route id, distance along the route s). All routes' polyline segments are laid end to end
in one global array, so one ``searchsorted`` finds every truck's segment at once. Per segment we precompute
the speed cap and a braking envelope (design section 3), per truck class and payload state ("variant").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fleet.errors import InputError
from fleet.mapfile import MineMap
from fleet.roads import RoadNetwork
from fleet.truckclass import TruckClass, steady_speed


@dataclass(frozen=True)
class Route:
    index: int
    id: str  # "<origin>><dest>"
    origin: str
    dest: str
    edges: tuple[int, ...]
    length_m: float


class RouteTable:
    """Routes between every ordered pair of facilities that have a path, with global segment arrays."""

    def __init__(self, mine: MineMap, net: RoadNetwork, classes: list[TruckClass]) -> None:
        self.net = net
        self.classes = classes
        fac = mine.facility_ids()
        self.routes: list[Route] = []
        self.by_pair: dict[tuple[str, str], int] = {}
        for a in fac:
            for b in fac:
                if a == b:
                    continue
                edges = net.path(net.facility_node[a], net.facility_node[b])
                if edges is None or not edges:
                    continue
                length = float(sum(net.edges[e].length_m for e in edges))
                r = Route(len(self.routes), f"{a}>{b}", a, b, tuple(edges), length)
                self.by_pair[(a, b)] = r.index
                self.routes.append(r)
        self._check_reachability(mine)
        self._flatten()
        self._envelopes()

    def route(self, origin: str, dest: str) -> Route | None:
        i = self.by_pair.get((origin, dest))
        return None if i is None else self.routes[i]

    # -- checks ---------------------------------------------------------------------------------------

    def _check_reachability(self, mine: MineMap) -> None:
        for sh in mine.shovels:
            sinks = [d for d in mine.dumps if sh.material in d.accepts]
            if not sinks:
                raise InputError(mine.path, f"shovel {sh.id}",
                                 f"no dump or crusher accepts its material {sh.material!r}")
            if not any((sh.id, d.id) in self.by_pair and (d.id, sh.id) in self.by_pair for d in sinks):
                raise InputError(mine.path, f"shovel {sh.id}",
                                 "no road route to and back from any dump that accepts its material")
        for pk in mine.parks:
            if not any((pk.id, sh.id) in self.by_pair for sh in mine.shovels):
                raise InputError(mine.path, f"park {pk.id}", "no road route to any shovel")

    # -- flattening -----------------------------------------------------------------------------------

    def _flatten(self) -> None:
        p0, p1, seg_route, seg_s0, seg_edge, seg_edge_s0, seg_k = [], [], [], [], [], [], []
        max_edges = max(len(r.edges) for r in self.routes)
        n_routes = len(self.routes)
        self.route_edges = np.full((n_routes, max_edges + 1), -1, dtype=np.int64)
        self.route_edge_s0 = np.full((n_routes, max_edges + 1), np.inf)
        self.route_len = np.array([r.length_m for r in self.routes])
        self.route_base = np.concatenate([[0.0], np.cumsum(self.route_len)[:-1]])
        for r in self.routes:
            s = 0.0
            for k, e in enumerate(r.edges):
                edge = self.net.edges[e]
                self.route_edges[r.index, k] = e
                self.route_edge_s0[r.index, k] = s
                c = edge.coords
                for i in range(len(c) - 1):
                    p0.append(c[i])
                    p1.append(c[i + 1])
                    seg_route.append(r.index)
                    seg_s0.append(s)
                    seg_edge.append(e)
                    seg_edge_s0.append(self.route_edge_s0[r.index, k])
                    seg_k.append(k)
                    s += float(np.linalg.norm(c[i + 1] - c[i]))
        self.p0 = np.asarray(p0)
        self.p1 = np.asarray(p1)
        d = self.p1 - self.p0
        self.seg_len = np.linalg.norm(d, axis=1)
        run = np.hypot(d[:, 0], d[:, 1])
        self.seg_grade = d[:, 2] / run
        self.seg_heading = np.arctan2(d[:, 1], d[:, 0])
        self.seg_route = np.asarray(seg_route)
        self.seg_s0 = np.asarray(seg_s0)
        self.seg_edge = np.asarray(seg_edge)
        self.seg_edge_s0 = np.asarray(seg_edge_s0)
        self.seg_k = np.asarray(seg_k)
        self.seg_gs0 = self.route_base[self.seg_route] + self.seg_s0
        edges = self.net.edges
        self.seg_limit = np.array([edges[e].speed_limit_mps for e in seg_edge])
        self.seg_rr = np.array([edges[e].rolling_resistance for e in seg_edge])
        self.seg_lane = np.array([edges[e].lane_offset_m for e in seg_edge])  # [m] right of centreline
        self.seg_half_width = np.array([self.net.widths[edges[e].road_id] / 2 for e in seg_edge])  # [m]
        self.edge_section = np.array([e.section for e in edges], dtype=np.int64)
        self.edge_len = np.array([e.length_m for e in edges])
        self.has_sections = bool(np.any(self.edge_section >= 0))
        self._sections_ahead()

    def _sections_ahead(self) -> None:
        """Per segment: the next single-lane section the route enters, where, and from which node."""
        n = len(self.seg_len)
        self.seg_section = self.edge_section[self.seg_edge]
        self.next_section = np.full(n, -1, dtype=np.int64)
        self.next_section_s = np.full(n, np.inf)
        self.next_section_node = np.full(n, -1, dtype=np.int64)
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
            nxt = (-1, np.inf, -1)
            ahead = [nxt] * len(edges)
            for k in range(len(edges) - 2, -1, -1):
                sec_next = self.edge_section[edges[k + 1]]
                if sec_next >= 0 and sec_next != self.edge_section[edges[k]]:
                    nxt = (sec_next, self.route_edge_s0[r.index, k + 1], self.route_section_node[r.index, k + 1])
                ahead[k] = nxt
            segs = np.flatnonzero(self.seg_route == r.index)
            for k in range(len(edges)):
                sel = segs[self.seg_k[segs] == k]
                self.next_section[sel], self.next_section_s[sel], self.next_section_node[sel] = ahead[k]

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
        tc = self.classes[class_index]
        idx = np.flatnonzero(self.seg_route == route)
        payload = np.full(len(idx), tc.payload_t if loaded else 0.0)
        v = np.minimum(self.vmax[class_index * 2 + int(loaded), idx],
                       steady_speed(tc, payload, self.seg_grade[idx], self.seg_rr[idx],
                                    np.full(len(idx), loaded)))
        return float(np.sum(self.seg_len[idx] / np.maximum(v, 0.1)))
