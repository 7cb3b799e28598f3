"""The simulation engine: one clock, fixed kinematic ticks, one event queue (docs/architecture.md, "Time").

``step()`` is the one place where time advances. Each tick moves every truck on the road in vector
operations, then fires due events and messages in (time, sequence) order at the tick boundary.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fleet import kinematics
from fleet.breakdowns import Breakdowns
from fleet.comms import FleetComms
from fleet.departures import Departures
from fleet.estop import RemoteEstop
from fleet.events import EventQueue
from fleet.facilities import ServicePoint, Unit
from fleet.failures import NETWORK_KINDS, FailureClock, FailureParams, ScheduledEvent, schedule_network_faults
from fleet.kinematics import MOVING_STATE, ClassTable, Traffic
from fleet.loading import LoadingPolicy
from fleet.mapfile import MineMap, Shovel
from fleet.roads import RoadNetwork
from fleet.routes import RouteTable
from fleet.sections import SectionClaims
from fleet.service_cycle import ServiceCycle
from fleet.sitelayout import layout_body
from fleet.state import HOLD_LINK, HOLD_STOP, FleetArrays, TruckState
from fleet.telemetry import Telemetry
from fleet.tickgrid import TickGrid
from fleet.truckclass import TruckClass
from net.transport import Transport

CLAIM_MARGIN_M = 30.0  # [m] beyond braking distance at which a single-lane section is claimed


@dataclass(frozen=True)
class HaulParams:
    """The ``[haul]`` settings and the engine's own; the one place their defaults live."""

    dt: float = 0.1  # [s] kinematic tick
    cycle_cv: float = 0.1  # [-] coefficient of variation of a shovel pass time
    dump_cv: float = 0.1  # [-] coefficient of variation of a dump time
    payload_cv: float = 0.05  # [-] coefficient of variation of one pass's payload (assumption)
    release_interval_s: float = 20.0  # [s] between trucks leaving the park at shift start
    order_timeout_s: float = 30.0  # [s] re-request an order after this long without one
    telemetry_period_s: float = 1.0  # [s]
    link_update_period_s: float = 1.0  # [s] how often radio conditions are re-evaluated
    link_timeout_s: float = 2.0  # [s] radio outage after which a moving truck holds (assumption; configurable)
    traffic: Traffic = field(default_factory=Traffic)
    loading: LoadingPolicy = field(default_factory=LoadingPolicy)
    failures: FailureParams = field(default_factory=FailureParams)


class Simulation(ServiceCycle, Breakdowns, Departures, Telemetry):
    def __init__(self, mine: MineMap, net: RoadNetwork, routes: RouteTable, classes: list[TruckClass],
                 truck_class: list[int], starts: list[str], transport: Transport, comms: FleetComms,
                 rng: np.random.Generator, params: HaulParams, events: tuple[ScheduledEvent, ...] = (),
                 failure_rng: np.random.Generator | None = None, layout_extra: dict[str, Any] | None = None) -> None:
        """``starts``: the facility each truck starts at (a park or dump: it asks for an order at its release
        time; a load point: it joins the queue there at once). ``layout_extra``: more for the site layout
        message (the planner the site asks its cloud to use)."""
        self.mine = mine
        self.net = net
        self.rt = routes
        self.classes = classes
        self.ct = ClassTable(classes)
        self.params = params
        self.rng = rng
        self.transport = transport
        self.comms = comms
        self.queue = EventQueue()
        self.grid = TickGrid(params.dt)
        self.ticks = 0  # ticks done; the clock is ``grid.time(ticks)``
        self.t = 0.0
        ids = list(comms.ids)
        self.fleet = FleetArrays(ids, np.asarray(truck_class))
        self.claims = SectionClaims(self.fleet)
        self._no_stop = np.full(self.fleet.n, np.inf)
        self.v_limit = np.full(self.fleet.n, np.inf)  # [m/s] extra per-truck cap (perception-safe speed)
        self.min_gap = np.full(1, np.inf)  # [m] least bumper gap to the truck ahead on a lane over the shift
        self._no_reports_taken = np.empty((0, 3, self.fleet.n))  # the kernel's report buffer when it takes none
        self._build_points()
        self.fac_xyz = np.array([net.nodes[net.facility_node[p.id]] for p in self.points])
        self.by_pair = routes.by_pair  # route choice on the roads open now
        self.closed: Counter[str] = Counter()  # road id -> closures in force
        self._init_departures()

        f = self.fleet
        self.log: list[tuple[float, str, str, str, float]] = []  # (t, truck, event, facility, payload)
        self.cycle_starts = np.full(f.n, np.nan)
        self.cycle_times: list[tuple[int, float]] = []  # (class index, dump-to-dump time [s])
        # (class, payload [t], passes, trimmed, load time [s], unit) of every load
        self.loads_log: list[tuple[int, float, int, bool, float, str]] = []
        self.loads = np.zeros(f.n, dtype=np.int64)
        self.tonnes = np.zeros(f.n)
        self.tonnes_by_material: Counter[str] = Counter()
        self.orders_rejected = 0
        self.observers: list[Any] = []
        self.onboard: Any = None  # fleet.onboard.Onboard when the run has perception
        self.hazards: Any = None

        self._link_update = getattr(comms.link, "update", None)
        self._next_link_t = 0.0
        self._sync = getattr(transport, "sync", None)  # a barrier, when messages cross a real broker
        self._stopping = False  # some truck holds for a reason that stops it (HOLD_STOP)
        self.link_holds = 0
        self.clock = FailureClock(failure_rng if failure_rng is not None else np.random.default_rng(0))
        self.layout_extra = dict(layout_extra or {})
        comms.listen(self._on_order)
        self.remote_estop = RemoteEstop(self)
        comms.publish_layout(0.0, self.layout_body())
        self._place(starts)
        self._init_telemetry()
        self._schedule_failures(tuple(e for e in events if e.kind not in NETWORK_KINDS))
        schedule_network_faults(self, events)

    def _build_points(self) -> None:
        """Load points (units: shovels, fastest first), dumps and crushers (units: bays), parks."""
        self.points: list[ServicePoint] = []
        self.point_by_id: dict[str, ServicePoint] = {}
        self.shovels: dict[str, Shovel] = {s.id: s for s in self.mine.shovels}
        self.dumps = {d.id: d for d in self.mine.dumps}
        self.unit_of: dict[str, tuple[ServicePoint, Unit]] = {}  # shovel id -> its point and unit
        self.point_material: dict[int, str] = {}
        groups: list[tuple[str, str, list[Unit]]] = []
        for lp in self.mine.load_points():
            units = [Unit(k, s.id, s.xyz, s.sides, rank=-s.pass_t / s.cycle_s) for k, s in enumerate(lp.units)]
            groups.append((lp.id, "shovel", units))
        for d in self.mine.dumps:
            units = [Unit(k, d.id if d.bays == 1 else f"{d.id}/{k + 1}", d.xyz) for k in range(d.bays)]
            groups.append((d.id, d.kind, units))
        groups += [(pk.id, "park", []) for pk in self.mine.parks]
        for fac_id, kind, units in groups:
            sp = ServicePoint(len(self.points), fac_id, kind, units)
            self.points.append(sp)
            self.point_by_id[fac_id] = sp
        for lp in self.mine.load_points():
            sp = self.point_by_id[lp.id]
            self.point_material[sp.index] = lp.material
            for u in sp.units:
                self.unit_of[u.id] = (sp, u)
        self.materials = sorted({s.material for s in self.mine.shovels})

    def _place(self, starts: list[str]) -> None:
        """Trucks at their start facilities; parks and dumps release them ``release_interval_s`` apart."""
        f = self.fleet
        released: Counter[str] = Counter()
        for i, start in enumerate(starts):
            sp = self.point_by_id[start]
            f.at[i] = sp.index
            f.x[i], f.y[i], f.z[i] = self.fac_xyz[sp.index]
            if sp.kind == "shovel":
                self.queue.push(0.0, self._join, i)
            else:
                self.queue.push(released[start] * self.params.release_interval_s, self._request, i, "ready")
                released[start] += 1

    # -- the clock ------------------------------------------------------------------------------------

    def run(self, until: float, progress: Any = None) -> None:
        """Advance tick by tick until ``until`` [s]; ``progress(t)`` is called about once per sim minute.

        Ticks in which nothing but motion happens (no event, message, link update or observer due, no truck
        arriving) run back to back in one compiled call: the same ticks, without the Python between them."""
        self._update_link()
        self._drain(self.t)  # happenings due at the start (t = 0 is a tick boundary)
        next_report = 60.0 if progress is not None else math.inf
        n_ticks = round((until - self.t) / self.params.dt)
        done = 0
        while done < n_ticks:
            ticks = self._quiet_ticks(n_ticks - done, next_report)
            done += self.step(ticks)
            if self.t >= next_report:
                progress(self.t)
                next_report += 60.0
        for sp in self.points:
            sp.close(self.t)

    def _quiet_ticks(self, most: int, report_t: float) -> int:
        """How many ticks (up to ``most``) can run before anything but motion is due: the tick at whose end the
        first event, message, link update, observer or progress report falls is the last of them. Telemetry
        events the kernel can take on the way do not count (``fleet.telemetry``)."""
        if most <= 1 or self.onboard is not None or self._sync is not None:
            return 1
        event = self.queue.next_time_behind_head() if self._telemetry_due() else self.queue.next_time()
        due = [report_t, event, self.transport.next_due()]
        if self._link_update is not None:
            due.append(self._next_link_t - 1e-9)
        for obs in self.observers:
            next_due = getattr(obs, "next_due", None)
            if next_due is None:
                return 1  # an observer that watches every tick
            due.append(next_due())
        horizon = min(d for d in due if d is not None)
        return self.grid.first_at_or_after(self.ticks, horizon, most)

    def step(self, ticks: int = 1) -> int:
        """One tick, or up to ``ticks`` ticks in which nothing but motion happens (see ``run``); returns the ticks
        done: fewer when a truck reaches its destination first, or when a single-lane claim or release could fall
        due sooner. The kernel takes the telemetry due within them (``fleet.telemetry``)."""
        f, rt = self.fleet, self.rt
        stop = self._no_stop
        on = np.empty(0, dtype=np.int64)
        if rt.has_sections or self.onboard is not None:
            on = np.flatnonzero(MOVING_STATE[f.state])
            seg = self.segment_of(f.route[on], f.s[on])
            stop = np.full(f.n, np.inf)
        stop_line, asked = self._no_stop, 0
        if rt.has_sections:
            cls = f.class_index[on]
            lines, asked = self.claims.stop_lines(rt, on, seg, f.s[on], f.v[on], self.ct.brake[cls], CLAIM_MARGIN_M)
            stop_line = np.full(f.n, np.inf)
            stop_line[on] = lines
            if ticks > 1:  # fewer, so that no claim or release falls due inside the call
                ticks = self.claims.quiet_ticks(rt, on, seg, f.s[on], f.v[on], self.ct.accel[cls], self.ct.brake[cls],
                                                lines, CLAIM_MARGIN_M, self.params.dt, ticks)
        if self.onboard is not None:
            seen_stop, self.v_limit[on] = self.onboard.limits(self.t, on, seg)
            stop[on] = np.minimum(stop[on], seen_stop)
            self.v_limit[f.state == TruckState.ESTOP] = 0.0
        else:
            self.v_limit.fill(np.inf)  # reset each tick: a hold that has ended must not leave its limit behind
        if self._stopping:
            self.v_limit[(f.hold_reason & HOLD_STOP) != 0] = 0.0
        reports = self._reports_within(ticks)
        taken = np.empty((len(reports), 3, f.n)) if reports is not None else self._no_reports_taken
        done, arrived = kinematics.tick(rt, self.ct, self.params.traffic, self.params.dt, f.state, f.route, f.s,
                                        f.v, f.payload_t, f.class_index, f.x, f.y, f.z, f.heading, f.odometer_m,
                                        f.state_time, stop, self.v_limit, self.min_gap, ticks,
                                        kinematics.NO_REPORTS if reports is None else reports, taken, stop_line)
        self.claims.refusals += (done - 1) * asked  # the refused asked again each later tick, refused again
        if reports is not None:
            self._send_reports(self.ticks, reports, done, taken)
        if len(on):
            seg = self.segment_of(f.route[on], f.s[on])
            if rt.has_sections:
                self.claims.release_passed(rt, on, seg, f.s[on])
            if self.onboard is not None:
                for i, obstacle in self.onboard.after_move(on, seg):
                    self._collide(i, obstacle)
        self.ticks += done
        self.t = self.grid.time(self.ticks)
        self._update_link()
        for i in arrived:
            self._arrive(int(i))
        self._drain(self.t)
        if self._sync is not None:
            self._sync(self.t)
        for obs in self.observers:
            obs(self)
        return done

    def within_reach(self, x: float, y: float) -> bool:
        """A moving truck could not stop short of (x, y) at its emergency rate: an obstacle must not appear
        there (it would test nothing but the dice)."""
        f = self.fleet
        cls = f.class_index
        reach = f.v * f.v / (2.0 * self.ct.emergency[cls]) + self.ct.length[cls]
        return bool(np.any(MOVING_STATE[f.state] & (np.hypot(f.x - x, f.y - y) < reach)))

    def _update_link(self) -> None:
        """Radio conditions follow the trucks at a fixed period (links without geometry have no update)."""
        if self._link_update is not None and self.t >= self._next_link_t - 1e-9:
            f = self.fleet
            self._link_update(self.t, f.x, f.y, f.z)
            self._next_link_t += self.params.link_update_period_s
            self._link_outage(self.comms.link.outage)

    def _link_outage(self, outage: np.ndarray) -> None:
        """A truck out of radio contact longer than the timeout holds; when contact returns it resumes and,
        if it was waiting for an order, asks again at once."""
        f = self.fleet
        f.link_lost_since = np.where(outage, np.minimum(f.link_lost_since, self.t), np.inf)
        lost = outage & (self.t - f.link_lost_since >= self.params.link_timeout_s)
        holding = (f.hold_reason & HOLD_LINK) != 0
        self.hold(np.flatnonzero(lost & ~holding), HOLD_LINK, True)
        back = np.flatnonzero(~outage & holding)
        self.hold(back, HOLD_LINK, False)
        self.link_holds += int(np.sum(lost & ~holding))
        for i in back:
            if f.awaiting_order[i]:
                self._request(int(i), "ready")

    def hold(self, trucks: np.ndarray, reason: int, on: bool) -> None:
        """Set or clear a hold reason; trucks on the road with any reason are in HOLD (a controlled stop)."""
        f = self.fleet
        for i in trucks:
            f.hold_reason[i] = (f.hold_reason[i] | reason) if on else (f.hold_reason[i] & ~reason)
            if f.state[i] in (TruckState.TRAVEL_EMPTY, TruckState.TRAVEL_LOADED) and f.hold_reason[i]:
                f.state[i] = TruckState.HOLD
            elif f.state[i] == TruckState.HOLD and not f.hold_reason[i]:
                f.state[i] = self._travel_state(int(i))
        if reason & HOLD_STOP:
            self._stopping = bool(((f.hold_reason & HOLD_STOP) != 0).any())

    def _travel_state(self, i: int) -> TruckState:
        return TruckState.TRAVEL_LOADED if self.fleet.payload_t[i] > 0 else TruckState.TRAVEL_EMPTY

    def _drain(self, now: float) -> None:
        """Fire events and deliver messages due by ``now``, earliest first; events before messages on ties."""
        while True:
            te = self.queue.next_time()
            tm = self.transport.next_due()
            if te is not None and te <= now and (tm is None or te <= tm):
                self.queue.fire_next()
            elif tm is not None and tm <= now:
                self.transport.deliver_next()
            else:
                return

    # -- motion ---------------------------------------------------------------------------------------

    def segment_of(self, route: np.ndarray, s: np.ndarray) -> np.ndarray:
        return kinematics.locate(self.rt, route, s)

    def _collide(self, i: int, obstacle: int) -> None:
        """The truck struck an obstacle: it stops where it is and stands for the incident time."""
        f = self.fleet
        kind = self.hazards.kind_name(obstacle)
        self.onboard.collisions[kind] += 1
        self.hazards.clear(obstacle)
        f.v[i] = 0.0
        f.state[i] = TruckState.ESTOP
        self.onboard.holding[i] = False
        f.hold_reason[i] = 0
        self.log.append((self.t, f.ids[i], f"collision_{kind}", self.rt.routes[f.route[i]].id, float(f.payload_t[i])))
        self.queue.push(self.t + self.onboard.cfg.incident_s, self._resume, i)

    def _resume(self, i: int) -> None:
        f = self.fleet
        if f.state[i] == TruckState.ESTOP:
            f.state[i] = TruckState.TRAVEL_LOADED if f.payload_t[i] > 0 else TruckState.TRAVEL_EMPTY

    def _record(self, i: int, event: str, where: str) -> None:
        self.log.append((self.t, self.fleet.ids[i], event, where, float(self.fleet.payload_t[i])))

    # -- dispatch through the network ---------------------------------------------------------------

    def _request(self, i: int, event: str) -> None:
        """Ask the cloud where to go next; the truck waits for the order (re-asking on time-out)."""
        f = self.fleet
        f.state[i] = TruckState.WAIT_ORDER
        f.v[i] = 0.0
        f.request_seq[i] += 1
        f.awaiting_order[i] = True
        self.comms.event(i, self.t, self._event_body(i, event))
        self.queue.push(self.t + self.params.order_timeout_s, self._order_timeout, i, int(f.request_seq[i]))

    def _event_body(self, i: int, event: str) -> dict[str, Any]:
        f = self.fleet
        material = self.materials[f.material[i]] if f.material[i] >= 0 else None
        at = self.points[f.at[i]].id if f.route[i] < 0 else None
        return {"event": event, "at": at, "payload_t": float(f.payload_t[i]), "material": material,
                "truck_class": self.classes[f.class_index[i]].id, "request": int(f.request_seq[i])}

    def _order_timeout(self, i: int, request: int) -> None:
        f = self.fleet
        if f.awaiting_order[i] and f.request_seq[i] == request:
            sp = self.points[f.at[i]]
            self._record(i, "order_timeout", sp.id)
            if self._can_serve(sp, i):  # e.g. its shovel is back up, or the only sink for its load is here
                f.awaiting_order[i] = False
                self._join(i)
            else:
                self._request(i, "ready")

    def _on_order(self, i: int, body: dict[str, Any], t_arrival: float) -> None:
        if t_arrival > self.t:
            self.queue.push(t_arrival, self._on_order, i, body, t_arrival)
            return
        f = self.fleet
        if not f.awaiting_order[i] or body.get("request") != int(f.request_seq[i]):
            return  # a stale or duplicate order: the truck already has one
        here = self.points[f.at[i]].id
        dest = str(body.get("dest"))
        route = self.by_pair.get((here, dest, int(f.class_index[i]), bool(f.payload_t[i] > 0)))
        unit = self._named_unit(dest, body.get("unit"))
        if route is None or self.rt.routes[route].id != body.get("route") or unit is None:
            self.orders_rejected += 1
            self._record(i, "order_rejected", here)
            return
        f.awaiting_order[i] = False
        f.want_unit[i] = unit
        self._depart(i, route, request=int(f.request_seq[i]))

    def _named_unit(self, dest: str, unit_id: Any) -> int | None:
        """Index of the unit an order names at its destination; -1 for any; None if it has no such unit."""
        if unit_id is None:
            return -1
        found = self.unit_of.get(str(unit_id))
        return found[1].index if found is not None and found[0].id == dest else None

    # -- the site layout the cloud plans on -----------------------------------------------------------

    def layout_body(self) -> dict[str, Any]:
        return {**layout_body(self), **self.layout_extra}
