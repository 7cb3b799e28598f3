"""The in-process router: MQTT filter semantics, delivery in (t_deliver, src, seq) order, retained messages."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from net.envelope import MAX_DEPTH, MAX_NAME, Envelope, EnvelopeError
from net.inproc import InProcRouter
from net.topics import Topics, matches


@pytest.mark.parametrize("filt, topic, expected", [
    ("mine/a/truck/+/event", "mine/a/truck/T1/event", True),
    ("mine/a/truck/+/event", "mine/a/truck/T1/telemetry", False),
    ("mine/#", "mine/a/truck/T1/event", True),
    ("mine/a/#", "mine/a", True),  # '#' also matches the parent level
    ("mine/+", "mine/a/b", False),
    ("mine/a/dispatch/T1", "mine/a/dispatch/T1", True),
    ("mine/a/dispatch/T1", "mine/a/dispatch/T10", False),
])
def test_topic_filters(filt, topic, expected):
    assert matches(filt, topic) is expected


def env(src, seq, t, kind="x"):
    return Envelope(kind=kind, src=src, seq=seq, t_sent=t, t_deliver=t)


def drain(router, now):
    while router.next_due() is not None and router.next_due() <= now:
        router.deliver_next()


def test_delivery_is_ordered_by_time_then_sender_then_sequence():
    router = InProcRouter()
    got = []
    router.subscribe("mine/#", lambda topic, e: got.append((e.t_deliver, e.src, e.seq)))
    for e in (env("T2", 1, 5.0), env("T1", 2, 5.0), env("T1", 1, 5.0), env("T3", 1, 1.0)):
        router.publish("mine/a/truck/x/event", e, qos=1)
    drain(router, 4.0)
    assert got == [(1.0, "T3", 1)]
    drain(router, 10.0)
    assert got == [(1.0, "T3", 1), (5.0, "T1", 1), (5.0, "T1", 2), (5.0, "T2", 1)]


def test_retained_message_reaches_a_late_subscriber():
    router = InProcRouter()
    topics = Topics("a")
    router.publish(topics.layout, env("site", 1, 0.0), retain=True)
    drain(router, 0.0)
    got = []
    router.subscribe(topics.layout, lambda topic, e: got.append(topic))
    drain(router, 0.0)
    assert got == ["mine/a/site/layout"]


def test_topic_prefix_keeps_runs_apart():
    assert Topics("a", prefix="run42/").dispatch("T1") == "run42/mine/a/dispatch/T1"


def test_envelope_round_trip_and_validation():
    e = Envelope(kind="event", src="T1", seq=3, t_sent=1.5, body={"event": "loaded"}, t_deliver=1.5)
    assert Envelope.from_json(e.to_json()) == e
    for bad, reason in [(b"\xff", "not UTF-8 JSON"), (b"[]", "must be a JSON object"),
                        (b'{"v":2}', "unsupported envelope version"),
                        (b'{"v":1,"kind":"a","src":"b","seq":-1,"body":{},"t_sent":0,"t_deliver":0}', "'seq'"),
                        (b'{"v":1,"kind":"a","src":"b","seq":1,"body":{},"t_sent":2,"t_deliver":1}', "before"),
                        (b"x" * 70_000, "exceeds"),
                        (b'{"v":1,"kind":"a","src":"b","seq":1,"body":{"up":Infinity},"t_sent":0,"t_deliver":0}',
                         "not UTF-8 JSON"),
                        (b"[" * 30_000 + b"]" * 30_000, "not UTF-8 JSON")]:  # nesting: refused, not a crash
        with pytest.raises(EnvelopeError, match=reason):
            Envelope.from_json(bad)
    with pytest.raises(ValueError, match="not JSON compliant"):  # JSON has no NaN: never sent as null
        Envelope(kind="telemetry", src="T1", seq=1, t_sent=0.0, body={"v": math.nan}, t_deliver=0.0).to_json()
    numpy_body = {"x": np.float64(1.5), "n": np.int64(3)}  # numpy scalars go out as the numbers they hold
    assert b'"body":{"x":1.5,"n":3}' in Envelope(kind="telemetry", src="T1", seq=1, t_sent=0.0, body=numpy_body,
                                                 t_deliver=0.0).to_json()
    assert b'"at":null' in Envelope(kind="event", src="T1", seq=1, t_sent=0.0, body={"at": None},
                                     t_deliver=0.0).to_json()


def test_envelope_names_and_nesting_are_bounded():
    good = Envelope(kind="event", src="s" * MAX_NAME, seq=1, t_sent=0.0, t_deliver=0.0)
    assert Envelope.from_json(good.to_json()) == good
    for field in ("kind", "src"):
        doc = good.to_dict() | {field: "s" * (MAX_NAME + 1)}
        with pytest.raises(EnvelopeError, match=f"'{field}' must be a string of 1-{MAX_NAME} characters"):
            Envelope.from_json(json.dumps(doc).encode())
    deep = b'{"a":' * 600 + b"1" + b"}" * 600  # an object chain: deep, and more brackets than any real message
    with pytest.raises(EnvelopeError, match=f"nested deeper than {MAX_DEPTH} levels"):
        Envelope.from_json(good.to_json().replace(b'"body":{}', b'"body":' + deep))


def test_received_envelopes_know_their_size_which_is_not_part_of_the_message():
    e = Envelope(kind="event", src="T1", seq=3, t_sent=1.5, body={"event": "loaded"}, t_deliver=1.5)
    raw = e.to_json()
    got = Envelope.from_json(raw)
    assert got.wire_bytes == len(raw) and e.wire_bytes == 0
    assert got == e and got.to_json() == raw and "wire_bytes" not in repr(got)
