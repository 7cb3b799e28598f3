"""View tests render off-screen: SDL's dummy video driver, so no test needs (or opens) a real display."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from viewkit import MODELS, make_run  # noqa: E402

from fleet.control import Controller  # noqa: E402
from minefleet.assemble import Run  # noqa: E402
from view.app import App  # noqa: E402


@pytest.fixture
def live() -> Iterator[Callable[..., tuple[Run, Controller, App]]]:
    """A paused live app over a fresh run: tests step the simulation themselves, so no result hangs on wall time."""
    runs: list[Run] = []

    def make(name: str = "open_pit_hazards", **app_args: Any) -> tuple[Run, Controller, App]:
        run = make_run(name)
        runs.append(run)
        ctl = Controller(run.sim, list(MODELS))
        ctl.paused = True
        return run, ctl, App(ctl, run.site.mine, **app_args)

    yield make
    for run in runs:
        run.close()
