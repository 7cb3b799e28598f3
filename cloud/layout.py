"""The site layout the cloud plans on, as received on the retained ``site/layout`` topic.

The cloud never imports the fleet package: it knows the mine the way a real dispatch server does, from the
site's published facility list and route table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Facility:
    id: str
    kind: str  # shovel, dump, crusher, park
    x: float
    y: float
    material: str | None  # what a shovel digs
    accepts: tuple[str, ...]  # what a dump or crusher takes
    bays: int
    service_s: float  # nominal spot + load, or dump, time per truck [s]


@dataclass(frozen=True)
class RouteInfo:
    id: str
    origin: str
    dest: str
    length_m: float
    time_s: dict[str, tuple[float, float]]  # truck class -> (empty, loaded) free-flow time [s]


class Layout:
    def __init__(self, body: dict[str, Any]) -> None:
        self.site = str(body["site"])
        self.facilities = {
            f["id"]: Facility(id=f["id"], kind=f["kind"], x=float(f["x"]), y=float(f["y"]),
                              material=f.get("material"), accepts=tuple(f.get("accepts", ())),
                              bays=int(f.get("bays", 1)), service_s=float(f.get("service_s", 0.0)))
            for f in body["facilities"]
        }
        self.routes: dict[tuple[str, str], RouteInfo] = {}
        for r in body["routes"]:
            times = {k: (float(v[0]), float(v[1])) for k, v in r["time_s"].items()}
            info = RouteInfo(id=r["id"], origin=r["from"], dest=r["to"], length_m=float(r["length_m"]),
                             time_s=times)
            self.routes[(info.origin, info.dest)] = info

    def shovels(self) -> list[Facility]:
        return sorted((f for f in self.facilities.values() if f.kind == "shovel"), key=lambda f: f.id)

    def sinks_for(self, material: str) -> list[Facility]:
        """Dumps and crushers that take this material."""
        return sorted((f for f in self.facilities.values()
                       if f.kind in ("dump", "crusher") and material in f.accepts), key=lambda f: f.id)

    def travel_s(self, origin: str, dest: str, truck_class: str, loaded: bool) -> float | None:
        r = self.routes.get((origin, dest))
        if r is None:
            return None
        t = r.time_s.get(truck_class)
        if t is None:
            t = next(iter(r.time_s.values()))
        return t[1] if loaded else t[0]
