"""``minefleet plot``: one KPI of a sweep's ``results.csv`` against a swept key, a line per series, as a PNG.

Each point is the mean of the rows at that x (the seeds, and the cells of any other swept key not made a series),
with a band for its 95 % confidence interval (the same Student t interval as ``summary.csv``). Drawn on
matplotlib's Agg canvas, without pyplot: no window, no display needed.
"""

from __future__ import annotations

import csv
from pathlib import Path

from fleet.errors import InputError
from minefleet.sweep.results import CONFIDENCE, mean_ci


def plot_results(results: Path, x: str, y: str, series: str | None = None, out: Path | None = None) -> Path:
    """Plot column ``y`` of ``results`` against column ``x``, one line per value of column ``series``; the PNG's
    path (default: ``<y>_vs_<x>.png`` beside ``results``)."""
    results = Path(results)
    try:
        with results.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            columns = reader.fieldnames or []
    except FileNotFoundError:
        raise InputError(str(results), "", "results file not found") from None
    for option, column in (("--x", x), ("--y", y), ("--series", series)):
        if column is not None and column not in columns:
            raise InputError(str(results), option, f"no column {column!r} (columns: {', '.join(columns)})")
    if not rows:
        raise InputError(str(results), "", "no runs to plot")
    lines: dict[str, dict[str, list[float]]] = {}
    for k, row in enumerate(rows):
        if row[y] == "":
            continue  # a run without this figure (e.g. no load, so no payload)
        try:
            value = float(row[y])
        except ValueError:
            raise InputError(str(results), "--y", f"column {y!r} is not a number in row {k + 2}: {row[y]!r}") from None
        lines.setdefault(row[series] if series else "", {}).setdefault(row[x], []).append(value)
    numeric = all(_is_number(v) for points in lines.values() for v in points)

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7.0, 4.5), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    categories = list(dict.fromkeys(v for points in lines.values() for v in points))
    for name, points in lines.items():
        xs = sorted(points, key=float) if numeric else sorted(points, key=categories.index)
        where = [float(v) for v in xs] if numeric else [categories.index(v) for v in xs]
        figures = [mean_ci(points[v]) for v in xs]
        means = [m for m, _ in figures]
        half = [ci or 0.0 for _, ci in figures]
        label = f"{series} = {name or '(scenario)'}" if series else None
        (line,) = ax.plot(where, means, marker="o", label=label)
        ax.fill_between(where, [m - h for m, h in zip(means, half, strict=True)],
                        [m + h for m, h in zip(means, half, strict=True)], color=line.get_color(), alpha=0.2,
                        linewidth=0)
    if not numeric:
        ax.set_xticks(range(len(categories)), [c or "(scenario)" for c in categories])
    elif all(float(v).is_integer() for v in categories):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # a truck count has no 1.25
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{y}: mean and {CONFIDENCE:.0%} CI over seeds", fontsize=10)
    ax.grid(True, alpha=0.3)
    if series:
        ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(out) if out is not None else results.with_name(f"{y}_vs_{x}.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
