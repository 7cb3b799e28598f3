"""The receiving side of a transport: decode, check, count, de-duplicate and queue what a broker hands over, within
bounds (docs/architecture.md, "Messages"). ``net.mqtt.MqttTransport`` is a ``Receiver`` fed by paho's thread.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable

from net import schemas
from net.envelope import Envelope, EnvelopeError
from net.topics import matches

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
# name messages in t_deliver order, a quiet batch at most net.sync.QUIET_LAG_S late, so this is far beyond any lag
STALE_SLACK_S = 600.0

TOPIC_CACHE = 4096  # topics whose routing is remembered; a fleet has a few per truck
SIGNED_KINDS = frozenset(("order", "estop", "sync", "ack", "hello", "stop"))  # kinds net.auth signs
Key = tuple[str, str, int]  # (topic, src, seq): a message's identity


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
