"""Messages over a real broker give exactly the in-process results, in one process or two."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import paho.mqtt.client as mqtt
from conftest import REPO
from paho.mqtt.enums import CallbackAPIVersion
from separate_cloud import cloud_process

from fleet.failures import FailureParams, ScheduledEvent
from fleet.kpi import summarize
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario
from net.broker import EmbeddedBroker
from net.mqtt import BrokerUrl


def scenario(hours: float, trucks: int):
    scn = load_scenario(REPO / "scenarios" / "open_pit_5g.toml").with_overrides(hours=hours, seed=5)
    return scn.resized(trucks)


def kpis(run) -> str:
    run.sim.run(run.scenario.hours * 3600.0)
    run.close()
    out = summarize(run.sim)
    out["link"] = run.link.stats()
    return json.dumps(out, sort_keys=True)


def test_inproc_and_mqtt_give_identical_kpis():
    """5G URLLC link, 20 trucks, 0.5 h: the same summary, figure for figure, over the embedded broker."""
    scn = scenario(0.5, 20)
    inproc = kpis(build_run(scn))
    over_mqtt = kpis(build_run(scn, transport="mqtt"))
    assert inproc == over_mqtt
    assert json.loads(inproc)["loads"] > 0


def test_faults_give_identical_kpis_over_mqtt():
    """Random truck and shovel breakdowns, a shovel's maintenance and a road closure, 8 trucks, 0.5 h: the same
    summary in process and over the embedded broker, and again in process (seeded faults, no wall time)."""
    scn = replace(scenario(0.5, 8), failures=FailureParams(trucks=True, shovels=True, shovel_mtbf_h=0.5,
                                                            shovel_mttr_h=0.1),
                  events=(ScheduledEvent("down", "shovel-c11", 300.0, 1200.0),
                          ScheduledEvent("road_closed", "ramp-n-2", 600.0, 1500.0)))
    scn = replace(scn, groups=tuple(replace(g, truck_class=replace(g.truck_class, mtbf_h=0.25, mttr_h=0.05))
                                    for g in scn.groups))
    first, again = kpis(build_run(scn)), kpis(build_run(scn))
    over_mqtt = kpis(build_run(scn, transport="mqtt"))
    assert first == again == over_mqtt
    failures = json.loads(first)["failures"]
    assert failures["truck_breakdowns"] > 0 and failures["unit_outages"] > 1 and failures["road_closures"] == 1


def test_cloud_as_its_own_process_completes_a_shift_with_the_same_kpis():
    """``minefleet cloud`` in a second process, the fleet here, one broker, 1 h: in-process KPIs, and an
    outside subscriber sees telemetry and orders go by."""
    scn = scenario(1.0, 10)
    reference = kpis(build_run(scn))
    with EmbeddedBroker() as broker:
        seen: dict[str, int] = {"telemetry": 0, "dispatch": 0}
        lock = threading.Lock()

        def on_message(client, userdata, msg):
            with lock:
                for key in seen:
                    if f"/{key}" in msg.topic:
                        seen[key] += 1

        # Each role reads only its side's topics: telemetry with the cloud's account, orders with the fleet's.
        watchers = []
        host, port = broker.url.removeprefix("mqtt://").split(":")
        for role, topic in (("cloud", "truck/+/telemetry"), ("fleet", "dispatch/+")):
            watcher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"watcher-{role}")
            watchers.append(watcher)
            watcher.on_message = on_message
            watcher.username_pw_set(role, BrokerUrl.parse(broker.url_for(role)).password)
            watcher.connect(host, int(port))
            watcher.subscribe(f"two/mine/+/{topic}", qos=1)
            watcher.loop_start()
        cloud, key = cloud_process(broker.url_for("cloud"), "open-pit-coal", scn.planner, "two/")
        try:
            run = build_run(scn, transport="mqtt", broker=broker.url_for("fleet"), cloud_in_process=False,
                            prefix="two/", key=key)
            separate = kpis(run)
            out, err = cloud.communicate(timeout=60)
        finally:
            if cloud.poll() is None:
                cloud.kill()
            for watcher in watchers:
                watcher.loop_stop()
                watcher.disconnect()
    assert cloud.returncode == 0, err
    assert "cloud served" in out
    assert separate == reference
    password = BrokerUrl.parse(broker.url_for("cloud")).password
    assert password and not any(password in arg for arg in cloud.args)  # handed over in the environment
    assert json.loads(separate)["dispatch"]["orders_refused"] == dict.fromkeys(json.loads(separate)["dispatch"]
                                                                                ["orders_refused"], 0)
    assert seen["telemetry"] > 1000 and seen["dispatch"] > 10
