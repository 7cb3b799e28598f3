"""A rogue MQTT client on every topic of a live run, with each account's password and with none: nothing it sends is
obeyed, the refusals are counted, and the shift's figures are those of an undisturbed run."""

from __future__ import annotations

import json
import threading
import time

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from separate_cloud import CloudThread, same_shift

from minefleet.headless import run_headless
from minefleet.scenario import load_scenario
from net.auth import REASONS, SiteKey, sign
from net.broker import EmbeddedBroker
from net.envelope import Envelope
from net.sync import sim_topic
from net.topics import Topics

SITE = "tutorial"
PREFIX = "rogue/"
HOURS = 2.0
PEER_TIMEOUT_S = 20.0  # [s] a run the rogue could stall fails this test in bounded time
T = Topics(SITE, prefix=PREFIX)


def forgeries(k: int) -> list[tuple[str, bytes]]:
    """One round of forged messages on every topic; ``k`` keeps each round's keys new."""
    fake_key = SiteKey.generate()

    def env(kind: str, src: str, topic: str, body: dict, signed: bool = True) -> bytes:
        e = Envelope(kind, src, 10_000 + k, 60.0, body, t_deliver=60.0)
        if signed:
            e.sig = sign(fake_key, topic, e)
        return e.to_json()

    order = {"dest": "park", "route": "shovel>park", "request": 1}
    stop = {"trucks": [], "engage": True, "reason": "rogue"}
    return [
        (T.dispatch("T001"), env("order", "cloud", T.dispatch("T001"), order)),
        (T.dispatch("T001"), env("order", "cloud", T.dispatch("T001"), order, signed=False)),
        (T.estop, env("estop", "cloud", T.estop, stop)),
        (sim_topic(T, "sync"), env("sync", "leader", sim_topic(T, "sync"),
                                   {"t": 60.0, "n": 1, "after": 0, "to": "cloud", "deliver": []})),
        (sim_topic(T, "stop"), env("stop", "leader", sim_topic(T, "stop"), {"t": 60.0, "n": 2, "to": "cloud"})),
        (sim_topic(T, "ack"), env("ack", "cloud", sim_topic(T, "ack"),
                                  {"t": 60.0, "n": 1, "published": [], "error": "rogue"})),
        (sim_topic(T, "hello/cloud"), env("hello", "cloud", sim_topic(T, "hello/cloud"),
                                          {"id": "cloud", "session": "x", "filters": ["#"], "quiet": []})),
        (sim_topic(T, "hello/evil"), env("hello", "evil", sim_topic(T, "hello/evil"),
                                         {"id": "evil", "session": "x", "filters": ["#"], "quiet": []})),
        (T.event("T001"), env("event", "T001", T.event("T001"),
                              {"event": "ready", "at": "park", "payload_t": 0.0, "material": None,
                               "truck_class": "cat-797f", "request": 1}, signed=False)),
        (T.telemetry("T001"), env("telemetry", "T001", T.telemetry("T001"),
                                  {"x": 0.0, "y": 0.0, "v": 0.0, "state": "HOLD", "payload_t": 0.0}, signed=False)),
        (T.equipment, env("equipment", "site", T.equipment, {"facility": "shovel", "unit": "shovel", "state": "down",
                                                             "reason": "rogue", "units_up": 0}, signed=False)),
        (T.cloud_status, b'{"v":1}'),
    ]


def rogue(user: str | None, password: str | None, port: int, which: int, stop: threading.Event,
          sent: list[int]) -> None:
    """One client forging on one topic until ``stop``: a broker may drop a client at a denied publication, so each
    topic gets a client of its own and the allowed ones keep coming."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"rogue-{user}-{which}")
    client.reconnect_delay_set(min_delay=1, max_delay=1)
    if user is not None:
        client.username_pw_set(user, password)
    try:
        client.connect("127.0.0.1", port)
    except OSError:
        return
    client.loop_start()
    k = 0
    while not stop.is_set():
        k += 1
        topic, payload = forgeries(k)[which]
        client.publish(topic, payload, qos=1)
        sent[0] += 1
        time.sleep(0.02)
    client.disconnect()
    client.loop_stop()


def test_a_rogue_on_every_topic_with_every_account_gets_nothing_obeyed(tmp_path):
    scn = load_scenario("tutorial").with_overrides(hours=HOURS)
    run_headless(scn, tmp_path / "ref", quiet=True)
    key = SiteKey.generate()
    with EmbeddedBroker() as broker, CloudThread(broker.url_for("cloud"), SITE, key, PREFIX, PEER_TIMEOUT_S) as cloud:
        stop, sent = threading.Event(), [0]
        passwords = {role: broker.url_for(role).split(":")[2].split("@")[0] for role in ("fleet", "cloud")}
        accounts = [*passwords.items(), (None, None)]
        rogues = [threading.Thread(target=rogue, args=(user, pw, broker.port, which, stop, sent), daemon=True)
                  for user, pw in accounts for which in range(len(forgeries(0)))]
        for r in rogues:
            r.start()
        try:
            timing = run_headless(scn, tmp_path / "run", quiet=True, transport="mqtt", broker=broker.url_for("fleet"),
                                  cloud_in_process=False, prefix=PREFIX, key=key, peer_timeout_s=PEER_TIMEOUT_S)
        finally:
            stop.set()
            for r in rogues:
                r.join(timeout=10)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert sent[0] > 100
    # Nothing obeyed: the same shift to the byte, refusal counts included, since none got past the receiving path.
    assert same_shift(tmp_path / "run" / "summary.json", tmp_path / "ref" / "summary.json")
    assert summary["dispatch"]["orders_refused"] == dict.fromkeys(REASONS, 0)
    assert timing["messages_unauthentic"] > 0  # the cloud account's forged orders, e-stops, acks and hellos
    served, stats = cloud.result
    assert served.transport.unauthentic > 0  # the fleet account's forged syncs and stops
    assert stats.barriers > 0
