"""The site layout the cloud plans on, as received on the retained ``site/layout`` topic.

The cloud never imports the fleet package: it knows the mine the way a real dispatch server does, from the
site's published facility list and route table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class UnitSpec:
    """One loading unit as the layout describes it, with what each truck class takes there."""

    id: str
    dig_tph: float  # [t/h] while loading
    load_s: dict[str, float]  # truck class -> spot + passes x pass time [s]
    payload_t: dict[str, float]  # truck class -> planned payload [t]


def _unit(u: dict[str, Any]) -> UnitSpec:
    by = u.get("by_class", {})
    return UnitSpec(id=str(u["id"]), dig_tph=float(u.get("dig_tph", 0.0)),
                    load_s={k: float(v["load_s"]) for k, v in by.items()},
                    payload_t={k: float(v["payload_t"]) for k, v in by.items()})


@dataclass(frozen=True)
class Facility:
    id: str
    kind: str  # shovel (a load point: a loading area or a shovel alone), dump, crusher, park
    x: float
    y: float
    material: str | None  # what a load point digs
    accepts: tuple[str, ...]  # what a dump or crusher takes
    bays: int  # units: shovels of a loading area, tipping bays of a dump
    service_s: float  # nominal time per truck per unit (spot + load, or dump) [s]
    units: tuple[str, ...] = ()  # unit ids of a load point
    unit_specs: tuple[UnitSpec, ...] = ()
    capacity_tph: float | None = None  # a crusher's throughput [t/h]


@dataclass(frozen=True)
class RouteInfo:
    id: str
    origin: str
    dest: str
    length_m: float
    time_s: dict[str, tuple[float, float]]  # truck class -> (empty, loaded) free-flow time [s]
    serves: tuple[tuple[str, bool], ...] = ()  # (truck class, loaded) it is the route for; () = every one


class Layout:
    def __init__(self, body: dict[str, Any]) -> None:
        self.site = str(body["site"])
        self.facilities = {
            f["id"]: Facility(id=f["id"], kind=f["kind"], x=float(f["x"]), y=float(f["y"]),
                              material=f.get("material"), accepts=tuple(f.get("accepts", ())),
                              bays=int(f.get("bays", 1)), service_s=float(f.get("service_s", 0.0)),
                              units=tuple(str(u["id"]) for u in f.get("units", ())),
                              unit_specs=tuple(_unit(u) for u in f.get("units", ())),
                              capacity_tph=float(f["capacity_tph"]) if "capacity_tph" in f else None)
            for f in body["facilities"]
        }
        self.fleet: dict[str, int] = {str(k): int(v) for k, v in body.get("fleet", {}).items()}
        self.routes: dict[tuple[str, str], RouteInfo] = {}  # the first route per pair (reachability)
        self._for: dict[tuple[str, str, str, bool], RouteInfo] = {}
        self._any: dict[tuple[str, str], RouteInfo] = {}
        for r in body["routes"]:
            times = {k: (float(v[0]), float(v[1])) for k, v in r["time_s"].items()}
            serves = tuple((str(c), bool(loaded)) for c, loaded in r.get("for", ()))
            info = RouteInfo(id=r["id"], origin=r["from"], dest=r["to"], length_m=float(r["length_m"]),
                             time_s=times, serves=serves)
            self.routes.setdefault((info.origin, info.dest), info)
            if not serves:
                self._any[(info.origin, info.dest)] = info
            for cls, loaded in serves:
                self._for[(info.origin, info.dest, cls, loaded)] = info

    def shovels(self) -> list[Facility]:
        return sorted((f for f in self.facilities.values() if f.kind == "shovel"), key=lambda f: f.id)

    def sinks_for(self, material: str) -> list[Facility]:
        """Dumps and crushers that take this material."""
        return sorted((f for f in self.facilities.values()
                       if f.kind in ("dump", "crusher") and material in f.accepts), key=lambda f: f.id)

    def route_for(self, origin: str, dest: str, truck_class: str, loaded: bool) -> RouteInfo | None:
        """The route a truck of this class takes between the two, loaded or empty (the fleet refuses others)."""
        return self._for.get((origin, dest, truck_class, loaded)) or self._any.get((origin, dest))

    def travel_s(self, origin: str, dest: str, truck_class: str, loaded: bool) -> float | None:
        r = self.route_for(origin, dest, truck_class, loaded)
        if r is None:
            return None
        t = r.time_s.get(truck_class)
        if t is None:
            t = next(iter(r.time_s.values()))
        return t[1] if loaded else t[0]
