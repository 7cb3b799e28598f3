"""Random mines for training and testing: ``random_mine(seed)`` draws an open pit or a strip mine from seeded ranges.

Why: a dispatch planner trained on one or two hand-drawn mines learns those mines. These vary what dispatch
depends on: 2-8 shovels (sometimes grouped in loading areas of 2-3 units), 1-4 sinks, mixed coal and waste with
crushers that take coal only, pits 40-120 m deep, ramps of 6-10 %, haul roads from a few to tens of kilometres,
single-lane sections. Every mine is built by the same kind modules as the shipped maps, so it obeys the same
layout rules; the real loader checks it (``maps.generator.check``).

The same seed gives the same document on any Python (``maps.generator.draws``).
"""

from __future__ import annotations

import math
from typing import Any

from shapely.geometry import LineString

from maps.generator import open_pit, strip_mine
from maps.generator.draws import (
    Draw,
    draw_coal_count,
    draw_hazard_kinds,
    draw_sinks,
    draw_stop_sizes,
    draw_unit,
    generated_meta,
)
from maps.generator.features import GnbSite, Sink, Unit, Zone
from maps.generator.geometry import XY
from maps.generator.open_pit import OpenPitParams, PitShovel, RampZone, RimCrusher, RimDump, RimPark
from maps.generator.pit import Pit, PitShape
from maps.generator.strip_mine import StripDump, StripParams, StripShovel

OPEN_PIT_SHARE = 0.6  # of random mines; the rest are strip mines
RAMP_CLEAR_M = 250.0  # [m] a bench stop stays this far along its wall from a ramp crossing that bench
SIDES = ("n", "e", "s", "w")


def random_mine(seed: int) -> dict[str, Any]:
    """The map document of random mine ``seed``."""
    params = random_params(seed)
    return open_pit.build(params) if isinstance(params, OpenPitParams) else strip_mine.build(params)


def random_params(seed: int) -> OpenPitParams | StripParams:
    """The parameters random mine ``seed`` is built from."""
    d = Draw(seed)
    return _open_pit(d, seed) if d.chance(OPEN_PIT_SHARE) else _strip(d, seed)


# --------------------------------------------------------------------------- open pit


def _pit_shape(d: Draw) -> PitShape:
    """A pit whose ramps fit its walls: sized from the ramps' run, not the other way round."""
    bench_h = float(d.integer(10, 16))
    levels = d.integer(max(3, math.ceil(40 / bench_h)), math.floor(120 / bench_h))
    grade = d.uniform(0.06, 0.10, 0.005)
    run = bench_h / grade  # [m] of ramp per bench
    step = d.uniform(45, min(80.0, run / 1.6))  # the ramp keeps climbing along the wall, not across it
    face_w = round(bench_h * 0.47, 1)  # ~65 deg faces
    corner_r, offset = d.uniform(100, 200, 10), d.uniform(50, 80, 5)
    mid_last = step * (levels - 1) + face_w + (step - face_w) / 2
    along_all = levels * math.sqrt(run**2 - step**2)  # [m] along the wall from crest to bottom
    foot_x = d.uniform(100, 400, 10)  # the north ramp's foot, east of the pit's centre line
    x0 = along_all - foot_x
    along_rim = (-offset + (step - face_w) / 2) * math.sqrt(run**2 - step**2) / step
    floor_x = foot_x + d.uniform(80, 250, 10)
    hx = max(x0 - along_rim + corner_r + 150, floor_x + 300 + mid_last)
    hy = mid_last + corner_r + d.uniform(80, 300, 10)
    hx = round(max(hx, hy + 200) + d.uniform(0, 600, 10), -1)
    return PitShape(rim_z=d.uniform(300, 1500, 10), bench_h=bench_h, levels=levels, step=step, face_w=face_w,
                    rim_hx=hx, rim_hy=hy, corner_r=corner_r, ramp_grade=grade, ramp_x0=x0,
                    ramp_width=d.choice((30.0, 35.0)), rim_road_offset=offset, floor_x=floor_x)


def _bench_stop(d: Draw, pit: Pit, k: int, fid: str, material: str, units: tuple[Unit, ...]) -> PitShovel:
    """A stop on bench k: on a wall, clear of the ramps, reached from the nearer ramp or by a loop."""
    s, single = pit.p, len(units) == 1
    half_x, half_y = s.rim_hx - pit.mid_inset(k) - s.corner_r - 60, s.rim_hy - pit.mid_inset(k) - s.corner_r - 60
    half_floor = (s.step - s.face_w) / 2
    toe_m = d.uniform(5, half_floor - 5) if single and d.chance(0.3) else None
    lanes = 1 if d.chance(0.2) else 2  # a single-lane bench road (a loop keeps two lanes)
    for _ in range(50):
        wall = d.choice(("e", "w", "e", "w", "n", "s"))
        if wall in ("e", "w"):
            along = d.uniform(-half_y, half_y, 10)
            if abs(along) <= half_y / 2 and d.chance(0.4):
                return PitShovel(id=fid, bench=k, material=material, units=units, wall=wall, along=along,
                                 toe_m=toe_m, access="loop")
        else:
            along = d.uniform(-half_x, half_x, 10)
            if abs(along - pit.junction(wall, k)[0]) < RAMP_CLEAR_M:
                continue
        centre = pit.wall_xy(wall, pit.mid_inset(k), along)
        access = min(("n", "s"), key=lambda side: _arc_m(pit, k, pit.junction(side, k), centre))
        return PitShovel(id=fid, bench=k, material=material, units=units, wall=wall, along=along, toe_m=toe_m,
                         access=access, lanes=lanes)
    raise RuntimeError(f"no room on bench {k} for {fid}")


def _arc_m(pit: Pit, k: int, a: XY, b: XY) -> float:
    """Length of the bench road from a to b [m]."""
    return LineString(pit.bench_road(k, a, b)).length


def _pit_stops(d: Draw, pit: Pit) -> list[PitShovel]:
    """One stop per bench at most (benches 2 and down) and one at each end of the pit bottom; coal deepest."""
    s = pit.p
    slots: list[tuple[int, str]] = [(k, "") for k in range(2, s.levels)] + [(s.levels, "e"), (s.levels, "w")]
    sizes = draw_stop_sizes(d, d.integer(2, 8), len(slots))
    chosen = sorted(d.sample(slots, len(sizes)), key=lambda kv: (-kv[0], kv[1]))  # deepest first
    n_coal = draw_coal_count(d, len(sizes))
    bottom_hx = s.rim_hx - pit.mid_inset(s.levels)
    stops = []
    for n, ((k, end), size) in enumerate(zip(chosen, sizes, strict=True)):
        material = "coal" if n < n_coal else "waste"
        units = tuple(draw_unit(d) for _ in range(size))
        fid = f"{'shovel' if size == 1 else 'area'}-{material[0]}{k:02d}{end}"
        if k == s.levels:
            x = d.uniform(s.floor_x + 150, bottom_hx - 40, 10)
            stops.append(PitShovel(id=fid, bench=k, material=material, units=units, along=x if end == "e" else -x,
                                   lanes=1 if d.chance(0.2) else 2))
        else:
            stops.append(_bench_stop(d, pit, k, fid, material, units))
    return stops[::-1]  # listed from the top bench down


class _RimSlots:
    """Places sites on the straight sides of the rim road without overlapping each other or a ramp's head."""

    def __init__(self, d: Draw, pit: Pit) -> None:
        self.d, s = d, pit.p
        self.half = {"n": s.rim_hx - s.corner_r, "s": s.rim_hx - s.corner_r,
                     "e": s.rim_hy - s.corner_r, "w": s.rim_hy - s.corner_r}
        (xn, _), (xs, _) = pit.ramp_tops()
        clear = s.ramp_width + 60
        self.taken: dict[str, list[tuple[float, float]]] = {
            "n": [(xn - clear, xn + clear)], "s": [(xs - clear, xs + clear)], "e": [], "w": []}

    def place(self, half_width: float) -> tuple[str, float] | None:
        """(side, along) for a site ``half_width`` m either side of its road, or None if none found."""
        for _ in range(60):
            side = self.d.choice(SIDES)
            room = self.half[side] - half_width - 40
            if room <= 0:
                continue
            at = self.d.uniform(-room, room, 10)
            if all(at + half_width + 40 < lo or at - half_width - 40 > hi for lo, hi in self.taken[side]):
                self.taken[side].append((at - half_width, at + half_width))
                return side, at
        return None


def _rim_sites(d: Draw, pit: Pit, stops: list[PitShovel], seed: int) -> tuple[list[RimDump], RimCrusher | None,
                                                                               RimPark]:
    """Dumps, stockpile, crusher and park around the rim road; every material dug gets a sink."""
    waste, stock, crusher = draw_sinks(d, {s.material for s in stops}, "1")
    slots = _RimSlots(d, pit)
    rim_crusher = None
    if crusher:
        half_w, depth = d.uniform(120, 220, 10), d.uniform(200, 400, 10)
        where = slots.place(half_w + 20)
        if where:
            rim_crusher = RimCrusher(sink=crusher, side=where[0], at=where[1], depth_m=depth, entry_m=0.75 * depth,
                                     half_w=half_w, chamfer_m=half_w / 2)
    if crusher and rim_crusher is None and not stock:  # no room for the crusher loop: a stockpile instead
        stock = [Sink(id="stockpile-rom", dump_s=crusher.dump_s, bays=2, accepts=("coal",))]
    dumps: list[RimDump] = []
    for sink in waste:
        lift, across = d.uniform(15, 40), d.uniform(150, 400, 10)
        where = slots.place(across) or slots.place(across / 2)
        grade = d.uniform(0.06, 0.10, 0.005)
        single = d.chance(0.2)  # a single-lane dump access
        if where:
            dumps.append(RimDump(sink=sink, side=where[0], at=where[1], flat_m=d.uniform(100, 2500, 10), lift_m=lift,
                                 grade=grade, ramp_step_m=round(3 / grade, 1), top_m=d.uniform(100, 400, 10),
                                 half_along=d.uniform(150, 250, 10), half_across=across, lanes=1 if single else 2,
                                 width_m=15 if single else 35))
    for sink in stock:
        where = slots.place(160)
        if where:
            dumps.append(RimDump(sink=sink, side=where[0], at=where[1], flat_m=d.uniform(150, 800, 10),
                                 half_along=150, half_across=150, access_kmh=30, width_m=30))
    where = slots.place(60)
    accepted = {m for r in dumps for m in r.sink.accepts} | ({"coal"} if rim_crusher else set())
    if where is None or not {s.material for s in stops} <= accepted:
        raise RuntimeError(f"random mine {seed}: no room for the sites around the rim road")
    return dumps, rim_crusher, RimPark(id="park-1", side=where[0], at=where[1], distance_m=d.uniform(150, 500, 10))


def _pit_gnbs(d: Draw, pit: Pit) -> tuple[GnbSite, ...]:
    """Three or four sites on the plateau, 80 m outside the rim road, on different sides."""
    s = pit.p
    out = []
    for n, side in enumerate(d.sample(SIDES, d.integer(3, 4)), start=1):
        along = d.uniform(-0.8, 0.8, 0.01) * (s.rim_hx if side in ("n", "s") else s.rim_hy)
        out.append(GnbSite(id=f"gnb-{n}", xyz=(*pit.wall_xy(side, -s.rim_road_offset - 80, along), s.rim_z),
                           height_m=d.uniform(20, 35)))
    return tuple(out)


def _pit_hazards(d: Draw, pit: Pit, stops: list[PitShovel]) -> tuple[Zone | RampZone, ...]:
    """Spillage on a stretch of ramp (mostly), and zones around up to two load stops."""
    hazards: list[Zone | RampZone] = []
    if d.chance(0.7):
        k = d.integer(1, pit.p.levels - 1)
        hazards.append(RampZone(id="hz-ramp", side=d.choice(("n", "s")), bench_from=k, bench_to=k + 1,
                                kinds=("spillage",), rate_per_h=d.uniform(0.1, 1.0, 0.1)))
    for s in d.sample(stops, d.integer(0, min(2, len(stops)))):
        x, y = open_pit.stop_xy(pit, s)
        hazards.append(Zone(id=f"hz-{s.id}", box=(x - 80, y - 80, x + 80, y + 80), kinds=draw_hazard_kinds(d),
                            rate_per_h=d.uniform(0.1, 1.0, 0.1), level=s.bench))
    return tuple(hazards)


def _open_pit(d: Draw, seed: int) -> OpenPitParams:
    """An open pit: its shape first, then load stops on its benches, then the sites around its rim."""
    shape = _pit_shape(d)
    pit = Pit(shape)
    stops = _pit_stops(d, pit)
    dumps, crusher, park = _rim_sites(d, pit, stops, seed)
    gnbs, hazards = _pit_gnbs(d, pit), _pit_hazards(d, pit, stops)
    units = sum(len(s.units) for s in stops)
    description = (f"A generated open pit: {2 * shape.rim_hx / 1000:.1f} x {2 * shape.rim_hy / 1000:.1f} km at the "
                   f"crest, {shape.levels} benches of {shape.bench_h:g} m, {shape.ramp_grade * 100:.1f} % ramps; "
                   f"{units} shovels at {len(stops)} load stops, {len(dumps) + (crusher is not None)} sinks.")
    return OpenPitParams(meta=generated_meta("open-pit", seed, description), shape=shape, shovels=tuple(stops),
                         dumps=tuple(dumps), crusher=crusher, park=park, gnbs=gnbs, hazards=hazards)


# --------------------------------------------------------------------------- strip mine


def _strip(d: Draw, seed: int) -> StripParams:
    """A strip 3-10 km long, 30-90 m deep, bays at least 450 m apart, one stop per bay at most."""
    length = d.uniform(3000, 10000, 100)
    n_units = d.integer(2, 8)  # drawn ahead of the bays so a long strip can still hold few stops
    spacing_min = 450.0
    n_bays = d.integer(max(2, math.ceil(n_units / 3)), max(2, int(length / spacing_min) - 1))
    spacing = length / (n_bays + 1)
    bay_half = d.uniform(40, min(80.0, spacing / 4), 5)
    bays = tuple(round(spacing * (n + 1) + d.uniform(-0.15, 0.15, 0.01) * spacing, -1) for n in range(n_bays))
    surface = d.uniform(200, 1500, 10)
    floor_w = surface - d.uniform(30, 90)
    floor_e = floor_w - d.uniform(-10, 10)
    offset_y = d.uniform(40, 70, 5)
    sizes = draw_stop_sizes(d, n_units, n_bays)
    chosen = sorted(d.sample(range(1, n_bays + 1), len(sizes)))
    n_coal = draw_coal_count(d, len(sizes))
    coal_at = set(d.sample(range(len(sizes)), n_coal))
    shovels = []
    for n, (bay, size) in enumerate(zip(chosen, sizes, strict=True)):
        material = "coal" if n in coal_at else "waste"
        fid = f"{'shovel' if size == 1 else 'area'}-{material[0]}{bay}"
        figures = tuple(draw_unit(d) for _ in range(size))
        shovels.append(StripShovel(id=fid, bay=bay, material=material, units=figures))
    waste, stock, crusher = draw_sinks(d, {s.material for s in shovels}, "west")
    west = crusher or stock[0]  # the coal sink at the west end: a crusher, else a stockpile
    dump = None
    if waste:  # a strip has one waste dump, beyond its east ramp
        grade = d.uniform(0.06, 0.10, 0.005)
        dump = StripDump(sink=waste[0], lift_m=d.uniform(10, 30), grade=grade, flat_m=d.uniform(100, 2500, 10),
                         top_m=d.uniform(100, 400, 10), half_x=d.uniform(150, 250, 10), half_y=d.uniform(200, 400, 10))
    grade = d.uniform(0.06, 0.10, 0.005)
    x_gnbs = max(2, round(length / 2500))
    gnbs = tuple(GnbSite(id=f"gnb-{n}", xyz=(length * (n - 0.5) / x_gnbs, 150.0, surface), height_m=25)
                 for n in range(1, x_gnbs + 1))
    hazards = [Zone(id=f"hz-{s.id}", box=(bays[s.bay - 1] - 100, -30, bays[s.bay - 1] + 100, offset_y + 30),
                    kinds=draw_hazard_kinds(d), rate_per_h=d.uniform(0.1, 1.0, 0.1), level=1)
               for s in d.sample(shovels, d.integer(0, min(2, len(shovels))))]
    single_lane = d.chance(0.75)
    stockpile = stock[0] if stock and crusher else None
    units = sum(len(s.units) for s in shovels)
    sinks = 1 + (stockpile is not None) + (dump is not None)
    description = (f"A generated strip mine: {length / 1000:.1f} km long, {surface - floor_w:g} m deep, "
                   f"{n_bays} passing bays, {'single' if single_lane else 'two'}-lane strip road; {units} "
                   f"shovels at {len(shovels)} load stops, {sinks} sinks.")
    return StripParams(
        meta=generated_meta("strip-mine", seed, description), surface_z=surface, length_m=length, floor_w_z=floor_w,
        floor_e_z=floor_e, bays=bays, bay_half=bay_half, ramp_grade=grade, ramp_step_m=round(3 / grade, 1),
        shovel_offset_y=offset_y, single_lane=single_lane, shovels=tuple(shovels),
        west_surface_m=d.uniform(100, 1500, 10), crusher=west, crusher_m=d.uniform(150, 600, 10),
        park_y=d.uniform(150, 400, 10), stockpile=stockpile, stockpile_m=d.uniform(200, 600, 10), dump=dump,
        ridge_h=d.uniform(10, 25), gnbs=gnbs, hazards=tuple(hazards))
