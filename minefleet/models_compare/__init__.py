"""``minefleet models compare``: the model swap experiment (perception model x chip x dust, over seeds) as one
command on the sweep machinery.

Every input is checked before the first run, so a typo costs no half-made output folder: each model named by path
against the ``scan-sectors/1`` contract and for the detection range its card must carry, each device and dust level
by the scenario format itself. The grid ``edge.model`` x ``edge.device`` x ``hazards.dust`` is then built as a sweep
(``minefleet.sweep.spec.build_sweep``) and made by ``minefleet.sweep.make_sweep``: the executors, run directories,
resume and ``results.csv`` / ``summary.csv`` / ``summary.md`` of ``minefleet sweep``, nothing of its own. Over the
finished runs it writes ``models.csv`` and ``models.md`` (``table``) and ``frontier.png`` (``frontier``).

The same grid in a sweep file (``scenarios/sweeps/models.toml``: the keys in this order, dust levels written as
floats) names its cells alike, so the runs one makes serve the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from edge.contract import ModelError, SensorSpec, inspect_model
from edge.perception import BUILTIN
from fleet.errors import InputError
from minefleet.models_compare.frontier import plot_frontier
from minefleet.models_compare.table import (
    DEVICE_KEY,
    DUST_KEY,
    MODEL_KEY,
    Labels,
    markdown_table,
    model_rows,
    write_tables,
)
from minefleet.overrides import OverrideError, load_overridden
from minefleet.paths import data_dir, resolve
from minefleet.scenario import Scenario
from minefleet.sweep import make_sweep, output_dirs
from minefleet.sweep.spec import MAX_SEEDS, build_sweep, value_text

NAME = "models_compare"  # the sweep's name: its progress bar, its tables' title, its default folder runs/<NAME>
SOURCE = "minefleet models compare"  # what a refusal of the built grid names in place of a sweep file
DEFAULT_SCENARIO = "open_pit_hazards"
DEFAULT_SEEDS = 10
ZOO = ("tiny", "small", "large", "small-int8")  # the shipped perception models (assets/models), the default --models


def compare_models(models: Sequence[str] | None = None, devices: Sequence[str] | None = None,
                   dust: Sequence[float] | None = None, *, seeds: int = DEFAULT_SEEDS,
                   scenario: str | Path = DEFAULT_SCENARIO, hours: float | None = None, out: Path | None = None,
                   runs_dir: Path | None = None, executor: str = "local", workers: int | None = None,
                   address: str | None = None, quiet: bool = False, dry_run: bool = False) -> int:
    """Check everything, make the runs not yet complete, write the tables and the frontier; the exit status (1:
    some run failed, its cell's figures then come from the seeds that finished).

    ``models`` default to the zoo, ``devices`` and ``dust`` to the scenario's own (one level each); seeds are
    0..seeds-1; ``out`` (default ``runs/models_compare``) gets the tables, ``runs_dir`` (default ``out/runs``) the
    run directories. The rest is ``make_sweep``'s.
    """
    scenario_path = resolve(str(scenario), "scenarios", ".toml")
    scn = load_overridden(scenario_path)
    _check_scenario(scn)
    if not 1 <= seeds <= MAX_SEEDS:
        raise InputError("--seeds", "", f"must be a count of 1..{MAX_SEEDS}, got {seeds}")
    labels: Labels = {}
    grid: dict[str, list[Any]] = {
        MODEL_KEY: _axis(labels, MODEL_KEY, "--models", models or ZOO, lambda ref: _model(ref, scn)),
        DEVICE_KEY: _axis(labels, DEVICE_KEY, "--devices", devices or [scn.edge.device],
                          lambda dev: _device(dev, scenario_path)),
        DUST_KEY: _axis(labels, DUST_KEY, "--dust", dust if dust is not None else [scn.edge.dust],
                        lambda level: _dust(level, scenario_path)),
    }
    sweep = build_sweep(SOURCE, NAME, scenario_path, tuple(range(seeds)), hours, grid)
    status = make_sweep(sweep, out, runs_dir=runs_dir, executor=executor, workers=workers, address=address,
                        quiet=quiet, dry_run=dry_run)
    if dry_run:
        return status
    out, runs_dir = output_dirs(sweep, out, runs_dir)
    rows = model_rows(sweep, runs_dir, labels)
    written = write_tables(rows, sweep, out)
    written.append(plot_frontier(rows, sweep, out / "frontier.png"))
    print("\n".join(markdown_table(rows)))
    print("model tables: " + ", ".join(str(p) for p in written))
    return status


def _check_scenario(scn: Scenario) -> None:
    """A comparison needs perception on every truck, one model for all, and emulated latencies to report."""
    if scn.edge is None:
        raise InputError(scn.path, "", "has no [edge] table: a model comparison needs perception on the trucks "
                                       f"(e.g. {DEFAULT_SCENARIO})")
    if scn.edge.truck_models:
        raise InputError(scn.path, "[[edge.trucks]]", "gives some trucks a model of their own: a model swap puts "
                                                      "one model on every truck")
    if scn.edge.timing != "emulated":
        raise InputError(scn.path, "[edge]", f"'timing' is {scn.edge.timing!r}: the comparison reports emulated "
                                             "latencies, so the same chip gives the same figures on any host")


def _axis(labels: Labels, key: str, option: str, given: Sequence[Any], check: Callable[[Any], Any]) -> list[Any]:
    """The grid's values for one key, each checked (``check`` gives the value to run), and their labels as given."""
    values: list[Any] = []
    for item in given:
        value = check(item)
        if value in values:
            raise InputError(option, "", f"{item!r} is given twice")
        values.append(value)
        labels[(key, value_text(value))] = value_text(item)
    return values


def _model(ref: str, scn: Scenario) -> str:
    """A model to run: ``oracle``, ``blind``, a zoo name, or an ONNX path (made absolute, so a run finds it from
    any folder or Ray node) that keeps the contract and says how far it sees at every dust level."""
    if ref in BUILTIN:
        return ref
    by_path = Path(ref).suffix == ".onnx"  # as make_perception tells a path from a zoo name
    path = Path(ref) if by_path else data_dir("assets") / "models" / f"{ref}.onnx"
    if not by_path and not path.is_file():
        raise ModelError(ref, f"no such model (zoo: {', '.join(ZOO)}; {', '.join(BUILTIN)}; or an ONNX path)")
    info = inspect_model(path, SensorSpec())
    if scn.edge.detect_range_m is None and info.detect_range_m(scn.edge.dust) is None:
        raise ModelError(path, "carries no held-out detection range (card metadata); set [edge] detect_range_m "
                               "in the scenario")
    return str(path.resolve()) if by_path else ref


def _device(device: str, scenario_path: Path) -> str:
    """A chip the scenario format accepts; ``none`` is refused, its latency being a fixed placeholder."""
    if device == "none":
        raise InputError("--devices", "", "'none' has a fixed placeholder latency, nothing emulated to compare: "
                                          "name a chip (e.g. ascend-310)")
    value = str(Path(device).resolve()) if device.endswith(".toml") else device
    try:
        load_overridden(scenario_path, [(DEVICE_KEY, value)])
    except OverrideError as exc:
        raise InputError("--devices", device, exc.problem) from None
    return value


def _dust(level: float, scenario_path: Path) -> float:
    """A dust level the scenario format accepts, as a float (0 and 0.0 are one cell)."""
    try:
        load_overridden(scenario_path, [(DUST_KEY, float(level))])
    except OverrideError as exc:
        raise InputError("--dust", f"{level:g}", exc.problem) from None
    return float(level)
