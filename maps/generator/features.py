"""GeoJSON feature builders and the small specs every mine kind shares (units, sinks, radio sites, hazard zones).

One place writes features so every map, shipped or generated, rounds coordinates and orders properties the same
way: the shipped files are reproduced byte for byte and diff cleanly. The property names are the loader's
(``fleet.mapfile``); no rule is checked here, the loader checks (``maps.generator.check``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Polygon, box
from shapely.geometry.polygon import orient

from maps.generator.geometry import XY, XYZ, ZFunc, offset

SCHEMA = "minefleet-map/1"
Feature = dict[str, Any]


# --------------------------------------------------------------------------- specs shared by the mine kinds


@dataclass(frozen=True, kw_only=True)
class MapMeta:
    """The map's ``minefleet`` member: site id, title, description, default rolling resistance, sources."""

    site: str
    name: str
    description: str
    rolling_resistance: float
    sources: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Unit:
    """One loading unit's figures (a shovel); the passes a truck takes follow from its payload and the bucket."""

    bucket_t: float  # [t] rated payload per pass
    cycle_s: float  # [s] per pass
    spot_s: float = 30  # [s] spotting under the shovel
    fill_factor: float = 1.0  # written only when not 1.0
    sides: int = 1  # 2: double-side loading; written only when 2


@dataclass(frozen=True, kw_only=True)
class Sink:
    """A dump or a crusher's figures (a crusher has a throughput); where it stands is the mine kind's business."""

    id: str
    dump_s: float
    bays: int
    accepts: tuple[str, ...]
    capacity_tph: float | None = None  # a crusher's throughput [t/h]; None: a dump

    @property
    def kind(self) -> str:
        """The feature kind: a crusher has a throughput, a dump has none."""
        return "dump" if self.capacity_tph is None else "crusher"

    def props(self) -> dict[str, Any]:
        """The loader's properties, in the order the shipped files have them."""
        out: dict[str, Any] = {"dump_s": self.dump_s}
        if self.capacity_tph is not None:
            out["capacity_tph"] = self.capacity_tph
        return {**out, "bays": self.bays, "accepts": list(self.accepts)}


@dataclass(frozen=True, kw_only=True)
class GnbSite:
    """A 5G base station: position [m], mast height [m], transmit power [dBm], band."""

    id: str
    xyz: XYZ
    height_m: float
    tx_power_dbm: float = 46
    band: str = "n78"


@dataclass(frozen=True, kw_only=True)
class Zone:
    """A box-shaped hazard zone (x0, y0, x1, y1) [m] on one level of the mine.

    What a level's elevation is belongs to the mine kind: a bench number in an open pit (0: the plateau), the
    surface (0) or the strip floor (1) in a strip mine.
    """

    id: str
    box: tuple[float, float, float, float]
    kinds: tuple[str, ...]
    rate_per_h: float
    level: int = 0


# --------------------------------------------------------------------------- feature builders


def _r(v: float) -> float:
    """Round to 1 cm: equal junctions stay bit-identical and the files stay small."""
    return round(float(v), 2) + 0.0  # + 0.0 turns -0.0 into 0.0


def _pos(p: Sequence[float]) -> list[float]:
    return [_r(p[0]), _r(p[1]), _r(p[2])]


def road(fid: str, coords: Sequence[XYZ], speed_kmh: float, width_m: float, *, one_way: bool = False,
         lanes: int = 2, rolling_resistance: float | None = None) -> Feature:
    """A haul road; for a one-way road the direction of travel is the coordinate order."""
    props: dict[str, Any] = {"kind": "road", "id": fid, "speed_limit_kmh": speed_kmh, "width_m": width_m,
                             "one_way": one_way, "lanes": lanes}
    if rolling_resistance is not None:
        props["rolling_resistance"] = rolling_resistance
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "LineString", "coordinates": [_pos(p) for p in coords]}}


def point(kind: str, fid: str, xyz: XYZ, **props: Any) -> Feature:
    """A Point feature of any kind."""
    return {"type": "Feature", "properties": {"kind": kind, "id": fid, **props},
            "geometry": {"type": "Point", "coordinates": _pos(xyz)}}


def polygon(kind: str, fid: str, poly: Polygon, z: float | ZFunc, **props: Any) -> Feature:
    """A polygon whose every vertex carries elevation z (a constant or z(x, y)) [m asl]."""
    zf: ZFunc = z if callable(z) else (lambda _x, _y, _z=float(z): _z)
    poly = orient(poly, 1.0)  # RFC 7946: exterior counter-clockwise, holes clockwise
    rings = [poly.exterior, *poly.interiors]
    coords = [[_pos((x, y, zf(x, y))) for x, y in ring.coords] for ring in rings]
    return {"type": "Feature", "properties": {"kind": kind, "id": fid, **props},
            "geometry": {"type": "Polygon", "coordinates": coords}}


def collection(meta: MapMeta, features: list[Feature]) -> dict[str, Any]:
    """The map document: a FeatureCollection with its ``minefleet`` member."""
    return {
        "type": "FeatureCollection",
        "minefleet": {"schema": SCHEMA, "site": meta.site, "name": meta.name, "description": meta.description,
                      "rolling_resistance": meta.rolling_resistance, "sources": list(meta.sources)},
        "features": features,
    }


def dumps_map(doc: dict[str, Any]) -> str:
    """JSON with one feature per line: diff-friendly and still readable."""
    meta = json.dumps(doc["minefleet"], indent=1).replace("\n", "\n ")
    feats = ",\n".join("  " + json.dumps(f, separators=(", ", ": ")) for f in doc["features"])
    return (f'{{\n "type": "FeatureCollection",\n "minefleet": {meta},\n'
            f' "features": [\n{feats}\n ]\n}}\n')


# --------------------------------------------------------------------------- features from the shared specs


def unit_props(unit: Unit, material: str) -> dict[str, Any]:
    """A shovel's properties; defaults (fill factor 1, one side) are left out as the shipped files have them."""
    props: dict[str, Any] = {"bucket_t": unit.bucket_t, "cycle_s": unit.cycle_s, "spot_s": unit.spot_s,
                             "material": material}
    if unit.fill_factor != 1.0:
        props["fill_factor"] = unit.fill_factor
    if unit.sides != 1:
        props["sides"] = unit.sides
    return props


def load_stop(fid: str, stop: XYZ, material: str, units: Sequence[Unit], outward: XY, along: XY,
              unit_offset_m: float = 25.0, unit_spacing_m: float = 30.0) -> list[Feature]:
    """What loads at one road stop: a shovel standing on it, or a loading area with its units beside it.

    A loading area's units stand ``unit_offset_m`` off the road toward ``outward`` (the face), spread
    ``unit_spacing_m`` apart along ``along``; they are named ``<area id>-<n>``.
    """
    if len(units) == 1:
        return [point("shovel", fid, stop, **unit_props(units[0], material))]
    out = [point("loading_area", fid, stop, material=material)]
    for n, unit in enumerate(units, start=1):
        shift = unit_spacing_m * (n - 1 - (len(units) - 1) / 2)
        xy = offset(offset(stop[:2], outward, unit_offset_m), along, shift)
        out.append(point("shovel", f"{fid}-{n}", (*xy, stop[2]), area=fid, **unit_props(unit, material)))
    return out


def sink_box(sink: Sink, centre: XY, half_x: float, half_y: float, z: float) -> Feature:
    """A dump or crusher drawn as a box centred on its tipping point (its road's end)."""
    x, y = centre
    return polygon(sink.kind, sink.id, box(x - half_x, y - half_y, x + half_x, y + half_y), z, **sink.props())


def sink_point(sink: Sink, xyz: XYZ) -> Feature:
    """A dump or crusher drawn as a point."""
    return point(sink.kind, sink.id, xyz, **sink.props())


def gnb_features(sites: Sequence[GnbSite]) -> list[Feature]:
    """One Point per radio site."""
    return [point("gnb", g.id, g.xyz, height_m=g.height_m, tx_power_dbm=g.tx_power_dbm, band=g.band)
            for g in sites]


def hazard_polygon(fid: str, poly: Polygon, z: float | ZFunc, kinds: Sequence[str], rate_per_h: float) -> Feature:
    """A hazard zone of any outline."""
    return polygon("hazard_zone", fid, poly, z, kinds=list(kinds), rate_per_h=rate_per_h)


def zone_feature(zone: Zone, z: float | ZFunc) -> Feature:
    """A box-shaped hazard zone at the elevation (or z(x, y)) the mine kind gives its level."""
    return hazard_polygon(zone.id, box(*zone.box), z, zone.kinds, zone.rate_per_h)
