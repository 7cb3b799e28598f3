"""The run directory (docs/architecture.md, "Runs and KPIs"), written atomically: a temp folder renamed into place.

``summary.json`` holds simulated figures only (byte-identical for the same scenario and seed);
``timing.json`` holds host measurements, which vary from run to run.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import tomli_w

from fleet.errors import InputError
from fleet.kpi import summarize, truck_rows
from fleet.trace import TraceRecorder, write_events
from minefleet.assemble import Run
from minefleet.scenario import Scenario


def scenario_text(scn: Scenario) -> str:
    """The run directory's ``scenario.toml`` for ``scn``: the scenario as resolved, runnable again; a sweep compares
    it to tell a finished run of the same scenario from one of an edited one."""
    return tomli_w.dumps(scn.resolved())


RUN_FILES = ("scenario.toml", "summary.json")  # what marks a folder as a run directory this program wrote
# The counts in a summary's "dispatch" that only a cloud in the run's own process can report
CLOUD_COUNTS = ("cloud_messages_rejected", "cloud_requests_unanswered")


def fleet_side(summary: dict[str, Any]) -> dict[str, Any]:
    """A summary without ``CLOUD_COUNTS``: what a run reports whether its cloud is in its process or not, so two
    runs of one shift, one beside a cloud of its own, can be compared whole."""
    dispatch = {k: v for k, v in summary.get("dispatch", {}).items() if k not in CLOUD_COUNTS}
    return {**summary, "dispatch": dispatch} if "dispatch" in summary else dict(summary)


def check_out(out: Path) -> None:
    """Refuse, before any work, an ``--out`` whose writing would lose something: a file, or a folder with
    contents that is not a run directory (writing a run replaces the folder whole), or a place that cannot be
    written (found by making, then removing, a temporary folder in the nearest existing parent)."""
    out = Path(out)
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise InputError(str(out), "--out", "is a file, not a run directory; it is left as it is: choose another --out")
    if out.is_dir() and any(out.iterdir()) and not all((out / f).is_file() for f in RUN_FILES):
        raise InputError(str(out), "--out", "is a folder that is not a minefleet run directory; it is left as it is: "
                                            "choose another --out")
    parent = out.absolute().parent
    while not parent.exists():
        parent = parent.parent
    try:
        shutil.rmtree(tempfile.mkdtemp(prefix=".minefleet-check-", dir=parent))
    except OSError as exc:
        raise InputError(str(out), "--out", f"cannot be written ({exc.strerror or exc})") from None


def write_run(run: Run, out: Path, trace: TraceRecorder, timing: dict[str, Any], interrupted: bool = False) -> Path:
    """The run directory of ``run``; ``interrupted``: the shift was stopped early (SIGINT/SIGTERM) and the figures
    cover what was simulated, so ``summary.json`` says so and a sweep does not take it for a finished run."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / "scenario.toml").write_text(scenario_text(run.scenario), encoding="utf-8")
        summary = summarize(run.sim)
        summary["scenario"] = run.scenario.name
        summary["seed"] = run.scenario.seed
        summary["map"] = run.site.mine.site
        summary["planner"] = run.scenario.planner
        if interrupted:
            summary["interrupted"] = True
        summary["link_profile"] = run.scenario.link_profile
        from minefleet.bound import lp_bound  # scipy's LP solver: loaded when a run is written, not at start

        summary["lp_bound"] = lp_bound(run.sim, summary)
        if run.sim.onboard is not None:
            summary["safety"] = run.sim.onboard.summary()
        if hasattr(run.link, "stats"):
            summary["link"] = run.link.stats()
        if run.cloud is not None:  # what the cloud in this process dropped or could not answer, never silently
            summary["dispatch"].update(dict(zip(CLOUD_COUNTS, (run.cloud.rejected, run.cloud.failed), strict=True)))
        planner_stats = run.cloud.planner_stats() if run.cloud is not None else None
        if planner_stats is not None:  # a planner with figures of its own (pangu); "planner" already holds its name
            summary["planner_stats"] = planner_stats
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n",
                                          encoding="utf-8")
        timing = {**timing, "transport": run.wiring.kind}
        if run.cloud is not None:
            d = run.cloud.decision_host_s

            def ms(x: float) -> float:
                return round(x * 1000.0, 4)

            timing.update(cloud_decisions=d.count, cloud_decision_host_ms_mean=ms(d.mean()),
                          cloud_decision_host_ms_p50=ms(d.percentile(50) if d.count else 0.0),
                          cloud_decision_host_ms_p99=ms(d.percentile(99) if d.count else 0.0))
        (tmp / "timing.json").write_text(json.dumps(timing, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        rows = truck_rows(run.sim)
        with (tmp / "trucks.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        write_events(tmp / "events.csv", run.sim)
        trace.save(tmp / "trace.npz", run.sim)
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it private; a run directory follows the umask
        swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def swap_into_place(tmp: Path, out: Path) -> None:
    """Replace ``out`` with ``tmp`` so a reader sees the old run or the new one, never half of one."""
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)
