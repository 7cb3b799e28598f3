"""Planners as plug-ins: options by name, the flow LP against hand figures, re-planning when a shovel is down."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import REPO

from cloud.flowlp import Target, solve
from cloud.layout import Layout
from cloud.planners import PlannerSpec, make_planner
from cloud.planners.fixed import FixedPlanner
from cloud.planners.lp_flow import LpFlowPlanner
from cloud.service import CloudService
from fleet.failures import ScheduledEvent
from fleet.kpi import summarize
from minefleet.assemble import build_run
from minefleet.bound import lp_bound
from minefleet.cli import main
from minefleet.scenario import load_scenario
from net.inproc import InProcRouter
from net.topics import Topics


def _layout(name: str = "tutorial", trucks: int | None = None) -> tuple[Layout, object]:
    scn = load_scenario(name).with_overrides(hours=0.1)
    run = build_run(scn if trucks is None else scn.resized(trucks))
    body = run.sim.layout_body()
    run.close()
    return Layout(body), body


@pytest.mark.parametrize("trucks", [1, 2, 8])
def test_flow_lp_is_the_lesser_of_dig_rate_and_fleet_by_hand(trucks):
    """Tutorial: one 60 t / 30 s shovel (6 passes = 360 t for a 797F, 30 s spotting), one 60 s dump. The bound is
    min(dig rate, trucks x payload / free-flow cycle)."""
    layout, _ = _layout("tutorial", trucks)
    shovel, dump = layout.shovels()[0], layout.sinks_for("coal")[0]
    load_s = 30 + 6 * 30
    cycle = (layout.travel_s(shovel.id, dump.id, "cat-797f", True) + load_s + dump.service_s
             + layout.travel_s(dump.id, shovel.id, "cat-797f", False))
    by_hand = min(360.0 * 3600 / load_s, trucks * 360.0 * 3600 / cycle)
    plan = solve(layout, {"cat-797f": float(trucks)}, layout.travel_s)
    assert plan.tonnes_per_hour == pytest.approx(by_hand, rel=1e-6)
    assert plan.binding == (["cat-797f trucks"] if trucks < 3 else [f"dig rate of {shovel.id}"])


def test_a_unit_out_of_service_and_material_targets():
    layout, _ = _layout("open_pit", 60)
    full = solve(layout, {"cat-797f": 60.0}, layout.travel_s)
    without = solve(layout, {"cat-797f": 60.0}, layout.travel_s, down_units=frozenset({"shovel-w06"}))
    assert without.tonnes_per_hour < full.tonnes_per_hour
    assert all(s != "shovel-w06" for _, s, _ in without.loaded)
    crusher = solve(layout, {"cat-797f": 60.0}, layout.travel_s, targets=(Target("coal", tph=3000, sink="crusher-1"),))
    assert crusher.path_tph().get(("shovel-c11", "crusher-1"), 0) + \
        crusher.path_tph().get(("shovel-c12", "crusher-1"), 0) >= 3000 - 1e-6
    impossible = solve(layout, {"cat-797f": 60.0}, layout.travel_s, targets=(Target("coal", tph=1e6),))
    assert not impossible.feasible and "cannot all be met" in impossible.message
    assert impossible.tonnes_per_hour == pytest.approx(full.tonnes_per_hour)  # the nearest feasible plan


def test_the_cloud_plans_as_the_layout_asks_when_not_told():
    """``minefleet cloud`` without --planner: the planner, options and seed come with the site layout."""
    _, body = _layout("tutorial")
    body = {**body, "planner": PlannerSpec("lp_flow", {"slack_s": 30.0}, 42).body()}
    router = InProcRouter()
    topics = Topics(body["site"])
    cloud = CloudService(router, topics, None)
    from net.envelope import Envelope

    router.publish(topics.layout, Envelope(kind="layout", src="site", seq=1, t_sent=0.0, t_deliver=0.0, body=body),
                   qos=1, retain=True)
    while router.next_due() is not None:
        router.deliver_next()
    assert isinstance(cloud.planner, LpFlowPlanner) and cloud.planner.options.slack_s == 30.0
    assert isinstance(make_planner(PlannerSpec("fixed")), FixedPlanner)


@pytest.mark.parametrize(("table", "problem"), [
    ('[cloud]\nplanner = "genius"', "[cloud]: 'planner' unknown planner 'genius'"),
    ('[cloud.planner]\nname = "lp_flow"\nspeed = 3', "[cloud.planner]: 'speed' is not an option of planner"),
    ('[cloud.planner]\nname = "lp_flow"\nlearn = "yes"', "[cloud.planner]: 'learn' must be bool"),
    ('[cloud.planner]\nname = "nearest"\nlearn = true', "'learn' planner 'nearest' takes no options"),
])
def test_bad_planner_is_one_line(tmp_path, capsys, table, problem):
    path = tmp_path / "s.toml"
    path.write_text(f'[scenario]\nmap = "tutorial"\n[fleet]\ncount = 1\ntruck_class = "cat-797f"\n{table}\n')
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and problem in err and str(path) in err


def test_unknown_planner_on_the_command_line_is_one_line(capsys):
    assert main(["run", "tutorial", "--headless", "--planner", "genius"]) == 2
    assert "--planner: 'planner' unknown planner 'genius'" in capsys.readouterr().err
    assert main(["cloud", "--broker", "mqtt://127.0.0.1:1", "--site", "x", "--planner", "genius"]) == 2
    assert "unknown planner 'genius'" in capsys.readouterr().err


def _shift(planner: str, events=()) -> tuple[float, float]:
    scn = replace(load_scenario(REPO / "scenarios" / "open_pit.toml").with_overrides(hours=6.0, planner=planner),
                  events=events)
    run = build_run(scn)
    run.sim.run(6 * 3600.0)
    s = summarize(run.sim)
    return s["tonnes_per_hour"], lp_bound(run.sim, s)["tonnes_per_hour"]


def test_lp_flow_loses_less_than_fixed_when_a_shovel_is_down_for_two_hours():
    """shovel-w06 (a shovel the plan runs at its dig rate) down from 2 h to 4 h of 6: lp_flow re-plans and loses
    no more than that shovel's share of the bound plus 2 points, and less than fixed groups do."""
    down = (ScheduledEvent("down", "shovel-w06", 2 * 3600.0, 4 * 3600.0),)
    layout, _ = _layout("open_pit", 30)
    plan = solve(layout, {"cat-797f": 30.0}, layout.travel_s)
    w06_share = sum(t for (s, _), t in plan.path_tph().items() if s == "shovel-w06") / plan.tonnes_per_hour
    share_lost = w06_share * 2 / 6
    loss = {}
    for planner in ("lp_flow", "fixed"):
        (up, _), (dn, _) = _shift(planner), _shift(planner, down)
        loss[planner] = 1 - dn / up
    assert loss["lp_flow"] <= share_lost + 0.02
    assert loss["lp_flow"] < loss["fixed"]


def _serve(body: dict, planner: str) -> tuple[CloudService, InProcRouter, Topics]:
    from net.envelope import Envelope

    router, topics = InProcRouter(), Topics(body["site"])
    cloud = CloudService(router, topics, make_planner(planner))
    router.publish(topics.layout, Envelope(kind="layout", src="site", seq=1, t_sent=0.0, t_deliver=0.0, body=body),
                   qos=1, retain=True)
    return cloud, router, topics


def _ask(router: InProcRouter, topics: Topics, truck: str, body: dict, seq: int = 1) -> None:
    from net.envelope import Envelope

    router.publish(topics.event(truck), Envelope(kind="event", src=truck, seq=seq, t_sent=1.0, t_deliver=1.0,
                                                 body=body), qos=1)
    while router.next_due() is not None:
        router.deliver_next()


@pytest.mark.parametrize("planner", ["nearest", "min_wait", "fixed", "lp_flow", "pangu"])
def test_the_cloud_survives_requests_it_cannot_answer(planner):
    """A truck the layout does not know, of a class it does not know; a layout whose shovels are unreachable:
    counted as unanswered, never a crash, and a good request afterwards is still answered."""
    _, body = _layout("tutorial")
    cloud, router, topics = _serve(body, planner)
    _ask(router, topics, "T999", {"event": "ready", "at": "park-1", "payload_t": 0.0, "material": None,
                                  "truck_class": "belaz-75710", "request": 1})
    _ask(router, topics, "T001", {"event": "ready", "at": "nowhere", "payload_t": 0.0, "material": None,
                                  "truck_class": "cat-797f", "request": 1}, seq=2)
    assert cloud.failed == 2 and cloud.orders == 0
    _ask(router, topics, "T001", {"event": "ready", "at": "park-1", "payload_t": 0.0, "material": None,
                                  "truck_class": "cat-797f", "request": 2}, seq=3)
    assert cloud.orders == 1
    cut = {**body, "routes": [r for r in body["routes"] if r["to"] != "shovel-1"]}
    cloud, router, topics = _serve(cut, planner)
    _ask(router, topics, "T001", {"event": "ready", "at": "park-1", "payload_t": 0.0, "material": None,
                                  "truck_class": "cat-797f", "request": 1})
    assert cloud.failed == 1 and cloud.orders == 0


def test_a_layout_naming_an_unusable_planner_is_dropped_not_obeyed():
    _, body = _layout("tutorial")
    body = {**body, "planner": {"name": "lp_flow", "options": {"warp": 9}, "seed": 1}}
    cloud, router, topics = _serve(body, "nearest")  # a cloud told its planner keeps it
    _ask(router, topics, "T001", {"event": "ready", "at": "park-1", "payload_t": 0.0, "material": None,
                                  "truck_class": "cat-797f", "request": 1})
    assert cloud.orders == 1
    router, topics = InProcRouter(), Topics(body["site"])
    cloud = CloudService(router, topics, None)  # one that plans as the layout says refuses this layout
    from net.envelope import Envelope

    router.publish(topics.layout, Envelope(kind="layout", src="site", seq=1, t_sent=0.0, t_deliver=0.0, body=body),
                   qos=1, retain=True)
    _ask(router, topics, "T001", {"event": "ready", "at": "park-1", "payload_t": 0.0, "material": None,
                                  "truck_class": "cat-797f", "request": 1})
    assert cloud.rejected == 1 and cloud.layout is None and cloud.orders == 0


def test_lp_flow_plans_each_class_of_a_mixed_fleet():
    """Targets and slots per truck class: on the mixed open pit lp_flow hauls well above min_wait, which sends 90 t
    trucks where they take one pass under big buckets as readily as the 363 t ones."""
    tph = {}
    for planner in ("min_wait", "lp_flow"):
        scn = load_scenario(REPO / "scenarios" / "open_pit_mixed.toml").with_overrides(hours=4.0, planner=planner)
        run = build_run(scn)
        run.sim.run(4 * 3600.0)
        tph[planner] = summarize(run.sim)["tonnes_per_hour"]
    assert tph["lp_flow"] > 1.1 * tph["min_wait"]


def test_a_crusher_target_is_met_where_greedy_rules_starve_the_plant():
    """open_pit_crusher: at least 3,000 t/h of coal into crusher-1. lp_flow plans it; min_wait, always finding the
    ROM stockpile quicker, sends the crusher nothing."""
    into = {}
    for planner in ("lp_flow", "min_wait"):
        scn = load_scenario(REPO / "scenarios" / "open_pit_crusher.toml").with_overrides(hours=3.0, planner=planner)
        run = build_run(scn)
        run.sim.run(3 * 3600.0)
        dumped = [(t, p) for t, _, ev, fac, p in run.sim.log if ev == "dumped" and fac == "crusher-1" and t > 3600]
        into[planner] = sum(p for _, p in dumped) / 2.0  # [t/h] over the last two hours
    assert into["lp_flow"] >= 0.95 * 3000.0
    assert into["min_wait"] == 0.0
