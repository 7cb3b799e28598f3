"""A parametric strip mine: a long, narrow cut with the haul road on its floor, ramps up both end walls.

Why this shape: it is the layout of the shipped ``strip_mine`` map (maps/SOURCES.md) with every figure a
parameter. The haul road runs along the strip's floor (y = 0, x from 0 to ``length_m``, the floor dipping from
``floor_w_z`` to ``floor_e_z``) as single-lane sections joined by two-lane passing bays, so loaded and empty
trucks must wait for each other at the bays (``single_lane`` False makes it two-lane throughout). Load stops sit
on spurs off the bay centres toward the coal face; a bay with a stop is split at its centre. Coal goes up the
west ramp to a crusher (and a stockpile, if any), waste up the east ramp to a raised dump (a strip with no waste
has its park there instead).
Cross-section: the coal floor from y = -50 to 100 m, the highwall (north, 100-120 m) and the spoil ridge (south,
-110 to -50 m).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import box

from maps.generator.features import (
    Feature,
    GnbSite,
    MapMeta,
    Sink,
    Unit,
    Zone,
    collection,
    gnb_features,
    load_stop,
    point,
    polygon,
    road,
    sink_box,
    sink_point,
    zone_feature,
)
from maps.generator.geometry import XY, XYZ, join, ramp_to, straight

FLOOR_Y = (-50.0, 100.0)  # [m] the coal floor across the strip
HIGHWALL_Y = (100.0, 120.0)  # [m] north
RIDGE_Y = (-110.0, -50.0)  # [m] spoil ridge, south
PIT_MARGIN_M = 10.0  # [m] the drawn pit outline beyond each ramp's head
AXIS_STEP_M = 250.0  # [m] vertex spacing of the strip road (it carries the floor's dip)


@dataclass(frozen=True, kw_only=True)
class StripShovel:
    """A load stop off one passing bay: one shovel, or a loading area with its units toward the face."""

    id: str
    bay: int  # 1-based index into ``StripParams.bays``
    material: str
    units: tuple[Unit, ...]


@dataclass(frozen=True, kw_only=True)
class StripDump:
    """The raised waste dump beyond the east ramp's head: flat run, access ramp, dump top, drawn as a box."""

    sink: Sink
    lift_m: float
    grade: float
    flat_m: float
    top_m: float
    half_x: float
    half_y: float


@dataclass(frozen=True, kw_only=True)
class StripRoads:
    """Road standards: posted limits [km/h] and widths [m]."""

    lane_kmh: float = 40
    lane_width: float = 15  # a single-lane section (about 1.5 x a large truck's width)
    width: float = 30  # every two-lane road
    ramp_kmh: float = 25
    surface_kmh: float = 45
    approach_kmh: float = 30  # crusher, stockpile and park roads
    dump_access_kmh: float = 35
    dump_top_kmh: float = 20
    spur_kmh: float = 15
    rr_dump: float = 0.035


@dataclass(frozen=True, kw_only=True)
class StripParams:
    """Everything a strip mine map is built from."""

    meta: MapMeta
    surface_z: float  # [m asl] flat ground around the strip
    length_m: float
    floor_w_z: float  # [m asl] the floor at each end
    floor_e_z: float
    bays: tuple[float, ...]  # [m] passing-bay centres along the strip
    bay_half: float  # [m] half length of a bay
    ramp_grade: float  # end ramps
    ramp_step_m: float  # [m] vertex spacing on the ramps
    shovel_offset_y: float  # [m] load stops off the strip road, toward the coal face
    single_lane: bool
    shovels: tuple[StripShovel, ...]
    west_surface_m: float  # [m] west ramp head to the junction of the crusher, park (and stockpile) roads
    crusher: Sink  # the coal sink at the west end: a crusher (or a stockpile: a Sink without capacity)
    crusher_m: float  # [m] junction to crusher, westward
    park_y: float  # [m] junction to park, northward (east of the east ramp's head when there is no dump)
    stockpile: Sink | None = None  # a coal stockpile south of the junction
    stockpile_m: float = 250.0
    dump: StripDump | None
    ridge_h: float  # [m] spoil ridge above the surface
    gnbs: tuple[GnbSite, ...]
    hazards: tuple[Zone, ...]  # level 0: the surface; 1: the strip floor
    roads: StripRoads = field(default_factory=StripRoads)


class Strip:
    """The strip's floor and road axis."""

    def __init__(self, p: StripParams) -> None:
        self.p = p

    def floor_z(self, x: float, _y: float = 0.0) -> float:
        """Elevation of the coal top / pit floor along the strip [m asl]."""
        p = self.p
        t = min(max(x / p.length_m, 0.0), 1.0)
        return p.floor_w_z + (p.floor_e_z - p.floor_w_z) * t

    def axis(self, x0: float, x1: float) -> list[XYZ]:
        """The strip road along y = 0 from x0 to x1, a vertex every <= AXIS_STEP_M to carry the dip."""
        return [(x, y, self.floor_z(x)) for x, y, _ in straight((x0, 0.0), (x1, 0.0), 0, 0, AXIS_STEP_M)]

    def ramp_heads(self) -> tuple[XY, XY]:
        """Where the west and east end ramps reach the surface."""
        p = self.p
        zs, zw, ze = p.surface_z, self.floor_z(0.0), self.floor_z(p.length_m)
        return (-(zs - zw) / p.ramp_grade, 0.0), (p.length_m + (zs - ze) / p.ramp_grade, 0.0)


def _strip_roads(s: Strip, stop_bays: set[int]) -> list[Feature]:
    """Alternating single-lane sections and passing bays; a bay with a stop is split where its spur leaves."""
    p, rd = s.p, s.p.roads
    lanes, lane_w = (1, rd.lane_width) if p.single_lane else (2, rd.width)
    feats: list[Feature] = []
    x_prev = 0.0
    for n, xc in enumerate(p.bays, start=1):
        feats.append(road(f"strip-lane-{n}", s.axis(x_prev, xc - p.bay_half), rd.lane_kmh, lane_w, lanes=lanes))
        if n in stop_bays:
            feats.append(road(f"bay-{n}-w", s.axis(xc - p.bay_half, xc), rd.lane_kmh, rd.width))
            feats.append(road(f"bay-{n}-e", s.axis(xc, xc + p.bay_half), rd.lane_kmh, rd.width))
        else:
            feats.append(road(f"bay-{n}", s.axis(xc - p.bay_half, xc + p.bay_half), rd.lane_kmh, rd.width))
        x_prev = xc + p.bay_half
    feats.append(road(f"strip-lane-{len(p.bays) + 1}", s.axis(x_prev, p.length_m), rd.lane_kmh, lane_w,
                      lanes=lanes))
    return feats


def build(p: StripParams) -> dict[str, Any]:
    """The map document of one strip mine."""
    s, rd, zs = Strip(p), p.roads, p.surface_z
    feats = _strip_roads(s, {sh.bay for sh in p.shovels})

    # End ramps up the end walls to the surface.
    zw, ze = s.floor_z(0.0), s.floor_z(p.length_m)
    w_top, e_top = s.ramp_heads()
    feats.append(road("ramp-west", ramp_to((0.0, 0.0), w_top, zw, zs, p.ramp_step_m), rd.ramp_kmh, rd.width))
    feats.append(road("ramp-east", ramp_to((p.length_m, 0.0), e_top, ze, zs, p.ramp_step_m), rd.ramp_kmh,
                      rd.width))

    # West end: crusher, park (and stockpile). East end: the raised waste dump.
    # Without a dump the park stands beyond the east ramp's head, so that ramp still leads somewhere.
    w_junction = (w_top[0] - p.west_surface_m, 0.0)
    crusher_xy = (w_junction[0] - p.crusher_m, 0.0)
    park_from = w_junction if p.dump else e_top
    park_xy = (park_from[0], p.park_y) if p.dump else (e_top[0] + p.park_y, 0.0)
    stock_xy = (w_junction[0], -p.stockpile_m)
    feats += [
        road("surface-west", straight(w_top, w_junction, zs, zs), rd.surface_kmh, rd.width),
        road("crusher-approach", straight(w_junction, crusher_xy, zs, zs), rd.approach_kmh, rd.width),
        road("park-access", straight(park_from, park_xy, zs, zs), rd.approach_kmh, rd.width),
    ]
    if p.stockpile:
        feats.append(road("stockpile-access", straight(w_junction, stock_xy, zs, zs), rd.approach_kmh, rd.width))
    dump_xy: XY | None = None
    if p.dump:
        d = p.dump
        e1 = (e_top[0] + d.flat_m, 0.0)
        e2 = (e1[0] + d.lift_m / d.grade, 0.0)
        dump_xy = (e2[0] + d.top_m, 0.0)
        feats += [
            road("dump-access", join(straight(e_top, e1, zs, zs), ramp_to(e1, e2, zs, zs + d.lift_m, p.ramp_step_m)),
                 rd.dump_access_kmh, rd.width),
            road("dump-top", straight(e2, dump_xy, zs + d.lift_m, zs + d.lift_m), rd.dump_top_kmh, rd.width,
                 rolling_resistance=rd.rr_dump),
        ]

    # Shovel spurs: two-lane loading roads off the bay centres.
    stops = {sh.id: p.bays[sh.bay - 1] for sh in p.shovels}
    for sh in p.shovels:
        xc = stops[sh.id]
        z = s.floor_z(xc)
        feats.append(road(f"spur-{sh.id.removeprefix('shovel-')}", [(xc, 0.0, z), (xc, p.shovel_offset_y, z)],
                          rd.spur_kmh, rd.width))

    facilities: list[Feature] = []
    for sh in p.shovels:
        xc = stops[sh.id]
        facilities += load_stop(sh.id, (xc, p.shovel_offset_y, s.floor_z(xc)), sh.material, sh.units,
                                (0.0, 1.0), (1.0, 0.0), unit_offset_m=min(25.0, FLOOR_Y[1] - p.shovel_offset_y - 5))
    facilities.append(sink_point(p.crusher, (*crusher_xy, zs)))
    if p.dump and dump_xy:
        facilities.append(sink_box(p.dump.sink, dump_xy, p.dump.half_x, p.dump.half_y, zs + p.dump.lift_m))
    if p.stockpile:
        facilities.append(sink_box(p.stockpile, stock_xy, 100.0, 100.0, zs))
    facilities.append(point("park", "park-west" if p.dump else "park-east", (*park_xy, zs)))

    # Drawing and radio: the strip, its coal floor, the highwall (north) and spoil ridge (south).
    x_w, x_e = w_top[0] - PIT_MARGIN_M, e_top[0] + PIT_MARGIN_M
    drawing = [
        polygon("pit", "pit", box(x_w, RIDGE_Y[0], x_e, HIGHWALL_Y[1]), zs, elevation_m=zs),
        polygon("bench", "coal-floor", box(0.0, FLOOR_Y[0], p.length_m, FLOOR_Y[1]), s.floor_z,
                elevation_m=round((zw + ze) / 2, 1)),
        polygon("wall", "highwall", box(0.0, HIGHWALL_Y[0], p.length_m, HIGHWALL_Y[1]), zs, elevation_m=zs),
        polygon("wall", "spoil-ridge", box(0.0, RIDGE_Y[0], p.length_m, RIDGE_Y[1]), zs + p.ridge_h,
                elevation_m=zs + p.ridge_h),
    ]
    hazards = [zone_feature(h, s.floor_z if h.level == 1 else zs) for h in p.hazards]
    return collection(p.meta, [*drawing, *feats, *facilities, *gnb_features(p.gnbs), *hazards])
