"""The trade-off frontier of a model comparison: t/h against safety events per hour, one point per model x device
x dust with its 95 % confidence interval both ways.

Up and to the left is better. At each dust level (the mine's condition, not a choice) the frontier is the set of
points no other point of that level beats on both counts (as many t/h or more with as few events or fewer): the
model and chip choices worth arguing about; every point off it is worse than one on it. Frontier points are ringed,
and a dashed line joins them within their level.
Neither count can be negative, so an interval is drawn down to 0 at most. Labels that would overlap are moved apart
and tied to their point by a thin line. Drawn on matplotlib's Agg canvas, without pyplot, as ``minefleet plot``
draws.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from minefleet.models_compare.table import ModelRow
from minefleet.sweep.results import CONFIDENCE
from minefleet.sweep.spec import Sweep

X, Y = "safety_events_per_hour", "tonnes_per_hour"  # models.csv columns on the axes
MARKERS = ("o", "s", "^", "D", "v", "P", "X")  # one per device
LABEL_PT = 7.0  # [pt] label font size
# [pt] where a label may go from its point, tried in order: beside it first, then further up or down.
OFFSETS = tuple((6.0, dy) for dy in (4.0, -12.0, 14.0, -22.0, 24.0, -32.0, 34.0, -42.0, 44.0, -52.0))


def pareto(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point dominates (x no larger and y no smaller, one of them strictly), by
    ascending x."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front: list[int] = []
    for i in order:
        if not front or points[i][1] > points[front[-1]][1]:
            front.append(i)
    return front


def plot_frontier(rows: list[ModelRow], sweep: Sweep, path: Path) -> Path:
    """Draw the frontier of ``rows`` (a row without finished runs is left out) into the PNG ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    drawn = [r for r in rows if r.mean(X) is not None and r.mean(Y) is not None]
    models = list(dict.fromkeys(r.model for r in rows))
    devices = list(dict.fromkeys(r.device for r in rows))
    fig = Figure(figsize=(8.5, 5.5), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    colours = [f"C{k % 10}" for k in range(len(models))]
    for r in drawn:
        ax.errorbar(r.mean(X), r.mean(Y), xerr=_bar(r, X), yerr=_bar(r, Y),
                    fmt=MARKERS[devices.index(r.device) % len(MARKERS)], color=colours[models.index(r.model)],
                    markersize=7, capsize=3, elinewidth=1, alpha=0.9)
    ax.margins(x=0.15, y=0.1)
    ax.autoscale_view()
    _labels(ax, drawn, [colours[models.index(r.model)] for r in drawn], len(devices) > 1)
    for level in dict.fromkeys(r.dust for r in drawn):
        rows_at = [r for r in drawn if r.dust == level]
        front = [rows_at[i] for i in pareto([(r.mean(X), r.mean(Y)) for r in rows_at])]
        xs, ys = [r.mean(X) for r in front], [r.mean(Y) for r in front]
        ax.plot(xs, ys, "--", color="0.4", linewidth=1, zorder=0)
        ax.scatter(xs, ys, s=190, facecolors="none", edgecolors="0.25", linewidths=1, zorder=4)
    handles = [Line2D([], [], color=c, marker="o", linestyle="", label=m) for m, c in zip(models, colours,
                                                                                          strict=True)]
    if len(devices) > 1:
        handles += [Line2D([], [], color="0.3", marker=MARKERS[k % len(MARKERS)], linestyle="", label=d)
                    for k, d in enumerate(devices)]
    handles.append(Line2D([], [], color="0.4", linestyle="--", marker="o", markersize=10, markerfacecolor="none",
                          label="frontier at one dust level"))
    ax.legend(handles=handles, fontsize=8, loc="best")
    scn = sweep.runs[0].scenario
    ax.set_xlabel("safety events per shift hour (collisions + near misses + e-stops)")
    ax.set_ylabel("tonnes per hour")
    ax.set_title(f"{sweep.scenario_path.stem}, {scn.hours:g} h shifts: mean and {CONFIDENCE:.0%} CI over "
                 f"{len(sweep.seeds)} seeds (latency emulated)", fontsize=10)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png")
    tmp.replace(path)
    return path


def _bar(row: ModelRow, column: str) -> list[list[float]]:
    """The interval below and above the mean, the part below 0 left off."""
    mean = row.mean(column) or 0.0
    return [[min(row.ci(column), max(mean, 0.0))], [row.ci(column)]]


def _labels(ax: Any, rows: list[ModelRow], colours: list[str], with_device: bool) -> None:
    """Label every point, each at the first of ``OFFSETS`` where its text overlaps no label placed before."""
    to_pt = 72.0 / ax.figure.dpi
    placed: list[tuple[float, float, float, float]] = []  # label boxes [pt]: left, bottom, right, top
    order = sorted(range(len(rows)), key=lambda i: (-(rows[i].mean(Y) or 0.0), rows[i].mean(X) or 0.0))
    for i in order:
        r = rows[i]
        name = f"{r.model} · {r.device}" if with_device else r.model
        text = f"{name} · dust {r.dust}"
        px, py = (v * to_pt for v in ax.transData.transform((r.mean(X), r.mean(Y))))
        width, height = 0.55 * LABEL_PT * len(text), 1.2 * LABEL_PT  # about: an average glyph is 0.55 em wide

        boxes = [(px + dx, py + dy, px + dx + width, py + dy + height) for dx, dy in OFFSETS]
        k = next((k for k, b in enumerate(boxes) if not any(_overlap(b, o) for o in placed)), len(OFFSETS) - 1)
        placed.append(boxes[k])
        line = {"arrowstyle": "-", "color": colours[i], "linewidth": 0.5, "shrinkA": 0}
        ax.annotate(text, (r.mean(X), r.mean(Y)), textcoords="offset points", xytext=OFFSETS[k],
                    fontsize=LABEL_PT, color=colours[i], arrowprops=None if k == 0 else line)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
