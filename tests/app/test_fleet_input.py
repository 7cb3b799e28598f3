"""A user's mine as users write it: fleet groups, starts, loading areas and events; their mistakes as one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, collection, line_map, point, road

from fleet.state import TruckState
from minefleet.assemble import build_run
from minefleet.cli import main
from minefleet.scenario import load_scenario


def _one_line_error(capsys, *argv: str) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("minefleet: error: ")
    return err


def _scenario(write_scenario, map_path, fleet: str, extra: str = "") -> str:
    return str(write_scenario(f"""
[scenario]
map = "{map_path}"
hours = 0.5
{fleet}
{extra}
"""))


GROUPS = """
[fleet]
release_interval_s = 5.0
[[fleet.groups]]
count = 2
truck_class = "cat-797f"
[[fleet.groups]]
count = 3
truck_class = "xcmg-znk95"
"""


def test_fleet_groups_number_trucks_in_order_and_keep_their_classes(write_map, write_scenario):
    scn = load_scenario(_scenario(write_scenario, write_map(line_map()), GROUPS))
    assert scn.truck_count == 5 and [tc.id for tc in scn.classes()] == ["cat-797f", "xcmg-znk95"]
    run = build_run(scn)
    assert run.sim.fleet.ids == ["T001", "T002", "T003", "T004", "T005"]
    assert run.sim.fleet.class_index.tolist() == [0, 0, 1, 1, 1]
    assert run.sim.ct.length[run.sim.fleet.class_index].tolist()[::2] == [15.58, 10.0, 10.0]
    resolved = scn.resolved()["fleet"]["groups"]
    assert [(g["count"], g["truck_class"]) for g in resolved] == [(2, "cat-797f"), (3, "xcmg-znk95")]
    run.close()


@pytest.mark.parametrize(("fleet", "where", "problem"), [
    (GROUPS.replace('truck_class = "xcmg-znk95"', 'truck_class = "belaz-75710"'),
     "fleet.groups[1]", "unknown truck class 'belaz-75710'"),
    (GROUPS.replace("count = 3", 'count = "three"'), "fleet.groups[1]", "'count' must be a whole number"),
    (GROUPS.replace("[fleet]\n", "[fleet]\ncount = 4\n"), "[fleet]", "'groups' cannot be combined with [fleet] count"),
    ("[fleet]\ngroups = []\n", "[fleet]", "'groups' must be a non-empty array"),
    (GROUPS.replace('count = 2\ntruck_class = "cat-797f"', 'count = 2\ntruck_class = "cat-797f"\nstart = "X9"'),
     "fleet.groups[0].start", "no facility 'X9'"),
])
def test_bad_fleet_is_one_line_naming_file_and_key(write_map, write_scenario, capsys, fleet, where, problem):
    path = _scenario(write_scenario, write_map(line_map()), fleet)
    err = _one_line_error(capsys, "validate", path)
    assert f"{path}: {where}: " in err and problem in err


@pytest.mark.parametrize(("event", "where", "problem"), [
    ('kind = "down"\ntarget = "S9"\nstart_h = 1.0\nend_h = 2.0', "events[0].target", "no shovel, loading area"),
    ('kind = "road_closed"\ntarget = "S1"\nstart_h = 1.0\nend_h = 2.0', "events[0].target", "has no road 'S1'"),
    ('kind = "down"\ntarget = "S1"\nstart_h = 2.0\nend_h = 1.0', "events[0]", "'end_h' must be after start_h"),
    ('kind = "explode"\ntarget = "S1"\nstart_h = 1.0\nend_h = 2.0', "events[0]", "'kind' must be one of"),
])
def test_bad_event_is_one_line_naming_file_and_key(write_map, write_scenario, capsys, event, where, problem):
    path = _scenario(write_scenario, write_map(line_map()), '[fleet]\ncount = 1\ntruck_class = "cat-797f"',
                     f"[[events]]\n{event}\n")
    err = _one_line_error(capsys, "run", path, "--headless", "--quiet")
    assert f"{path}: {where}: " in err and problem in err


def test_breakdowns_need_every_class_to_say_its_mtbf(tmp_path, write_map, write_scenario, capsys):
    from fleetkit import XCMG
    bare = tmp_path / "bare.toml"
    bare.write_text("\n".join(line for line in XCMG.read_text().splitlines()
                              if not line.startswith(("mtbf_h", "mttr_h"))).replace('id = "xcmg-znk95"', 'id = "bare"'))
    path = _scenario(write_scenario, write_map(line_map()), f'[fleet]\ncount = 1\ntruck_class = "{bare}"',
                     "[failures]\ntrucks = true\n")
    err = _one_line_error(capsys, "validate", path)
    assert "failures.trucks" in err and "no mtbf_h and mttr_h" in err


def test_a_loading_area_without_units_and_a_unit_without_its_area(write_map, capsys):
    empty = collection([road("R1", [[0, 0, 0], [1000, 0, 0]]), point("loading_area", "LA", [0, 0, 0]),
                        point("shovel", "S1", [1000, 0, 0]), point("dump", "D1", [500, 0, 0])])
    path = write_map(empty, "empty.geojson")
    err = _one_line_error(capsys, "validate", str(path))
    assert f"{path}: loading_area LA: has no units" in err
    orphan = collection([road("R1", [[0, 0, 0], [1000, 0, 0]]), point("shovel", "S1", [0, 0, 0], area="LX"),
                         point("dump", "D1", [1000, 0, 0])])
    path = write_map(orphan, "orphan.geojson")
    err = _one_line_error(capsys, "validate", str(path))
    assert "shovel S1: 'area' names no loading_area 'LX'" in err


def test_a_bucket_too_big_for_a_class_is_refused_before_the_run(write_map, write_scenario, capsys):
    doc = line_map()
    doc["features"][1]["properties"]["bucket_t"] = 120.0  # one pass > 120 % of a 90 t truck
    path = _scenario(write_scenario, write_map(doc), '[fleet]\ncount = 1\ntruck_class = "xcmg-znk95"')
    err = _one_line_error(capsys, "run", path, "--headless", "--quiet")
    assert "shovel S1: one 120 t pass overloads a xcmg-znk95 truck" in err


def test_old_passes_property_is_refused_by_name(write_map, capsys):
    doc = line_map()
    doc["features"][1]["properties"]["passes"] = 4
    path = write_map(doc)
    err = _one_line_error(capsys, "validate", str(path))
    assert "shovel S1: 'passes' is not a shovel property" in err


def test_starting_at_a_shovel_hauls(tmp_path):
    """The tutorial with its truck starting at the shovel: it queues and loads there (was 0 t, no warning)."""
    text = (REPO / "scenarios" / "tutorial.toml").read_text().replace('start = "park-1"', 'start = "shovel-1"')
    path = tmp_path / "at_shovel.toml"
    path.write_text(text.replace('map = "tutorial"', f'map = "{REPO / "maps" / "tutorial.geojson"}"'))
    out = tmp_path / "run"
    assert main(["run", str(path), "--headless", "--quiet", "--out", str(out)]) == 0
    assert json.loads((out / "summary.json").read_text())["tonnes"] > 0


def test_spread_start_puts_trucks_queued_at_every_load_point(write_scenario):
    path = write_scenario(f"""
[scenario]
map = "{REPO / "maps" / "open_pit_coal.geojson"}"
hours = 0.5
[fleet]
count = 10
truck_class = "cat-797f"
start = "spread"
""")
    run = build_run(load_scenario(path))
    run.sim.run(0.0)
    f = run.sim.fleet
    at = {run.sim.points[k].id for k in f.at.tolist()}
    assert at == {s.id for s in run.site.mine.shovels}
    assert set(f.state.tolist()) <= {TruckState.QUEUE_LOAD, TruckState.SPOT}
    run.sim.run(1800.0)
    assert run.sim.loads.sum() > 0
    run.close()


def test_zero_tonnes_is_said_out_loud(write_map, write_scenario, tmp_path, capsys):
    """A shift that hauls nothing says so, with the dispatch figures that explain it."""
    doc = line_map(3000.0)
    path = _scenario(write_scenario, write_map(doc), '[fleet]\ncount = 1\ntruck_class = "cat-797f"')
    text = Path(path).read_text().replace("hours = 0.5", "hours = 0.02")  # 72 s: no truck reaches the shovel
    Path(path).write_text(text)
    assert main(["run", path, "--headless", "--quiet", "--out", str(tmp_path / "r")]) == 0
    assert "warning: the shift hauled 0 t" in capsys.readouterr().err


def test_a_run_directory_scenario_runs_again_to_the_same_summary(write_map, write_scenario, tmp_path):
    """Groups with a class file, a loading area, breakdowns and an event: the resolved scenario.toml of the run
    directory runs again, unchanged, to a byte-identical summary.json."""
    from fleetkit import area_map, truck_class

    tc = truck_class(tmp_path, "t90", 90.0, mtbf_h=0.5, mttr_h=0.1)
    doc = area_map(800.0, [{"bucket_t": 30, "cycle_s": 30}, {"id": "FAST", "bucket_t": 45, "cycle_s": 20}])
    path = write_scenario(f"""
[scenario]
map = "{write_map(doc)}"
hours = 1.0
[fleet]
start = "spread"
[[fleet.groups]]
count = 3
truck_class = "{tc}"
[[fleet.groups]]
count = 2
truck_class = "cat-797f"
start = "P1"
[failures]
trucks = false
shovels = true
[[events]]
kind = "down"
target = "FAST"
start_h = 0.2
end_h = 0.4
""")
    first, again = tmp_path / "first", tmp_path / "again"
    assert main(["run", str(path), "--headless", "--quiet", "--out", str(first)]) == 0
    assert main(["run", str(first / "scenario.toml"), "--headless", "--quiet", "--out", str(again)]) == 0
    assert (first / "summary.json").read_bytes() == (again / "summary.json").read_bytes()
    events = (first / "events.csv").read_text()
    assert "unit_down" in events and "unit_up" in events
