"""Orders no planner of ours gives, obeyed safely: an empty truck sent to tip is no load; one sent to the park
asks again."""

from __future__ import annotations

from collections.abc import Callable

from cloud.planners.base import order_for
from fleet.kpi import summarize
from minefleet.assemble import Run, build_run
from minefleet.scenario import load_scenario


def _shift_with_one_odd_order(hours: float, when: Callable, dest: Callable) -> tuple[Run, list[float]]:
    """A tutorial shift whose cloud gives one order of ``dest(layout)`` to the first request ``when(request)``
    accepts, and plans every other request as usual; the time that order was given."""
    run = build_run(load_scenario("tutorial").with_overrides(hours=hours))
    reference = run.cloud.planner
    given: list[float] = []

    class OneOddOrder:
        name = "one-odd-order"

        def plan(self, request, twin, layout):
            if when(request) and not given:
                given.append(request.t)
                return order_for(request, dest(layout), layout)
            return reference.plan(request, twin, layout)

    run.cloud.planner = OneOddOrder()
    run.sim.run(hours * 3600.0)
    run.close()
    return run, given


def test_an_empty_tip_is_no_load():
    run, given = _shift_with_one_odd_order(0.5, lambda r: r.payload_t == 0, lambda lay: lay.sinks_for("coal")[0].id)
    tips = [e for e in run.sim.log if e[2] == "dumped"]
    assert given and tips[0][4] == 0.0  # the empty tip happened
    summary = summarize(run.sim)
    assert summary["loads"] == len(tips) - 1 == 2
    assert summary["tonnes"] == sum(e[4] for e in tips) == 720.0


def test_a_truck_sent_to_the_park_asks_again_and_goes_back_to_work():
    run, given = _shift_with_one_odd_order(1.0, lambda r: r.payload_t == 0 and r.at != "park-1",
                                           lambda lay: "park-1")
    assert given
    arrived = next(t for t, _, ev, at, _ in run.sim.log if ev == "arrive" and at == "park-1" and t > given[0])
    assert any(ev == "dumped" and t > arrived for t, _, ev, _, _ in run.sim.log)  # back at work after the park
    summary = summarize(run.sim)
    assert summary["dispatch"]["messages_rejected"] == 0 and summary["dispatch"]["order_timeouts"] == 0
