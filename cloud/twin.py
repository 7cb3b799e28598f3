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


LEARN_RATE = 0.2  # [-] weight of the newest observed trip in a route's learned travel time (assumption)


@dataclass
class FleetTwin:
    trucks: dict[str, TruckView] = field(default_factory=dict)
    trip_s: dict[tuple[str, str, str, bool], float] = field(default_factory=dict)  # learned: (from, to, class, loaded)
    _ordered: dict[str, tuple[str, str, bool, float]] = field(default_factory=dict)  # truck -> (from, to, loaded, t)
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

    def on_telemetry_batch(self, truck_ids: list[str], t: float, x: list[float], y: list[float], v: list[float],
                           state: list[str], payload_t: list[float]) -> None:
        """``on_telemetry`` for many trucks' messages delivered at ``t``, given as columns."""
        for k, truck_id in enumerate(truck_ids):
            view = self.trucks.get(truck_id) or self.truck(truck_id)
            if t < view.t_seen:
                continue  # an older message overtaken by a newer one
            view.t_seen = t
            view.x, view.y, view.speed_mps, view.state, view.payload_t = x[k], y[k], v[k], state[k], payload_t[k]

    def on_event(self, truck_id: str, t: float, body: dict[str, Any]) -> None:
        view = self.truck(truck_id)
        view.t_seen = max(view.t_seen, t)
        view.at = body.get("at", view.at)
        view.payload_t = float(body.get("payload_t", view.payload_t))
        view.truck_class = str(body.get("truck_class", view.truck_class))
        event = body.get("event")
        if event == "arrive":
            self._learn(truck_id, view.truck_class, body.get("at"), t)
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

    def _learn(self, truck_id: str, cls: str, at: Any, t: float) -> None:
        """An observed trip, order to arrival (leaving the facility included), into the route's learned time."""
        trip = self._ordered.pop(truck_id, None)
        if trip is None or trip[1] != at:
            return
        key = (trip[0], trip[1], cls, trip[2])
        seen = t - trip[3]
        old = self.trip_s.get(key)
        self.trip_s[key] = seen if old is None else old + LEARN_RATE * (seen - old)

    def travel_s(self, layout: Any, origin: str, dest: str, cls: str, loaded: bool) -> float | None:
        """Travel time a planner should expect: learned from trips seen, else the layout's free-flow time."""
        learned = self.trip_s.get((origin, dest, cls, loaded))
        return learned if learned is not None else layout.travel_s(origin, dest, cls, loaded)

    def down_by_class(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for v in self.trucks.values():
            if v.down:
                out[v.truck_class] = out.get(v.truck_class, 0) + 1
        return out

    def down_units(self) -> frozenset[str]:
        return frozenset(u for units in self.units_down.values() for u in units)

    def on_order(self, truck_id: str, dest: str, t: float | None = None) -> None:
        view = self.truck(truck_id)
        if t is not None and view.at is not None:
            self._ordered[truck_id] = (view.at, dest, view.payload_t > 0, t)
        view.dest = dest
        view.state = "TRAVEL_LOADED" if view.payload_t > 0 else "TRAVEL_EMPTY"

    def heading_to(self) -> Counter[str]:
        """Trucks with an order to each destination and not yet dispatched elsewhere."""
        return Counter(v.dest for v in self.trucks.values() if v.dest is not None)
