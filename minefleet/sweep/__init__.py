"""``minefleet sweep``: many headless runs of one scenario over a grid of values and seeds, then their tables.

``spec`` reads and checks the sweep file (its docstring has the format), ``execute`` makes the runs on this
machine's cores or a Ray cluster, ``results`` writes the tables, ``plot`` draws one KPI from them.

The output folder holds ``runs/<cell id>-seed<seed>/`` (each a ``minefleet run`` directory) and the tables. A
sweep run again into the same folder makes only the runs without a complete directory (resuming one that was killed,
or retrying failed runs), then writes the tables over all runs.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tqdm import tqdm

from minefleet.sweep.execute import Job, execute
from minefleet.sweep.results import write_results
from minefleet.sweep.spec import load_sweep


def run_sweep(path: str | Path, out: Path | None = None, *, executor: str = "local", workers: int | None = None,
              address: str | None = None, quiet: bool = False, dry_run: bool = False,
              stop_after: int | None = None) -> int:
    """Check the sweep file and every run, make the missing runs, write the tables; the exit status (1: some run
    failed). ``out`` defaults to ``runs/<sweep file's stem>``. ``dry_run`` checks and counts, and runs nothing.

    ``stop_after`` is for tests: make that many of the missing runs, then stop as a killed sweep would, writing no
    table.
    """
    sweep = load_sweep(path)
    out = Path(out) if out is not None else Path("runs") / sweep.name
    runs_dir = out / "runs"
    todo = [run for run in sweep.runs if not run.done_in(runs_dir)]
    if dry_run:
        print(f"{sweep.path}: sweep OK: {sweep.describe()}; {len(sweep.runs) - len(todo)} already complete in {out}")
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
    written = write_results(sweep, out, failures)
    print(f"sweep {sweep.name}: {sweep.describe()}: {len(todo) - len(failures)} made now, "
          f"{len(sweep.runs) - len(todo)} already complete, {len(failures)} failed")
    print("tables: " + ", ".join(str(p) for p in written))
    return 1 if failures else 0


def _clear_leftovers(runs_dir: Path) -> None:
    """Half-written run folders of a sweep that was killed (hidden temp folders, never a run's own)."""
    if runs_dir.is_dir():
        for p in runs_dir.glob(".*"):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
