"""The safety invariant, over many seeded shifts with obstacles and the perfect detector (``oracle``): no truck
strikes an obstacle, and no truck comes closer to the truck ahead of it on its lane than car-following allows.

The gap is watched at every tick by the engine itself (``safety.min_gap_m``: the least bumper-to-bumper gap
between a truck and the one ahead of it on its path, taken from the kinematic kernel's own car-following pass).
"""

from __future__ import annotations

import numpy as np
import pytest
from shifts import hazard_scenario, shift

from fleet.following import leader_gaps
from fleet.kinematics import MOVING_STATE, Traffic
from minefleet.assemble import build_run

SHIFTS = 100  # seeded 1 h shifts (seeds 0..SHIFTS-1); about 2.3 s each on one core: the per-tick loop
TRUCKS = 5  # few trucks: the cost of a shift is the per-tick loop, the invariant needs only some traffic
JAM_GAP_M = Traffic().jam_gap_m  # [m] IDM's gap kept when stopped behind another truck


class Seeds:
    """The shifts of seeds ``SEEDS``; the invariant is checked per half, so the two halves run on two workers."""

    SEEDS: range

    @pytest.fixture(scope="class")
    @classmethod
    def oracle_shifts(cls) -> list[dict]:
        return [shift("oracle", seed, trucks=TRUCKS) for seed in cls.SEEDS]

    def test_oracle_never_collides(self, oracle_shifts):
        """A perfect, instant detector: no collision in any shift, though obstacles stood in the trucks' way."""
        assert [s["collisions"] for s in oracle_shifts] == [0] * len(self.SEEDS)
        assert sum(sum(s["hazards_appeared"].values()) for s in oracle_shifts) > 5 * len(self.SEEDS)
        assert all(s["near_misses"] == 0 for s in oracle_shifts)

    def test_every_shift_has_trucks_following_each_other(self, oracle_shifts):
        """The gap invariant below is tested, not vacuous: every shift had a truck behind another on a lane."""
        assert None not in [s["min_gap_m"] for s in oracle_shifts]

    def test_trucks_never_overlap(self, oracle_shifts):
        assert min(s["min_gap_m"] for s in oracle_shifts) > 0.0

    def test_no_truck_inside_the_jam_gap(self, oracle_shifts):
        """Nor closer than the jam gap: junctions are given way at (fleet/following.py) and the kernel never
        lets a truck close within the jam gap, where IDM alone let one creeping up on a stopped truck come to rest
        metres inside it."""
        assert min(s["min_gap_m"] for s in oracle_shifts) >= JAM_GAP_M


class TestFirstHalf(Seeds):
    SEEDS = range(SHIFTS // 2)


class TestSecondHalf(Seeds):
    SEEDS = range(SHIFTS // 2, SHIFTS)


def test_min_gap_is_the_least_gap_at_any_tick():
    """The KPI is what an observer looking at every tick finds: the least gap to the truck ahead, and no pair of
    trucks on the same directed road ever closer than it."""
    run = build_run(hazard_scenario("oracle", 0, TRUCKS))
    sim, rt = run.sim, run.sim.rt
    ahead, same_road = [], []

    def watch(sim) -> None:
        f = sim.fleet
        on = np.flatnonzero(MOVING_STATE[f.state])
        if len(on) < 2:
            return
        seg = sim.segment_of(f.route[on], f.s[on])
        length = sim.ct.length[f.class_index[on]]
        gap, lead = leader_gaps(seg, f.s[on], f.route[on], rt.seg_edge, rt.seg_edge_s0, rt.seg_k,
                                rt.route_edges, rt.route_edge_s0, len(rt.edge_len), length)
        on_road = (lead >= 0) & (f.s[on] > 0.0)  # behind a truck, not at a junction or still at its facility
        ahead.append(gap[on_road].min() if on_road.any() else np.inf)
        edge, off = rt.seg_edge[seg], f.s[on] - rt.seg_edge_s0[seg]
        pair = (edge[:, None] == edge[None, :]) & (off[None, :] > off[:, None])  # [follower, leader]
        pair &= (f.s[on] > 0.0)[:, None]
        if pair.any():
            same_road.append((off[None, :] - off[:, None] - length[None, :])[pair].min())

    sim.observers.append(watch)
    sim.run(0.5 * 3600.0)
    kpi = sim.onboard.summary()["min_gap_m"]
    assert same_road and ahead
    # The kernel sees each tick's start; the observer each tick's end: the same states but the first and last.
    assert kpi == round(float(min(ahead[:-1])), 3)
    assert kpi <= round(float(min(same_road)), 3) + 1e-9
    assert kpi < JAM_GAP_M + 10.0  # trucks did close up on each other in this half hour
