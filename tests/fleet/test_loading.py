"""Loading per truck: passes follow the truck's payload and the bucket, within the 10/10/20 limits."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import line_map
from fleetkit import run_for, truck_class

from fleet.loading import LoadingPolicy, load_truck, loadable, planned_passes


def test_passes_follow_the_payload_under_a_small_bucket():
    """A 2.25 t bucket: 16 passes fill a 35 t truck (36 t), 34 a 77 t truck (76.5 t); no cap on passes."""
    small, large = planned_passes(35.0, 2.25), planned_passes(77.0, 2.25)
    assert (small.passes, small.payload_t) == (16, 36.0)
    assert (large.passes, large.payload_t) == (34, 76.5)


def test_no_pass_is_begun_that_would_end_above_the_soft_limit():
    """A 90 t truck under a 60 t bucket: a second pass would end at 120 t (133 %), so it leaves with one."""
    load = planned_passes(90.0, 60.0)
    assert (load.passes, load.payload_t, load.trimmed) == (1, 60.0, False)
    # 363 t under 75 t: the fifth pass ends at 375 t, within 110 %, and nearer the rated payload than 300 t.
    assert planned_passes(363.0, 75.0).payload_t == 375.0


def test_the_hard_limit_takes_an_overshoot_back():
    passes = iter([50.0, 50.0, 40.0])  # 140 t on a 100 t truck with a nominal 50 t pass
    load = load_truck(100.0, 50.0, lambda: next(passes), LoadingPolicy(soft_over=0.10, hard_over=0.20))
    assert load.passes == 2
    big = load_truck(100.0, 50.0, iter([60.0, 65.0]).__next__)  # the second pass scatters high: 125 t
    assert (big.payload_t, big.trimmed) == (120.0, True)
    assert not loadable(35.0, 60.0) and loadable(77.0, 60.0)


def test_scattered_passes_keep_the_mean_near_rated_and_rarely_above_110():
    rng = np.random.default_rng(3)
    loads = [load_truck(77.0, 2.25, lambda: float(rng.gamma(400.0, 2.25 / 400.0))) for _ in range(2000)]
    share = np.array([ld.payload_t for ld in loads]) / 77.0
    assert share.mean() == pytest.approx(1.0, abs=0.02)
    assert np.mean(share > 1.1) < 0.10 and share.max() <= 1.2


def test_a_35_t_and_a_77_t_truck_load_for_different_times_at_one_shovel(tmp_path, write_map, write_scenario):
    """Same shovel (2.25 t bucket, 30 s a pass, 30 s spotting), exact times: 16 and 34 passes."""
    small = truck_class(tmp_path, "t35", 35.0)
    large = truck_class(tmp_path, "t77", 77.0)
    map_path = write_map(line_map(1500.0))
    doc = map_path.read_text().replace('"bucket_t": 60', '"bucket_t": 2.25')
    map_path.write_text(doc)
    scn = write_scenario(f"""
[scenario]
map = "{map_path}"
hours = 1.5
[fleet]
release_interval_s = 120.0
[[fleet.groups]]
count = 1
truck_class = "{small}"
[[fleet.groups]]
count = 1
truck_class = "{large}"
[haul]
cycle_cv = 0.0
dump_cv = 0.0
payload_cv = 0.0
""")
    run = run_for(scn)
    by_class = {c: [r for r in run.sim.loads_log if r[0] == c] for c in (0, 1)}
    assert by_class[0] and by_class[1]
    assert {(r[2], r[1], r[4]) for r in by_class[0]} == {(16, 36.0, 16 * 30.0)}
    assert {(r[2], r[1], r[4]) for r in by_class[1]} == {(34, 76.5, 34 * 30.0)}
    summary_classes = [tc.id for tc in run.sim.classes]
    assert summary_classes == ["t35", "t77"]
