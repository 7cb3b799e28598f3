"""A mixed fleet of three classes on the open pit: per-class figures that follow payload and speed."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO

from fleet.kpi import summarize
from fleet.loading import planned_passes
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario


@pytest.fixture(scope="module")
def mixed():
    scn = load_scenario(REPO / "scenarios" / "open_pit_mixed.toml").with_overrides(hours=2.0)
    run = build_run(scn)
    run.sim.run(scn.hours * 3600.0)
    return run, summarize(run.sim)


def test_every_class_has_its_own_figures(mixed):
    _, s = mixed
    assert set(s["by_class"]) == {"cat-797f", "komatsu-930e", "xcmg-znk95"}
    assert sum(c["trucks"] for c in s["by_class"].values()) == s["trucks"] == 38
    assert sum(c["tonnes"] for c in s["by_class"].values()) == pytest.approx(s["tonnes"], abs=0.5)
    assert sum(c["loads"] for c in s["by_class"].values()) == s["loads"]


def test_payload_follows_each_class_and_the_buckets_it_met(mixed):
    """Each load is its passes x the bucket's pass payload (to the 5 % pass scatter), and a class takes the passes
    its rated payload calls for under that bucket (one more or fewer where the scatter tips the last pass)."""
    run, s = mixed
    sim = run.sim
    ratios, extra = [], []
    for cls, payload, passes, _, _, unit in sim.loads_log:
        shovel = sim.shovels[unit]
        ratios.append(payload / (passes * shovel.pass_t))
        extra.append(passes - planned_passes(sim.classes[cls].payload_t, shovel.pass_t).passes)
    assert len(ratios) > 50
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.02)
    assert set(extra) <= {-1, 0, 1} and extra.count(0) > 0.6 * len(extra)
    by = s["by_class"]
    assert by["cat-797f"]["payload"]["mean_t"] > by["komatsu-930e"]["payload"]["mean_t"] \
        > by["xcmg-znk95"]["payload"]["mean_t"]
    # A 90 t truck under 50-75 t buckets takes one pass: it leaves well under its rated payload.
    assert by["xcmg-znk95"]["payload"]["passes_mean"] < 1.5
    assert by["xcmg-znk95"]["payload"]["mean_share_of_rated"] < 0.85 < by["cat-797f"]["payload"]["mean_share_of_rated"]
    assert all(c["payload"]["max_share_of_rated"] <= 1.2 for c in by.values())


def test_larger_trucks_load_longer_and_haul_more_per_truck_hour(mixed):
    _, s = mixed
    by = s["by_class"]
    load_s = {k: by[k]["payload"]["load_time_mean_s"] for k in by}
    assert load_s["cat-797f"] > load_s["komatsu-930e"] > load_s["xcmg-znk95"]
    tph = {k: by[k]["tonnes_per_truck_hour"] for k in by}
    assert tph["cat-797f"] > tph["komatsu-930e"] > tph["xcmg-znk95"]


def test_each_loaded_trip_takes_at_least_its_class_free_flow_time(mixed):
    """Departure to arrival on a loaded route takes about that class's own free-flow time: on average between
    0.9 and 1.25 of it (momentum carries a truck into a climb faster than its steady grade speed; traffic and
    acceleration come on top), never far below it."""
    run, _ = mixed
    sim = run.sim
    cls_of = dict(zip(sim.fleet.ids, sim.fleet.class_index.tolist(), strict=True))
    leaving: dict[str, tuple[float, str]] = {}
    ratios: dict[int, list[float]] = {}
    for t, tid, ev, fac, payload in sim.log:
        if ev == "loaded":
            leaving[tid] = (np.nan, fac)
        elif ev == "depart" and tid in leaving and payload > 0:
            leaving[tid] = (t, leaving[tid][1])
        elif ev == "arrive" and tid in leaving and payload > 0 and np.isfinite(leaving[tid][0]):
            t0, origin = leaving.pop(tid)
            route = sim.rt.route(origin, fac, cls_of[tid], True)
            free = sim.rt.free_flow_time_s(route.index, cls_of[tid], True)
            ratios.setdefault(cls_of[tid], []).append((t - t0) / free)
    assert set(ratios) == {0, 1, 2}
    for r in ratios.values():
        assert min(r) >= 0.8
        assert 0.9 < np.mean(r) < 1.25
