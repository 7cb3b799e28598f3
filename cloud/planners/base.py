"""What a planner is asked and what it answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cloud.layout import Layout
from cloud.twin import FleetTwin


@dataclass(frozen=True)
class Request:
    truck: str
    truck_class: str
    at: str  # facility the truck is at
    payload_t: float
    material: str | None  # of the load carried, when loaded
    t: float  # [s] simulation time the request reached the cloud


@dataclass(frozen=True)
class Order:
    truck: str
    dest: str
    route: str


class PlanningError(RuntimeError):
    """No destination can be given (e.g. no route from where the truck is)."""


class Planner(Protocol):
    name: str

    def plan(self, request: Request, twin: FleetTwin, layout: Layout) -> Order: ...


def candidates(request: Request, layout: Layout) -> list[str]:
    """Destinations a truck may be sent to next: shovels when empty, sinks for its load when loaded."""
    if request.payload_t > 0:
        if request.material is None:
            raise PlanningError(f"truck {request.truck} is loaded but its material is unknown")
        dests = [f.id for f in layout.sinks_for(request.material)]
    else:
        dests = [f.id for f in layout.shovels()]
    return [d for d in dests if (request.at, d) in layout.routes]
