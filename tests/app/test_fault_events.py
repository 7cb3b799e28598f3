"""Network faults as scheduled events: a gNB off the air mid-shift, and the cloud cut off from the site.

gNB: the open-pit map over 5G is covered several times over (with any one, two or three of its six sites
off, no truck of a 10-truck half-hour shift lost contact), so the test switches the four rim sites off for the
shift (``[link] sites_off``), leaving gnb-dump-n and gnb-crusher. The pit wall hides the crusher site from the
ramps out of the eastern benches: with gnb-dump-n off, trucks there lose the link and hold, and the trucks
behind them queue (a whole shift with it off hauls nothing). Off for a window only, the dead zone lasts as
long: the held trucks drive on and tip once the site is back.

Cloud outage: the backhaul beyond the radio carries nothing in the window, so the cloud hears no request and
sends no order; every truck finishes the order it has and waits for the next one; production resumes after.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from cli_checks import one_line_error
from conftest import REPO
from separate_cloud import cloud_process

from fleet.engine import Simulation
from fleet.failures import CloudOutage, ScheduledEvent
from fleet.kpi import summarize
from fleet.state import HOLD_LINK, TruckState
from fleet.trace import TraceRecorder
from minefleet.assemble import build_run, load_site, make_link, rngs
from minefleet.cli import main
from minefleet.rundir import write_run
from minefleet.scenario import Scenario, load_scenario
from net.broker import EmbeddedBroker

HOURS = 0.6  # [h] each test shift
START_S, END_S = 600.0, 1200.0  # [s] the fault window: 10 to 20 min into the shift
RIM_SITES = ("gnb-rim-n", "gnb-rim-s", "gnb-rim-e", "gnb-rim-w")
SITE = "gnb-dump-n"  # with the rim sites off, the site whose loss leaves a dead zone
STOPPED_AFTER_S = 30.0  # [s] held this long, a truck stands (braking from its top speed takes well under)

Look = Callable[[float, Simulation], None]


def open_pit_5g(trucks: int, **changes) -> Scenario:
    scn = load_scenario(REPO / "scenarios" / "open_pit_5g.toml").with_overrides(hours=HOURS, seed=7)
    return replace(scn.resized(trucks), **changes)


def shift(scn: Scenario, out: Path | None = None, looks: dict[float, Look] | None = None, **wiring) -> dict:
    """The whole shift, stopping at the ``looks`` times to inspect the simulation; its summary (the run
    directory's, when ``out`` is given), tonnes at the window's end and the event log. ``wiring``: build_run's."""
    run = build_run(scn, **wiring)
    trace = TraceRecorder(scn.trace_period_s)
    run.sim.observers.append(trace)
    tonnes = {}
    stops = {END_S: None, **(looks or {})}
    try:
        for t in sorted(stops):
            run.sim.run(t)
            tonnes[t] = float(run.sim.tonnes.sum())
            if stops[t] is not None:
                stops[t](t, run.sim)
        run.sim.run(scn.hours * 3600.0)
    finally:
        run.close()
    text = None
    if out is not None:
        write_run(run, out, trace, {})
        text = (out / "summary.json").read_text(encoding="utf-8")
    return {"tonnes": float(run.sim.tonnes.sum()), "at_end": tonnes[END_S],
            "log": list(run.sim.log), "link_holds": run.sim.link_holds, "summary": summarize(run.sim),
            "text": text, "out": out, "min_gap_m": float(run.sim.min_gap[0])}


# -- a gNB off the air ----------------------------------------------------------------------------------------


def gnb_scenario(*events: ScheduledEvent) -> Scenario:
    """6 trucks, two of the six sites on the air."""
    return open_pit_5g(6, sites_off=RIM_SITES, events=events)


@pytest.fixture(scope="module")
def gnb_runs() -> dict[str, dict]:
    seen: dict[str, object] = {}

    def mid_window(t: float, sim: Simulation) -> None:
        f = sim.fleet
        held = np.flatnonzero((f.hold_reason & HOLD_LINK) != 0)
        seen.update(held=held, out=sim.comms.link.outage[held].copy(), state=f.state[held].copy(),
                    v=f.v[held].copy(), held_s=t - f.link_lost_since[held] - sim.params.link_timeout_s)

    return {"none": shift(gnb_scenario()),
            "window": {**shift(gnb_scenario(ScheduledEvent("gnb_off", SITE, START_S, END_S)),
                             looks={(START_S + END_S) / 2: mid_window}), "mid": seen},
            "whole": shift(gnb_scenario(ScheduledEvent("gnb_off", SITE, 0.0, HOURS * 3600.0)))}


def test_gnb_off_holds_trucks_in_its_dead_zone_and_production_resumes(gnb_runs):
    none, window, whole = gnb_runs["none"], gnb_runs["window"], gnb_runs["whole"]
    mid = window["mid"]
    # in the window, trucks out of coverage hold: a controlled stop (standing still once it has had time to
    # brake), on the road or where they wait; the trucks behind stop behind them: no truck ever touches another
    assert len(mid["held"]) > 0 and mid["out"].all()
    assert not mid["v"][mid["held_s"] >= STOPPED_AFTER_S].any() and (mid["held_s"] >= STOPPED_AFTER_S).any()
    assert set(mid["state"].tolist()) <= {TruckState.HOLD, TruckState.WAIT_ORDER, TruckState.QUEUE_LOAD,
                                          TruckState.LOADING, TruckState.SPOT}
    assert window["link_holds"] > none["link_holds"]
    assert window["min_gap_m"] > 0 and whole["min_gap_m"] > 0  # [m] least bumper gap at any tick
    # tipping once the site is back (the first loads come out of the pit while it is off)
    assert window["tonnes"] - window["at_end"] > 0
    # the shift lies between the run without the outage and the run with the site off all shift
    assert whole["tonnes"] < window["tonnes"] < none["tonnes"]
    offs = [(t, ev) for t, _, ev, what, _ in window["log"] if what == SITE]
    assert offs == [(START_S, "gnb_off"), (END_S, "gnb_on")]


def test_a_site_off_the_air_hands_its_trucks_over_and_takes_them_back():
    """A truck at the foot of gnb-dump-n's mast, every site on the air: that site serves it. Off the air, the
    truck re-establishes on another site at the next update; back on the air, the strong site takes it back
    (event A3 once the layer-3 filter has forgotten the off-air level)."""
    scn = open_pit_5g(1)
    site = load_site(str(scn.map_path), scn.classes())
    link = make_link(scn, site.mine, ["T001"], rngs(scn.seed)["link"])
    mast = next(g for g in site.mine.gnbs if g.id == SITE)
    x, y, z = (np.array([v]) for v in (mast.xyz[0] + 50.0, mast.xyz[1], mast.xyz[2]))
    serving, outage = [], []
    for t in range(40):
        if t in (10, 20):
            link.switch(SITE, on=t == 20)
        link.update(float(t), x, y, z)
        serving.append(link.serving_site("T001"))
        outage.append(bool(link.outage[0]))
    assert set(serving[:10]) == {SITE}
    assert SITE not in serving[10:20] and not any(outage)  # five sites are left to take it
    assert serving[-1] == SITE
    with pytest.raises(KeyError):
        link.switch("gnb-9", on=False)


def event(kind: str, target: str | None, start_h: float = 0.1, end_h: float = 0.2) -> str:
    aim = f'target = "{target}"\n' if target is not None else ""
    return f'[[events]]\nkind = "{kind}"\n{aim}start_h = {start_h}\nend_h = {end_h}\n'


@pytest.mark.parametrize(("tables", "expected"), [
    ('[link]\nprofile = "ideal"\n' + event("gnb_off", "gnb-rim-n"),
     "events[0].target: the ideal link has no gNB to switch off"),
    ('[link]\nprofile = "5g-urllc"\n' + event("down", "shovel-c11") + event("gnb_off", "gnb-9"),
     "events[1].target: map "),
    ('[link]\nprofile = "5g-urllc"\n' + event("gnb_off", "shovel-c11"), "events[0].target: map "),
    ('[link]\nprofile = "5g-urllc"\nsites_off = ["gnb-rim-n"]\n' + event("gnb_off", "gnb-rim-n"),
     "events[0].target: gNB 'gnb-rim-n' is off for the whole shift (link.sites_off)"),
    (event("cloud_outage", "gnb-rim-n"), "events[0]: 'target' must be one of cloud; got 'gnb-rim-n'"),
    (event("gnb_off", None), "events[0]: missing required 'target'"),
])
def test_bad_network_event_is_refused_in_one_line_naming_file_and_key(tables, expected, write_scenario, capsys):
    path = write_scenario(f'[scenario]\nmap = "open_pit_coal"\n[fleet]\ncount = 1\ntruck_class = "cat-797f"\n'
                          f"{tables}")
    assert main(["validate", str(path)]) == 2
    assert f"{path}: {expected}" in one_line_error(capsys)


def test_cloud_outage_may_leave_its_target_out(write_scenario):
    path = write_scenario('[scenario]\nmap = "open_pit_coal"\n[fleet]\ncount = 1\ntruck_class = "cat-797f"\n'
                          + event("cloud_outage", None, 0.5, 1.0))
    assert load_scenario(path).events == (ScheduledEvent("cloud_outage", "cloud", 1800.0, 3600.0),)


# -- the cloud cut off --------------------------------------------------------------------------------------


OUTAGE = ScheduledEvent("cloud_outage", "cloud", START_S, END_S)
# a shovel out of service from inside the outage to after it: the site's message waits for the cloud
SHOVEL_DOWN = ScheduledEvent("down", "shovel-c11", START_S + 300.0, END_S + 300.0)


def cloud_scenario(*events: ScheduledEvent) -> Scenario:
    """6 trucks on the ideal link: the outage is the only loss (it lives beyond the radio, on any link)."""
    return open_pit_5g(6, events=(SHOVEL_DOWN, *events), link_profile="ideal")


@pytest.fixture(scope="module")
def cloud_runs(tmp_path_factory) -> dict[str, dict]:
    base = tmp_path_factory.mktemp("cloud")
    seen: dict[str, object] = {}

    def before_end(t: float, sim: Simulation) -> None:
        seen["states"] = sim.fleet.state.copy()

    return {"none": shift(cloud_scenario()),
            "outage": {**shift(cloud_scenario(OUTAGE), base / "a", looks={END_S - 1.0: before_end}),
                       "before_end": seen},
            "again": shift(cloud_scenario(OUTAGE), base / "b"),
            "elsewhere": with_cloud_elsewhere(cloud_scenario(OUTAGE))}


def with_cloud_elsewhere(scn: Scenario) -> dict:
    """The shift with ``minefleet cloud`` in a second process, over a broker: the cloud knows only messages."""
    with EmbeddedBroker() as broker:
        cloud, key = cloud_process(broker.url_for("cloud"), "open-pit-coal", scn.planner, "fault/")
        try:
            done = shift(scn, transport="mqtt", broker=broker.url_for("fleet"), cloud_in_process=False,
                         prefix="fault/", key=key)
            _, err = cloud.communicate(timeout=60)
        finally:
            if cloud.poll() is None:
                cloud.kill()
    assert cloud.returncode == 0, err
    return done


def test_cloud_outage_sends_no_orders_trucks_wait_and_production_resumes(cloud_runs):
    none, outage = cloud_runs["none"], cloud_runs["outage"]
    departs = [t for t, _, ev, _, _ in outage["log"] if ev == "depart"]
    assert not [t for t in departs if START_S <= t < END_S]  # no truck got an order in the window
    assert [t for t in departs if t >= END_S]  # orders again once the cloud is back
    # a waiting truck re-asks every order_timeout_s, in vain until the cloud is back
    timeouts: dict[str, list[float]] = {}
    for t, truck, ev, _, _ in outage["log"]:
        if ev == "order_timeout" and START_S <= t < END_S:
            timeouts.setdefault(truck, []).append(t)
    gaps = np.diff(max(timeouts.values(), key=len))
    assert len(gaps) > 5 and np.allclose(gaps, cloud_scenario().order_timeout_s)
    # every truck finished the order it had and waits for the next one, or is still on an order from before
    waiting = outage["before_end"]["states"] == TruckState.WAIT_ORDER
    last_depart = {truck: t for t, truck, ev, _, _ in outage["log"] if ev == "depart" and t < END_S}
    busy = [f"T{i + 1:03d}" for i in np.flatnonzero(~waiting)]
    assert waiting.sum() >= len(waiting) // 2 and all(last_depart[truck] < START_S for truck in busy)
    assert outage["tonnes"] - outage["at_end"] > 0
    assert outage["tonnes"] < none["tonnes"]
    notes = [(t, ev) for t, _, ev, what, _ in outage["log"] if what == "cloud"]
    assert notes == [(START_S, "cloud_down"), (END_S, "cloud_up")]
    counts = json.loads(outage["text"])["failures"]["cloud_outage"]
    assert counts["windows"] == 1 and counts["uplink_lost"] > 0 and counts["site_messages_held"] == 1
    assert counts["downlink_lost"] == 0  # hearing nothing, the cloud sent nothing into the outage
    assert "cloud_outage" not in none["summary"]["failures"]


def test_overlapping_outages_are_one_and_end_when_the_last_ends():
    outage = CloudOutage((ScheduledEvent("cloud_outage", "cloud", 100.0, 200.0),
                          ScheduledEvent("down", "shovel-c11", 0.0, 900.0),
                          ScheduledEvent("cloud_outage", "cloud", 150.0, 300.0),
                          ScheduledEvent("cloud_outage", "cloud", 500.0, 600.0)))
    assert outage.windows == [(100.0, 300.0), (500.0, 600.0)]
    assert [outage.end_of(t) for t in (99.9, 100.0, 299.9, 300.0, 550.0)] == [None, 300.0, 300.0, None, 600.0]


def test_cloud_outage_runs_again_from_its_run_directory(cloud_runs):
    assert load_scenario(cloud_runs["outage"]["out"] / "scenario.toml").events == cloud_scenario(OUTAGE).events


def test_cloud_outage_is_deterministic_and_the_same_with_the_cloud_in_another_process(cloud_runs):
    """Same seed twice: the same run directory summary, byte for byte. The outage is decided on the fleet's side,
    in simulation time: a cloud in its own process behind a broker hears the same silence, so the shift's
    figures are the same too."""
    assert cloud_runs["outage"]["text"] == cloud_runs["again"]["text"]
    assert cloud_runs["elsewhere"]["summary"] == cloud_runs["outage"]["summary"]
