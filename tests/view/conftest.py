"""View tests render off-screen: SDL's dummy video driver, so no test needs (or opens) a real display."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from viewkit import MODELS, make_run

from fleet.control import Controller
from minefleet.assemble import Run
from view.app import App


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


def _share_root_helpers() -> None:
    """Keep ``from conftest import ...`` (the tests root's helpers) working in other test folders.

    pytest imports every folder's conftest under the one module name ``conftest``; when it is given several
    paths it imports this one before collecting their tests, so those imports would find this module. It
    therefore carries the root conftest's public names too.
    """
    spec = importlib.util.spec_from_file_location("_minefleet_tests_root", Path(__file__).parents[1] / "conftest.py")
    assert spec is not None and spec.loader is not None
    root = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(root)
    for name, value in vars(root).items():
        fixture = hasattr(value, "_fixture_function_marker") or hasattr(value, "_pytestfixturefunction")
        if not name.startswith("_") and not fixture:  # fixtures reach here through pytest itself
            globals().setdefault(name, value)


_share_root_helpers()
