"""The one contract every benchmark's ``run()`` returns, and the table ``python -m bench`` prints from it.

A figure is only meaningful beside something measured in the same run on the same (possibly shared) host: a
floor (what the library underneath costs at best), a peer, or the same work without the part being judged. So
every figure carries that baseline and the ratio to it, plus the target it is judged against and the verdict.
Modules build figures with :func:`figure`, which derives the ratio, and :func:`at_least` / :func:`at_most`,
which give a target's text and verdict from one number, so a target is written once.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import asdict, dataclass
from typing import Any

VERDICT_OK = "ok"
VERDICT_SHORT = "SHORT"
VERDICT_NONE = "-"  # a figure shown for reading, judged against no target


@dataclass(frozen=True)
class Figure:
    """One measured figure, its baseline measured in the same run, and its target verdict."""

    name: str
    value: float
    unit: str
    baseline: float | None = None  # the floor or peer, measured in the same run
    baseline_name: str = ""
    ratio: float | None = None  # value / baseline, unless the module defines the ratio otherwise
    target: str = ""  # the target as text, e.g. ">= 200x"
    ok: bool | None = None  # None: no target

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Target:
    """A target's text and its verdict on a value."""

    text: str
    ok: bool


def at_least(value: float, limit: float, unit: str = "") -> Target:
    return Target(f">= {limit:,g}{unit}", value >= limit)


def at_most(value: float, limit: float, unit: str = "") -> Target:
    return Target(f"<= {limit:,g}{unit}", value <= limit)


def below(value: float, limit: float, unit: str = "") -> Target:
    return Target(f"< {limit:,g}{unit}", value < limit)


def figure(name: str, value: float, unit: str, *, baseline: float | None = None, baseline_name: str = "",
           ratio: float | None = None, target: Target | None = None) -> dict[str, Any]:
    """A figure as the JSON-able dict ``run()`` lists under ``figures``; the ratio is value / baseline unless
    given (some ratios read the other way round, e.g. a floor's time over ours)."""
    if ratio is None and baseline not in (None, 0):
        ratio = value / baseline
    return Figure(name, float(value), unit, None if baseline is None else float(baseline), baseline_name,
                  None if ratio is None else float(ratio), target.text if target else "",
                  target.ok if target else None).as_dict()


def verdict(ok: bool | None) -> str:
    return VERDICT_NONE if ok is None else (VERDICT_OK if ok else VERDICT_SHORT)


def host_info() -> dict[str, Any]:
    """Where the figures were measured: they carry over between hosts only as ratios."""
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:  # not every platform has a load average
        load = None
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "python": platform.python_version(), "platform": platform.platform(), "load_average": load,
            "executable": os.path.basename(sys.executable)}


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def table(results: dict[str, dict[str, Any]]) -> list[str]:
    """Lines of the table: one row per figure, grouped by module; a module that failed or was skipped gets one
    row saying so."""
    head = (f"{'module':<16} {'figure':<44} {'value':>12} {'unit':<9} {'baseline (same run)':<30} {'ratio':>8} "
            f"{'target':>12} {'verdict':>7}")
    lines = [head, "-" * len(head)]
    for module, res in results.items():
        if "error" in res:
            lines.append(f"{module:<16} FAILED: {res['error']}")
            continue
        if "skipped" in res:
            lines.append(f"{module:<16} skipped: {res['skipped']}")
            continue
        figures = res.get("figures") or []
        if not figures:
            lines.append(f"{module:<16} (no figures; see the JSON detail)")
        for f in figures:
            base = "" if f.get("baseline") is None else f"{f.get('baseline_name', '')} {_num(f['baseline'])}"
            lines.append(f"{module:<16} {f['name'][:44]:<44} {_num(f['value']):>12} {f['unit'][:9]:<9} "
                         f"{base[:30]:<30} {_num(f.get('ratio')):>8} {f.get('target') or '-':>12} "
                         f"{verdict(f.get('ok')):>7}")
    return lines


def print_figures(figures: list[dict[str, Any]]) -> None:
    """A module's own CLI: its figures alone, in the same layout as the whole table."""
    print("\n".join(table({"": {"figures": figures}})))
