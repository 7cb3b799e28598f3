"""Map view speed: frames per second at 1280x800 on SDL's dummy driver, and live pacing while drawing.

    python -m bench.view_fps [--trucks 100 500] [--frames 300] [--warmup-s 900] [--live-s 3]

Rendering only: the simulation is stepped between frames outside the timed part (the app's controller is
paused, so ``App.frame`` takes the snapshot and draws). Two pictures per fleet size:
  sim     the scenario after ``--warmup-s`` of simulation (many trucks still wait at the park, where their
          trails cost nothing);
  spread  the same snapshot with every truck placed along the roads and moving, so every truck draws a
          trail and a dispatch line: the worst case for the dynamic layer.
Targets: >= 60 FPS at 100 trucks, >= 30 FPS at 500.
Then live mode: the window loop's pacing (frame cap 60 Hz, ``Controller.advance`` inside ``App.frame``) for
``--live-s`` wall seconds per speed, printing the simulation speed achieved against the speed asked for.
"""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import argparse
import dataclasses
import platform
import time

import numpy as np

from fleet.control import Controller
from fleet.snapshot import Snapshot
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario
from view.app import App

SIZE = (1280, 800)  # [px]
TARGETS = {100: 60.0, 500: 30.0}  # [FPS]
FRAME_CAP_S = 1 / 60  # [s] the window loop's frame period
SPREAD_SPEED_MPS = 10.0  # [m/s] how fast the spread trucks move along the roads


class Spread:
    """A source wrapper that puts every truck somewhere along the roads, moving (worst case for drawing)."""

    def __init__(self, ctl: Controller, mine) -> None:
        self.ctl = ctl
        path = np.vstack([r.coords[:, :2] for r in mine.roads])
        seg = np.hypot(*np.diff(path, axis=0).T)
        self.path, self.s = path, np.concatenate([[0.0], np.cumsum(seg)])  # [m] along the joined roads
        self.t0 = ctl.snapshot().t

    def __getattr__(self, name: str):
        return getattr(self.ctl, name)

    def snapshot(self) -> Snapshot:
        snap = self.ctl.snapshot()
        n = len(snap.trucks.ids)
        s = (np.arange(n) / n * self.s[-1] + (snap.t - self.t0) * SPREAD_SPEED_MPS) % self.s[-1]
        x, y = np.interp(s, self.s, self.path[:, 0]), np.interp(s, self.s, self.path[:, 1])
        ahead = (s + 1.0) % self.s[-1]
        hx, hy = np.interp(ahead, self.s, self.path[:, 0]), np.interp(ahead, self.s, self.path[:, 1])
        heading = np.arctan2(hy - y, hx - x)
        trucks = dataclasses.replace(snap.trucks, x=x, y=y, heading=heading)
        return dataclasses.replace(snap, trucks=trucks)


def timed_frames(app: App, run, frames: int, ticks_between: int) -> np.ndarray:
    """Host time [s] of each ``App.frame``; the simulation steps between frames, untimed."""
    out = np.empty(frames)
    for k in range(frames):
        for _ in range(ticks_between):
            run.sim.step()
        started = time.perf_counter()
        app.frame(0.0)
        out[k] = time.perf_counter() - started
    return out


def render_rows(n: int, frames: int, warmup_s: float) -> None:
    scn = load_scenario("open_pit_hazards").resized(n)
    run = build_run(scn)
    try:
        while run.sim.t < warmup_s:
            run.sim.step()
        ctl = Controller(run.sim, ["small"])
        ctl.paused = True
        moving = np.flatnonzero(np.isin(run.sim.fleet.state, [1, 5]))
        if moving.size:
            ctl.select(run.sim.fleet.ids[int(moving[0])])
        for label, source in (("sim", ctl), ("spread", Spread(ctl, run.site.mine))):
            app = App(source, run.site.mine, SIZE)
            if label == "spread":
                app.overlay_index = app.cycle.index(("trails", "dispatch"))
            timed_frames(app, run, 40, 5)  # warm caches and trails
            times = timed_frames(app, run, frames, 5)
            fps = 1.0 / times.mean()
            target = TARGETS.get(n)
            verdict = "" if target is None else f"{'meets' if fps >= target else 'MISSES'} {target:.0f}"
            print(f"{n:>6} {label:>7} {'+'.join(app.overlays):>15} {fps:>7.0f} {times.mean() * 1e3:>8.2f} "
                  f"{np.percentile(times, 95) * 1e3:>8.2f} {app.map_layer.renders:>8} {verdict:>10}")
        started = time.perf_counter()
        app.camera.zoom_at(1.25, 640, 400)
        app.frame(0.0)
        repaint_ms = 1e3 * (time.perf_counter() - started)
        print(f"{'':>6} a zoom step repaints the static map layer: that frame took {repaint_ms:.1f} ms")
    finally:
        run.close()


def live_rows(n: int, speeds: list[int], wall_s: float) -> None:
    """The window loop's pacing, without the window: sim speed achieved while drawing every frame."""
    run = build_run(load_scenario("open_pit_hazards").resized(n))
    try:
        ctl = Controller(run.sim, ["small"])
        app = App(ctl, run.site.mine, SIZE)
        for speed in speeds:
            ctl.set_speed(speed)
            ctl.lag_s = 0.0
            t0, started, last, frames = run.sim.t, time.perf_counter(), time.perf_counter(), 0
            while (now := time.perf_counter()) - started < wall_s:
                app.frame(min(now - last, 0.25))
                frames += 1
                last = now
                rest = FRAME_CAP_S - (time.perf_counter() - now)
                if rest > 0:
                    time.sleep(rest)
            wall = time.perf_counter() - started
            achieved = (run.sim.t - t0) / wall
            print(f"{n:>6} {'x' + str(speed):>9} {achieved:>10.1f}x {achieved / speed:>8.0%} {frames / wall:>7.0f} "
                  f"{ctl.lag_s:>8.1f}")
    finally:
        run.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trucks", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--frames", type=int, default=300, help="timed frames per row")
    parser.add_argument("--warmup-s", type=float, default=900.0, help="simulated seconds before timing [s]")
    parser.add_argument("--live-s", type=float, default=3.0, help="wall seconds per live-pacing row [s]")
    parser.add_argument("--speeds", type=int, nargs="+", default=[1, 8, 32, 64])
    args = parser.parse_args()
    print(f"minefleet view, {SIZE[0]}x{SIZE[1]}, SDL driver {os.environ['SDL_VIDEODRIVER']}, open-pit map with "
          f"perception; host {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"{'trucks':>6} {'fleet':>7} {'overlays':>15} {'FPS':>7} {'mean ms':>8} {'p95 ms':>8} {'repaints':>8} "
          f"{'target':>10}")
    for n in args.trucks:
        render_rows(n, args.frames, args.warmup_s)
    print(f"\nlive pacing ({args.live_s:g} s wall per row, frames capped at 60 Hz)")
    print(f"{'trucks':>6} {'asked':>9} {'achieved':>11} {'ratio':>8} {'FPS':>7} {'lag s':>8}")
    for n in args.trucks:
        live_rows(n, args.speeds, args.live_s)


if __name__ == "__main__":
    main()
