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
In the figures of ``run()`` the spread picture's FPS stands beside the sim picture's (what the worst case costs).
``run(quick=True)``: 60 timed frames after 300 simulated seconds, live pacing 1 s at x1 and x32.
"""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import argparse
import dataclasses
import platform
import time
from typing import Any

import numpy as np

from bench.report import at_least, figure
from fleet.control import Controller
from fleet.snapshot import Snapshot
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario
from view.app import App

SIZE = (1280, 800)  # [px]
TARGETS = {100: 60.0, 500: 30.0}  # [FPS]
FRAME_CAP_S = 1 / 60  # [s] the window loop's frame period
SPREAD_SPEED_MPS = 10.0  # [m/s] how fast the spread trucks move along the roads
TRUCKS = (100, 500)
FRAMES, QUICK_FRAMES = 300, 60
WARMUP_S, QUICK_WARMUP_S = 900.0, 300.0  # [s] simulated before timing
LIVE_S, QUICK_LIVE_S = 3.0, 1.0  # [s] wall per live-pacing row
SPEEDS, QUICK_SPEEDS = (1, 8, 32, 64), (1, 32)


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


def render_rows(n: int, frames: int, warmup_s: float) -> list[dict[str, Any]]:
    """Both pictures at ``n`` trucks: FPS, mean and p95 frame time, map-layer repaints; and a zoom's repaint."""
    scn = load_scenario("open_pit_hazards").resized(n)
    run = build_run(scn)
    rows = []
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
            rows.append({"trucks": n, "fleet": label, "overlays": "+".join(app.overlays), "fps": 1.0 / times.mean(),
                         "mean_ms": times.mean() * 1e3, "p95_ms": float(np.percentile(times, 95) * 1e3),
                         "repaints": app.map_layer.renders})
        started = time.perf_counter()
        app.camera.zoom_at(1.25, 640, 400)
        app.frame(0.0)
        rows[-1]["zoom_repaint_ms"] = 1e3 * (time.perf_counter() - started)
    finally:
        run.close()
    return rows


def live_rows(n: int, speeds: tuple[int, ...], wall_s: float) -> list[dict[str, Any]]:
    """The window loop's pacing, without the window: sim speed achieved while drawing every frame."""
    run = build_run(load_scenario("open_pit_hazards").resized(n))
    rows = []
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
            rows.append({"trucks": n, "asked": speed, "achieved": achieved, "fps": frames / wall, "lag_s": ctl.lag_s})
    finally:
        run.close()
    return rows


def run(quick: bool = False, trucks: tuple[int, ...] = TRUCKS, frames: int | None = None,
        warmup_s: float | None = None, live_s: float | None = None,
        speeds: tuple[int, ...] | None = None) -> dict[str, Any]:
    """Render rows and live-pacing rows for every fleet size; FPS figures against the targets."""
    frames = frames or (QUICK_FRAMES if quick else FRAMES)
    warmup_s = warmup_s or (QUICK_WARMUP_S if quick else WARMUP_S)
    live_s = live_s or (QUICK_LIVE_S if quick else LIVE_S)
    speeds = speeds or (QUICK_SPEEDS if quick else SPEEDS)
    render = [r for n in trucks for r in render_rows(n, frames, warmup_s)]
    live = [r for n in trucks for r in live_rows(n, speeds, live_s)]
    figures = []
    for r in render:
        sim = next(x for x in render if x["trucks"] == r["trucks"] and x["fleet"] == "sim")
        target = TARGETS.get(r["trucks"])
        spread = r["fleet"] == "spread"
        figures.append(figure(f"view {r['trucks']} trucks, {r['fleet']}", r["fps"], "FPS",
                              baseline=sim["fps"] if spread else None, baseline_name="sim picture" if spread else "",
                              target=None if target is None else at_least(r["fps"], target, " FPS")))
    for r in live:
        figures.append(figure(f"live {r['trucks']} trucks at x{r['asked']}", r["achieved"], "x",
                              baseline=r["asked"], baseline_name="asked"))
    return {"figures": figures, "render": render, "live": live, "size": list(SIZE),
            "sdl_driver": os.environ["SDL_VIDEODRIVER"], "frames": frames, "warmup_s": warmup_s, "live_s": live_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trucks", type=int, nargs="+", default=list(TRUCKS))
    parser.add_argument("--frames", type=int, default=FRAMES, help="timed frames per row")
    parser.add_argument("--warmup-s", type=float, default=WARMUP_S, help="simulated seconds before timing [s]")
    parser.add_argument("--live-s", type=float, default=LIVE_S, help="wall seconds per live-pacing row [s]")
    parser.add_argument("--speeds", type=int, nargs="+", default=list(SPEEDS))
    args = parser.parse_args()
    res = run(False, tuple(args.trucks), args.frames, args.warmup_s, args.live_s, tuple(args.speeds))
    print(f"minefleet view, {SIZE[0]}x{SIZE[1]}, SDL driver {os.environ['SDL_VIDEODRIVER']}, open-pit map with "
          f"perception; host {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"{'trucks':>6} {'fleet':>7} {'overlays':>15} {'FPS':>7} {'mean ms':>8} {'p95 ms':>8} {'repaints':>8} "
          f"{'target':>10}")
    for r in res["render"]:
        target = TARGETS.get(r["trucks"])
        verdict = "" if target is None else f"{'meets' if r['fps'] >= target else 'MISSES'} {target:.0f}"
        print(f"{r['trucks']:>6} {r['fleet']:>7} {r['overlays']:>15} {r['fps']:>7.0f} {r['mean_ms']:>8.2f} "
              f"{r['p95_ms']:>8.2f} {r['repaints']:>8} {verdict:>10}")
        if "zoom_repaint_ms" in r:
            print(f"{'':>6} a zoom step repaints the static map layer: that frame took {r['zoom_repaint_ms']:.1f} ms")
    print(f"\nlive pacing ({args.live_s:g} s wall per row, frames capped at 60 Hz)")
    print(f"{'trucks':>6} {'asked':>9} {'achieved':>11} {'ratio':>8} {'FPS':>7} {'lag s':>8}")
    for r in res["live"]:
        print(f"{r['trucks']:>6} {'x' + str(r['asked']):>9} {r['achieved']:>10.1f}x {r['achieved'] / r['asked']:>8.0%} "
              f"{r['fps']:>7.0f} {r['lag_s']:>8.1f}")


if __name__ == "__main__":
    main()
