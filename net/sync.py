"""Deterministic co-simulation over a real broker: the fleet leads, followers (the cloud) deliver on its word.

The in-process router hands every message to every subscriber in one global ``(t_deliver, src, seq)`` order, and
a reply published by a handler joins that order at once. Over a broker the same must hold, or a run's results
would depend on host timing. So the leader keeps, beside its own queue, a *ghost* of each message it publishes
to a follower, and when a ghost comes due in the global order:

- if the follower declared the topic *quiet* (it never publishes in reply, e.g. telemetry), the key is batched;
- otherwise the leader publishes ``{prefix}mine/{site}/sim/sync`` {t, n, to, deliver: [[topic, src, seq], ...]}
  (the batch, then this message) and waits until the follower answers ``.../sim/ack`` {t, n, published, error}.

The follower delivers exactly those messages, in that order, to its handlers, then acks with the topics its
handlers published meanwhile. The leader waits until every one of those that matches its own subscriptions has
arrived (counting, not trusting arrival order: MQTT 3.1.1 sec. 4.6 orders messages per topic only) and only then
takes the next message from the global order, so a reply is ordered exactly where the router would order it.
``sync(now)`` at a tick boundary sends the pending quiet batches (the follower's view stays current). Barriers
are bounded: a follower that does not answer in ``timeout_s`` stops the run with an error naming it.

Registration: a follower subscribes to its topics, then publishes a retained ``.../sim/hello/{id}`` {id, filters,
quiet}; the leader waits for the hellos of the followers it expects before it publishes anything.
"""

from __future__ import annotations

import heapq
import itertools
import time
from dataclasses import dataclass, field

from net.envelope import Envelope
from net.mqtt import MqttTransport
from net.topics import Topics, matches
from net.transport import Handler

BATCH_MAX = 300  # quiet keys per sync message, well below the envelope's 64 KiB
LEADER_ID = "leader"


class SyncError(RuntimeError):
    """A barrier could not complete: a peer did not answer, or broke the protocol; the message names it."""


@dataclass
class FollowerInfo:
    id: str
    filters: list[str]
    quiet: list[str]
    batch: list[list[str | int]] = field(default_factory=list)


def sim_topic(topics: Topics, name: str) -> str:
    return f"{topics.root}/sim/{name}"


class Leader:
    """A ``Transport`` for the fleet over MQTT that keeps followers in the in-process delivery order."""

    def __init__(self, transport: MqttTransport, topics: Topics, timeout_s: float = 30.0) -> None:
        self.transport = transport
        self.topics = topics
        self.timeout_s = timeout_s
        self.followers: dict[str, FollowerInfo] = {}
        self._ghosts: list[tuple[float, str, int, int, str, str]] = []  # (t, src, seq, tie, topic, follower)
        self._tie = itertools.count()
        self._n = 0
        self._expected_remote = 0  # follower publications matching our filters, per their acks
        self._acks: dict[tuple[str, int], Envelope] = {}
        self.barriers = 0
        self.t = 0.0
        transport.subscribe_control(sim_topic(topics, "ack"))
        transport.subscribe_control(sim_topic(topics, "hello/+"))

    # -- registration -------------------------------------------------------------------------------

    def wait_for(self, follower_ids: list[str]) -> None:
        """Block (bounded) until each named follower has said hello; call before publishing anything."""
        deadline = time.monotonic() + self.timeout_s
        while any(f not in self.followers for f in follower_ids):
            self._control(deadline, f"the hello of follower(s) {sorted(set(follower_ids) - set(self.followers))}")

    def _control(self, deadline: float, waiting_for: str) -> None:
        """Take control messages (hello, ack) as they come, until ``deadline``."""
        tr = self.transport
        while not tr.control:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SyncError(f"timed out after {self.timeout_s} s waiting for {waiting_for} on {tr.url}")
            tr.pump(min(left, 0.05))
        _, env = tr.control.popleft()
        if env.kind == "hello":
            b = env.body
            self.followers[b["id"]] = FollowerInfo(b["id"], list(b["filters"]), list(b["quiet"]))
        elif env.kind == "ack":
            self._acks[(env.src, env.body["n"])] = env

    # -- Transport ----------------------------------------------------------------------------------

    def publish(self, topic: str, env: Envelope, qos: int = 0, retain: bool = False) -> None:
        self.transport.publish(topic, env, qos, retain)
        for f in self.followers.values():
            if any(matches(flt, topic) for flt in f.filters):
                heapq.heappush(self._ghosts, (env.t_deliver, env.src, env.seq, next(self._tie), topic, f.id))

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        self.transport.subscribe(topic_filter, handler)

    def next_due(self) -> float | None:
        tm = self.transport.next_due()
        tg = self._ghosts[0][0] if self._ghosts else None
        if tm is None:
            return tg
        return tm if tg is None else min(tm, tg)

    def deliver_next(self) -> None:
        local = self.transport.peek_key()
        if self._ghosts and (local is None or self._ghosts[0][:3] < local):
            t, src, seq, _, topic, fid = heapq.heappop(self._ghosts)
            f = self.followers[fid]
            f.batch.append([topic, src, seq])
            self.t = max(self.t, t)
            if not any(matches(q, topic) for q in f.quiet) or len(f.batch) >= BATCH_MAX:
                self._barrier(f, t)
        else:
            self.transport.deliver_next()

    def sync(self, now: float) -> None:
        """At a tick boundary: hand followers the quiet messages due so far (no-op when there are none)."""
        self.t = max(self.t, now)
        for f in self.followers.values():
            if f.batch:
                self._barrier(f, now)

    # -- the barrier --------------------------------------------------------------------------------

    def _barrier(self, f: FollowerInfo, t: float) -> None:
        self._n += 1
        n = self._n
        body = {"t": t, "n": n, "to": f.id, "deliver": f.batch}
        f.batch = []
        self.transport.publish(sim_topic(self.topics, "sync"),
                               Envelope("sync", LEADER_ID, n, t, body, t_deliver=t), qos=1)
        deadline = time.monotonic() + self.timeout_s
        what = f"follower {f.id!r} to acknowledge barrier {n} at t={t:.3f} s"
        while (f.id, n) not in self._acks:
            self._control(deadline, what)
        ack = self._acks.pop((f.id, n))
        if ack.body["error"] is not None:
            raise SyncError(f"follower {f.id!r} failed barrier {n} at t={t:.3f} s: {ack.body['error']}")
        own = self.transport.filters
        self._expected_remote += sum(1 for topic in ack.body["published"] if any(matches(x, topic) for x in own))
        tr = self.transport
        while tr.remote_kept < self._expected_remote:
            if time.monotonic() > deadline:
                raise SyncError(f"follower {f.id!r}'s replies of barrier {n} at t={t:.3f} s did not all arrive: "
                                f"{tr.remote_kept} of {self._expected_remote}")
            tr.pump(0.05)
        self.barriers += 1

    def close(self, t: float | None = None) -> None:
        """Send the last quiet batches and tell every follower to stop (waiting, bounded, for each to ack)."""
        t = self.t if t is None else t
        self.sync(t)
        for f in self.followers.values():
            self._n += 1
            n = self._n
            self.transport.publish(sim_topic(self.topics, "stop"),
                                   Envelope("stop", LEADER_ID, n, t, {"t": t, "n": n, "to": f.id}, t_deliver=t),
                                   qos=1)
            deadline = time.monotonic() + self.timeout_s
            while (f.id, n) not in self._acks:
                self._control(deadline, f"follower {f.id!r} to acknowledge stop")
            self._acks.pop((f.id, n))



@dataclass
class FollowerStats:
    barriers: int = 0
    delivered: int = 0


def serve_follower(transport: MqttTransport, topics: Topics, follower_id: str, quiet: list[str] | None = None,
                   timeout_s: float = 30.0, idle_timeout_s: float = 600.0) -> FollowerStats:
    """Serve as a follower until the leader says stop: deliver what each barrier names, in its order, then ack.

    ``transport`` must be built with ``inbox=True`` and carry the follower's subscriptions (its handlers) already.
    ``quiet``: filters of topics whose delivery never makes the handlers publish (checked: a publication during
    a quiet delivery fails the barrier). Returns when stopped; raises ``SyncError`` when the leader is silent for
    ``idle_timeout_s`` or a message a barrier names does not arrive within ``timeout_s``.
    """
    if transport.inbox is None:
        raise ValueError("a follower's transport needs inbox=True: the leader decides the delivery order")
    quiet = list(quiet or [])
    transport.subscribe_control(sim_topic(topics, "sync"))
    transport.subscribe_control(sim_topic(topics, "stop"))
    hello = {"id": follower_id, "filters": transport.filters, "quiet": quiet}
    hello_topic = sim_topic(topics, f"hello/{follower_id}")
    transport.publish(hello_topic, Envelope("hello", follower_id, 0, 0.0, hello, t_deliver=0.0), qos=1, retain=True)
    stats = FollowerStats()
    try:
        idle_deadline = time.monotonic() + idle_timeout_s
        while True:
            if not transport.control:
                if time.monotonic() > idle_deadline:
                    raise SyncError(f"follower {follower_id!r}: no word from the leader for {idle_timeout_s} s")
                transport.pump(0.05)
                continue
            _, env = transport.control.popleft()
            body = env.body
            if body["to"] != follower_id:
                continue
            idle_deadline = time.monotonic() + idle_timeout_s
            if env.kind == "stop":
                _ack(transport, topics, follower_id, body, [], None)
                return stats
            published, error = _deliver(transport, body["deliver"], quiet, timeout_s)
            stats.barriers += 1
            stats.delivered += len(body["deliver"])
            _ack(transport, topics, follower_id, body, published, error)
            if error is not None:
                raise SyncError(f"follower {follower_id!r}, barrier {body['n']}: {error}")
    finally:
        transport.publish_raw(hello_topic, b"", qos=1, retain=True)  # clear the retained hello


def _deliver(transport: MqttTransport, keys: list[list[str | int]], quiet: list[str],
             timeout_s: float) -> tuple[list[str], str | None]:
    """Deliver the named messages in order; the topics the handlers published, and an error if any."""
    inbox = transport.inbox
    assert inbox is not None
    log: list[str] = []
    transport.publish_log = log
    try:
        for topic, src, seq in keys:
            key = (str(topic), str(src), int(seq))
            deadline = time.monotonic() + timeout_s
            while key not in inbox:
                if time.monotonic() > deadline:
                    return log, f"message {key} did not arrive within {timeout_s} s"
                transport.pump(0.05)
            before = len(log)
            transport.dispatch(*inbox.pop(key))
            if len(log) > before and any(matches(q, key[0]) for q in quiet):
                return log, f"published {log[before]} while handling {key[0]}, declared quiet"
        return log, None
    finally:
        transport.publish_log = None


def _ack(transport: MqttTransport, topics: Topics, follower_id: str, body: dict[str, object],
         published: list[str], error: str | None) -> None:
    t, n = float(body["t"]), int(body["n"])  # type: ignore[arg-type]
    ack = {"t": t, "n": n, "published": published, "error": error}
    transport.publish(sim_topic(topics, "ack"), Envelope("ack", follower_id, n, t, ack, t_deliver=t), qos=1)
