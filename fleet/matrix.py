"""The road network of a matrix map: every road is one direct link between two facilities, of a declared length.

Some mines are known only as a table of distances between sites (a load-to-dump matrix, a dump-to-load matrix),
not as drawn roads. Such a table need not be metric: the direct distance between two sites may be longer than a
way through a third site, and the two directions of one pair may differ. Snapping roads into junctions would
lose exactly that, so a matrix map keeps each road as its own edge from the facility at one end to the facility
at the other, with the ``length_m`` the map declares (the drawn line only places the road on the plan), and
marks the network ``direct_only``: a route is one direct road, never a path through another site.
"""

from __future__ import annotations

import numpy as np

from fleet.errors import InputError
from fleet.mapfile import MineMap, Road
from fleet.roads import SNAP_M, Edge, RoadNetwork, check_grade, facility_label


def build_matrix_network(mine: MineMap) -> RoadNetwork:
    """One node per facility, one edge per road direction; raise ``InputError`` naming the road at fault."""
    src = mine.path
    facilities = [*mine.load_points(), *mine.dumps, *mine.parks]
    nodes = np.array([f.xyz for f in facilities], dtype=float).reshape(-1, 3)
    facility_node = {f.id: k for k, f in enumerate(facilities)}
    ids = [f.id for f in facilities]

    edges: list[Edge] = []
    sections = 0
    for piece, road in enumerate(mine.roads):
        assert road.length_m is not None  # the map loader requires it on a matrix map
        u = _end_node(mine, road, road.coords[0], nodes, ids)
        v = _end_node(mine, road, road.coords[-1], nodes, ids)
        if u == v:
            raise InputError(src, f"road {road.id}", f"both ends are at {facility_label(mine, ids[u])}: "
                                                     "a matrix road links two different facilities")
        check_grade(road, src)
        section = -1
        if road.lanes == 1 and not road.one_way:
            section, sections = sections, sections + 1  # a direct link is a single-lane section of its own
        common = dict(road_id=road.id, length_m=road.length_m, speed_limit_mps=road.speed_limit_kmh / 3.6,
                      lanes=road.lanes, rolling_resistance=road.rolling_resistance, piece=piece, section=section,
                      lane_offset_m=road.width_m / 4 if not road.one_way and road.lanes >= 2 else 0.0)
        edges.append(Edge(index=len(edges), u=u, v=v, coords=road.coords.copy(), **common))
        if not road.one_way:
            edges.append(Edge(index=len(edges), u=v, v=u, coords=road.coords[::-1].copy(), forward=False, **common))

    return RoadNetwork(nodes=nodes, edges=edges, facility_node=facility_node, section_count=sections,
                       widths={r.id: r.width_m for r in mine.roads}, direct_only=True)


def _end_node(mine: MineMap, road: Road, end: np.ndarray, nodes: np.ndarray, ids: list[str]) -> int:
    """The facility a road end lies on (within ``SNAP_M`` in plan): exactly one, or the user's error."""
    dist = np.hypot(nodes[:, 0] - end[0], nodes[:, 1] - end[1])
    near = np.flatnonzero(dist <= SNAP_M)
    where = f"road {road.id}"
    if len(near) == 0:
        k = int(np.argmin(dist))
        raise InputError(mine.path, where,
                         f"end at ({end[0]:.1f}, {end[1]:.1f}) is on no facility (nearest: "
                         f"{facility_label(mine, ids[k])}, {dist[k]:.1f} m away; a matrix road must end within "
                         f"{SNAP_M:g} m of a facility point)")
    if len(near) > 1:
        both = " and ".join(facility_label(mine, ids[k]) for k in near[:2])
        raise InputError(mine.path, where, f"end at ({end[0]:.1f}, {end[1]:.1f}) is within {SNAP_M:g} m of both "
                                           f"{both}: move the facilities apart")
    return int(near[0])
