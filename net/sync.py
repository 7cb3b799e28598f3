"""Deterministic co-simulation over a real broker: the fleet leads, followers (the cloud) deliver on its word.

The in-process router hands every message to every subscriber in one global ``(t_deliver, src, seq)`` order, and
a reply published by a handler joins that order at once. Over a broker the same must hold, or a run's results
would depend on host timing. So the leader keeps, beside its own queue, a *ghost* of each message it publishes
to a follower, and when a ghost comes due in the global order:

- if the follower declared the topic *quiet* (it never publishes in reply, e.g. telemetry), or declared the
  events it *answers* on the topic and this message's ``event`` is none of them (a truck's arrival), the key is
  batched and travels with the next barrier: the follower's handlers see it before anything later in the order;
- otherwise the leader publishes ``{prefix}mine/{site}/sim/sync`` {t, n, to, deliver: [[topic, src, seq], ...]}
  (the batch, then this message) and waits until the follower answers ``.../sim/ack`` {t, n, published, error}.

The follower delivers exactly those messages, in that order, to its handlers, then acks with the topics its
handlers published meanwhile. The leader waits until every one of those that matches its own subscriptions has
arrived (counting, not trusting arrival order: MQTT 3.1.1 sec. 4.6 orders messages per topic only) and only then
takes the next message from the global order, so a reply is ordered exactly where the router would order it.
``sync(now)`` at a tick boundary sends a pending quiet batch once its oldest key is ``QUIET_LAG_S`` of
simulation time old (or it holds ``BATCH_MAX`` keys), so the follower's view lags by at most that much while a
barrier's round trip is paid once per batch, not once per tick: a quiet delivery publishes nothing, so when it
is handed over cannot change what the follower does, only its order can, and that is kept. Nor can a barrier of
quiet messages alone be answered, so the leader simulates on and takes its ack when it comes: up to
``MAX_OPEN`` such barriers may be open per follower, and a barrier that is answered is waited for with all
before it. Each sync names the barrier sent to the same follower before it (``after``); the follower delivers
barriers in that chain and ignores one whose predecessor it has not had, which the leader sends again.

Registration: a follower subscribes to its topics, then publishes a retained ``.../sim/hello/{id}`` {id, session,
filters, quiet, answered}; the leader waits for the hellos of the followers it expects before it publishes anything. The
leader claims its prefix with a retained ``.../sim/claim``, so a second run on the same prefix is refused.

Security: every control message (sync, ack, hello, stop) is signed with the site key (``net.auth``) and checked
on receipt; one that is unsigned, forged, from a party other than the run's leader or an expected follower, or
about a barrier not open now, is counted in ``refused`` and ignored. Both sides' wills clear their retained
messages if the process dies, so a crashed run misleads no later one.

Faults (docs/architecture.md, "Faults"): nothing is lost to an outage because nothing is forgotten before its
receiver has confirmed it. The leader keeps every publication a follower has not yet had delivered by a completed
barrier, and the follower keeps its last barrier's replies. When the broker connection comes back (the
transport's ``generation`` moves) or a follower says hello with a new session (it reconnected, or was restarted
and rebuilt its state from its journal, ``net.journal``), the leader publishes again what it keeps and the open
barriers; a follower asked again for the last barrier it has acknowledged publishes its replies and ack again.
An ack covers every earlier barrier to the same follower (it delivers them in order); only barriers of quiet
messages, which have no replies, can be open behind a later one, so an ack lost for one of them costs nothing.
Receivers
drop the repeats by key, so the results are those of an undisturbed run. A peer silent for ``timeout_s`` ends the
run with ``SyncError`` naming it.
"""

from __future__ import annotations

import heapq
import itertools
import secrets
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from net.auth import SiteKey, authenticate, sign
from net.envelope import Envelope
from net.frames import FRAME_HOLD_S
from net.mqtt import MqttTransport
from net.receiver import TOPIC_CACHE, Key
from net.topics import Topics, matches
from net.transport import Handler

BATCH_MAX = 300  # quiet keys per sync message, well below the envelope's 64 KiB
# [s] simulated: the most a quiet batch waits for a barrier to carry it. Each barrier is a message through the
# broker both ways: one per 0.1 s tick took about a third of a 30-truck shift's wall time over mosquitto (profiled,
# ~0.2 ms each). The quiet keys still pending when an answered barrier opens ride with it, and the leader waits
# while the follower delivers them; a shorter lag shortens those waits (3 s: 0.75 s of a 30-truck hour against
# 1.1-1.3 s) but its extra barriers cost more than that with the cloud in the fleet's process, where every one is a
# hand-over between threads of one interpreter (a 0.5 h shift: 4.8-4.9 s against 3.6-3.8 s). The lag changes no
# result: a quiet delivery publishes nothing (checked: a reply fails the barrier), and the batch reaches the
# follower before any later message, which is the only thing its handlers act on
QUIET_LAG_S = 10.0
LEADER_ID = "leader"
PEER_TIMEOUT_S = 90.0  # [s] host time a peer may stay silent before the run ends (covers a broker restarted 30 s
# later plus reconnection back-off; an assumption, set per run with minefleet run --peer-timeout)
CLAIM_WAIT_S = 0.3  # [s] host time to let a retained claim of another run arrive after subscribing
PUMP_S = 0.05  # [s] host time per wait for a message in the barrier's loops
# Barriers of quiet messages alone open per follower before the oldest is waited for. Waiting for each before
# opening the next cost a quarter of a 30-truck shift's wall time over mosquitto (the follower's round trip),
# for nothing: their acks carry no replies (measured: 0.77 s of 6.0 s, 391 waits)
MAX_OPEN = 8


class SyncError(RuntimeError):
    """A barrier could not complete: a peer did not answer, or broke the protocol; the message names it."""


@dataclass
class FollowerInfo:
    id: str
    filters: list[str]
    quiet: list[str]
    session: str
    answered: dict[str, frozenset[str]] = field(default_factory=dict)  # filter -> the events it answers
    batch: list[Key] = field(default_factory=list)  # sent as JSON arrays [topic, src, seq]
    batch_t: float = 0.0  # [s] simulation time of the oldest key in ``batch``
    last_sent: int = 0  # the barrier last sent to this follower: the next one's ``after``
    held: dict[Key, tuple[str, bytes, int]] = field(default_factory=dict)  # published, not yet delivered there
    # topic -> (the follower subscribes to it, it is quiet, the events answered there or None where every message
    # may be): asked for every message published, cached, a fleet has few topics
    routes: dict[str, tuple[bool, bool, frozenset[str] | None]] = field(default_factory=dict)

    def route(self, topic: str) -> tuple[bool, bool, frozenset[str] | None]:
        found = self.routes.get(topic)
        if found is None:
            if len(self.routes) >= TOPIC_CACHE:
                self.routes.clear()
            found = self.routes[topic] = (any(matches(f, topic) for f in self.filters),
                                          any(matches(q, topic) for q in self.quiet),
                                          answered_events(self.answered, topic))
        return found

    def quiet_message(self, topic: str, env: Envelope) -> bool:
        """Whether delivering this message cannot make the follower publish: its topic is quiet there, or the
        topic's messages are answered only for some events and this is none of them."""
        _, quiet, kinds = self.route(topic)
        return quiet or (kinds is not None and env.body.get("event") not in kinds)


def answered_events(answered: Mapping[str, Iterable[str]], topic: str) -> frozenset[str] | None:
    """The events a follower answers on ``topic`` by its ``answered`` declaration (filter -> events), or None
    where no filter of it matches: there any message may be answered."""
    kinds = [k for f, k in answered.items() if matches(f, topic)]
    return frozenset().union(*kinds) if kinds else None


def sim_topic(topics: Topics, name: str) -> str:
    return f"{topics.root}/sim/{name}"


class Control:
    """Signed control messages of one party: publish with a fresh seq, check on receipt, count refusals."""

    def __init__(self, transport: MqttTransport, key: SiteKey, src: str) -> None:
        self.transport = transport
        self.key = key
        self.src = src
        transport.admit = self.signed
        # Seqs go on from a restarted process's predecessor (receivers drop a repeated (topic, src, seq) as a
        # duplicate), so they start at the wall clock in microseconds: control messages carry no results.
        self._seq = itertools.count(time.time_ns() // 1000)
        self.refused: Counter[str] = Counter()

    def publish(self, topic: str, kind: str, t: float, body: dict[str, Any], retain: bool = False) -> None:
        env = Envelope(kind, self.src, next(self._seq), t, body, t_deliver=t)
        env.sig = sign(self.key, topic, env)
        self.transport.publish(topic, env, qos=1, retain=retain)

    def signed(self, topic: str, env: Envelope) -> str | None:
        """Whether a message of a signed kind carries a valid signature of the site key (its sender is checked
        where it is used): the receiving path drops a forgery before it touches any de-duplication window."""
        return authenticate(self.key, topic, env, frozenset((env.src,)))

    def take(self, senders: frozenset[str]) -> tuple[str, Envelope] | None:
        """The next authentic control message, or None when none is waiting (refused ones are counted)."""
        control = self.transport.control
        while control:
            topic, env = control.popleft()
            if env.kind == "claim":  # a run claiming its prefix (ours, echoed); only ``Leader.claim`` reads them
                continue
            refused = authenticate(self.key, topic, env, senders)
            if refused is None:
                return topic, env
            self.refused[refused] += 1
        return None


class Leader:
    """A ``Transport`` for the fleet over MQTT that keeps followers in the in-process delivery order."""

    def __init__(self, transport: MqttTransport, topics: Topics, key: SiteKey,
                 timeout_s: float = PEER_TIMEOUT_S) -> None:
        self.transport = transport
        self.topics = topics
        self.timeout_s = timeout_s
        self._ctl = Control(transport, key, LEADER_ID)
        self._expected: frozenset[str] = frozenset()
        self.followers: dict[str, FollowerInfo] = {}
        # (t, src, seq, tie, topic, follower, quiet there)
        self._ghosts: list[tuple[float, str, int, int, str, str, bool]] = []
        self._tie = itertools.count()
        self._n = 0
        # follower -> its open barriers, oldest first: n -> (t, keys, stop, after)
        self._open: dict[str, dict[int, tuple[float, list[Key], bool, int]]] = {}
        self._expected_remote = 0  # follower publications matching our filters, per their acks
        self._acks: dict[tuple[str, int], Envelope] = {}
        self._acked: dict[str, int] = {}  # follower -> the latest barrier it acknowledged
        self._generation = transport.generation
        self._deadline = 0.0
        self.session = secrets.token_hex(8)
        self.barriers = 0
        self.rejoins = 0  # times a follower came back (reconnected or restarted) and was sent again what it missed
        self.t = 0.0
        transport.subscribe_control(sim_topic(topics, "ack"))
        transport.subscribe_control(sim_topic(topics, "hello/+"))

    @property
    def refused(self) -> Counter[str]:
        """Control messages refused by reason (forged, unsigned, wrong sender, ...)."""
        return self._ctl.refused

    # -- registration -------------------------------------------------------------------------------

    def claim(self) -> None:
        """Claim the topic prefix for this run, refusing one another live run holds (its will clears it)."""
        tr = self.transport
        topic = sim_topic(self.topics, "claim")
        tr.subscribe_control(topic)
        deadline = time.monotonic() + CLAIM_WAIT_S
        while time.monotonic() < deadline:
            tr.pump(PUMP_S)
            for ctl_topic, env in list(tr.control):
                if ctl_topic == topic and env.body.get("session") != self.session:
                    raise SyncError(f"another run is using topic prefix {self.topics.prefix!r} on {tr.url}; "
                                    "give this run a different --prefix")
        tr.control = type(tr.control)(m for m in tr.control if m[0] != topic)
        self._ctl.publish(topic, "claim", 0.0, {"session": self.session}, retain=True)

    def wait_for(self, follower_ids: list[str]) -> None:
        """Block (bounded) until each named follower has said hello; call before publishing anything."""
        self._expected = frozenset(follower_ids)
        self._deadline = time.monotonic() + self.timeout_s
        while any(f not in self.followers for f in follower_ids):
            self._control(f"the hello of follower(s) {sorted(set(follower_ids) - set(self.followers))}")

    def _control(self, waiting_for: str) -> None:
        """Take one round of control messages (hello, ack) and reconnections, failing at the deadline."""
        tr = self.transport
        if tr.generation != self._generation:  # our broker connection came back: send again what may be lost
            self._generation = tr.generation
            for f in list(self.followers.values()):
                self._resend(f)
        taken = self._ctl.take(self._expected)
        if taken is None:
            if time.monotonic() > self._deadline:
                raise SyncError(f"timed out after {self.timeout_s} s waiting for {waiting_for} on {tr.url}"
                                f"{self._outage_note()}")
            tr.pump(PUMP_S)
            return
        _, env = taken
        b = env.body
        if env.kind == "hello" and b["id"] == env.src:
            known = self.followers.get(env.src)
            if known is None:
                answered = {f: frozenset(k) for f, k in b.get("answered", {}).items()}
                self.followers[env.src] = FollowerInfo(env.src, list(b["filters"]), list(b["quiet"]), b["session"],
                                                       answered)
            elif known.session != b["session"]:  # reconnected or restarted: it may have lost what it had
                known.session = b["session"]
                self.rejoins += 1
                self._resend(known)
        elif env.kind == "ack" and b["n"] in self._open.get(env.src, ()):
            if b["error"] is not None:
                t = self._open[env.src][b["n"]][0]
                raise SyncError(f"follower {env.src!r} failed barrier {b['n']} at t={t:.3f} s: {b['error']}")
            self._acks[(env.src, b["n"])] = env
            self._acked[env.src] = max(self._acked.get(env.src, 0), b["n"])
        else:
            self._ctl.refused["not_open"] += 1  # an ack of no open barrier, or a hello for another id

    def _outage_note(self) -> str:
        tr = self.transport
        return "" if tr.connected else " (the broker is out of reach)"

    def _resend(self, f: FollowerInfo) -> None:
        """Publish again what ``f`` has not had delivered yet, and its open barriers; the deadline starts again."""
        for topic, payload, qos in list(f.held.values()):
            self.transport.publish_raw(topic, payload, qos)
        for n, (t, keys, stop, after) in list(self._open.get(f.id, {}).items()):
            self._send_barrier(f, n, t, keys, stop, after)
        self._deadline = time.monotonic() + self.timeout_s

    # -- Transport ----------------------------------------------------------------------------------

    def publish(self, topic: str, env: Envelope, qos: int = 0, retain: bool = False) -> None:
        payload = self.transport.publish(topic, env, qos, retain)
        for f in self.followers.values():
            if f.route(topic)[0]:
                heapq.heappush(self._ghosts, (env.t_deliver, env.src, env.seq, next(self._tie), topic, f.id,
                                              f.quiet_message(topic, env)))
                f.held[(topic, env.src, env.seq)] = (topic, payload, qos)

    def subscribe(self, topic_filter: str, handler: Handler, qos: int = 1) -> None:
        self.transport.subscribe(topic_filter, handler, qos)

    def next_due(self) -> float | None:
        tm = self.transport.next_due()
        tg = self._ghosts[0][0] if self._ghosts else None
        if tm is None:
            return tg
        return tm if tg is None else min(tm, tg)

    def deliver_next(self) -> None:
        local = self.transport.peek_key()
        if self._ghosts and (local is None or self._ghosts[0][:3] < local):
            t, src, seq, _, topic, fid, quiet = heapq.heappop(self._ghosts)
            f = self.followers[fid]
            if not f.batch:
                f.batch_t = t
            f.batch.append((topic, src, seq))
            self.t = max(self.t, t)
            if not quiet or len(f.batch) >= BATCH_MAX:
                self._barrier(f, t, answered=not quiet)
        else:
            self.transport.deliver_next()

    def sync(self, now: float, lag_s: float = QUIET_LAG_S) -> None:
        """At a tick boundary: hand each follower its quiet messages once the oldest is ``lag_s`` old (0: all
        that are due so far); a no-op when there are none."""
        self.t = max(self.t, now)
        for f in list(self.followers.values()):
            if f.batch and now - f.batch_t >= lag_s:
                self._barrier(f, now, answered=False)
        self.transport.hand_over(FRAME_HOLD_S)  # telemetry framed by the transport leaves within this long

    # -- the barrier --------------------------------------------------------------------------------

    def _send_barrier(self, f: FollowerInfo, n: int, t: float, keys: list[Key], stop: bool, after: int) -> None:
        if stop:
            self._ctl.publish(sim_topic(self.topics, "stop"), "stop", t, {"t": t, "n": n, "to": f.id})
        else:
            self._ctl.publish(sim_topic(self.topics, "sync"), "sync", t, {"t": t, "n": n, "after": after, "to": f.id,
                                                                          "deliver": keys})

    def _open_barrier(self, f: FollowerInfo, t: float, keys: list[Key], stop: bool) -> int:
        """Open a barrier (or the stop) for ``f``; with ``MAX_OPEN`` open, the oldest is finished first."""
        opened = self._open.setdefault(f.id, {})
        while len(opened) >= MAX_OPEN:
            self._finish(f, next(iter(opened)))
        self._n += 1
        n = self._n
        opened[n] = (t, keys, stop, f.last_sent)
        self._send_barrier(f, n, t, keys, stop, f.last_sent)
        f.last_sent = n
        return n

    def _ack(self, f: FollowerInfo, n: int) -> None:
        """Wait (bounded) until ``f`` has acknowledged barrier ``n`` or a later one."""
        self._deadline = time.monotonic() + self.timeout_s
        t, _, stop, _ = self._open[f.id][n]
        what = f"follower {f.id!r} to acknowledge {'stop' if stop else 'barrier'} {n} at t={t:.3f} s"
        while self._acked.get(f.id, 0) < n:
            self._control(what)

    def _barrier(self, f: FollowerInfo, t: float, answered: bool) -> None:
        """Hand ``f`` the batch. A batch of quiet messages alone cannot be answered, so its ack is taken as it
        comes while the leader simulates on. One that ends with a message that may be answered (``answered``: a
        batch ends at its first such message) waits for its ack and for every reply it announces."""
        keys, f.batch = f.batch, []
        n = self._open_barrier(f, t, keys, stop=False)
        if answered:
            self._finish(f, n)

    def _finish(self, f: FollowerInfo, n: int) -> None:
        """Complete barrier ``n`` and every one before it: their acks, then the replies they announce; then what
        they delivered is no longer kept for sending again (until then an outage sends them again)."""
        self._ack(f, n)
        opened = self._open[f.id]
        done = [m for m in opened if m <= n]
        own = self.transport.filters
        for m in done:
            ack = self._acks.pop((f.id, m), None)  # None: covered by a later ack (a quiet barrier, no replies)
            if ack is not None:
                self._expected_remote += sum(1 for topic in ack.body["published"]
                                             if any(matches(x, topic) for x in own))
        tr = self.transport
        while tr.remote_kept < self._expected_remote:
            self._control(f"follower {f.id!r}'s replies of barrier {n} "
                          f"({tr.remote_kept} of {self._expected_remote} arrived)")
        held = f.held
        for m in done:
            _, keys, _, _ = opened.pop(m)
            self._acks.pop((f.id, m), None)  # an ack sent again meanwhile
            for key in keys:
                held.pop(key, None)
            self.barriers += 1

    def close(self, t: float | None = None) -> None:
        """Send the last quiet batches, tell every follower to stop (waiting, bounded, for each to ack), and
        clear this run's retained messages from the broker."""
        t = self.t if t is None else t
        self.sync(t, lag_s=0.0)
        for f in list(self.followers.values()):
            if self._open.get(f.id):  # every barrier delivered before the stop, which carries no chain
                self._finish(f, max(self._open[f.id]))
            self._ack(f, self._open_barrier(f, t, [], stop=True))
            del self._open[f.id]
        for name in ("claim",):
            self.transport.publish_raw(sim_topic(self.topics, name), b"", qos=1, retain=True)
        self.transport.publish_raw(self.topics.layout, b"", qos=1, retain=True)
