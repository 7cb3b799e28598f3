"""A ``Transport`` over a real MQTT broker with paho-mqtt 2.x, released in simulation time.

paho's network thread only appends raw messages to a hand-over deque; the simulation thread decodes them
(invalid ones are counted in ``rejected`` and dropped), drops duplicates (QoS 1 may deliver twice; overlapping
subscriptions may too) and keeps them in a heap in ``(t_deliver, src, seq)`` order, exactly like the in-process
router. A message this client publishes on a topic it subscribes to is queued locally at once (its echo from the
broker is a duplicate), so it is ordered as the in-process router would order it.

A topic prefix (``net.topics.Topics(site, prefix=...)``) and a unique client id keep parallel runs on one broker
apart. Deterministic co-simulation with another process needs the barrier in ``net.sync``.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from net import schemas
from net.envelope import Envelope, EnvelopeError
from net.topics import matches
from net.transport import Handler, Subscriptions

# Receive-side bounds (see ``Receiver``); each is far above what an honest 600-truck fleet needs (assumptions,
# sized in the comments), so only a faulty or hostile publisher ever meets one.
# seqs per stream (512 B of mask): a repeat comes within seconds, and a truck sends ~1 message/s (> 1 h of them);
# "cloud" numbers its orders to all trucks in one sequence, ~1-2/s for 600 trucks (> 30 min)
DEDUP_WINDOW = 4096
MAX_STREAMS = 16_384  # (topic, src, retained) windows kept (< 10 MiB); 600 trucks use ~1,800 plus a few
# heap or inbox entries; a 600-truck fleet holds ~600/s x a few s of link delay. A decoded telemetry message
# takes ~1 KiB of memory (measured), so ~50 MiB at most
MAX_QUEUED = 50_000
# [B] of payload queued; that fleet's backlog is ~200 B x a few thousand < 1 MiB. Decoded, a payload of long
# lists takes up to ~10 times its size, so this bounds the worst case near 160 MiB
MAX_QUEUED_BYTES = 16 * 2**20
# [B] of it from one src (1/16, and at most ~1/4 of MAX_QUEUED even in the smallest envelopes, ~90 B); the most
# an honest one holds is "cloud" at one ~300 B order per truck pending, ~180 kB
MAX_SOURCE_BYTES = 2**20
RECOUNT_EVERY = 1024  # arrivals between two exact recounts of occupancy (amortises their O(MAX_QUEUED) cost)
MAX_CONTROL = 4096  # barrier messages waiting; the barrier has one request per follower outstanding at a time
# [s] an inbox entry due this long before the leader's time is never named (see ``Receiver.advance``): barriers
# name messages in t_deliver order, a quiet batch at most a tick late, so this is far beyond any real lag
STALE_SLACK_S = 600.0
DEFAULT_INFLIGHT = 1000  # QoS 1 messages in flight; paho's default of 20 throttles a fleet's bursts
CREDENTIAL_REASONS = (134, 135)  # CONNACK "Bad user name or password", "Not authorized" (paho's reason codes)
RECONNECT_MAX_DELAY_S = 2.0  # [s] paho's back-off between reconnection attempts is capped here, so a run
# resumes within this long of its broker coming back
YIELD_EVERY = 32  # QoS > 0 messages sent or taken in on the simulation thread between two hand-overs of the GIL
PENDING_TRIM = 4096  # QoS > 0 messages kept for ``flush`` before the acknowledged ones are dropped
TOPIC_CACHE = 4096  # topics whose routing is remembered; a fleet has a few per truck
SIGNED_KINDS = frozenset(("order", "estop", "sync", "ack", "hello", "stop"))  # kinds net.auth signs
Key = tuple[str, str, int]  # (topic, src, seq): a message's identity


class MqttError(RuntimeError):
    """The broker could not be reached, or did not answer in time; the message says which and why."""


def redact(url: str) -> str:
    """``url`` with its password shown as ``***``: broker URLs go into error messages, logs and reports."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))


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
            raise ValueError(f"broker URL must look like mqtt://host:port or mqtts://host:port, got {redact(url)!r}")
        tls = parts.scheme == "mqtts"
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise ValueError(f"broker URL {redact(url)!r} has a bad port") from None
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(parts.hostname, port, tls, user, password)


class SeqWindows:
    """Duplicate detection per message stream, in bounded memory: for each ``(topic, src, retain)`` the highest
    seq seen and a bitmask of the seqs seen within ``size`` below it (the anti-replay window of IPsec, and of
    ``net.auth.Verifier`` for orders). A seq at or below ``top - size`` cannot be told from a repeat and is
    refused as too old. At most ``max_streams`` windows are kept, the least recently used forgotten first
    (counted), so a flood of invented senders costs a fixed amount of memory (a window is at most ``size`` bits).

    Signed kinds are checked before they reach a window (``Receiver.admit``), so a forgery cannot move one.
    Telemetry and events carry no signature: a forged one with a high seq moves its stream's window ahead, so that
    sender's next genuine messages look too old; a follower's inbox keeps them anyway (its leader names what it
    delivers by key), and only a heap, which holds signed kinds alone in a run, refuses them.
    """

    NEW, DUPLICATE, TOO_OLD = 0, 1, 2

    def __init__(self, size: int = DEDUP_WINDOW, max_streams: int = MAX_STREAMS) -> None:
        self.size = size
        self.max_streams = max_streams
        self._full = (1 << size) - 1
        self._windows: dict[tuple[str, str, bool], list[int]] = {}  # [top, mask]; least recently used first
        self.forgotten = 0

    def __len__(self) -> int:
        return len(self._windows)

    def see(self, topic: str, src: str, seq: int, retain: bool) -> int:
        """Record ``seq`` and say whether it is NEW, a DUPLICATE, or TOO_OLD (neither is recorded)."""
        windows = self._windows
        key = (topic, src, retain)
        w = windows.pop(key, None)
        if w is None:
            if len(windows) >= self.max_streams:
                del windows[next(iter(windows))]
                self.forgotten += 1
            windows[key] = [seq, 1]
            return self.NEW
        windows[key] = w  # now the most recently used
        top, mask = w
        if seq > top:
            shift = seq - top
            w[0] = seq
            w[1] = ((mask << shift) | 1) & self._full if shift < self.size else 1
            return self.NEW
        back = top - seq
        if back >= self.size:
            return self.TOO_OLD
        bit = 1 << back
        if mask & bit:
            return self.DUPLICATE
        w[1] = mask | bit
        return self.NEW


class Receiver:
    """The receiving side: decode, count, drop duplicates, and queue in ``(t_deliver, src, seq)`` order.

    With ``inbox=True`` messages are kept by key in ``inbox`` instead of the heap, for a follower whose delivery
    order its leader dictates (``net.sync``); messages on control filters go to ``control``.

    Everything held on receipt is bounded, since anyone on the broker can publish anything:

    - duplicates: ``SeqWindows`` (per stream, a window of ``DEDUP_WINDOW`` seqs, at most ``MAX_STREAMS`` streams);
    - the heap or the inbox: at most ``MAX_QUEUED`` messages and ``MAX_QUEUED_BYTES`` of payload, at most
      ``MAX_SOURCE_BYTES`` of it from one ``src``, so one noisy or forged sender cannot crowd the others out
      (a flood under invented names meets the overall bounds); ``control``: ``MAX_CONTROL`` messages;
    - the inbox also sheds what its leader can never name: ``advance(t)`` (call it with the time of each
      barrier the follower has served) drops entries due before ``t - STALE_SLACK_S``.

    Why occupancy and not a rate: a cap on messages per window of simulation time means nothing when the times
    are the sender's own (a forger writes any ``t_deliver``), and a cap per window of wall time would make what
    is dropped depend on host speed, so results would no longer be reproducible. Occupancy bounds memory
    whatever the times say, and honest runs stay far below every bound, where nothing is ever dropped.

    Accounting, over every payload handed to ``accept``: received = accepted + rejected + duplicates + too_old
    + overflow + empty (a full queue or a sender over its share is ``overflow``). ``stale`` counts accepted
    inbox entries later dropped by ``advance``; ``forgotten`` counts duplicate windows dropped to make room.
    """

    def __init__(self, inbox: bool = False) -> None:
        self._heap: list[tuple[float, str, int, int, str, Envelope]] = []
        self._tie = itertools.count()
        self._control_filters: list[str] = []
        self._control_topics: dict[str, bool] = {}
        self.control: deque[tuple[str, Envelope]] = deque()  # messages on control filters (the barrier's)
        self.inbox: dict[Key, tuple[str, Envelope]] | None = {} if inbox else None
        self._due: list[tuple[float, int, Key, Envelope]] = []  # inbox entries by t_deliver, for ``advance``
        self._windows = SeqWindows(DEDUP_WINDOW, MAX_STREAMS)
        self._held: dict[str, int] = {}  # [B] per src, an upper bound of its payloads queued (exact at a recount)
        self._load = 0  # [B] the same for all sources
        self._since_recount = 0
        self.received = self.accepted = self.rejected = self.duplicates = self.empty = 0
        self.too_old = self.overflow = self.stale = self.unauthentic = 0
        # Checks a signed kind's signature before anything else sees it, so a forgery cannot move a
        # de-duplication window or take room in a queue (net.sync sets it): None admits, a reason refuses.
        self.admit: Callable[[str, Envelope], str | None] | None = None
        self.remote_kept = 0  # messages from the broker queued for delivery (not control, not own echoes)
        self.last_error: str | None = None

    def add_control_filter(self, topic_filter: str) -> None:
        """Messages matching this filter go to ``control`` as they arrive, not into simulation time."""
        self._control_filters.append(topic_filter)
        self._control_topics.clear()

    def _is_control(self, topic: str) -> bool:
        """Cached per topic: asked for every message sent and received, and a fleet uses few topics."""
        found = self._control_topics.get(topic)
        if found is None:
            if len(self._control_topics) >= TOPIC_CACHE:
                self._control_topics.clear()
            found = self._control_topics[topic] = any(matches(f, topic) for f in self._control_filters)
        return found

    def _first(self, topic: str, env: Envelope, retain: bool) -> bool:
        """True the first time a message is seen; a repeat is counted as a duplicate, a seq too far behind its
        stream's newest as too old."""
        verdict = self._windows.see(topic, env.src, env.seq, retain)
        if verdict == SeqWindows.NEW:
            return True
        if verdict == SeqWindows.DUPLICATE:
            self.duplicates += 1
            return False
        if self.inbox is not None and not self._is_control(topic):
            # A follower keeps it: its leader names by key what it delivers, so a repeat is harmless (the same key,
            # overwritten; never named twice), while dropping it would let one forged high seq on a truck's topic
            # stall the barrier for good.
            return True
        self.too_old += 1
        return False

    def _store(self, topic: str, env: Envelope) -> None:
        size = env.wire_bytes
        self._held[env.src] = self._held.get(env.src, 0) + size
        self._load += size
        inbox = self.inbox
        if inbox is None:
            heapq.heappush(self._heap, (env.t_deliver, env.src, env.seq, next(self._tie), topic, env))
            return
        key = (topic, env.src, env.seq)
        inbox[key] = (topic, env)
        due = self._due
        heapq.heappush(due, (env.t_deliver, next(self._tie), key, env))
        if len(due) > 2 * len(inbox) + RECOUNT_EVERY:  # entries the leader took are dropped lazily
            self._due = [(e.t_deliver, next(self._tie), k, e) for k, (_, e) in inbox.items()]
            heapq.heapify(self._due)

    def _keep(self, topic: str, env: Envelope, retain: bool) -> bool:
        """Queue a message of this process's own (no bounds: it is trusted, and dropping it would change the
        run); True unless it was seen before."""
        if not self._first(topic, env, retain):
            return False
        self._store(topic, env)
        return True

    def _room(self, env: Envelope) -> bool:
        """Whether the queue has room for ``env`` (see the class docstring)."""
        self._since_recount += 1
        queued = len(self.inbox) if self.inbox is not None else len(self._heap)
        if queued >= MAX_QUEUED:
            return False
        size, held = env.wire_bytes, self._held
        fits = held.get(env.src, 0) + size <= MAX_SOURCE_BYTES and self._load + size <= MAX_QUEUED_BYTES
        if fits and len(held) <= 2 * MAX_QUEUED:
            return True
        # The sums only grow between recounts (delivery takes messages without telling us), so they are upper
        # bounds; make them exact, at most once per RECOUNT_EVERY arrivals, so the cost stays O(1) each. A sender
        # refused at its share is so until the next recount: at most RECOUNT_EVERY arrivals after room is made.
        if self._since_recount < RECOUNT_EVERY and len(held) <= 2 * MAX_QUEUED:
            return False
        queue = [e for _, e in self.inbox.values()] if self.inbox is not None else [e[-1] for e in self._heap]
        held = self._held = {}
        for e in queue:
            held[e.src] = held.get(e.src, 0) + e.wire_bytes
        self._load = sum(held.values())
        self._since_recount = 0
        return held.get(env.src, 0) + size <= MAX_SOURCE_BYTES and self._load + size <= MAX_QUEUED_BYTES

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
        if self.admit is not None and env.kind in SIGNED_KINDS and self.admit(topic, env) is not None:
            self.unauthentic += 1
            return
        if self._is_control(topic):
            if len(self.control) >= MAX_CONTROL:
                self.overflow += 1
            elif self._first(topic, env, retain):
                self.accepted += 1
                self.control.append((topic, env))
        elif not self._room(env):
            self.overflow += 1
        elif self._first(topic, env, retain):
            self._store(topic, env)
            self.accepted += 1
            self.remote_kept += 1

    def advance(self, t: float) -> int:
        """The leader has delivered up to simulation time ``t``: drop inbox entries due before
        ``t - STALE_SLACK_S`` (it can never name them; forged ones would stay for good), counted in ``stale``.
        Returns how many were dropped. A no-op without an inbox."""
        inbox, due = self.inbox, self._due
        if inbox is None:
            return 0
        cutoff = t - STALE_SLACK_S
        dropped = 0
        while due and due[0][0] < cutoff:
            _, _, key, env = heapq.heappop(due)
            entry = inbox.get(key)
            if entry is not None and entry[1] is env:
                del inbox[key]
                dropped += 1
        self.stale += dropped
        return dropped

    def peek_key(self) -> tuple[float, str, int] | None:
        """(t_deliver, src, seq) of the next message due, or None (without taking in new ones)."""
        return self._heap[0][:3] if self._heap else None

    @property
    def forgotten(self) -> int:
        """Duplicate windows dropped to make room for new streams (``SeqWindows``)."""
        return self._windows.forgotten

    def counts(self) -> dict[str, int]:
        """Receive-side accounting: received = accepted + rejected + unauthentic + duplicates + too_old + overflow
        + empty; ``stale`` (part of accepted) and ``forgotten`` as in the class docstring."""
        return {"received": self.received, "accepted": self.accepted, "rejected": self.rejected,
                "unauthentic": self.unauthentic,
                "duplicates": self.duplicates, "too_old": self.too_old, "overflow": self.overflow,
                "empty": self.empty, "stale": self.stale, "forgotten": self.forgotten}


class MqttTransport(Receiver):
    """Publish/subscribe through a broker; delivery in simulation time like ``InProcRouter``.

    ``inbox=True``: see ``Receiver``. ``ca_certs``: PEM file of the CA that signed an ``mqtts://`` broker's
    certificate (default: the system's CAs, which OpenSSL also takes from ``SSL_CERT_FILE``). ``url`` keeps the
    broker URL with its password masked, for messages. A connection that fails raises ``MqttError`` naming the
    broker and the cause (unreachable, TLS certificate not accepted, credentials refused, closed, timed out).
    """

    def __init__(self, url: str, client_id: str, *, timeout_s: float = 10.0, inbox: bool = False,
                 max_inflight: int = DEFAULT_INFLIGHT, ca_certs: str | None = None,
                 will: tuple[str, bytes] | None = None) -> None:
        broker = BrokerUrl.parse(url)
        self.url = redact(url)
        self.client_id = client_id
        self.timeout_s = timeout_s
        # The hand-over from paho's thread: deque.append and popleft are atomic, so no lock per message; the
        # event only wakes a ``pump`` that waits, and paho's thread sets it once per batch, not per message.
        self._raw: deque[tuple[str, bytes, bool, bool]] = deque()  # topic, payload, retain, QoS > 0
        self._arrived = threading.Event()
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
        self._all_filters: list[str] = []
        self._resub_mid: int | None = None
        self.generation = 0
        self.outages: list[list[float]] = []  # [lost, back] host monotonic seconds; back is NaN while out
        self.offline_drops = 0  # publications paho refused while disconnected (the barrier sends them again)
        self.muted = False  # while True, publish sends nothing (a follower rebuilding its state from a journal)
        self._closing = False  # a disconnect we asked for is no outage

        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True,
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
        self._client = c
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
                    _, self._resub_mid = client.subscribe([(f, 1) for f in self._all_filters])
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
        self._raw.append((msg.topic, msg.payload, bool(msg.retain), msg.qos > 0))
        if not self._arrived.is_set():
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
        """Publish bytes as they are (an empty retained payload clears a retained message)."""
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

    def _subscribe_wait(self, topic_filter: str) -> None:
        self._all_filters.append(topic_filter)
        rc, mid = self._client.subscribe(topic_filter, qos=1)
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

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        """Route messages matching the filter to ``handler``; returns once the broker has confirmed."""
        self._subs.add(topic_filter, handler)
        self._local_topics.clear()
        self._subscribe_wait(topic_filter)

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

    def pump(self, timeout_s: float = 0.0) -> int:
        """Take what paho has received (waiting up to ``timeout_s`` for the first one); returns how many."""
        raw = self._raw
        if not raw:
            if timeout_s <= 0:
                return 0
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


def _no_delay(client: mqtt.Client) -> None:
    """Without it, Nagle's algorithm and delayed ACKs hold small packets for ~40 ms each way: a barrier a tick
    would crawl. Set on every connection, since paho opens a new socket when it reconnects."""
    sock = client.socket()
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
