"""``minefleet plot``: one KPI of a sweep's ``results.csv`` against a swept key, a line per series, as a PNG.

Each point is the mean of the rows at that x (the seeds, and the cells of any other swept key not made a series),
with a band for its 95 % confidence interval (the same Student t interval as ``summary.csv``). Drawn on
matplotlib's Agg canvas, without pyplot: no window, no display needed.

``knee`` (``--knee SHARE``) answers the fleet-sizing question on such a curve: the first x where the step to the next
x adds less y per unit of x than ``SHARE`` times the mean y per unit of x there (one more truck adds less than half
the t/h an average truck hauls). Found on the per-x means, marked on the plot and returned per series.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fleet.errors import InputError
from minefleet.sweep.results import CONFIDENCE, mean_ci


@dataclass(frozen=True)
class Knee:
    """One series' knee: the last x whose step to the next still paid its way, or none in the range swept."""

    series: str  # the series as its legend says it, "cloud.planner = lp_flow" ("" without a series)
    x: float | None  # the knee (None: every step paid)
    next_x: float | None  # the step looked at from x
    marginal: float | None  # [y per unit x] what the step to next_x adds
    average: float | None  # [y per unit x] y / x at the knee
    span: tuple[float, float]  # the x range searched

    def describe(self, x: str, y: str, share: float) -> str:
        """One line for the terminal."""
        who = f"{self.series}: " if self.series else ""
        if self.x is None:
            return (f"{who}no knee in {x} {self.span[0]:g}..{self.span[1]:g}: every step adds at least {share:g} x "
                    f"the mean {y} per unit of {x}")
        return (f"{who}knee at {x} = {self.x:g}: the step to {self.next_x:g} adds {self.marginal:,.4g} {y} per unit "
                f"of {x}, under {share:g} x the mean {self.average:,.4g} per unit at {self.x:g}")


@dataclass(frozen=True)
class Plot:
    path: Path
    knees: tuple[Knee, ...]  # one per series, in the plot's order; empty without ``knee``


def find_knee(xs: Sequence[float], ys: Sequence[float], share: float) -> int | None:
    """Index of the first x (ascending, > 0) where the step to the next x adds less y per unit of x than ``share``
    times y / x there; None when every step adds at least that. A step is the slope between two swept points:
    a grid of 10, 20, 30 trucks says what ten more add per truck, not what the eleventh adds."""
    for i in range(len(xs) - 1):
        if xs[i] <= 0 or xs[i + 1] <= xs[i]:
            continue  # no mean per unit at x = 0; no step between one x written twice (10 and 10.0)
        marginal = (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])
        if marginal < share * ys[i] / xs[i]:
            return i
    return None


def plot_results(results: Path, x: str, y: str, series: str | None = None, out: Path | None = None,
                 knee: float | None = None) -> Plot:
    """Plot column ``y`` of ``results`` against column ``x``, one line per value of column ``series``, and with
    ``knee`` (a share > 0) mark each series' knee (``find_knee``); the PNG's path (default: ``<y>_vs_<x>.png``
    beside ``results``) and the knees."""
    results = Path(results)
    if knee is not None and not knee > 0:
        raise InputError("--knee", "", f"must be a share > 0 (e.g. 0.5), got {knee:g}")
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
    if knee is not None and not numeric:
        raise InputError(str(results), "--knee", f"needs a numeric --x column; {x!r} is not")

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7.0, 4.5), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    categories = list(dict.fromkeys(v for points in lines.values() for v in points))
    knees: list[Knee] = []
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
        if knee is not None:
            knees.append(_knee(label or "", where, means, knee))
            if knees[-1].x is not None:
                at = where.index(knees[-1].x)
                ax.plot([where[at]], [means[at]], marker="*", markersize=16, color=line.get_color(),
                        markeredgecolor="black", zorder=5)
                ax.annotate(f"knee {where[at]:g}", (where[at], means[at]), textcoords="offset points",
                            xytext=(6, -14), fontsize=8)
    if not numeric:
        ax.set_xticks(range(len(categories)), [c or "(scenario)" for c in categories])
    elif all(float(v).is_integer() for v in categories):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # a truck count has no 1.25
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    knee_said = f"\nknee (*): the next step adds < {knee:g} x the mean per unit of x" if knee is not None else ""
    ax.set_title(f"{y}: mean and {CONFIDENCE:.0%} CI over seeds{knee_said}", fontsize=10)
    ax.grid(True, alpha=0.3)
    if series:
        ax.legend(fontsize=8)
    fig.tight_layout()
    out = Path(out) if out is not None else results.with_name(f"{y}_vs_{x}.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return Plot(out, tuple(knees))


def _knee(series: str, xs: list[float], means: list[float], share: float) -> Knee:
    i = find_knee(xs, means, share)
    span = (xs[0], xs[-1])
    if i is None:
        return Knee(series, None, None, None, None, span)
    return Knee(series, xs[i], xs[i + 1], (means[i + 1] - means[i]) / (xs[i + 1] - xs[i]), means[i] / xs[i], span)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
