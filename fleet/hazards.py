"""Obstacles on the haul roads: spillage, parked light vehicles, people on foot.

They appear inside the map's hazard zones as Poisson arrivals (zone rate x the scenario's scale), on a road
stretch inside the zone, at a lateral position across the road, and clear after an exponential time. One
that overlaps a truck lane blocks trucks driving in that lane; each directed edge keeps its blocking
obstacles sorted by offset so a compiled search finds every truck's nearest one each tick.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit
from shapely.geometry import Point

from fleet.events import EventQueue
from fleet.mapfile import MineMap
from fleet.roads import RoadNetwork


@dataclass(frozen=True)
class HazardKind:
    name: str
    radius_m: float  # [m] footprint, as a circle
    reflectivity: float  # [-] what the range sensor sees
    mean_life_s: float  # [s] until cleared (dozer clean-up, vehicle moves, person walks off)
    lane_share: float  # [-] chance it stands inside a truck lane rather than anywhere across the road


KINDS = {
    "spillage": HazardKind("spillage", 1.0, 0.08, 600.0, 0.7),  # dark coal/rock lumps off a loaded body
    "light_vehicle": HazardKind("light_vehicle", 2.5, 0.6, 300.0, 0.5),
    "person": HazardKind("person", 0.4, 0.35, 120.0, 0.6),  # hi-vis vest
}
KIND_NAMES = list(KINDS)
LOOKAHEAD_EDGES = 4


class HazardField:
    def __init__(self, mine: MineMap, net: RoadNetwork, rng: np.random.Generator, rate_scale: float,
                 truck_half_width_m: float) -> None:
        self.net = net
        self.rng = rng
        self.half_width = truck_half_width_m
        self.zones = []
        forward = {e.piece: e for e in net.edges if e.forward}
        for area in mine.areas:
            if area.kind != "hazard_zone" or area.rate_per_h * rate_scale <= 0:
                continue
            spots = []  # (forward edge, offset along it [m], length [m])
            for e in forward.values():
                c = e.coords
                seg = np.linalg.norm(np.diff(c, axis=0), axis=1)
                start = np.concatenate([[0.0], np.cumsum(seg)[:-1]])
                for k in range(len(seg)):
                    mid = (c[k] + c[k + 1]) / 2
                    if area.polygon.contains(Point(mid[0], mid[1])):
                        spots.append((e.index, start[k], seg[k]))
            if spots:
                self.zones.append((area, area.rate_per_h * rate_scale, spots))
        cap = 64
        self.x, self.y = np.zeros(cap), np.zeros(cap)
        self.r, self.refl = np.zeros(cap), np.zeros(cap)
        self.kind = np.zeros(cap, dtype=np.int64)
        self.edge = np.zeros(cap, dtype=np.int64)  # forward edge of the road piece
        self.off = np.zeros(cap)  # [m] along the forward edge
        self.lat = np.zeros(cap)  # [m] left of the centreline, looking along the forward edge
        self.alive = np.zeros(cap, dtype=bool)
        self.appeared = 0
        self.by_kind = dict.fromkeys(KIND_NAMES, 0)
        # (x, y) -> True where a moving truck is too close to stop for an obstacle appearing there
        self.keep_clear: Callable[[float, float], bool] | None = None
        self._index()

    # -- arrivals and clearing -----------------------------------------------------------------------

    def start(self, queue: EventQueue, t: float) -> None:
        for z in range(len(self.zones)):
            self._schedule(queue, z, t)

    def _schedule(self, queue: EventQueue, z: int, t: float) -> None:
        rate = self.zones[z][1]
        queue.push(t + float(self.rng.exponential(3600.0 / rate)), self._spawn, queue, z)

    def _spawn(self, queue: EventQueue, z: int) -> None:
        area, _, spots = self.zones[z]
        now = queue.now
        lengths = np.array([s[2] for s in spots])
        k = int(self.rng.choice(len(spots), p=lengths / lengths.sum()))
        edge_i, start, length = spots[k]
        off = start + float(self.rng.random()) * length
        kind = KINDS[area.kinds[int(self.rng.integers(len(area.kinds)))]]
        e = self.net.edges[edge_i]
        half_road = self.net.widths[e.road_id] / 2
        if e.lane_offset_m and self.rng.random() < kind.lane_share:
            lat = float(self.rng.choice([-1.0, 1.0])) * e.lane_offset_m + float(self.rng.normal(0, 1.0))
        else:
            lat = float(self.rng.uniform(-half_road + kind.radius_m, half_road - kind.radius_m))
        x, y, heading = _point_on(e.coords, off)
        px, py = x - lat * np.sin(heading), y + lat * np.cos(heading)
        if self.keep_clear is not None and self.keep_clear(px, py):
            self._schedule(queue, z, now)  # nobody could stop for it: not a test of perception, not drawn
            return
        slot = self._slot()
        self.x[slot], self.y[slot] = px, py
        self.r[slot], self.refl[slot] = kind.radius_m, kind.reflectivity
        self.kind[slot] = KIND_NAMES.index(kind.name)
        self.edge[slot], self.off[slot], self.lat[slot] = edge_i, off, lat
        self.alive[slot] = True
        self.appeared += 1
        self.by_kind[kind.name] += 1
        self._index()
        queue.push(now + float(self.rng.exponential(kind.mean_life_s)), self.clear, slot)
        self._schedule(queue, z, now)

    def clear(self, slot: int) -> None:
        if self.alive[slot]:
            self.alive[slot] = False
            self._index()

    def _slot(self) -> int:
        free = np.flatnonzero(~self.alive)
        if len(free):
            return int(free[0])
        n = len(self.alive)
        for name in ("x", "y", "r", "refl", "kind", "edge", "off", "lat", "alive"):
            arr = getattr(self, name)
            setattr(self, name, np.concatenate([arr, np.zeros_like(arr)]))
        return n

    # -- what blocks which lane -------------------------------------------------------------------------

    def _index(self) -> None:
        """Per directed edge, the obstacles overlapping its lane, sorted by offset (CSR arrays)."""
        rows: list[tuple[int, float, int]] = []
        for slot in np.flatnonzero(self.alive):
            fwd = self.net.edges[int(self.edge[slot])]
            for e in self.net.edges:
                if e.piece != fwd.piece:
                    continue
                lane = -e.lane_offset_m if e.forward else e.lane_offset_m  # lateral of the lane centre
                if abs(self.lat[slot] - lane) < self.half_width + self.r[slot] + 0.5:
                    off = self.off[slot] if e.forward else fwd.length_m - self.off[slot]
                    rows.append((e.index, off, int(slot)))
        rows.sort()
        n_edges = len(self.net.edges)
        self.block_start = np.zeros(n_edges + 1, dtype=np.int64)
        for e, _, _ in rows:
            self.block_start[e + 1] += 1
        self.block_start = np.cumsum(self.block_start)
        self.block_off = np.array([r[1] for r in rows], dtype=float)
        self.block_slot = np.array([r[2] for r in rows], dtype=np.int64)

    def kind_name(self, slot: int) -> str:
        return KIND_NAMES[int(self.kind[slot])]

    def any_alive(self) -> bool:
        return bool(self.alive.any())


def _point_on(coords: np.ndarray, off: float) -> tuple[float, float, float]:
    seg = np.linalg.norm(np.diff(coords, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    k = min(int(np.searchsorted(cum, off, side="right")) - 1, len(seg) - 1)
    f = (off - cum[k]) / seg[k]
    p = coords[k] + f * (coords[k + 1] - coords[k])
    d = coords[k + 1] - coords[k]
    return float(p[0]), float(p[1]), float(np.arctan2(d[1], d[0]))


@njit(cache=True)
def obstacle_gaps(seg, s, route, radius, seg_edge, seg_edge_s0, seg_k, route_edges, route_edge_s0,
                  block_start, block_off, block_slot):
    """Distance [m] from each truck's front to the nearest obstacle surface blocking its lane ahead, and which.

    Searches the current edge beyond the truck and the next ``LOOKAHEAD_EDGES`` edges of its route.
    """
    n = len(s)
    gap = np.full(n, np.inf)
    which = np.full(n, -1, dtype=np.int64)
    width = route_edges.shape[1]
    for j in range(n):
        k0 = seg_k[seg[j]]
        r = route[j]
        here = s[j] - seg_edge_s0[seg[j]]
        for kk in range(k0, min(k0 + 1 + LOOKAHEAD_EDGES, width)):
            e = route_edges[r, kk]
            if e < 0:
                break
            base = route_edge_s0[r, kk] - s[j]
            for q in range(block_start[e], block_start[e + 1]):
                if kk == k0 and block_off[q] + radius[block_slot[q]] < here:
                    continue  # already behind the front
                g = base + block_off[q] - radius[block_slot[q]]
                if g < gap[j]:
                    gap[j] = g
                    which[j] = block_slot[q]
            if which[j] >= 0:
                break
    return gap, which
