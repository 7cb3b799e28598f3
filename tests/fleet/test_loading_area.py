"""Loading areas: several units at one stop, the first free unit takes the next truck; double-side loading."""

from __future__ import annotations

import json

import pytest
from fleetkit import area_map, loaded_events, run_for

PAYLOAD_T = 360.0  # a cat-797f (363 t rated) under a 30 t or a 60 t bucket: 12 or 6 passes


def _scenario(write_map, write_scenario, doc, trucks, hours):
    map_path = write_map(doc)
    return write_scenario(f"""
[scenario]
map = "{map_path}"
hours = {hours}
seed = 3
[fleet]
count = {trucks}
truck_class = "cat-797f"
start = "spread"
[haul]
cycle_cv = 0.0
dump_cv = 0.0
payload_cv = 0.0
[cloud]
planner = "nearest"
""")


def test_saturated_area_loads_at_the_sum_of_its_units_rates(write_map, write_scenario):
    """Four slow units (30 t, 40 s a pass) and one fast (60 t, 25 s), 30 s spotting, queue never empty:
    the area's rate is the sum of the units' (payload / (spot + passes x pass time)) within 5 %."""
    units = [{"bucket_t": 30, "cycle_s": 40, "spot_s": 30} for _ in range(4)]
    units.append({"id": "FAST", "bucket_t": 60, "cycle_s": 25, "spot_s": 30})
    scn = _scenario(write_map, write_scenario, area_map(1000.0, units), trucks=26, hours=6.0)
    run = run_for(scn)
    slow_s, fast_s = 30 + 12 * 40, 30 + 6 * 25
    expected_tph = PAYLOAD_T * (4 * 3600 / slow_s + 3600 / fast_s)
    after = 3600.0
    tonnes = sum(p for _, _, p in loaded_events(run, "LA", after))
    measured_tph = tonnes / ((run.sim.t - after) / 3600.0)
    assert measured_tph == pytest.approx(expected_tph, rel=0.05)
    sp = run.sim.point_by_id["LA"]
    visits = {u.id: u.visits for u in sp.units}
    assert all(v > 0 for v in visits.values())  # trucks spread over every unit
    slow_mean = sum(visits[f"U{k}"] for k in range(1, 5)) / 4
    assert visits["FAST"] / slow_mean == pytest.approx(slow_s / fast_s, rel=0.1)
    assert sp.max_queue > 0 and min(u.busy_s for u in sp.units) / run.sim.t > 0.9  # saturated


def test_double_side_loading_hides_the_spotting(write_map, write_scenario, tmp_path):
    """One shovel, saturated: with two sides a truck spots while the other loads, so the rate goes from
    payload / (spot + passes x pass) to payload / (passes x pass)."""
    rates = {}
    for sides in (1, 2):
        doc = area_map(800.0, [{"bucket_t": 60, "cycle_s": 30, "spot_s": 60, "sides": sides}])
        scn = _scenario(write_map, write_scenario, doc, trucks=14, hours=4.0)
        run = run_for(scn)
        tonnes = sum(p for _, _, p in loaded_events(run, "LA", 3600.0))
        rates[sides] = tonnes / ((run.sim.t - 3600.0) / 3600.0)
    assert rates[1] == pytest.approx(PAYLOAD_T * 3600 / (60 + 6 * 30), rel=0.05)
    assert rates[2] == pytest.approx(PAYLOAD_T * 3600 / (6 * 30), rel=0.05)


def test_summary_reports_queues_and_units_of_an_area(write_map, write_scenario, tmp_path):
    units = [{"bucket_t": 30, "cycle_s": 40}, {"id": "FAST", "bucket_t": 60, "cycle_s": 25}]
    scn = _scenario(write_map, write_scenario, area_map(1000.0, units), trucks=8, hours=1.0)
    from minefleet.cli import main

    out = tmp_path / "run"
    assert main(["run", str(scn), "--headless", "--quiet", "--out", str(out)]) == 0
    la = json.loads((out / "summary.json").read_text())["facilities"]["LA"]
    assert set(la["units"]) == {"U1", "FAST"}
    assert la["visits"] == sum(u["visits"] for u in la["units"].values())
    assert la["tonnes"] == pytest.approx(sum(u["tonnes"] for u in la["units"].values()), abs=0.2)
    assert {"queue_time_mean_s", "queue_len_mean", "queue_len_max", "availability"} <= set(la)
