"""A ``Transport`` over a real MQTT broker with paho-mqtt 2.x, released in simulation time.

paho's network thread only puts raw messages into a queue; the simulation thread decodes them (invalid ones are
counted in ``rejected`` and dropped), drops duplicates (QoS 1 may deliver twice; overlapping subscriptions may
too) and keeps them in a heap in ``(t_deliver, src, seq)`` order, exactly like the in-process router. A message
this client publishes on a topic it subscribes to is queued locally at once (its echo from the broker is a
duplicate), so it is ordered as the in-process router would order it.

A topic prefix (``net.topics.Topics(site, prefix=...)``) and a unique client id keep parallel runs on one broker
apart. Deterministic co-simulation with another process needs the barrier in ``net.sync``.
"""

from __future__ import annotations

import heapq
import itertools
import queue
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from net import schemas
from net.envelope import Envelope, EnvelopeError
from net.topics import matches
from net.transport import Handler, Subscriptions

DEDUP_WINDOW = 200_000  # message keys remembered for duplicate detection (duplicates arrive close together)
DEFAULT_INFLIGHT = 1000  # QoS 1 messages in flight; paho's default of 20 throttles a fleet's bursts
YIELD_EVERY = 32  # messages handled on the simulation thread between two hand-overs of the GIL
Key = tuple[str, str, int]  # (topic, src, seq): a message's identity


class MqttError(RuntimeError):
    """The broker could not be reached, or did not answer in time; the message says which and why."""


@dataclass(frozen=True)
class BrokerUrl:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        """``mqtt://[user:password@]host[:port]`` (default port 1883) or ``mqtts://...`` (TLS, default 8883)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"broker URL must look like mqtt://host:port or mqtts://host:port, got {url!r}")
        tls = parts.scheme == "mqtts"
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise ValueError(f"broker URL {url!r} has a bad port") from None
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(parts.hostname, port, tls, user, password)


class Receiver:
    """The receiving side: decode, count, drop duplicates, and queue in ``(t_deliver, src, seq)`` order.

    Every payload handed to ``accept`` is counted once: received = accepted + rejected + duplicates + empty.
    With ``inbox=True`` messages are kept by key in ``inbox`` instead of the heap, for a follower whose delivery
    order its leader dictates (``net.sync``).
    """

    def __init__(self, inbox: bool = False) -> None:
        self._heap: list[tuple[float, str, int, int, str, Envelope]] = []
        self._tie = itertools.count()
        self._control_filters: list[str] = []
        self.control: deque[tuple[str, Envelope]] = deque()  # messages on control filters (the barrier's)
        self.inbox: dict[Key, tuple[str, Envelope]] | None = {} if inbox else None
        self._seen: set[tuple[str, str, int, bool]] = set()
        self._seen_order: deque[tuple[str, str, int, bool]] = deque()
        self.received = self.accepted = self.rejected = self.duplicates = self.empty = 0
        self.remote_kept = 0  # messages from the broker queued for delivery (not control, not own echoes)
        self.last_error: str | None = None

    def add_control_filter(self, topic_filter: str) -> None:
        """Messages matching this filter go to ``control`` as they arrive, not into simulation time."""
        self._control_filters.append(topic_filter)

    def _is_control(self, topic: str) -> bool:
        return any(matches(f, topic) for f in self._control_filters)

    def _first(self, topic: str, env: Envelope, retain: bool) -> bool:
        """True the first time a message is seen; a repeat is counted as a duplicate."""
        key = (topic, env.src, env.seq, retain)
        if key in self._seen:
            self.duplicates += 1
            return False
        self._seen.add(key)
        self._seen_order.append(key)
        if len(self._seen_order) > DEDUP_WINDOW:
            self._seen.discard(self._seen_order.popleft())
        return True

    def _keep(self, topic: str, env: Envelope, retain: bool) -> bool:
        if not self._first(topic, env, retain):
            return False
        if self.inbox is not None:
            self.inbox[(topic, env.src, env.seq)] = (topic, env)
        else:
            heapq.heappush(self._heap, (env.t_deliver, env.src, env.seq, next(self._tie), topic, env))
        return True

    def accept(self, topic: str, payload: bytes, retain: bool) -> None:
        self.received += 1
        if not payload:
            self.empty += 1  # a retained message being cleared
            return
        try:
            env = schemas.decode(topic, payload)
        except EnvelopeError as exc:
            self.rejected += 1
            self.last_error = f"{topic}: {exc}"
            return
        if self._is_control(topic):
            if self._first(topic, env, retain):
                self.accepted += 1
                self.control.append((topic, env))
        elif self._keep(topic, env, retain):
            self.accepted += 1
            self.remote_kept += 1

    def peek_key(self) -> tuple[float, str, int] | None:
        """(t_deliver, src, seq) of the next message due, or None (without taking in new ones)."""
        return self._heap[0][:3] if self._heap else None

    def counts(self) -> dict[str, int]:
        """Receive-side accounting: received = accepted + rejected + duplicates + empty."""
        return {"received": self.received, "accepted": self.accepted, "rejected": self.rejected,
                "duplicates": self.duplicates, "empty": self.empty}


class MqttTransport(Receiver):
    """Publish/subscribe through a broker; delivery in simulation time like ``InProcRouter``.

    ``inbox=True``: see ``Receiver``.
    """

    def __init__(self, url: str, client_id: str, *, timeout_s: float = 10.0, inbox: bool = False,
                 max_inflight: int = DEFAULT_INFLIGHT, ca_certs: str | None = None) -> None:
        self.url = url
        self.client_id = client_id
        self.timeout_s = timeout_s
        self._raw: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
        self._subs = Subscriptions()
        self._pending: list[mqtt.MQTTMessageInfo] = []
        super().__init__(inbox)
        self.published = self.delivered = 0
        self.publish_log: list[str] | None = None  # when a list, topics published are appended (net.sync)
        self._cond = threading.Condition()
        self._connected = False
        self._connect_rc: str | None = None
        self._subacks: set[int] = set()

        broker = BrokerUrl.parse(url)
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True,
                        protocol=mqtt.MQTTv311)
        if broker.tls:
            c.tls_set(ca_certs=ca_certs)
        if broker.username is not None:
            c.username_pw_set(broker.username, broker.password)
        c.max_inflight_messages_set(max_inflight)
        c.max_queued_messages_set(0)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_subscribe = self._on_subscribe
        c.on_message = self._on_message
        self._client = c
        try:
            c.connect(broker.host, broker.port, keepalive=60)
        except OSError as exc:
            raise MqttError(f"cannot connect to broker {url}: {exc}") from None
        sock = c.socket()
        if isinstance(sock, socket.socket):
            # Without it, Nagle's algorithm and delayed ACKs hold small packets for ~40 ms each way.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.loop_start()
        with self._cond:
            if not self._cond.wait_for(lambda: self._connected or self._connect_rc is not None, timeout_s):
                c.loop_stop()
                raise MqttError(f"broker {url} did not accept the connection of {client_id} within {timeout_s} s")
        if not self._connected:
            c.loop_stop()
            raise MqttError(f"broker {url} refused {client_id}: {self._connect_rc}")

    # -- paho's network thread: hand over, never block ---------------------------------------------

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        with self._cond:
            if reason_code.is_failure:
                self._connect_rc = str(reason_code)
            else:
                self._connected = True
            self._cond.notify_all()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        with self._cond:
            self._connected = False
            self.last_error = f"disconnected: {reason_code}"
            self._cond.notify_all()

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        with self._cond:
            self._subacks.add(mid)
            self._cond.notify_all()

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self._raw.put((msg.topic, msg.payload, bool(msg.retain)))

    # -- publish / subscribe ------------------------------------------------------------------------

    def publish(self, topic: str, env: Envelope, qos: int = 0, retain: bool = False) -> None:
        if qos not in (0, 1, 2):
            raise ValueError(f"QoS must be 0, 1 or 2, got {qos}")
        self.publish_raw(topic, env.to_json(), qos, retain)
        if self.publish_log is not None:
            self.publish_log.append(topic)
        if not self._is_control(topic) and any(matches(f, topic) for f in self._subs.filters):
            self._keep(topic, env, retain=False)  # the broker's echo will be a duplicate

    def publish_raw(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        """Publish bytes as they are (an empty retained payload clears a retained message)."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise MqttError(f"publish to {topic} on {self.url} failed: {mqtt.error_string(info.rc)}")
        self.published += 1
        if self.published % YIELD_EVERY == 0:
            time.sleep(0)  # let paho's network thread take the GIL: it sends these and acknowledges ours
        if qos > 0:
            self._pending.append(info)
            if len(self._pending) > 4096:
                self._pending = [i for i in self._pending if not i.is_published()]

    def _subscribe_wait(self, topic_filter: str) -> None:
        rc, mid = self._client.subscribe(topic_filter, qos=1)
        if rc != mqtt.MQTT_ERR_SUCCESS:
            raise MqttError(f"subscribe to {topic_filter} on {self.url} failed: {mqtt.error_string(rc)}")
        with self._cond:
            if not self._cond.wait_for(lambda: mid in self._subacks, self.timeout_s):
                raise MqttError(f"broker {self.url} did not acknowledge the subscription to {topic_filter} "
                                f"within {self.timeout_s} s")
            self._subacks.discard(mid)

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        """Route messages matching the filter to ``handler``; returns once the broker has confirmed."""
        self._subs.add(topic_filter, handler)
        self._subscribe_wait(topic_filter)

    def subscribe_control(self, topic_filter: str) -> None:
        """Subscribe for the barrier's messages: they go to ``control``, not into simulation time."""
        self.add_control_filter(topic_filter)
        self._subscribe_wait(topic_filter)

    @property
    def filters(self) -> list[str]:
        return self._subs.filters

    # -- the simulation thread ----------------------------------------------------------------------

    def pump(self, timeout_s: float = 0.0) -> int:
        """Take what paho has received (waiting up to ``timeout_s`` for the first one); returns how many."""
        try:
            item = self._raw.get(timeout=timeout_s) if timeout_s > 0 else self._raw.get_nowait()
        except queue.Empty:
            return 0
        n = 0
        while True:
            self.accept(*item)
            n += 1
            if n % YIELD_EVERY == 0:
                time.sleep(0)  # a long burst would otherwise hold the GIL from paho's thread for ~5 ms at a time
            try:
                item = self._raw.get_nowait()
            except queue.Empty:
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
        for info in self._pending:
            left = deadline - time.monotonic()
            if left <= 0 or not self._wait_published(info, left):
                raise MqttError(f"broker {self.url} did not acknowledge {self.client_id}'s messages in time")
        self._pending.clear()

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
            self._client.disconnect()
            self._client.loop_stop()

    def __enter__(self) -> MqttTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
