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


def reference_ranges(px, py, heading, half_width, self_target, t: Targets) -> np.ndarray:
    """Nearest hit [m] per truck and beam, every target tried (no weather): the ray casting as it reads."""
    out = np.empty((len(px), SPEC.beams))
    fov = np.deg2rad(SPEC.fov_deg)
    for i in range(len(px)):
        for k in range(SPEC.beams):
            rel = (k / (SPEC.beams - 1) - 0.5) * fov
            dx, dy = np.cos(heading[i] + rel), np.sin(heading[i] + rel)
            best = SPEC.max_range_m
            if abs(np.sin(rel)) > 1e-6:
                best = min(best, half_width[i] / abs(np.sin(rel)))
            for j in range(len(t.x)):
                if j == self_target[i]:
                    continue
                ox, oy = t.x[j] - px[i], t.y[j] - py[i]
                along = ox * dx + oy * dy
                perp2 = ox * ox + oy * oy - along * along
                if along > 0 and perp2 <= t.r[j] ** 2:
                    hit = along - np.sqrt(t.r[j] ** 2 - perp2)
                    if 0 < hit < best:
                        best = hit
            out[i, k] = best
    return out


def test_a_crowded_site_scans_as_if_every_target_were_tried():
    """The kernel tries only targets whose surface can lie within range; none it leaves out could have been hit,
    including targets just at the edge of range and trucks among the targets (each skipping itself)."""
    rng = np.random.default_rng(9)
    n_trucks, n_hazards = 8, 60
    px, py = rng.uniform(0, 400, n_trucks), rng.uniform(0, 400, n_trucks)
    heading = rng.uniform(-np.pi, np.pi, n_trucks)
    hx, hy = rng.uniform(-100, 500, n_hazards), rng.uniform(-100, 500, n_hazards)
    # Some hazards just inside and just beyond the sensor's range straight ahead of truck 0.
    edge = SPEC.max_range_m + np.array([-1.2, -0.6, 0.6])
    hx[:3], hy[:3] = px[0] + (edge + 1.0) * np.cos(heading[0]), py[0] + (edge + 1.0) * np.sin(heading[0])
    radius = np.concatenate([np.full(n_hazards, 1.0), np.full(n_trucks, 3.0)])
    targets = Targets(np.concatenate([hx, px]), np.concatenate([hy, py]), radius, np.full(len(radius), 0.5))
    half_width = np.full(n_trucks, 30.0)
    self_target = n_hazards + np.arange(n_trucks)
    s, _ = synthesise(SPEC, px, py, heading, half_width, self_target, targets, Weather(), np.random.default_rng(0))
    want = reference_ranges(px, py, heading, half_width, self_target, targets)
    hit = want < SPEC.max_range_m - 0.5
    assert hit.sum() > n_trucks * 4  # berms and targets do return within range
    got = s[:, 0] * SPEC.max_range_m
    np.testing.assert_allclose(got[hit], want[hit], atol=0.5)  # range noise is 5 cm at 1 sigma
    np.testing.assert_array_equal(got[~hit] >= SPEC.max_range_m - 0.6, True)
