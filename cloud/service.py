"""The cloud service: listens to the fleet, keeps the twin, answers dispatch requests with orders.

It reacts to messages only, in the simulation time they carry, so it runs the same in-process or as its own
process on a broker. Host time spent deciding is measured separately (never part of a result).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from numba import njit

from cloud.layout import Layout
from cloud.planners import PlannerSpec, make_planner
from cloud.planners.base import Planner, PlanningError, Request
from cloud.twin import FleetTwin
from metrics.quantiles import Quantiles
from net.auth import SiteKey, sign
from net.batch import TelemetryBatch, TelemetryPeriods
from net.envelope import Envelope, EnvelopeError
from net.schemas import MAX_COORD_M, MAX_PAYLOAD_T, MAX_SPEED_MPS, TRUCK_STATES, validate
from net.topics import Topics
from net.transport import Transport

REQUEST_EVENTS = ("loaded", "dumped", "ready")
_KNOWN_STATES = frozenset(TRUCK_STATES)


class CloudService:
    def __init__(self, transport: Transport, topics: Topics, planner: Planner | None,
                 key: SiteKey | None = None) -> None:
        """``planner`` None: the one the site layout names (its options and seed too), made when it arrives.
        ``key``: the site key every order is signed with, since trucks obey only signed orders (None: unsigned,
        for a fleet that checks nothing)."""
        self.transport = transport
        self._key = key
        self.topics = topics
        self.planner = planner
        self.twin = FleetTwin()
        self._states_known: list[str] | None = None  # the last telemetry state names found valid (``_known_states``)
        self.layout: Layout | None = None
        self.seq = 0
        self.estop_seq = 0
        self.orders = 0
        self.failed = 0  # requests no order could be given for
        self.rejected = 0  # malformed messages dropped
        self.decision_host_s = Quantiles()  # [s] host time per decision (bounded over any shift)
        self._pending: list[tuple[str, dict[str, Any]]] = []  # requests that came before the layout
        transport.subscribe(topics.layout, self._on_layout)
        transport.subscribe(topics.event("+"), self._on_event)
        transport.subscribe(topics.telemetry("+"), self._on_telemetry, qos=0)  # published at QoS 0 alone
        on_batch = getattr(transport, "on_batch", None)
        if on_batch is not None:  # a transport that can hand over every truck's telemetry as columns
            on_batch(self._on_telemetry, self._on_telemetry_batch, self._on_telemetry_periods)
        transport.subscribe(topics.equipment, self._on_equipment)

    def follower_terms(self) -> dict[str, Any]:
        """What the cloud declares to a barrier's leader (``net.follower.serve_follower``): telemetry is never
        answered, and of the trucks' events only requests are, so the leader waits for neither."""
        return {"quiet": [self.topics.telemetry("+")], "answered": {self.topics.event("+"): list(REQUEST_EVENTS)}}

    def planner_stats(self) -> dict[str, Any] | None:
        """The planner's own simulated figures, for planners that keep any (``stats()``); None for the others."""
        stats = getattr(self.planner, "stats", None)
        return stats() if callable(stats) else None

    def _valid(self, env: Envelope) -> bool:
        """Schema check on receipt: a malformed message is counted and dropped, never a crash."""
        try:
            validate(env.kind, env.body)
        except EnvelopeError:
            self.rejected += 1
            return False
        return True

    def _on_layout(self, topic: str, env: Envelope) -> None:
        if not self._valid(env):
            return
        try:
            layout = Layout(env.body)
            planner = self.planner or make_planner(PlannerSpec.from_body(env.body["planner"]))
        except (KeyError, TypeError, ValueError):  # PlannerConfigError is a ValueError
            self.rejected += 1
            return
        self.layout, self.planner = layout, planner
        pending, self._pending = self._pending, []
        for truck, body in pending:
            self._answer(truck, env.t_deliver, body)

    def _on_telemetry(self, topic: str, env: Envelope) -> None:
        if not self._valid(env):
            return
        try:
            self.twin.on_telemetry(env.src, env.t_deliver, env.body)
        except (KeyError, TypeError, ValueError):
            self.rejected += 1

    def _known_states(self, states: list[str]) -> bool:
        """Whether every state name is one the schema knows. A fleet hands the same list with several periods'
        batches (its trucks change state only between them), so the last list found good is remembered."""
        if not _KNOWN_STATES.issuperset(states):
            return False
        self._states_known = states
        return True

    def _on_telemetry_batch(self, batch: TelemetryBatch) -> None:
        """The same checks and the same twin as one message at a time (``_on_telemetry``), on columns. A batch
        arrives every telemetry period: one compiled pass passes a clean one; a faulty one is sorted row by row."""
        if (_in_range(batch.x, batch.y, batch.v, batch.payload_t, MAX_COORD_M, MAX_SPEED_MPS, MAX_PAYLOAD_T)
                and (batch.state is self._states_known or self._known_states(batch.state))):
            self.twin.on_telemetry_batch(batch.src, batch.t_deliver, batch.x, batch.y, batch.v, batch.state,
                                         batch.payload_t)
            return
        ok = ((np.abs(batch.x) <= MAX_COORD_M) & (np.abs(batch.y) <= MAX_COORD_M)
              & (batch.v >= 0.0) & (batch.v <= MAX_SPEED_MPS)
              & (batch.payload_t >= 0.0) & (batch.payload_t <= MAX_PAYLOAD_T))
        if not _KNOWN_STATES.issuperset(batch.state):
            ok &= np.isin(np.asarray(batch.state), TRUCK_STATES)
        if not ok.all():
            self.rejected += int(np.sum(~ok))
            keep = np.flatnonzero(ok)
            batch = TelemetryBatch(batch.t_sent, batch.t_deliver, [batch.src[k] for k in keep.tolist()],
                                   [batch.seq[k] for k in keep.tolist()], batch.x[keep], batch.y[keep], batch.v[keep],
                                   [batch.state[k] for k in keep.tolist()], batch.payload_t[keep])
        self.twin.on_telemetry_batch(batch.src, batch.t_deliver, batch.x, batch.y, batch.v, batch.state,
                                     batch.payload_t)

    def _on_telemetry_periods(self, periods: TelemetryPeriods) -> None:
        """Several periods' batches, in order (``_on_telemetry_batch`` each). When every row of every period is
        clean, only the last period is written: each period's write replaces the one before it for every row it
        writes, and the last is the newest, so the twin ends as after all of them (nothing reads it between)."""
        last = periods.periods - 1
        if (_periods_in_range(periods.x, periods.y, periods.v, periods.payload_t, MAX_COORD_M, MAX_SPEED_MPS,
                              MAX_PAYLOAD_T)
                and (periods.state is self._states_known or self._known_states(periods.state))):
            self.twin.on_telemetry_batch(periods.src, periods.t_deliver[last], periods.x[last], periods.y[last],
                                         periods.v[last], periods.state, periods.payload_t)
            return
        for j in range(periods.periods):
            self._on_telemetry_batch(periods.period(j))

    def _on_equipment(self, topic: str, env: Envelope) -> None:
        if self._valid(env):
            self.twin.on_equipment(env.body)

    def _on_event(self, topic: str, env: Envelope) -> None:
        if not self._valid(env):
            return
        body = env.body
        try:
            self.twin.on_event(env.src, env.t_deliver, body)
        except (TypeError, ValueError):
            self.rejected += 1
            return
        if body.get("event") in REQUEST_EVENTS:
            self._answer(env.src, env.t_deliver, body)

    def estop(self, t: float, trucks: list[str] | None = None, engage: bool = True, reason: str = "operator") -> None:
        """Send the remote e-stop at simulation time ``t`` to ``trucks`` (None: every truck), or release it
        (``engage=False``). Signed like an order: trucks obey nobody else."""
        self.estop_seq += 1
        body = {"trucks": list(trucks or []), "engage": engage, "reason": reason}
        env = Envelope(kind="estop", src="cloud", seq=self.estop_seq, t_sent=t, t_deliver=t, body=body)
        if self._key is not None:
            env.sig = sign(self._key, self.topics.estop, env)
        self.transport.publish(self.topics.estop, env, qos=1)

    def _answer(self, truck: str, t: float, body: dict[str, Any]) -> None:
        if self.layout is None:
            self._pending.append((truck, body))  # answered as soon as the site layout arrives
            return
        try:
            req = Request(truck=truck, truck_class=str(body["truck_class"]), at=str(body["at"]),
                          payload_t=float(body["payload_t"]), material=body.get("material"), t=t)
        except (KeyError, TypeError, ValueError):
            self.rejected += 1
            return
        started = time.perf_counter()
        try:
            order = self.planner.plan(req, self.twin, self.layout)
        except PlanningError:
            self.failed += 1
            return
        finally:
            self.decision_host_s.add(time.perf_counter() - started)
        self.twin.on_order(truck, order.dest, t)
        self.seq += 1
        self.orders += 1
        order_body = {"dest": order.dest, "route": order.route, "request": body.get("request")}
        if order.unit is not None:
            order_body["unit"] = order.unit
        sent = t + order.delay_s  # a planner whose decision takes simulated time (pangu) sends its order that late
        env = Envelope(kind="order", src="cloud", seq=self.seq, t_sent=sent, t_deliver=sent, body=order_body)
        topic = self.topics.dispatch(truck)
        if self._key is not None:
            env.sig = sign(self._key, topic, env)
        self.transport.publish(topic, env, qos=1)


@njit(cache=True)
def _in_range(x: np.ndarray, y: np.ndarray, v: np.ndarray, payload_t: np.ndarray, max_coord: float, max_speed: float,
              max_payload: float) -> bool:
    """Every row of a telemetry batch within the schema's ranges (NaN is not)."""
    for k in range(len(x)):
        if not (abs(x[k]) <= max_coord and abs(y[k]) <= max_coord and 0.0 <= v[k] <= max_speed
                and 0.0 <= payload_t[k] <= max_payload):
            return False
    return True


@njit(cache=True)
def _periods_in_range(x: np.ndarray, y: np.ndarray, v: np.ndarray, payload_t: np.ndarray, max_coord: float,
                      max_speed: float, max_payload: float) -> bool:
    """``_in_range`` for every period (row) of ``x``, ``y``, ``v`` with the payloads they share."""
    for j in range(x.shape[0]):  # noqa: SIM110 (a loop numba compiles, not a generator)
        if not _in_range(x[j], y[j], v[j], payload_t, max_coord, max_speed, max_payload):
            return False
    return True
