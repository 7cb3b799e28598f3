"""Equipment failures and scheduled events: availability, shovel downtime, road closures."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO, collection, line_map, point, road
from fleetkit import run_for, truck_class

from fleet.failures import ScheduledEvent, closure_sets
from fleet.kpi import summarize
from fleet.state import TruckState
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario


def test_availability_matches_mtbf_over_mtbf_plus_mttr(tmp_path, write_map, write_scenario):
    """50 trucks x 20 h = 1,000 truck-hours, MTBF 4 h, MTTR 1 h: availability within 2 points of 0.8."""
    tc = truck_class(tmp_path, "unreliable", 90.0, mtbf_h=4.0, mttr_h=1.0)
    map_path = write_map(line_map(1500.0))
    scn = write_scenario(f"""
[scenario]
map = "{map_path}"
hours = 20.0
dt_s = 0.5
seed = 11
[fleet]
count = 50
truck_class = "{tc}"
release_interval_s = 5.0
[link]
telemetry_period_s = 0.0
[failures]
trucks = true
block_s = 600.0
""")
    run = run_for(scn)
    s = summarize(run.sim)
    assert s["trucks"] * s["shift_hours"] >= 1000
    assert s["truck_availability_mean"] == pytest.approx(0.8, abs=0.02)
    assert s["failures"]["truck_breakdowns"] > 150
    assert s["by_class"]["unreliable"]["availability"] == s["truck_availability_mean"]
    assert s["tonnes"] > 0
    breakdowns = [e for e in run.sim.log if e[2] == "breakdown"]
    repairs = [e for e in run.sim.log if e[2] == "repaired"]
    assert len(repairs) >= len(breakdowns) - s["trucks"]  # every breakdown but those still under repair


def test_a_truck_broken_down_on_the_road_blocks_its_lane_then_stands_aside(tmp_path, write_map, write_scenario):
    """Two trucks one behind the other; the leader breaks down: the follower stops behind it until the broken
    truck is moved aside (block_s), then drives on past it."""
    map_path = write_map(line_map(3000.0))
    tc = truck_class(tmp_path, "slow-repair", 90.0, mtbf_h=1000.0, mttr_h=1000.0)
    scn_path = write_scenario(f"""
[scenario]
map = "{map_path}"
hours = 1.0
[fleet]
count = 2
truck_class = "{tc}"
release_interval_s = 10.0
[failures]
block_s = 300.0
""")
    scn = load_scenario(scn_path)
    run = build_run(scn)
    sim = run.sim
    sim.run(60.0)  # both on the way to the shovel
    assert all(sim.fleet.state == TruckState.TRAVEL_EMPTY)
    sim._truck_down(0)  # the repair (mean 1,000 h) outlasts the test
    sim.run(60.0 + 250.0)
    assert sim.fleet.state[0] == TruckState.HOLD and sim.fleet.v[0] == 0.0
    assert sim.fleet.v[1] == 0.0 and sim.fleet.s[1] < sim.fleet.s[0]  # queued behind it
    sim.run(60.0 + 400.0)
    assert sim.fleet.state[0] == TruckState.DOWN
    assert sim.fleet.s[1] > sim.fleet.s[0] or sim.fleet.route[1] != sim.fleet.route[0]  # gone past
    run.close()


def _open_pit(events: str = "", hours: float = 4.0):
    path = REPO / "scenarios" / "open_pit.toml"
    text = path.read_text().replace('map = "open_pit_coal"', f'map = "{REPO / "maps" / "open_pit_coal.geojson"}"')
    return text.replace("hours = 8.0", f"hours = {hours}") + events


def test_scheduled_shovel_downtime_shows_in_utilisation_and_queues(write_scenario):
    """shovel-c12 down from 1 h to 3 h of a 4 h shift: its availability is 0.5, its utilisation falls, no truck
    loads there while it is down, the other coal shovel takes its trucks and the other shovels' queues grow."""
    base = run_for(write_scenario(_open_pit(), "base.toml"))
    down = run_for(write_scenario(_open_pit("""
[[events]]
kind = "down"
target = "shovel-c12"
start_h = 1.0
end_h = 3.0
"""), "down.toml"))
    fb, fd = summarize(base.sim)["facilities"], summarize(down.sim)["facilities"]
    assert fd["shovel-c12"]["availability"] == pytest.approx(0.5, abs=0.02)
    assert fb["shovel-c12"]["availability"] == 1.0
    assert fd["shovel-c12"]["utilisation"] < fb["shovel-c12"]["utilisation"] - 0.2
    loaded = [t for t, _, ev, fac, _ in down.sim.log if ev == "loaded" and fac == "shovel-c12"]
    assert not [t for t in loaded if 3600.0 + 400.0 < t < 3 * 3600.0]
    others = [k for k in fb if k.startswith("shovel") and k != "shovel-c12"]
    assert sum(fd[k]["queue_len_mean"] for k in others) > sum(fb[k]["queue_len_mean"] for k in others)
    assert fd["shovel-c11"]["visits"] > fb["shovel-c11"]["visits"]  # the other coal shovel took its trucks
    kinds = [ev for _, unit, ev, _, _ in down.sim.log if unit == "shovel-c12" and ev.startswith("unit_")]
    assert kinds == ["unit_down", "unit_up"]
    assert down.cloud.twin.units_up["shovel-c12"] == 1  # the cloud heard it go down and come back


def _detour_map():
    """Shovel S to dump D by a straight road A (2 km) or a detour B (2.6 km); the park on a spur by D."""
    return collection([
        road("A", [[0, 0, 0], [2000, 0, 0]]),
        road("B", [[0, 0, 0], [1000, 800, 0], [2000, 0, 0]]),
        road("P", [[2000, 0, 0], [2100, 0, 0]]),
        point("shovel", "S", [0, 0, 0]),
        point("dump", "D", [2000, 0, 0], bays=2),
        point("park", "PK", [2100, 0, 0]),
    ])


def test_road_closure_sends_new_orders_round_by_the_detour(write_map, write_scenario):
    map_path = write_map(_detour_map())
    scn = load_scenario(write_scenario(f"""
[scenario]
map = "{map_path}"
hours = 3.0
[fleet]
count = 6
truck_class = "cat-797f"
[[events]]
kind = "road_closed"
target = "A"
start_h = 1.0
end_h = 2.0
"""))
    assert closure_sets(scn.events) == (frozenset({"A"}),)
    run = build_run(scn)
    sim = run.sim
    seen: dict[str, set[str]] = {"before": set(), "during": set(), "after": set()}

    def watch(s):
        phase = "before" if s.t < 3600 else "during" if 4000 < s.t < 7200 else "after" if s.t > 8000 else None
        if phase:
            seen[phase] |= {s.rt.routes[r].id for r in s.fleet.route.tolist() if r >= 0}

    sim.observers.append(watch)
    sim.run(3 * 3600.0)
    road_of = {r.id: {sim.net.edges[e].road_id for e in r.edges} for r in sim.rt.routes}
    assert all("A" not in road_of[r] for r in seen["during"]) and seen["during"]
    assert any("A" in road_of[r] for r in seen["before"]) and any("A" in road_of[r] for r in seen["after"])
    assert [e[2] for e in sim.log if e[3] == "A"] == ["road_closed", "road_open"]
    run.close()


def test_closure_sets_cover_overlapping_closures():
    h = 3600.0
    events = (ScheduledEvent("road_closed", "A", 1 * h, 3 * h), ScheduledEvent("road_closed", "B", 2 * h, 4 * h),
              ScheduledEvent("down", "S", 0.0, h))
    assert closure_sets(events) == (frozenset({"A"}), frozenset({"A", "B"}), frozenset({"B"}))


def test_random_shovel_breakdowns_are_seeded_and_counted(write_scenario):
    text = _open_pit("""
[failures]
shovels = true
shovel_mtbf_h = 3.0
shovel_mttr_h = 0.5
""", hours=3.0)
    a = summarize(run_for(write_scenario(text, "a.toml")).sim)
    b = summarize(run_for(write_scenario(text, "b.toml")).sim)
    assert a == b  # same seed, same breakdowns
    assert a["failures"]["unit_outages"] > 0
    avail = [f["availability"] for k, f in a["facilities"].items() if k.startswith("shovel")]
    assert min(avail) < 1.0 and np.mean(avail) > 0.6
