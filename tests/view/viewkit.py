"""Helpers shared by the view tests (a uniquely named module: ``conftest`` is taken by the tests root)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pygame

from minefleet.assemble import Run, build_run
from minefleet.scenario import load_scenario
from view.app import App

MODELS = ["small", "tiny", "oracle"]  # perception models the tests cycle through


def make_run(name: str = "open_pit_hazards", **changes: Any) -> Run:
    scn = load_scenario(name)
    return build_run(dataclasses.replace(scn, **changes) if changes else scn)


def spread(run: Run, app: App | None = None, ticks: int = 3000, every: int = 50) -> None:
    """Step the simulation (trucks leave the park one by one), letting the app see every ``every`` ticks."""
    for k in range(ticks):
        run.sim.step()
        if app is not None and k % every == every - 1:
            app.frame(0.0)


def pixels(app: App) -> np.ndarray:
    """The picture as a ``[w, h, 3]`` array (a copy)."""
    return pygame.surfarray.array3d(app.surface)


def key(app: App, k: int, mod: int = 0) -> None:
    """A key press delivered the way the window loop delivers it."""
    app.handle(pygame.event.Event(pygame.KEYDOWN, key=k, mod=mod, unicode="", scancode=0))
