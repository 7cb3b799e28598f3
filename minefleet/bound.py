"""The LP upper bound of a finished run: what the flow LP says the same layout, fleet and availability could haul.

The bound takes the run's own site layout, the trucks of each class times their availability over the shift, each
shovel's availability, and free-flow travel times (no queues, no traffic), so no dispatcher can beat it; a
planner's production is reported as a share of it. Simulated figures only: it belongs in ``summary.json``.
"""

from __future__ import annotations

from typing import Any

from cloud.flowlp import solve
from cloud.layout import Layout


def lp_bound(sim: Any, summary: dict[str, Any]) -> dict[str, Any]:
    layout = Layout(sim.layout_body())
    trucks = {cls: fig["trucks"] * fig["availability"] for cls, fig in summary["by_class"].items()}
    share = {u: fig["availability"] for f in summary["facilities"].values() for u, fig in f.get("units", {}).items()}
    plan = solve(layout, trucks, layout.travel_s, unit_share=share)
    tph = plan.tonnes_per_hour
    return {"tonnes_per_hour": round(tph, 1),
            "share": round(summary["tonnes_per_hour"] / tph, 4) if tph > 0 else 0.0,
            "binding": plan.binding}
