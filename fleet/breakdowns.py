"""How the engine reacts to failures and scheduled events: trucks and units going down and back, roads closing.

``fleet.failures`` says what fails and when; these are the engine's reactions, kept apart from the haul cycle
they interrupt. A mixin of ``fleet.engine.Simulation``: it works on the simulation's own fleet arrays, service
points, event queue and messaging. See docs/architecture.md, "Trucks and motion" (Failures and events).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fleet.facilities import ServicePoint, Unit
from fleet.failures import ScheduledEvent
from fleet.state import HOLD_DOWN, TruckState

ROAD_STATES = (TruckState.TRAVEL_EMPTY, TruckState.TRAVEL_LOADED, TruckState.HOLD, TruckState.ESTOP)
SERVED_STATES = (TruckState.SPOT, TruckState.LOADING, TruckState.DUMPING)


class Breakdowns:
    """Failure reactions of the simulation (see the module docstring)."""

    fleet: Any
    points: list[ServicePoint]
    point_by_id: dict[str, ServicePoint]
    unit_of: dict[str, tuple[ServicePoint, Unit]]
    shovels: dict[str, Any]
    classes: list[Any]
    params: Any
    queue: Any
    clock: Any
    comms: Any
    rt: Any
    log: list[tuple[float, str, str, str, float]]
    t: float
    closed: Any
    by_pair: dict[tuple[str, str, int, bool], int]

    def _schedule_failures(self, events: tuple[ScheduledEvent, ...]) -> None:
        fp = self.params.failures
        if fp.trucks:
            for i in range(self.fleet.n):
                self._arm_truck(i)
        if fp.shovels:
            for sp, unit in self.unit_of.values():
                self._arm_unit(sp, unit)
        for ev in events:
            if ev.kind == "road_closed":
                self.queue.push(ev.start_s, self._road, ev.target, True)
                self.queue.push(ev.end_s, self._road, ev.target, False)
                continue
            for sp, unit in self._event_units(ev.target):
                self.queue.push(ev.start_s, self._unit_fails, sp, unit, ev.reason, None)
                self.queue.push(ev.end_s, self._unit_repaired, sp, unit, ev.reason)

    def _event_units(self, target: str) -> list[tuple[ServicePoint, Unit]]:
        """The units an event takes out: one shovel, every unit of a loading area, every bay of a dump."""
        if target in self.unit_of:
            return [self.unit_of[target]]
        sp = self.point_by_id[target]
        return [(sp, u) for u in sp.units]

    def _arm_truck(self, i: int) -> None:
        tc = self.classes[self.fleet.class_index[i]]
        self.queue.push(self.t + self.clock.time_to_failure(tc.mtbf_h), self._truck_fails, i)

    def _arm_unit(self, sp: ServicePoint, unit: Unit) -> None:
        fp, shovel = self.params.failures, self.shovels[unit.id]
        mtbf = shovel.mtbf_h if shovel.mtbf_h is not None else fp.shovel_mtbf_h
        self.queue.push(self.t + self.clock.time_to_failure(mtbf), self._unit_fails, sp, unit, "breakdown", None)

    def _truck_fails(self, i: int) -> None:
        """A breakdown: at once on the road or in a queue; after the service when the truck is being served."""
        if self.fleet.state[i] in SERVED_STATES:
            self.fleet.fail_pending[i] = True
        else:
            self._truck_down(i)

    def _truck_down(self, i: int) -> None:
        f = self.fleet
        f.fail_pending[i] = False
        f.down[i] = True
        f.down_since[i] = self.t
        state = TruckState(int(f.state[i]))
        if state in ROAD_STATES:
            self.hold(np.array([i]), HOLD_DOWN, True)  # stops where it is, in its lane
            self.queue.push(self.t + self.params.failures.block_s, self._aside, i, self.t)
            where = self.rt.routes[f.route[i]].id
        else:
            if state in (TruckState.QUEUE_LOAD, TruckState.QUEUE_DUMP):
                self.points[f.at[i]].leave_queue(i, self.t)
            f.awaiting_order[i] = False
            f.state[i] = TruckState.DOWN
            where = self.points[f.at[i]].id
        self.log.append((self.t, f.ids[i], "breakdown", where, float(f.payload_t[i])))
        self.comms.event(i, self.t, self._event_body(i, "down"))
        tc = self.classes[f.class_index[i]]
        self.queue.push(self.t + self.clock.time_to_repair(tc.mttr_h), self._truck_repaired, i)

    def _aside(self, i: int, failed_at: float) -> None:
        """A truck broken down on the road is moved off the travelled lane: it no longer blocks it."""
        f = self.fleet
        if f.down[i] and f.down_since[i] == failed_at and f.route[i] >= 0:
            f.state[i] = TruckState.DOWN
            f.v[i] = 0.0

    @property
    def _aside_at(self) -> np.ndarray:
        """[s] per truck: when one broken down on the road stands aside (``_aside``); inf for the others."""
        f = self.fleet
        return np.where(f.down, f.down_since + self.params.failures.block_s, np.inf)

    def _truck_repaired(self, i: int) -> None:
        f = self.fleet
        f.down[i] = False
        f.down_s[i] += self.t - f.down_since[i]
        on_road = f.route[i] >= 0
        self.log.append((self.t, f.ids[i], "repaired", self.rt.routes[f.route[i]].id if on_road
                         else self.points[f.at[i]].id, float(f.payload_t[i])))
        self.comms.event(i, self.t, self._event_body(i, "up"))
        if self.params.failures.trucks:
            self._arm_truck(i)
        if on_road:
            if f.state[i] == TruckState.DOWN:
                f.state[i] = TruckState.HOLD
            self.hold(np.array([i]), HOLD_DOWN, False)
        elif self._can_serve(self.points[f.at[i]], i):
            self._join(i)
        else:
            self._request(i, "ready")

    def _unit_fails(self, sp: ServicePoint, unit: Unit, reason: str, _: Any) -> None:
        """A shovel or bay goes out of service; one serving a truck finishes it first."""
        unit.outages += 1
        if unit.outages == 1:
            unit.down_pending = reason
            self._settle(sp, unit)

    def _settle(self, sp: ServicePoint, unit: Unit) -> None:
        """Apply a pending outage once the unit has no truck left."""
        if unit.down_pending is None or unit.occupants > 0:
            return
        reason = unit.down_pending
        sp.set_up(unit, self.t, False, reason)
        self._equipment(sp, unit, "down", reason)
        if reason == "breakdown":
            shovel = self.shovels.get(unit.id)
            mttr = shovel.mttr_h if shovel is not None and shovel.mttr_h is not None \
                else self.params.failures.shovel_mttr_h
            self.queue.push(self.t + self.clock.time_to_repair(mttr), self._unit_repaired, sp, unit, reason)
        if not sp.up:
            for k in [truck for truck, _, _ in sp.queue]:  # nothing left to serve them here: ask where to go
                sp.leave_queue(k, self.t)
                self._request(k, "ready")
        else:
            sp.forget_unit(unit.index)

    def _unit_repaired(self, sp: ServicePoint, unit: Unit, reason: str) -> None:
        unit.outages = max(unit.outages - 1, 0)
        if unit.outages:
            return
        if not unit.up:
            sp.set_up(unit, self.t, True)
            self._equipment(sp, unit, "up", reason)
        unit.down_pending = None
        if reason == "breakdown" and self.params.failures.shovels and unit.id in self.shovels:
            self._arm_unit(sp, unit)
        f = self.fleet
        for i in np.flatnonzero(f.awaiting_order & (f.at == sp.index)):
            if self._can_serve(sp, int(i)):  # trucks standing here for want of an order take this unit
                f.awaiting_order[i] = False
                self._join(int(i))
        self._serve(sp)

    def _equipment(self, sp: ServicePoint, unit: Unit, state: str, reason: str) -> None:
        self.log.append((self.t, unit.id, f"unit_{state}", sp.id, 0.0))
        self.comms.equipment(self.t, {"facility": sp.id, "unit": unit.id, "state": state, "reason": reason,
                                      "units_up": sum(1 for u in sp.units if u.up)})

    def _road(self, road_id: str, closing: bool) -> None:
        """A scheduled closure starts or ends: new orders take the routes planned for the roads open now, and
        the cloud gets the republished layout. Trucks already on a closed road drive on."""
        self.closed[road_id] += 1 if closing else -1
        closed = frozenset(r for r, n in self.closed.items() if n > 0)
        self.by_pair = self.rt.choice[closed]
        self.log.append((self.t, "-", "road_closed" if closing else "road_open", road_id, 0.0))
        self.comms.publish_layout(self.t, self.layout_body())
