"""The range sensor: beams hit what is there at the right range; dust degrades; truth marks the right sectors."""

from __future__ import annotations

import numpy as np
import pytest

from edge.contract import SensorSpec
from edge.sensor import Targets, Weather, ground_truth, synthesise

SPEC = SensorSpec()


def one(x, y, r, refl=0.5):
    return Targets(np.array([x]), np.array([y]), np.array([r]), np.array([refl]))


def scan(targets, weather=None, heading=0.0, half_width=50.0, seed=0):
    return synthesise(SPEC, np.zeros(1), np.zeros(1), np.array([heading]), np.array([half_width]),
                      np.array([-1]), targets, weather or Weather(), np.random.default_rng(seed))


def test_centre_beam_hits_a_target_dead_ahead_at_its_surface():
    """A 2 m-radius target 40 m ahead: the centre beams return 38 m (noise 5 cm), the edge beams nothing."""
    s, truth = scan(one(40.0, 0.0, 2.0))
    rng_m = s[0, 0] * SPEC.max_range_m
    mid = SPEC.beams // 2
    assert rng_m[mid] == pytest.approx(38.0, abs=0.3)
    assert rng_m[0] == pytest.approx(SPEC.max_range_m)
    assert s[0, 1, mid] > 0
    sectors = np.flatnonzero(truth[0, :, 0])
    assert set(sectors) == {SPEC.sectors // 2 - 1, SPEC.sectors // 2}
    assert truth[0, sectors[0], 1] * SPEC.max_range_m == pytest.approx(38.0)


def test_berms_bound_the_side_beams():
    """On a 20 m-wide road the outermost beam (30 deg off axis) meets the berm at 10 / sin 30 = 20 m."""
    s, truth = scan(Targets.empty(), half_width=10.0)
    assert s[0, 0, 0] * SPEC.max_range_m == pytest.approx(20.0, abs=0.3)
    assert truth[0, :, 0].sum() == 0  # berms are background, not obstacles


def test_heading_rotates_the_field_of_view():
    """Facing north, a target to the north is seen; one to the east is not."""
    _, truth = scan(Targets(np.array([0.0, 40.0]), np.array([40.0, 0.0]), np.array([1.0, 1.0]),
                            np.array([0.5, 0.5])), heading=np.pi / 2)
    assert truth[0, :, 0].sum() >= 1
    assert truth[0, :, 1].min() * SPEC.max_range_m == pytest.approx(39.0)


def test_dust_drops_returns_and_adds_false_ones():
    """Heavy dust: fewer returns from a far target, and false short returns appear."""
    far = one(80.0, 0.0, 3.0)
    clear = [scan(far, Weather(0.0), seed=k)[0] for k in range(40)]
    dusty = [scan(far, Weather(1.0), seed=k)[0] for k in range(40)]
    mid = slice(SPEC.beams // 2 - 1, SPEC.beams // 2 + 1)
    hits_clear = np.mean([np.abs(s[0, 0, mid] * 100 - 77) < 3 for s in clear])
    hits_dusty = np.mean([np.abs(s[0, 0, mid] * 100 - 77) < 3 for s in dusty])
    assert hits_clear > 0.95
    assert hits_dusty < hits_clear - 0.2
    false_short = np.mean([np.sum(s[0, 0] * 100 < 20) for s in dusty])
    assert false_short > 1.0


def test_same_seed_same_scan_and_truth_matches_the_truth_only_path():
    a = scan(one(30.0, 2.0, 1.0), Weather(0.5), seed=3)
    b = scan(one(30.0, 2.0, 1.0), Weather(0.5), seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    t = ground_truth(SPEC, np.zeros(1), np.zeros(1), np.zeros(1), np.array([-1]), one(30.0, 2.0, 1.0))
    np.testing.assert_array_equal(a[1], t)


def test_a_truck_does_not_see_itself():
    own = one(0.5, 0.0, 4.0)
    _, truth = synthesise(SPEC, np.zeros(1), np.zeros(1), np.zeros(1), np.array([50.0]), np.array([0]), own,
                          Weather(), np.random.default_rng(0))
    assert truth[0, :, 0].sum() == 0
