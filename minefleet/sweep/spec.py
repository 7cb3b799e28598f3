"""Sweep files (TOML): which runs a sweep makes, every input checked before the first run starts.

```toml
[sweep]
scenario = "open_pit"     # a shipped scenario's name, or a path (relative to this file's folder)
seeds = 5                 # 5 = seeds 0, 1, 2, 3, 4; or a list of seeds, e.g. [0, 1, 2]
hours = 2.0               # optional: every run's shift length [h] (default: the scenario's)

[grid]                    # optional: every combination of these values is a cell
"fleet.count" = [20, 30, 40]
"cloud.planner" = ["min_wait", "lp_flow"]

[[cases]]                 # optional, repeatable: one more cell each, after the grid's
"fleet.count" = 25
"cloud.planner" = "lp_flow"
```

Keys of ``[grid]`` and ``[[cases]]`` are dotted keys of the scenario format, set as ``minefleet run --set`` sets
them (``minefleet.overrides``); they may be written quoted (``"fleet.count"``) or bare (``fleet.count``), and a
table value is read as more dotted keys, so a whole table is set only as an element of a grid list. A sweep with
neither grid nor cases has one cell, the scenario as it is. ``scenario.seed`` is the sweep's to set (``seeds``).

A run is a (cell, seed) pair; its run directory is ``runs/<cell id>-seed<seed>``. A cell's id is made from its
values (``count-20_planner-min_wait-3fa2b1``), so it does not change when other cells are added. Before any run
starts, every cell's scenario is loaded with its overrides and checked against its map and perception models as
``minefleet validate`` checks a scenario; what only building a run can check (``[[edge.trucks]]`` ids against the
fleet) fails that run alone.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.contract import ModelError, SensorSpec
from edge.perception import make_perception
from fleet.errors import InputError
from fleet.failures import closure_sets
from fleet.fields import Fields, read_toml
from minefleet.assemble import Site, check_against_map, load_site, sites_on_air
from minefleet.overrides import OverrideError, load_overridden
from minefleet.paths import data_dir, resolve
from minefleet.rundir import scenario_text
from minefleet.scenario import Scenario

MAX_SEEDS = 10_000


@dataclass(frozen=True)
class Cell:
    """One combination of swept values; ``origin`` is where the sweep file sets it, for error messages."""

    index: int  # position in the sweep: the grid's cells in order, then the cases
    values: tuple[tuple[str, Any], ...]  # (dotted key, value) in the sweep's column order
    origin: str  # "[grid]" or "[[cases]] #k"

    @property
    def id(self) -> str:
        """Readable and stable: the values themselves, then a short hash of them (two cells never share one)."""
        if not self.values:
            return "base"
        slug = "_".join(f"{k.rsplit('.', 1)[-1]}-{_slug(v)}" for k, v in self.values)[:48]
        digest = hashlib.sha1(json.dumps(self.values, default=str).encode()).hexdigest()[:6]
        return f"{slug}-{digest}"

    def label(self) -> str:
        return ", ".join(f"{k}={value_text(v)}" for k, v in self.values) or "the scenario as it is"


@dataclass(frozen=True)
class RunSpec:
    """One run of the sweep: a cell at one seed, with the scenario it runs (checked)."""

    cell: Cell
    seed: int
    scenario: Scenario

    @property
    def name(self) -> str:
        """Its run directory's name under the sweep's ``runs/``."""
        return f"{self.cell.id}-seed{self.seed}"

    def done_in(self, runs_dir: Path) -> bool:
        """Its run directory is complete and was made from this very scenario (a run of an edited scenario or
        sweep is not: it runs again). A directory appears whole or not at all (``write_run``), so a run that was
        killed leaves none."""
        out = runs_dir / self.name
        try:
            if json.loads((out / "summary.json").read_text(encoding="utf-8")).get("interrupted"):
                return False  # stopped early by a signal: made again
            return (out / "scenario.toml").read_text(encoding="utf-8") == scenario_text(self.scenario)
        except (OSError, ValueError):
            return False


@dataclass(frozen=True)
class Sweep:
    source: str  # the sweep file's path, or the command that built it: what its error messages name
    name: str  # the file's stem, or the name the command gave it
    scenario_path: Path
    seeds: tuple[int, ...]  # ascending
    hours: float | None
    keys: tuple[str, ...]  # the swept dotted keys, in order: the result tables' parameter columns
    cells: tuple[Cell, ...]
    runs: tuple[RunSpec, ...]  # cell by cell, each over the seeds in order

    def describe(self) -> str:
        return (f"{len(self.cells)} cells x {len(self.seeds)} seeds = {len(self.runs)} runs of "
                f"{self.scenario_path.name}")


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file and every run it makes; the first problem is an ``InputError`` naming the file
    and key."""
    path = Path(path)
    src = str(path)
    root = Fields(read_toml(path, "sweep"), src, "")
    sw = root.table("sweep")
    ref = sw.string("scenario")
    scenario_path = resolve(ref, "scenarios", ".toml", base=path.parent)
    if not scenario_path.is_file():
        raise sw.error("scenario", f"no scenario {ref!r} (a shipped name, or a path from the sweep file's folder)")
    seeds = _seeds(sw)
    hours = sw.number("hours", positive=True, max=24.0 * 30) if "hours" in sw.data else None
    grid = _grid(root)
    cases = _cases(root)
    sw.reject_unknown()
    root.reject_unknown()
    return build_sweep(src, path.stem, scenario_path, seeds, hours, grid, cases)


def build_sweep(source: str, name: str, scenario_path: Path, seeds: tuple[int, ...], hours: float | None,
                grid: Mapping[str, list[Any]], cases: list[dict[str, Any]] | None = None) -> Sweep:
    """A sweep made from parts already read, every run checked as ``load_sweep`` checks a file's: a command that
    sweeps (``minefleet models compare``) builds its grid here and runs it with the same executors and tables.

    ``seeds`` ascending and distinct; ``grid`` maps dotted keys to non-empty lists of values; ``source`` is what a
    refusal names (an ``InputError`` whose where is ``[grid] '<key>'`` or the cell's values).
    """
    cells = _cells(source, dict(grid), list(cases or []))
    for cell in cells:
        for key, _ in cell.values:
            if key == "scenario.seed":
                raise InputError(source, f"{cell.origin} '{key}'", "is the sweep's to set, by [sweep] seeds")
            if key == "scenario.hours" and hours is not None:
                raise InputError(source, f"{cell.origin} '{key}'", "is set by [sweep] hours too: set one of them")
    keys = tuple(dict.fromkeys(k for cell in cells for k, _ in cell.values))
    sites: dict[tuple[Any, ...], Site] = {}
    models: set[str] = set()
    runs = []
    for cell in cells:
        scn = _scenario(source, scenario_path, cell, hours, sites, models)
        runs.extend(RunSpec(cell, seed, scn.with_overrides(seed=seed)) for seed in seeds)
    return Sweep(source, name, scenario_path, tuple(seeds), hours, keys, cells, tuple(runs))


def _seeds(sw: Fields) -> tuple[int, ...]:
    raw = sw._get("seeds", None)
    if isinstance(raw, list):
        if not raw or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in raw):
            raise sw.error("seeds", f"must be a count or a non-empty list of whole numbers >= 0, got {raw!r}")
        if len(set(raw)) != len(raw):
            raise sw.error("seeds", f"lists a seed twice: {raw!r}")
        return tuple(sorted(raw))
    return tuple(range(sw.integer("seeds", min=1, max=MAX_SEEDS)))


def _flat(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys, quoted or bare: ``{"fleet": {"count": 1}}`` and ``{"fleet.count": 1}`` are alike."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{dotted}."))
        else:
            out[dotted] = value
    return out


def _grid(root: Fields) -> dict[str, list[Any]]:
    grid = root.table("grid")
    out = _flat(grid.data)
    for key, values in out.items():
        if not isinstance(values, list) or not values:
            raise InputError(grid.source, "[grid]", f"'{key}' must be a non-empty list of values, got {values!r}")
    _disjoint(grid.source, "[grid]", list(out))
    return out


def _cases(root: Fields) -> list[dict[str, Any]]:
    raw = root._get("cases", [])
    if not isinstance(raw, list) or not all(isinstance(c, Mapping) and c for c in raw):
        raise root.error("cases", "must be an array of non-empty tables [[cases]] of dotted keys")
    out = [_flat(c) for c in raw]
    for k, case in enumerate(out):
        _disjoint(root.source, f"[[cases]] #{k + 1}", list(case))
    return out


def _disjoint(src: str, where: str, keys: list[str]) -> None:
    """No key inside another (``cloud.planner`` and ``cloud.planner.name``): which one wins would be a guess."""
    for a, b in itertools.permutations(keys, 2):
        if b.startswith(a + "."):
            raise InputError(src, where, f"'{b}' lies inside '{a}': set one of them")


def _cells(src: str, grid: dict[str, list[Any]], cases: list[dict[str, Any]]) -> tuple[Cell, ...]:
    combos = [(tuple(zip(grid, combo, strict=True)), "[grid]") for combo in itertools.product(*grid.values())]
    if not grid and cases:
        combos = []
    combos += [(tuple(case.items()), f"[[cases]] #{k + 1}") for k, case in enumerate(cases)]
    cells: list[Cell] = []
    seen: dict[str, Cell] = {}
    for values, origin in combos:
        cell = Cell(len(cells), values, origin)
        same = _canonical(values)
        if same in seen:
            raise InputError(src, origin, f"{cell.label()}: the same values as a cell before it "
                                          f"({seen[same].origin}): a run would be made twice")
        seen[same] = cell
        cells.append(cell)
    return tuple(cells)


def _scenario(src: str, scenario_path: Path, cell: Cell, hours: float | None, sites: dict[tuple[Any, ...], Site],
              models: set[str]) -> Scenario:
    """The cell's scenario, loaded with its overrides and checked against its map and models."""
    try:
        scn = load_overridden(scenario_path, cell.values).with_overrides(hours=hours)
    except OverrideError as exc:
        raise InputError(src, f"{cell.origin} '{exc.key}'", f"{exc.problem} (scenario {exc.source})") from None
    try:
        classes = scn.classes()
        closures = closure_sets(scn.events)
        key = (str(scn.map_path), tuple(tc.id for tc in classes), closures)
        if key not in sites:
            sites[key] = load_site(str(scn.map_path), classes, closures)
        sites_on_air(scn, sites[key].mine)
        check_against_map(scn, sites[key].mine)
        _check_models(scn, models)
    except (InputError, ModelError) as exc:
        if not cell.values:
            raise
        raise InputError(src, f"{cell.origin} {cell.label()}", str(exc)) from None
    return scn


def _check_models(scn: Scenario, seen: set[str]) -> None:
    """Every perception model the scenario names loads and keeps its contract (each checked once per sweep)."""
    if scn.edge is None:
        return
    for ref in (scn.edge.model, *(m for _, m in scn.edge.truck_models)):
        if ref not in seen:
            make_perception(ref, SensorSpec(), data_dir("assets") / "models")
            seen.add(ref)


def _canonical(values: tuple[tuple[str, Any], ...]) -> str:
    return json.dumps(sorted(values, key=lambda kv: kv[0]), default=str)


def value_text(value: Any) -> str:
    """A value as a cell of a table or a label: TOML's spelling for booleans, JSON's for arrays and tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _slug(value: Any) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", value_text(value)).strip("-") or "x"
