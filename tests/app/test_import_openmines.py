"""``minefleet import openmines``: the files it writes, that minefleet accepts them, and one-line errors."""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import openmines_fixture as om
import pytest

from fleet.errors import InputError
from fleet.loading import planned_passes
from fleet.mapfile import load_map
from fleet.roads import build_network
from fleet.routes import RouteTable
from fleet.truckclass import G, load_truck_class
from minefleet.cli import main
from minefleet.openmines import MANIFEST, import_openmines
from minefleet.validate import validate_file

SLUG = "test-pit-mine"
TRUCKS = {"light-truck": (35.0, 25.0), "mid-truck": (55.0, 22.0), "heavy-truck": (77.0, 28.0)}
FILES = {f"{SLUG}.geojson", f"{SLUG}.toml", *(f"trucks/{t}.toml" for t in TRUCKS)}


def write_json(tmp_path: Path, doc: Any, name: str = "test_pit.json") -> Path:
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return p


def listing(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


@pytest.fixture
def imported(tmp_path: Path) -> tuple[Path, list[str]]:
    out = tmp_path / "out"
    return out, import_openmines(write_json(tmp_path, om.mine()), out)


def test_import_writes_map_scenario_truck_classes_and_manifest(imported):
    out, report = imported
    assert listing(out) == FILES | {MANIFEST}
    assert report[0] == ("test_pit.json: OpenMines mine TestPitMine: 5 load sites with 9 shovels, 4 dump sites with "
                         "15 dumpers, fleet 4 x LightTruck (35 t, 25 km/h), 3 x MidTruck (55 t, 22 km/h), "
                         "2 x HeavyTruck (77 t, 28 km/h); 2 h shift")
    manifest = json.loads((out / MANIFEST).read_text())
    assert set(manifest["files"]) == FILES
    # What cannot be honoured is said: the 35 t truck under a 20.32 t bucket, the folded dumpers, road events.
    text = "\n".join(report)
    assert "minefleet loads whole passes: 1 (1.50 min, 20.3 t, -42%)" in text
    assert "dump site DumpSite2 (dump_sites[1]): dumpers of 1-2 min folded into 3 bays of 1.33 min" in text
    assert "road.road_event_params: lambda_repair = 0.005, mu_repair_duration = 40" in text
    assert "OpenMines' dispatchers (NearestDispatcher, SQDispatcher): not imported" in text


def features(out: Path) -> dict[str, list[dict[str, Any]]]:
    doc = json.loads((out / f"{SLUG}.geojson").read_text())
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for f in doc["features"]:
        by_kind.setdefault(f["properties"]["kind"], []).append(f)
    return by_kind


def test_map_has_loading_areas_units_dumps_park_and_one_road_per_matrix_entry(imported):
    out, _ = imported
    fk = features(out)
    assert [f["properties"]["id"] for f in fk["loading_area"]] == [f"load-site{k}" for k in range(1, 6)]
    units = {f["properties"]["id"]: f["properties"] for f in fk["shovel"]}
    assert len(units) == 9
    assert units["load-site1-shovel-1"] == {
        "kind": "shovel", "id": "load-site1-shovel-1", "name": "LoadSite1-Shovel-1", "area": "load-site1",
        "bucket_t": 20.32, "cycle_s": 90.0, "fill_factor": 1.0, "spot_s": 0.0, "material": "coal",
        "mtbf_h": 24.0, "mttr_h": 0.75}
    assert units["load-site4-shovel-1"]["cycle_s"] == 30.0
    # Units stand a few metres around their area's point, which is the facility the roads reach.
    area = np.array(fk["loading_area"][2]["geometry"]["coordinates"])
    for f in fk["shovel"]:
        if f["properties"]["area"] == "load-site3":
            assert np.hypot(*(np.array(f["geometry"]["coordinates"]) - area)[:2]) == pytest.approx(15.0, abs=0.01)
    dumps = {f["properties"]["id"]: (f["properties"]["bays"], f["properties"]["dump_s"]) for f in fk["dump"]}
    assert dumps == {"dump-site1": (5, 60.0), "dump-site2": (3, 80.0), "dump-site3": (3, 48.0),
                     "dump-site4": (4, 72.0)}
    assert [f["properties"]["id"] for f in fk["park"]] == ["test-pit-charging-site"]
    roads = {f["properties"]["id"]: f["properties"] for f in fk["road"]}
    assert len(roads) == 5 * 4 + 4 * 5 + 5
    assert all(r["one_way"] and r["speed_limit_kmh"] == 35.0 for r in roads.values())
    assert roads["load-site1>dump-site1"]["length_m"] == 12000.0
    assert roads["load-site1>dump-site1"]["note"] == "OpenMines road.l2d_road_matrix[0][0]"
    # d2l is [load][dump]: d2l[0][1] is dump 2 -> load 1, d2l[1][0] dump 1 -> load 2.
    assert roads["dump-site2>load-site1"]["length_m"] == 2200.0
    assert roads["dump-site1>load-site2"]["length_m"] == 2700.0
    assert roads["test-pit-charging-site>load-site5"]["length_m"] == 4100.0
    assert all(z == 0.0 for f in fk["road"] for *_, z in f["geometry"]["coordinates"])


def test_minefleet_validate_accepts_the_map_and_the_truck_classes(imported):
    out, _ = imported
    (line,) = validate_file(str(out / f"{SLUG}.geojson"))
    assert "map test-pit-mine OK: 173.4 km of road" in line
    assert "9 shovels" in line and "4 dumps/crushers, 1 parks" in line
    for tid, (payload, _) in TRUCKS.items():
        (line,) = validate_file(str(out / "trucks" / f"{tid}.toml"))
        assert f"truck class {tid} " in line and f"payload {payload:g} t" in line
    scenario, _map = validate_file(str(out / f"{SLUG}.toml"))
    assert "scenario test-pit-mine OK: 4 x light-truck + 3 x mid-truck + 2 x heavy-truck, 2 h" in scenario


def matrix_lengths() -> dict[tuple[str, str], float]:
    """What every route must measure [m], straight from the fixture's matrices."""
    want = {}
    for i in range(5):
        for j in range(4):
            want[(f"load-site{i + 1}", f"dump-site{j + 1}")] = om.L2D[i][j] * 1000
            want[(f"dump-site{j + 1}", f"load-site{i + 1}")] = om.D2L[i][j] * 1000
        want[("test-pit-charging-site", f"load-site{i + 1}")] = om.C2L[i] * 1000
    return want


def test_every_route_is_as_long_as_its_matrix_entry_even_where_a_detour_is_shorter(imported):
    out, _ = imported
    mine = load_map(out / f"{SLUG}.geojson")
    net = build_network(mine)
    classes = [load_truck_class(out / "trucks" / f"{t}.toml") for t in TRUCKS]
    table = RouteTable(mine, net, classes)
    want = matrix_lengths()
    for (a, b), length in want.items():
        for c in range(len(classes)):
            r = table.route(a, b, c, a.startswith("load"))
            assert r is not None and len(r.edges) == 1, (a, b, c)
            assert r.length_m == pytest.approx(length), (a, b)
            assert table.route_len[r.index] == pytest.approx(length)
    # The direct load 1 -> dump 1 road is 12 km; load 1 -> dump 2 -> load 2 -> dump 1 would be 6 km.
    detour = om.L2D[0][1] + om.D2L[1][1] + om.L2D[1][0]
    assert detour == 6.0 and table.route("load-site1", "dump-site1", 0, True).length_m == 12000.0
    # No route runs through a third site: nothing from the charging site to a dump, nor between dumps.
    assert table.route("test-pit-charging-site", "dump-site1", 0, False) is None
    assert table.route("dump-site1", "dump-site2", 0, False) is None


def test_truck_classes_carry_the_file_figures_and_reach_its_speed_on_flat_road(imported):
    out, _ = imported
    for tid, (payload, speed) in TRUCKS.items():
        path = out / "trucks" / f"{tid}.toml"
        tc = load_truck_class(path)
        assert (tc.payload_t, tc.max_speed_loaded_kmh, tc.max_speed_empty_kmh) == (payload, speed, speed)
        assert (tc.mtbf_h, tc.mttr_h) == (6.0, pytest.approx(10 / 60, abs=1e-4))
        # On the imported map's flat roads (rolling resistance 0.02) the file's speed is what binds, loaded or not.
        for load in (payload, 0.0):
            assert tc.grade_speed_mps(load, 0.0, 0.02) * 3.6 == pytest.approx(speed)
        power_limited = tc.drivetrain_efficiency * tc.gross_power_kw * 1e3 / (tc.mass_kg(payload) * G * 0.02)
        assert power_limited >= 1.5 * speed / 3.6
        assert tc.max_rimpull_kn * 1e3 > tc.mass_kg(payload) * G * 0.02
        assert tc.sources["payload_t"] == f"OpenMines file test_pit.json: capacity (charging_site.trucks[" \
                                          f"{list(TRUCKS).index(tid)}].capacity = {payload:g} t)"
        assert tc.sources["max_speed_loaded_kmh"].startswith("OpenMines file test_pit.json: speed")
        assumed = [k for k, v in tc.sources.items() if v.startswith("assumption: ")]
        assert len(assumed) == 10 and all(len(tc.sources[k]) > 40 for k in assumed)


def test_scenario_names_the_map_the_groups_and_openmines_failures(imported):
    out, _ = imported
    scn = tomllib.loads((out / f"{SLUG}.toml").read_text())
    assert scn["scenario"] == {"name": SLUG, "map": f"{SLUG}.geojson", "seed": 0, "hours": 2.0}
    assert scn["fleet"] == {"start": "test-pit-charging-site", "release_interval_s": 0.0, "groups": [
        {"count": 4, "truck_class": "trucks/light-truck.toml"},
        {"count": 3, "truck_class": "trucks/mid-truck.toml"},
        {"count": 2, "truck_class": "trucks/heavy-truck.toml"}]}
    assert scn["cloud"] == {"planner": "nearest"}
    assert scn["haul"] == {"cycle_cv": 0.0, "dump_cv": 0.0}
    assert scn["failures"] == {"trucks": True, "shovels": True}


def test_without_failures_and_without_sim_time(tmp_path):
    doc = om.mine()
    del doc["sim_time"]
    doc["charging_site"]["trucks"][1]["count"] = 0
    out = tmp_path / "out"
    report = import_openmines(write_json(tmp_path, doc), out, failures=False)
    scn = tomllib.loads((out / f"{SLUG}.toml").read_text())
    assert "failures" not in scn
    assert scn["scenario"]["hours"] == 8.0
    assert [g["count"] for g in scn["fleet"]["groups"]] == [4, 2]
    assert not (out / "trucks" / "mid-truck.toml").exists()
    assert "truck type MidTruck (charging_site.trucks[1]) has count 0: no group, no truck class written" in report


def test_sites_drawn_on_one_point_are_moved_apart_and_the_map_still_builds(tmp_path):
    doc = om.mine()
    doc["load_sites"][1]["position"] = doc["load_sites"][0]["position"]
    doc["dump_sites"][0]["position"] = doc["load_sites"][0]["position"]
    out = tmp_path / "out"
    report = "\n".join(import_openmines(write_json(tmp_path, doc), out))
    assert "site LoadSite2 (load_sites[1]) drawn 50 m east of its position, apart from another site" in report
    assert "site DumpSite1 (dump_sites[0]) drawn 100 m east of its position, apart from another site" in report
    xy = {f["properties"]["id"]: f["geometry"]["coordinates"] for f in features(out)["loading_area"]}
    assert xy["load-site2"][0] == pytest.approx(xy["load-site1"][0] + 50.0)
    net = build_network(load_map(out / f"{SLUG}.geojson"))
    assert len(net.nodes) == 10 and len(net.edges) == 45
    assert {e.length_m for e in net.edges if e.road_id == "load-site1>dump-site1"} == {12000.0}


def edit(path: list[Any], value: Any = None, delete: bool = False) -> Callable[[dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        if delete:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return apply


@pytest.mark.parametrize("change, where, problem", [
    (edit(["road", "d2l_road_matrix"], delete=True), "road", "missing required 'd2l_road_matrix'"),
    (edit(["load_sites"], delete=True), "", "missing required 'load_sites'"),
    (edit(["mine"], delete=True), "", "missing required 'mine'"),
    (edit(["charging_site", "trucks", 1, "capacity"], delete=True), "charging_site.trucks[1]",
     "missing required 'capacity'"),
    (edit(["charging_site", "trucks", 2, "capacity"], 0), "charging_site.trucks[2]", "'capacity' must be > 0"),
    (edit(["charging_site", "trucks", 0, "speed"], "fast"), "charging_site.trucks[0]",
     "'speed' must be a number, got 'fast'"),
    (edit(["road", "l2d_road_matrix"], om.L2D[:4]), "road.l2d_road_matrix",
     "must have 5 rows, one per load site (load_sites has 5), got 4 rows"),
    (edit(["road", "d2l_road_matrix"], [list(r) for r in zip(*om.D2L, strict=True)]), "road.d2l_road_matrix",
     "must have 5 rows, one per load site (load_sites has 5), got 4 rows"),
    (edit(["road", "l2d_road_matrix", 2], [1.0, 2.0, 3.0]), "road.l2d_road_matrix[2]",
     "must have 4 entries, one per dump site (dump_sites has 4), got 3 entries"),
    (edit(["road", "d2l_road_matrix", 1, 3], -2.0), "road.d2l_road_matrix[1][3]",
     "must be a finite distance > 0 km, got -2.0"),
    (edit(["road", "l2d_road_matrix", 4, 0], math.inf), "road.l2d_road_matrix[4][0]",
     "must be a finite distance > 0 km, got inf"),
    (edit(["road", "l2d_road_matrix", 0, 1], math.nan), "road.l2d_road_matrix[0][1]",
     "must be a finite distance > 0 km, got nan"),
    (edit(["road", "charging_to_load_road_matrix"], [1.0, 2.0]), "road.charging_to_load_road_matrix",
     "must have 5 entries, one per load site (load_sites has 5), got 2 entries"),
    (edit(["road", "charging_to_load_road_matrix", 3], "3 km"), "road.charging_to_load_road_matrix[3]",
     "must be a distance in km, got '3 km'"),
    (edit(["charging_site", "trucks"], [{"type": "A", "count": 0, "capacity": 30, "speed": 20}]),
     "charging_site.trucks", "no trucks: every 'count' is 0"),
    (edit(["charging_site", "trucks"], []), "charging_site", "'trucks' must be a non-empty list of truck types"),
    (edit(["load_sites", 2, "shovels", 1, "tons"], delete=True), "load_sites[2].shovels[1]",
     "missing required 'tons'"),
    (edit(["dump_sites", 3, "dumpers", 0, "count"], 0), "dump_sites[3].dumpers", "no dumper: every 'count' is 0"),
    (edit(["dump_sites", 1, "name"], "DumpSite1"), "dump_sites[1].name",
     "'DumpSite1' gives the id 'dump-site1', already taken by dump_sites[0].name"),
    (edit(["charging_site", "trucks", 2, "type"], "mid truck"), "charging_site.trucks[2].type",
     "truck type 'mid truck' repeats charging_site.trucks[1].type ('MidTruck')"),
    (edit(["load_sites", 0, "position"], [0.1]), "load_sites[0]", "'position' must be [x, y]"),
    (edit(["sim_time"], -5), "", "'sim_time' must be > 0"),
])
def test_bad_file_is_one_error_naming_file_and_key_and_nothing_is_written(tmp_path, change, where, problem):
    doc = om.mine()
    change(doc)
    src = write_json(tmp_path, doc)
    out = tmp_path / "out"
    with pytest.raises(InputError) as err:
        import_openmines(src, out)
    msg = str(err.value)
    assert msg.startswith(f"{src}: {where + ': ' if where else ''}{problem}")
    assert "\n" not in msg
    assert not out.exists()


def test_non_json_and_missing_file(tmp_path):
    bad = write_json(tmp_path, '{"mine": {"name": "X"},\n  "load_sites": [,]}')
    with pytest.raises(InputError, match=r"test_pit\.json: invalid JSON at line 2 column 18: Expecting value$"):
        import_openmines(bad, tmp_path / "out")
    with pytest.raises(InputError, match=r"nope\.json: OpenMines file not found$"):
        import_openmines(tmp_path / "nope.json", tmp_path / "out")
    with pytest.raises(InputError, match=r"test_pit\.json: must be a JSON object, got a list of 1$"):
        import_openmines(write_json(tmp_path, [1]), tmp_path / "out")


def test_refuses_a_directory_holding_a_file_it_did_not_write(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match=r"out: holds notes\.txt, which 'minefleet import' did not write"):
        import_openmines(write_json(tmp_path, om.mine()), out)
    assert listing(out) == {"notes.txt"}
    assert (out / "notes.txt").read_text() == "mine"


def test_reimport_replaces_its_own_files_but_not_edited_ones(tmp_path):
    src, out = write_json(tmp_path, om.mine()), tmp_path / "out"
    import_openmines(src, out)
    doc = om.mine()
    doc["charging_site"]["trucks"][0]["count"] = 0  # no light trucks any more: their class file goes
    doc["road"]["l2d_road_matrix"][0][0] = 9.0
    import_openmines(write_json(tmp_path, doc), out)
    assert listing(out) == FILES - {"trucks/light-truck.toml"} | {MANIFEST}
    roads = {f["properties"]["id"]: f["properties"] for f in features(out)["road"]}
    assert roads["load-site1>dump-site1"]["length_m"] == 9000.0
    scenario = out / f"{SLUG}.toml"
    scenario.write_text(scenario.read_text() + "# my note\n")
    with pytest.raises(InputError, match=re.escape(f"{SLUG}.toml was changed since 'minefleet import' wrote it")):
        import_openmines(src, out)
    assert scenario.read_text().endswith("# my note\n")


def test_cli_import_prints_the_report_and_a_bad_file_exits_2_with_one_line(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["import", "openmines", str(write_json(tmp_path, om.mine())), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("test_pit.json: OpenMines mine TestPitMine")
    assert lines[1].startswith(f"wrote {out / SLUG}.geojson")
    doc = om.mine()
    doc["road"]["l2d_road_matrix"][2] = [1.0]
    assert main(["import", "openmines", str(write_json(tmp_path, doc, "bad.json")), "--out",
                 str(tmp_path / "o2")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"minefleet: error: {tmp_path / 'bad.json'}: road.l2d_road_matrix[2]: must have 4 entries")


def hand_tonnes(hours: float) -> float:
    """The one-road mine's shift by hand: 3 trucks of 55 t at 25 km/h, one 11 t / 1 min shovel (5 passes, 5 min),
    2 dumpers of 1 min, 3 km loaded, 3.5 km empty, 2 km from the charging site. All leave at once; they reach
    the shovel together after 4.8 min and load one after another, 5 min apart. A cycle is then 7.2 + 1 + 8.4 + 5
    = 21.6 min, longer than 3 x 5 min of loading, so nobody queues again. Truck k first dumps at
    4.8 + 5 (k + 1) + 7.2 + 1 min and every 21.6 min after."""
    shift = hours * 60.0
    loads = 0
    for k in range(3):
        first = 4.8 + 5.0 * (k + 1) + 7.2 + 1.0
        loads += int((shift - first) // 21.6) + 1
    return loads * 55.0


def test_imported_one_road_mine_runs_with_nearest_and_hauls_what_the_hand_calculation_says(tmp_path):
    from minefleet.assemble import build_run
    from minefleet.scenario import load_scenario

    out = tmp_path / "out"
    import_openmines(write_json(tmp_path, om.one_road(), "one_road.json"), out, failures=False)
    scn = load_scenario(out / "one-road.toml")
    run = build_run(scn)
    run.sim.run(scn.hours * 3600.0)
    run.close()
    tph = float(run.sim.tonnes.sum()) / scn.hours
    want = hand_tonnes(scn.hours) / scn.hours
    assert want == pytest.approx(65 * 55 / 8)  # 22 + 22 + 21 loads in 8 h
    assert tph == pytest.approx(want, rel=0.05)


def nearest_loop() -> tuple[int, int]:
    """Where ``nearest`` takes a truck of the five-site mine, from the matrices alone: from the charging site to the
    nearest load site, loaded to the nearest dump, empty to the load site nearest that dump, and so on, until a
    (load, dump) pair repeats; the loop it settles on, which must be one pair. Every truck class has one speed,
    loaded and empty, so the least free-flow time is the least distance for every class."""
    load = min(range(len(om.C2L)), key=lambda i: om.C2L[i])
    seen: list[tuple[int, int]] = []
    while True:
        dump = min(range(len(om.L2D[load])), key=lambda j: om.L2D[load][j])
        if (load, dump) in seen:
            break
        seen.append((load, dump))
        load = min(range(len(om.D2L)), key=lambda i: om.D2L[i][dump])  # D2L[i][j]: dump j -> load i
    loop = seen[seen.index((load, dump)):]
    assert loop == [(load, dump)], loop
    return load, dump


def test_imported_mine_runs_with_nearest_on_one_loop_and_its_shovel_sets_the_rate_by_hand(tmp_path):
    """docs/openmines.md, "Checking an import by hand: nearest on the five-site test mine"."""
    from minefleet.assemble import build_run
    from minefleet.scenario import load_scenario

    load, dump = nearest_loop()
    site, sink = f"load-site{load + 1}", f"dump-site{dump + 1}"
    assert (site, sink) == ("load-site2", "dump-site1")
    (shovel,) = om.mine()["load_sites"][load]["shovels"]
    tons, cycle_min = shovel["tons"], shovel["cycle_time"]
    # Whole passes (fleet.loading): 35 t takes 3 (33 t), 55 t 5, 77 t 7; one pass of `tons` per `cycle_min`
    # whatever the truck, so a shovel that is never idle loads tons / cycle_min.
    passes = [planned_passes(cap, tons) for cap, _ in TRUCKS.values()]
    assert [p.passes for p in passes] == [3, 5, 7]
    assert {p.payload_t / p.passes for p in passes} == {tons}
    hand_tph = tons / cycle_min * 60.0
    assert hand_tph == 660.0

    out = tmp_path / "out"
    import_openmines(write_json(tmp_path, om.mine()), out, failures=False)
    hours, warm_up_s = 8.0, 3600.0
    scn = load_scenario(out / f"{SLUG}.toml").with_overrides(hours=hours)
    assert scn.planner == "nearest"
    run = build_run(scn)
    run.sim.run(hours * 3600.0)
    run.close()
    log = run.sim.log

    # (a) After the warm-up every load is at the loop's load site and every dump at its dump, by every truck.
    late = [e for e in log if e[0] > warm_up_s and e[2] in ("loaded", "dumped")]
    assert {e[3] for e in late if e[2] == "loaded"} == {site}
    assert {e[3] for e in late if e[2] == "dumped"} == {sink}
    assert {e[1] for e in late if e[2] == "loaded"} == set(run.sim.fleet.ids)

    # The bottleneck shovel's loads: (end time, payload, load time) from the log and the loads log, in one order.
    loaded = [e for e in log if e[2] == "loaded"]
    assert len(loaded) == len(run.sim.loads_log)
    unit = f"{site}-shovel-1"
    ends = [(e[0], e[4], rec[4]) for e, rec in zip(loaded, run.sim.loads_log, strict=True) if rec[5] == unit]
    # The window runs from the end of one load to the end of another, so the loads ending inside it lie wholly in
    # it (one bucket: a load starts no earlier than the one before it ended).
    t0 = min(t for t, _, _ in ends if t >= warm_up_s)
    t1 = max(t for t, _, _ in ends)
    inside = [(p, s) for t, p, s in ends if t0 < t <= t1]
    assert t1 - t0 > 6.5 * 3600.0
    tph = sum(p for p, _ in inside) / (t1 - t0) * 3600.0
    busy = sum(s for _, s in inside) / (t1 - t0)
    # (b) the hand figure, (c) the premise: the shovel is never idle once the trucks are on the loop.
    assert tph == pytest.approx(hand_tph, rel=0.05)
    assert busy == pytest.approx(1.0, abs=0.01)
