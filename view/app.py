"""The map view application: one frame = advance the source, take a snapshot, draw it.

``App`` draws onto an off-screen ``pygame.Surface`` until ``run`` opens the window, so ``frame`` works
headless (tests, screenshots, benchmarks). Every command goes through the source (``Controller`` or
``ReplaySource``); the app owns only what is on screen: camera, overlays, selection display, help.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pygame

from fleet.snapshot import Snapshot
from view import palette as P
from view.camera import Camera
from view.coverage import Coverage
from view.draw import draw_facilities, draw_obstacles, draw_trucks
from view.hud import PAD, STATUS_W, Hud
from view.keys import ACTIONS, JUMP_S, WHEEL_ZOOM, help_rows
from view.layers import CachedLayer, MapPainter
from view.overlays import Trails, draw_dispatch, draw_perception, overlay_cycle
from view.panel import draw_help, draw_message, draw_truck_panel
from view.series import KpiSeries
from view.source import Seekable, Source

if TYPE_CHECKING:
    from fleet.mapfile import MineMap

DRAG_START_PX = 4  # [px] a press that moves less than this is a click, not a drag
CLICK_RADIUS_PX = 14  # [px] how near a click must be to a truck to select it
MESSAGE_S = 3.0  # [s] wall time a notice stays up
LAG_WARN_S = 2.0  # [s] behind wall time x speed by more than this: say so


class App:
    def __init__(self, source: Source, mine: MineMap, size: tuple[int, int] = (1280, 800), *,
                 coverage: Coverage | None = None, screenshot_path: str | Path | None = None,
                 title: str = "minefleet", fps: int = 60) -> None:
        self.source = source
        self.mine = mine
        self.title = title
        self.fps = fps  # [Hz] frame cap of the window loop
        self.screenshot_path = Path(screenshot_path) if screenshot_path else None
        self.text = P.TextCache(P.Fonts())
        self.surface = pygame.Surface(size)
        self.camera = Camera(*size)
        self.painter = MapPainter(mine, self.text)
        self.map_layer = CachedLayer(self.painter.paint)
        self.fit()
        self.coverage = coverage
        self.heat_layer = CachedLayer(coverage.paint, alpha=True) if coverage is not None else None
        self.cycle = overlay_cycle(coverage is not None)
        self.overlay_index = 0
        self.trails = Trails()
        self.series = KpiSeries()
        self.hud = Hud(self.text)
        self.replay = isinstance(source, Seekable)
        self.following = False
        self.show_help = False
        self.running = True
        self.wall_s = 0.0  # [s] wall time seen by ``frame``
        self.message, self._message_until = "", 0.0
        self._colours: tuple[tuple[str, ...], np.ndarray] = ((), np.zeros((0, 3), dtype=np.uint8))
        self._mouse: tuple[int, int] = (size[0] // 2, size[1] // 2)
        self._press: tuple[int, int] | None = None
        self._dragging = self._sliding = False
        self.stop_at: float | None = None  # [s] where ``run(after_sim_s=...)`` stops the clock
        self.snap: Snapshot = source.snapshot()

    # -- state ---------------------------------------------------------------------------------------------

    @property
    def overlays(self) -> tuple[str, ...]:
        return self.cycle[self.overlay_index]

    def colours(self, names: list[str]) -> np.ndarray:
        """State colour table for these state names (worked out again only if the names change)."""
        if tuple(names) != self._colours[0]:
            self._colours = (tuple(names), P.state_table(names))
        return self._colours[1]

    def fit(self) -> None:
        """The whole map, beside the left HUD column rather than under it."""
        self.camera.fit(self.painter.bounds, inset=(STATUS_W + 2 * PAD, 0, 0, 0))

    def say(self, message: str) -> None:
        self.message, self._message_until = message, self.wall_s + MESSAGE_S

    def selected(self) -> int | None:
        i = self.source.selected
        return i if i is not None and 0 <= i < len(self.snap.trucks.ids) else None

    # -- one frame -----------------------------------------------------------------------------------------

    def frame(self, wall_dt: float) -> pygame.Surface:
        """Advance the source by ``wall_dt`` [s] of wall time, draw the newest snapshot, return the surface."""
        self.wall_s += wall_dt
        self.source.advance(wall_dt)
        self.snap = self.source.snapshot()
        self.trails.record(self.snap)
        self.series.record(self.snap)
        sel = self.selected()
        if self.following and sel is not None:
            self.camera.centre_on(self.snap.trucks.x[sel], self.snap.trucks.y[sel])
        self.draw(self.snap)
        return self.surface

    def draw(self, snap: Snapshot) -> None:
        surface, cam, on = self.surface, self.camera, self.overlays
        self.hud.rects.clear()
        self.map_layer.blit(surface, cam)
        if "coverage" in on and self.heat_layer is not None:
            self.heat_layer.blit(surface, cam)
        colours = self.colours(snap.state_names)
        if "trails" in on:
            self.trails.draw(surface, cam, snap, colours)
        if "dispatch" in on:
            draw_dispatch(surface, cam, snap)
        sel = self.selected()
        if sel is not None:
            draw_perception(surface, cam, snap, sel)
        draw_facilities(surface, cam, snap.facilities, self.text)
        draw_obstacles(surface, cam, snap.obstacles)
        draw_trucks(surface, cam, snap, colours, self.text, sel)
        self.hud.status(surface, snap, self.header(snap), self.series, colours)
        self.hud.scale_bar(surface, cam.scale)
        if "coverage" in on and self.coverage is not None:
            self.hud.heat_legend(surface, self.coverage.range_db)
        if sel is not None:
            draw_truck_panel(surface, self.hud, snap, sel, colours, self.following)
        if isinstance(self.source, Seekable):
            self.hud.slider(surface, self.slider_rect(), snap.t, self.source.start_s, self.source.end_s)
        if self.show_help:
            draw_help(surface, self.hud, help_rows(self.replay))
        if self.message and self.wall_s < self._message_until:
            draw_message(surface, self.hud, self.message)

    def header(self, snap: Snapshot) -> list[tuple[str, P.Colour]]:
        """The lines under the clock: speed or pause, lag, end of shift, mode, overlays."""
        src = self.source
        lines = [(f"PAUSED   (x{src.speed})" if src.paused else f"x{src.speed} real time",
                  P.HUD_WARN if src.paused else P.HUD_TEXT)]
        if src.lag_s > LAG_WARN_S and not src.paused:
            lines.append((f"behind by {src.lag_s:.0f} s: host too slow for x{src.speed}", P.HUD_WARN))
        if src.until is not None and src.until != self.stop_at and snap.t >= src.until - 1e-6:
            lines.append(("end of run", P.HUD_WARN))
        on = " + ".join(self.overlays) or "off"
        lines.append((f"{'replay, ' if self.replay else ''}overlays: {on}", P.HUD_DIM))
        return lines

    def slider_rect(self) -> pygame.Rect:
        w, h = self.surface.get_size()
        left = STATUS_W + 4 * PAD
        return pygame.Rect(left, h - 22, max(w - left - 200, 40), 8)

    # -- input ---------------------------------------------------------------------------------------------

    def handle(self, event: pygame.event.Event) -> None:
        """One pygame event: keys (see ``view.keys``), wheel zoom, drag pan, click select, window resize."""
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.KEYDOWN:
            action = ACTIONS.get(event.key)
            if action is not None:
                self.act(action, shift=bool(getattr(event, "mod", 0) & pygame.KMOD_SHIFT))
        elif event.type == pygame.MOUSEWHEEL:
            px, py = getattr(event, "pos", None) or self._mouse
            self.camera.zoom_at(WHEEL_ZOOM ** event.y, px, py)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self._mouse = event.pos
            if isinstance(self.source, Seekable) and self.slider_rect().inflate(0, 16).collidepoint(event.pos):
                self._sliding = True
                self._seek_to(event.pos[0])
            else:
                self._press, self._dragging = event.pos, False
        elif event.type == pygame.MOUSEMOTION:
            self._drag(event.pos)
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            if self._press is not None and not self._dragging:
                self._click(event.pos)
            self._press, self._dragging, self._sliding = None, False, False
        elif event.type in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
            w, h = (event.w, event.h) if hasattr(event, "w") else (event.x, event.y)
            self.resize(w, h)

    def _drag(self, pos: tuple[int, int]) -> None:
        last, self._mouse = self._mouse, pos
        if self._sliding:
            self._seek_to(pos[0])
        elif self._press is not None:
            if not self._dragging and abs(pos[0] - self._press[0]) + abs(pos[1] - self._press[1]) >= DRAG_START_PX:
                self._dragging, last = True, self._press
            if self._dragging:
                self.camera.pan(pos[0] - last[0], pos[1] - last[1])
                self.following = False

    def _seek_to(self, px: int) -> None:
        assert isinstance(self.source, Seekable)
        r = self.slider_rect()
        f = min(max((px - r.x) / r.width, 0.0), 1.0)
        self.source.seek(self.source.start_s + f * (self.source.end_s - self.source.start_s))

    def _click(self, pos: tuple[int, int]) -> None:
        if any(r.collidepoint(pos) for r in self.hud.rects):
            return
        x, y = self.camera.to_world(*pos)
        picked = self.source.select_at(float(x), float(y), CLICK_RADIUS_PX / self.camera.scale)
        if picked is None:
            self.following = False

    def act(self, action: str, shift: bool = False) -> None:
        """Run a named action (key bindings and tests call this)."""
        src = self.source
        if action == "pause":
            src.toggle_pause()
        elif action == "faster":
            src.faster()
        elif action == "slower":
            src.slower()
        elif action == "step":
            src.step_once()
        elif action == "next_model":
            self._next_model(everyone=shift)
        elif action == "overlays":
            self.overlay_index = (self.overlay_index + 1) % len(self.cycle)
            self.say(f"overlays: {' + '.join(self.overlays) or 'off'}")
        elif action == "follow":
            self.following = not self.following and self.selected() is not None
            if self.selected() is None:
                self.say("select a truck to follow it")
        elif action == "fit":
            self.fit()
            self.following = False
        elif action == "screenshot":
            self.say(f"screenshot saved to {self.save_screenshot()}")
        elif action == "help":
            self.show_help = not self.show_help
        elif action in ("back", "forward", "start", "end") and isinstance(src, Seekable):
            if action in ("back", "forward"):
                src.jump(-JUMP_S if action == "back" else JUMP_S)
            else:
                src.seek(src.start_s if action == "start" else src.end_s)
        elif action == "quit":
            self.running = False

    def _next_model(self, everyone: bool) -> None:
        sel = self.selected()
        try:
            name = self.source.next_model(everyone=everyone)
        except ValueError as exc:
            self.say(str(exc))
            return
        who = "every truck" if everyone or sel is None else self.snap.trucks.ids[sel]
        self.say(f"perception model {name} on {who}")

    def resize(self, width: int, height: int) -> None:
        """A new window (or off-screen) size; the picture keeps its centre and zoom."""
        display = pygame.display.get_surface() if pygame.display.get_init() else None
        self.surface = display if display is not None else pygame.Surface((width, height))
        self.camera.resize(*self.surface.get_size())

    def save_screenshot(self, path: str | Path | None = None) -> Path:
        """The current picture as PNG: ``path``, the app's screenshot path, or ``minefleet-<t>.png`` here."""
        out = Path(path or self.screenshot_path or Path.cwd() / f"minefleet-{round(self.snap.t):06d}.png")
        out.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self.surface, str(out))
        return out

    # -- the window ----------------------------------------------------------------------------------------

    def run(self, max_wall_s: float | None = None, screenshot: str | Path | None = None,
            after_sim_s: float | None = None) -> int:
        """Open a resizable window and loop until quit; returns the exit status (0). See ``view.window``."""
        from view.window import run_window

        return run_window(self, max_wall_s, screenshot, after_sim_s)
