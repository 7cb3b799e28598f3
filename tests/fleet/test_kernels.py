"""Small compiled kernels of fleet/kinematics.py, fleet/following.py and fleet/routes.py against plain numpy on a
shipped map."""

from __future__ import annotations

import numpy as np
import pytest

from fleet.following import EDGE_KEY, following_work, leader_gaps, leader_gaps_into, sort_along
from fleet.kinematics import MOVING_STATE, exit_blocked, locate
from fleet.state import TruckState
from minefleet.assemble import load_site
from minefleet.scenario import load_scenario


@pytest.fixture(scope="module")
def rt():
    scn = load_scenario("open_pit")
    return load_site(str(scn.map_path), scn.classes()).routes


def test_lane_shift_is_the_lane_offset_turned_to_the_right_of_travel(rt):
    expected_x = rt.seg_lane * np.sin(rt.seg_heading)
    expected_y = -rt.seg_lane * np.cos(rt.seg_heading)
    np.testing.assert_allclose(rt.seg_lane_xy[:, 0], expected_x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rt.seg_lane_xy[:, 1], expected_y, rtol=0, atol=1e-12)
    lane = rt.seg_lane != 0
    assert lane.any()
    # Perpendicular to the segment and as long as the offset.
    np.testing.assert_allclose(np.hypot(rt.seg_lane_xy[:, 0], rt.seg_lane_xy[:, 1]), np.abs(rt.seg_lane), atol=1e-9)
    d = rt.p1[:, :2] - rt.p0[:, :2]
    np.testing.assert_allclose(np.sum(d * rt.seg_lane_xy, axis=1), 0.0, atol=1e-6)


def numpy_exit_blocked(rt, state, route, s, edge, clear):
    """The check as it reads: some truck on the road stands on ``edge`` within ``clear`` of its start."""
    on = np.flatnonzero(MOVING_STATE[state])
    if not len(on):
        return False
    seg = locate(rt, route[on], s[on])
    return bool(np.any((rt.seg_edge[seg] == edge) & (s[on] - rt.seg_edge_s0[seg] < clear)))


def test_exit_blocked_agrees_with_numpy_over_random_fleets(rt):
    rng = np.random.default_rng(7)
    n_routes = len(rt.routes)
    for _ in range(300):
        n = int(rng.integers(1, 40))
        state = rng.choice([int(x) for x in TruckState], size=n).astype(np.int64)
        route = rng.integers(0, n_routes, size=n).astype(np.int64)
        s = rng.uniform(0.0, 1.0, size=n) * rt.route_len[route]
        s[rng.random(n) < 0.3] = 0.0  # trucks at their route's start, where exits are judged
        r = int(rng.integers(0, n_routes))
        edge, clear = int(rt.route_edges[r, 0]), float(rng.uniform(5.0, 60.0))
        assert exit_blocked(rt, state, route, s, edge, clear) == numpy_exit_blocked(rt, state, route, s, edge, clear)


def test_exit_blocked_ignores_trucks_off_the_road(rt):
    edge = int(rt.route_edges[0, 0])
    route = np.array([0], dtype=np.int64)
    s = np.array([1.0])
    travelling = np.array([int(TruckState.TRAVEL_EMPTY)], dtype=np.int64)
    queued = np.array([int(TruckState.QUEUE_LOAD)], dtype=np.int64)
    assert exit_blocked(rt, travelling, route, s, edge, 30.0)
    assert not exit_blocked(rt, travelling, route, s, edge, 0.5)  # beyond the clearance
    assert not exit_blocked(rt, queued, route, s, edge, 30.0)


def test_sorting_along_the_roads_from_any_order_is_the_stable_sort():
    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 60):
        key = rng.integers(0, 5, n) * EDGE_KEY + np.round(rng.uniform(0, 50, n), 0)  # ties on purpose
        for _ in range(20):
            order = rng.permutation(n)
            sort_along(order, key)
            np.testing.assert_array_equal(order, np.argsort(key, kind="mergesort"))


def test_leader_gaps_from_last_ticks_order_equal_a_fresh_sort(rt):
    """The kernel keeps the trucks' order along the roads from tick to tick; whatever order it starts from, the
    gaps and leaders are those of a fresh sort."""
    rng = np.random.default_rng(5)
    for _ in range(50):
        n = int(rng.integers(2, 50))
        route = rng.integers(0, len(rt.routes), n).astype(np.int64)
        s = rng.uniform(0.0, 1.0, n) * rt.route_len[route]
        seg = locate(rt, route, s)
        length = np.full(n, 12.0)
        args = (seg, s, route, rt.seg_edge, rt.seg_edge_s0, rt.seg_k, rt.route_edges, rt.route_edge_s0)
        gap, lead = leader_gaps(*args, len(rt.edge_len), length)
        work = following_work(n, len(rt.edge_len))
        work[2][:] = rng.permutation(n)
        leader_gaps_into(*args, length, work)
        np.testing.assert_array_equal(work[0], gap)
        np.testing.assert_array_equal(work[1], lead)
