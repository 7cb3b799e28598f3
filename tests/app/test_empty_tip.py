"""Orders no planner of ours gives, obeyed safely: an empty truck sent to tip is no load; one sent to the park
asks again."""

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


def test_a_truck_sent_to_the_park_asks_again_and_goes_back_to_work():
    run = build_run(load_scenario("tutorial").with_overrides(hours=1.0))
    reference = run.cloud.planner
    parked = []

    class ParkOnce:
        name = "park-once"

        def plan(self, request, twin, layout):
            if request.payload_t == 0 and request.at != "park-1" and not parked:
                parked.append(request.t)
                return order_for(request, "park-1", layout)
            return reference.plan(request, twin, layout)

    run.cloud.planner = ParkOnce()
    run.sim.run(3600.0)
    run.close()
    assert parked
    arrived = next(t for t, _, ev, at, _ in run.sim.log if ev == "arrive" and at == "park-1" and t > parked[0])
    assert any(ev == "dumped" and t > arrived for t, _, ev, _, _ in run.sim.log)  # back at work after the park
    summary = summarize(run.sim)
    assert summary["dispatch"]["messages_rejected"] == 0 and summary["dispatch"]["order_timeouts"] == 0
