"""Reading a GeoJSON mine map into typed features, with errors that name the feature and the property.

The map is a FeatureCollection in a local metric frame (x east, y north [m]); elevation [m] is the third
coordinate. Geometry is checked here (types, coordinates, ids); road connectivity is checked when the road
graph is built (``fleet.roads``), because only the graph knows which ends meet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import Polygon

from fleet.errors import InputError
from fleet.fields import Fields, read_json

KINDS = ("road", "shovel", "loading_area", "dump", "crusher", "park", "pit", "bench", "wall", "gnb", "hazard_zone")
HAZARD_KINDS = ("spillage", "light_vehicle", "person")
ROAD_MODELS = ("drawn", "matrix")


@dataclass(frozen=True)
class Road:
    id: str
    coords: np.ndarray  # (n, 3) x, y, z [m]
    speed_limit_kmh: float
    width_m: float
    one_way: bool
    lanes: int
    rolling_resistance: float
    length_m: float | None = None  # declared length [m]: matrix maps only, where it replaces the drawn length


@dataclass(frozen=True)
class Shovel:
    """A loading unit. How many passes a truck takes follows from its payload and the bucket (``fleet.loading``)."""

    id: str
    xyz: tuple[float, float, float]
    bucket_t: float  # rated payload per pass [t]
    cycle_s: float  # one dig-swing-dump-return pass [s]
    spot_s: float  # truck spotting under the shovel [s]
    material: str
    fill_factor: float = 1.0  # [-] mean bucket fill: payload per pass = bucket_t x fill_factor
    sides: int = 1  # trucks it can stand beside at once: 2 = double-side loading (one spots while one loads)
    area: str | None = None  # the loading area it belongs to; None: a loading point of its own
    mtbf_h: float | None = None  # [h] mean time between breakdowns (None: the scenario's default)
    mttr_h: float | None = None  # [h] mean time to repair

    @property
    def pass_t(self) -> float:
        """Mean payload of one pass [t]."""
        return self.bucket_t * self.fill_factor


@dataclass(frozen=True)
class LoadPoint:
    """Where a truck is sent to load: a loading area with its units, or a shovel standing alone (one unit).

    Trucks stop at the point (it is the facility on the road network) and take the first free unit."""

    id: str
    xyz: tuple[float, float, float]
    material: str
    units: tuple[Shovel, ...]


@dataclass(frozen=True)
class LoadingArea:
    id: str
    xyz: tuple[float, float, float]
    material: str | None  # None: the material its units dig


@dataclass(frozen=True)
class Dump:
    """A tipping point: a waste dump (several bays) or a crusher (throughput-limited)."""

    id: str
    kind: str  # "dump" or "crusher"
    xyz: tuple[float, float, float]
    dump_s: float
    bays: int
    accepts: tuple[str, ...]
    capacity_tph: float | None  # crusher throughput [t/h]; None for a dump
    outline: Polygon | None


@dataclass(frozen=True)
class Park:
    id: str
    xyz: tuple[float, float, float]


@dataclass(frozen=True)
class Area:
    """A polygon feature: pit outline, bench floor, wall (blocks radio line of sight) or hazard zone."""

    id: str
    kind: str
    polygon: Polygon
    elevation_m: float
    kinds: tuple[str, ...] = ()  # hazard kinds, for hazard zones
    rate_per_h: float = 0.0  # obstacles appearing per hour, for hazard zones


@dataclass(frozen=True)
class GNodeB:
    id: str
    xyz: tuple[float, float, float]
    height_m: float
    tx_power_dbm: float
    band: str


@dataclass(frozen=True)
class MineMap:
    path: str
    site: str
    name: str
    description: str
    rolling_resistance: float
    roads: tuple[Road, ...]
    shovels: tuple[Shovel, ...]
    dumps: tuple[Dump, ...]
    parks: tuple[Park, ...]
    areas: tuple[Area, ...]
    gnbs: tuple[GNodeB, ...]
    sources: tuple[str, ...] = field(default=())
    loading_areas: tuple[LoadingArea, ...] = field(default=())
    road_model: str = "drawn"  # "drawn": roads snap into a graph; "matrix": each road is one direct site-to-site link

    def load_points(self) -> list[LoadPoint]:
        """Loading areas (with their units) and shovels that stand alone, in map order."""
        out = [LoadPoint(s.id, s.xyz, s.material, (s,)) for s in self.shovels if s.area is None]
        for a in self.loading_areas:
            units = tuple(s for s in self.shovels if s.area == a.id)
            out.append(LoadPoint(a.id, a.xyz, a.material or units[0].material, units))
        return out

    def facility_ids(self) -> list[str]:
        """Facilities on the road network: load points, dumps and crushers, parks."""
        return [f.id for f in (*self.load_points(), *self.dumps, *self.parks)]

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) [m] of roads, facilities and areas."""
        pts = [r.coords[:, :2] for r in self.roads]
        pts += [np.array([f.xyz[:2]]) for f in (*self.shovels, *self.loading_areas, *self.dumps, *self.parks,
                                                *self.gnbs)]
        pts += [np.asarray(a.polygon.exterior.coords)[:, :2] for a in self.areas]
        allp = np.vstack(pts)
        return (float(allp[:, 0].min()), float(allp[:, 1].min()),
                float(allp[:, 0].max()), float(allp[:, 1].max()))


def load_map(path: str | Path) -> MineMap:
    """Load and validate a map file; raises ``InputError`` naming the feature and property at fault."""
    src = str(path)
    doc = read_json(path, "map")
    return parse_map(doc, src)


def parse_map(doc: Any, src: str) -> MineMap:
    if not isinstance(doc, Mapping) or doc.get("type") != "FeatureCollection":
        raise InputError(src, "", "not a GeoJSON FeatureCollection")
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise InputError(src, "", "'features' must be a non-empty list")
    meta = doc.get("minefleet", {})
    if not isinstance(meta, Mapping):
        raise InputError(src, "minefleet", "must be an object")
    mf = Fields(meta, src, "minefleet")
    site = mf.string("site", Path(src).stem.replace("_", "-"))
    name = mf.string("name", site)
    description = mf.string("description") if meta.get("description") else ""
    rr = mf.number("rolling_resistance", 0.02, min=0.0, max=0.3)
    sources = mf.strings("sources", ())
    road_model = mf.string("roads", "drawn", choices=ROAD_MODELS)
    mf.used.add("schema")
    mf.reject_unknown()

    parsed: dict[str, list[Any]] = {k: [] for k in KINDS}
    seen: dict[str, int] = {}
    for index, feat in enumerate(features):
        label = f"feature #{index}"
        if not isinstance(feat, Mapping) or feat.get("type") != "Feature":
            raise InputError(src, label, "not a GeoJSON Feature")
        props = feat.get("properties")
        if not isinstance(props, Mapping):
            raise InputError(src, label, "has no 'properties' object")
        fid = _feature_id(feat, props, src, label)
        kind = props.get("kind")
        where = f"feature {fid}"
        if kind not in KINDS:
            raise InputError(src, where, f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})")
        if fid in seen:
            raise InputError(src, where, f"duplicate id (also feature #{seen[fid]})")
        seen[fid] = index
        where = f"{kind} {fid}"
        geom = feat.get("geometry")
        if not isinstance(geom, Mapping):
            raise InputError(src, where, "has no geometry")
        f = Fields(props, src, where)
        f.used.update({"id", "kind", "name", "note", "description"})
        parsed[kind].append(_PARSERS[kind](fid, kind, geom, f, rr))

    if not parsed["road"]:
        raise InputError(src, "", "map has no road")
    _check_lengths(parsed["road"], road_model, src)
    if not parsed["shovel"]:
        raise InputError(src, "", "map has no shovel")
    if not parsed["dump"] and not parsed["crusher"]:
        raise InputError(src, "", "map has no dump or crusher")
    _check_loading_areas(parsed["loading_area"], parsed["shovel"], src)
    return MineMap(
        path=src, site=site, name=name, description=description, rolling_resistance=rr,
        roads=tuple(parsed["road"]), shovels=tuple(parsed["shovel"]),
        dumps=tuple(parsed["dump"] + parsed["crusher"]), parks=tuple(parsed["park"]),
        areas=tuple(parsed["pit"] + parsed["bench"] + parsed["wall"] + parsed["hazard_zone"]),
        gnbs=tuple(parsed["gnb"]), sources=sources, loading_areas=tuple(parsed["loading_area"]),
        road_model=road_model,
    )


def _usable_id(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool) and str(value) != ""


def _feature_id(feat: Mapping[str, Any], props: Mapping[str, Any], src: str, label: str) -> str:
    """The feature's id: ``properties.id``, else the Feature's own top-level ``id`` (RFC 7946 section 3.2),
    which is what GIS tools write. Both given and different would leave it unclear which one a scenario's
    start or event target names, so that is refused."""
    own, prop = feat.get("id"), props.get("id")
    if own is not None and not _usable_id(own):
        raise InputError(src, label, f"top-level 'id' must be a non-empty string or number, got {own!r}")
    if prop is None:
        if own is None:
            raise InputError(src, label, "missing 'id' (properties.id or the feature's top-level id)")
        return str(own)
    if not _usable_id(prop):
        raise InputError(src, label, "missing 'id' property")
    if own is not None and str(own) != str(prop):
        raise InputError(src, label, f"top-level id {own!r} differs from properties.id {prop!r}; "
                                     "give one id, or the same one in both")
    return str(prop)


def _check_lengths(roads: list[Road], road_model: str, src: str) -> None:
    """A declared ``length_m`` belongs to matrix maps only, and every road of one must have it.

    On a drawn map the geometry is the length; a stray ``length_m`` there would silently disagree with it.
    """
    for r in roads:
        if road_model == "drawn" and r.length_m is not None:
            raise InputError(src, f"road {r.id}", "'length_m' is only allowed on a matrix map "
                                                  "(\"minefleet\": {\"roads\": \"matrix\"}): a drawn road's length "
                                                  "is its geometry")
        if road_model == "matrix" and r.length_m is None:
            raise InputError(src, f"road {r.id}", "missing required 'length_m' (every road of a matrix map "
                                                  "declares its length)")


def _check_loading_areas(areas: list[LoadingArea], shovels: list[Shovel], src: str) -> None:
    """Every unit names an area the map has; every area has units, all digging the area's one material."""
    by_id = {a.id: a for a in areas}
    for s in shovels:
        if s.area is not None and s.area not in by_id:
            raise InputError(src, f"shovel {s.id}", f"'area' names no loading_area {s.area!r} of this map")
    for a in areas:
        units = [s for s in shovels if s.area == a.id]
        if not units:
            raise InputError(src, f"loading_area {a.id}", "has no units (no shovel names it in its 'area')")
        materials = sorted({s.material for s in units} | ({a.material} if a.material else set()))
        if len(materials) > 1:
            raise InputError(src, f"loading_area {a.id}",
                             f"its units dig different materials ({', '.join(materials)}): one area, one material")


# --- geometry -------------------------------------------------------------------------------------------

def _position(value: Any, f: Fields, elevation: float | None) -> tuple[float, float, float]:
    if (not isinstance(value, list | tuple) or len(value) not in (2, 3)
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in value)
            or not all(math.isfinite(c) for c in value)):
        raise InputError(f.source, f.where, f"bad coordinate {value!r} (expected [x, y, z] in metres)")
    if len(value) == 3:
        return float(value[0]), float(value[1]), float(value[2])
    if elevation is None:
        raise InputError(f.source, f.where, "coordinates have no elevation: give [x, y, z] or 'elevation_m'")
    return float(value[0]), float(value[1]), elevation


def _elevation_prop(f: Fields) -> float | None:
    return f.number("elevation_m", None) if "elevation_m" in f.data else None


def _point(geom: Mapping[str, Any], f: Fields) -> tuple[float, float, float]:
    elev = _elevation_prop(f)
    if geom.get("type") == "Point":
        return _position(geom.get("coordinates"), f, elev)
    if geom.get("type") == "Polygon":
        ring = _ring(geom, f)
        c = Polygon(ring[:, :2]).centroid
        return float(c.x), float(c.y), float(ring[:, 2].mean())
    raise InputError(f.source, f.where, f"geometry must be a Point, got {geom.get('type')!r}")


def _ring(geom: Mapping[str, Any], f: Fields) -> np.ndarray:
    coords = geom.get("coordinates")
    if geom.get("type") != "Polygon" or not isinstance(coords, list) or not coords:
        raise InputError(f.source, f.where, f"geometry must be a Polygon, got {geom.get('type')!r}")
    elev = _elevation_prop(f)
    ring = np.array([_position(c, f, elev if elev is not None else 0.0) for c in coords[0]])
    if len(ring) < 4:
        raise InputError(f.source, f.where, "polygon ring needs at least 4 positions")
    if not Polygon(ring[:, :2]).is_valid:
        raise InputError(f.source, f.where, "polygon is not valid (self-intersecting or degenerate)")
    return ring


def _finish(f: Fields) -> None:
    f.reject_unknown()


# --- one parser per kind -------------------------------------------------------------------------------

def _road(fid: str, kind: str, geom: Mapping[str, Any], f: Fields, rr: float) -> Road:
    coords = geom.get("coordinates")
    if geom.get("type") != "LineString" or not isinstance(coords, list) or len(coords) < 2:
        raise InputError(f.source, f.where, "geometry must be a LineString with at least 2 positions")
    elev = _elevation_prop(f)
    xyz = np.array([_position(c, f, elev) for c in coords], dtype=float)
    step = np.hypot(*np.diff(xyz[:, :2], axis=0).T)
    if np.any(step < 1e-6):
        raise InputError(f.source, f.where, "has two consecutive identical positions")
    road = Road(
        id=fid, coords=xyz,
        speed_limit_kmh=f.number("speed_limit_kmh", positive=True, max=120.0),
        width_m=f.number("width_m", 30.0, positive=True),
        one_way=f.boolean("one_way", False),
        lanes=f.integer("lanes", 2, min=1, max=4),
        rolling_resistance=f.number("rolling_resistance", rr, min=0.0, max=0.3),
        length_m=f.number("length_m", positive=True) if "length_m" in f.data else None,
    )
    _finish(f)
    return road


def _shovel(fid: str, kind: str, geom: Mapping[str, Any], f: Fields, rr: float) -> Shovel:
    if "passes" in f.data:
        raise f.error("passes", "is not a shovel property: the passes a truck takes follow from its payload and "
                                "'bucket_t' x 'fill_factor'")
    shovel = Shovel(
        id=fid, xyz=_point(geom, f),
        bucket_t=f.number("bucket_t", positive=True),
        cycle_s=f.number("cycle_s", positive=True),
        spot_s=f.number("spot_s", 30.0, min=0.0),
        material=f.string("material", "coal"),
        fill_factor=f.number("fill_factor", 1.0, positive=True, max=1.5),
        sides=f.integer("sides", 1, min=1, max=2),
        area=f.string("area") if "area" in f.data else None,
        mtbf_h=f.number("mtbf_h", positive=True) if "mtbf_h" in f.data else None,
        mttr_h=f.number("mttr_h", positive=True) if "mttr_h" in f.data else None,
    )
    _finish(f)
    return shovel


def _loading_area(fid: str, kind: str, geom: Mapping[str, Any], f: Fields, rr: float) -> LoadingArea:
    area = LoadingArea(id=fid, xyz=_point(geom, f),
                       material=f.string("material") if "material" in f.data else None)
    _finish(f)
    return area


def _dump(fid: str, kind: str, geom: Mapping[str, Any], f: Fields, rr: float) -> Dump:
    outline = Polygon(_ring(geom, f)[:, :2]) if geom.get("type") == "Polygon" else None
    dump = Dump(
        id=fid, kind=kind, xyz=_point(geom, f),
        dump_s=f.number("dump_s", positive=True),
        bays=f.integer("bays", 1 if kind == "crusher" else 2, min=1, max=50),
        accepts=f.strings("accepts", ("coal",) if kind == "crusher" else ("coal", "waste")),
        capacity_tph=f.number("capacity_tph", positive=True) if kind == "crusher" else None,
        outline=outline,
    )
    _finish(f)
    return dump


def _park(fid: str, kind: str, geom: Mapping[str, Any], f: Fields, rr: float) -> Park:
    park = Park(id=fid, xyz=_point(geom, f))
    _finish(f)
    return park


def _area(fid: str, kind: str, geom: Mapping[str, Any], f: Fields, rr: float) -> Area:
    ring = _ring(geom, f)
    elev = f.number("elevation_m", float(ring[:, 2].mean()))
    kinds: tuple[str, ...] = ()
    rate = 0.0
    if kind == "hazard_zone":
        kinds = f.strings("kinds", HAZARD_KINDS)
        bad = [k for k in kinds if k not in HAZARD_KINDS]
        if bad:
            raise f.error("kinds", f"has unknown hazard {bad[0]!r} (expected {', '.join(HAZARD_KINDS)})")
        rate = f.number("rate_per_h", 1.0, min=0.0)
    area = Area(id=fid, kind=kind, polygon=Polygon(ring[:, :2]), elevation_m=elev, kinds=kinds,
                rate_per_h=rate)
    _finish(f)
    return area


def _gnb(fid: str, kind: str, geom: Mapping[str, Any], f: Fields, rr: float) -> GNodeB:
    gnb = GNodeB(
        id=fid, xyz=_point(geom, f),
        height_m=f.number("height_m", 25.0, positive=True),
        tx_power_dbm=f.number("tx_power_dbm", 46.0, min=-30.0, max=80.0),
        band=f.string("band", "n78"),
    )
    _finish(f)
    return gnb


_PARSERS = {
    "road": _road, "shovel": _shovel, "loading_area": _loading_area, "dump": _dump, "crusher": _dump, "park": _park,
    "pit": _area, "bench": _area, "wall": _area, "hazard_zone": _area, "gnb": _gnb,
}
