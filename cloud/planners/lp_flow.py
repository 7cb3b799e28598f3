"""``lp_flow``: DISPATCH-style planning. A flow LP sets target trips per path; each free truck then goes where the
plan is furthest behind.

Upper stage (``cloud.flowlp``): the loaded and empty trips per hour on each path that maximise t/h under dig
rates, sink capacities, the trucks available per class and any material targets. It is solved when the layout
arrives and again whenever what it rests on changes: a unit goes down or comes back, a truck breaks down or is
repaired, a road closure republishes the layout. Travel times are the twin's, learned from observed trips.

Lower stage (real-time assignment): a loaded truck goes to the sink whose path from its load point is furthest
behind its target tonnes since the last solve; an empty truck goes to the load point furthest behind its target
trips, counting the truck's own travel time (a truck sent now arrives later) and less the queue it would find
there (trucks already sent and not yet loaded), so trucks sent together do not bunch at one shovel. Paths the
plan leaves at zero are used only when no planned path is open to the truck (then the nearest, as a real
dispatcher would).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cloud.flowlp import FlowPlan, Target, solve
from cloud.layout import Layout
from cloud.planners.base import Order, PlanningError, Request, candidates, order_for
from cloud.twin import FleetTwin


@dataclass(frozen=True)
class LpFlowOptions:
    learn: bool = True  # plan on travel times learned from trips (False: the layout's free-flow times)
    coal_tph: float = 0.0  # [t/h] material target: at least this much coal (0: none)
    coal_share: float = 0.0  # [-] material target: at least this share of all tonnes as coal (0: none)
    crusher_tph: float = 0.0  # [t/h] at least this much into the crushers (0: none)
    queue_weight: float = 1.0  # [-] how much an empty truck's expected queue counts against a load point's lag
    replan_s: float = 0.0  # [s] solve again this often on the travel times learned since (0: only on changes)


class LpFlowPlanner:
    name = "lp_flow"
    Options = LpFlowOptions

    def __init__(self, options: LpFlowOptions | None = None, rng: np.random.Generator | None = None) -> None:
        self.options = options or LpFlowOptions()
        self.plan_: FlowPlan | None = None
        self.solves = 0
        self._basis: tuple = ()
        self._t0 = 0.0
        self._sent_t: dict[tuple[str, str], float] = {}  # tonnes sent per path since the last solve
        self._sent_trips: dict[str, int] = {}  # empty trucks sent per load point since the last solve

    # -- the upper stage --------------------------------------------------------------------------------

    def targets(self, layout: Layout) -> tuple[Target, ...]:
        o, out = self.options, []
        if o.coal_tph or o.coal_share:
            out.append(Target("coal", tph=o.coal_tph, share=o.coal_share))
        for f in layout.facilities.values():
            if f.kind == "crusher" and o.crusher_tph:
                out.append(Target(f.accepts[0] if f.accepts else "coal", tph=o.crusher_tph, sink=f.id))
        return tuple(out)

    def available(self, twin: FleetTwin, layout: Layout) -> dict[str, float]:
        down = twin.down_by_class()
        return {c: max(n - down.get(c, 0), 0) for c, n in layout.fleet.items()}

    def ensure_plan(self, twin: FleetTwin, layout: Layout, t: float) -> FlowPlan:
        """Solve again when the layout, the units in service or the trucks available have changed."""
        basis = (id(layout), twin.down_units(), tuple(sorted(self.available(twin, layout).items())))
        stale = self.options.replan_s > 0 and t - self._t0 >= self.options.replan_s
        if self.plan_ is None or basis != self._basis or stale:
            travel = (lambda a, b, c, loaded: twin.travel_s(layout, a, b, c, loaded)) if self.options.learn \
                else layout.travel_s
            self.plan_ = solve(layout, self.available(twin, layout), travel, twin.down_units(),
                               targets=self.targets(layout))
            self.solves += 1
            self._basis, self._t0 = basis, t
            self._sent_t, self._sent_trips = {}, {}
        return self.plan_

    # -- the lower stage --------------------------------------------------------------------------------

    def plan(self, request: Request, twin: FleetTwin, layout: Layout) -> Order:
        plan = self.ensure_plan(twin, layout, request.t)
        dests = candidates(request, layout, twin.down_facilities())
        if not dests:
            raise PlanningError(f"no route from {request.at} for truck {request.truck}")
        elapsed_h = max(request.t - self._t0, 1.0) / 3600.0
        loaded = request.payload_t > 0
        best: tuple[float, str] | None = None
        if loaded:
            target = plan.path_tph()
            for d in dests:
                tph = target.get((request.at, d), 0.0)
                if tph > 0:
                    behind = (tph * elapsed_h - self._sent_t.get((request.at, d), 0.0)) / tph  # [h] behind plan
                    if best is None or (-behind, d) < (-best[0], best[1]):
                        best = (behind, d)
        else:
            trips = plan.shovel_trips()
            committed = twin.heading_to()
            for s in dests:
                rate = trips.get(s, 0.0)
                travel = twin.travel_s(layout, request.at, s, request.truck_class, False)
                if rate > 0 and travel is not None:
                    due = rate * (elapsed_h + travel / 3600.0)  # trips the plan wants there by the truck's arrival
                    behind = (due - self._sent_trips.get(s, 0)) / rate
                    # ... less the queue the truck would find there: trucks sent ahead of it and not yet loaded
                    fac = layout.facilities[s]
                    wait = max(committed.get(s, 0) * fac.service_s / max(fac.bays, 1) - travel, 0.0)
                    score = behind - self.options.queue_weight * wait / 3600.0
                    if best is None or (-score, s) < (-best[0], best[1]):
                        best = (score, s)
        dest = best[1] if best is not None else self._nearest(request, twin, layout, dests)
        if loaded:
            self._sent_t[(request.at, dest)] = self._sent_t.get((request.at, dest), 0.0) + request.payload_t
        else:
            self._sent_trips[dest] = self._sent_trips.get(dest, 0) + 1
        return order_for(request, dest, layout)

    def _nearest(self, request: Request, twin: FleetTwin, layout: Layout, dests: list[str]) -> str:
        loaded = request.payload_t > 0
        times = [(twin.travel_s(layout, request.at, d, request.truck_class, loaded) or np.inf, d) for d in dests]
        return min(times)[1]
