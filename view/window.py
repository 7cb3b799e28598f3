"""The window loop: events in, one ``App.frame`` per display refresh, frames capped at ``App.fps``.

The window exists only here: ``App`` draws off-screen until this opens the display, and keeps the last
picture when it closes.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pygame

if TYPE_CHECKING:
    from view.app import App

MAX_FRAME_S = 0.25  # [s] a longer stall (window dragged, host busy) is not chased by the clock


def run_window(app: App, max_wall_s: float | None = None, screenshot: str | Path | None = None,
               after_sim_s: float | None = None) -> int:
    """Open a resizable window and loop until quit; returns the exit status (0).

    ``after_sim_s`` [s]: stop when the clock reaches it (the source's ``until`` holds it there), saving
    ``screenshot`` (or the app's default path). ``max_wall_s`` [s]: stop after this much wall time, saving
    ``screenshot`` if one was asked for.
    """
    pygame.display.init()
    app.surface = pygame.display.set_mode(app.surface.get_size(), pygame.RESIZABLE)
    pygame.display.set_caption(app.title)
    src = app.source
    if after_sim_s is not None:
        src.until = app.stop_at = after_sim_s if src.until is None else min(src.until, after_sim_s)
    clock = pygame.time.Clock()
    started = time.perf_counter()
    try:
        while app.running:
            for event in pygame.event.get():
                app.handle(event)
            if not app.running:
                break
            app.frame(min(clock.tick(app.fps) / 1000.0, MAX_FRAME_S))
            pygame.display.flip()
            if after_sim_s is not None and src.until is not None and app.snap.t >= src.until - 1e-6:
                app.save_screenshot(screenshot)
                break
            if max_wall_s is not None and time.perf_counter() - started >= max_wall_s:
                if screenshot is not None:
                    app.save_screenshot(screenshot)
                break
    finally:
        app.surface = app.surface.copy()  # the last picture outlives the window
        pygame.display.quit()
    return 0
