"""The follower's side of the barrier in ``net.sync``: deliver what each barrier names, in its order, then ack.

A follower (the cloud) takes its messages into an inbox as they arrive, and hands them to its handlers only when the
leader's ``sync`` names them, so its handlers see the in-process order. It delivers barriers in the chain each sync
names (``after``), acknowledges each, keeps its last barrier's replies for sending again, and journals every
barrier when given a journal (``net.journal``). The protocol is described in ``net.sync``;
docs/architecture.md, "Messages" and "Faults".
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from net.auth import SiteKey
from net.journal import Barrier, Journal
from net.mqtt import MqttTransport
from net.sync import LEADER_ID, PEER_TIMEOUT_S, PUMP_S, Control, FollowerInfo, SyncError, sim_topic
from net.topics import Topics


@dataclass
class FollowerStats:
    barriers: int = 0
    delivered: int = 0
    replayed: int = 0  # barriers rebuilt from the journal at start
    sessions: int = 0  # hellos said: 1, plus one per reconnection
    refused: Counter[str] = field(default_factory=Counter)


def serve_follower(transport: MqttTransport, topics: Topics, follower_id: str, key: SiteKey,
                   quiet: list[str] | None = None, answered: dict[str, list[str]] | None = None,
                   timeout_s: float = PEER_TIMEOUT_S,
                   idle_timeout_s: float = 600.0, journal: Journal | None = None) -> FollowerStats:
    """Serve as a follower until the leader says stop: deliver what each barrier names, in its order, then ack.

    ``transport`` must be built with ``inbox=True`` and carry the follower's subscriptions (its handlers) already.
    ``quiet``: filters of topics whose delivery never makes the handlers publish (checked: a publication during
    a quiet delivery fails the barrier). ``answered``: filters whose messages make the handlers publish only
    for the events named (the body's ``event``); the others are quiet, and checked alike. ``journal``: first
    replayed into the handlers (publishing muted), then each barrier is appended to it. Returns when stopped;
    raises ``SyncError`` when the leader is silent for ``idle_timeout_s`` or a message a barrier names does not
    arrive within ``timeout_s``.
    """
    if transport.inbox is None:
        raise ValueError("a follower's transport needs inbox=True: the leader decides the delivery order")
    return _Follower(transport, topics, follower_id, key, list(quiet or []), dict(answered or {}), timeout_s,
                     journal).serve(idle_timeout_s)


class _Follower:
    def __init__(self, transport: MqttTransport, topics: Topics, follower_id: str, key: SiteKey, quiet: list[str],
                 answered: dict[str, list[str]],
                 timeout_s: float, journal: Journal | None) -> None:
        self.tr = transport
        self.topics = topics
        self.id = follower_id
        self.quiet = quiet
        self.answered = answered
        # what it declares, judged by the leader's own rule (``FollowerInfo.quiet_message``), to check itself by
        self.declared = FollowerInfo(follower_id, [], quiet, "",
                                     {f: frozenset(kinds) for f, kinds in answered.items()})
        self.timeout_s = timeout_s
        self.journal = journal
        self.ctl = Control(transport, key, follower_id)
        self.stats = FollowerStats(refused=self.ctl.refused)
        self.last: Barrier | None = None  # the last barrier acknowledged: asked again, its replies and ack go again
        self.hello_topic = sim_topic(topics, f"hello/{follower_id}")
        self.generation = transport.generation
        transport.subscribe_control(sim_topic(topics, "sync"))
        transport.subscribe_control(sim_topic(topics, "stop"))

    def hello(self) -> None:
        self.stats.sessions += 1
        body = {"id": self.id, "session": secrets.token_hex(8), "filters": self.tr.filters, "quiet": self.quiet,
                "answered": self.answered}
        self.ctl.publish(self.hello_topic, "hello", 0.0, body, retain=True)

    def reconnected(self) -> None:
        """After the broker connection came back: say hello anew, so the leader sends what may have been lost."""
        if self.tr.generation != self.generation:
            self.generation = self.tr.generation
            self.hello()

    def rebuild(self) -> None:
        if self.journal is None:
            return
        self.tr.muted = True
        try:
            for barrier in self.journal.replay():
                for topic, env in barrier.delivered:
                    self.tr.dispatch(topic, env)
                self.stats.replayed += 1
        finally:
            self.tr.muted = False
        self.last = self.journal.last

    def serve(self, idle_timeout_s: float) -> FollowerStats:
        self.rebuild()
        self.hello()
        finished = False
        try:
            idle_deadline = time.monotonic() + idle_timeout_s
            while True:
                self.reconnected()
                taken = self.ctl.take(frozenset((LEADER_ID,)))
                if taken is None:
                    if time.monotonic() > idle_deadline:
                        raise SyncError(f"follower {self.id!r}: no word from the leader for {idle_timeout_s} s")
                    self.tr.pump(PUMP_S, control_only=True)
                    continue
                _, env = taken
                body = env.body
                if body["to"] != self.id:
                    continue
                idle_deadline = time.monotonic() + idle_timeout_s
                if env.kind == "stop":
                    self._ack(body, [], None)
                    finished = True
                    return self.stats
                n = int(body["n"])
                if self.last is not None and env.kind == "sync" and int(body["after"]) > self.last.n:
                    continue  # one before it has not been delivered here: the leader sends it again
                if self.last is not None and n <= self.last.n:
                    if n == self.last.n:  # asked again: the replies or the ack were lost
                        for topic, payload, qos in self.last.replies:
                            self.tr.publish_raw(topic, payload, qos)
                        self._ack(body, [t for t, _, _ in self.last.replies], None)
                    continue
                barrier, error = self._deliver(n, body["deliver"])
                self.stats.barriers += 1
                self.stats.delivered += len(barrier.delivered)
                if self.journal is not None and error is None:
                    self.journal.record(barrier)
                if error is None:  # what is due this long before the barrier can never be named: forgeries
                    self.tr.advance(float(body["t"]))
                self.last = barrier
                self._ack(body, [t for t, _, _ in barrier.replies], error)
                if error is not None:
                    raise SyncError(f"follower {self.id!r}, barrier {n}: {error}")
        finally:
            self.tr.publish_raw(self.hello_topic, b"", qos=1, retain=True)  # clear the retained hello
            if self.journal is not None:
                self.journal.close(finished)

    def _deliver(self, n: int, keys: list[list[str | int]]) -> tuple[Barrier, str | None]:
        """Deliver the named messages in order; the barrier as delivered, and an error if any."""
        inbox = self.tr.inbox
        assert inbox is not None
        barrier = Barrier(n, [], [])
        self.tr.publish_log = barrier.replies
        try:
            for topic, src, seq in keys:
                key = (str(topic), str(src), int(seq))
                if key not in inbox:
                    self.tr.pump()  # it may be waiting in the hand-over, not yet taken in
                deadline = time.monotonic() + self.timeout_s
                while key not in inbox:
                    if time.monotonic() > deadline:
                        return barrier, f"message {key} did not arrive within {self.timeout_s} s"
                    self.reconnected()
                    self.tr.pump(PUMP_S)
                before = len(barrier.replies)
                item = inbox.pop(key)
                barrier.delivered.append(item)
                self.tr.dispatch(*item)
                if len(barrier.replies) > before and self.declared.quiet_message(*item):
                    return barrier, f"published {barrier.replies[before][0]} while handling {key[0]}, declared quiet"
            return barrier, None
        finally:
            self.tr.publish_log = None

    def _ack(self, body: dict[str, Any], published: list[str], error: str | None) -> None:
        t, n = float(body["t"]), int(body["n"])
        self.ctl.publish(sim_topic(self.topics, "ack"), "ack", t, {"t": t, "n": n, "published": published,
                                                                     "error": error})
