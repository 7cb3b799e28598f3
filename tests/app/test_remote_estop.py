"""The remote e-stop: signed by the cloud, obeyed one downlink latency after it was sent, released the same way;
anyone else's e-stop is refused and counted."""

from __future__ import annotations

import numpy as np
import pytest

from fleet.state import HOLD_REMOTE, TruckState
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario
from net.auth import SiteKey, sign
from net.envelope import Envelope

T_STOP = 900.0  # [s] the fleet is spread over the roads by then
T_RELEASE = 1500.0


def step_to(run, t: float) -> None:
    while run.sim.t < t:
        run.sim.step()


def moving(run) -> np.ndarray:
    f = run.sim.fleet
    return np.flatnonzero((f.state == TruckState.TRAVEL_EMPTY) | (f.state == TruckState.TRAVEL_LOADED))


@pytest.fixture(scope="module")
def stopped_run():
    """open_pit_5g: a 5G link, so each truck hears the stop after its own downlink latency."""
    run = build_run(load_scenario("open_pit_5g").with_overrides(hours=1.0))
    step_to(run, T_STOP)
    on_road = moving(run)
    run.cloud.estop(run.sim.t)
    sent = run.sim.t
    heard: dict[int, float] = {}
    while run.sim.t < T_STOP + 60.0:
        run.sim.step()
        for i in np.flatnonzero(run.sim.fleet.hold_reason & HOLD_REMOTE):
            heard.setdefault(int(i), run.sim.t)
    yield run, on_road, sent, heard
    run.close()


def test_every_truck_hears_the_stop_within_the_link_latency_and_stops(stopped_run):
    run, on_road, sent, heard = stopped_run
    f = run.sim.fleet
    assert len(on_road) >= 5
    assert set(heard) == set(range(f.n))
    delays = np.array([heard[i] - sent for i in range(f.n)])
    tick = run.sim.params.dt
    assert delays.max() <= 0.1 + 2 * tick  # 5g-urllc downlink plus the tick the hold lands on
    assert delays.min() > 0.0  # never before the radio could carry it
    assert np.all(f.v[on_road] == 0.0)  # stopped on the road, and stays so
    assert run.sim.remote_estop.engaged == f.n
    assert sum(1 for e in run.sim.log if e[2] == "remote_estop") == f.n


def test_stopped_trucks_stay_until_released_then_haul_again(stopped_run):
    run, on_road, _, _ = stopped_run
    f = run.sim.fleet
    odometer = f.odometer_m.copy()
    step_to(run, T_RELEASE)
    assert np.all(f.odometer_m[on_road] == odometer[on_road])
    run.cloud.estop(run.sim.t, engage=False)
    step_to(run, T_RELEASE + 120.0)
    assert not (f.hold_reason & HOLD_REMOTE).any()
    assert np.all(f.odometer_m[on_road] > odometer[on_road])
    assert sum(1 for e in run.sim.log if e[2] == "remote_release") == f.n


def test_an_estop_not_signed_by_the_cloud_is_refused_and_counted():
    scn = load_scenario("tutorial").with_overrides(hours=0.5)
    run = build_run(scn)
    try:
        step_to(run, 300.0)
        topic = run.wiring.topics.estop
        body = {"trucks": [], "engage": True, "reason": "prank"}
        unsigned = Envelope("estop", "cloud", 1, run.sim.t, body, t_deliver=run.sim.t)
        wrong_key = Envelope("estop", "cloud", 2, run.sim.t, body, t_deliver=run.sim.t)
        wrong_key.sig = sign(SiteKey.generate(), topic, wrong_key)
        from_truck = Envelope("estop", "T001", 3, run.sim.t, body, t_deliver=run.sim.t)
        from_truck.sig = sign(run.wiring.key, topic, from_truck)
        for env in (unsigned, wrong_key, from_truck):
            run.wiring.transport.publish(topic, env, qos=1)
        step_to(run, 400.0)
        assert not (run.sim.fleet.hold_reason & HOLD_REMOTE).any()
        refused = run.sim.comms.estops_refused
        assert (refused["unsigned"], refused["forged"], refused["wrong_sender"]) == (1, 1, 1)
    finally:
        run.close()
