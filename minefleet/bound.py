"""The LP upper bound of a finished run: what the flow LP says the same layout, fleet and availability could haul.

The bound takes the run's own site layout with the payloads its shovels really loaded, the trucks of each class
times their availability over the shift, each shovel's availability, and free-flow travel times (no queues, no
traffic), so no dispatcher can beat it; a planner's production is reported as a share of it. Simulated figures
only: it belongs in ``summary.json``.

The bound is a steady state, and a shift is not: its trucks leave the park one by one and tip their first loads a
cycle later, and the loads under way when it ends are never tipped. So beside the share of the whole shift, the
share of the steady state is given too: the t/h tipped after a warm-up hour (the standard warm-up deletion of
simulation output analysis), against the same bound.
"""

from __future__ import annotations

from typing import Any

from cloud.flowlp import solve
from cloud.layout import Layout

WARMUP_S = 3600.0  # [s] left out of the steady-state rate: the fleet's release and first cycle


def steady_tph(sim: Any, warmup_s: float = WARMUP_S) -> float | None:
    """t/h tipped after the warm-up; None for a shift shorter than twice the warm-up."""
    if sim.t < 2 * warmup_s:
        return None
    tipped = sum(payload for t, _, event, _, payload in sim.log if event == "dumped" and t > warmup_s)
    return tipped / ((sim.t - warmup_s) / 3600.0)


def _loaded_payloads(sim: Any, body: dict[str, Any]) -> dict[str, Any]:
    """The layout with each unit's payload per truck class set to the mean the shift really loaded there.

    The layout plans whole passes toward the rated payload; the loads themselves scatter around it (pass fill,
    the 10/10/20 rule), and on the shipped mines they average a few per cent above the plan. A bound at the
    planned payload would then sit below what a dig-rate-bound shift can tip, so the bound takes the loads as
    they came; a unit that loaded no truck of a class keeps the planned figure."""
    sums: dict[tuple[str, str], list[float]] = {}
    for cls, payload, _, _, _, unit in sim.loads_log:
        acc = sums.setdefault((unit, sim.classes[cls].id), [0.0, 0.0])
        acc[0] += payload
        acc[1] += 1
    for fac in body["facilities"]:
        for unit in fac.get("units", ()):
            for cls, spec in unit.get("by_class", {}).items():
                if (unit["id"], cls) in sums:
                    total, n = sums[(unit["id"], cls)]
                    spec["payload_t"] = total / n
    return body


def lp_bound(sim: Any, summary: dict[str, Any]) -> dict[str, Any]:
    layout = Layout(_loaded_payloads(sim, sim.layout_body()))
    trucks = {cls: fig["trucks"] * fig["availability"] for cls, fig in summary["by_class"].items()}
    share = {u: fig["availability"] for f in summary["facilities"].values() for u, fig in f.get("units", {}).items()}
    plan = solve(layout, trucks, layout.travel_s, unit_share=share)
    tph = plan.tonnes_per_hour
    out = {"tonnes_per_hour": round(tph, 1),
           "share": round(summary["tonnes_per_hour"] / tph, 4) if tph > 0 else 0.0,
           "binding": plan.binding}
    steady = steady_tph(sim)
    if steady is not None:
        out["steady_tonnes_per_hour"] = round(steady, 2)
        out["steady_share"] = round(steady / tph, 4) if tph > 0 else 0.0
    return out
