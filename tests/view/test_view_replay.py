"""Replay of a run directory: seeks land on the right time and positions, through the same App as live runs."""

from __future__ import annotations

import numpy as np
import pygame
import pytest
from viewkit import key

from fleet.mapfile import load_map
from minefleet.cli import main
from view.app import App
from view.replay import ReplaySource, run_map_path
from view.source import Seekable, Source


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """Half an hour of the open-pit scenario (the first loads reach the dumps), by ``minefleet run --headless``."""
    out = tmp_path_factory.mktemp("replay") / "run"
    assert main(["run", "open_pit", "--headless", "--quiet", "--hours", "0.5", "--out", str(out)]) == 0
    return out


@pytest.fixture
def replay(run_dir):
    mine = load_map(run_map_path(run_dir))
    return ReplaySource.from_run_dir(run_dir, mine=mine), mine


def test_replay_and_controller_share_the_source_interface(replay):
    from fleet.control import Controller

    src, _ = replay
    assert isinstance(src, Source) and isinstance(src, Seekable)
    # issubclass() refuses protocols with data members: check the seek methods a live run must not offer.
    assert not any(hasattr(Controller, m) for m in ("seek", "jump"))


def test_seek_lands_on_the_recorded_sample(replay, run_dir):
    src, _ = replay
    with np.load(run_dir / "trace.npz") as data:
        t, xyhvp, state, ids = data["t"], data["xyhvp"], data["state"], data["trucks"]
    k = int(np.searchsorted(t, 300.0))
    assert t[k] == pytest.approx(300.0)
    src.seek(300.0)
    snap = src.snapshot()
    assert snap.t == pytest.approx(300.0)
    assert snap.trucks.x == pytest.approx(xyhvp[k, 0])
    assert snap.trucks.y == pytest.approx(xyhvp[k, 1])
    assert snap.trucks.state.tolist() == state[k].tolist()
    assert snap.trucks.ids == [str(s) for s in ids]


def test_between_samples_trucks_are_interpolated(replay, run_dir):
    src, _ = replay
    with np.load(run_dir / "trace.npz") as data:
        t, xyhvp = data["t"], data["xyhvp"]
    k = int(np.searchsorted(t, 300.0))
    src.seek((t[k] + t[k + 1]) / 2)
    assert src.snapshot().trucks.x == pytest.approx((xyhvp[k, 0] + xyhvp[k + 1, 0]) / 2, abs=1e-3)


def test_bracket_home_and_end_keys_jump_through_the_app(replay):
    src, mine = replay
    app = App(src, mine, size=(800, 500))
    src.paused = True
    src.seek(200.0)
    key(app, pygame.K_RIGHTBRACKET)
    app.frame(0.0)
    assert app.snap.t == pytest.approx(260.0)
    key(app, pygame.K_LEFTBRACKET)
    key(app, pygame.K_LEFTBRACKET)
    app.frame(0.0)
    assert app.snap.t == pytest.approx(140.0)
    key(app, pygame.K_END)
    assert src.t == pytest.approx(src.end_s)
    key(app, pygame.K_HOME)
    assert src.t == pytest.approx(src.start_s)
    key(app, pygame.K_LEFTBRACKET)
    assert src.t == pytest.approx(src.start_s)  # clamped


def test_clicking_the_time_bar_seeks_proportionally(replay):
    src, mine = replay
    app = App(src, mine)
    app.frame(0.0)
    bar = app.slider_rect()
    pos = (bar.x + bar.width // 2, bar.centery)
    app.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=pos))
    app.handle(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=pos))
    mid = (src.start_s + src.end_s) / 2
    assert src.t == pytest.approx(mid, abs=(src.end_s - src.start_s) / bar.width + 1e-6)


def test_playback_runs_at_speed_and_stops_at_the_end(replay):
    src, _ = replay
    src.seek(100.0)
    src.faster()
    src.faster()
    src.advance(2.5)  # x4
    assert src.t == pytest.approx(110.0)
    src.advance(1e6)
    assert src.t == pytest.approx(src.end_s) and src.paused


def test_replay_kpis_follow_the_recording(replay, run_dir):
    """Tonnes read off the payload match what the run's summary says at the end."""
    import json

    src, _mine = replay
    src.seek(src.end_s)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert src.snapshot().kpis["tonnes"] == pytest.approx(summary["tonnes"])
    assert src.snapshot().kpis["loads"] == summary["loads"]


def test_replay_refuses_model_swaps_with_a_message(replay):
    src, mine = replay
    app = App(src, mine)
    src.select(src.ids[0])
    key(app, pygame.K_m)
    assert "recording" in app.message


def test_replay_of_a_mixed_fleet_sizes_each_truck_by_its_class(tmp_path):
    """The trace stores each truck's class, size and capacity: a replay draws 363 t and 90 t trucks true."""
    out = tmp_path / "mixed"
    assert main(["run", "open_pit_mixed", "--headless", "--quiet", "--hours", "0.05", "--out", str(out)]) == 0
    src = ReplaySource.from_run_dir(out, mine=load_map(run_map_path(out)))
    with np.load(out / "trace.npz") as trace:
        classes = [str(c) for c in trace["truck_class"]]
    assert classes[:12] == ["cat-797f"] * 12 and classes[-16:] == ["xcmg-znk95"] * 16
    snap = src.snapshot()
    assert snap.trucks.length_m[0] == pytest.approx(15.58) and snap.trucks.length_m[-1] == pytest.approx(10.0)
    assert snap.trucks.capacity_t[0] == 363.0 and snap.trucks.capacity_t[-1] == 90.0
