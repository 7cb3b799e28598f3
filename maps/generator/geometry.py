"""Plan geometry the mine builders share: polylines with elevations, rounded pit outlines, rings split at junctions.

Kept apart from the feature builders because it knows nothing of GeoJSON: every function returns shapely
geometry or plain (x, y[, z]) tuples in the local metric frame (x east, y north [m], z [m asl]).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise

from shapely import ops
from shapely.geometry import LineString, Point, Polygon, box

XY = tuple[float, float]
XYZ = tuple[float, float, float]
ZFunc = Callable[[float, float], float]

CORNER_QUAD_SEGS = 8  # vertices per quarter circle: ~29 m apart on a 150 m radius


def straight(p0: XY, p1: XY, z0: float, z1: float, max_step: float = 1e9) -> list[XYZ]:
    """Points from p0 to p1 at most max_step [m] apart, elevation linear in distance."""
    n = max(1, math.ceil(math.dist(p0, p1) / max_step - 1e-9))
    return [
        (p0[0] + (p1[0] - p0[0]) * t, p0[1] + (p1[1] - p0[1]) * t, z0 + (z1 - z0) * t)
        for t in (i / n for i in range(n + 1))
    ]


def ramp_to(p0: XY, p1: XY, z0: float, z1: float, max_step: float = 40.0) -> list[XYZ]:
    """A constant-grade ramp with a vertex every <= max_step [m] so grades stay smooth."""
    return straight(p0, p1, z0, z1, max_step)


def flat(points: Iterable[XY], z: float) -> list[XYZ]:
    """Plan points at one elevation."""
    return [(x, y, z) for x, y in points]


def join(*parts: Sequence[XYZ]) -> list[XYZ]:
    """Concatenate polylines that share their end points, dropping the repeated point."""
    out: list[XYZ] = []
    for part in parts:
        for p in part:
            if out and math.dist(out[-1][:2], p[:2]) < 1e-6:
                continue
            out.append(p)
    return out


def offset(p: XY, direction: XY, distance: float) -> XY:
    """The point ``distance`` [m] from p along the unit vector ``direction``."""
    return (p[0] + direction[0] * distance, p[1] + direction[1] * distance)


def rounded_rect(hx: float, hy: float, r: float) -> Polygon:
    """Rectangle centred on the origin, half sizes hx, hy [m], corners rounded with radius r."""
    return box(-hx + r, -hy + r, hx - r, hy - r).buffer(r, quad_segs=CORNER_QUAD_SEGS)


def _forward(ring: LineString, a: XY, b: XY) -> list[XY]:
    """Along a closed ring in its own direction from a to b (both on the ring), a and b exact."""
    da, db = ring.project(Point(a)), ring.project(Point(b))
    if db >= da:
        pts = list(ops.substring(ring, da, db).coords)
    else:  # wrap past the ring's start point
        pts = list(ops.substring(ring, da, ring.length).coords)
        pts += list(ops.substring(ring, 0.0, db).coords)[1:]
    return [a, *pts[1:-1], b]


def ring_arc(ring: LineString, p: XY, q: XY) -> list[XY]:
    """The shorter way along a closed ring from p to q (both on the ring), p and q exact."""
    ahead, back = _forward(ring, p, q), _forward(ring, q, p)[::-1]
    return ahead if LineString(ahead).length <= LineString(back).length else back


def ring_pieces(ring: LineString, junctions: Sequence[XY]) -> list[list[XY]]:
    """Split a closed ring at the junction points into consecutive pieces, in the ring's own order.

    The first piece starts at the junction nearest after the ring's start point (where shapely begins it).
    """
    ordered = sorted(junctions, key=lambda p: ring.project(Point(p)))
    pieces = []
    for a, b in pairwise([*ordered, ordered[0]]):
        da, db = ring.project(Point(a)), ring.project(Point(b))
        if db > da:
            pts = list(ops.substring(ring, da, db).coords)
        else:
            pts = list(ops.substring(ring, da, ring.length).coords)
            pts += list(ops.substring(ring, 0.0, db).coords)[1:]
        pieces.append([a, *pts[1:-1], b])
    return pieces


def corridor(coords: Sequence[XYZ], half_width: float) -> tuple[Polygon, ZFunc]:
    """A strip half_width [m] either side of a polyline, with z taken from the polyline."""
    line = LineString([c[:2] for c in coords])
    strip = line.buffer(half_width, cap_style="flat", quad_segs=2)

    def z_at(x: float, y: float) -> float:
        d = line.project(Point(x, y))
        acc = 0.0
        for a, b in pairwise(coords):
            seg = math.dist(a[:2], b[:2])
            if acc + seg >= d - 1e-9:
                t = min(max((d - acc) / seg, 0.0), 1.0)
                return a[2] + (b[2] - a[2]) * t
            acc += seg
        return coords[-1][2]

    return strip, z_at


def quadrants(cx_half: float) -> dict[str, Polygon]:
    """N/E/S/W wedges bounded by the medial axis of a rectangle whose long axis is x.

    Every inset of the pit outline has the same medial axis (x = +-cx_half, 45 deg lines), so
    these wedges cut every bench ring at its corners.
    """
    big = 1e5
    return {
        "n": Polygon([(-cx_half, 0), (cx_half, 0), (cx_half + big, big), (-cx_half - big, big)]),
        "s": Polygon([(-cx_half, 0), (-cx_half - big, -big), (cx_half + big, -big), (cx_half, 0)]),
        "e": Polygon([(cx_half, 0), (cx_half + big, big), (cx_half + big, -big)]),
        "w": Polygon([(-cx_half, 0), (-cx_half - big, -big), (-cx_half - big, big)]),
    }
