"""A ``Transport`` over a real MQTT broker with paho-mqtt 2.x, released in simulation time.

paho's network thread only appends raw messages to a hand-over deque; the simulation thread decodes them
(invalid ones are counted in ``rejected`` and dropped), drops duplicates (QoS 1 may deliver twice; overlapping
subscriptions may too) and keeps them in a heap in ``(t_deliver, src, seq)`` order, exactly like the in-process
router. A message this client publishes on a topic it subscribes to is queued locally at once (its echo from the
broker is a duplicate), so it is ordered as the in-process router would order it.

With ``frame_qos0`` (the fleet's side of a run) a QoS 0 message is framed here and handed to paho's network thread
with others as one write (``hand_over``), which spares the simulation thread paho's cost per message; every message
still leaves in the order it was published.

A topic prefix (``net.topics.Topics(site, prefix=...)``) and a unique client id keep parallel runs on one broker
apart. Deterministic co-simulation with another process needs the barrier in ``net.sync``.
"""

from __future__ import annotations

import heapq
import socket
import ssl
import threading
import time
from collections import deque
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from net.broker_url import BrokerUrl, redact
from net.client import BufferedClient
from net.envelope import Envelope
from net.frames import Qos0Frames
from net.receiver import TOPIC_CACHE, Receiver
from net.topics import matches
from net.transport import Handler, Subscriptions

DEFAULT_INFLIGHT = 1000  # QoS 1 messages in flight; paho's default of 20 throttles a fleet's bursts
CREDENTIAL_REASONS = (134, 135)  # CONNACK "Bad user name or password", "Not authorized" (paho's reason codes)
RECONNECT_MAX_DELAY_S = 2.0  # [s] paho's back-off between reconnection attempts is capped here, so a run
# resumes within this long of its broker coming back
YIELD_EVERY = 32  # QoS > 0 messages sent or taken in on the simulation thread between two hand-overs of the GIL
PENDING_TRIM = 4096  # QoS > 0 messages kept for ``flush`` before the acknowledged ones are dropped
# With ``frame_qos0`` (a barrier's leader, which hands them over at each tick, ``hand_over``): QoS 0 messages are
# framed here and given to paho as one packet of its output queue, one write for many messages; paho's publish
# cost a lock, a condition, a wake-up of its network thread (a thread switch) and a write each, most of what a
# telemetry message cost the fleet's side (profiled)
# Each hand-over costs a thread switch, which on a loaded host can take a scheduler slice: so few and large.


class MqttError(RuntimeError):
    """The broker could not be reached, or did not answer in time; the message says which and why."""


class MqttTransport(Receiver):
    """Publish/subscribe through a broker; delivery in simulation time like ``InProcRouter``.

    ``inbox=True``: see ``Receiver``. ``ca_certs``: PEM file of the CA that signed an ``mqtts://`` broker's
    certificate (default: the system's CAs, which OpenSSL also takes from ``SSL_CERT_FILE``). ``url`` keeps the
    broker URL with its password masked, for messages. A connection that fails raises ``MqttError`` naming the
    broker and the cause (unreachable, TLS certificate not accepted, credentials refused, closed, timed out).
    """

    def __init__(self, url: str, client_id: str, *, timeout_s: float = 10.0, inbox: bool = False,
                 max_inflight: int = DEFAULT_INFLIGHT, ca_certs: str | None = None,
                 will: tuple[str, bytes] | None = None, frame_qos0: bool = False) -> None:
        broker = BrokerUrl.parse(url)
        self.url = redact(url)
        self.client_id = client_id
        self.timeout_s = timeout_s
        # The hand-over from paho's thread: deque.append and popleft are atomic, so no lock per message; the
        # event only wakes a ``pump`` that waits, and paho's thread sets it once per batch, not per message.
        self._raw: deque[tuple[str, bytes, bool, bool]] = deque()  # topic, payload, retain, QoS > 0
        self._arrived = threading.Event()
        self._wake_any = True  # False while ``pump`` waits for control messages only (see there)
        self._subs = Subscriptions()
        self._local_topics: dict[str, bool] = {}  # topic -> a publication is queued locally (see ``publish``)
        self._pending: list[mqtt.MQTTMessageInfo] = []  # QoS > 0 messages that may still be unacknowledged
        self._trim_at = PENDING_TRIM
        super().__init__(inbox)
        self.published = self.delivered = 0
        self._confirmed_sent = self._confirmed_taken = 0  # QoS > 0 messages: they pace the GIL hand-overs
        # When a list, (topic, payload, QoS) of each publication is appended: a follower's replies (net.sync).
        self.publish_log: list[tuple[str, bytes, int]] | None = None
        self._cond = threading.Condition()
        self._connected = False
        self._connect_rc: Any = None  # paho's reason code when the broker refused the connection
        self._lost: str | None = None  # why the connection closed, once it has
        self._subacks: set[int] = set()
        self._subacks_refused: set[int] = set()  # subscriptions the broker refused (its ACL): never silent
        # Reconnection: paho reconnects on its own; the filters are subscribed again (a restarted broker has no
        # session), and ``generation`` counts reconnections whose subscriptions are back, so the barrier's peers
        # (net.sync) know to send again what the outage may have swallowed.
        self._all_filters: list[tuple[str, int]] = []  # (filter, QoS) subscribed
        self._resub_mid: int | None = None
        self.generation = 0
        self.outages: list[list[float]] = []  # [lost, back] host monotonic seconds; back is NaN while out
        self.offline_drops = 0  # publications paho refused while disconnected (the barrier sends them again)
        self.muted = False  # while True, publish sends nothing (a follower rebuilding its state from a journal)
        self._closing = False  # a disconnect we asked for is no outage

        c = BufferedClient(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True,
                           protocol=mqtt.MQTTv311)
        if broker.tls:
            try:
                c.tls_set(ca_certs=ca_certs)
            except OSError as exc:  # a missing or unreadable file, or one with no certificate (ssl.SSLError)
                raise MqttError(f"cannot use CA file {ca_certs!r} for broker {self.url}: {exc}") from None
        if broker.username is not None:
            c.username_pw_set(broker.username, broker.password)
        c.max_inflight_messages_set(max_inflight)
        c.max_queued_messages_set(0)
        c.reconnect_delay_set(min_delay=1, max_delay=RECONNECT_MAX_DELAY_S)
        if will is not None:  # e.g. clear a retained hello or claim if this process dies without saying goodbye
            c.will_set(will[0], will[1], qos=1, retain=True)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_subscribe = self._on_subscribe
        c.on_message = self._on_message
        c.on_qos0 = self._on_qos0
        self._client = c
        self._defer_wake = hasattr(c, "_sockpairW")  # paho-mqtt 2.x: see ``hand_over``
        self._frame = frame_qos0 and _FRAMING
        self._frames = Qos0Frames()  # framed QoS 0 PUBLISH packets not yet handed to paho (``frame_qos0``)
        try:
            c.connect(broker.host, broker.port, keepalive=60)
        except ssl.SSLCertVerificationError as exc:
            ca = repr(ca_certs) if ca_certs else "none given, so the system's CAs"
            raise MqttError(f"cannot connect to broker {self.url}: its TLS certificate was not accepted "
                            f"({str(exc.verify_message).rstrip('.')}; CA file: {ca})") from None
        except ssl.SSLError as exc:
            raise MqttError(f"cannot connect to broker {self.url}: TLS handshake failed ({exc.reason or exc}); "
                            "if the port does not speak TLS, use mqtt://") from None
        except OSError as exc:
            # A plain MQTT listener drops a TLS hello (mosquitto) or waits for more (amqtt): a reset or a handshake
            # that times out is the only sign of a wrong scheme.
            wrong_scheme = isinstance(exc, ConnectionResetError) or "handshake" in str(exc)
            hint = "; if the port does not speak TLS, use mqtt://" if broker.tls and wrong_scheme else ""
            raise MqttError(f"cannot connect to broker {self.url}: {exc}{hint}") from None
        _no_delay(c)
        c.loop_start()
        with self._cond:
            answered = self._cond.wait_for(
                lambda: self._connected or self._connect_rc is not None or self._lost is not None, timeout_s)
        if not self._connected:
            self._abandon()
            raise MqttError(self._connect_failure(answered, broker))

    def _connect_failure(self, answered: bool, broker: BrokerUrl) -> str:
        """Why the connection was not accepted, in words that point at the fix."""
        who = f"broker {self.url}"
        if self._connect_rc is not None:
            hint = ""
            if getattr(self._connect_rc, "value", None) in CREDENTIAL_REASONS:
                hint = (" (check the user name and password: mqtt[s]://user:password@host:port)"
                        if broker.username is not None else " (no user name and password were given in the URL)")
            return f"{who} refused the connection of {self.client_id}: {self._connect_rc}{hint}"
        if not answered:
            return f"{who} did not accept the connection of {self.client_id} within {self.timeout_s} s"
        hint = "" if broker.tls else "; if it expects TLS, use mqtts://"
        return f"{who} closed the connection of {self.client_id} before accepting it ({self._lost}){hint}"

    def _abandon(self) -> None:
        """Stop paho's thread at once (a disconnect wakes it; ``loop_stop`` alone waits out its 1 s select)."""
        self._closing = True
        self._client.disconnect()
        self._client.loop_stop()

    # -- paho's network thread: hand over, never block ---------------------------------------------

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        with self._cond:
            if reason_code.is_failure:
                self._connect_rc = reason_code
            else:
                self._connected = True
                _no_delay(client)  # a reconnection is a new socket
                if self.outages and self._all_filters:  # a reconnection: a restarted broker forgot our filters
                    _, self._resub_mid = client.subscribe(self._all_filters)
                elif self.outages:
                    self._back()
            self._cond.notify_all()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        with self._cond:
            if self._connected and not self._closing:
                self.outages.append([time.monotonic(), float("nan")])
            self._connected = False
            self._lost = str(reason_code)
            self.last_error = f"disconnected: {reason_code}"
            self._cond.notify_all()

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        with self._cond:
            if any(rc.is_failure for rc in reason_codes):
                self._subacks_refused.add(mid)
            if mid == self._resub_mid:
                self._resub_mid = None
                self._back()
            else:
                self._subacks.add(mid)
            self._cond.notify_all()

    def _back(self) -> None:
        """The connection is back with its subscriptions (called with ``_cond`` held)."""
        self.outages[-1][1] = time.monotonic()
        self.generation += 1

    @property
    def connected(self) -> bool:
        return self._connected

    def outage_summary(self) -> dict[str, float | int]:
        """How often and how long (host seconds) the broker was out of reach during the run, for timing.json."""
        now = time.monotonic()
        spans = [(back if back == back else now) - lost for lost, back in self.outages]
        return {"outages": len(spans), "outage_wall_s": round(sum(spans), 3), "offline_drops": self.offline_drops}

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        topic = msg.topic
        self._raw.append((topic, msg.payload, bool(msg.retain), msg.qos > 0))
        # Read-only look at the simulation thread's cache (a topic not in it yet wakes, to be safe).
        if (self._wake_any or self._control_topics.get(topic, True)) and not self._arrived.is_set():
            self._arrived.set()

    def _on_qos0(self, batch: list[tuple[str, bytes, bool, bool]]) -> None:
        """QoS 0 messages parsed in one pass by the client (``net.client``), in arrival order."""
        self._raw.extend(batch)
        if not self._arrived.is_set() and (self._wake_any or any(self._control_topics.get(m[0], True)
                                                                 for m in batch)):
            self._arrived.set()

    # -- publish / subscribe ------------------------------------------------------------------------

    def publish(self, topic: str, env: Envelope, qos: int = 0, retain: bool = False) -> bytes:
        """Publish ``env``; returns the bytes sent, which a barrier keeps until its peer has them."""
        if qos not in (0, 1, 2):
            raise ValueError(f"QoS must be 0, 1 or 2, got {qos}")
        if self.muted:
            return b""
        payload = env.to_json()
        self.publish_raw(topic, payload, qos, retain)
        if self.publish_log is not None:
            self.publish_log.append((topic, payload, qos))
        if self._queued_locally(topic):
            self._keep(topic, env, retain=False)  # the broker's echo will be a duplicate
        return payload

    def _queued_locally(self, topic: str) -> bool:
        """Whether this client's own publication on ``topic`` goes into its own queue; cached per topic."""
        found = self._local_topics.get(topic)
        if found is None:
            if len(self._local_topics) >= TOPIC_CACHE:
                self._local_topics.clear()
            found = not self._is_control(topic) and any(matches(f, topic) for f in self._subs.filters)
            self._local_topics[topic] = found
        return found

    def publish_raw(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        """Publish bytes as they are (an empty retained payload clears a retained message). With ``frame_qos0``
        a QoS 0 message is framed for ``hand_over``; what was framed leaves before any other message."""
        if qos == 0 and not retain and self._frame:
            self._add_frame(topic, payload)
            return
        if self._frames.count:
            self.hand_over(wake=False)  # paho's thread is woken by this publication
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc == mqtt.MQTT_ERR_NO_CONN:  # the broker is out of reach: net.sync sends it again once back
            self.offline_drops += 1
            return
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise MqttError(f"publish to {topic} on {self.url} failed: {mqtt.error_string(info.rc)}")
        self.published += 1
        if qos > 0:
            # Paho's network thread must take the GIL to send these and handle their acknowledgements, or the
            # in-flight window fills. QoS 0 needs no answer, and a hand-over there only cost a thread switch
            # (yielding every 32 QoS 0 messages cost ~15% of the QoS 0 throughput with mosquitto).
            self._confirmed_sent += 1
            if self._confirmed_sent % YIELD_EVERY == 0:
                time.sleep(0)
            self._pending.append(info)
            if len(self._pending) > self._trim_at:
                # The next pass only when the list has doubled: while the broker lags more than PENDING_TRIM
                # messages behind, a pass on every publish would cost O(backlog) each (and take a lock per
                # message), which made QoS 1 bursts quadratic.
                self._pending = [i for i in self._pending if not i.is_published()]
                self._trim_at = max(PENDING_TRIM, 2 * len(self._pending))

    def _add_frame(self, topic: str, payload: bytes) -> None:
        """Frame a QoS 0 PUBLISH (net/frames.py) for ``hand_over``."""
        if not self._client.is_connected():  # as paho refuses it: net.sync sends it again once back
            self.offline_drops += 1
            return
        self.published += 1
        if self._frames.add(topic, payload):
            self.hand_over()

    def hand_over(self, max_age_s: float = 0.0, wake: bool = True) -> None:
        """Give paho's network thread the framed QoS 0 messages (``frame_qos0``) as one packet of its output
        queue, which it writes in order with the others; with ``max_age_s``, only once the oldest is that old
        (host time). A barrier's leader calls it at each tick, and this transport before it waits or publishes
        anything else. ``wake=False``: the caller publishes next, which wakes paho's thread anyway."""
        waiting = self._frames
        if not waiting.count or (max_age_s > 0.0 and time.monotonic() - waiting.since < max_age_s):
            return
        frames, n = waiting.take()
        c = self._client
        if not c.is_connected():  # lost since they were framed: as paho would lose them
            self.offline_drops += n
            return
        if wake or not self._defer_wake:
            c._packet_queue(mqtt.PUBLISH, frames, 0, 0, mqtt.MQTTMessageInfo(0))  # wakes paho's thread
            return
        # paho writes a byte to its wake-up socket when one is set: a thread switch, saved when the caller's own
        # publication wakes it next
        waker, c._sockpairW = c._sockpairW, None
        try:
            c._packet_queue(mqtt.PUBLISH, frames, 0, 0, mqtt.MQTTMessageInfo(0))
        finally:
            c._sockpairW = waker

    def _subscribe_wait(self, topic_filter: str, qos: int = 1) -> None:
        self._all_filters.append((topic_filter, qos))
        rc, mid = self._client.subscribe(topic_filter, qos=qos)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise MqttError(f"subscribe to {topic_filter} on {self.url} failed: {mqtt.error_string(rc)}")
        with self._cond:
            if not self._cond.wait_for(lambda: mid in self._subacks, self.timeout_s):
                raise MqttError(f"broker {self.url} did not acknowledge the subscription to {topic_filter} "
                                f"within {self.timeout_s} s")
            self._subacks.discard(mid)
            if mid in self._subacks_refused:
                raise MqttError(f"broker {self.url} refused {self.client_id}'s subscription to {topic_filter} "
                                "(its ACL does not let this account read it)")

    def subscribe(self, topic_filter: str, handler: Handler, qos: int = 1) -> None:
        """Route messages matching the filter to ``handler``; returns once the broker has confirmed. ``qos``: see
        ``net.transport.Transport.subscribe``."""
        if qos not in (0, 1):
            raise ValueError(f"subscription QoS must be 0 or 1, got {qos}")
        self._subs.add(topic_filter, handler)
        self._local_topics.clear()
        self._subscribe_wait(topic_filter, qos)

    def subscribe_control(self, topic_filter: str) -> None:
        """Subscribe for the barrier's messages: they go to ``control``, not into simulation time."""
        self.add_control_filter(topic_filter)
        self._subscribe_wait(topic_filter)

    def add_control_filter(self, topic_filter: str) -> None:
        super().add_control_filter(topic_filter)
        self._local_topics.clear()  # a control topic is never queued locally

    @property
    def filters(self) -> list[str]:
        return self._subs.filters

    # -- the simulation thread ----------------------------------------------------------------------

    def pump(self, timeout_s: float = 0.0, control_only: bool = False) -> int:
        """Take what paho has received (waiting up to ``timeout_s`` for the first one); returns how many.

        ``control_only``: the wait ends early only for a control message (a follower idle between barriers):
        waking the simulation thread for each telemetry message cost a thread switch each; those wait in the
        hand-over and are taken in with the next control message (at most a barrier's worth, ``net.sync``)."""
        raw = self._raw
        if not raw:
            if timeout_s <= 0:
                return 0
            self.hand_over()  # what this waits for may answer a message still framed
            self._wake_any = not control_only
            self._arrived.clear()  # cleared before the second look, so an append after it always sets it
            if not raw and not self._arrived.wait(timeout_s):
                return 0
        n = 0
        accept, take = self.accept, raw.popleft
        while raw:  # only this thread takes from the deque, so it is not empty when popped
            topic, payload, retain, confirmed = take()
            accept(topic, payload, retain)
            n += 1
            if confirmed:  # paho's thread must acknowledge these, or the broker's in-flight window to us fills
                self._confirmed_taken += 1
                if self._confirmed_taken % YIELD_EVERY == 0:
                    time.sleep(0)
        return n

    def next_due(self) -> float | None:
        self.pump()
        return self._heap[0][0] if self._heap else None

    def deliver_next(self) -> None:
        *_, topic, env = heapq.heappop(self._heap)
        self.dispatch(topic, env)

    def dispatch(self, topic: str, env: Envelope) -> None:
        """Hand one message to every handler whose filter matches its topic, in subscription order."""
        self.delivered += 1
        for h in self._subs.handlers(topic):
            h(topic, env)

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait until the broker has acknowledged every QoS > 0 message published so far."""
        deadline = time.monotonic() + (self.timeout_s if timeout_s is None else timeout_s)
        self.hand_over()
        for info in self._pending:
            left = deadline - time.monotonic()
            if left <= 0 or not self._wait_published(info, left):
                raise MqttError(f"broker {self.url} did not acknowledge {self.client_id}'s messages in time")
        self._pending.clear()
        self._trim_at = PENDING_TRIM

    @staticmethod
    def _wait_published(info: mqtt.MQTTMessageInfo, timeout_s: float) -> bool:
        try:
            info.wait_for_publish(timeout_s)
        except (RuntimeError, ValueError):
            return False
        return info.is_published()

    def counts(self) -> dict[str, int]:
        return {**super().counts(), "published": self.published, "delivered": self.delivered}

    def close(self) -> None:
        """Send what is queued, then disconnect and stop paho's thread."""
        try:
            self.flush()
        finally:
            self._closing = True
            self._client.disconnect()
            self._client.loop_stop()

    def __enter__(self) -> MqttTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ``frame_qos0`` queues packets in paho's output through its ``_packet_queue`` (paho-mqtt 2.x); a paho without it
# publishes them one by one, as any other.
_FRAMING = callable(getattr(mqtt.Client, "_packet_queue", None))


def _no_delay(client: mqtt.Client) -> None:
    """Without it, Nagle's algorithm and delayed ACKs hold small packets for ~40 ms each way: a barrier a tick
    would crawl. Set on every connection, since paho opens a new socket when it reconnects."""
    sock = client.socket()
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
