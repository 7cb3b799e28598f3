"""An empty truck sent to a dump tips nothing: it is not counted as a load, and the next real loads are."""

from __future__ import annotations

from cloud.planners.base import order_for
from fleet.kpi import summarize
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario


def test_an_empty_tip_is_no_load():
    run = build_run(load_scenario("tutorial").with_overrides(hours=0.5))
    reference = run.cloud.planner
    misdirected = []

    class EmptyToDumpOnce:
        name = "empty-to-dump-once"

        def plan(self, request, twin, layout):
            if request.payload_t == 0 and not misdirected:
                misdirected.append(request.truck)
                return order_for(request, layout.sinks_for("coal")[0].id, layout)
            return reference.plan(request, twin, layout)

    run.cloud.planner = EmptyToDumpOnce()
    run.sim.run(1800.0)
    run.close()
    tips = [e for e in run.sim.log if e[2] == "dumped"]
    assert misdirected and tips[0][4] == 0.0  # the empty tip happened
    summary = summarize(run.sim)
    assert summary["loads"] == len(tips) - 1 == 2
    assert summary["tonnes"] == sum(e[4] for e in tips) == 720.0
