"""Reading an OpenMines JSON file and checking it into a typed ``OpenMine``.

Kept apart from the translation so that everything downstream works on checked facts only: a mistake in the file
stops here, as one ``InputError`` naming the JSON key path, before anything is planned or written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fleet.errors import InputError
from fleet.fields import Fields, read_json

MAX_SPEED_KMH = 120.0  # [km/h] a haul truck faster than this is a typo; also the highest road limit a map takes


@dataclass(frozen=True)
class TruckType:
    key: str  # where it is in the file, for messages
    type: str
    id: str
    count: int
    capacity_t: float
    speed_kmh: float


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    tons: float  # per bucket pass [t]
    cycle_min: float  # per pass [min]


@dataclass(frozen=True)
class Site:
    key: str
    id: str
    name: str
    xy: tuple[float, float]  # file units


@dataclass(frozen=True)
class LoadSite(Site):
    units: tuple[Unit, ...]


@dataclass(frozen=True)
class DumpSite(Site):
    bays: int
    dump_min: float  # count-weighted mean over the dumpers [min]
    dump_range_min: tuple[float, float]


@dataclass(frozen=True)
class OpenMine:
    """Everything the import uses from one OpenMines file, checked."""

    file: str
    name: str
    slug: str
    charging: Site
    trucks: tuple[TruckType, ...]
    loads: tuple[LoadSite, ...]
    dumps: tuple[DumpSite, ...]
    l2d_km: np.ndarray  # [load, dump]
    d2l_km: np.ndarray  # [load, dump]: dump j -> load i
    c2l_km: np.ndarray  # [load]
    sim_min: float | None
    road_events: dict[str, Any]
    dispatchers: tuple[str, ...]



def read(path: Path) -> Any:
    return read_json(path, "OpenMines")



def parse(doc: Any, src: str) -> OpenMine:
    """The file's facts, or an ``InputError`` naming the JSON key path (``road.l2d_road_matrix[2]``)."""
    root = _obj(doc, src, "")
    ids = _Ids(src)
    mine_f = _obj(root.data.get("mine"), src, "mine", required=root)
    name = mine_f.string("name")
    slug = _slug(name) or _slug(Path(src).stem) or "openmines"
    cs = _obj(root.data.get("charging_site"), src, "charging_site", required=root)
    charging = Site("charging_site", ids.take(cs, "name", "charging-site"), cs.string("name"), _xy(cs))
    trucks: list[TruckType] = []
    for t in _items(cs, "trucks", "truck types"):
        trucks.append(_truck(t, trucks))
    if sum(t.count for t in trucks) == 0:
        raise InputError(src, "charging_site.trucks", "no trucks: every 'count' is 0")
    loads = tuple(_load_site(f, ids, k) for k, f in enumerate(_items(root, "load_sites", "load sites")))
    dumps = tuple(_dump_site(f, ids, k) for k, f in enumerate(_items(root, "dump_sites", "dump sites")))
    road = _obj(root.data.get("road"), src, "road", required=root)
    nl, nd = len(loads), len(dumps)
    l2d = _matrix(road, "l2d_road_matrix", nl, nd)
    d2l = _matrix(road, "d2l_road_matrix", nl, nd)
    c2l = _vector(road, "charging_to_load_road_matrix", nl)
    events = road.data.get("road_event_params") or {}
    if not isinstance(events, Mapping):
        raise road.error("road_event_params", f"must be an object, got {events!r}")
    sim_min = root.number("sim_time", positive=True, max=30 * 24 * 60.0) if root.data.get("sim_time") is not None \
        else None
    disp = root.data.get("dispatcher")
    named = disp.get("type") if isinstance(disp, Mapping) else None  # only reported: they are not imported
    dispatchers = (named,) if isinstance(named, str) else tuple(str(d) for d in named) \
        if isinstance(named, list) else ()
    return OpenMine(file=Path(src).name, name=name, slug=slug, charging=charging, trucks=tuple(trucks), loads=loads,
                    dumps=dumps, l2d_km=l2d, d2l_km=d2l, c2l_km=c2l, sim_min=sim_min, road_events=dict(events),
                    dispatchers=dispatchers)


class _Ids:
    """Feature ids from OpenMines names: unique across the map, or the user's error naming both keys."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.seen: dict[str, str] = {}

    def take(self, f: Fields, key: str, fallback: str) -> str:
        fid = _slug(f.string(key)) or fallback
        where = f"{f.where}.{key}" if f.where else key
        if fid in self.seen:
            raise InputError(self.src, where, f"{f.data[key]!r} gives the id {fid!r}, already taken by "
                                              f"{self.seen[fid]}: names must differ")
        self.seen[fid] = where
        return fid


def _truck(f: Fields, before: list[TruckType]) -> TruckType:
    type_ = f.string("type")
    tid = _slug(type_) or f"truck-{len(before) + 1}"
    for other in before:
        if other.id == tid:
            raise InputError(f.source, f"{f.where}.type", f"truck type {type_!r} repeats {other.key}.type "
                                                          f"({other.type!r}): one entry per type")
    return TruckType(key=f.where, type=type_, id=tid, count=f.integer("count", min=0),
                     capacity_t=f.number("capacity", positive=True),
                     speed_kmh=f.number("speed", positive=True, max=MAX_SPEED_KMH))


def _load_site(f: Fields, ids: _Ids, k: int) -> LoadSite:
    sid = ids.take(f, "name", f"load-site-{k + 1}")
    units = []
    for u in _items(f, "shovels", "shovels"):
        units.append(Unit(id=ids.take(u, "name", f"{sid}-shovel-{len(units) + 1}"), name=u.string("name"),
                          tons=u.number("tons", positive=True), cycle_min=u.number("cycle_time", positive=True)))
    return LoadSite(key=f.where, id=sid, name=f.string("name"), xy=_xy(f), units=tuple(units))


def _dump_site(f: Fields, ids: _Ids, k: int) -> DumpSite:
    sid = ids.take(f, "name", f"dump-site-{k + 1}")
    groups = [(d.integer("count", min=0), d.number("cycle_time", positive=True))
              for d in _items(f, "dumpers", "dumper groups")]
    bays = sum(n for n, _ in groups)
    if bays == 0:
        raise InputError(f.source, f"{f.where}.dumpers", "no dumper: every 'count' is 0")
    times = [t for n, t in groups if n > 0]
    mean = sum(n * t for n, t in groups) / bays
    return DumpSite(key=f.where, id=sid, name=f.string("name"), xy=_xy(f), bays=bays, dump_min=mean,
                    dump_range_min=(min(times), max(times)))


def _obj(value: Any, src: str, where: str, required: Fields | None = None) -> Fields:
    if value is None and required is not None:
        raise InputError(src, required.where, f"missing required '{where}'")
    if not isinstance(value, Mapping):
        raise InputError(src, where, f"must be a JSON object, got {_json_kind(value)}")
    if required is not None:
        required.used.add(where)
    return Fields(value, src, where)


def _items(f: Fields, key: str, what: str) -> list[Fields]:
    value = f.data.get(key)
    f.used.add(key)
    if value is None:
        raise InputError(f.source, f.where, f"missing required '{key}'")
    if not isinstance(value, list) or not value:
        raise f.error(key, f"must be a non-empty list of {what}, got {_json_kind(value)}")
    prefix = f"{f.where}.{key}" if f.where else key
    return [_obj(v, f.source, f"{prefix}[{k}]") for k, v in enumerate(value)]


def _xy(f: Fields) -> tuple[float, float]:
    value = f.data.get("position")
    f.used.add("position")
    if value is None:
        raise InputError(f.source, f.where, "missing required 'position'")
    if (not isinstance(value, list) or len(value) not in (2, 3)
            or not all(isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c) for c in value)):
        raise f.error("position", f"must be [x, y] (finite numbers), got {value!r}")
    return float(value[0]), float(value[1])


def _distance(value: Any, src: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(src, where, f"must be a distance in km, got {_json_kind(value)}")
    if not math.isfinite(value) or value <= 0:
        raise InputError(src, where, f"must be a finite distance > 0 km, got {value!r}")
    return float(value)


def _sized(value: Any, n: int, unit: str, per: str, src: str, where: str) -> list[Any]:
    """A JSON list of exactly ``n`` items (rows or entries), one per load or dump site; else the user's error."""
    if not isinstance(value, list) or len(value) != n:
        got = f"{len(value)} {unit}" if isinstance(value, list) else _json_kind(value)
        raise InputError(src, where, f"must have {n} {unit}, one per {per} site ({per}_sites has {n}), got {got}")
    return value


def _road_list(road: Fields, key: str) -> tuple[Any, str]:
    value = road.data.get(key)
    road.used.add(key)
    if value is None:
        raise InputError(road.source, "road", f"missing required '{key}'")
    return value, f"road.{key}"


def _matrix(road: Fields, key: str, rows: int, cols: int) -> np.ndarray:
    """``[load site][dump site]`` distances [km]: one row per load site, one column per dump site."""
    value, where = _road_list(road, key)
    out = np.zeros((rows, cols))
    for i, row in enumerate(_sized(value, rows, "rows", "load", road.source, where)):
        for j, d in enumerate(_sized(row, cols, "entries", "dump", road.source, f"{where}[{i}]")):
            out[i, j] = _distance(d, road.source, f"{where}[{i}][{j}]")
    return out


def _vector(road: Fields, key: str, n: int) -> np.ndarray:
    """One distance [km] per load site."""
    value, where = _road_list(road, key)
    return np.array([_distance(d, road.source, f"{where}[{i}]")
                     for i, d in enumerate(_sized(value, n, "entries", "load", road.source, where))])


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}" if value else "an empty list"
    if isinstance(value, Mapping):
        return "an object"
    return repr(value)


def _slug(name: str) -> str:
    """A feature id or file stem from a name: 'NorthPitMine-LoadSite2' -> 'north-pit-mine-load-site2'."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name)
    return re.sub(r"[\W_]+", "-", spaced.lower()).strip("-")
