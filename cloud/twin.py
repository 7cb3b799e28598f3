"""The cloud's fleet twin: what the cloud believes about each truck, from telemetry and events only."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TruckView:
    id: str
    truck_class: str = ""
    state: str = "UNKNOWN"
    at: str | None = None  # facility the truck is at, when it is at one
    dest: str | None = None  # destination of its current order
    payload_t: float = 0.0
    x: float = float("nan")
    y: float = float("nan")
    speed_mps: float = 0.0
    t_seen: float = -1.0  # [s] simulation time of the newest message
    down: bool = False  # broken down, as its last event said


@dataclass
class FleetTwin:
    trucks: dict[str, TruckView] = field(default_factory=dict)
    units_down: dict[str, set[str]] = field(default_factory=dict)  # facility -> units out of service
    units_up: dict[str, int] = field(default_factory=dict)  # facility -> units in service, as last reported

    def truck(self, truck_id: str) -> TruckView:
        view = self.trucks.get(truck_id)
        if view is None:
            view = self.trucks[truck_id] = TruckView(truck_id)
        return view

    def on_telemetry(self, truck_id: str, t: float, body: dict[str, Any]) -> None:
        view = self.truck(truck_id)
        if t < view.t_seen:
            return  # an older message overtaken by a newer one
        view.t_seen = t
        view.x = float(body["x"])
        view.y = float(body["y"])
        view.speed_mps = float(body["v"])
        view.state = str(body["state"])
        view.payload_t = float(body["payload_t"])

    def on_event(self, truck_id: str, t: float, body: dict[str, Any]) -> None:
        view = self.truck(truck_id)
        view.t_seen = max(view.t_seen, t)
        view.at = body.get("at", view.at)
        view.payload_t = float(body.get("payload_t", view.payload_t))
        view.truck_class = str(body.get("truck_class", view.truck_class))
        event = body.get("event")
        if event in ("loaded", "dumped", "ready"):
            view.dest = None
            view.state = "WAIT_ORDER"
            view.down = False
        elif event in ("down", "up"):
            view.down = event == "down"
            view.state = "DOWN" if view.down else view.state
            view.dest = None if view.down else view.dest

    def on_equipment(self, body: dict[str, Any]) -> None:
        """A unit (shovel, bay) out of service or back, from the site's equipment topic."""
        facility, unit = str(body["facility"]), str(body["unit"])
        down = self.units_down.setdefault(facility, set())
        (down.add if body["state"] == "down" else down.discard)(unit)
        self.units_up[facility] = int(body["units_up"])

    def down_facilities(self) -> set[str]:
        """Facilities with no unit in service: no truck should be sent there."""
        return {f for f, n in self.units_up.items() if n == 0}

    def on_order(self, truck_id: str, dest: str) -> None:
        view = self.truck(truck_id)
        view.dest = dest
        view.state = "TRAVEL_LOADED" if view.payload_t > 0 else "TRAVEL_EMPTY"

    def heading_to(self) -> Counter[str]:
        """Trucks with an order to each destination and not yet dispatched elsewhere."""
        return Counter(v.dest for v in self.trucks.values() if v.dest is not None)
