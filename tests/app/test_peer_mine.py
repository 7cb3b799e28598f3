"""The peer benchmark's mine (bench/mines/ridgeback_pit.json, OpenMines' format): it imports cleanly, and minefleet's
``nearest`` takes every truck round the loop its distance tables were written for, hauling as it goes.

OpenMines itself is not needed; the one test that runs it is skipped when it is not installed.
"""

from __future__ import annotations

import json
import tomllib
from collections import defaultdict

import numpy as np
import pytest

from bench import peer_openmines as peer
from fleet.loading import planned_passes
from minefleet.assemble import build_run
from minefleet.openmines import import_openmines
from minefleet.openmines.reader import parse
from minefleet.scenario import load_scenario

DOC = json.loads(peer.MINE.read_text(encoding="utf-8"))
PAYLOAD_T = [90.0] * 30 + [135.0] * 26 + [180.0] * 15  # per truck, in the file's (and the fleet's) order
SLUG = "ridgeback-pit"
SHORT_H = 1.25  # [h] every truck has loaded (the last near 1 h: all 71 queue for NorthFace at the start)
VISITS = 17  # sites of the route each truck is checked against: twice round the loop


def nearest_route(steps: int) -> list[str]:
    """The sites OpenMines' NearestDispatcher and minefleet's nearest send every truck to, from the file's tables
    alone: the load site nearest the charging site, then in turn the dump nearest that load site (a row of
    ``l2d_road_matrix``) and the load site nearest that dump (a column of ``d2l_road_matrix``, OpenMines' [load][dump]
    indexing). Every truck type has one speed, so the least distance is the least free-flow time for each."""
    road = DOC["road"]
    l2d, d2l = np.array(road["l2d_road_matrix"]), np.array(road["d2l_road_matrix"])
    loads = [s["name"] for s in DOC["load_sites"]]
    dumps = [s["name"] for s in DOC["dump_sites"]]
    load = int(np.argmin(road["charging_to_load_road_matrix"]))
    route = [loads[load]]
    while len(route) < steps:
        dump = int(np.argmin(l2d[load]))
        load = int(np.argmin(d2l[:, dump]))
        route += [dumps[dump], loads[load]]
    return route[:steps]


def test_the_tables_have_no_ties_and_send_every_truck_round_one_loop_through_every_site():
    road = DOC["road"]
    rows = [*road["l2d_road_matrix"], *np.array(road["d2l_road_matrix"]).T.tolist(),
            road["charging_to_load_road_matrix"]]
    for row in rows:  # a tie would leave the choice to each simulator's own tie-break
        assert len(set(row)) == len(row), row
    route = nearest_route(17)
    assert route[:3] == ["NorthFace", "EastWasteDump", "EastBench"]
    assert route[:9] == route[8:]  # round the loop and back to NorthFace
    assert sorted(route[0:8:2]) == sorted(s["name"] for s in DOC["load_sites"])
    assert sorted(route[1:8:2]) == sorted(s["name"] for s in DOC["dump_sites"])


def test_the_mine_imports_cleanly_as_the_benchmark_describes_it(tmp_path):
    report = import_openmines(peer.MINE, tmp_path)
    assert report[0] == ("ridgeback_pit.json: OpenMines mine RidgebackPit: 4 load sites with 11 shovels, 4 dump "
                         "sites with 11 dumpers, fleet 30 x Hauler90 (90 t, 32 km/h), 26 x Hauler135 (135 t, 28 km/h), "
                         "15 x Hauler180 (180 t, 25 km/h); 4 h shift")
    # Every bucket divides every payload: whole passes load what OpenMines' fractional passes load.
    for truck in DOC["charging_site"]["trucks"]:
        for shovel in (s for site in DOC["load_sites"] for s in site["shovels"]):
            assert planned_passes(truck["capacity"], shovel["tons"]).payload_t == pytest.approx(truck["capacity"])
    assert not [line for line in report if line.startswith("loading:")]
    scn = load_scenario(tmp_path / f"{SLUG}.toml")
    assert scn.truck_count == 71 and scn.hours == 4.0
    assert scn.planner == peer.MINEFLEET_PLANNER and scn.edge is None  # perception off
    assert scn.failures.trucks and scn.failures.shovels  # OpenMines always has its failure model on
    doc = tomllib.loads((tmp_path / f"{SLUG}.toml").read_text())
    assert doc["fleet"]["start"] == "ridgeback-pit-garage"
    assert all(src.startswith(("assumption: ", "format: ")) for src in DOC["sources"])


def test_a_short_shift_hauls_and_every_truck_follows_the_nearest_route(tmp_path):
    import_openmines(peer.MINE, tmp_path)
    scn = load_scenario(tmp_path / f"{SLUG}.toml").with_overrides(hours=SHORT_H)
    run = build_run(scn)
    run.sim.run(SHORT_H * 3600.0)
    run.close()
    mine = parse(DOC, str(peer.MINE))
    ids = {s.name: s.id for s in (*mine.loads, *mine.dumps)}
    route = [ids[name] for name in nearest_route(VISITS)]
    visits: dict[str, list[str]] = defaultdict(list)
    for event in run.sim.log:
        if event[2] in ("loaded", "dumped"):
            visits[event[1]].append(event[3])
    assert set(visits) == set(run.sim.fleet.ids)  # all 71 loaded at least once
    for truck, sites in visits.items():
        assert sites == route[:len(sites)], truck
    dumps = {truck: len(sites) // 2 for truck, sites in visits.items()}
    assert sum(dumps.values()) > 71
    # What was dumped is what the trucks carry: whole passes of buckets that divide each payload, with scatter.
    expected = sum(n * PAYLOAD_T[run.sim.fleet.ids.index(truck)] for truck, n in dumps.items())
    assert float(run.sim.tonnes.sum()) == pytest.approx(expected, rel=0.03)


def test_without_openmines_the_benchmark_says_how_to_install_it_and_exits_2(monkeypatch, capsys):
    monkeypatch.setattr(peer, "openmines_version", lambda: None)
    assert peer.run(quick=True) == {"skipped": f"OpenMines is not installed: {peer.INSTALL_HINT}"}
    assert peer.main(["--quick"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("bench.peer_openmines: error: OpenMines is not installed: pip install --no-deps openmines==")


def test_openmines_sends_its_trucks_round_the_same_route(tmp_path, capsys):
    """The same file in OpenMines itself, when it is installed: its NearestDispatcher's orders per truck. Its log
    lines stay in its own handlers at WARNING even where the root logger has a handler (it would time printing)."""
    pytest.importorskip("openmines")
    import logging

    root = logging.StreamHandler()
    logging.root.addHandler(root)
    try:
        mine, shift = peer.time_openmines(DOC, SHORT_H, tmp_path)
    finally:
        logging.root.removeHandler(root)
    assert "Truck" not in capsys.readouterr().err
    route = nearest_route(VISITS)
    for truck in mine.trucks:
        moves = [e for kind in ("init", "haul", "unhaul") for e in truck.event_pool.get_even_by_type(kind)]
        sites = [e.info["target_location"] for e in sorted(moves, key=lambda e: e.info["start_time"])]
        assert sites and sites == route[:len(sites)], truck.name
    assert shift.tonnes > 0 and shift.wall_s > 0


def test_the_report_prints_both_speeds_the_ratio_and_both_productions():
    shift = {"wall_s": 1.0, "wall_s_rounds": [1.0], "x_real_time": 14400.0, "tonnes": 30000.0,
             "tonnes_rounds": [30000.0]}
    r = {"mine": "m.json", "trucks": 71, "hours": 4.0, "rounds": 1, "seed": 0, "openmines_version": "0.2.0",
         "openmines_dispatcher": "NearestDispatcher", "minefleet_planner": "nearest",
         "minefleet_telemetry_period_s": 1.0, "minefleet_link_profile": "ideal", "minefleet_dt_s": 0.1,
         "target_ratio": 2.0, "ratio": 0.5, "ratio_rounds": [0.5],
         "ratio_no_telemetry": 0.8, "meets_target": False,
         "openmines": {**shift, "road_jams": 3, "road_repairs": 0, "truck_breakdowns": 5, "shovel_maintenances": 1},
         "minefleet": {**shift, "wall_s": 2.0, "x_real_time": 7200.0, "tonnes": 60000.0, "truck_breakdowns": 2,
                       "shovel_outages": 0, "moving_share": 0.5},
         "minefleet_no_telemetry": {**shift, "wall_s": 1.25, "x_real_time": 11520.0}}
    lines = peer.report(r)
    rows = {line[:36].strip(): line[36:].split() for line in lines}
    assert rows["OpenMines"] == ["1.00", "14,400x", "30,000"]
    assert rows["minefleet (telemetry as imported)"] == ["2.00", "7,200x", "60,000"]
    assert rows["minefleet (telemetry off)"] == ["1.25", "11,520x", "30,000"]
    text = "\n".join(lines)
    assert ("minefleet / OpenMines speed, median of the rounds' ratios: 0.50x (target >= 2x: MISSES; round by round "
            "0.50); with telemetry off 0.80x") in text
    assert "Tonnes differ (minefleet / OpenMines 2.00)" in text

