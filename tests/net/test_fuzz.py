"""Random and mutated payloads on every topic: the receiving path never crashes and counts every one."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from net.broker import EmbeddedBroker
from net.envelope import Envelope
from net.mqtt import MqttTransport, Receiver
from net.schemas import decode
from net.topics import Topics

T = Topics("fz", prefix="fuzz/")
GOOD: dict[str, tuple[str, dict[str, Any]]] = {
    T.telemetry("T1"): ("telemetry", {"x": 1.0, "y": 2.0, "v": 3.0, "state": "LOADING", "payload_t": 90.0}),
    T.event("T1"): ("event", {"event": "dumped", "at": "D1", "payload_t": 0.0, "material": None,
                              "truck_class": "c", "request": 3}),
    T.perception("T1"): ("perception", {"sectors": [0.1, 0.9]}),
    T.dispatch("T1"): ("order", {"dest": "S1", "route": "D1>S1", "request": 3}),
    T.layout: ("layout", {"site": "fz", "facilities": [{"id": "S1", "kind": "shovel", "x": 0.0, "y": 0.0}],
                          "routes": [{"id": "r", "from": "S1", "to": "D1", "length_m": 5.0, "time_s": {}}]}),
    T.estop: ("estop", {"reason": "test"}),
    T.cloud_status: ("status", {"up": True}),
    f"{T.root}/sim/sync": ("sync", {"t": 1.0, "n": 1, "to": "cloud", "deliver": [[T.event("T1"), "T1", 1]]}),
    f"{T.root}/sim/ack": ("ack", {"t": 1.0, "n": 1, "published": [], "error": None}),
    f"{T.root}/sim/hello/cloud": ("hello", {"id": "cloud", "filters": ["a/#"], "quiet": []}),
    f"{T.root}/sim/stop": ("stop", {"t": 1.0, "n": 2, "to": "cloud"}),
}
TOPICS = sorted(GOOD)

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
    assert rx.received == rx.accepted + rx.rejected + rx.duplicates + rx.empty
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
EXAMPLES = 260  # x 40 payloads = 10,400 through the decoding path


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(payloads(), min_size=BATCH, max_size=BATCH))
def test_receiving_path_survives_and_counts_random_payloads(items):
    rx = Receiver()
    rx.add_control_filter(f"{T.root}/sim/#")
    for topic, raw in items:
        rx.accept(topic, raw, False)
    check_receiver(items, rx)


@pytest.fixture(scope="module")
def broker():
    with EmbeddedBroker(os.environ.get("MINEFLEET_TEST_BROKER", "auto")) as b:
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
