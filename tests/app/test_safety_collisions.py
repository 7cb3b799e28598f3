"""The signature loop, end to end: what the trucks see decides collisions."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest
from cli_checks import read_csv
from shifts import hazard_scenario, shift

from edge.contract import SensorSpec
from edge.safety import SafetyParams
from edge.sensor import Targets, ground_truth
from fleet.onboard import Onboard, Witness
from minefleet.headless import run_headless

SEEDS = range(20)


@pytest.fixture(scope="module")
def oracle_and_blind():
    return {m: [shift(m, seed) for seed in SEEDS] for m in ("oracle", "blind")}


def test_oracle_never_collides(oracle_and_blind):
    """Perfect, instant perception: over 20 seeded shifts, no collision."""
    shifts = oracle_and_blind["oracle"]
    assert sum(s["collisions"] for s in shifts) == 0
    assert sum(sum(s["hazards_appeared"].values()) for s in shifts) > 20  # there was something to avoid


def test_blind_trucks_hit_or_nearly_hit_obstacles(oracle_and_blind):
    """Same seeds, no perception: the obstacles are now struck or barely missed."""
    shifts = oracle_and_blind["blind"]
    assert sum(s["collisions"] + s["near_misses"] for s in shifts) > 0
    assert sum(s["collisions"] for s in shifts) > sum(s["collisions"] for s in oracle_and_blind["oracle"])


# A real model trusted beyond what it sees: tiny in the thickest dust, with the controller told it sees the
# sensor's full range, and many obstacles. Collisions follow; each must be explained by what the truck saw.
TRUSTED_TOO_FAR = {"model": "tiny", "seed": 0, "trucks": 8, "hours": 0.5, "dust": 1.0, "detect_range_m": 100.0,
                   "hazard_rate_scale": 40.0}


@pytest.fixture(scope="module")
def traced_collisions(tmp_path_factory):
    """The shift above as a run directory, with what the run did beside it: every result as it reached its
    truck, and every collision with its obstacle and the results still on their way to that truck."""
    delivered = defaultdict(list)  # truck -> [(t_arrival, t_frame, result [S, 2], pose (s, route, x, y, h), truth)]
    struck = {}  # (t, truck id) -> (obstacle x, y, r, refl; newest result's frame time; results still pending)
    release, after_move = Onboard._release, Onboard.after_move

    def in_flight(fl, i):
        return [(fl.arrival[i, k], fl.frame_t[i, k], fl.out[i, k].copy(), fl.pose[i, k].copy(), fl.truth[i, k].copy())
                for k in fl.of(i)]

    def recording_release(self, now):
        for i in range(self.sim.fleet.n):
            delivered[i] += [slot for slot in in_flight(self.inflight, i) if slot[0] <= now + 1e-9]
        release(self, now)

    def recording_after_move(self, on, seg):
        hits = after_move(self, on, seg)
        for i, obstacle in hits:
            hz = self.hazards
            waiting = [slot[1:] for slot in in_flight(self.inflight, i)]
            struck[(f"{self.sim.t:.1f}", self.sim.fleet.ids[i])] = (
                i, hz.x[obstacle], hz.y[obstacle], hz.r[obstacle], hz.refl[obstacle], self.latest_t[i], waiting)
        return hits

    scn = hazard_scenario(**TRUSTED_TOO_FAR)
    out = tmp_path_factory.mktemp("collide") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Onboard, "_release", recording_release)
        mp.setattr(Onboard, "after_move", recording_after_move)
        run_headless(scn, out, quiet=True)
    _, rows = read_csv(out / "events.csv")
    return scn, rows, delivered, struck, json.loads((out / "summary.json").read_text())


def _sight(scn, frames, x, y, r, refl):
    """Per frame (t_frame, result, pose, truth): was the obstacle in the sensor's range and view, really there in
    that frame, and did the result place a detection on it (a stop line at or before it)."""
    e = scn.edge
    spec = SensorSpec()  # the zoo models' contract
    seen = []
    for _, out, pose, truth in frames:
        alone = ground_truth(spec, pose[2:3], pose[3:4], pose[4:5], np.full(1, -1),
                             Targets(np.array([x]), np.array([y]), np.array([r]), np.array([refl])))[0]
        covered = (alone[:, 0] >= 0.5) & (truth[:, 0] >= 0.5) & (truth[:, 1] <= alone[:, 1] + 1e-4)
        short_of_it = (out[:, 1] - alone[:, 1]) * spec.max_range_m <= e.margin_m
        hit = covered & (out[:, 0] >= SafetyParams.threshold) & short_of_it
        seen.append((bool(covered.any()), bool(hit.any())))
    return seen


def test_every_collision_is_traced_to_its_cause(traced_collisions):
    """Each collision row of events.csv names its cause, and what the truck was shown before the impact bears it
    out: a missed detection had the obstacle in view of a frame whose result did not detect it; a late frame had
    a result that detected it, too late to stop (or none fresh within the budget)."""
    scn, rows, delivered, struck, summary = traced_collisions
    collisions = [row for row in rows if row["event"].startswith("collision_")]
    assert collisions  # the positive control: this shift does collide
    assert len(collisions) == summary["safety"]["collisions"] == len(struck)
    assert all(row["cause"] == "" for row in rows if not row["event"].startswith("collision_"))
    for row in collisions:
        assert row["cause"] in {"missed_detection", "late_frame"}, row
        i, x, y, r, refl, newest_t, waiting = struck[(row["t_s"], row["truck"])]
        shown = [(tf, out, pose, truth) for t_arr, tf, out, pose, truth in delivered[i]
                 if tf >= float(row["t_s"]) - 30.0]  # the frames of the approach
        sight = _sight(scn, shown + waiting, x, y, r, refl)
        if row["cause"] == "missed_detection":
            assert any(in_view and not hit for in_view, hit in sight), row
        else:
            stale = float(row["t_s"]) - newest_t > scn.edge.budget_ms / 1000.0
            assert stale or any(hit for _, hit in sight), row
    causes = summary["safety"]["collision_causes"]
    assert sum(causes.values()) == len(collisions)
    assert causes["detected_in_time"] == causes["never_in_view"] == 0


def test_cause_follows_what_the_truck_was_shown():
    """The decision from the results a truck got (in view, detected, could it still stop): a miss while it could
    stop explains the collision; so does a detection that later results lost; a detection only past the stopping
    point, one still on its way, or no fresh result at all is a late frame."""
    def cause(*shown, pending=(False, False), stale=False):
        w = Witness(0)
        for in_view, detected, stoppable in shown:
            w.see(in_view, detected, stoppable)
        return w.cause(*pending, stale)

    assert cause((True, False, True), (True, True, False)) == "missed_detection"
    assert cause((True, True, True), (True, False, False)) == "missed_detection"
    assert cause((True, False, False)) == "missed_detection"
    assert cause((True, True, False)) == "late_frame"
    assert cause((True, True, False), (True, False, False)) == "late_frame"  # lost only when it was too late
    assert cause((True, False, True), (True, True, True)) == "detected_in_time"  # far miss, then seen in time
    assert cause((False, False, True), pending=(True, True)) == "late_frame"
    assert cause((True, False, False), stale=True) == "late_frame"  # a miss past the stopping point, and stale
    assert cause(stale=True) == "late_frame"
    assert cause((True, True, True)) == "detected_in_time"
    assert cause((False, False, True)) == "never_in_view"
