"""The live and replay map views, wired from the CLI: the view sees snapshots and the command API only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fleet.control import Controller
from fleet.errors import InputError
from fleet.mapfile import load_map
from minefleet.assemble import Run
from minefleet.paths import data_dir
from minefleet.scenario import load_scenario

BUILTIN_MODELS = ("oracle", "blind")
COVERAGE_RES_M = 25.0  # [m] cell of the gNB SINR heat overlay


def swappable_models() -> list[str]:
    """The zoo's models in file order, then the references: what the M key cycles through."""
    zoo = sorted(p.stem for p in (data_dir("assets") / "models").glob("*.onnx"))
    return [*zoo, *BUILTIN_MODELS]


def _coverage(run: Run) -> Any:
    from view.coverage import Coverage

    grid_fn = getattr(run.link, "sinr_grid", None)
    if grid_fn is None:
        return None
    bounds = run.site.mine.bounds()
    return Coverage(grid_fn(*bounds, COVERAGE_RES_M), bounds, res_m=COVERAGE_RES_M)


def live(run: Run, screenshot: Path | None, after_s: float | None, max_wall_s: float | None, speed: int) -> int:
    """Open the map view on a running simulation; returns the exit status."""
    from view.app import App

    ctl = Controller(run.sim, swappable_models())
    ctl.until = run.scenario.hours * 3600.0
    ctl.set_speed(speed)
    app = App(ctl, run.site.mine, coverage=_coverage(run), screenshot_path=screenshot,
              title=f"minefleet - {run.scenario.name}")
    return app.run(max_wall_s=max_wall_s, screenshot=screenshot, after_sim_s=after_s)


def replay(run_dir: Path, screenshot: Path | None, max_wall_s: float | None) -> int:
    """Play a recorded run's trace in the same view, seekable."""
    from view.app import App
    from view.replay import ReplaySource

    if not (run_dir / "trace.npz").is_file():
        raise InputError(str(run_dir), "", "not a run directory (no trace.npz)")
    scn_file = run_dir / "scenario.toml"
    resolved = load_scenario(scn_file) if scn_file.is_file() else None
    if resolved is None:
        raise InputError(str(run_dir), "", "not a run directory (no scenario.toml)")
    mine = load_map(resolved.map_path)
    source = ReplaySource.from_run_dir(run_dir, mine=mine, truck_class=resolved.groups[0].truck_class)
    app = App(source, mine, screenshot_path=screenshot, title=f"minefleet replay - {run_dir.name}")
    return app.run(max_wall_s=max_wall_s, screenshot=screenshot)
