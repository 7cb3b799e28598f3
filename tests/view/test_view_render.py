"""What the picture shows: trucks where the camera puts them in their state colours, overlays, layers, HUD."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pygame
import pytest
from viewkit import pixels, spread

from fleet.snapshot import Snapshot
from view import palette as P
from view.app import App
from view.coverage import Coverage
from view.hud import EMULATED_TITLE, kpi_sections
from view.panel import truck_rows


def isolated_trucks(app: App, snap: Snapshot, min_gap_px: float = 16.0) -> list[int]:
    """Trucks on screen, clear of the HUD and of any other truck by ``min_gap_px``."""
    px, py = app.camera.to_screen(snap.trucks.x, snap.trucks.y)
    out = []
    for i in range(len(px)):
        if not (0 <= px[i] < app.surface.get_width() and 0 <= py[i] < app.surface.get_height()):
            continue
        if any(r.collidepoint(px[i], py[i]) for r in app.hud.rects):
            continue
        d = np.hypot(px - px[i], py - py[i])
        d[i] = np.inf
        if d.min() >= min_gap_px:
            out.append(i)
    return out


def test_app_draws_without_a_window():
    """Off-screen rendering: building the app and drawing frames opens no display."""
    from viewkit import make_run

    from fleet.control import Controller

    run = make_run("open_pit")
    try:
        app = App(Controller(run.sim), run.site.mine, size=(640, 400))
        assert not pygame.display.get_init() or pygame.display.get_surface() is None
        surface = app.frame(0.0)
        assert surface.get_size() == (640, 400)
        assert not pygame.display.get_init() or pygame.display.get_surface() is None
    finally:
        run.close()


def test_trucks_appear_at_their_projected_pixels_in_their_state_colour(live):
    run, _ctl, app = live()
    spread(run, ticks=3000)
    app.frame(0.0)
    snap = app.snap
    checked = isolated_trucks(app, snap)
    assert len(checked) >= 5, "the scenario should have spread trucks over the map by now"
    px, py = app.camera.to_screen(snap.trucks.x, snap.trucks.y)
    for i in checked:
        name = snap.state_names[int(snap.trucks.state[i])]
        got = tuple(app.surface.get_at((int(px[i]), int(py[i]))))[:3]
        assert got == P.STATE_COLOURS[name], f"truck {snap.trucks.ids[i]} ({name}) at ({px[i]:.0f}, {py[i]:.0f})"


def test_zoomed_in_trucks_are_drawn_to_size_with_their_heading(live):
    """At 4 px/m a truck's length in pixels is its length in metres x 4: colour ahead of the centre, not beyond."""
    run, ctl, app = live()
    spread(run, ticks=2000)
    i = int(np.flatnonzero(np.isin(run.sim.fleet.state, [1, 5]))[0])
    ctl.select(run.sim.fleet.ids[i])
    app.act("follow")
    app.camera.scale = 4.0
    app.frame(0.0)
    t = app.snap.trucks
    colour = P.STATE_COLOURS[app.snap.state_names[int(t.state[i])]]
    half = t.length_m[i] / 2  # [m]
    ahead = [(t.x[i] + f * half * np.cos(t.heading[i]), t.y[i] + f * half * np.sin(t.heading[i])) for f in (0.6, 1.4)]
    (ax, ay), (bx, by) = (app.camera.to_screen(x, y) for x, y in ahead)
    assert tuple(app.surface.get_at((int(ax), int(ay))))[:3] == colour
    assert tuple(app.surface.get_at((int(bx), int(by))))[:3] != colour


def test_each_overlay_in_the_cycle_changes_the_picture(live):
    run, _ctl, app = live()
    assert app.cycle[-1] == () and "coverage" not in {n for c in app.cycle for n in c}
    spread(run, app, ticks=2500)
    pictures = {}
    for _ in app.cycle:
        app.frame(0.0)
        pictures[app.overlays] = pixels(app)
        app.act("overlays")
    assert app.overlays == app.cycle[0]
    off = pictures[()]
    for name in ("trails", "dispatch"):
        changed = np.any(pictures[(name,)] != off, axis=-1).sum()
        assert changed > 200, f"{name} overlay changed only {changed} pixels"


def test_coverage_heat_joins_the_cycle_only_with_a_grid(live):
    run, _ctl, plain = live()
    xmin, ymin, xmax, ymax = run.site.mine.bounds()
    grid = np.linspace(-10.0, 30.0, 40 * 30).reshape(30, 40)
    _, _, app = live(coverage=Coverage(grid, (xmin, ymin, xmax, ymax)))
    assert ("coverage",) in app.cycle and ("coverage",) not in plain.cycle
    app.overlay_index = app.cycle.index(())
    app.frame(0.0)
    off = pixels(app)
    app.overlay_index = app.cycle.index(("coverage",))
    app.frame(0.0)
    heat = pixels(app)
    cx, cy = (int(v) for v in app.camera.to_screen((xmin + xmax) / 2 + 300, (ymin + ymax) / 2 + 300))
    assert tuple(heat[cx, cy]) != tuple(off[cx, cy])
    assert np.any(heat != off, axis=-1).mean() > 0.3  # most of the map is tinted


def test_static_map_is_painted_again_only_when_the_camera_needs_it(live):
    _run, _ctl, app = live()
    for _ in range(3):
        app.frame(0.0)
    assert app.map_layer.renders == 1
    app.camera.pan(30, -20)  # inside the pre-rendered margin
    app.frame(0.0)
    assert app.map_layer.renders == 1
    app.camera.zoom_at(1.25, 600, 400)
    app.frame(0.0)
    app.frame(0.0)
    assert app.map_layer.renders == 2
    app.camera.pan(2000, 0)  # past the margin
    app.frame(0.0)
    assert app.map_layer.renders == 3


def test_selected_truck_shows_its_perception_fan_and_panel(live):
    run, ctl, app = live()
    spread(run, ticks=2000)
    i = int(np.flatnonzero(np.isin(run.sim.fleet.state, [1, 5]))[0])
    app.camera.scale = 3.0
    app.camera.centre_on(run.sim.fleet.x[i], run.sim.fleet.y[i])
    app.frame(0.0)
    before = pixels(app)
    ctl.select(run.sim.fleet.ids[i])
    app.frame(0.0)
    after = pixels(app)
    t = app.snap.trucks
    reach = float(app.snap.detections["max_range_m"])
    fx, fy = app.camera.to_screen(t.x[i] + 0.5 * reach * np.cos(t.heading[i]),
                                  t.y[i] + 0.5 * reach * np.sin(t.heading[i]))
    assert tuple(after[int(fx), int(fy)]) != tuple(before[int(fx), int(fy)])  # inside the fan, ahead
    right_panel = np.any(after[-300:, :200] != before[-300:, :200], axis=-1).sum()
    assert right_panel > 1000
    rows = dict(truck_rows(app.snap, i))
    assert rows["perception model"] == "small" and rows["destination"] == t.dest[i]


def test_hud_lists_only_the_kpis_present_and_labels_emulated_ones():
    sections = dict(kpi_sections({"tonnes": 1234.5, "loads": 7, "holds": 2, "inference_p99_ms": 41.25,
                                  "link": {"ul_latency_p99_ms": 18.0, "loss": None}}))
    assert [label for label, _ in sections["production"]] == ["tonnes", "loads"]
    assert sections["production"][0][1] == "1,234 t" or sections["production"][0][1] == "1,235 t"
    assert sections["safety"] == [("holds", "2")]
    assert dict(sections[EMULATED_TITLE]) == {"inference p99": "41.2 ms", "link ul latency p99": "18.0 ms"}
    assert "emulated" in EMULATED_TITLE
    assert dict(kpi_sections({"tonnes": 0.0})).keys() == {"production"}


@pytest.mark.parametrize("size", [(1280, 800), (800, 500)])
def test_frame_returns_a_picture_of_the_window_size(live, size):
    _run, _ctl, app = live(size=size)
    assert app.frame(0.0).get_size() == size


def test_sparkline_rate_is_tonnes_over_the_moving_window():
    """1000 t in each 10 minutes is 6000 t/h once a full window has passed; from the shift start before."""
    from types import SimpleNamespace

    from view.series import KpiSeries

    series = KpiSeries(period_s=60.0, window_s=900.0)
    for minute in range(1, 61):
        t = minute * 60.0
        series.record(SimpleNamespace(t=t, kpis={"tonnes": 1000.0 * t / 600.0}))
    t, rate = series.rates()
    assert t[0] == 60.0 and t[-1] == 3600.0
    assert rate == pytest.approx(np.full(len(t), 6000.0))
    late = KpiSeries()
    late.record(SimpleNamespace(t=1800.0, kpis={"tonnes": 1500.0}))  # the view opened mid-shift
    assert late.rates()[1] == pytest.approx([3000.0])


def test_a_truck_in_radio_outage_is_marked(live):
    """A crossed mark appears above a truck whose link is down, and only then."""
    _run, ctl, app = live()
    snap = ctl.snapshot()
    down = np.zeros(len(snap.trucks.ids), dtype=bool)
    app.draw(replace(snap, link_outage=down))
    before = pygame.surfarray.array3d(app.surface)
    down[:] = True
    app.draw(replace(snap, link_outage=down))
    after = pygame.surfarray.array3d(app.surface)
    red = np.all(after == np.array(P.LINK_OUTAGE), axis=2).sum()
    assert red > np.all(before == np.array(P.LINK_OUTAGE), axis=2).sum()


def test_a_loading_area_draws_its_units_and_greys_one_out_of_service(write_map, write_scenario):
    """A loading area's shovels stand around its stop; a unit out of service is drawn grey."""
    from fleetkit import area_map

    from fleet.control import Controller
    from minefleet.assemble import build_run
    from minefleet.scenario import load_scenario

    units = [{"bucket_t": 30, "cycle_s": 40}, {"bucket_t": 30, "cycle_s": 40}, {"bucket_t": 60, "cycle_s": 25}]
    scn = write_scenario(f'[scenario]\nmap = "{write_map(area_map(300.0, units))}"\n[fleet]\ncount = 1\n'
                         'truck_class = "cat-797f"\n')
    run = build_run(load_scenario(scn))
    try:
        sp = run.sim.point_by_id["LA"]
        run.sim._unit_fails(sp, sp.units[1], "maintenance", None)  # empty: out of service at once
        app = App(Controller(run.sim), run.site.mine, size=(900, 600))
        app.frame(0.0)
        pic = pixels(app)
        for unit, up in ((sp.units[0], True), (sp.units[1], False), (sp.units[2], True)):
            px, py = (round(v) for v in app.camera.to_screen(unit.xyz[0], unit.xyz[1]))
            box = {tuple(c) for c in pic[px - 3:px + 4, py - 3:py + 4].reshape(-1, 3)}
            assert (P.SHOVEL in box) == up and (P.SHOVEL_DOWN in box) == (not up)
        assert app.snap.facilities[0].units[1][2] is False
    finally:
        run.close()
