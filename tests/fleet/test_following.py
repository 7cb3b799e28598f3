"""Car-following gaps and merge right of way (fleet/following.py), on two roads feeding one.

Edge 0 (100 m) and edge 1 (80 m) both lead into edge 2; route 0 is 0 -> 2 and route 1 is 1 -> 2.
"""

from __future__ import annotations

import numpy as np
import pytest

from fleet.following import YIELD, leader_gaps

LENGTH = 10.0  # [m] every truck's body
ROUTE_EDGES = np.array([[0, 2, -1], [1, 2, -1]])
ROUTE_EDGE_S0 = np.array([[0.0, 100.0, np.inf], [0.0, 80.0, np.inf]])
# One segment per (route, edge): route 0 edge 0, route 0 edge 2, route 1 edge 1, route 1 edge 2.
SEG_EDGE = np.array([0, 2, 1, 2])
SEG_EDGE_S0 = np.array([0.0, 100.0, 0.0, 80.0])
SEG_K = np.array([0, 1, 0, 1])


def gaps(trucks: list[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
    """``(route, s)`` per truck -> gap and leader per truck."""
    route = np.array([r for r, _ in trucks])
    s = np.array([x for _, x in trucks])
    seg = np.array([(0 if x < 100.0 else 1) if r == 0 else (2 if x < 80.0 else 3) for r, x in trucks])
    return leader_gaps(seg, s, route, SEG_EDGE, SEG_EDGE_S0, SEG_K, ROUTE_EDGES, ROUTE_EDGE_S0, 3,
                       np.full(len(trucks), LENGTH))


def test_the_truck_nearer_the_junction_goes_first():
    gap, leader = gaps([(0, 90.0), (1, 50.0)])  # 10 m and 30 m from the merge
    assert leader[0] == YIELD and gap[0] == np.inf
    # The other keeps behind the first one's rear as if it already stood at the junction: 30 - 10 m.
    assert leader[1] == YIELD and gap[1] == pytest.approx(20.0)


def test_the_gap_runs_on_without_a_jump_once_the_first_has_entered():
    before, _ = gaps([(0, 99.9), (1, 50.0)])
    gap, leader = gaps([(0, 100.1), (1, 50.0)])
    assert leader[1] == 0 and gap[1] == pytest.approx(30.0 + 0.1 - LENGTH)
    assert gap[1] - before[1] == pytest.approx(0.1)  # only the 0.1 m it has gone into edge 2


def test_equal_distances_go_to_the_lower_index_and_never_both_wait():
    gap, _ = gaps([(0, 90.0), (1, 70.0)])  # both 10 m from the junction
    assert gap[0] == np.inf and gap[1] == pytest.approx(0.0)
    gap, _ = gaps([(1, 70.0), (0, 90.0)])
    assert gap[0] == np.inf and gap[1] == pytest.approx(0.0)


def test_trucks_on_one_road_follow_and_only_the_front_one_merges():
    gap, leader = gaps([(0, 90.0), (0, 60.0), (1, 50.0)])
    assert leader[1] == 0 and gap[1] == pytest.approx(20.0)  # bumper gap on the same edge
    assert leader[2] == YIELD and gap[2] == pytest.approx(20.0)  # gives way to truck 0, not truck 1
    assert gap[0] == np.inf


def test_a_truck_already_on_the_shared_road_is_followed():
    gap, leader = gaps([(0, 140.0), (1, 50.0)])  # 40 m into edge 2; the other 30 m short of it
    assert leader[1] == 0 and gap[1] == pytest.approx(30.0 + 40.0 - LENGTH)


def test_nothing_ahead_means_no_constraint():
    gap, leader = gaps([(0, 10.0)])
    assert gap[0] == np.inf and leader[0] == YIELD
