"""Keys and mouse go through the command API: model swaps, time control, screenshots, zoom, pan, select."""

from __future__ import annotations

import numpy as np
import pygame
import pytest
from viewkit import key, spread


def moving_truck(run) -> int:
    return int(np.flatnonzero(np.isin(run.sim.fleet.state, [1, 5]))[0])


def click(app, pos: tuple[int, int]) -> None:
    app.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=pos))
    app.handle(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=pos))


def test_m_swaps_the_selected_trucks_model_and_the_next_snapshot_names_it(live):
    run, ctl, app = live()
    spread(run, ticks=600)
    app.frame(0.0)
    i = moving_truck(run)
    px, py = app.camera.to_screen(run.sim.fleet.x[i], run.sim.fleet.y[i])
    click(app, (round(px), round(py)))
    assert ctl.selected == i
    key(app, pygame.K_m)
    app.frame(0.0)
    models = app.snap.trucks.model
    assert models[i] == "tiny"
    assert all(m == "small" for k, m in enumerate(models) if k != i)
    assert "tiny" in app.message and app.snap.trucks.ids[i] in app.message


def test_shift_m_puts_the_next_model_on_every_truck(live):
    run, ctl, app = live()
    ctl.select(run.sim.fleet.ids[0])
    key(app, pygame.K_m)  # T001: small -> tiny
    key(app, pygame.K_m, mod=pygame.KMOD_LSHIFT)  # all: after tiny comes oracle
    app.frame(0.0)
    assert set(app.snap.trucks.model) == {"oracle"}
    assert "every truck" in app.message


def test_model_key_without_perception_is_refused_with_a_message(live):
    _run, _ctl, app = live("open_pit")
    key(app, pygame.K_m)
    assert "no perception" in app.message


def test_time_keys_pause_step_and_change_speed(live):
    run, ctl, app = live()
    key(app, pygame.K_SPACE)
    assert not ctl.paused
    key(app, pygame.K_SPACE)
    assert ctl.paused
    t0 = run.sim.t
    key(app, pygame.K_PERIOD)
    assert run.sim.t == pytest.approx(t0 + run.sim.params.dt)
    app.frame(1.0)  # paused: wall time buys nothing
    assert run.sim.t == pytest.approx(t0 + run.sim.params.dt)
    for _ in range(3):
        key(app, pygame.K_PLUS)
    assert ctl.speed == 8
    key(app, pygame.K_MINUS)
    assert ctl.speed == 4
    for _ in range(10):
        key(app, pygame.K_EQUALS)
    assert ctl.speed == 64


def test_live_frame_advances_the_clock_by_wall_time_times_speed(live):
    """Paced by the wall time handed to ``frame``, not by how fast the host draws."""
    run, ctl, app = live()
    ctl.paused = False
    ctl.set_speed(4)
    t0 = run.sim.t
    app.frame(0.5)
    assert run.sim.t - t0 + ctl.lag_s == pytest.approx(2.0, abs=run.sim.params.dt)


def test_s_writes_a_png_of_the_window_size(live, tmp_path):
    _run, _ctl, app = live(size=(900, 600), screenshot_path=tmp_path / "shot.png")
    app.frame(0.0)
    key(app, pygame.K_s)
    data = (tmp_path / "shot.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert pygame.image.load(str(tmp_path / "shot.png")).get_size() == (900, 600)


def test_screenshot_without_a_path_lands_in_the_working_directory(live, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run, _ctl, app = live()
    spread(run, ticks=20)
    app.frame(0.0)
    path = app.save_screenshot()
    assert path.parent == tmp_path and path.name == "minefleet-000002.png" and path.is_file()


def test_wheel_zoom_keeps_the_point_under_the_cursor(live):
    _run, _ctl, app = live()
    cursor = (900, 300)
    app.handle(pygame.event.Event(pygame.MOUSEMOTION, pos=cursor, rel=(0, 0), buttons=(0, 0, 0)))
    world = app.camera.to_world(*cursor)
    scale = app.camera.scale
    app.handle(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=2, flipped=False))
    assert app.camera.scale == pytest.approx(scale * 1.25 ** 2)
    assert app.camera.to_world(*cursor) == pytest.approx(world)
    app.handle(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=-1, flipped=False))
    assert app.camera.to_world(*cursor) == pytest.approx(world)


def test_drag_pans_so_the_grabbed_point_follows_the_mouse(live):
    _run, ctl, app = live()
    world = app.camera.to_world(600, 400)
    app.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(600, 400)))
    for pos in ((603, 401), (650, 420), (700, 450)):
        app.handle(pygame.event.Event(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(1, 0, 0)))
    app.handle(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=(700, 450)))
    assert app.camera.to_world(700, 450) == pytest.approx(world)
    assert ctl.selected is None  # a drag is not a click


def test_click_on_empty_ground_clears_the_selection(live):
    run, ctl, app = live()
    ctl.select(run.sim.fleet.ids[3])
    click(app, (1270, 790))
    assert ctl.selected is None


def test_f_follows_the_selected_truck(live):
    run, ctl, app = live()
    spread(run, ticks=600)
    i = moving_truck(run)
    ctl.select(run.sim.fleet.ids[i])
    key(app, pygame.K_f)
    spread(run, ticks=50)
    app.frame(0.0)
    w, h = app.surface.get_size()
    assert app.camera.to_screen(run.sim.fleet.x[i], run.sim.fleet.y[i]) == pytest.approx((w / 2, h / 2))
    key(app, pygame.K_r)  # fit: following stops
    assert not app.following


def test_help_and_quit_keys(live):
    _run, _ctl, app = live()
    key(app, pygame.K_h)
    assert app.show_help
    app.frame(0.0)
    key(app, pygame.K_ESCAPE)
    assert not app.running
    _, _, other = live()
    key(other, pygame.K_q)
    assert not other.running


def test_resize_keeps_the_centre_and_draws_at_the_new_size(live):
    _run, _ctl, app = live()
    centre = app.camera.to_world(640, 400)
    app.handle(pygame.event.Event(pygame.VIDEORESIZE, w=1000, h=700, size=(1000, 700)))
    assert app.frame(0.0).get_size() == (1000, 700)
    assert app.camera.to_world(500, 350) == pytest.approx(centre)
