"""The MQTT transport through the embedded broker: round trip, retained, prefixes, ordering, duplicates, costs."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from net.broker import EmbeddedBroker
from net.envelope import Envelope
from net.inproc import InProcRouter
from net.mqtt import PENDING_TRIM, BrokerUrl, MqttError, MqttTransport, redact
from net.topics import Topics

TELEMETRY = {"x": 1.0, "y": 2.0, "v": 3.0, "state": "TRAVEL_EMPTY", "payload_t": 0.0}
EVENT = {"event": "ready", "at": "S1", "payload_t": 0.0, "material": None, "truck_class": "c", "request": 1}


@pytest.fixture(scope="module")
def broker():
    """A secure broker: the fleet account publishes truck and site topics, the cloud account reads them."""
    with EmbeddedBroker(os.environ.get("MINEFLEET_TEST_BROKER", "auto")) as b:
        yield b


@pytest.fixture(scope="module")
def open_broker():
    """An anonymous broker, for a client that reads back its own publications (no role may)."""
    with EmbeddedBroker(os.environ.get("MINEFLEET_TEST_BROKER", "auto"), secure=False) as b:
        yield b


def wait_received(tr: MqttTransport, n: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while tr.received < n and time.monotonic() < deadline:
        tr.pump(0.05)
    assert tr.received == n, tr.counts()


def drain(tr) -> None:
    while tr.next_due() is not None:
        tr.deliver_next()


def test_broker_url_forms():
    assert BrokerUrl.parse("mqtt://broker:1884") == BrokerUrl("broker", 1884, False, None, None)
    assert BrokerUrl.parse("mqtts://u%40x:p%3Aw@h") == BrokerUrl("h", 8883, True, "u@x", "p:w")
    assert BrokerUrl.parse("mqtt://127.0.0.1").port == 1883
    for bad in ("http://h", "mqtt://", "mqtt://h:99999"):
        with pytest.raises(ValueError, match="broker URL"):
            BrokerUrl.parse(bad)


def test_passwords_are_masked_wherever_a_url_is_shown():
    assert redact("mqtts://u%40x:p%3Aw@h:8883") == "mqtts://u%40x:***@h:8883"
    assert redact("mqtt://u@h") == "mqtt://u@h" and redact("mqtt://h:1") == "mqtt://h:1"
    with pytest.raises(ValueError, match=r"'mqtt://u:\*\*\*@h:99999' has a bad port") as bad:
        BrokerUrl.parse("mqtt://u:hunter2@h:99999")
    assert "hunter2" not in str(bad.value)


def test_round_trip_in_delivery_order_with_credentials(broker):
    topics = Topics("s", prefix="rt/")
    with (MqttTransport(broker.url_for("fleet"), "rt-pub") as pub,
          MqttTransport(broker.url_for("cloud"), "rt-sub") as sub):
        got = []
        sub.subscribe(topics.telemetry("+"), lambda topic, env: got.append((env.t_deliver, env.src, env.seq)))
        for t, src, seq in [(5.0, "T2", 1), (5.0, "T1", 2), (5.0, "T1", 1), (1.0, "T3", 1)]:
            pub.publish(topics.telemetry(src), Envelope("telemetry", src, seq, 0.0, TELEMETRY, t_deliver=t))
        wait_received(sub, 4)
        assert sub.next_due() == 1.0
        drain(sub)
        assert got == [(1.0, "T3", 1), (5.0, "T1", 1), (5.0, "T1", 2), (5.0, "T2", 1)]


def test_retained_message_reaches_a_late_subscriber(broker):
    topics = Topics("s", prefix="ret/")
    layout = {"site": "s", "facilities": [], "routes": []}
    with MqttTransport(broker.url_for("fleet"), "ret-pub") as pub:
        pub.publish(topics.layout, Envelope("layout", "site", 1, 0.0, layout, t_deliver=0.0), qos=1, retain=True)
        pub.flush()
        with MqttTransport(broker.url_for("cloud"), "ret-sub") as sub:
            got = []
            sub.subscribe(topics.layout, lambda topic, env: got.append(env.body["site"]))
            wait_received(sub, 1)
            drain(sub)
            assert got == ["s"]
        pub.publish_raw(topics.layout, b"", qos=1, retain=True)  # leave the broker clean


def test_prefixes_keep_parallel_runs_apart(broker):
    a, b = Topics("s", prefix="runA/"), Topics("s", prefix="runB/")
    with (MqttTransport(broker.url_for("fleet"), "pfx-pub") as pub,
          MqttTransport(broker.url_for("cloud"), "pfx-sub") as sub):
        got = []
        sub.subscribe(a.event("+"), lambda topic, env: got.append(topic))
        pub.publish(b.event("T1"), Envelope("event", "T1", 1, 0.0, EVENT, t_deliver=0.0), qos=1)
        pub.publish(a.event("T1"), Envelope("event", "T1", 2, 0.0, EVENT, t_deliver=0.0), qos=1)
        wait_received(sub, 1)
        drain(sub)
        assert got == ["runA/mine/s/truck/T1/event"]


def test_duplicates_and_invalid_payloads_are_counted_and_dropped(broker):
    topics = Topics("s", prefix="dup/")
    with (MqttTransport(broker.url_for("fleet"), "dup-pub") as pub,
          MqttTransport(broker.url_for("cloud"), "dup-sub") as sub):
        got = []
        sub.subscribe(topics.event("+"), lambda topic, env: got.append(env.seq))
        env = Envelope("event", "T1", 7, 0.0, EVENT, t_deliver=0.5)
        pub.publish(topics.event("T1"), env, qos=1)
        pub.publish(topics.event("T1"), env, qos=1)  # a QoS 1 resend arrives twice
        pub.publish_raw(topics.event("T1"), b'{"v":1,"kind":"event"}', qos=1)
        pub.publish_raw(topics.event("T1"), Envelope("order", "T1", 8, 0.0, {}, t_deliver=0.0).to_json(), qos=1)
        wait_received(sub, 4)
        drain(sub)
        assert got == [7]
        assert sub.counts() | {"published": 0, "delivered": 0} == {
            "received": 4, "accepted": 1, "rejected": 2, "duplicates": 1, "empty": 0, "published": 0,
            "delivered": 0, "too_old": 0, "overflow": 0, "unauthentic": 0, "stale": 0, "forgotten": 0}


def test_own_publications_are_ordered_like_the_in_process_router(open_broker):
    topics = Topics("s", prefix="own/")
    router = InProcRouter()
    with MqttTransport(open_broker.url, "own") as tr:
        logs = []
        for transport in (router, tr):
            log: list[tuple[float, str, int]] = []
            logs.append(log)
            transport.subscribe(topics.event("+"), lambda topic, e, log=log: log.append((e.t_deliver, e.src, e.seq)))
            for seq, t in enumerate([3.0, 1.0, 2.0, 1.0], start=1):
                transport.publish(topics.event("T1"), Envelope("event", "T1", seq, 0.0, EVENT, t_deliver=t), qos=1)
            drain(transport)
        tr.flush()
        wait_received(tr, 4)  # the broker's echoes ...
        assert tr.duplicates == 4 and tr.next_due() is None  # ... are duplicates of what was queued locally
        assert logs[0] == logs[1] == [(1.0, "T1", 2), (1.0, "T1", 4), (2.0, "T1", 3), (3.0, "T1", 1)]


def test_unreachable_broker_is_a_clear_error():
    with EmbeddedBroker("amqtt") as b:
        url = b.url
    with pytest.raises(MqttError, match=r"cannot connect to broker mqtt://127\.0\.0\.1"):
        MqttTransport(url, "nobody", timeout_s=2.0)
    with pytest.raises(MqttError, match=r"cannot connect to broker mqtt://u:\*\*\*@127\.0\.0\.1") as info:
        MqttTransport(url.replace("mqtt://", "mqtt://u:hunter2@"), "nobody", timeout_s=2.0)
    assert "hunter2" not in str(info.value)


def test_mqtts_url_for_a_plain_port_is_a_clear_error(broker):
    url = broker.url.replace("mqtt://", "mqtts://u:hunter2@")
    with pytest.raises(MqttError, match=r"cannot connect to broker mqtts://u:\*\*\*@127\.0\.0\.1:\d+: .*use mqtt://"):
        MqttTransport(url, "tls-to-plain", timeout_s=5.0)  # mosquitto resets it, amqtt lets the handshake time out


class _Unacknowledged:
    """What paho's publish returns, for a message the broker has not acknowledged yet; counts the checks."""

    checks = 0
    rc = 0

    def is_published(self) -> bool:
        _Unacknowledged.checks += 1
        return False


def test_a_broker_lagging_behind_does_not_make_publishing_quadratic(broker, monkeypatch):
    """QoS 1 messages are kept for ``flush``, and the acknowledged ones dropped now and then. While more than
    PENDING_TRIM were unacknowledged, every publish used to check them all (10,000 messages on amqtt: 2.8 million
    checks, each taking a lock); now a pass comes only when the list has doubled."""
    with MqttTransport(broker.url_for("fleet"), "lag-pub") as tr:
        monkeypatch.setattr(tr._client, "publish", lambda *a, **k: _Unacknowledged())
        _Unacknowledged.checks = 0
        n = 5 * PENDING_TRIM
        for _ in range(n):
            tr.publish_raw("lag/t", b"x", qos=1)
        assert len(tr._pending) == n  # none acknowledged, none dropped
        assert _Unacknowledged.checks < 3 * n, _Unacknowledged.checks  # was about n * n / 2
        monkeypatch.undo()
        tr._pending.clear()  # nothing was sent: nothing for close() to wait for


def test_framed_telemetry_leaves_in_publication_order_with_the_other_messages(broker):
    """With ``frame_qos0`` (the fleet's side of a run) QoS 0 messages are framed here and handed to paho many at a
    time: they reach the subscriber intact, of any size, and in the order published, the QoS 1 ones included."""
    topics = Topics("s", prefix="frame/")
    with (MqttTransport(broker.url_for("fleet"), "frame-pub", frame_qos0=True) as pub,
          MqttTransport(broker.url_for("cloud"), "frame-sub") as sub):
        arrived: list[tuple[str, int]] = []
        take = sub.accept
        sub.accept = lambda topic, payload, retain: (arrived.append((topic.rsplit("/", 1)[-1], len(payload))),
                                                     take(topic, payload, retain))
        sub.subscribe(topics.telemetry("+"), lambda topic, env: None)
        sub.subscribe(topics.event("+"), lambda topic, env: None)
        sent = []
        for seq, pad in enumerate([0, 200, 20_000, 0, 70, 0], start=1):  # 1-, 2- and 3-byte remaining lengths
            body = TELEMETRY | ({"pad": "x" * pad} if pad else {})
            payload = pub.publish(topics.telemetry("T1"), Envelope("telemetry", "T1", seq, 0.0, body, t_deliver=1.0))
            sent.append(("telemetry", len(payload)))
            if seq == 3:
                payload = pub.publish(topics.event("T1"), Envelope("event", "T1", 99, 0.0, EVENT, t_deliver=1.0), qos=1)
                sent.append(("event", len(payload)))
        pub.hand_over()
        wait_received(sub, len(sent))
        assert arrived == sent and sub.rejected == 0 and pub.published == len(sent)


def test_framed_telemetry_waits_for_its_hand_over(broker):
    topics = Topics("s", prefix="hold/")
    with (MqttTransport(broker.url_for("fleet"), "hold-pub", frame_qos0=True) as pub,
          MqttTransport(broker.url_for("cloud"), "hold-sub") as sub):
        sub.subscribe(topics.telemetry("+"), lambda topic, env: None)
        for seq in (1, 2):
            pub.publish(topics.telemetry("T1"), Envelope("telemetry", "T1", seq, 0.0, TELEMETRY, t_deliver=1.0))
        pub.hand_over(max_age_s=3600.0)  # not that old yet: kept
        sub.pump(0.3)
        assert sub.received == 0
        pub.hand_over()
        wait_received(sub, 2)
        with pytest.raises(ValueError, match="cannot publish to topic"):
            pub.publish(topics.telemetry("+"), Envelope("telemetry", "T1", 3, 0.0, TELEMETRY, t_deliver=1.0))


def test_amqtt_runs_in_a_process_of_its_own_that_can_be_killed_and_revived():
    topics = Topics("s", prefix="kill/")
    with EmbeddedBroker("amqtt") as b:
        with MqttTransport(b.url_for("cloud"), "kill-sub") as sub:
            sub.subscribe(topics.event("+"), lambda topic, env: None)
        b.kill()
        with pytest.raises(MqttError, match="cannot connect"):
            MqttTransport(b.url_for("fleet"), "kill-pub", timeout_s=2.0)
        b.revive()
        with (MqttTransport(b.url_for("cloud"), "kill-sub2") as sub,
              MqttTransport(b.url_for("fleet"), "kill-pub2") as pub):
            sub.subscribe(topics.event("+"), lambda topic, env: None)
            pub.publish(topics.event("T1"), Envelope("event", "T1", 1, 0.0, EVENT, t_deliver=1.0), qos=1)
            wait_received(sub, 1)


def test_an_amqtt_broker_does_not_outlive_the_process_that_started_it():
    starter = ("from net.broker import EmbeddedBroker; b = EmbeddedBroker('amqtt').start(); "
               "print(b._proc.pid, flush=True); import time; time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    broker_pid = int(parent.stdout.readline())
    parent.kill()  # a crash: no stop(), no finalizer
    parent.wait()
    deadline = time.monotonic() + 10.0
    while _alive(broker_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(broker_pid)


def _alive(pid: int) -> bool:
    """Running (a zombie left to a parent that does not reap it has ended too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:  # no /proc here, or it ended meanwhile
        return _pid_exists(pid)


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_qos0_subscription_takes_messages_unacknowledged(open_broker):
    """A filter subscribed at QoS 0 (the cloud's telemetry) gets even a QoS 1 publication at QoS 0, so neither the
    broker nor the client acknowledges each (and they may take the client's one-pass parse); a QoS 1 filter
    keeps QoS 1."""
    topics = Topics("s", prefix="q0/")
    with (MqttTransport(open_broker.url, "q0-pub") as pub, MqttTransport(open_broker.url, "q0-sub") as sub):
        arrived: list[tuple[str, int]] = []  # (topic's last level, QoS delivered)
        one_pass, paho = sub._client.on_qos0, sub._client.on_message
        sub._client.on_qos0 = lambda batch: (arrived.extend((m[0].rsplit("/", 2)[-2], 0) for m in batch),
                                             one_pass(batch))
        sub._client.on_message = lambda c, u, msg: (arrived.append((msg.topic.rsplit("/", 2)[-2], msg.qos)),
                                                    paho(c, u, msg))
        got: list[str] = []
        sub.subscribe(topics.telemetry("+"), lambda topic, env: got.append(env.src), qos=0)
        sub.subscribe(topics.event("+"), lambda topic, env: got.append("event"))
        for k in range(20):
            pub.publish(topics.telemetry(f"T{k}"), Envelope("telemetry", f"T{k}", 1, 0.0, TELEMETRY,
                                                            t_deliver=float(k)), qos=1)
        pub.publish(topics.event("E1"), Envelope("event", "E1", 2, 0.0, EVENT, t_deliver=30.0), qos=1)
        wait_received(sub, 21)
        drain(sub)
        assert got == [f"T{k}" for k in range(20)] + ["event"]
        assert sorted(arrived) == sorted([(f"T{k}", 0) for k in range(20)] + [("E1", 1)])
        with pytest.raises(ValueError, match="QoS"):
            sub.subscribe(topics.layout, lambda topic, env: None, qos=2)
