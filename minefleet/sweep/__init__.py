"""``minefleet sweep``: many headless runs of one scenario over a grid of values and seeds, then their tables.

``spec`` reads and checks the sweep file (its docstring has the format), ``execute`` makes the runs on this
machine's cores or a Ray cluster, ``results`` writes the tables, ``plot`` draws one KPI from them.

The output folder holds ``runs/<cell id>-seed<seed>/`` (each a ``minefleet run`` directory; the runs may be kept in
a folder of their own instead) and the tables. A sweep run again into the same folder makes only the runs without a
complete directory (resuming one that was killed, or retrying failed runs), then writes the tables over all runs.
A command may build its sweep in code (``spec.build_sweep``) and hand it to ``make_sweep``: one runner for all.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tqdm import tqdm

from fleet.errors import InputError
from minefleet.sweep.execute import Job, execute
from minefleet.sweep.results import write_results
from minefleet.sweep.spec import Sweep, load_sweep


def run_sweep(path: str | Path, out: Path | None = None, *, runs_dir: Path | None = None, executor: str = "local",
              workers: int | None = None, address: str | None = None, quiet: bool = False, dry_run: bool = False,
              stop_after: int | None = None) -> int:
    """Check the sweep file and every run, make the missing runs, write the tables; the exit status (1: some run
    failed). ``out`` defaults to ``runs/<sweep file's stem>``; the rest is ``make_sweep``'s."""
    return make_sweep(load_sweep(path), out, runs_dir=runs_dir, executor=executor, workers=workers,
                      address=address, quiet=quiet, dry_run=dry_run, stop_after=stop_after)


def make_sweep(sweep: Sweep, out: Path | None = None, *, runs_dir: Path | None = None, executor: str = "local",
               workers: int | None = None, address: str | None = None, quiet: bool = False, dry_run: bool = False,
               stop_after: int | None = None) -> int:
    """Make the runs of a checked sweep not yet complete, then write its tables into ``out`` (default
    ``runs/<sweep name>``); the exit status (1: some run failed). The run directories go under ``runs_dir``
    (default ``out/runs``): a folder kept apart lets the tables be committed without the runs. ``dry_run`` counts
    and runs nothing.

    ``stop_after`` is for tests: make that many of the missing runs, then stop as a killed sweep would, writing no
    table.
    """
    out, runs_dir = output_dirs(sweep, out, runs_dir)
    todo = [run for run in sweep.runs if not run.done_in(runs_dir)]
    if dry_run:
        print(f"{sweep.source}: sweep OK: {sweep.describe()}; {len(sweep.runs) - len(todo)} already complete in "
              f"{runs_dir}")
        return 0
    if stop_after is not None:
        todo = todo[:stop_after]
    _clear_leftovers(runs_dir)
    failures: dict[str, str] = {}
    with tqdm(total=len(todo), unit="run", desc=sweep.name, disable=quiet or None, file=sys.stderr) as bar:
        bar.set_postfix(failed=0)

        def done(job: Job, error: str | None) -> None:
            if error is not None:
                failures[job.name] = error
                bar.set_postfix(failed=len(failures))
                tqdm.write(f"minefleet: run {job.name} failed: {error}", file=sys.stderr)
            bar.update()

        execute([Job(run.name, run.scenario) for run in todo], runs_dir, done, executor=executor, workers=workers,
                address=address)
    if stop_after is not None:
        return 0
    written = write_results(sweep, out, failures, runs_dir)
    print(f"sweep {sweep.name}: {sweep.describe()}: {len(todo) - len(failures)} made now, "
          f"{len(sweep.runs) - len(todo)} already complete, {len(failures)} failed")
    print("tables: " + ", ".join(str(p) for p in written))
    return 1 if failures else 0


def output_dirs(sweep: Sweep, out: Path | None = None, runs_dir: Path | None = None) -> tuple[Path, Path]:
    """Where a sweep's tables and run directories go: ``out`` (default ``runs/<sweep name>``) and ``runs_dir``
    (default ``out/runs``); a file at either place is refused before any run is made, never met after them."""
    out = Path(out) if out is not None else Path("runs") / sweep.name
    runs_dir = Path(runs_dir) if runs_dir is not None else out / "runs"
    for flag, folder in (("--out", out), ("--runs-dir", runs_dir)):
        if folder.exists() and not folder.is_dir():
            raise InputError(str(folder), flag, "is a file, not a folder; it is left as it is: choose another")
    return out, runs_dir


def _clear_leftovers(runs_dir: Path) -> None:
    """Half-written run folders of a sweep that was killed (hidden temp folders, never a run's own)."""
    if runs_dir.is_dir():
        for p in runs_dir.glob(".*"):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
