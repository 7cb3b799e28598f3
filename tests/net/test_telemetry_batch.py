"""Columnar telemetry in process (net/batch.py, net/inproc.py): released in exactly the order single messages
would have had, whole to subscribers that take batches, one envelope at a time to the others."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import REPO

from fleet.kpi import summarize
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario
from net.batch import TelemetryBatch
from net.envelope import Envelope
from net.inproc import InProcRouter
from net.link import IdealLink
from net.topics import Topics

TOPICS = Topics("mine/test")
TRUCKS = ["T1", "T2", "T3", "T4"]


def batch(t: float, seq: int = 1) -> TelemetryBatch:
    n = len(TRUCKS)
    return TelemetryBatch(t, t, list(TRUCKS), [seq] * n, np.arange(n, dtype=float), np.zeros(n), np.ones(n),
                          ["TRAVEL_EMPTY"] * n, np.zeros(n))


def single(src: str, seq: int, t: float) -> Envelope:
    return Envelope(kind="event", src=src, seq=seq, t_sent=t, t_deliver=t, body={"event": "ready"})


def drain(router: InProcRouter) -> None:
    while router.next_due() is not None:
        router.deliver_next()


def test_a_batch_is_cut_where_another_message_falls_between_its_trucks():
    router = InProcRouter()
    seen: list[tuple[str, str]] = []
    parts: list[list[str]] = []

    def telemetry(topic: str, env: Envelope) -> None:
        raise AssertionError("a subscriber that takes batches gets no single messages")

    router.subscribe(TOPICS.telemetry("+"), telemetry)
    router.on_batch(telemetry, lambda b: (parts.append(b.src), seen.extend(("telemetry", s) for s in b.src)))
    router.subscribe(TOPICS.event("+"), lambda topic, env: seen.append(("event", env.src)))
    router.publish_batch(batch(5.0, seq=7), TOPICS.telemetry)
    router.publish(TOPICS.event("T2"), single("T2", 8, 5.0), qos=1)  # after T2's telemetry (seq 7 < 8)
    router.publish(TOPICS.event("T1"), single("T1", 3, 4.0), qos=1)  # earlier: before the whole batch
    drain(router)
    assert seen == [("event", "T1"), ("telemetry", "T1"), ("telemetry", "T2"), ("event", "T2"),
                    ("telemetry", "T3"), ("telemetry", "T4")]
    assert parts == [["T1", "T2"], ["T3", "T4"]]
    assert router.published == router.delivered == 6


def test_batches_queued_one_after_another_each_go_whole():
    """Several periods waiting at once (reports taken inside the kernel are sent together): each batch goes
    whole, in time order; one message at the same time as a batch still cuts it where it falls."""
    router = InProcRouter()
    parts: list[tuple[float, list[str]]] = []

    def telemetry(topic: str, env: Envelope) -> None:
        raise AssertionError("a subscriber that takes batches gets no single messages")

    router.subscribe(TOPICS.telemetry("+"), telemetry)
    router.on_batch(telemetry, lambda b: parts.append((b.t_deliver, b.src)))
    router.subscribe(TOPICS.event("+"), lambda topic, env: parts.append((env.t_deliver, [env.src])))
    for k in range(3):
        router.publish_batch(batch(1.0 + k, seq=k + 1), TOPICS.telemetry)
    router.publish(TOPICS.event("T3"), single("T3", 2, 2.0), qos=1)  # T3's event after its telemetry of t = 2
    drain(router)
    assert parts == [(1.0, TRUCKS), (2.0, ["T1", "T2", "T3"]), (2.0, ["T3"]), (2.0, ["T4"]), (3.0, TRUCKS)]


def test_subscribers_without_a_batch_handler_get_the_single_messages():
    router = InProcRouter()
    got: list[Envelope] = []
    router.subscribe(TOPICS.telemetry("+"), lambda topic, env: got.append(env))
    router.publish_batch(batch(2.0, seq=4), TOPICS.telemetry)
    drain(router)
    assert [(e.src, e.seq, e.t_deliver, e.kind) for e in got] == [(s, 4, 2.0, "telemetry") for s in TRUCKS]
    assert got[2].body == {"x": 2.0, "y": 0.0, "v": 1.0, "state": "TRAVEL_EMPTY", "payload_t": 0.0}
    assert all(type(v) is float for v in got[2].body.values() if not isinstance(v, str))


def test_a_subscriber_of_one_truck_makes_the_batch_go_out_one_message_at_a_time():
    router = InProcRouter()
    whole: list[TelemetryBatch] = []
    singles: list[str] = []

    def every(topic: str, env: Envelope) -> None:
        singles.append(env.src)

    router.subscribe(TOPICS.telemetry("+"), every)
    router.on_batch(every, whole.append)
    router.subscribe(TOPICS.telemetry("T3"), lambda topic, env: singles.append("spy:" + env.src))
    router.publish_batch(batch(1.0), TOPICS.telemetry)
    drain(router)
    assert whole == [] and singles == ["T1", "T2", "T3", "spy:T3", "T4"]


@pytest.mark.parametrize("scenario", ["open_pit", "open_pit_mixed"])
def test_a_shift_is_the_same_with_telemetry_in_batches_or_one_by_one(scenario, monkeypatch):
    scn = replace(load_scenario(REPO / "scenarios" / f"{scenario}.toml").with_overrides(hours=0.5),
                  telemetry_period_s=1.0)

    def summary() -> tuple[str, int]:
        run = build_run(scn)
        run.sim.run(scn.hours * 3600.0)
        return json.dumps(summarize(run.sim), sort_keys=True, default=str), run.sim.comms.transport.delivered

    batched = summary()
    calls: list[int] = []
    monkeypatch.delattr(IdealLink, "uplink_all")  # the link no longer offers the batch: one message per truck
    monkeypatch.setattr(InProcRouter, "publish_batch", lambda *a: calls.append(1), raising=True)
    assert summary() == batched and calls == []
