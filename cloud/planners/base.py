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
    unit: str | None = None  # a unit of the destination to load at; None: the first free one
    delay_s: float = 0.0  # [s] simulated time the decision took: the order leaves the cloud this much after the request


class PlanningError(RuntimeError):
    """No destination can be given (e.g. no route from where the truck is)."""


class PlannerConfigError(ValueError):
    """A planner name or option that cannot be used; ``key`` names the option."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}")


class Planner(Protocol):
    name: str

    def plan(self, request: Request, twin: FleetTwin, layout: Layout) -> Order: ...


def candidates(request: Request, layout: Layout, twin_down: frozenset[str] | set[str] = frozenset()) -> list[str]:
    """Destinations a truck may be sent to next: shovels when empty, sinks for its load when loaded; none that
    the twin knows to be out of service (``twin_down``) and none it has no route to."""
    if request.payload_t > 0:
        if request.material is None:
            raise PlanningError(f"truck {request.truck} is loaded but its material is unknown")
        dests = [f.id for f in layout.sinks_for(request.material)]
    else:
        dests = [f.id for f in layout.shovels()]
    loaded = request.payload_t > 0
    return [d for d in dests if d not in twin_down and
            layout.route_for(request.at, d, request.truck_class, loaded) is not None]


def order_for(request: Request, dest: str, layout: Layout) -> Order:
    """The order to send ``request``'s truck to ``dest`` by the route the fleet expects for its class and load."""
    route = layout.route_for(request.at, dest, request.truck_class, request.payload_t > 0)
    if route is None:
        raise PlanningError(f"no route from {request.at} to {dest} for truck {request.truck}")
    return Order(truck=request.truck, dest=dest, route=route.id)
