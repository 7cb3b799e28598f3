"""Messages per second through the embedded brokers: the project's MQTT transport against raw paho-mqtt.

    python -m bench.mqtt_throughput [--n 10000] [--brokers amqtt mosquitto] [--quick]

One publisher (the fleet's account) and one subscriber (the cloud's) on loopback, through the broker's password
and ACL checks as in a run, telemetry-sized envelopes (~180 B). "raw paho" publishes
ready-made bytes and counts them in paho's callback; "transport" builds each envelope, publishes it through
``MqttTransport`` as the fleet's side of a run does (QoS 0 framed, handed over once per burst of a tick's worth),
and the subscriber decodes, validates, de-duplicates, queues and delivers it to a handler in
simulation-time order. Both use the same in-flight window and unlimited paho queue; both time from the first
publish to the last message in. The transport also sets TCP_NODELAY, a latency choice raw paho does not make
(given to raw paho it cost 3-9% in two measurements, about the noise). Raw and transport runs alternate, so
load on the machine hits both; each cell is the best of ``--repeat`` runs of each, and "pairs" gives the lowest
and highest ratio of two back-to-back runs, as the two shared cores of a small machine make single runs vary by
up to 2x. Target: transport >= 0.7 x raw paho. mosquitto is measured when installed (Debian: ``apt-get install
mosquitto``).
"""

from __future__ import annotations

import argparse
import itertools
import platform
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.report import at_least, figure
from net.broker import EmbeddedBroker, find_mosquitto
from net.envelope import Envelope
from net.frames import FRAME_HOLD_S
from net.mqtt import DEFAULT_INFLIGHT, BrokerUrl, MqttTransport
from net.topics import Topics

TARGET_RATIO = 0.7
TIMEOUT_S = 120.0  # [s] per measurement
N, QUICK_N = 10_000, 2_000  # messages per measurement
REPEAT = 2  # runs per cell; the best is kept (2 shared cores)
BROKERS = ("amqtt", "mosquitto")
BURST = 100  # messages published between two takes of what has arrived (a tick's worth)
TOPICS = Topics("bench", prefix="bench/")
_RUN = itertools.count()  # a fresh client id per run: a broker may still be draining the last one
BODY = {"x": 1234.56, "y": -789.01, "v": 12.345, "state": "TRAVEL_LOADED", "payload_t": 363.0}


def _env(i: int) -> Envelope:
    return Envelope("telemetry", "T001", i, i * 0.1, dict(BODY), t_deliver=i * 0.1 + 0.004)


def raw_paho(pub_url: str, sub_url: str, n: int, qos: int) -> float:
    """msgs/s from first publish to last receipt, plain paho clients."""
    b, s = BrokerUrl.parse(pub_url), BrokerUrl.parse(sub_url)
    payload = _env(1).to_json()
    done = threading.Event()
    got = [0]

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        got[0] += 1
        if got[0] == n:
            done.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"raw-sub-{next(_RUN)}")
    sub.on_message = on_message
    sub.username_pw_set(s.username, s.password)
    sub.connect(s.host, s.port)
    sub.loop_start()
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.subscribe(TOPICS.telemetry("+"), qos=1)
    subscribed.wait(10)
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"raw-pub-{next(_RUN)}")
    pub.max_inflight_messages_set(DEFAULT_INFLIGHT)
    pub.username_pw_set(b.username, b.password)
    pub.connect(b.host, b.port)
    pub.loop_start()
    topic = TOPICS.telemetry("T001")
    started = time.perf_counter()
    for _ in range(n):
        pub.publish(topic, payload, qos=qos)
    ok = done.wait(TIMEOUT_S)
    elapsed = time.perf_counter() - started
    for c in (pub, sub):
        c.disconnect()
        c.loop_stop()
    return n / elapsed if ok else got[0] / elapsed


def transport(pub_url: str, sub_url: str, n: int, qos: int) -> float:
    """msgs/s from first publish to last delivery through ``MqttTransport`` on both ends."""
    delivered = [0]
    with (MqttTransport(pub_url, f"tr-pub-{next(_RUN)}", frame_qos0=True) as pub,
          MqttTransport(sub_url, f"tr-sub-{next(_RUN)}") as sub):
        sub.subscribe(TOPICS.telemetry("+"), lambda topic, env: delivered.__setitem__(0, delivered[0] + 1))
        topic = TOPICS.telemetry("T001")

        def take() -> None:
            sub.pump()
            while sub.next_due() is not None:
                sub.deliver_next()

        started = time.perf_counter()
        for i in range(n):  # one simulation thread publishes and, between bursts, delivers what has come in
            pub.publish(topic, _env(i), qos=qos)
            if i % BURST == BURST - 1:
                pub.hand_over(FRAME_HOLD_S)  # as the fleet's side does at each tick
                take()
        pub.hand_over()
        deadline = time.monotonic() + TIMEOUT_S
        while delivered[0] < n and time.monotonic() < deadline:
            sub.pump(0.01)
            take()
        elapsed = time.perf_counter() - started
    return delivered[0] / elapsed


def run(quick: bool = False, n: int | None = None, brokers: tuple[str, ...] = BROKERS,
        repeat: int = REPEAT) -> dict[str, Any]:
    """Per broker and QoS: raw paho and transport msgs/s (best of ``repeat``), their ratio and the spread of the
    ratios of back-to-back pairs, measured in this call; ``figures`` as ``bench.report`` lists them."""
    n = (QUICK_N if quick else N) if n is None else n
    out: dict[str, Any] = {"host": f"{platform.processor() or platform.machine()}, Python {platform.python_version()}",
                           "n": n, "bytes": len(_env(1).to_json()), "repeat": repeat, "target_ratio": TARGET_RATIO}
    for kind in brokers:
        if kind == "mosquitto" and find_mosquitto() is None:
            out[kind] = {"installed": False}
            continue
        cells: dict[str, Any] = {"installed": True}
        with EmbeddedBroker(kind) as broker:
            urls = broker.url_for("fleet"), broker.url_for("cloud")  # telemetry: the fleet sends, the cloud reads
            for qos in (0, 1):
                pairs = [(raw_paho(*urls, n, qos), transport(*urls, n, qos)) for _ in range(repeat)]
                raw, ours = max(r for r, _ in pairs), max(t for _, t in pairs)
                each = [t / r for r, t in pairs]
                cells[f"qos{qos}"] = {"raw_msgs_s": round(raw), "transport_msgs_s": round(ours),
                                      "ratio": round(ours / raw, 3),
                                      "pairs": [round(min(each), 3), round(max(each), 3)]}
        out[kind] = cells
    out["figures"] = [figure(f"{kind} QoS {qos} transport", c["transport_msgs_s"], "msg/s",
                             baseline=c["raw_msgs_s"], baseline_name="raw paho",
                             target=at_least(c["ratio"], TARGET_RATIO, "x"))
                      for kind in brokers if out[kind]["installed"]
                      for qos, c in ((q, out[kind][f"qos{q}"]) for q in (0, 1))]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=None, help=f"messages per measurement (default {N}, --quick "
                                                            f"{QUICK_N})")
    parser.add_argument("--brokers", nargs="+", default=list(BROKERS), choices=BROKERS)
    parser.add_argument("--repeat", type=int, default=REPEAT, help="runs per cell; the best is kept (2 shared cores)")
    parser.add_argument("--quick", action="store_true", help="fewer messages")
    args = parser.parse_args()
    res = run(args.quick, args.n, tuple(args.brokers), args.repeat)
    print(f"host: {res['host']}, {res['n']} messages of {res['bytes']} B, one publisher, one subscriber, loopback, "
          f"best of {res['repeat']}")
    print(f"{'broker':<10} {'QoS':>3} {'raw paho msg/s':>15} {'transport msg/s':>16} {'ratio':>6} {'pairs':>10}"
          f"  target >= {TARGET_RATIO}")
    for kind in args.brokers:
        if not res[kind]["installed"]:
            print(f"{kind:<10} not installed (apt-get install mosquitto)")
            continue
        for qos in (0, 1):
            c = res[kind][f"qos{qos}"]
            spread = f"{c['pairs'][0]:.2f}-{c['pairs'][1]:.2f}"
            print(f"{kind:<10} {qos:>3} {c['raw_msgs_s']:>15,} {c['transport_msgs_s']:>16,} {c['ratio']:>6.2f} "
                  f"{spread:>10}")


if __name__ == "__main__":
    main()
