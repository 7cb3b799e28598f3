"""The model comparison's table: one row per model x device x dust, from the sweep's finished runs.

Each figure is a mean over the cell's finished seeds of a column of the sweep's own ``results.csv``
(``minefleet.sweep.results``), so the two never disagree. t/h and the safety counts also carry the half-width of
their 95 % confidence interval: they are what the trade-off is judged on, and a handful of obstacles per shift makes
the counts noisy. ``models.csv`` names those ``<column>_mean`` and ``<column>_ci95``; the other columns are plain
means. ``models.md`` shows the same as "mean ± ci95". Latencies are emulated (the chip's cost model and scheduler),
and their headers say so.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from minefleet.sweep.results import CONFIDENCE, finished_runs, mean_ci, write_csv
from minefleet.sweep.spec import Sweep, value_text

MODEL_KEY, DEVICE_KEY, DUST_KEY = "edge.model", "edge.device", "hazards.dust"  # the grid's keys, in its order
Labels = dict[tuple[str, str], str]  # (dotted key, value as the tables write it) -> the value as the user gave it


@dataclass(frozen=True)
class Column:
    name: str  # in models.csv
    kpi: str  # the results.csv column it averages
    header: str  # in models.md
    ci: bool  # with its confidence interval
    fmt: Callable[[float], str]  # a figure as models.md shows it


def _fixed(digits: int) -> Callable[[float], str]:
    return lambda x: f"{x:,.{digits}f}"


COLUMNS = (
    Column("emulated_latency_p50_ms", "perception_emulated_latency_p50_ms", "p50 latency [ms, emulated]", False,
           _fixed(2)),
    Column("emulated_latency_p99_ms", "perception_emulated_latency_p99_ms", "p99 latency [ms, emulated]", False,
           _fixed(2)),
    Column("deadline_miss_rate", "perception_deadline_miss_rate", "deadline misses", False, lambda x: f"{x:.1%}"),
    Column("recall", "perception_recall", "recall", False, _fixed(3)),
    Column("precision", "perception_precision", "precision", False, _fixed(3)),
    Column("near_misses", "safety_near_misses", "near misses", True, _fixed(2)),
    Column("collisions", "safety_collisions", "collisions", True, _fixed(2)),
    Column("estops", "safety_estops", "e-stops", True, _fixed(2)),
    Column("safety_events_per_hour", "safety_events_per_hour", "safety events / h", True, _fixed(2)),
    Column("safe_speed_mean_kmh", "safety_safe_speed_mean_kmh", "safe speed [km/h]", False, _fixed(1)),
    Column("tonnes_per_hour", "tonnes_per_hour", "t/h", True, _fixed(0)),
)


@dataclass(frozen=True)
class ModelRow:
    """One model x device x dust cell: its labels as the user gave them and its figures (mean, ci95) by column."""

    model: str
    device: str
    dust: str
    runs: int  # finished seeds
    figures: dict[str, tuple[float | None, float | None]]

    def mean(self, column: str) -> float | None:
        return self.figures[column][0]

    def ci(self, column: str) -> float:
        """The half-width of the interval; 0 where there is none (one seed), so a plot draws no bar."""
        return self.figures[column][1] or 0.0


def model_rows(sweep: Sweep, runs_dir: Path, labels: Labels) -> list[ModelRow]:
    """A row per cell of the sweep, in its order, over the runs finished under ``runs_dir`` (a cell none of whose
    runs finished has a row of empty figures: it is missing, not zero)."""
    figures: dict[int, list[dict[str, Any]]] = {cell.index: [] for cell in sweep.cells}
    for run, kpis in finished_runs(sweep, runs_dir):
        figures[run.cell.index].append(kpis)
    rows = []
    for cell in sweep.cells:
        values = dict(cell.values)

        def label(key: str, values: dict[str, Any] = values) -> str:
            text = value_text(values[key])
            return labels.get((key, text), text)

        runs = figures[cell.index]
        rows.append(ModelRow(label(MODEL_KEY), label(DEVICE_KEY), label(DUST_KEY), len(runs),
                             {c.name: _stats([k[c.kpi] for k in runs if k.get(c.kpi) is not None]) for c in COLUMNS}))
    return rows


def write_tables(rows: list[ModelRow], sweep: Sweep, out: Path) -> list[Path]:
    """``models.csv`` and ``models.md`` in ``out``, each written whole; the paths."""
    header = ["model", "device", "dust", "runs"]
    for c in COLUMNS:
        header += [f"{c.name}_mean", f"{c.name}_ci95"] if c.ci else [c.name]
    lines = []
    for row in rows:
        line: list[Any] = [row.model, row.device, row.dust, row.runs]
        for c in COLUMNS:
            mean, ci = row.figures[c.name]
            line += [_number(mean), _number(ci)] if c.ci else [_number(mean)]
        lines.append(line)
    csv_path, md_path = out / "models.csv", out / "models.md"
    out.mkdir(parents=True, exist_ok=True)
    write_csv(csv_path, header, lines)
    text = "\n".join([*_intro(sweep), "", *markdown_table(rows)]) + "\n"
    tmp = md_path.with_name(f".{md_path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(md_path)
    return [csv_path, md_path]


def markdown_table(rows: list[ModelRow]) -> list[str]:
    """The table's lines in Markdown, as ``models.md`` has them and the command prints them."""
    header = ["model", "device", "dust", "runs", *(c.header for c in COLUMNS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * 3 + "---:|" * (len(header) - 3)]
    for row in rows:
        cells = [row.model, row.device, row.dust, str(row.runs)]
        for c in COLUMNS:
            mean, ci = row.figures[c.name]
            if mean is None:
                cells.append("–")
            else:
                cells.append(c.fmt(mean) if not c.ci or ci is None else f"{c.fmt(mean)} ± {c.fmt(ci)}")
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return lines


def _intro(sweep: Sweep) -> list[str]:
    scn = sweep.runs[0].scenario
    trucks = sum(g.count for g in scn.groups)
    seeds = ", ".join(str(s) for s in sweep.seeds)
    return [
        "# Model swap: perception model x chip x dust", "",
        f"Scenario `{sweep.scenario_path.name}`: {trucks} trucks, shifts of {scn.hours:g} h, seeds {seeds}. Each "
        "figure is the mean over a cell's finished runs; t/h and the safety counts carry ± the half-width of their "
        f"{CONFIDENCE:.0%} confidence interval (Student t; none from one run). Latencies are emulated (the chip's "
        "cost model and scheduler, with the scenario's background detectors), not measured on this host. Deadline "
        "misses: the share of the chip's perception frames later than the deadline or dropped. Recall and precision: "
        "per sector against ground truth. Near misses, collisions and e-stops: per run; safety events / h: the three "
        "together per shift hour. Safe speed: the mean perception-safe speed.",
    ]


def _stats(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    mean, ci = mean_ci(values)
    return mean, (None if ci is None or math.isnan(ci) else ci)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.10g}"
