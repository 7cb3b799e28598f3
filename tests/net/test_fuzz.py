"""Random and mutated payloads on every topic: the receiving path never crashes, counts every one, and holds
a bounded amount whatever arrives.

Two fuzzers: hypothesis (shrinks a failure to a small case) and a seeded mutation fuzzer (``Mutator``) cheap
enough to put ``PER_TOPIC`` payloads of every topic through both kinds of ``Receiver`` and on into the real
handlers (the cloud service's, and the fleet's order handler with signature checks).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import time
from collections import deque
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloud.planners import make_planner
from cloud.service import CloudService
from fleet.comms import FleetComms
from net import receiver
from net.auth import SiteKey, sign
from net.broker import EmbeddedBroker
from net.envelope import MAX_BYTES, Envelope
from net.follower import serve_follower
from net.inproc import InProcRouter
from net.link import IdealLink
from net.mqtt import MqttTransport
from net.receiver import Receiver
from net.schemas import decode
from net.sync import LEADER_ID, Leader, SyncError
from net.topics import Topics

T = Topics("fz", prefix="fuzz/")
SIM = f"{T.root}/sim"
LAYOUT = {"site": "fz",
          "facilities": [{"id": "S1", "kind": "shovel", "x": 0.0, "y": 0.0, "material": "coal", "bays": 1,
                          "service_s": 150.0},
                         {"id": "D1", "kind": "dump", "x": 9.0, "y": 0.0, "accepts": ["coal"], "bays": 1,
                          "service_s": 60.0}],
          "routes": [{"id": "D1>S1", "from": "D1", "to": "S1", "length_m": 900.0, "time_s": {"c": [90.0, 120.0]},
                      "for": [["c", False]]},
                     {"id": "S1>D1", "from": "S1", "to": "D1", "length_m": 900.0, "time_s": {"c": [90.0, 120.0]},
                      "for": [["c", True]]}],
          "planner": {"name": "nearest", "options": {}, "seed": 7}}
GOOD: dict[str, tuple[str, dict[str, Any]]] = {
    T.telemetry("T1"): ("telemetry", {"x": 1.0, "y": 2.0, "v": 3.0, "state": "LOADING", "payload_t": 90.0}),
    T.event("T1"): ("event", {"event": "dumped", "at": "D1", "payload_t": 0.0, "material": None,
                              "truck_class": "c", "request": 3}),
    T.perception("T1"): ("perception", {"sectors": [0.1, 0.9]}),
    T.dispatch("T1"): ("order", {"dest": "S1", "route": "D1>S1", "request": 3}),
    T.layout: ("layout", LAYOUT),
    T.equipment: ("equipment", {"facility": "S1", "unit": "S1", "state": "up", "reason": "repaired",
                                "units_up": 1}),
    T.estop: ("estop", {"trucks": ["T1"], "engage": True, "reason": "test"}),
    T.cloud_status: ("status", {"up": True}),
    f"{SIM}/sync": ("sync", {"t": 1.0, "n": 1, "after": 0, "to": "cloud", "deliver": [[T.event("T1"), "T1", 1]]}),
    f"{SIM}/ack": ("ack", {"t": 1.0, "n": 1, "published": [], "error": None}),
    f"{SIM}/hello/cloud": ("hello", {"id": "cloud", "session": "5e55", "filters": ["a/#"], "quiet": []}),
    f"{SIM}/stop": ("stop", {"t": 1.0, "n": 2, "to": "cloud"}),
    f"{SIM}/claim": ("claim", {"session": "5e55"}),
}
SIGNER = {"order": "cloud", "estop": "cloud", "ack": "cloud", "hello": "cloud", "sync": LEADER_ID, "stop": LEADER_ID}
TOPICS = sorted(GOOD)
CATEGORIES = ("accepted", "rejected", "unauthentic", "duplicates", "too_old", "overflow", "empty")


def counted_once(rx: Receiver) -> None:
    """Every payload handed to ``accept`` is in exactly one category."""
    c = rx.counts()
    assert c["received"] == sum(c[k] for k in CATEGORIES), c


# -- hypothesis ---------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8)


def good_payload(topic: str, seq: int) -> dict[str, Any]:
    kind, body = GOOD[topic]
    return Envelope(kind, "T1", seq, 1.0, json.loads(json.dumps(body)), t_deliver=2.0).to_dict()


@st.composite
def payloads(draw: st.DrawFn) -> tuple[str, bytes]:
    topic = draw(st.sampled_from(TOPICS))
    doc = good_payload(topic, draw(st.integers(0, 50)))
    how = draw(st.sampled_from(["good", "bytes", "json", "field", "body", "drop", "flip", "cut", "empty"]))
    if how == "bytes":
        return topic, draw(st.binary(max_size=200))
    if how == "json":
        return topic, json.dumps(draw(json_values)).encode()
    if how == "field":
        doc[draw(st.sampled_from(sorted(doc)))] = draw(json_values)
    elif how == "body":
        key = draw(st.sampled_from(sorted(doc["body"]) or ["x"]))
        doc["body"][key] = draw(json_values)
    elif how == "drop" and doc["body"]:
        del doc["body"][draw(st.sampled_from(sorted(doc["body"])))]
    raw = json.dumps(doc, allow_nan=True).encode()
    if how == "flip":
        i = draw(st.integers(0, len(raw) - 1))
        raw = raw[:i] + bytes([draw(st.integers(0, 255))]) + raw[i + 1:]
    elif how == "cut":
        raw = raw[:draw(st.integers(0, len(raw)))]
    elif how == "empty":
        raw = b""
    return topic, raw


def check_receiver(items: list[tuple[str, bytes]], rx: Receiver) -> None:
    assert rx.received == len(items)
    counted_once(rx)
    control = list(rx.control)
    queued = []
    while rx.peek_key() is not None:
        queued.append(rx._heap.pop())  # accepted messages are valid for their topic
    for *_, topic, env in queued:
        assert decode(topic, env.to_json()) == env
    for topic, env in control:
        assert decode(topic, env.to_json()) == env
    assert len(queued) + len(control) == rx.accepted


BATCH = 40
EXAMPLES = 40  # x 40 payloads; the mutation fuzzer below puts through many more, this one shrinks a failure


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(payloads(), min_size=BATCH, max_size=BATCH))
def test_receiving_path_survives_and_counts_random_payloads(items):
    rx = Receiver()
    rx.add_control_filter(f"{SIM}/#")
    for topic, raw in items:
        rx.accept(topic, raw, False)
    check_receiver(items, rx)


# -- the seeded mutation fuzzer -------------------------------------------------------------------------------

PER_TOPIC = 10_000  # payloads of each topic
SEED = 20261206
LIT = "\x00lit\x00"  # a placeholder string, replaced in the encoded bytes by a literal orjson cannot write
LITERALS = (b"NaN", b"Infinity", b"-Infinity", b"1e400", b"-1e999", b"18446744073709551616", b"1" * 400,
            b"-0", b"1E+2", b"0.0000000000000000000000001", b"9007199254740993", b"[]", b"{}", b"null",
            b'"\\ud800"', b'"\\udfff\\ud800"', b'"\\ud83d\\ude9a"', b'"\xff\xfe"', b'"\\u0000"')
WRONG: tuple[Any, ...] = (None, True, [], {}, 0, -1, 1.5, -1e308, 1e308, 2**63, -2**63, "", "x", "x" * 70,
                          "NaN", "\u202egnol", "\U0001f69a" * 10, "a\x00b", [1, 2], [[1, 2]],
                          {"a": 1}, ["", ""], [None], "x" * 5000)
UNICODE = ("\u00e9", "\u0000", "\ud7ff", "\U0001f69a", "\u202e", "\ufeff", "\\", '"', "/", "\n")
SOURCES = ("T1", "T2", "cloud", "site", "leader", "x" * 64, "x" * 65, "")


class Mutator:
    """Seeded payloads for one topic: its good message, and that message damaged in one or two ways."""

    def __init__(self, topic: str, rng: random.Random, key: SiteKey | None = None) -> None:
        self.topic = topic
        self.kind, body = GOOD[topic]
        self.body_bytes = orjson.dumps(body)
        self.rng = rng
        self.key = key  # commands (orders, the barrier's): sign most, so they get past the signature check
        self.seqs: deque[int] = deque(maxlen=64)  # recent seqs, to repeat some
        self.seq = 0

    def doc(self) -> dict[str, Any]:
        r = self.rng
        if self.seqs and r.random() < 0.2:
            seq = r.choice(self.seqs)  # a duplicate
        elif r.random() < 0.02:
            seq = r.randrange(max(self.seq - 2 * receiver.DEDUP_WINDOW, 0), self.seq + 1)  # late, maybe too late
        else:
            self.seq += r.choice((1, 1, 2, 100, receiver.DEDUP_WINDOW))
            seq = self.seq
            self.seqs.append(seq)
        src = SIGNER.get(self.kind, "T1") if r.random() < 0.85 else r.choice(SOURCES[:5])
        t = r.choice((0.0, 1.0, r.uniform(0, 1e4)))
        late = r.random() if self.kind not in SIGNER or r.random() < 0.2 else 0.0  # commands: delivered as sent
        return {"v": 1, "kind": self.kind, "src": src, "seq": seq, "t_sent": t, "t_deliver": t + late,
                "body": orjson.loads(self.body_bytes)}

    def target(self, doc: dict[str, Any]) -> tuple[Any, Any]:
        """A container and a key in it: the envelope, its body, or something inside the body."""
        r = self.rng
        node: Any = doc if r.random() < 0.25 else doc["body"]
        for _ in range(r.randrange(3)):
            inner = [k for k in (node if isinstance(node, dict) else range(len(node)))
                     if isinstance(node[k], dict | list) and node[k]]
            if not inner:
                break
            node = node[r.choice(inner)]
        if isinstance(node, list):
            return node, r.randrange(len(node))
        keys = list(node)
        return node, (r.choice(keys) if keys and r.random() < 0.9 else f"extra{r.randrange(99)}")

    def payload(self) -> bytes:
        """One payload: good (maybe a repeat), or with a field of the wrong type, a literal orjson cannot write
        (NaN, Infinity, huge numbers, lone surrogates), nesting up to 1,100 deep, extra fields, odd unicode,
        long strings (up to 70 kB), long lists, another sender or seq, another kind, bad times, no object at
        all, random bytes, or nothing; a tenth of them then has bytes flipped or is cut short."""
        r = self.rng
        doc = self.doc()
        literal = b""
        how = r.randrange(16)
        if how in (0, 1, 2):
            pass  # a good one (valid, or a duplicate)
        elif how == 3:
            node, k = self.target(doc)
            node[k] = r.choice(WRONG)
        elif how == 4:
            node, k = self.target(doc)
            node[k], literal = LIT, r.choice(LITERALS)
        elif how == 5:
            node, k = self.target(doc)
            depth = r.choice((2, 15, 17, 200, 1000, 1100))
            node[k] = LIT
            literal = (b"[" * depth + b"]" * depth if r.random() < 0.5
                       else b'{"a":' * depth + b"1" + b"}" * depth)
        elif how == 6:
            node = doc["body"] if r.random() < 0.7 else doc
            for k in range(r.choice((1, 5, 40))):
                node[f"x{k}"] = r.choice(WRONG[:10])
        elif how == 7:
            node, k = self.target(doc)
            node[k] = "".join(r.choice(UNICODE) for _ in range(r.randrange(1, 80)))
        elif how == 8:  # long strings: some just under and over MAX_BYTES (few: they cost the most to make)
            doc["body"]["pad"] = "p" * r.choice((100, 5000, 5000, 5000, 60_000, 70_000))
        elif how == 9:
            node, k = self.target(doc)
            node[k] = [r.choice(WRONG[:8])] * (12_000 if r.random() < 0.02 else r.choice((0, 3, 300)))
        elif how == 10:  # a sender of its own (a new stream) at any seq, or a sender or seq of the wrong type
            if r.random() < 0.5:
                doc["src"], doc["seq"] = r.randbytes(r.choice((8, 40))).hex(), r.choice((0, 2**64 - 1, 2**40))
            else:
                doc[r.choice(("src", "seq"))] = r.choice((-1, 1.5, "3", True, 7, None, "", "x" * 65))
        elif how == 11:
            doc["kind"] = r.choice(("telemetry", "event", "order", "layout", "sync", "ack", "hello", "gossip", ""))
        elif how == 12:
            doc["t_sent"], doc["t_deliver"] = r.choice(((2.0, 1.0), (-1.0, 0.0), (0.0, 1e300), ("0", 1.0)))
        elif how == 13:
            doc = r.choice(([], "text", 3, None, {}, {"v": 1}, {"v": 2, "kind": self.kind}))
        elif how == 14:
            return r.randbytes(r.randrange(1, 300))
        else:
            return b""
        doc = self.sign(doc)
        raw = orjson.dumps(doc)
        if literal:
            raw = raw.replace(b'"\\u0000lit\\u0000"', literal, 1)
        if r.random() < 0.1:  # damage the bytes too
            if r.random() < 0.5 and raw:
                for _ in range(r.randrange(1, 5)):
                    i = r.randrange(len(raw))
                    raw = raw[:i] + bytes([r.randrange(256)]) + raw[i + 1:]
            else:
                raw = raw[:r.randrange(len(raw) + 1)]
        return raw

    def sign(self, doc: Any) -> Any:
        """Sign most commands whose fields an envelope can hold: the signature is checked before the body."""
        if self.key is None or not isinstance(doc, dict) or self.kind not in SIGNER or self.rng.random() < 0.5:
            return doc
        body = doc.get("body")
        if not isinstance(body, dict) or len(body) > 16 or "pad" in body:
            return doc  # refused for its body alone; and a large one would cost more to sign than the rest
        try:
            env = Envelope(doc["kind"], doc["src"], doc["seq"], doc["t_sent"], doc["body"], doc["t_deliver"])
            doc["sig"] = sign(self.key, self.topic, env)
        except (KeyError, TypeError, ValueError):
            pass  # not an envelope the canonical encoder takes: sent unsigned
        return doc


class FakeBroker:
    """What ``net.sync`` needs of an ``MqttTransport``, in process: a ``Receiver``'s control messages and inbox;
    publications are only counted."""

    url = "fake://"
    generation = 0
    connected = True

    def __init__(self, rx: Receiver) -> None:
        self.rx = rx
        self.inbox = rx.inbox
        self.filters: list[str] = []
        self.published: list[str] = []
        self.publish_log: list[Any] | None = None
        self.muted = False

    @property
    def control(self) -> deque[tuple[str, Envelope]]:
        return self.rx.control

    @control.setter
    def control(self, value: deque[tuple[str, Envelope]]) -> None:
        self.rx.control = value

    @property
    def admit(self) -> Any:
        return self.rx.admit

    @admit.setter
    def admit(self, check: Any) -> None:
        self.rx.admit = check

    def advance(self, t: float) -> int:
        return self.rx.advance(t)

    def subscribe_control(self, topic_filter: str) -> None:
        if topic_filter not in self.rx._control_filters:  # a follower started again subscribes again
            self.rx.add_control_filter(topic_filter)

    def pump(self, timeout_s: float = 0.0) -> int:
        return 0

    def publish(self, topic: str, env: Envelope, qos: int = 0, retain: bool = False) -> None:
        self.published.append(topic)

    def publish_raw(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        self.published.append(topic)

    def dispatch(self, topic: str, env: Envelope) -> None:
        pass


class Handlers:
    """The cloud service and the fleet's handlers (orders, e-stop) on one in-process router, as a run wires
    them."""

    def __init__(self, key: SiteKey) -> None:
        self.router = InProcRouter()
        self.cloud = CloudService(self.router, T, make_planner("nearest"), key=key)
        self.own_cloud = CloudService(self.router, T, None, key=key)  # makes the planner the layout names
        self.comms = FleetComms(self.router, T, IdealLink(), ["T1"], key=key)
        self.obeyed = 0
        self.orders = 0  # order envelopes delivered to the fleet's handler
        self.comms.listen(lambda i, body, t: self._obey())
        self.router.subscribe(T.dispatch("+"), lambda topic, env: self._count())
        self.estops: list[bool] = []
        self.estop_comms = FleetComms(self.router, T, IdealLink(), ["T1"], key=key)  # its own counts
        self.estop_comms.listen_estop(lambda i, engage, t: self.estops.append(engage))

    def _obey(self) -> None:
        self.obeyed += 1

    def _count(self) -> None:
        self.orders += 1

    def deliver(self, topic: str, env: Envelope) -> None:
        self.router.publish(topic, env, qos=1)
        while self.router.next_due() is not None:
            self.router.deliver_next()

    def check(self) -> None:
        """Every order the fleet's handler saw was obeyed or counted once as refused, malformed or lost."""
        c = self.comms
        outage = getattr(c, "outage", None)  # a link outage: orders that never leave the cloud
        dropped = sum(outage.lost.values()) if outage is not None else 0
        assert self.orders == self.obeyed + c.rejected + c.lost + sum(c.orders_refused.values()) + dropped


def test_mutated_payloads_of_every_topic_are_counted_and_never_crash_a_handler():
    """Through both kinds of ``Receiver``, then: the cloud's handlers and the fleet's order handler (one router),
    the leader's control loop (acks, hellos) and a follower's (syncs, stops)."""
    key = SiteKey.generate()
    rng = random.Random(SEED)
    handlers = Handlers(key)
    heap_rx, inbox_rx = Receiver(), Receiver(inbox=True)
    leader = Leader(FakeBroker(heap_rx), T, key, timeout_s=60.0)  # its control filters: acks and hellos
    leader._expected, leader._deadline = frozenset({"cloud"}), math.inf
    follower = FakeBroker(inbox_rx)
    inbox_rx.add_control_filter(f"{SIM}/#")
    accepted = dict.fromkeys(TOPICS, 0)
    mutators = [Mutator(topic, rng, key) for topic in TOPICS]
    for k in range(PER_TOPIC):
        for mutator in mutators:
            topic, raw = mutator.topic, mutator.payload()
            before = heap_rx.accepted, inbox_rx.accepted
            heap_rx.accept(topic, raw, False)
            inbox_rx.accept(topic, raw, False)
            accepted[topic] += heap_rx.accepted - before[0]
            if heap_rx.control:
                leader._control("fuzz")  # takes one, as it does while waiting for an ack
            elif heap_rx.accepted > before[0]:
                *_, env = heap_rx._heap.pop()
                handlers.deliver(topic, env)
            if inbox_rx.control and inbox_rx.accepted > before[1]:
                _, env = inbox_rx.control[-1]
                if env.kind in ("sync", "stop"):
                    with contextlib.suppress(SyncError):  # its designed way out: barrier failed, or no word
                        serve_follower(follower, T, "cloud", key, timeout_s=0.0, idle_timeout_s=0.0)
                inbox_rx.control.clear()
        if k % 1000 == 999:
            inbox_rx.advance(math.inf)  # the leader's time passed them all: they can never be named
            assert not inbox_rx.inbox
    for rx in (heap_rx, inbox_rx):
        assert rx.received == PER_TOPIC * len(TOPICS)
        counted_once(rx)
    assert 0 < inbox_rx.stale <= inbox_rx.remote_kept  # entries the leader never named, dropped (a repeat of a key
    # overwrites its entry, so there may be fewer than kept)
    handlers.check()
    # Good messages of every topic were accepted, and commands well formed and signed got through.
    assert all(n > 100 for n in accepted.values()), accepted
    assert handlers.obeyed > 0 and handlers.cloud.orders > 0 and handlers.own_cloud.orders > 0 and handlers.estops
    assert leader.followers and heap_rx.unauthentic > 0  # forgeries stopped before any window or queue
    assert min(heap_rx.counts()[c] for c in ("accepted", "rejected", "duplicates", "too_old", "empty")) > 0


# -- bounds ---------------------------------------------------------------------------------------------------

def telemetry(src: str, seq: int, t: float = 1.0, pad: int = 0) -> bytes:
    body = {"x": 1.0, "y": 2.0, "v": 3.0, "state": "LOADING", "payload_t": 90.0}
    if pad:
        body["pad"] = "p" * pad
    return Envelope("telemetry", src, seq, t, body, t_deliver=t).to_json()


def test_one_nested_2_kb_message_is_refused_not_a_crash():
    deep = b"[" * 1000 + b"]" * 1000
    raw = telemetry("T1", 1).replace(b'"x":1.0', b'"x":' + deep)
    assert len(raw) < 2200
    rx = Receiver()
    rx.accept(T.telemetry("T1"), raw, False)
    assert rx.rejected == 1 and "nested deeper than" in rx.last_error


def test_duplicates_are_remembered_per_stream_within_a_window():
    rx = Receiver()
    topic = T.telemetry("T1")
    for seq in (5, 5, 3, 3, 5 + receiver.DEDUP_WINDOW, 5, 6, 3 + receiver.DEDUP_WINDOW):
        rx.accept(topic, telemetry("T1", seq), False)
    # 5 new, 5 dup, 3 new, 3 dup, 5+W new (5 falls out), 5 too old, 6 new (W-1 behind), 3+W new
    assert (rx.accepted, rx.duplicates, rx.too_old) == (5, 2, 1)
    rx.accept(T.telemetry("T2"), telemetry("T1", 5), False)  # another topic is another stream
    assert rx.accepted == 6


def test_a_flood_of_invented_senders_is_bounded(monkeypatch):
    monkeypatch.setattr(receiver, "MAX_STREAMS", 50)
    monkeypatch.setattr(receiver, "MAX_QUEUED", 30)
    rx = Receiver()
    for k in range(200):  # delivered as they come: only the duplicate windows grow
        rx.accept(T.telemetry("T1"), telemetry(f"F{k}", 1), False)
        rx._heap.clear()
    assert (len(rx._windows), rx.forgotten, rx.accepted) == (50, 150, 200)
    for k in range(200, 400):  # not delivered: the queue is full at 30
        rx.accept(T.telemetry("T1"), telemetry(f"F{k}", 1), False)
    assert (len(rx._heap), rx.overflow) == (30, 170)
    counted_once(rx)


def test_streams_remembered_are_capped_and_counted(monkeypatch):
    monkeypatch.setattr(receiver, "MAX_STREAMS", 50)
    windows = receiver.SeqWindows(size=receiver.DEDUP_WINDOW, max_streams=50)
    for k in range(200):
        assert windows.see("t", f"F{k}", 1, False) == windows.NEW
    assert len(windows) == 50 and windows.forgotten == 150
    assert windows.see("t", "F199", 1, False) == windows.DUPLICATE  # the newest are kept


def test_one_source_cannot_take_more_than_its_share(monkeypatch):
    size = len(telemetry("A", 20, pad=1000))  # the longest (two-digit seq)
    monkeypatch.setattr(receiver, "MAX_SOURCE_BYTES", 10 * size)
    monkeypatch.setattr(receiver, "RECOUNT_EVERY", 4)
    rx = Receiver()
    for seq in range(1, 21):
        rx.accept(T.telemetry("A"), telemetry("A", seq, pad=1000), False)
        rx.accept(T.telemetry("B"), telemetry("B", seq, pad=1000), False)
    assert rx.accepted == 20 and rx.overflow == 20  # ten each
    while rx.peek_key() is not None:  # delivered: the share is free again, from the next recount on
        rx._heap.pop()
    for seq in range(21, 21 + 10 + receiver.RECOUNT_EVERY):
        rx.accept(T.telemetry("A"), telemetry("A", seq, pad=1000), False)
    assert len(rx._heap) == 10 and rx.accepted == 30
    counted_once(rx)


def test_queued_bytes_are_bounded_whatever_the_senders(monkeypatch):
    size = len(telemetry("A0", 1, pad=60_000))
    monkeypatch.setattr(receiver, "MAX_QUEUED_BYTES", 5 * size)
    rx = Receiver(inbox=True)
    for k in range(12):
        rx.accept(T.telemetry("A"), telemetry(f"A{k}", 1, pad=60_000), False)
    assert len(rx.inbox) == 5 and rx.overflow == 7
    counted_once(rx)


def test_advance_drops_inbox_entries_the_leader_can_never_name():
    rx = Receiver(inbox=True)
    for seq, t in enumerate((10.0, 500.0, 700.0, 1e8), start=1):
        rx.accept(T.telemetry("T1"), telemetry("T1", seq, t), False)
    key = (T.telemetry("T1"), "T1", 2)
    rx.inbox.pop(key)  # the leader named this one: delivered
    assert rx.advance(1000.0) == 1  # due at 10 s < 1000 - STALE_SLACK_S; 500 s was delivered, 700 s may come
    assert sorted(k[2] for k in rx.inbox) == [3, 4]
    assert rx.advance(2e8) == 2 and not rx.inbox
    assert rx.counts()["stale"] == 3 and rx.accepted == 4
    counted_once(rx)


def test_inbox_is_capped(monkeypatch):
    monkeypatch.setattr(receiver, "MAX_QUEUED", 100)
    rx = Receiver(inbox=True)
    for seq in range(1, 151):
        rx.accept(T.telemetry("T1"), telemetry(f"T{seq}", seq), False)
    assert len(rx.inbox) == 100 and rx.overflow == 50
    counted_once(rx)


def test_control_messages_waiting_are_capped(monkeypatch):
    monkeypatch.setattr(receiver, "MAX_CONTROL", 3)
    rx = Receiver()
    rx.add_control_filter(f"{SIM}/#")
    kind, body = GOOD[f"{SIM}/ack"]
    for seq in range(1, 6):
        rx.accept(f"{SIM}/ack", Envelope(kind, "cloud", seq, 1.0, body, t_deliver=1.0).to_json(), False)
    assert len(rx.control) == 3 and rx.overflow == 2
    counted_once(rx)


def test_payload_limit_is_the_envelope_limit():
    rx = Receiver()
    rx.accept(T.telemetry("T1"), telemetry("T1", 1, pad=MAX_BYTES), False)
    assert rx.rejected == 1 and "exceeds" in rx.last_error


# -- through a real broker ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def broker():
    """An open broker: anyone may publish anything on any topic, which is what this fuzz is about."""
    with EmbeddedBroker(os.environ.get("MINEFLEET_TEST_BROKER", "auto"), secure=False) as b:
        yield b


@settings(max_examples=2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(st.lists(payloads(), min_size=200, max_size=200))
def test_payloads_through_the_real_broker_are_all_counted(broker, items):
    with MqttTransport(broker.url, "fuzz-pub") as pub, MqttTransport(broker.url, "fuzz-sub") as sub:
        sub.subscribe(f"{T.root}/#", lambda topic, env: None)
        for topic, raw in items:
            pub.publish_raw(topic, raw, qos=1)
        pub.flush()
        deadline = time.monotonic() + 20
        while sub.received < len(items) and time.monotonic() < deadline:
            sub.pump(0.05)
        check_receiver(items, sub)
