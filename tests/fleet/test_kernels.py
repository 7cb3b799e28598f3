"""Small compiled kernels of fleet/kinematics.py, fleet/following.py and fleet/routes.py against plain numpy on a
shipped map."""

from __future__ import annotations

import numpy as np
import pytest

from fleet.following import EDGE_KEY, following_work, leader_gaps, leader_gaps_into, sort_along
from fleet.kinematics import MOVING_STATE, ClassTable, Traffic, exit_wait, locate
from fleet.state import TruckState
from fleet.telemetry import telemetry_columns
from minefleet.assemble import load_site
from minefleet.scenario import load_scenario

TRAFFIC = Traffic()


@pytest.fixture(scope="module")
def rt():
    scn = load_scenario("open_pit")
    return load_site(str(scn.map_path), scn.classes()).routes


@pytest.fixture(scope="module")
def ct():
    return ClassTable(load_scenario("open_pit_mixed").classes())


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


def numpy_exit_wait(rt, ct, state, route, s, v, cls, aside_at, edge, clear, now, arrive_tol):
    """The check as it reads: None when no truck on the road stands on ``edge`` within ``clear`` of its start;
    else the longest of those trucks' least times out of that stretch (top acceleration from their speed now, or
    standing aside)."""
    on = np.flatnonzero(MOVING_STATE[state])
    if not len(on):
        return None
    seg = locate(rt, route[on], s[on])
    inside = (rt.seg_edge[seg] == edge) & (s[on] - rt.seg_edge_s0[seg] < clear)
    if not inside.any():
        return None
    waits = []
    for j in np.flatnonzero(inside):
        i, k = on[j], seg[j]
        same = (rt.seg_route == rt.seg_route[k]) & (rt.seg_k == rt.seg_k[k])
        edge_end = float(np.max((rt.seg_s0 + rt.seg_len)[same]))
        out = min(rt.seg_edge_s0[k] + clear, edge_end, rt.route_len[route[i]] - arrive_tol) - 1e-6
        d = max(out - s[i], 0.0)
        a = ct.accel[cls[i]]
        motion = (-v[i] + np.sqrt(v[i] ** 2 + 2 * a * d)) / a  # v t + a t^2 / 2 = d
        waits.append(min(motion, max(aside_at[i] - now, 0.0)))
    return max(waits)


def test_exit_wait_agrees_with_numpy_over_random_fleets(rt, ct):
    rng = np.random.default_rng(7)
    n_routes = len(rt.routes)
    blocked = 0
    for _ in range(300):
        n = int(rng.integers(1, 40))
        state = rng.choice([int(x) for x in TruckState], size=n).astype(np.int64)
        route = rng.integers(0, n_routes, size=n).astype(np.int64)
        s = rng.uniform(0.0, 1.0, size=n) * rt.route_len[route]
        s[rng.random(n) < 0.3] = 0.0  # trucks at their route's start, where exits are judged
        s[rng.random(n) < 0.1] = rt.route_len[route[:1]][0]  # and some at its end
        v = rng.uniform(0.0, 15.0, size=n) * (rng.random(n) < 0.7)
        cls = rng.integers(0, len(ct.accel), size=n).astype(np.int64)
        now = 500.0
        aside_at = np.where(rng.random(n) < 0.2, now + rng.uniform(-10.0, 100.0, size=n), np.inf)
        r = int(rng.integers(0, n_routes))
        edge, clear = int(rt.route_edges[r, 0]), float(rng.uniform(5.0, 60.0))
        got = exit_wait(rt, ct, TRAFFIC, state, route, s, v, cls, aside_at, edge, clear, now)
        want = numpy_exit_wait(rt, ct, state, route, s, v, cls, aside_at, edge, clear, now, TRAFFIC.arrive_tol_m)
        assert (got is None) == (want is None)
        if got is not None:
            blocked += 1
            assert got == pytest.approx(want, rel=1e-9, abs=1e-9)
    assert blocked > 50


def test_exit_wait_ignores_trucks_off_the_road(rt, ct):
    edge = int(rt.route_edges[0, 0])
    route = np.array([0], dtype=np.int64)
    s, v, cls, aside = np.array([1.0]), np.array([0.0]), np.array([0], dtype=np.int64), np.array([np.inf])
    travelling = np.array([int(TruckState.TRAVEL_EMPTY)], dtype=np.int64)
    queued = np.array([int(TruckState.QUEUE_LOAD)], dtype=np.int64)
    wait = exit_wait(rt, ct, TRAFFIC, travelling, route, s, v, cls, aside, edge, 30.0, 0.0)
    # From rest: 29 m (less the rounding margin) at the class's top acceleration.
    assert wait == pytest.approx(np.sqrt(2 * (29.0 - 1e-6) / ct.accel[0]))
    assert exit_wait(rt, ct, TRAFFIC, travelling, route, s, v, cls, aside, edge, 0.5, 0.0) is None  # beyond
    assert exit_wait(rt, ct, TRAFFIC, queued, route, s, v, cls, aside, edge, 30.0, 0.0) is None
    # A truck broken down in the lane stands aside at its time, sooner than it could drive clear.
    assert exit_wait(rt, ct, TRAFFIC, travelling, route, s, v, cls, np.array([1.5]), edge, 30.0, 0.0) == 1.5


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


def test_telemetry_columns_round_as_numpy_does_bit_for_bit():
    rng = np.random.default_rng(11)
    for scale in (1e-3, 1.0, 1e3, 1e6):
        a = rng.uniform(-scale, scale, 200_000)
        a[:2000] = np.arange(-1000, 1000) * 0.005  # halves of the last kept digit, both signs, and zeros
        x, y, v = telemetry_columns(a, -a, np.abs(a))
        for got, want in ((x, np.round(a, 2)), (y, np.round(-a, 2)), (v, np.round(np.abs(a), 3))):
            assert np.array_equal(got.view(np.int64), want.view(np.int64))
