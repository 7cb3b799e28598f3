"""A parametric open pit map: the pit (``maps.generator.pit``), its load stops, and the sites around the rim road.

Why this shape: it is the layout of the shipped ``open_pit_coal`` map (maps/SOURCES.md) with every figure a
parameter, so one builder draws the shipped pit and any number of generated ones. A load stop on bench k is
reached by one bench road from a ramp (``access`` "n"/"s") or by a loop from both ramps ("loop"); a stop set
back toward the face gets a short spur; stops on the pit bottom hang off the floor roads that join both ramps'
feet. Waste dumps, stockpiles, a drive-through crusher and the park stand outside the rim road, each on a
straight side of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from maps.generator.features import (
    Feature,
    GnbSite,
    MapMeta,
    Sink,
    Unit,
    Zone,
    collection,
    gnb_features,
    hazard_polygon,
    load_stop,
    point,
    road,
    sink_box,
    sink_point,
    zone_feature,
)
from maps.generator.geometry import XY, corridor, flat, join, offset, ramp_to, ring_pieces, straight
from maps.generator.pit import ALONG, OUTWARD, Pit, PitShape, pit_drawing


@dataclass(frozen=True, kw_only=True)
class PitShovel:
    """A load stop in the pit: one shovel standing on it, or a loading area (several units) beside it."""

    id: str
    bench: int  # 1..levels; ``levels`` is the pit bottom
    material: str
    units: tuple[Unit, ...]
    wall: str = "e"  # n | e | s | w: the bench side it stands on (ignored on the pit bottom)
    along: float = 0.0  # [m] along that side (x on n/s, y on e/w); on the pit bottom: its x (y = 0)
    toe_m: float | None = None  # set back to this far from the toe of its face (a spur); None: on the centre line
    access: str = "n"  # n | s: a bench road from that ramp; loop: bench roads from both ramps
    lanes: int = 2  # its bench roads: 1 = single-lane


@dataclass(frozen=True, kw_only=True)
class RimDump:
    """A waste dump (raised ``lift_m`` by an access ramp) or a stockpile (``lift_m`` 0) outside the rim road."""

    sink: Sink
    side: str  # n | e | s | w side of the rim road its road leaves from
    at: float  # [m] along that side
    flat_m: float  # [m] flat run from the rim road (the whole road of a stockpile)
    lift_m: float = 0.0  # [m] height above the plateau
    grade: float = 0.08  # access ramp
    ramp_step_m: float = 37.5  # [m] vertex spacing on the ramp
    top_m: float = 0.0  # [m] road on the dump top to the tipping point
    half_along: float = 200.0  # [m] half size of the drawn dump, along its road
    half_across: float = 200.0  # [m] half size across its road
    road_prefix: str | None = None  # road ids "<prefix>-access" (and "-top"); None: the dump's id
    access_kmh: float = 35
    top_kmh: float = 20
    width_m: float = 35
    lanes: int = 2


@dataclass(frozen=True, kw_only=True)
class RimCrusher:
    """A crusher on a one-way drive-through loop off the rim road: in from the +along side, out the other."""

    sink: Sink
    side: str
    at: float  # [m] along the side, the crusher's own position
    depth_m: float = 320.0  # [m] out from the rim road to the crusher
    entry_m: float = 240.0  # [m] out along the loop's straight legs
    half_w: float = 200.0  # [m] the loop leaves and rejoins the rim road this far either side
    chamfer_m: float = 100.0  # [m] along the side from the crusher to the end of each leg's bend


@dataclass(frozen=True, kw_only=True)
class RimPark:
    """The truck park, at the end of a road out from the rim road."""

    id: str
    side: str
    at: float
    distance_m: float  # [m] out from the rim road


@dataclass(frozen=True, kw_only=True)
class RampZone:
    """A hazard zone along a main ramp between the centre lines of two benches."""

    id: str
    side: str
    bench_from: int
    bench_to: int
    kinds: tuple[str, ...]
    rate_per_h: float
    half_width: float = 25.0


@dataclass(frozen=True, kw_only=True)
class PitRoads:
    """Road standards: posted limits [km/h], widths [m], rolling resistance where rougher than the map's."""

    rim_kmh: float = 45
    rim_width: float = 35
    ramp_kmh: float = 25
    bench_kmh: float = 30
    bench_width: float = 30
    spur_kmh: float = 15
    floor_mid_kmh: float = 35
    floor_mid_width: float = 35
    crusher_kmh: float = 20
    crusher_width: float = 20
    park_kmh: float = 30
    park_width: float = 30
    single_lane_width: float = 15
    rr_bench: float = 0.03  # working benches and the pit bottom
    rr_dump: float = 0.035  # dump tops: soft, freshly tipped material


@dataclass(frozen=True, kw_only=True)
class OpenPitParams:
    """Everything an open pit map is built from."""

    meta: MapMeta
    shape: PitShape
    shovels: tuple[PitShovel, ...]
    dumps: tuple[RimDump, ...]
    crusher: RimCrusher | None
    park: RimPark
    gnbs: tuple[GnbSite, ...]
    hazards: tuple[Zone | RampZone, ...]
    roads: PitRoads = field(default_factory=PitRoads)


def _lane_width(rd: PitRoads, lanes: int) -> float:
    """The width of a bench road or spur with this many lanes."""
    return rd.single_lane_width if lanes == 1 else rd.bench_width


def _bench_roads(pit: Pit, rd: PitRoads, s: PitShovel, stop: XY) -> list[Feature]:
    """The roads to a stop on a bench above the pit bottom."""
    k = s.bench
    z = pit.level_z(k)
    centre = pit.wall_xy(s.wall, pit.mid_inset(k), s.along)
    base = f"bench-road-{z:.0f}"
    width, common = _lane_width(rd, s.lanes), dict(lanes=s.lanes, rolling_resistance=rd.rr_bench)
    if s.access == "loop":
        out = [road(f"{base}-{side}", pit.bench_road(k, pit.junction(side, k), centre), rd.bench_kmh, width,
                    **common) for side in ("n", "s")]
    else:
        out = [road(base, pit.bench_road(k, pit.junction(s.access, k), centre), rd.bench_kmh, width, **common)]
    if stop != centre:
        out.append(road(f"{base}-face", flat([centre, stop], z), rd.spur_kmh, width, **common))
    return out


def _floor_roads(pit: Pit, rd: PitRoads, bottom: list[tuple[PitShovel, XY]]) -> list[Feature]:
    """Both ramps' feet joined across the pit bottom, and a spur to each stop on it from the nearer end."""
    last = pit.p.levels
    z = pit.level_z(last)
    floor_e, floor_w = (pit.p.floor_x, 0.0), (-pit.p.floor_x, 0.0)
    foot_n, foot_s = pit.junction("n", last), pit.junction("s", last)
    end_n, end_s = (floor_e, floor_w) if foot_n[0] >= 0 else (floor_w, floor_e)
    rr = dict(rolling_resistance=rd.rr_bench)
    out = [road("floor-n", straight(foot_n, end_n, z, z), rd.bench_kmh, rd.bench_width, **rr),
           road("floor-s", straight(foot_s, end_s, z, z), rd.bench_kmh, rd.bench_width, **rr),
           road("floor-mid", straight(floor_w, floor_e, z, z), rd.floor_mid_kmh, rd.floor_mid_width, **rr)]
    for s, stop in bottom:
        end = floor_e if stop[0] > 0 else floor_w
        out.append(road(f"floor-{s.id.removeprefix('shovel-')}", straight(end, stop, z, z), rd.bench_kmh,
                        _lane_width(rd, s.lanes), lanes=s.lanes, **rr))
    return out


def _dump_roads(pit: Pit, rd: PitRoads, d: RimDump) -> tuple[list[Feature], XY]:
    """A dump's road from the rim road (flat run, then ramp and dump top if raised) and its tipping point."""
    z0, u = pit.p.rim_z, OUTWARD[d.side]
    prefix = d.road_prefix or d.sink.id
    start = pit.rim_point(d.side, d.at)
    p1 = offset(start, u, d.flat_m)
    if d.lift_m == 0:
        return [road(f"{prefix}-access", straight(start, p1, z0, z0), d.access_kmh, d.width_m, lanes=d.lanes)], p1
    p2 = offset(p1, u, d.lift_m / d.grade)
    p3 = offset(p2, u, d.top_m)
    z1 = z0 + d.lift_m
    access = join(straight(start, p1, z0, z0), ramp_to(p1, p2, z0, z1, d.ramp_step_m))
    return [road(f"{prefix}-access", access, d.access_kmh, d.width_m, lanes=d.lanes),
            road(f"{prefix}-top", straight(p2, p3, z1, z1), d.top_kmh, d.width_m, lanes=d.lanes,
                 rolling_resistance=rd.rr_dump)], p3


def crusher_loop(pit: Pit, c: RimCrusher) -> tuple[list[XY], list[XY]]:
    """The one-way loop's two halves, in driving order: rim road -> crusher -> rim road."""
    u, a = OUTWARD[c.side], ALONG[c.side]
    at = pit.rim_point(c.side, c.at)
    crusher = offset(at, u, c.depth_m)

    def leg(sign: float) -> list[XY]:
        rim = offset(at, a, sign * c.half_w)
        return [rim, offset(rim, u, c.entry_m), offset(crusher, a, sign * c.chamfer_m), crusher]

    return leg(1.0), leg(-1.0)[::-1]


def stop_xy(pit: Pit, s: PitShovel) -> XY:
    """Where a load stop stands: on its bench's centre line, set back toward the face, or on the pit bottom."""
    if s.bench == pit.p.levels:
        return (s.along, 0.0)
    inset = pit.mid_inset(s.bench) if s.toe_m is None else pit.p.step * (s.bench - 1) + pit.p.face_w + s.toe_m
    return pit.wall_xy(s.wall, inset, s.along)


def _stop_features(pit: Pit, s: PitShovel, stop: XY) -> list[Feature]:
    """A loading area's units stand toward the face (on the pit bottom: beyond the spur's end)."""
    if s.bench == pit.p.levels:
        outward, along = ((1.0, 0.0) if stop[0] > 0 else (-1.0, 0.0)), (0.0, 1.0)
    else:
        outward, along = OUTWARD[s.wall], ALONG[s.wall]
    half_floor = (pit.p.step - pit.p.face_w) / 2
    return load_stop(s.id, (*stop, pit.level_z(s.bench)), s.material, s.units, outward, along,
                     unit_offset_m=min(25.0, 0.7 * half_floor))


def _hazard(pit: Pit, h: Zone | RampZone) -> Feature:
    """A box on a bench (level 0: the plateau), or a corridor along a ramp."""
    if isinstance(h, Zone):
        return zone_feature(h, pit.level_z(h.level))
    strip, z_at = corridor(pit.ramp_piece(h.side, pit.mid_inset(h.bench_from), pit.mid_inset(h.bench_to)),
                           h.half_width)
    return hazard_polygon(h.id, strip, z_at, h.kinds, h.rate_per_h)


def build(p: OpenPitParams) -> dict[str, Any]:
    """The map document of one open pit."""
    pit, rd, z0, last = Pit(p.shape), p.roads, p.shape.rim_z, p.shape.levels
    stops = {s.id: stop_xy(pit, s) for s in p.shovels}
    dump_roads = {d.sink.id: _dump_roads(pit, rd, d) for d in p.dumps}
    loop = crusher_loop(pit, p.crusher) if p.crusher else None
    park_from = pit.rim_point(p.park.side, p.park.at)
    park_xy = offset(park_from, OUTWARD[p.park.side], p.park.distance_m)

    # Rim road: a two-way loop around the pit, split at every junction.
    junctions = [*pit.ramp_tops(), *(pit.rim_point(d.side, d.at) for d in p.dumps), park_from]
    if loop:
        junctions += [loop[0][0], loop[1][-1]]
    roads = [road(f"rim-road-{n:02d}", flat(piece, z0), rd.rim_kmh, rd.rim_width)
             for n, piece in enumerate(ring_pieces(pit.rim_ring(), junctions), start=1)]

    # Main ramps, split where bench roads branch off.
    bench_shovels = [s for s in p.shovels if s.bench < last]
    for side in ("n", "s"):
        benches = sorted({s.bench for s in bench_shovels if s.access in (side, "loop")})
        stops_at = [pit.rim_i, *(pit.mid_inset(k) for k in benches), pit.mid_inset(last)]
        roads += [road(f"ramp-{side}-{n}", pit.ramp_piece(side, a, b), rd.ramp_kmh, p.shape.ramp_width)
                  for n, (a, b) in enumerate(pairwise(stops_at), start=1)]
    for s in bench_shovels:
        roads += _bench_roads(pit, rd, s, stops[s.id])
    roads += _floor_roads(pit, rd, [(s, stops[s.id]) for s in p.shovels if s.bench == last])

    # Raised dumps' roads, the crusher loop, then the plateau roads (stockpiles, park).
    roads += [r for d in p.dumps if d.lift_m > 0 for r in dump_roads[d.sink.id][0]]
    if loop:
        roads += [road(f"crusher-{way}", flat(half, z0), rd.crusher_kmh, rd.crusher_width, one_way=True, lanes=1)
                  for way, half in zip(("in", "out"), loop, strict=True)]
    roads += [r for d in p.dumps if d.lift_m == 0 for r in dump_roads[d.sink.id][0]]
    roads.append(road("park-access", straight(park_from, park_xy, z0, z0), rd.park_kmh, rd.park_width))

    facilities = [f for s in p.shovels for f in _stop_features(pit, s, stops[s.id])]
    for d in p.dumps:
        hx, hy = (d.half_across, d.half_along) if d.side in ("n", "s") else (d.half_along, d.half_across)
        # Dump outlines are centred on the tipping point where their road ends.
        facilities.append(sink_box(d.sink, dump_roads[d.sink.id][1], hx, hy, z0 + d.lift_m))
    if p.crusher and loop:
        facilities.append(sink_point(p.crusher.sink, (*loop[0][-1], z0)))
    facilities.append(point("park", p.park.id, (*park_xy, z0)))

    return collection(p.meta, [*pit_drawing(pit), *roads, *facilities, *gnb_features(p.gnbs),
                               *(_hazard(pit, h) for h in p.hazards)])
