"""Columnar telemetry in process (net/batch.py, net/inproc.py): released in exactly the order single messages
would have had, whole to subscribers that take batches, one envelope at a time to the others."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import REPO

from fleet.comms import FleetComms
from fleet.failures import CloudOutage, ScheduledEvent
from fleet.kpi import summarize
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario
from net.batch import TelemetryBatch, TelemetryPeriods
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


def test_a_new_subscription_is_heeded_by_the_parts_of_batches_routed_before_it():
    """The router remembers that a fleet's batches went whole (the senders' parts go the same way); a subscription
    made since makes it look again."""
    router = InProcRouter()
    whole: list[list[str]] = []
    singles: list[str] = []

    def every(topic: str, env: Envelope) -> None:
        singles.append(env.src)

    router.subscribe(TOPICS.telemetry("+"), every)
    router.on_batch(every, lambda b: whole.append(b.src))
    router.publish_batch(batch(1.0), TOPICS.telemetry)
    router.publish_batch(batch(2.0, seq=2).part(1, 3), TOPICS.telemetry)
    drain(router)
    assert whole == [TRUCKS, ["T2", "T3"]] and singles == []
    router.subscribe(TOPICS.telemetry("T3"), lambda topic, env: singles.append("spy:" + env.src))
    router.publish_batch(batch(3.0, seq=3).part(1, 3), TOPICS.telemetry)
    drain(router)
    assert whole == [TRUCKS, ["T2", "T3"]] and singles == ["T2", "T3", "spy:T3"]


def periods(times: list[float], seq0: int = 1) -> TelemetryPeriods:
    m, n = len(times), len(TRUCKS)
    grid = np.arange(m * n, dtype=float).reshape(m, n)
    return TelemetryPeriods(list(times), list(times), list(TRUCKS), np.full(n, seq0, dtype=np.int64), grid,
                            -grid, np.ones((m, n)), ["TRAVEL_LOADED"] * n, np.full(n, 90.0))


def as_singles(p: TelemetryPeriods) -> list[tuple[str, Envelope]]:
    return [(TOPICS.telemetry(e.src), e) for j in range(p.periods) for e in p.period(j).envelopes()]


def seen_by_all_kinds(publish) -> tuple[list[tuple], list[tuple], int]:
    """What a router delivers: to a subscriber of single messages (every envelope, in order), and to one that
    takes batches and periods (each hand-over, as (kind, periods, senders)); and the messages delivered."""
    router = InProcRouter()
    handovers: list[tuple] = []

    def taker(topic: str, env: Envelope) -> None:
        raise AssertionError("a subscriber that takes batches gets no single messages")

    router.subscribe(TOPICS.telemetry("+"), taker)
    router.on_batch(taker, lambda b: handovers.append(("batch", b.t_deliver, tuple(b.src))),
                    lambda p: handovers.append(("periods", tuple(p.t_deliver), tuple(p.src))))
    publish(router)
    drain(router)
    singles = one_by_one(publish)
    assert router.published == router.delivered == len(singles)
    return singles, handovers, router.delivered


def one_by_one(publish) -> list[tuple]:
    """Every envelope a subscriber of single messages gets, in order."""
    router = InProcRouter()
    singles: list[tuple] = []
    router.subscribe("#", lambda topic, env: singles.append((topic, env.src, env.seq, env.t_deliver, env.body)))
    publish(router)
    drain(router)
    return singles


def test_periods_go_whole_when_nothing_falls_between_them():
    def publish(r: InProcRouter) -> None:
        r.publish(TOPICS.event("T2"), single("T2", 1, 0.5), qos=1)  # before: delivered first
        r.publish_periods(periods([1.0, 2.0, 3.0], seq0=2), TOPICS.telemetry)
        r.publish(TOPICS.event("T4"), single("T4", 5, 3.0), qos=1)  # after T4's last message (seq 4), the last

    singles, handovers, delivered = seen_by_all_kinds(publish)
    assert handovers == [("periods", (1.0, 2.0, 3.0), tuple(TRUCKS))]
    assert delivered == 2 + 3 * len(TRUCKS)
    assert [s[1:3] for s in singles[:6]] == [("T2", 1), ("T1", 2), ("T2", 2), ("T3", 2), ("T4", 2), ("T1", 3)]
    assert singles[-1][1:3] == ("T4", 5)
    assert singles[5][4] == {"x": 4.0, "y": -4.0, "v": 1.0, "state": "TRAVEL_LOADED", "payload_t": 90.0}


def test_a_message_between_two_periods_sends_them_as_batches_in_order():
    """The same messages in the same order as if every truck had published its own, whatever falls between."""
    def publish(r: InProcRouter) -> None:
        r.publish_periods(periods([1.0, 2.0, 3.0, 4.0]), TOPICS.telemetry)
        r.publish(TOPICS.event("T3"), single("T3", 3, 2.0), qos=1)  # after T3's period-2 message (seq 2)

    def publish_singles(r: InProcRouter) -> None:
        for topic, env in as_singles(periods([1.0, 2.0, 3.0, 4.0])):
            r.publish(topic, env)
        r.publish(TOPICS.event("T3"), single("T3", 3, 2.0), qos=1)

    singles, handovers, _ = seen_by_all_kinds(publish)
    assert singles == one_by_one(publish_singles)
    assert handovers == [("batch", 1.0, tuple(TRUCKS)), ("batch", 2.0, ("T1", "T2", "T3")), ("batch", 2.0, ("T4",)),
                         ("periods", (3.0, 4.0), tuple(TRUCKS))]
    assert singles[7][1:3] == ("T3", 3) and singles[7][0] == TOPICS.event("T3")


def test_a_subscriber_without_a_periods_handler_gets_a_batch_a_period():
    router = InProcRouter()
    got: list[tuple] = []

    def taker(topic: str, env: Envelope) -> None:
        raise AssertionError("a subscriber that takes batches gets no single messages")

    router.subscribe(TOPICS.telemetry("+"), taker)
    router.on_batch(taker, lambda b: got.append((b.t_deliver, b.seq)))
    router.publish_periods(periods([1.0, 2.0], seq0=7), TOPICS.telemetry)
    drain(router)
    assert got == [(1.0, [7] * 4), (2.0, [8] * 4)]


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


@pytest.mark.parametrize("outage", [False, True])
def test_the_fleet_hands_over_several_periods_as_its_batches_would_go(outage):
    """``FleetComms.telemetry_periods`` against ``telemetry_all`` once a period, for a fleet whose ids are not in
    sender order (the columns are reordered) and across a cloud outage that swallows one period: the same
    messages delivered in the same order, the same counts."""

    ids = ["T2", "T10", "T1"]
    times = [4.0, 5.0, 6.0]
    rng = np.random.default_rng(1)
    x, y, v = (rng.uniform(0, 100, (3, 3)).round(2) for _ in range(3))
    state = np.array(["TRAVEL_EMPTY", "LOADING", "HOLD"], dtype=object)
    payload = np.array([0.0, 50.0, 120.0])

    def sent(together: bool) -> tuple[list[tuple], tuple]:
        router = InProcRouter()
        got: list[tuple] = []
        router.subscribe(TOPICS.telemetry("+"), lambda topic, env: got.append((topic, env.src, env.seq, env.body)))
        comms = FleetComms(router, TOPICS, IdealLink(), ids)
        if outage:
            comms.outage = CloudOutage((ScheduledEvent("cloud_outage", "cloud", 4.5, 5.5),))
        if together:
            comms.telemetry_periods(times, x, y, v, state, payload)
        else:
            for j, t in enumerate(times):
                comms.telemetry_all(t, x[j], y[j], v[j], state, payload)
        drain(router)
        return got, (comms.sent, comms.outage.lost["uplink"], router.published, router.delivered,
                     comms._seq.tolist())

    together = sent(True)
    assert together == sent(False)
    got, counts = together
    assert [g[1] for g in got[:3]] == ["T1", "T10", "T2"]  # sender order within a period
    assert got[0][3]["x"] == x[0, 2] and got[1][3]["state"] == "LOADING"
    assert counts[0] == 9 and counts[1] == (3 if outage else 0) and counts[4] == [3, 3, 3]
    assert len(got) == (6 if outage else 9)
