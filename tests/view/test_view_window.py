"""The window loop (``App.run``) on SDL's dummy driver: it stops where asked and leaves a screenshot."""

from __future__ import annotations

import pygame
import pytest


def test_run_until_a_sim_time_saves_the_screenshot_and_exits_zero(live, tmp_path):
    run, ctl, app = live(size=(960, 600))
    ctl.paused = False
    ctl.set_speed(64)
    target = run.sim.t + 2.0  # [s]
    shot = tmp_path / "after.png"
    assert app.run(screenshot=shot, after_sim_s=target) == 0
    assert run.sim.t == pytest.approx(target, abs=run.sim.params.dt)
    assert run.sim.t <= target + 1e-6  # the clock stops at the requested time, it does not overshoot
    assert pygame.image.load(str(shot)).get_size() == (960, 600)
    assert not pygame.display.get_init()
    assert app.surface.get_size() == (960, 600)  # the last picture outlives the window


def test_closing_the_window_ends_the_loop_with_status_zero(live, monkeypatch):
    _run, _ctl, app = live(size=(640, 400))
    monkeypatch.setattr(pygame.event, "get", lambda: [pygame.event.Event(pygame.QUIT)])
    assert app.run(max_wall_s=30.0) == 0
    assert not app.running


def test_wall_time_limit_ends_the_loop_and_saves_when_asked(live, tmp_path):
    _run, _ctl, app = live(size=(640, 400))
    assert app.run(max_wall_s=0.2, screenshot=tmp_path / "wall.png") == 0
    assert (tmp_path / "wall.png").is_file()
