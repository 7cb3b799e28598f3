"""The trucks' side of messaging: events, dispatch requests, telemetry, and orders coming back.

Every message goes through the transport with its delivery time decided by the link model when it is sent
(uplink) or when it reaches the truck side (downlink), so radio effects land in simulation time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fleet.failures import CloudOutage
from net.auth import REASONS, SiteKey, Verifier
from net.batch import TelemetryBatch, TelemetryPeriods
from net.envelope import Envelope, EnvelopeError
from net.link import LinkModel
from net.schemas import validate
from net.topics import Topics
from net.transport import Transport

OrderHandler = Callable[[int, dict[str, Any], float], None]
EstopHandler = Callable[[int, bool, float], None]


class FleetComms:
    def __init__(self, transport: Transport, topics: Topics, link: LinkModel, truck_ids: list[str],
                 key: SiteKey | None = None) -> None:
        """``key``: the site key orders must be signed with; anyone on the broker can write to a dispatch topic,
        so with a key an order that fails ``net.auth.Verifier`` is dropped and counted, never obeyed. None checks
        nothing (a bare fleet in unit tests)."""
        self.transport = transport
        self.topics = topics
        self.link = link
        self.ids = truck_ids
        self.index = {tid: i for i, tid in enumerate(truck_ids)}
        self._seq = np.zeros(len(truck_ids), dtype=np.int64)  # messages sent, per truck
        self._by_src = np.argsort(np.asarray(truck_ids), kind="stable")  # delivery order of a batch
        self._in_src_order = bool(np.array_equal(self._by_src, np.arange(len(truck_ids))))  # T001, T002, ...
        self._ids_by_src = [truck_ids[i] for i in self._by_src.tolist()]
        self._site_seq = 0
        self._state_names: tuple[np.ndarray | None, list[str]] = (None, [])  # a state array and its list
        self.sent = 0
        self.lost = 0
        self.rejected = 0  # malformed or unknown-truck messages dropped
        self.verifier = Verifier(key) if key is not None else None
        self.orders_refused = dict.fromkeys(REASONS, 0)  # orders failing authentication, by reason
        self.estops_refused = dict.fromkeys(REASONS, 0)  # e-stop commands failing authentication, by reason
        self._event_topics = [topics.event(t) for t in truck_ids]
        self._telemetry_topics = [topics.telemetry(t) for t in truck_ids]
        self.outage = CloudOutage()  # the scenario's cloud outages (the engine sets them): the backhaul drops

    def _envelope(self, i: int, kind: str, t: float, body: dict[str, Any]) -> Envelope:
        self._seq[i] += 1
        return Envelope(kind=kind, src=self.ids[i], seq=int(self._seq[i]), t_sent=t, body=body)

    def _size(self, env: Envelope) -> int:
        """Bytes on the air, for links whose delay depends on it (the time fields hold placeholders)."""
        if not getattr(self.link, "needs_size", False):
            return 0
        if env.t_deliver != env.t_deliver:  # NaN until the link decides
            env.t_deliver = env.t_sent
        return len(env.to_json())

    def _send(self, i: int, topic: str, env: Envelope, qos: int) -> None:
        size = self._size(env)
        t_deliver = self.link.uplink(self.ids[i], env.t_sent, size, qos)
        self.sent += 1
        if t_deliver is None:
            self.lost += 1
            return
        if self.outage.end_of(t_deliver) is not None:  # past the radio, the cloud is cut off
            self.outage.lost["uplink"] += 1
            return
        env.t_deliver = t_deliver
        self.transport.publish(topic, env, qos=qos)

    def event(self, i: int, t: float, body: dict[str, Any]) -> None:
        """Cycle events (QoS 1): loaded, dumped, ready (a dispatch request), hold, estop."""
        self._send(i, self._event_topics[i], self._envelope(i, "event", t, body), qos=1)

    def telemetry(self, i: int, t: float, body: dict[str, Any]) -> None:
        self._send(i, self._telemetry_topics[i], self._envelope(i, "telemetry", t, body), qos=0)

    def telemetry_all(self, t: float, x: np.ndarray, y: np.ndarray, v: np.ndarray, state: np.ndarray,
                      payload_t: np.ndarray) -> None:
        """Every truck's telemetry at ``t`` (QoS 0). As one columnar batch where the transport takes batches and
        the link delivers them all at once without needing their size (net/batch.py); else one message each.
        ``state``: the state names, an array of str objects. The arrays may become the batch's own: pass ones
        that nothing changes afterwards."""
        if not self._batches():
            xs, ys, vs, loads = x.tolist(), y.tolist(), v.tolist(), payload_t.tolist()
            for i in range(len(self.ids)):
                self.telemetry(i, t, {"x": xs[i], "y": ys[i], "v": vs[i], "state": state[i], "payload_t": loads[i]})
            return
        self._batch(t, self.link.uplink_all(t), x, y, v, state, payload_t)

    def _batches(self) -> bool:
        """Telemetry goes as batches: the transport takes them, and the link delivers every truck's message at once
        without needing its size (``uplink_all``)."""
        return (getattr(self.link, "uplink_all", None) is not None
                and getattr(self.transport, "publish_batch", None) is not None
                and not getattr(self.link, "needs_size", False))

    def _batch(self, t: float, t_deliver: float, x: np.ndarray, y: np.ndarray, v: np.ndarray, state: np.ndarray,
               payload_t: np.ndarray) -> None:
        """Publish every truck's telemetry sent at ``t`` and delivered at ``t_deliver`` as one batch."""
        n = len(self.ids)
        self._seq += 1
        self.sent += n
        if self.outage.end_of(t_deliver) is not None:  # past the radio, the cloud is cut off
            self.outage.lost["uplink"] += n
            return
        x, y, v, names, payload_t, seq = self._by_sender(x, y, v, state, payload_t, self._seq)
        self.transport.publish_batch(TelemetryBatch(t, t_deliver, self._ids_by_src, seq.tolist(), x, y, v, names,
                                                    payload_t), self.topics.telemetry)

    def _by_sender(self, x: np.ndarray, y: np.ndarray, v: np.ndarray, state: np.ndarray, payload_t: np.ndarray,
                   seq: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], np.ndarray, np.ndarray]:
        """The columns (the last axis of ``x``, ``y``, ``v``) in the order batches list their senders, and the state
        names as a list: the same list for the same ``state`` array (the reports of one kernel call share it)."""
        if not self._in_src_order:
            order = self._by_src
            x, y, v, state, payload_t, seq = x[..., order], y[..., order], v[..., order], state[order], \
                payload_t[order], seq[order]
        if state is not self._state_names[0]:
            self._state_names = (state, state.tolist())
        return x, y, v, self._state_names[1], payload_t, seq

    def telemetry_periods(self, times: list[float], x: np.ndarray, y: np.ndarray, v: np.ndarray, state: np.ndarray,
                          payload_t: np.ndarray) -> None:
        """``telemetry_all`` at each of ``times`` in turn, row ``j`` of ``x``, ``y``, ``v`` being the columns at
        ``times[j]``; state names and payloads the same at all of them. As one ``TelemetryPeriods`` where every
        period would be one batch and the transport takes periods (net/batch.py); else period by period."""
        publish_periods = getattr(self.transport, "publish_periods", None)
        if len(times) < 2 or publish_periods is None or not self._batches():
            for j, t in enumerate(times):
                self.telemetry_all(t, x[j], y[j], v[j], state, payload_t)
            return
        delivered = [self.link.uplink_all(t) for t in times]
        if any(self.outage.end_of(t) is not None for t in delivered):
            for j, t in enumerate(times):
                self._batch(t, delivered[j], x[j], y[j], v[j], state, payload_t)
            return
        seq0 = self._seq + 1
        self._seq += len(times)
        self.sent += len(times) * len(self.ids)
        x, y, v, names, payload_t, seq0 = self._by_sender(x, y, v, state, payload_t, seq0)
        publish_periods(TelemetryPeriods(times, delivered, self._ids_by_src, seq0, x, y, v, names, payload_t),
                        self.topics.telemetry)

    def publish_layout(self, t: float, body: dict[str, Any]) -> None:
        self._site_seq += 1
        env = Envelope(kind="layout", src="site", seq=self._site_seq, t_sent=t, body=body,
                       t_deliver=self._site_delivery(t))
        self.transport.publish(self.topics.layout, env, qos=1, retain=True)

    def equipment(self, t: float, body: dict[str, Any]) -> None:
        """A shovel or bay out of service or back (QoS 1), from the site's own systems: no radio hop."""
        self._site_seq += 1
        env = Envelope(kind="equipment", src="site", seq=self._site_seq, t_sent=t, body=body,
                       t_deliver=self._site_delivery(t))
        self.transport.publish(self.topics.equipment, env, qos=1)

    def _site_delivery(self, t: float) -> float:
        """When a site message sent at ``t`` reaches the cloud: at once, or when a cloud outage ends."""
        end = self.outage.end_of(t)
        if end is None:
            return t
        self.outage.held += 1
        return end

    def _command(self, topic: str, env: Envelope, refused: dict[str, int]) -> bool:
        """Whether a command (an order or an e-stop) is to be carried to its trucks: authentic (else counted in
        ``refused`` by reason), well formed (else counted as rejected), and sent while the cloud was reachable (a
        cloud cut off by an outage commands nothing)."""
        if self.verifier is not None:
            reason = self.verifier.check(topic, env)
            if reason is not None:
                refused[reason] += 1
                return False
        try:
            validate(env.kind, env.body)
        except EnvelopeError:
            self.rejected += 1
            return False
        if self.outage.end_of(env.t_deliver) is not None:
            self.outage.lost["downlink"] += 1
            return False
        return True

    def listen(self, on_order: OrderHandler) -> None:
        """Route dispatch orders to ``on_order(truck index, body, t_arrival)``."""

        def handle(topic: str, env: Envelope) -> None:
            truck = topic.rsplit("/", 1)[-1]
            i = self.index.get(truck)
            if i is None or env.kind != "order":
                self.rejected += 1
                return
            if not self._command(topic, env, self.orders_refused):
                return
            size = self._size(env)
            t_arrival = self.link.downlink(truck, env.t_deliver, size, 1)
            if t_arrival is None:
                self.lost += 1
                return
            on_order(i, env.body, t_arrival)

        self.transport.subscribe(self.topics.dispatch("+"), handle)

    def listen_estop(self, on_estop: EstopHandler) -> None:
        """Route the cloud's remote e-stop to ``on_estop(truck index, engage, t_arrival)`` for each truck it names
        (every truck when it names none). Each truck hears it over its own downlink, so the stop lands one radio
        latency after the cloud sent it; a truck out of coverage holds on its own after the link time-out."""

        def handle(topic: str, env: Envelope) -> None:
            if env.kind != "estop":
                self.rejected += 1
                return
            if not self._command(topic, env, self.estops_refused):
                return
            named = env.body["trucks"] or self.ids
            targets = [self.index[t] for t in named if t in self.index]
            size = self._size(env)
            for i in targets:
                t_arrival = self.link.downlink(self.ids[i], env.t_deliver, size, 1)
                if t_arrival is None:
                    self.lost += 1
                    continue
                on_estop(i, bool(env.body["engage"]), t_arrival)

        self.transport.subscribe(self.topics.estop, handle)

