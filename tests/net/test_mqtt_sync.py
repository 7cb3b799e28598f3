"""Over a real broker with the barrier, a leader and a follower thread see exactly the in-process order.

The scenario is built to be order-sensitive: the leader draws from one shared generator in handler order and
the follower's answers depend on how much telemetry it has seen, so any difference in delivery order, or a reply
handled one message late, changes the logs.
"""

from __future__ import annotations

import heapq
import itertools
import math
import os
import threading
import time
from typing import Any

import numpy as np
import pytest

from net.auth import SiteKey, sign
from net.broker import EmbeddedBroker
from net.envelope import Envelope
from net.follower import serve_follower
from net.inproc import InProcRouter
from net.mqtt import MqttTransport
from net.sync import MAX_OPEN, QUIET_LAG_S, Leader, SyncError
from net.topics import Topics

TRUCKS = ["T1", "T2", "T3", "T4"]
UNTIL = 30.0  # [s] simulated
DT = 0.5  # [s] tick


class LeaderScript:
    """A miniature fleet: trucks ask for orders, report telemetry, and act on orders at tick boundaries."""

    def __init__(self, transport: Any, topics: Topics, seed: int, requests: bool = True,
                 lag_s: float = QUIET_LAG_S, arrivals: bool = False) -> None:
        self.tr, self.topics = transport, topics
        self.arrivals = arrivals
        self.lag_s = lag_s  # [s] simulated: the quiet lag the leader's barrier is given
        self.rng = np.random.default_rng(seed)  # shared on purpose: handler order changes every later draw
        self.queue: list[tuple[float, int, str, str]] = []
        self.tie = itertools.count()
        self.seq = dict.fromkeys(TRUCKS, 0)
        self.log: list[tuple[Any, ...]] = []
        self.t = 0.0
        transport.subscribe(topics.dispatch("+"), self.on_order)
        body = {"site": "s", "facilities": [{"id": "S1", "kind": "shovel", "x": 0.0, "y": 0.0}], "routes": []}
        transport.publish(topics.layout, Envelope("layout", "site", 1, 0.0, body, t_deliver=0.0), qos=1, retain=True)
        for k, truck in enumerate(TRUCKS if requests else []):
            self.push(0.25 * k, "ready", truck)
        self.push(0.0, "telemetry", "")

    def push(self, t: float, what: str, truck: str) -> None:
        heapq.heappush(self.queue, (t, next(self.tie), what, truck))

    def send(self, truck: str, kind: str, body: dict[str, Any], qos: int, delay: float) -> None:
        self.seq[truck] += 1
        topic = self.topics.event(truck) if kind == "event" else self.topics.telemetry(truck)
        env = Envelope(kind, truck, self.seq[truck], self.t, body, t_deliver=round(self.t + delay, 6))
        self.tr.publish(topic, env, qos=qos)

    def fire(self) -> None:
        t, _, what, truck = heapq.heappop(self.queue)
        self.log.append(("fire", self.t, what, truck))
        if what == "telemetry":
            for tr in TRUCKS:
                body = {"x": float(self.rng.uniform(0, 100)), "y": 0.0, "v": 1.0, "state": "TRAVEL_EMPTY",
                        "payload_t": 0.0}
                self.send(tr, "telemetry", body, 0, float(self.rng.choice([0.0, 0.1, 0.3])))
            self.push(t + 1.0, "telemetry", "")
        else:
            if self.arrivals:  # an event the follower takes in and never answers
                body = {"event": "arrive", "at": "S1", "payload_t": 0.0, "material": None, "truck_class": "c",
                        "request": self.seq[truck] + 1}
                self.send(truck, "event", body, 1, float(self.rng.choice([0.0, 0.05])))
            body = {"event": "ready", "at": "S1", "payload_t": 0.0, "material": None, "truck_class": "c",
                    "request": self.seq[truck] + 1}
            self.send(truck, "event", body, 1, float(self.rng.choice([0.0, 0.05, 0.2])))

    def on_order(self, topic: str, env: Envelope) -> None:
        truck = topic.rsplit("/", 1)[-1]
        wait = float(self.rng.choice([0.0, 0.5, 1.7]))
        self.log.append(("order", self.t, truck, env.body["dest"], env.t_deliver, wait))
        self.push(self.t + wait, "ready", truck)

    def drain(self) -> None:
        while True:
            te = self.queue[0][0] if self.queue else None
            tm = self.tr.next_due()
            if te is not None and te <= self.t and (tm is None or te <= tm):
                self.fire()
            elif tm is not None and tm <= self.t:
                self.tr.deliver_next()
            else:
                return

    def run(self) -> None:
        self.drain()
        for _ in range(round(UNTIL / DT)):
            self.t = round(self.t + DT, 9)
            self.drain()
            sync = getattr(self.tr, "sync", None)
            if sync is not None:
                sync(self.t, self.lag_s)


KEY = SiteKey.generate()


class FollowerService:
    """A miniature cloud: answers each request at once; the answer depends on the telemetry seen so far."""

    def __init__(self, transport: Any, topics: Topics, slow_s: float = 0.0, answer_all: bool = False) -> None:
        self.tr, self.topics = transport, topics
        self.answer_all = answer_all  # answer every event, even one declared unanswered
        self.slow_s = slow_s  # [s] host time taken per telemetry message
        self.seen = 0
        self.seq = 0
        self.log: list[tuple[Any, ...]] = []
        transport.subscribe(topics.layout, lambda topic, env: self.log.append(("layout", env.t_deliver)))
        transport.subscribe(topics.event("+"), self.on_event)
        transport.subscribe(topics.telemetry("+"), self.on_telemetry)

    def on_telemetry(self, topic: str, env: Envelope) -> None:
        if self.slow_s:
            time.sleep(self.slow_s)
        self.seen += 1
        self.log.append(("tele", env.src, env.seq, env.t_deliver))

    def on_event(self, topic: str, env: Envelope) -> None:
        if env.body["event"] != "ready" and not self.answer_all:
            self.log.append(("arrive", env.src, env.seq, env.t_deliver, self.seen))
            return
        self.seq += 1
        dest = f"S{self.seen % 7}"
        self.log.append(("event", env.src, env.seq, env.t_deliver, dest))
        body = {"dest": dest, "route": "r", "request": env.body["request"]}
        topic = self.topics.dispatch(env.src)
        order = Envelope("order", "cloud", self.seq, env.t_deliver, body, t_deliver=env.t_deliver)
        order.sig = sign(KEY, topic, order)  # the leader's receiving path drops unsigned orders before the barrier
        self.tr.publish(topic, order, qos=1)


def run_inproc(seed: int, requests: bool = True, arrivals: bool = False) -> tuple[list[Any], list[Any]]:
    router = InProcRouter()
    topics = Topics("s")
    cloud = FollowerService(router, topics)
    fleet = LeaderScript(router, topics, seed, requests, arrivals=arrivals)
    fleet.run()
    return fleet.log, cloud.log


@pytest.fixture(scope="module")
def broker():
    with EmbeddedBroker(os.environ.get("MINEFLEET_TEST_BROKER", "auto")) as b:
        yield b


def run_mqtt(broker: EmbeddedBroker, seed: int, prefix: str, tamper: Any = None, slow_s: float = 0.0,
             requests: bool = True, lag_s: float = QUIET_LAG_S, arrivals: bool = False,
             answered: dict[str, list[str]] | None = None,
             answer_all: bool = False) -> tuple[list[Any], list[Any], Leader]:
    """The scenario over the broker; ``tamper(leader)`` may wrap the leader's methods before it runs, the
    follower takes ``slow_s`` of host time per telemetry message, and without ``requests`` only telemetry flows."""
    topics = Topics("s", prefix=prefix)
    follower_tr = MqttTransport(broker.url_for("cloud"), f"{prefix}cloud", inbox=True)
    cloud = FollowerService(follower_tr, topics, slow_s, answer_all)
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            serve_follower(follower_tr, topics, "cloud", KEY, quiet=[topics.telemetry("+")], answered=answered,
                           timeout_s=20.0, idle_timeout_s=60.0)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    leader_tr = MqttTransport(broker.url_for("fleet"), f"{prefix}fleet")
    leader = Leader(leader_tr, topics, KEY, timeout_s=20.0)
    if tamper is not None:
        tamper(leader)
    try:
        leader.wait_for(["cloud"])
        fleet = LeaderScript(leader, topics, seed, requests, lag_s, arrivals)
        fleet.run()
        leader.close(fleet.t)
    finally:
        thread.join(timeout=30)
        leader_tr.close()
        follower_tr.close()
    if errors:
        raise errors[0]
    return fleet.log, cloud.log, leader


def test_barrier_run_equals_in_process_run(broker):
    fleet_a, cloud_a = run_inproc(seed=3)
    fleet_b, cloud_b, leader = run_mqtt(broker, seed=3, prefix="det1/")
    assert len(cloud_a) > 200 and sum(1 for e in fleet_a if e[0] == "order") > 20
    assert cloud_b == cloud_a
    assert fleet_b == fleet_a
    assert leader.barriers > 20  # one per request at least, so replies were waited for
    assert leader.transport.rejected == 0


def test_quiet_messages_ride_with_the_next_barrier_instead_of_one_per_tick(broker):
    """Telemetry waits (at most QUIET_LAG_S) for a barrier that carries it, and the order is still the router's."""
    fleet_a, cloud_a = run_inproc(seed=5)
    fleet_b, cloud_b, leader = run_mqtt(broker, seed=5, prefix="lag1/")
    assert (fleet_b, cloud_b) == (fleet_a, cloud_a)
    loud = sum(1 for e in cloud_b if e[0] != "tele")  # each waits for its replies: a barrier of its own
    assert leader.barriers <= loud + math.ceil(UNTIL / QUIET_LAG_S) + 1  # one per tick: 32 more


def test_quiet_barriers_are_not_waited_for_one_by_one(broker):
    """A follower slow with telemetry: the leader opens barrier after barrier of it without waiting, up to
    MAX_OPEN, and the order is still the router's; with requests among them too."""
    most = [0]

    def watch(leader: Leader) -> None:
        send = leader._send_barrier

        def counted(f: Any, *args: Any) -> None:
            most[0] = max(most[0], len(leader._open.get(f.id, {})))
            send(f, *args)
        leader._send_barrier = counted  # type: ignore[method-assign]

    fleet_a, cloud_a = run_inproc(seed=9, requests=False)
    fleet_b, cloud_b, leader = run_mqtt(broker, seed=9, prefix="pipe1/", tamper=watch, slow_s=0.004, requests=False,
                                        lag_s=1.0)
    assert (fleet_b, cloud_b) == (fleet_a, cloud_a) and len(cloud_a) > 100
    assert most[0] == MAX_OPEN  # the leader ran ahead until the cap, then waited for the oldest
    assert leader.barriers >= UNTIL / 2.0  # about one a second, never one waited for until the cap
    fleet_a, cloud_a = run_inproc(seed=9)
    fleet_b, cloud_b, _ = run_mqtt(broker, seed=9, prefix="pipe2/", slow_s=0.004, lag_s=1.0)
    assert (fleet_b, cloud_b) == (fleet_a, cloud_a)


def test_a_lost_barrier_is_sent_again_and_the_ones_after_it_wait_for_it(broker):
    """A sync lost on its way (as to an outage): the follower ignores the barriers after it, whose ``after`` it
    has not had; the leader's next resend (here: a reconnection) delivers it and the chain goes on, so the run
    is still the in-process one, and nothing is delivered out of order."""
    sent, lost = [0], [0]

    def lose_one(leader: Leader) -> None:
        send = leader._send_barrier

        def lossy(f: Any, n: int, t: float, keys: Any, stop: bool, after: int) -> None:
            sent[0] += 1
            if not lost[0] and sent[0] > 3 and keys and all(f.route(k[0])[1] for k in keys):
                lost[0] = sent[0]  # a barrier of telemetry alone: nothing waits for it, later ones go out
                return
            if lost[0] and sent[0] == lost[0] + 2:
                leader.transport.generation += 1  # as a reconnection: the next wait sends every open barrier again
            send(f, n, t, keys, stop, after)
        leader._send_barrier = lossy  # type: ignore[method-assign]

    fleet_a, cloud_a = run_inproc(seed=11, requests=False)
    fleet_b, cloud_b, _ = run_mqtt(broker, seed=11, prefix="lost1/", tamper=lose_one, requests=False, lag_s=1.0)
    assert lost[0] and sent[0] > lost[0] + 2
    assert (fleet_b, cloud_b) == (fleet_a, cloud_a)


def test_events_declared_unanswered_are_not_waited_for(broker):
    """The follower answers only ``ready`` among the events and says so: the leader waits at those alone, the
    arrivals ride with the next barrier, and the order is still the router's. Declared without it, every event
    is waited for, with the same results."""
    waits = []

    def count(leader: Leader) -> None:
        barrier = leader._barrier

        def counted(f: Any, t: float, answered: bool) -> None:
            waits[-1] += answered
            barrier(f, t, answered)
        leader._barrier = counted  # type: ignore[method-assign]

    fleet_a, cloud_a = run_inproc(seed=4, arrivals=True)
    arrivals = sum(1 for e in cloud_a if e[0] == "arrive")
    assert arrivals > 20
    runs = []
    for prefix, answered in (("ans1/", {Topics("s", prefix="ans1/").event("+"): ["ready"]}), ("ans2/", None)):
        waits.append(0)
        fleet_b, cloud_b, _ = run_mqtt(broker, seed=4, prefix=prefix, tamper=count, arrivals=True, answered=answered)
        runs.append((fleet_b, cloud_b))
    assert runs[0] == runs[1] == (fleet_a, cloud_a)
    assert waits[1] - waits[0] >= arrivals * 0.9  # (arrivals that come last in a batch with a request are its own)


def test_a_follower_answering_an_event_it_declared_unanswered_fails_by_name(broker):
    answered = {Topics("s", prefix="ans3/").event("+"): ["ready"]}
    with pytest.raises(SyncError, match="declared quiet"):
        run_mqtt(broker, seed=4, prefix="ans3/", arrivals=True, answered=answered, answer_all=True)


def test_follower_that_never_answers_stops_the_leader_with_its_name(broker):
    topics = Topics("s", prefix="mute/")
    with MqttTransport(broker.url_for("fleet"), "mute-fleet") as tr:
        leader = Leader(tr, topics, KEY, timeout_s=0.5)
        with pytest.raises(SyncError, match="follower"):
            leader.wait_for(["cloud"])
