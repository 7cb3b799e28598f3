"""The 5G link model: TR 38.901 RMa path loss, wall shadowing, SINR -> delay and loss, handovers, QoS."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from net.radio import FiveGLink, load_profile
from net.radio.geometry import Walls
from net.radio.pathloss import band_ghz, breakpoint_m, rma_los_db, rma_nlos_db

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("d2d, los, nlos", [
    # Hand-computed from Table 7.4.1-1 with h = 5 m, W = 20 m, h_BS = 35 m, h_UT = 1.5 m, f_c = 3.5 GHz:
    # d_BP = 2 pi 35 1.5 3.5e9 / 3e8 = 3848.45 m, so 1 km uses PL1 and 5 km uses PL2.
    (1000.0, 105.460, 130.424),
    (5000.0, 125.969, 157.419),
])
def test_rma_path_loss_matches_hand_computed_values(d2d, los, nlos):
    assert breakpoint_m(35.0, 1.5, 3.5) == pytest.approx(3848.45, abs=0.01)
    assert float(rma_los_db(d2d, 35.0, 1.5, 3.5)) == pytest.approx(los, abs=0.01)
    assert float(rma_nlos_db(d2d, 35.0, 1.5, 3.5)) == pytest.approx(nlos, abs=0.01)


def test_nlos_is_never_below_los_and_bands_resolve():
    d = np.linspace(10, 10_000, 200)
    assert np.all(rma_nlos_db(d, 150.0, 6.0, 3.55) >= rma_los_db(d, 150.0, 6.0, 3.55))
    assert band_ghz("n78") == pytest.approx(3.55)
    with pytest.raises(ValueError, match="unknown band 'n999'"):
        band_ghz("n999")


def test_wall_blocks_a_ray_only_below_its_crest():
    walls = Walls([(box(400, -50, 500, 50), 100.0)])
    # From a 130 m mast at x = 0 down to a truck antenna 6 m up at x = 1000: at the wall the ray is at ~67 m.
    assert walls.blocked(0.0, 0.0, 130.0, 1000.0, 0.0, 6.0)
    # The same ray from a 330 m high antenna passes over the crest.
    assert not walls.blocked(0.0, 0.0, 330.0, 1000.0, 0.0, 6.0)
    # A ray whose ground track misses the wall is clear.
    assert not walls.blocked(0.0, 200.0, 130.0, 1000.0, 200.0, 6.0)
    # Vectorised: rows of rays at once.
    got = walls.blocked(np.zeros(3), np.array([0.0, 0.0, 200.0]), np.array([130.0, 330.0, 130.0]),
                        np.full(3, 1000.0), np.array([0.0, 0.0, 200.0]), np.full(3, 6.0))
    assert got.tolist() == [True, False, False]


def test_grid_of_rays_is_every_pair_of_the_broadcast_rays():
    """Sites to points, every pair at once: the same answers as the broadcast call, a mix of blocked and clear."""
    rng = np.random.default_rng(3)
    walls = Walls([(box(x, y, x + 80, y + 300), z) for x, y, z in rng.uniform([0, 0, 40], [2000, 2000, 120], (12, 3))])
    sx, sy, sz = rng.uniform(0, 2000, 5), rng.uniform(0, 2000, 5), rng.uniform(60, 200, 5)
    px, py, pz = rng.uniform(0, 2000, 400), rng.uniform(0, 2000, 400), rng.uniform(0, 80, 400)
    grid = walls.blocked_grid(sx, sy, sz, px, py, pz)
    assert grid.shape == (400, 5) and 0.1 < grid.mean() < 0.9
    assert np.array_equal(grid, walls.blocked(sx[None], sy[None], sz[None], px[:, None], py[:, None], pz[:, None]))
    assert not Walls([]).blocked_grid(sx, sy, sz, px, py, pz).any()


# A small pit: rim at 100 m, floor at 0 m between two walls; site A on the west rim, B on the east rim.
WALLS = [(box(400, -1000, 500, 1000), 100.0), (box(1500, -1000, 1600, 1000), 100.0)]
FLOOR = [(box(400, -1000, 1600, 1000), 0.0)]
SITES = [("A", -200.0, 0.0, 100.0, 30.0, 20.0, "n78"), ("B", 2500.0, 0.0, 100.0, 30.0, 20.0, "n77")]


def pit_link(profile: str = "5g-embb", seed: int = 1, trucks: int = 1, **changes: float) -> FiveGLink:
    base = {"gnb_antenna_gain_dbi": 0.0, "ul_allocation_mhz": 100.0, "shadow_scale": 0.0}
    prof = replace(load_profile(profile), **{**base, **changes})
    return FiveGLink(SITES, WALLS, prof, np.random.default_rng(seed), [f"T{i}" for i in range(trucks)], FLOOR,
                     100.0)


def drive(link: FiveGLink, xs: np.ndarray, per_point: int = 40, qos: int = 0) -> list[tuple[float, float | None]]:
    """Update once per second along a route on y = 0 and send ``per_point`` 300 B messages each second."""
    out = []
    for k, x in enumerate(xs):
        t = float(k)
        link.update(t, [x], [0.0], link.terrain.z([x], [0.0]))
        for _ in range(per_point):
            got = link.uplink("T0", t, 300, qos)
            out.append((float(x), None if got is None else got - t))
    return out


def test_route_down_into_the_shadowed_pit_is_slower_and_lossier_with_a_handover():
    link = pit_link()
    xs = np.concatenate([np.linspace(0, 300, 10), np.linspace(550, 1450, 19)])  # rim, then the pit floor
    sent = drive(link, xs)
    rim = [d for x, d in sent if x <= 300]
    pit = [d for x, d in sent if x >= 550]
    z = link.terrain.z(xs, np.zeros_like(xs))
    blocked = link.walls.blocked(link.gx[None], link.gy[None], link.gz[None], xs[:, None], 0.0, z[:, None] + 6.0)
    assert not blocked[xs <= 300].any() and blocked[xs >= 550].all()  # LOS on the rim, NLOS to both in the pit
    lost_rim, lost_pit = sum(d is None for d in rim) / len(rim), sum(d is None for d in pit) / len(pit)
    assert lost_pit > lost_rim
    assert np.mean([d for d in pit if d is not None]) > np.mean([d for d in rim if d is not None])
    assert link.stats()["handovers"] >= 1
    assert link.serving_site("T0") == "B"


def test_dead_zone_is_an_outage_and_counts_truck_seconds():
    link = pit_link(outage_sinr_db=5.0)  # a demanding floor turns the pit floor into a dead zone
    link.update(0.0, [1000.0], [0.0], [0.0])
    assert link.outage[0]
    assert link.uplink("T0", 0.0, 100, 0) is None
    assert link.uplink("T0", 0.0, 100, 1) is None  # every retry fails while in outage
    link.update(10.0, [0.0], [0.0], [100.0])  # back on the rim
    assert not link.outage[0]
    stats = link.stats()
    assert stats["outage_truck_s"] == pytest.approx(10.0)
    assert stats["uplink_retransmissions"] == link.profile.max_attempts - 1


def test_lte_is_slower_than_urllc_on_the_same_route():
    xs = np.linspace(0, 1450, 30)
    p50 = {}
    for name in ("5g-urllc", "lte"):
        link = pit_link(name, gnb_antenna_gain_dbi=17.0)
        drive(link, xs, per_point=20, qos=1)
        p50[name] = link.stats()["uplink_latency_p50_ms"]
    assert p50["5g-urllc"] < 1.0 < 10.0 < p50["lte"]


def test_qos0_loses_what_qos1_retransmits_after_a_timeout():
    lossy = {"loss_floor": 0.3, "gnb_antenna_gain_dbi": 17.0}
    link0 = pit_link(**lossy)
    link1 = pit_link(**lossy)
    for link in (link0, link1):
        link.update(0.0, [0.0], [0.0], [100.0])
    q0 = [link0.uplink("T0", 0.0, 100, 0) for _ in range(2000)]
    q1 = [link1.uplink("T0", 0.0, 100, 1) for _ in range(2000)]
    loss0 = sum(t is None for t in q0) / len(q0)
    assert 0.25 < loss0 < 0.35  # the floor, as set
    assert sum(t is None for t in q1) <= 3  # 0.3 ** 6 of 2000 is ~1.5
    late = [t for t in q1 if t is not None and t >= 0.2]  # retried after the 200 ms RTO
    assert 0.2 < len(late) / len(q1) < 0.4
    assert link1.stats()["uplink_retransmissions"] > 500 and link0.stats()["uplink_retransmissions"] == 0


def test_handover_interruption_holds_messages_until_it_ends():
    link = pit_link(handover_interruption_ms=50.0, time_to_trigger_s=0.0)
    link.update(0.0, [0.0], [0.0], [100.0])
    link.update(1.0, [1450.0], [0.0], [0.0])
    assert link.stats()["handovers"] == 1
    got = link.downlink("T0", 1.0, 100, 1)
    assert got is not None and got >= 1.05


def test_same_seed_same_figures_with_shadowing_on():
    def run(seed: int) -> tuple[dict[str, object], list[float | None]]:
        link = pit_link(seed=seed, trucks=5, shadow_scale=1.0)
        rng = np.random.default_rng(0)
        times = []
        for t in range(20):
            x = rng.uniform(0, 1500, 5)
            link.update(float(t), x, np.zeros(5), link.terrain.z(x, np.zeros(5)))
            times += [link.uplink(f"T{i}", float(t), 200, i % 2) for i in range(5)]
            times += [link.downlink(f"T{i}", float(t), 200, 1) for i in range(5)]
        return link.stats(), times

    assert run(4) == run(4)
    assert run(4)[1] != run(5)[1]


def test_a_trucks_draws_do_not_depend_on_other_trucks_sending():
    a, b = pit_link(trucks=2), pit_link(trucks=2)
    for link in (a, b):
        link.update(0.0, [100.0, 900.0], [0.0, 0.0], [100.0, 0.0])
    only = [a.uplink("T0", 0.0, 200, 1) for _ in range(50)]
    mixed = []
    for _ in range(50):
        b.uplink("T1", 0.0, 200, 1)
        mixed.append(b.uplink("T0", 0.0, 200, 1))
    assert only == mixed


def test_sinr_grid_is_lower_in_the_shadow_than_on_the_rim():
    link = pit_link()
    grid = link.sinr_grid(-200.0, -100.0, 2000.0, 100.0, 50.0)
    assert grid.shape == (4, 44)
    rim = grid[:, 4:8].mean()  # x = 0..400
    pit = grid[:, 16:22].mean()  # x = 600..900, under the west wall
    assert rim > pit + 10.0
    with pytest.raises(ValueError, match="coarser"):
        link.sinr_grid(0.0, 0.0, 1e5, 1e5, 1.0)


def test_open_pit_map_shadows_deep_benches_from_their_own_rim_site():
    doc = json.loads((REPO / "maps" / "open_pit_coal.geojson").read_text(encoding="utf-8"))
    sites, walls, terrain = [], [], []
    for f in doc["features"]:
        p, g = f["properties"], f["geometry"]
        if p["kind"] == "gnb":
            x, y, z = g["coordinates"]
            sites.append((p["id"], x, y, z, p["height_m"], p["tx_power_dbm"], p["band"]))
        elif p["kind"] == "wall":
            walls.append((Polygon([c[:2] for c in g["coordinates"][0]]), p["elevation_m"]))
        elif p["kind"] in ("bench", "pit"):
            terrain.append((Polygon([c[:2] for c in g["coordinates"][0]],
                                    [[c[:2] for c in r] for r in g["coordinates"][1:]]), p["elevation_m"]))
    link = FiveGLink(sites, walls, load_profile("5g-embb"), np.random.default_rng(7), ["T1", "T2"], terrain)
    north = next(s for s in link.sites if s.id == "gnb-rim-n")
    # A truck on the pit floor under the north wall cannot see the north rim site; one on the rim can.
    floor_z, rim_z = float(link.terrain.z(800.0, 280.0)), float(link.terrain.z(800.0, 1160.0))
    assert floor_z < 1050.0 and rim_z == pytest.approx(1200.0)
    ant = north.z_ground + north.height_m
    assert link.walls.blocked(north.x, north.y, ant, 800.0, 280.0, floor_z + 6.0)
    assert not link.walls.blocked(north.x, north.y, ant, 800.0, 1160.0, rim_z + 6.0)
    link.update(0.0, [800.0, 800.0], [280.0, 1160.0], [floor_z, rim_z])
    assert link.serving_site("T2") == "gnb-rim-n"
    assert link.serving_site("T1") != "gnb-rim-n"


EAST = 1700.0  # [m] east of the pit, where B is 8.8 dB above A (shadowing off)


def hop(link: FiveGLink, steps: list[tuple[float, float]]) -> list[int]:
    """Update a one-truck link at (t, x) on y = 0; the handover count after each update."""
    out = []
    for t, x in steps:
        link.update(t, [x], [0.0], link.terrain.z([x], [0.0]))
        out.append(link.stats()["handovers"])
    return out


def test_time_to_trigger_needs_the_a3_condition_in_every_measurement_for_that_long():
    # Updates every measurement period (0.2 s), no L3 filter. At x = 1700 (east of the pit) B is 8.8 dB above A
    # and A's SINR (-5.5 dB) still holds the link, so only event A3 can move the truck: ms320 is met at the
    # third measurement there, not by one stray measurement.
    link = pit_link(l3_filter_k=0)
    assert link.profile.time_to_trigger_s == pytest.approx(0.32) and link.profile.measurement_period_s == 0.2
    counts = hop(link, [(0.0, 0.0), (0.2, EAST), (0.4, 0.0),  # one measurement in B's area: no handover
                        (0.6, EAST), (0.8, EAST), (1.0, EAST)])
    assert counts == [0, 0, 0, 0, 0, 1]
    assert link.serving_site("T0") == "B"


def test_l3_filter_keeps_its_time_constant_whatever_the_update_rate():
    # TS 38.331 5.5.3.2: k = 4 means a = 1/2 per 200 ms; 1 s after a step 1/32 of the old level is left,
    # whether the link is updated every 0.1 s or every 0.2 s.
    for period in (0.1, 0.2):
        link = pit_link(time_to_trigger_s=10.0)
        hop(link, [(0.0, 0.0)])
        before = link.rsrp_l3[0].copy()
        hop(link, [(round(period * i, 9), EAST) for i in range(1, round(1.0 / period) + 1)])
        now, _ = link._received(link._path_loss(np.array([EAST]), np.array([0.0]), np.array([100.0])))
        assert (link.rsrp_l3[0] - now[0]) / (before - now[0]) == pytest.approx(np.full(2, 1 / 32), rel=1e-9)


def test_measurements_between_updates_lie_on_the_path_driven():
    # Updated once in 3 s, the link still measures every 0.2 s on the straight line from x = 0 to 2400
    # (160 m per measurement). B is 3 dB above A from x ~ 1300 on: A3 enters at x = 1440 (t = 1.8) and is
    # ripe two measurements later (x = 1760, t = 2.2), inside the update; the outage floor is lowered so that
    # only A3 acts.
    link = pit_link(l3_filter_k=0, outage_sinr_db=-20.0)
    assert hop(link, [(0.0, 0.0), (3.0, 2400.0)]) == [0, 1]
    assert link.t_handover[0] == pytest.approx(2.2)
    assert link.sites[int(link.left_cell[0])].id == "A" and link.serving_site("T0") == "B"


def test_a_quick_return_to_the_previous_cell_is_a_ping_pong():
    fast = pit_link(l3_filter_k=0, time_to_trigger_s=0.0)
    hop(fast, [(0.0, 0.0), (0.2, EAST), (3.0, EAST), (3.2, 0.0)])  # back to A 3 s after leaving it
    slow = pit_link(l3_filter_k=0, time_to_trigger_s=0.0)
    hop(slow, [(0.0, 0.0), (0.2, EAST), (6.0, EAST), (6.2, 0.0)])  # ... 6 s after
    assert fast.stats()["handovers"] == slow.stats()["handovers"] == 2
    assert fast.stats()["ping_pongs"] == 1 and slow.stats()["ping_pongs"] == 0
    assert slow.stats()["handovers_per_truck_h"] == pytest.approx(2 / (6.2 / 3600), rel=1e-3)


def test_shadow_fields_have_the_tr38901_correlation_and_share_half_their_variance_between_sites():
    from net.radio.pathloss import SHADOW_SITE_CORR
    from net.radio.shadow import ShadowField

    lag, site, var = [], [], []
    for seed in range(40):
        field = ShadowField(np.random.default_rng(seed), 2, 37.0, SHADOW_SITE_CORR)
        xy = np.random.default_rng(100 + seed).uniform(-5000, 5000, (2, 400))
        a, b = field.at(*xy), field.at(xy[0] + 37.0, xy[1])
        lag.append(np.mean(a * b))
        site.append(np.mean(a[:, 0] * a[:, 1]))
        var.append(np.mean(a * a))
    assert np.mean(var) == pytest.approx(1.0, abs=0.05)
    assert np.mean(lag) == pytest.approx(np.exp(-1.0), abs=0.05)  # exp(-d / d_corr) at d = d_corr
    assert np.mean(site) == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize("components", [1, 5, 64, 200])
def test_compiled_shadow_field_is_the_plane_wave_sum(components):
    """The field's value is ``scale * cos(x kx + y ky + phase).sum()`` as numpy computes it on arrays, to within
    the rounding of a sum of unit terms: the compiled loop only changes how the cosines are taken."""
    from net.radio.shadow import ShadowField

    rng = np.random.default_rng(components)
    field = ShadowField(rng, 6, 37.0, 0.5, components=components)
    x, y, row = rng.uniform(-4000, 4000, 2000), rng.uniform(-4000, 4000, 2000), rng.integers(0, 7, 2000)
    arrays = x[:, None] * field.kx[row] + y[:, None] * field.ky[row] + field.phase[row]
    expected = field.scale * np.cos(arrays).sum(axis=1)
    assert np.max(np.abs(field._waves(x, y, row) - expected)) < components * 2.3e-16 * field.scale + 1e-15
    with pytest.raises(ValueError, match="components"):
        ShadowField(rng, 6, 37.0, 0.5, components=0)


def test_shadow_at_links_in_any_order_gives_the_same_values():
    """Links listed point by point (as the radio map lists them) or shuffled: the same value for every link."""
    from net.radio.pathloss import SHADOW_SITE_CORR
    from net.radio.shadow import ShadowField

    field = ShadowField(np.random.default_rng(8), 3, 37.0, SHADOW_SITE_CORR)
    rng = np.random.default_rng(9)
    x, y = rng.uniform(-2000, 2000, 50), rng.uniform(-2000, 2000, 50)
    point, site = np.nonzero(rng.random((50, 3)) < 0.6)
    listed = field.at_links(x, y, point, site)
    shuffle = rng.permutation(point.size)
    assert np.array_equal(field.at_links(x, y, point[shuffle], site[shuffle]), listed[shuffle])
    assert np.array_equal(listed, field.at(x, y)[point, site])


def test_trucks_standing_still_keep_their_path_loss_and_every_value_matches_a_fresh_evaluation():
    """``update`` evaluates path loss and shadowing only for trucks that moved; the others keep last update's
    rows. The rows it keeps and the rows it evaluates are those of a fresh evaluation at the same points."""
    link = pit_link(trucks=6, shadow_scale=1.0)
    rng = np.random.default_rng(3)
    x = rng.uniform(-100, 2400, 6)
    y = rng.uniform(-500, 500, 6)
    evaluated = [0]
    spy = link._path_loss

    def counting(px, py, pz):
        evaluated[-1] += len(px)
        return spy(px, py, pz)

    link._path_loss = counting
    per_update = math.ceil(1.0 / link.profile.measurement_period_s - 1e-9)  # measurement points a second
    link.update(0.0, x, y, link.terrain.z(x, y))
    assert evaluated == [6]  # the first update evaluates every truck, at one point each
    for t in range(1, 30):
        moving = np.arange(6) < (t % 4)  # 0 to 3 of the 6 trucks move this second
        x = np.where(moving, x + 15.0, x)
        z = link.terrain.z(x, y)
        evaluated.append(0)
        link.update(float(t), x, y, z)
        assert evaluated[-1] == int(moving.sum()) * per_update  # the movers' points only
        np.testing.assert_array_equal(link._pl_last, spy(x, y, z))  # bit for bit a fresh evaluation
