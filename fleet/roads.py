"""The road graph: roads snapped into junctions and facility stops, directed edges, shortest paths.

Road ends within ``SNAP_M`` of each other are one junction; a road end within ``SNAP_M`` of another road's
interior makes a T-junction there; each facility stops at the nearest point of the nearest road (within
``FACILITY_SNAP_M``). Roads that cross without a shared point are overpasses, not junctions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString, Point

from fleet.errors import InputError
from fleet.mapfile import MineMap, Road

SNAP_M = 1.0  # [m] ends closer than this meet
FACILITY_SNAP_M = 50.0  # [m] a facility further than this from every road is off the network
MAX_GRADE = 0.20  # [-] steeper than any haul ramp; almost surely an elevation typo


@dataclass(frozen=True)
class Edge:
    """One direction of a road piece between two graph nodes."""

    index: int
    road_id: str
    u: int
    v: int
    coords: np.ndarray  # (n, 3) [m], in driving order
    length_m: float  # along the 3-D polyline [m]
    speed_limit_mps: float
    lanes: int
    rolling_resistance: float
    piece: int  # undirected road piece; both directions share it
    section: int = -1  # single-lane section id, -1 when the piece has two or more lanes
    lane_offset_m: float = 0.0  # [m] trucks keep right of the centreline by this much (two-way roads)
    forward: bool = True  # drives in the road's coordinate order


@dataclass
class RoadNetwork:
    nodes: np.ndarray  # (k, 3) [m]
    edges: list[Edge]
    facility_node: dict[str, int]
    section_count: int = 0
    widths: dict[str, float] = field(default_factory=dict)  # road id -> width [m]
    direct_only: bool = False  # a matrix map: a route is one direct road, never through a third site
    _posted: Paths | None = field(default=None, repr=False)

    @property
    def road_length_m(self) -> float:
        """Total length of road pieces, each counted once whatever its directions [m]."""
        seen: dict[int, float] = {}
        for e in self.edges:
            seen[e.piece] = e.length_m
        return float(sum(seen.values()))

    def paths(self, cost_s: np.ndarray) -> Paths:
        """Least-cost paths from every facility node for one cost per edge [s] (inf: the edge is impassable)."""
        return Paths(self, cost_s)

    def path(self, origin: int, dest: int) -> list[int] | None:
        """Edge indices of the fastest path at the posted speed limits, or None if unreachable."""
        if self._posted is None:
            self._posted = self.paths(np.array([e.length_m / e.speed_limit_mps for e in self.edges]))
        return self._posted.path(origin, dest)


class Paths:
    """Shortest paths (scipy ``dijkstra``) from the facility nodes under one edge cost.

    On a matrix map (``direct_only``) the only path between two facilities is the cheapest direct road: a haul
    never runs through a third site, so a route's length is the matrix entry it was given.
    """

    def __init__(self, net: RoadNetwork, cost_s: np.ndarray) -> None:
        self.net = net
        best: dict[tuple[int, int], tuple[float, int]] = {}
        for e in net.edges:
            c = float(cost_s[e.index])
            if np.isfinite(c) and ((e.u, e.v) not in best or c < best[(e.u, e.v)][0]):
                best[(e.u, e.v)] = (c, e.index)
        self._best_edge = {key: idx for key, (_, idx) in best.items()}
        self._pred: dict[int, np.ndarray] = {}
        origins = sorted(set(net.facility_node.values()))
        if net.direct_only or not best:
            return
        k = len(net.nodes)
        graph = csr_matrix(([c for c, _ in best.values()], ([u for u, _ in best], [v for _, v in best])),
                           shape=(k, k))
        _, pred = dijkstra(graph, directed=True, indices=origins, return_predecessors=True)
        self._pred = {o: pred[i] for i, o in enumerate(origins)}

    def path(self, origin: int, dest: int) -> list[int] | None:
        """Edge indices from ``origin`` to ``dest`` (facility nodes), [] when equal, None if unreachable."""
        if origin not in self.net.facility_node.values():
            raise KeyError(f"node {origin} is not a facility node")
        if origin == dest:
            return []
        if self.net.direct_only:
            edge = self._best_edge.get((origin, dest))
            return None if edge is None else [edge]
        pred = self._pred.get(origin)
        if pred is None or pred[dest] < 0:
            return None
        nodes = [dest]
        while nodes[-1] != origin:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        return [self._best_edge[(a, b)] for a, b in itertools.pairwise(nodes)]


def facility_label(mine: MineMap, fac_id: str) -> str:
    """How an error names a facility: by its feature kind and id, as the map file has it."""
    for kind, items in (("loading_area", mine.loading_areas), ("shovel", mine.shovels), ("park", mine.parks)):
        if any(x.id == fac_id for x in items):
            return f"{kind} {fac_id}"
    return next(f"{d.kind} {fac_id}" for d in mine.dumps if d.id == fac_id)


def build_network(mine: MineMap) -> RoadNetwork:
    """Snap the map's roads into a graph; raise ``InputError`` naming the road or facility at fault."""
    if mine.road_model == "matrix":
        from fleet.matrix import build_matrix_network  # fleet.matrix builds on this module's Edge/RoadNetwork

        return build_matrix_network(mine)
    src = mine.path
    roads = list(mine.roads)
    lines = [LineString(r.coords[:, :2]) for r in roads]
    for r in roads:
        check_grade(r, src)
    cuts: list[list[float]] = [[0.0, line.length] for line in lines]
    line_arr = np.array(lines, dtype=object)

    # T-junctions: a road end on another road's interior splits that road there.
    for line in lines:
        for end in (Point(line.coords[0]), Point(line.coords[-1])):
            dist = shapely.distance(line_arr, end)
            for j in np.flatnonzero(dist <= SNAP_M):
                if lines[j] is line:
                    continue
                d = lines[j].project(end)
                if SNAP_M < d < lines[j].length - SNAP_M:
                    cuts[j].append(d)

    # Facility stops: each attaches to the nearest point of the nearest road.
    attach: dict[str, tuple[float, float]] = {}
    facilities = [*mine.load_points(), *mine.dumps, *mine.parks]
    for fac in facilities:
        p = Point(fac.xyz[:2])
        dist = shapely.distance(line_arr, p)
        j = int(np.argmin(dist))
        if dist[j] > FACILITY_SNAP_M:
            raise InputError(src, facility_label(mine, fac.id),
                             f"is {dist[j]:.0f} m from the nearest road (limit {FACILITY_SNAP_M:.0f} m): "
                             "off every road")
        d = lines[j].project(p)
        near = [c for c in cuts[j] if abs(c - d) <= SNAP_M]
        if near:
            d = near[0]
        else:
            cuts[j].append(d)
        pt = lines[j].interpolate(d)
        attach[fac.id] = (pt.x, pt.y)

    nodes: list[tuple[float, float, float]] = []

    def node_at(xyz: np.ndarray) -> int:
        if nodes:
            arr = np.asarray(nodes)
            dd = np.hypot(arr[:, 0] - xyz[0], arr[:, 1] - xyz[1])
            k = int(np.argmin(dd))
            if dd[k] <= SNAP_M:
                return k
        nodes.append((float(xyz[0]), float(xyz[1]), float(xyz[2])))
        return len(nodes) - 1

    pieces: list[tuple[Road, np.ndarray, int, int]] = []
    for road, road_cuts in zip(roads, cuts, strict=True):
        for a, b in _merge_cuts(sorted(road_cuts)):
            coords = _substring(road.coords, a, b)
            pieces.append((road, coords, node_at(coords[0]), node_at(coords[-1])))

    facility_node = {}
    for fid, (x, y) in attach.items():
        facility_node[fid] = node_at(np.array([x, y, 0.0]))

    degree = np.zeros(len(nodes), dtype=int)
    for _, _, u, v in pieces:
        degree[u] += 1
        degree[v] += 1
    fac_nodes = set(facility_node.values())
    for road, coords, u, v in pieces:
        for n, c in ((u, coords[0]), (v, coords[-1])):
            if degree[n] == 1 and n not in fac_nodes:
                raise InputError(src, f"road {road.id}",
                                 f"dangling end at ({c[0]:.1f}, {c[1]:.1f}) touches no other road or facility")

    sections = _single_lane_sections(pieces, len(nodes))
    edges: list[Edge] = []
    for p, (road, coords, u, v) in enumerate(pieces):
        length = float(np.sum(np.linalg.norm(np.diff(coords, axis=0), axis=1)))
        two_way_lanes = not road.one_way and road.lanes >= 2
        common = dict(road_id=road.id, length_m=length, speed_limit_mps=road.speed_limit_kmh / 3.6,
                      lanes=road.lanes, rolling_resistance=road.rolling_resistance, piece=p,
                      section=sections[p], lane_offset_m=road.width_m / 4 if two_way_lanes else 0.0)
        edges.append(Edge(index=len(edges), u=u, v=v, coords=coords, **common))
        if not road.one_way:
            edges.append(Edge(index=len(edges), u=v, v=u, coords=coords[::-1].copy(), forward=False, **common))

    net = RoadNetwork(nodes=np.asarray(nodes), edges=edges, facility_node=facility_node,
                      section_count=max(sections, default=-1) + 1, widths={r.id: r.width_m for r in roads})
    return net


def check_grade(road: Road, src: str) -> None:
    """Refuse a grade steeper than any haul ramp. The run is the drawn one, scaled to the declared length on a
    matrix map (there the drawing is only a sketch and the rise is spread over ``length_m``)."""
    d = np.diff(road.coords, axis=0)
    run = np.hypot(d[:, 0], d[:, 1])
    if road.length_m is not None:
        run = run * (road.length_m / float(np.linalg.norm(d, axis=1).sum()))
    grade = np.abs(d[:, 2]) / run
    k = int(np.argmax(grade))
    if grade[k] > MAX_GRADE:
        over = " (rise over the declared length_m)" if road.length_m is not None else ""
        raise InputError(src, f"road {road.id}", f"grade {grade[k]:.0%} between positions {k} and {k + 1}{over} "
                                                 f"exceeds {MAX_GRADE:.0%} (check the elevations)")


def _merge_cuts(cuts: list[float]) -> list[tuple[float, float]]:
    """Turn sorted cut distances into pieces, merging cuts closer than SNAP_M (ends are kept exact)."""
    end = cuts[-1]
    kept = [cuts[0]]
    for c in cuts[1:]:
        if c - kept[-1] > SNAP_M:
            kept.append(c)
    if end - kept[-1] <= SNAP_M and len(kept) > 1:
        kept[-1] = end
    elif kept[-1] != end:
        kept.append(end)
    return list(itertools.pairwise(kept))


def _substring(coords: np.ndarray, a: float, b: float) -> np.ndarray:
    """The 3-D polyline between plan distances a and b [m], elevation interpolated linearly."""
    seg = np.hypot(*np.diff(coords[:, :2], axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])

    def at(d: float) -> np.ndarray:
        return np.array([np.interp(d, cum, coords[:, k]) for k in range(3)])

    inner = coords[(cum > a + 1e-9) & (cum < b - 1e-9)]
    return np.vstack([at(a), inner, at(b)])


def _single_lane_sections(pieces: list[tuple[Road, np.ndarray, int, int]], n_nodes: int) -> list[int]:
    """Group consecutive single-lane pieces: opposing trucks may not meet anywhere inside one group."""
    parent = list(range(len(pieces)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_node: dict[int, list[int]] = {}
    for p, (road, _, u, v) in enumerate(pieces):
        if road.lanes == 1 and not road.one_way:
            by_node.setdefault(u, []).append(p)
            by_node.setdefault(v, []).append(p)
    for group in by_node.values():
        for p in group[1:]:
            parent[find(p)] = find(group[0])
    ids: dict[int, int] = {}
    out = []
    for p, (road, _, _, _) in enumerate(pieces):
        if road.lanes == 1 and not road.one_way:
            out.append(ids.setdefault(find(p), len(ids)))
        else:
            out.append(-1)
    return out
