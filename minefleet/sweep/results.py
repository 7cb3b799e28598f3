"""A sweep's tables, read back from its run directories' ``summary.json`` files.

- ``results.csv``: one row per finished run: ``cell``, a column per swept dotted key, ``seed``, then its KPIs.
- ``summary.csv``: one row per cell: its swept values, ``runs`` (the finished seeds), and for every KPI its mean
  over the seeds (``<kpi>_mean``) and the half-width of the mean's 95 % confidence interval (``<kpi>_ci95``,
  Student t; empty for a single seed), so the interval is mean +- ci95.
- ``summary.md``: the same as a Markdown table, "mean ± ci95".
- ``failures.csv``: the runs that failed, with their one-line errors (only when some did).

Rows go by cell, in the sweep's order, then by seed, so each file is the same whatever order the runs ended in,
and a sweep resumed after a kill writes the very bytes an uninterrupted one does. A cell a run has no value for
(a case that leaves a swept key at the scenario's) has an empty cell there. KPI names are ``summary.json``'s
(``README``), flattened with ``_``; blocks a run may lack (the steady-state bound share, link and safety figures)
get columns only when some run of the sweep has them. Two more are derived from the ``safety`` block:
``safety_events_per_hour`` (collisions + near misses + e-stops per shift hour, the one count of what went wrong), and
the ``perception_*`` figures of the run's perception model when every truck runs the same one (recall, precision,
and on an emulated chip the emulated latency p50/p99 and the share of frames that missed their deadline).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from minefleet.sweep.spec import RunSpec, Sweep, value_text

# (column, path in summary.json): every run has these.
KPIS = (
    ("trucks", "trucks"), ("tonnes", "tonnes"), ("tonnes_per_hour", "tonnes_per_hour"), ("loads", "loads"),
    ("cycle_time_mean_s", "cycle_time_s.mean"), ("cycle_time_p90_s", "cycle_time_s.p90"),
    ("queue_time_shovel_mean_s", "queue_time_shovel_mean_s"), ("queue_time_dump_mean_s", "queue_time_dump_mean_s"),
    ("shovel_utilisation_mean", "shovel_utilisation_mean"), ("truck_utilisation_mean", "truck_utilisation_mean"),
    ("truck_availability_mean", "truck_availability_mean"), ("payload_mean_t", "payload.mean_t"),
    ("distance_km", "distance_km"), ("lp_bound_tonnes_per_hour", "lp_bound.tonnes_per_hour"),
    ("lp_bound_share", "lp_bound.share"), ("order_timeouts", "dispatch.order_timeouts"),
    ("orders_rejected", "dispatch.orders_rejected"), ("truck_breakdowns", "failures.truck_breakdowns"),
    ("unit_outages", "failures.unit_outages"), ("link_holds", "link_holds"),
)
# Columns only when some run has them: shifts of two warm-up hours or more, a radio link, perception on board.
OPTIONAL_KPIS = (
    ("lp_bound_steady_share", "lp_bound.steady_share"),
    ("link_uplink_latency_p99_ms", "link.uplink_latency_p99_ms"),
    ("link_downlink_latency_p99_ms", "link.downlink_latency_p99_ms"),
    ("link_uplink_loss_rate", "link.uplink_loss_rate"), ("link_downlink_loss_rate", "link.downlink_loss_rate"),
    ("link_handovers", "link.handovers"), ("link_outage_truck_s", "link.outage_truck_s"),
    ("safety_collisions", "safety.collisions"), ("safety_near_misses", "safety.near_misses"),
    ("safety_estops", "safety.estops"), ("safety_holds", "safety.holds"),
    ("safety_safe_speed_mean_kmh", "safety.safe_speed_mean_kmh"),
)
# Derived from the safety block, also only when some run has them (``_derived``).
DERIVED_KPIS = (
    "safety_events_per_hour", "perception_recall", "perception_precision", "perception_emulated_latency_p50_ms",
    "perception_emulated_latency_p99_ms", "perception_deadline_miss_rate",
)
CONFIDENCE = 0.95


def mean_ci(values: Sequence[float]) -> tuple[float, float | None]:
    """The mean and the half-width of its ``CONFIDENCE`` interval (Student t, as for a few seeds); None from one
    value, where no interval can be had."""
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return mean, None
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    from scipy import stats  # here, not at the top: it would add a third of a second to every minefleet command

    return mean, float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * sd / math.sqrt(n)


def safety_events(safety: dict[str, Any]) -> int:
    """What went wrong in a run's ``safety`` block: collisions, near misses and e-stops (a hold is the safety loop
    doing its job, not an event)."""
    return int(safety["collisions"]) + int(safety["near_misses"]) + int(safety["estops"])


def finished_runs(sweep: Sweep, runs_dir: Path) -> list[tuple[RunSpec, dict[str, Any]]]:
    """The sweep's complete runs under ``runs_dir`` with their KPIs (every column of ``results.csv``, None where a
    run has no figure), by cell in the sweep's order, then by seed."""
    return [(run, _kpis(runs_dir / run.name)) for run in _ordered(sweep.runs) if run.done_in(runs_dir)]


def write_results(sweep: Sweep, out: Path, failures: dict[str, str], runs_dir: Path) -> list[Path]:
    """Write the sweep's tables into ``out`` from the finished runs under ``runs_dir``; the files written.

    ``failures`` maps a run's name to its one-line error.
    """
    finished = finished_runs(sweep, runs_dir)
    out.mkdir(parents=True, exist_ok=True)  # the runs may have gone elsewhere
    optional = [c for c, _ in OPTIONAL_KPIS] + list(DERIVED_KPIS)
    kpis = [c for c, _ in KPIS] + [c for c in optional if any(k.get(c) is not None for _, k in finished)]
    params = list(sweep.keys)
    written = [out / "results.csv", out / "summary.csv", out / "summary.md"]
    write_csv(written[0], ["cell", *params, "seed", *kpis],
               [[run.cell.id, *_params(run, params), run.seed, *(_number(k.get(c)) for c in kpis)]
                for run, k in finished])
    cells = _by_cell(finished)
    header = ["cell", *params, "runs", *(f"{c}_{s}" for c in kpis for s in ("mean", "ci95"))]
    rows, md = [], []
    for runs, figures in cells:
        cis = [_stats([f[c] for f in figures if f.get(c) is not None]) for c in kpis]
        rows.append([runs[0].cell.id, *_params(runs[0], params), len(runs),
                     *(_number(x) for pair in cis for x in pair)])
        md.append([runs[0].cell.id, *_params(runs[0], params), str(len(runs)),
                   *(_pm(mean, ci) for mean, ci in cis)])
    write_csv(written[1], header, rows)
    _write_md(written[2], sweep, ["cell", *params, "runs", *kpis], md)
    failed = out / "failures.csv"
    if failures:
        write_csv(failed, ["run", "cell", *params, "seed", "error"],
                   [[run.name, run.cell.id, *_params(run, params), run.seed, failures[run.name]]
                    for run in _ordered(sweep.runs) if run.name in failures])
        written.append(failed)
    else:
        failed.unlink(missing_ok=True)  # an earlier attempt's, whose runs are all done now
    return written


def _ordered(runs: Sequence[RunSpec]) -> list[RunSpec]:
    return sorted(runs, key=lambda r: (r.cell.index, r.seed))


def _kpis(run_dir: Path) -> dict[str, Any]:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    out = {}
    for column, path in KPIS + OPTIONAL_KPIS:
        value: Any = summary
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        out[column] = value
    out.update(_derived(summary))
    return out


def _derived(summary: dict[str, Any]) -> dict[str, Any]:
    """``DERIVED_KPIS`` of one run; None where it has no such figure (no perception, several models, no chip)."""
    out: dict[str, Any] = dict.fromkeys(DERIVED_KPIS)
    safety = summary.get("safety")
    if not isinstance(safety, dict):
        return out
    out["safety_events_per_hour"] = safety_events(safety) / summary["shift_hours"]
    models = safety.get("perception") or {}
    if len(models) != 1:  # which model a fleet-wide figure belongs to would be a guess
        return out
    (model,) = models.values()
    out["perception_recall"] = model.get("recall")
    out["perception_precision"] = model.get("precision")
    chip = model.get("chip")
    if model.get("timing") == "emulated" and chip is not None:
        out["perception_emulated_latency_p50_ms"] = model.get("latency_p50_ms")
        out["perception_emulated_latency_p99_ms"] = model.get("latency_p99_ms")
        jobs = chip["tasks"]["perception"]["jobs"]  # one per chip frame: what late and dropped frames count
        if jobs:
            out["perception_deadline_miss_rate"] = (model["late_frames"] + model["dropped_frames"]) / jobs
    return out


def _by_cell(finished: list[tuple[RunSpec, dict[str, Any]]]) -> list[tuple[list[RunSpec], list[dict[str, Any]]]]:
    cells: dict[int, tuple[list[RunSpec], list[dict[str, Any]]]] = {}
    for run, kpis in finished:
        runs, figures = cells.setdefault(run.cell.index, ([], []))
        runs.append(run)
        figures.append(kpis)
    return list(cells.values())


def _params(run: RunSpec, keys: list[str]) -> list[str]:
    values = dict(run.cell.values)
    return [value_text(values[k]) if k in values else "" for k in keys]


def _stats(values: list[float]) -> tuple[float | None, float | None]:
    return mean_ci(values) if values else (None, None)


def _number(value: Any) -> str:
    """A figure as CSV text: whole numbers as such, others to 10 significant digits, missing ones empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    return f"{value:.10g}"


def _pm(mean: float | None, ci: float | None) -> str:
    if mean is None:
        return ""
    return _short(mean) if ci is None else f"{_short(mean)} ± {_short(ci)}"


def _short(x: float) -> str:
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """Write a table whole or not at all (a temp file, then a rename): a reader never sees half of it."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    tmp.replace(path)


def _write_md(path: Path, sweep: Sweep, header: list[str], rows: list[list[str]]) -> None:
    seeds = ", ".join(str(s) for s in sweep.seeds)
    lines = [f"# Sweep {sweep.name}", "",
             f"Scenario `{sweep.scenario_path.name}`, seeds {seeds}. Each figure is the mean over the cell's finished "
             f"runs ± the half-width of its {CONFIDENCE:.0%} confidence interval (Student t); one run gives no "
             "interval.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
