#!/usr/bin/env python3
"""Generate minefleet's three GeoJSON mine maps and check them.

Run from the repository root:

    python maps/make_maps.py

Frame: local metric, x east, y north [m]. The third coordinate of every position is the
elevation [m above sea level], so road grades come from the geometry itself. The script is
deterministic (no randomness, coordinates rounded to 1 cm) and checks each map against the
loader's rules (junctions, dangling ends, facility reach, grades, unique ids) before writing
it, so a bad edit fails here rather than in the simulator. Where the figures come from:
maps/SOURCES.md.
"""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

from shapely import ops
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.polygon import orient

MAPS_DIR = Path(__file__).resolve().parent
SCHEMA = "minefleet-map/1"

XY = tuple[float, float]
XYZ = tuple[float, float, float]
Feature = dict[str, Any]
ZFunc = Callable[[float, float], float]

# Loader rules mirrored by check_map().
JUNCTION_TOL = 1.0  # [m] road ends closer than this are one junction
FACILITY_REACH = 50.0  # [m] a facility must be this close to a road
MAX_GRADE = 0.12  # [-] steepest allowed grade between consecutive vertices
CORNER_QUAD_SEGS = 8  # vertices per quarter circle: ~29 m apart on a 150 m radius


# --------------------------------------------------------------------------- features


def _r(v: float) -> float:
    """Round to 1 cm: equal junctions stay bit-identical and the files stay small."""
    return round(float(v), 2) + 0.0  # + 0.0 turns -0.0 into 0.0


def _pos(p: Sequence[float]) -> list[float]:
    return [_r(p[0]), _r(p[1]), _r(p[2])]


def road(
    fid: str,
    coords: Sequence[XYZ],
    speed_kmh: float,
    width_m: float,
    *,
    one_way: bool = False,
    lanes: int = 2,
    rolling_resistance: float | None = None,
) -> Feature:
    """A haul road; for a one-way road the direction of travel is the coordinate order."""
    props: dict[str, Any] = {
        "kind": "road",
        "id": fid,
        "speed_limit_kmh": speed_kmh,
        "width_m": width_m,
        "one_way": one_way,
        "lanes": lanes,
    }
    if rolling_resistance is not None:
        props["rolling_resistance"] = rolling_resistance
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "LineString", "coordinates": [_pos(p) for p in coords]},
    }


def point(kind: str, fid: str, xyz: XYZ, **props: Any) -> Feature:
    return {
        "type": "Feature",
        "properties": {"kind": kind, "id": fid, **props},
        "geometry": {"type": "Point", "coordinates": _pos(xyz)},
    }


def polygon(kind: str, fid: str, poly: Polygon, z: float | ZFunc, **props: Any) -> Feature:
    """A polygon whose every vertex carries elevation z (a constant or z(x, y)) [m asl]."""
    zf: ZFunc = z if callable(z) else (lambda _x, _y, _z=float(z): _z)
    poly = orient(poly, 1.0)  # RFC 7946: exterior counter-clockwise, holes clockwise
    rings = [poly.exterior, *poly.interiors]
    coords = [[_pos((x, y, zf(x, y))) for x, y in ring.coords] for ring in rings]
    return {
        "type": "Feature",
        "properties": {"kind": kind, "id": fid, **props},
        "geometry": {"type": "Polygon", "coordinates": coords},
    }


def collection(
    site: str,
    name: str,
    description: str,
    rolling_resistance: float,
    sources: list[str],
    features: list[Feature],
) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "minefleet": {
            "schema": SCHEMA,
            "site": site,
            "name": name,
            "description": description,
            "rolling_resistance": rolling_resistance,
            "sources": sources,
        },
        "features": features,
    }


# --------------------------------------------------------------------------- geometry


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


def rounded_rect(hx: float, hy: float, r: float) -> Polygon:
    """Rectangle centred on the origin, half sizes hx, hy [m], corners rounded with radius r."""
    return box(-hx + r, -hy + r, hx - r, hy - r).buffer(r, quad_segs=CORNER_QUAD_SEGS)


def ring_arc(ring: LineString, p: XY, q: XY) -> list[XY]:
    """The shorter way along a closed ring from p to q (both on the ring), p and q exact."""

    def forward(a: XY, b: XY) -> list[XY]:
        da, db = ring.project(Point(a)), ring.project(Point(b))
        if db >= da:
            pts = list(ops.substring(ring, da, db).coords)
        else:  # wrap past the ring's start point
            pts = list(ops.substring(ring, da, ring.length).coords)
            pts += list(ops.substring(ring, 0.0, db).coords)[1:]
        return [a, *pts[1:-1], b]

    ahead, back = forward(p, q), forward(q, p)[::-1]
    return ahead if LineString(ahead).length <= LineString(back).length else back


def ring_pieces(ring: LineString, junctions: Sequence[XY]) -> list[list[XY]]:
    """Split a closed ring at the junction points into consecutive pieces."""
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


# --------------------------------------------------------------------------- map 1: tutorial


def tutorial() -> dict[str, Any]:
    """One flat 2 km road, one shovel, one dump: small enough to work out cycle times by hand."""
    z = 1000.0  # [m asl]
    features = [
        road("road-1", [(0, 0, z), (2000, 0, z)], 40, 30),
        point("shovel", "shovel-1", (0, 0, z), bucket_t=60, cycle_s=30, spot_s=30,
              material="coal"),
        point("dump", "dump-1", (2000, 0, z), dump_s=60, bays=1, accepts=["coal"]),
        # The park sits on the road's interior: the loader splits road-1 there (T-junction).
        point("park", "park-1", (1900, 0, z)),
        point("gnb", "gnb-1", (1000, 100, z), height_m=30, tx_power_dbm=46, band="n78"),
    ]
    return collection(
        "tutorial",
        "Tutorial: one road, one shovel, one dump",
        "A flat straight 2 km haul road at 1000 m: shovel at the west end, dump at the east end, "
        "trucks parked 100 m short of the dump. One truck's cycle can be worked out by hand: "
        "a 60 t bucket at 30 s a pass (a 363 t truck takes 6 passes) + 30 s spotting, 2 km each way at "
        "<= 40 km/h, 60 s tipping.",
        0.02,
        ["None: a hand-made teaching map. Every figure is a round assumption (see "
         "maps/SOURCES.md)."],
        features,
    )


# --------------------------------------------------------------------------- map 2: open pit

# Pit geometry (see maps/SOURCES.md for which of these are sourced and which are assumptions).
RIM_Z = 1200.0  # [m asl] crest of the pit; surface of the plateau around it
BENCH_H = 15.0  # [m] bench height (Heidaigou's standard bench)
LEVELS = 12  # benches below the crest -> pit depth 180 m
STEP = 70.0  # [m] horizontal inset per bench: 63 m working floor + 7 m face
FACE_W = 7.0  # [m] horizontal footprint of one 15 m face (~65 deg face angle)
RIM_HX, RIM_HY = 2000.0, 1100.0  # [m] half sizes of the pit at the crest: 4.0 km x 2.2 km
CORNER_R = 150.0  # [m] corner radius of the crest and of every bench outline
RAMP_GRADE = 0.09  # [-] main ramps: 9 %, inside the 8-10 % design range
RAMP_X0 = 1500.0  # [m] |x| where each main ramp leaves the crest
RAMP_WIDTH = 35.0  # [m] main ramps, two-way (maps/SOURCES.md: 30-35 m)
RIM_ROAD_OFFSET = 60.0  # [m] rim-road centre line outside the crest
DUMP_LIFT = 30.0  # [m] waste dumps stand this high above the plateau
DUMP_RAMP_GRADE = 0.08  # [-] access ramps onto the dumps
DUMP_RAMP_STEP = 37.5  # [m] vertex spacing on the dump ramps (3 m of rise)

# Horizontal inset where a main ramp is at crest level: chosen so that the ramp crosses each
# bench k exactly on the centre line of that bench's floor, where the bench road branches off.
RAMP_I0 = FACE_W + (STEP - FACE_W) / 2 - STEP  # [m] = -31.5
RAMP_RUN = BENCH_H / RAMP_GRADE  # [m] horizontal ramp length per bench = 166.7
RAMP_ALONG = math.sqrt(RAMP_RUN**2 - STEP**2) / STEP  # [m along the wall per m of inset]
RAMP_VERTEX_DI = STEP / 4  # [m of inset] -> a ramp vertex every 41.7 m


def level_z(k: int) -> float:
    """Floor elevation of bench k (0 = crest) [m asl]."""
    return RIM_Z - BENCH_H * k


def bench_mid_inset(k: int) -> float:
    """Inset of the centre line of bench k's working floor from the crest [m]."""
    return STEP * (k - 1) + FACE_W + (STEP - FACE_W) / 2


def bench_ring(k: int) -> LineString:
    """Centre line of bench k's floor: the path bench roads follow around the pit."""
    i = bench_mid_inset(k)
    return LineString(rounded_rect(RIM_HX - i, RIM_HY - i, CORNER_R).exterior.coords)


def ramp_xy(side: str, inset: float) -> XY:
    """Plan position of the north ('n') or south ('s') main ramp where it is `inset` m in.

    The north ramp leaves the crest at x = -RAMP_X0 and runs east down the north wall; the
    south ramp is its mirror image through the pit centre (leaves at +RAMP_X0, runs west).
    """
    along = (inset - RAMP_I0) * RAMP_ALONG
    if side == "n":
        return (-RAMP_X0 + along, RIM_HY - inset)
    return (RAMP_X0 - along, -RIM_HY + inset)


def ramp_z(inset: float) -> float:
    return RIM_Z - BENCH_H * max(inset - RAMP_I0, 0.0) / STEP


def ramp_piece(side: str, inset_from: float, inset_to: float) -> list[XYZ]:
    """Main-ramp polyline between two insets, with a vertex every RAMP_VERTEX_DI of inset."""
    insets = [inset_from]
    i = RAMP_I0 if inset_from < RAMP_I0 else inset_from  # flat approach ends at the crest
    while i < inset_to - 1e-6:
        if i > insets[-1] + 1e-6:
            insets.append(i)
        i += RAMP_VERTEX_DI
    insets.append(inset_to)
    return [(*ramp_xy(side, i), ramp_z(i)) for i in insets]


def bench_road(k: int, start: XY, end: XY) -> list[XYZ]:
    """A flat road along bench k's centre line from start to end (both on that line)."""
    return flat(ring_arc(bench_ring(k), start, end), level_z(k))


def dump_access(
    start: XY, direction: XY, flat_m: float, top_m: float
) -> tuple[list[XYZ], list[XYZ]]:
    """Road from the plateau onto a waste dump: flat run, 8 % ramp, then the dump top.

    Returns (access road ending at the ramp head, dump-top road ending at the tipping point).
    """
    ux, uy = direction
    rise_run = DUMP_LIFT / DUMP_RAMP_GRADE  # [m]
    p1 = (start[0] + ux * flat_m, start[1] + uy * flat_m)
    p2 = (p1[0] + ux * rise_run, p1[1] + uy * rise_run)
    p3 = (p2[0] + ux * top_m, p2[1] + uy * top_m)
    access = join(straight(start, p1, RIM_Z, RIM_Z),
                  ramp_to(p1, p2, RIM_Z, RIM_Z + DUMP_LIFT, DUMP_RAMP_STEP))
    top = straight(p2, p3, RIM_Z + DUMP_LIFT, RIM_Z + DUMP_LIFT)
    return access, top


def pit_drawing() -> list[Feature]:
    """Pit outline, bench floors and one wall per face and side (for line-of-sight)."""
    feats = [polygon("pit", "pit", rounded_rect(RIM_HX, RIM_HY, CORNER_R), RIM_Z,
                     elevation_m=RIM_Z)]
    wedges = quadrants(RIM_HX - RIM_HY)
    # The main ramps are cut into the faces they cross: no rock stands on the road, so the wall pieces stop at
    # the ramp's edges (a truck on the ramp sees past the cut, not out of the inside of a wall).
    ramp_cut = ops.unary_union([LineString([c[:2] for c in ramp_piece(side, RAMP_I0, bench_mid_inset(LEVELS))])
                            .buffer(RAMP_WIDTH / 2, cap_style="flat") for side in ("n", "s")])
    for k in range(1, LEVELS + 1):
        crest_i = STEP * (k - 1)  # face k runs from the crest of bench k-1 down to bench k
        toe_i = crest_i + FACE_W
        crest = rounded_rect(RIM_HX - crest_i, RIM_HY - crest_i, CORNER_R)
        toe = rounded_rect(RIM_HX - toe_i, RIM_HY - toe_i, CORNER_R)
        if k < LEVELS:
            inner = rounded_rect(RIM_HX - STEP * k, RIM_HY - STEP * k, CORNER_R)
            floor = toe.difference(inner)
        else:
            floor = toe  # the pit bottom
        feats.append(polygon("bench", f"bench-{level_z(k):.0f}", floor, level_z(k),
                             elevation_m=level_z(k)))
        face = crest.difference(toe).difference(ramp_cut)
        for side, wedge in wedges.items():
            part = face.intersection(wedge)
            pieces = [part] if isinstance(part, Polygon) else sorted(part.geoms, key=lambda g: g.bounds)
            assert all(isinstance(g, Polygon) for g in pieces), (k, side, part.geom_type)
            # A wall blocks radio line of sight up to its crest elevation.
            crest_z = level_z(k - 1)
            for n, piece in enumerate(pieces):
                suffix = "" if len(pieces) == 1 else "abcdefgh"[n]
                feats.append(polygon("wall", f"wall-{side}-{crest_z:.0f}{suffix}", piece, crest_z,
                                     elevation_m=crest_z))
    return feats


def open_pit_roads() -> tuple[list[Feature], dict[str, XY]]:
    """All haul roads of the open pit, and the plan positions of the facilities they serve."""
    rim_i = -RIM_ROAD_OFFSET
    rim_ring = LineString(rounded_rect(RIM_HX + RIM_ROAD_OFFSET, RIM_HY + RIM_ROAD_OFFSET,
                                       CORNER_R + RIM_ROAD_OFFSET).exterior.coords)
    top_n, top_s = ramp_xy("n", rim_i), ramp_xy("s", rim_i)

    # Facilities (plan positions) [m].
    fac: dict[str, XY] = {
        "shovel-w03": (-(RIM_HX - bench_mid_inset(3)), 200.0),  # west wall, bench 3
        "shovel-w06": (RIM_HX - bench_mid_inset(6), -250.0),  # east wall, bench 6
        "shovel-w09": (RIM_HX - STEP * 8 - FACE_W - 10.0, 0.0),  # east wall, bench 9, at face
        "shovel-c11": (-(RIM_HX - STEP * 10 - FACE_W - 10.0), 0.0),  # west wall, bench 11
        "shovel-c12": (1000.0, 0.0),  # pit bottom, east end
        "crusher-1": (-1400.0, -1480.0),
        "park-main": (0.0, -1450.0),
        "dump-rom": (-2450.0, -700.0),
    }
    k9_mid = (RIM_HX - bench_mid_inset(9), 0.0)  # where the bench-9 loop passes the shovel
    k11_mid = (-(RIM_HX - bench_mid_inset(11)), 0.0)

    dn_access, dn_top = dump_access((0.0, RIM_HY + RIM_ROAD_OFFSET), (0.0, 1.0), 140.0, 225.0)
    de_access, de_top = dump_access((RIM_HX + RIM_ROAD_OFFSET, -200.0), (1.0, 0.0), 140.0, 225.0)
    fac["dump-north"] = dn_top[-1][:2]
    fac["dump-east"] = de_top[-1][:2]

    crusher_in_from = (-1200.0, -(RIM_HY + RIM_ROAD_OFFSET))
    crusher_out_to = (-1600.0, -(RIM_HY + RIM_ROAD_OFFSET))
    park_from = (0.0, -(RIM_HY + RIM_ROAD_OFFSET))
    rom_from = (-(RIM_HX + RIM_ROAD_OFFSET), -700.0)

    feats: list[Feature] = []
    # Rim road: a two-way loop around the pit, split at every junction.
    rim_junctions = [top_n, top_s, dn_access[0][:2], de_access[0][:2], crusher_in_from,
                     crusher_out_to, park_from, rom_from]
    for n, piece in enumerate(ring_pieces(rim_ring, rim_junctions), start=1):
        feats.append(road(f"rim-road-{n:02d}", flat(piece, RIM_Z), 45, 35))

    # Main ramps, split where bench roads branch off.
    m = bench_mid_inset
    for side, stops in (("n", [rim_i, m(3), m(9), m(11), m(12)]),
                        ("s", [rim_i, m(6), m(9), m(11), m(12)])):
        for n, (a, b) in enumerate(pairwise(stops), start=1):
            feats.append(road(f"ramp-{side}-{n}", ramp_piece(side, a, b), 25, RAMP_WIDTH))

    def j(side: str, k: int) -> XY:
        return ramp_xy(side, m(k))

    # Bench roads (flat, along each bench floor's centre line).
    rr_bench = 0.03  # working benches are rougher than the main haul roads
    feats += [
        road("bench-road-1155", bench_road(3, j("n", 3), fac["shovel-w03"]), 30, 30,
             rolling_resistance=rr_bench),
        road("bench-road-1110", bench_road(6, j("s", 6), fac["shovel-w06"]), 30, 30,
             rolling_resistance=rr_bench),
        # Bench 9 (1065 m) is a loop between both ramps: loaded trucks can leave either way.
        road("bench-road-1065-n", bench_road(9, j("n", 9), k9_mid), 30, 30,
             rolling_resistance=rr_bench),
        road("bench-road-1065-s", bench_road(9, j("s", 9), k9_mid), 30, 30,
             rolling_resistance=rr_bench),
        road("bench-road-1065-face", flat([k9_mid, fac["shovel-w09"]], level_z(9)), 15, 30,
             rolling_resistance=rr_bench),
        road("bench-road-1035-n", bench_road(11, j("n", 11), k11_mid), 30, 30,
             rolling_resistance=rr_bench),
        road("bench-road-1035-s", bench_road(11, j("s", 11), k11_mid), 30, 30,
             rolling_resistance=rr_bench),
        road("bench-road-1035-face", flat([k11_mid, fac["shovel-c11"]], level_z(11)), 15, 30,
             rolling_resistance=rr_bench),
    ]

    # Pit bottom: both ramps meet on the floor; the coal shovel works its east end.
    z12 = level_z(12)
    floor_e, floor_w = (450.0, 0.0), (-450.0, 0.0)
    feats += [
        road("floor-n", straight(j("n", 12), floor_e, z12, z12), 30, 30,
             rolling_resistance=rr_bench),
        road("floor-s", straight(j("s", 12), floor_w, z12, z12), 30, 30,
             rolling_resistance=rr_bench),
        road("floor-mid", straight(floor_w, floor_e, z12, z12), 35, 35,
             rolling_resistance=rr_bench),
        road("floor-c12", straight(floor_e, fac["shovel-c12"], z12, z12), 30, 30,
             rolling_resistance=rr_bench),
    ]

    # Waste dumps: 8 % access ramps; dump tops are soft, freshly tipped material.
    rr_dump = 0.035
    feats += [
        road("dump-north-access", dn_access, 35, 35),
        road("dump-north-top", dn_top, 20, 35, rolling_resistance=rr_dump),
        road("dump-east-access", de_access, 35, 35),
        road("dump-east-top", de_top, 20, 35, rolling_resistance=rr_dump),
    ]

    # Crusher: a one-way drive-through loop (in from the east, tip, out to the west).
    cx, cy = fac["crusher-1"]
    crusher_in = [crusher_in_from, (-1200.0, -1400.0), (-1300.0, cy), (cx, cy)]
    crusher_out = [(cx, cy), (-1500.0, cy), (-1600.0, -1400.0), crusher_out_to]
    feats += [
        road("crusher-in", flat(crusher_in, RIM_Z), 20, 20, one_way=True, lanes=1),
        road("crusher-out", flat(crusher_out, RIM_Z), 20, 20, one_way=True, lanes=1),
        road("rom-access", straight(rom_from, fac["dump-rom"], RIM_Z, RIM_Z), 30, 30),
        road("park-access", straight(park_from, fac["park-main"], RIM_Z, RIM_Z), 30, 30),
    ]
    return feats, fac


def open_pit_coal() -> dict[str, Any]:
    roads, fac = open_pit_roads()
    zf = {"shovel-w03": level_z(3), "shovel-w06": level_z(6), "shovel-w09": level_z(9),
          "shovel-c11": level_z(11), "shovel-c12": level_z(12)}

    def at(fid: str, z: float) -> XYZ:
        return (*fac[fid], z)

    dump_z = RIM_Z + DUMP_LIFT
    nx, ny = fac["dump-north"]
    ex, ey = fac["dump-east"]
    rx, ry = fac["dump-rom"]
    facilities = [
        # A hydraulic face shovel on the upper waste bench; rope shovels below (assumptions).
        point("shovel", "shovel-w03", at("shovel-w03", zf["shovel-w03"]), bucket_t=50,
              cycle_s=28, spot_s=30, material="waste"),
        point("shovel", "shovel-w06", at("shovel-w06", zf["shovel-w06"]), bucket_t=75,
              cycle_s=32, spot_s=30, material="waste"),
        point("shovel", "shovel-w09", at("shovel-w09", zf["shovel-w09"]), bucket_t=75,
              cycle_s=32, spot_s=30, material="waste"),
        point("shovel", "shovel-c11", at("shovel-c11", zf["shovel-c11"]), bucket_t=60,
              cycle_s=30, spot_s=30, material="coal"),
        point("shovel", "shovel-c12", at("shovel-c12", zf["shovel-c12"]), bucket_t=60,
              cycle_s=30, spot_s=30, material="coal"),
        # Dump polygons are centred on the tipping point where their road ends.
        polygon("dump", "dump-north", box(nx - 700, ny - 200, nx + 700, ny + 200), dump_z,
                dump_s=60, bays=4, accepts=["waste"]),
        polygon("dump", "dump-east", box(ex - 200, ey - 500, ex + 200, ey + 500), dump_z,
                dump_s=60, bays=3, accepts=["waste"]),
        polygon("dump", "dump-rom", box(rx - 150, ry - 150, rx + 150, ry + 150), RIM_Z,
                dump_s=45, bays=2, accepts=["coal"]),
        point("crusher", "crusher-1", at("crusher-1", RIM_Z), dump_s=50, capacity_tph=4000,
              bays=1, accepts=["coal"]),
        point("park", "park-main", at("park-main", RIM_Z)),
    ]

    # gNB sites: four on the plateau around the crest (each sees the far walls but not the
    # foot of its own wall), one on the north dump, one at the crusher.
    gnb = dict(height_m=30, tx_power_dbm=46, band="n78")
    gnbs = [
        point("gnb", "gnb-rim-n", (800.0, 1240.0, RIM_Z), **gnb),
        point("gnb", "gnb-rim-s", (700.0, -1240.0, RIM_Z), **gnb),
        point("gnb", "gnb-rim-e", (2140.0, 600.0, RIM_Z), **gnb),
        point("gnb", "gnb-rim-w", (-2140.0, 300.0, RIM_Z), **gnb),
        point("gnb", "gnb-dump-n", (-500.0, ny + 50.0, dump_z), **gnb),
        point("gnb", "gnb-crusher", (-1100.0, -1560.0, RIM_Z), **gnb),
    ]

    m = bench_mid_inset
    ramp_n_mid, z_ramp_n = corridor(ramp_piece("n", m(4), m(6)), 25.0)
    ramp_s_mid, z_ramp_s = corridor(ramp_piece("s", m(2), m(4)), 25.0)
    x9 = RIM_HX - m(9)
    hazards = [
        polygon("hazard_zone", "hz-ramp-n-spill", ramp_n_mid, z_ramp_n, kinds=["spillage"],
                rate_per_h=0.5),
        polygon("hazard_zone", "hz-ramp-s-spill", ramp_s_mid, z_ramp_s, kinds=["spillage"],
                rate_per_h=0.3),
        polygon("hazard_zone", "hz-floor-coal", box(800, -100, 1150, 100), level_z(12),
                kinds=["spillage", "person"], rate_per_h=0.4),
        polygon("hazard_zone", "hz-bench-1065", box(x9 - 40, -250, x9 + 40, 250), level_z(9),
                kinds=["person"], rate_per_h=0.2),
        polygon("hazard_zone", "hz-park", box(-250, -1520, 250, -1100), RIM_Z,
                kinds=["light_vehicle", "person"], rate_per_h=2.0),
        polygon("hazard_zone", "hz-crusher", box(-1650, -1530, -1150, -1380), RIM_Z,
                kinds=["light_vehicle"], rate_per_h=0.5),
    ]

    return collection(
        "open-pit-coal",
        "Open-pit coal mine (Zhungeer-style)",
        "Modelled on the large open-pit coal mines of the Zhungeer coalfield, Inner Mongolia "
        "(Haerwusu, Heidaigou): a 4.0 x 2.2 km pit at the crest (1200 m), 12 benches of 15 m "
        "(pit bottom 1020 m, 180 m deep), waste benches above the coal seam at the bottom. Two "
        "9 % main ramps (north and south walls) join a rim road; bench 9 and bench 11 are loops "
        "between both ramps. Three waste shovels, two coal shovels, two ex-pit waste dumps "
        "(30 m high, 8 % access), a coal crusher with a ROM stockpile beside it, a truck park, "
        "six n78 gNB sites (four around the crest, so deep benches under a site's own wall are "
        "shadowed by the pit walls).",
        0.025,
        SOURCES_OPEN_PIT,
        [*pit_drawing(), *roads, *facilities, *gnbs, *hazards],
    )


SOURCES_OPEN_PIT = [
    "Haerwusu surface coal mine (Zhungeer coalfield): surface boundary 9.59 km E-W x 7.03 km "
    "N-S, 67.17 km2, design output 20 Mt/a, main No. 6 seam 20.01 m thick on average - China "
    "National Radio report of 19 Oct 2008; same figures in Xinhua's report as summarised at "
    "http://asiam.co.jp/news/detail.php?id=1874",
    "Heidaigou surface coal mine: 'standard 15 m bench' (45 m cast-blast benches), 15 Mt/a "
    "rising to 20 Mt/a - Orica, 'Zhunger Heidaigou Mine Cast Blasting', Beijing, 25 May 2012, "
    "https://sambuz.com/doc/cast-blasting-ppt-presentation-616542",
    "Zhungeer complex (Heidaigou and Haerwusu): truck-and-shovel and dragline, No. 6 seam "
    "20-30 m thick at Heidaigou - https://miningdataonline.com/property/954/Zhunge%E2%80%99er-Complex.aspx",
    "Ramp grade 8 % (North America) to 10 % (Australia); two-way haul road at least 3.5 x "
    "truck width on straights, 4 x on corners - Deswik white paper 'Guidelines and "
    "considerations for open pit designers', https://www.deswik.com/es-cl/whitepapers/"
    "guidelines-and-considerations-for-open-pit-designers (summary: "
    "https://www.zvenia.com/post/recommendation-on-op-hauling-ramp)",
    "Operators' practice: 30 m road width and 8 % maximum ramp grade (10 % temporarily); 35 m "
    "minimum running surface - Alberta Mine Safety Association Q&A 'Haul Road Design', "
    "https://app.abminesafety.ca/member-q/c/0/i/92316523/haul-road-design",
    "A mine haul road network is typically 10-40 km long - Thompson & Visser, 'Mine haul road "
    "maintenance management systems', J. SAIMM, June 2003, p. 303",
    "Yimin open-pit coal mine (Hulunbuir): 35 Mt/a; 100 autonomous 90 t trucks on 5G-A, fastest "
    "operating speed 50 km/h - https://www.mining-technology.com/sponsored/"
    "minings-next-shift-expanding-business-with-autonomous-fleets ; Xinhua, 30 May 2025, "
    "https://nabkanews.com/worlds-largest-fleet-of-driverless-mining-trucks-operate-in-north-china-xinhua",
    "Rolling resistance: ~3 % for most haul roads, 4-5 % accepted in pit (UAF course notes, "
    "http://ffden-2.phys.uaf.edu/webproj/212_spring_2017/Ethan_Trickey/Ethan_Trickey/"
    "Page%203.html); "
    "0.034 measured on ramps for Komatsu 830E at Salobo (Menezes & Navarro Torres, 'Influence "
    "of mine road grade and rolling resistance on haulage productivity and costs')",
    "Assumptions (no public figure found): pit 4.0 x 2.2 km at the crest and 180 m deep, crest "
    "at 1200 m asl, 63 m working benches, 9 % main ramps, dump heights, shovel buckets and "
    "cycle times, crusher capacity, gNB sites and powers, hazard rates - see maps/SOURCES.md",
]


# --------------------------------------------------------------------------- map 3: strip mine

STRIP_SURFACE_Z = 960.0  # [m asl] flat grassland around the strip
STRIP_LEN = 7000.0  # [m] length of the open strip
STRIP_FLOOR_W_Z, STRIP_FLOOR_E_Z = 915.0, 910.0  # [m asl] coal top at each end (gentle dip)
STRIP_BAYS = (1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 6000.0)  # [m] passing-bay centres
BAY_HALF = 60.0  # [m] half length of a passing bay (bays are 120 m long)
STRIP_RAMP_GRADE = 0.08  # [-] end ramps
STRIP_RAMP_STEP = 37.5  # [m] ramp vertex spacing
SHOVEL_OFFSET_Y = 70.0  # [m] loading points are 70 m off the strip road, toward the coal face


def strip_floor_z(x: float, _y: float = 0.0) -> float:
    """Elevation of the coal top / pit floor along the strip [m asl]."""
    t = min(max(x / STRIP_LEN, 0.0), 1.0)
    return STRIP_FLOOR_W_Z + (STRIP_FLOOR_E_Z - STRIP_FLOOR_W_Z) * t


def strip_axis(x0: float, x1: float, step: float = 250.0) -> list[XYZ]:
    """The strip road along y = 0 from x0 to x1, a vertex every <= step [m] to carry the dip."""
    return [(x, y, strip_floor_z(x)) for x, y, _ in straight((x0, 0.0), (x1, 0.0), 0, 0, step)]


def strip_mine() -> dict[str, Any]:
    """A 7 km strip: single-lane road on the coal with 120 m passing bays, ramps at both ends."""
    zs = STRIP_SURFACE_Z
    shovels = {2000.0: ("shovel-c2", "coal"), 4000.0: ("shovel-c4", "coal"),
               5000.0: ("shovel-w5", "waste"), 6000.0: ("shovel-c6", "coal")}

    feats: list[Feature] = []
    # Main strip road: alternating single-lane sections and two-lane passing bays. Bays with a
    # shovel are split at their centre where the shovel spur branches off.
    x_prev = 0.0
    for n, xc in enumerate(STRIP_BAYS, start=1):
        feats.append(road(f"strip-lane-{n}", strip_axis(x_prev, xc - BAY_HALF), 40, 15, lanes=1))
        if xc in shovels:
            feats.append(road(f"bay-{n}-w", strip_axis(xc - BAY_HALF, xc), 40, 30))
            feats.append(road(f"bay-{n}-e", strip_axis(xc, xc + BAY_HALF), 40, 30))
        else:
            feats.append(road(f"bay-{n}", strip_axis(xc - BAY_HALF, xc + BAY_HALF), 40, 30))
        x_prev = xc + BAY_HALF
    feats.append(road(f"strip-lane-{len(STRIP_BAYS) + 1}", strip_axis(x_prev, STRIP_LEN), 40, 15,
                      lanes=1))

    # End ramps (8 %) up the end walls to the surface.
    zw, ze = strip_floor_z(0.0), strip_floor_z(STRIP_LEN)
    w_top = (-(zs - zw) / STRIP_RAMP_GRADE, 0.0)
    e_top = (STRIP_LEN + (zs - ze) / STRIP_RAMP_GRADE, 0.0)
    feats.append(road("ramp-west", ramp_to((0.0, 0.0), w_top, zw, zs, STRIP_RAMP_STEP), 25, 30))
    feats.append(road("ramp-east", ramp_to((STRIP_LEN, 0.0), e_top, ze, zs, STRIP_RAMP_STEP),
                      25, 30))

    # West end: coal crusher and truck park. East end: waste dump, 15 m high, 8 % access.
    w_junction = (w_top[0] - 240.0, 0.0)
    crusher_xy = (w_junction[0] - 300.0, 0.0)
    park_xy = (w_junction[0], 250.0)
    dump_lift = 15.0  # [m]
    e1 = (e_top[0] + 125.0, 0.0)
    e2 = (e1[0] + dump_lift / STRIP_RAMP_GRADE, 0.0)
    dump_xy = (e2[0] + 212.5, 0.0)
    feats += [
        road("surface-west", straight(w_top, w_junction, zs, zs), 45, 30),
        road("crusher-approach", straight(w_junction, crusher_xy, zs, zs), 30, 30),
        road("park-access", straight(w_junction, park_xy, zs, zs), 30, 30),
        road("dump-access", join(straight(e_top, e1, zs, zs),
                                 ramp_to(e1, e2, zs, zs + dump_lift, STRIP_RAMP_STEP)), 35, 30),
        road("dump-top", straight(e2, dump_xy, zs + dump_lift, zs + dump_lift), 20, 30,
             rolling_resistance=0.035),
    ]

    # Shovel spurs: two-lane loading areas off the bay centres.
    for xc, (sid, _material) in shovels.items():
        z = strip_floor_z(xc)
        feats.append(road(f"spur-{sid.removeprefix('shovel-')}",
                          [(xc, 0.0, z), (xc, SHOVEL_OFFSET_Y, z)], 15, 30))

    facilities: list[Feature] = []
    for xc, (sid, material) in shovels.items():
        bucket = 60 if material == "coal" else 50
        facilities.append(point("shovel", sid, (xc, SHOVEL_OFFSET_Y, strip_floor_z(xc)),
                                bucket_t=bucket, cycle_s=30, spot_s=30,
                                material=material))
    dx, dy = dump_xy
    facilities += [
        point("crusher", "crusher-west", (*crusher_xy, zs), dump_s=50, capacity_tph=3000, bays=1,
              accepts=["coal"]),
        polygon("dump", "dump-east", box(dx - 200, dy - 300, dx + 200, dy + 300), zs + dump_lift,
                dump_s=60, bays=3, accepts=["waste"]),
        point("park", "park-west", (*park_xy, zs)),
    ]

    # Drawing and radio: the strip, its coal floor, the highwall (north) and spoil ridge (south).
    x_w, x_e = w_top[0] - 10.0, e_top[0] + 10.0
    drawing = [
        polygon("pit", "pit", box(x_w, -110.0, x_e, 120.0), zs, elevation_m=zs),
        polygon("bench", "coal-floor", box(0.0, -50.0, STRIP_LEN, 100.0), strip_floor_z,
                elevation_m=round((zw + ze) / 2, 1)),
        polygon("wall", "highwall", box(0.0, 100.0, STRIP_LEN, 120.0), zs, elevation_m=zs),
        polygon("wall", "spoil-ridge", box(0.0, -110.0, STRIP_LEN, -50.0), zs + 15.0,
                elevation_m=zs + 15.0),
    ]
    # gNB trailers stand right behind the highwall crest, so they see down onto the floor.
    gnb = dict(height_m=25, tx_power_dbm=46, band="n78")
    gnbs = [point("gnb", f"gnb-{n}", (x, 150.0, zs), **gnb)
            for n, x in enumerate((1000.0, 3500.0, 6000.0), start=1)]
    hazards = [
        polygon("hazard_zone", "hz-shovel-c4", box(3900, -30, 4100, 100), strip_floor_z,
                kinds=["spillage"], rate_per_h=0.5),
        polygon("hazard_zone", "hz-strip-lane-3", box(2400, -30, 2600, 30), strip_floor_z,
                kinds=["light_vehicle"], rate_per_h=0.3),
        polygon("hazard_zone", "hz-west-surface", box(crusher_xy[0] - 50, -60, w_top[0], 300), zs,
                kinds=["light_vehicle", "person"], rate_per_h=1.5),
    ]
    return collection(
        "strip-mine",
        "Strip mine (single-lane haul road with passing bays)",
        "A 7 km long, 45 m deep strip in flat-lying coal: the haul road runs on the coal along "
        "the strip as single-lane sections (~880 m) joined by 120 m two-lane passing bays, so "
        "loaded and empty trucks must wait for each other at the bays. Three coal shovels and "
        "one parting (waste) shovel load off the bays; coal goes up the west ramp to a crusher, "
        "waste up the east ramp to a 15 m dump. Three gNB trailers stand behind the highwall "
        "crest.",
        0.03,
        SOURCES_STRIP,
        [*drawing, *feats, *facilities, *gnbs, *hazards],
    )


SOURCES_STRIP = [
    "North Antelope Rochelle (Powder River Basin): Wyodak-Anderson seam 60-80 ft thick, 100-400 "
    "ft below surface, three pits, coal hauled by truck to hoppers and crushed - Peabody fact "
    "sheet, http://www.peabodyenergy.com/content/274/media-center/fact-sheets/north-antelope-rochelle-mine",
    "Huolinhe coalfield (Inner Mongolia): 60 km long, 9 km wide, flat-lying lignite - "
    "http://lvli.com/jd/neimenggu/tl94/hlglsh639/23775.html",
    "New Horizon strip mine (Colorado): panels approaching 2,200 ft long, pit bottom 100-120 ft "
    "wide - Colorado DRMS permit text, https://dnrweblink.state.co.us/DRMSSearch/0/doc/963661/Page2.aspx",
    "Ramp grade 8 % (North America) to 10 % (Australia); two-way haul road at least 3.5 x truck "
    "width - Deswik white paper 'Guidelines and considerations for open pit designers', "
    "https://www.deswik.com/es-cl/whitepapers/guidelines-and-considerations-for-open-pit-designers",
    "Assumptions (no public figure found): strip length 7 km and depth 45 m, single-lane "
    "sections of ~880 m with 120 m passing bays, 15 m single-lane width, shovel, crusher and "
    "dump figures, gNB sites, hazard rates - see maps/SOURCES.md",
]


# --------------------------------------------------------------------------- checks


class MapError(ValueError):
    pass


def _positions(geom: dict[str, Any]) -> list[Sequence[float]]:
    t, c = geom["type"], geom["coordinates"]
    if t == "Point":
        return [c]
    if t == "LineString":
        return list(c)
    if t == "Polygon":
        return [p for ring in c for p in ring]
    raise MapError(f"unexpected geometry {t}")


def _facility_xy(f: Feature) -> XY:
    g = f["geometry"]
    if g["type"] == "Point":
        return (g["coordinates"][0], g["coordinates"][1])
    c = Polygon([p[:2] for p in g["coordinates"][0]]).centroid
    return (c.x, c.y)


REQUIRED = {
    "road": {"speed_limit_kmh", "width_m", "one_way", "lanes"},
    "shovel": {"bucket_t", "cycle_s", "spot_s", "material"},
    "dump": {"dump_s", "bays", "accepts"},
    "crusher": {"dump_s", "capacity_tph", "bays", "accepts"},
    "park": set(),
    "pit": {"elevation_m"},
    "bench": {"elevation_m"},
    "wall": {"elevation_m"},
    "gnb": {"height_m", "tx_power_dbm", "band"},
    "hazard_zone": {"kinds", "rate_per_h"},
}
FACILITY_KINDS = ("shovel", "dump", "crusher", "park")


def check_map(fc: dict[str, Any]) -> dict[str, Any]:
    """Apply the loader's rules; raise MapError listing every problem, else return a summary."""
    errors: list[str] = []
    meta = fc.get("minefleet", {})
    if meta.get("schema") != SCHEMA:
        errors.append("minefleet.schema missing or wrong")
    feats = fc["features"]
    ids = [f["properties"]["id"] for f in feats]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        errors.append(f"duplicate ids: {sorted(dup)}")
    for f in feats:
        p = f["properties"]
        missing = REQUIRED[p["kind"]] - p.keys()
        if missing:
            errors.append(f"{p['id']}: missing {sorted(missing)}")
        if any(len(pos) != 3 for pos in _positions(f["geometry"])):
            errors.append(f"{p['id']}: every position needs x, y, elevation")
        if f["geometry"]["type"] == "Polygon":
            poly = Polygon(f["geometry"]["coordinates"][0],
                           [r for r in f["geometry"]["coordinates"][1:]])
            if not poly.is_valid:
                errors.append(f"{p['id']}: invalid polygon")

    roads = [f for f in feats if f["properties"]["kind"] == "road"]
    lines = {f["properties"]["id"]: LineString([c[:2] for c in f["geometry"]["coordinates"]])
             for f in roads}
    facilities = [(f["properties"]["id"], f["properties"]["kind"], _facility_xy(f), f)
                  for f in feats if f["properties"]["kind"] in FACILITY_KINDS]

    # Rule 5: grades between consecutive vertices.
    max_grade, total_m = 0.0, 0.0
    for f in roads:
        c = f["geometry"]["coordinates"]
        for a, b in pairwise(c):
            run = math.dist(a[:2], b[:2])
            if run < 1e-6:
                errors.append(f"{f['properties']['id']}: repeated vertex {a}")
                continue
            g = abs(b[2] - a[2]) / run
            max_grade = max(max_grade, g)
            if g > MAX_GRADE + 1e-9:
                errors.append(f"{f['properties']['id']}: grade {g:.3f} at {a}")
        total_m += lines[f["properties"]["id"]].length

    # Rule 1: junction nodes (ends within 1 m; ends or facilities on another road's interior).
    nodes: list[XY] = []

    def node_of(p: XY) -> int:
        for i, q in enumerate(nodes):
            if math.dist(p, q) <= JUNCTION_TOL:
                return i
        nodes.append(p)
        return len(nodes) - 1

    splits: dict[str, set[float]] = {rid: {0.0, ln.length} for rid, ln in lines.items()}
    ends = [(rid, (ln.coords[k][0], ln.coords[k][1])) for rid, ln in lines.items() for k in (0, -1)]
    anchors = ends + [(fid, xy) for fid, _, xy, _ in facilities]
    for rid, ln in lines.items():
        for other, xy in anchors:
            if other == rid:
                continue
            if ln.distance(Point(xy)) <= JUNCTION_TOL:
                splits[rid].add(ln.project(Point(xy)))
    adj: dict[int, set[int]] = defaultdict(set)
    touches: dict[int, set[str]] = defaultdict(set)  # node -> roads touching it
    for f in roads:
        rid, one_way = f["properties"]["id"], f["properties"]["one_way"]
        ln = lines[rid]
        chain = [node_of(tuple(ln.interpolate(d).coords[0])) for d in sorted(splits[rid])]
        for n in chain:
            touches[n].add(rid)
        for u, v in pairwise(chain):
            if u != v:
                adj[u].add(v)
                if not one_way:
                    adj[v].add(u)

    # Crossings that are not junctions would be overpasses: forbidden.
    rids = list(lines)
    for i, a in enumerate(rids):
        for b in rids[i + 1:]:
            inter = lines[a].intersection(lines[b])
            if inter.is_empty:
                continue
            pts = [inter] if inter.geom_type == "Point" else list(getattr(inter, "geoms", []))
            if any(p.geom_type != "Point" for p in pts):
                errors.append(f"{a} and {b} overlap")
                continue
            for p in pts:
                near = [n for n, q in enumerate(nodes) if math.dist(q, (p.x, p.y)) <= JUNCTION_TOL]
                if not any(a in touches[n] and b in touches[n] for n in near):
                    errors.append(f"{a} crosses {b} at ({p.x:.1f}, {p.y:.1f}) without a junction")

    # Rule 2: facilities near a road; they attach to the nearest junction node.
    fac_node: dict[str, int] = {}
    for fid, _kind, xy, _ in facilities:
        d_road = min(ln.distance(Point(xy)) for ln in lines.values())
        if d_road > FACILITY_REACH:
            errors.append(f"{fid}: {d_road:.0f} m from the nearest road")
            continue
        fac_node[fid] = min(range(len(nodes)), key=lambda n: math.dist(nodes[n], xy))

    # Rule 3: every dead end ends at a facility.
    fac_at = {n for n in fac_node.values()}
    for rid, xy in ends:
        n = node_of(xy)
        if len(touches[n]) == 1 and n not in fac_at:
            errors.append(f"{rid}: dangling end at ({xy[0]:.1f}, {xy[1]:.1f})")

    # Rule 4: each shovel <-> every dump/crusher accepting its material, and the park -> all.
    def reach(src: int) -> set[int]:
        seen, todo = {src}, deque([src])
        while todo:
            for v in adj[todo.popleft()]:
                if v not in seen:
                    seen.add(v)
                    todo.append(v)
        return seen

    reach_from = {n: reach(n) for n in set(fac_node.values())}
    for fid, kind, _, f in facilities:
        if kind != "shovel" or fid not in fac_node:
            continue
        mat = f["properties"]["material"]
        sinks = [d for d, k, _, g in facilities
                 if k in ("dump", "crusher") and mat in g["properties"]["accepts"]]
        if not sinks:
            errors.append(f"{fid}: nowhere accepts {mat}")
        for d in sinks:
            if d not in fac_node:
                continue
            if fac_node[d] not in reach_from[fac_node[fid]]:
                errors.append(f"{d} unreachable from {fid}")
            if fac_node[fid] not in reach_from[fac_node[d]]:
                errors.append(f"{fid} unreachable from {d}")
    for fid, kind, _, _ in facilities:
        if kind == "park" and fid in fac_node:
            for other in fac_node:
                if other != fid and fac_node[other] not in reach_from[fac_node[fid]]:
                    errors.append(f"{other} unreachable from {fid}")

    if errors:
        raise MapError(f"{meta.get('site')}: " + "; ".join(errors))
    kinds: dict[str, int] = defaultdict(int)
    for f in feats:
        kinds[f["properties"]["kind"]] += 1
    return {"site": meta["site"], "road_km": total_m / 1000, "max_grade": max_grade,
            "counts": dict(sorted(kinds.items()))}


# --------------------------------------------------------------------------- output


def dumps_map(fc: dict[str, Any]) -> str:
    """JSON with one feature per line: diff-friendly and still readable."""
    meta = json.dumps(fc["minefleet"], indent=1).replace("\n", "\n ")
    feats = ",\n".join("  " + json.dumps(f, separators=(", ", ": ")) for f in fc["features"])
    return (f'{{\n "type": "FeatureCollection",\n "minefleet": {meta},\n'
            f' "features": [\n{feats}\n ]\n}}\n')


def main() -> int:
    builders = {"tutorial": tutorial, "open_pit_coal": open_pit_coal, "strip_mine": strip_mine}
    for stem, build in builders.items():
        fc = build()
        text = dumps_map(fc)
        summary = check_map(json.loads(text))  # check exactly what gets written
        (MAPS_DIR / f"{stem}.geojson").write_text(text, encoding="utf-8")
        print(f"{stem}.geojson: {summary['road_km']:.2f} km of road, max grade "
              f"{summary['max_grade'] * 100:.1f} %, {summary['counts']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
