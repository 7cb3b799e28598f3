"""A map is checked by the simulator's own loader, exactly as it will be written, before anyone runs it.

``check_map`` serialises the document as the file will hold it, reads it back and hands it to
``fleet.mapfile.parse_map``, ``fleet.roads.build_network`` and ``fleet.routes.RouteTable``: their
``InputError`` names the feature and the problem. The generator keeps no copy of the loader's rules. It adds one
check the loader cannot make: the loader takes two roads that cross without a shared point for an overpass,
which is legal; the generator never draws an overpass, so such a crossing is a generator mistake (and two roads
sharing a stretch is one too).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from shapely import STRtree
from shapely.geometry import LineString

from fleet.errors import InputError
from fleet.mapfile import MineMap, parse_map
from fleet.roads import SNAP_M, RoadNetwork, build_network
from fleet.routes import RouteTable
from fleet.truckclass import TruckClass, truck_classes
from maps.generator.features import dumps_map

DEFAULT_CLASS = "cat-797f"  # the class routes are built for unless the caller names others


@dataclass(frozen=True)
class MapSummary:
    """What the loader made of a map, for one line of output and for the tests' variation figures."""

    name: str
    site: str
    road_km: float  # along the 3-D road pieces, each counted once (``RoadNetwork.road_length_m``)
    max_grade: float  # [-] steepest stretch between two road vertices
    shovels: int  # loading units
    load_points: int  # loading areas and shovels standing alone
    loading_areas: int
    sinks: int  # dumps and crushers
    materials: tuple[str, ...]
    single_lane_sections: int
    routes: int

    def line(self) -> str:
        """One line for the command line's output."""
        return (f"{self.name}: {self.road_km:.2f} km of road, max grade {self.max_grade * 100:.1f} %, "
                f"{self.shovels} shovels at {self.load_points} load points ({self.loading_areas} loading areas), "
                f"{self.sinks} sinks, materials {'/'.join(self.materials)}, "
                f"{self.single_lane_sections} single-lane sections, {self.routes} routes")


@cache
def default_classes() -> tuple[TruckClass, ...]:
    """The one class maps are routed for by default (read once)."""
    return (truck_classes()[DEFAULT_CLASS],)


def check_map(doc: dict[str, Any], name: str, classes: Sequence[TruckClass] | None = None) -> MapSummary:
    """Load the map as written with the real loader and build its routes; raise ``InputError`` if it refuses."""
    mine = parse_map(json.loads(dumps_map(doc)), name)
    net = build_network(mine)
    table = RouteTable(mine, net, list(classes or default_classes()))
    check_crossings(mine, net)
    grades = [np.abs(np.diff(r.coords[:, 2])) / np.hypot(*np.diff(r.coords[:, :2], axis=0).T) for r in mine.roads]
    return MapSummary(
        name=name, site=mine.site, road_km=net.road_length_m / 1000.0,
        max_grade=float(max(g.max() for g in grades)), shovels=len(mine.shovels),
        load_points=len(mine.load_points()), loading_areas=len(mine.loading_areas), sinks=len(mine.dumps),
        materials=tuple(sorted({s.material for s in mine.shovels})), single_lane_sections=net.section_count,
        routes=len(table.routes),
    )


def check_crossings(mine: MineMap, net: RoadNetwork) -> None:
    """Every point where two roads meet is a junction of both; no two roads share a stretch."""
    lines = [LineString(r.coords[:, :2]) for r in mine.roads]
    roads_at: dict[int, set[str]] = defaultdict(set)
    for e in net.edges:
        roads_at[e.u].add(e.road_id)
        roads_at[e.v].add(e.road_id)
    left, right = STRtree(lines).query(lines, predicate="intersects")
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        a, b = mine.roads[i].id, mine.roads[j].id
        meet = lines[i].intersection(lines[j])
        for g in getattr(meet, "geoms", [meet]):
            if g.geom_type != "Point":
                raise InputError(mine.path, f"road {a}", f"shares a stretch with road {b}")
            near = np.flatnonzero(np.hypot(net.nodes[:, 0] - g.x, net.nodes[:, 1] - g.y) <= SNAP_M)
            if not any(a in roads_at[n] and b in roads_at[n] for n in near):
                raise InputError(mine.path, f"road {a}", f"crosses road {b} at ({g.x:.1f}, {g.y:.1f}) without a "
                                                         "junction (an overpass: the generator draws none)")
