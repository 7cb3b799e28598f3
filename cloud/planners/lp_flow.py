"""``lp_flow``: DISPATCH-style planning. A flow LP sets target trips per path; each free truck then goes where the
plan is furthest behind.

Upper stage (``cloud.flowlp``): the loaded and empty trips per hour on each path that maximise t/h under dig
rates, sink capacities, the trucks available per class and any material targets. It is solved when the layout
arrives and again whenever what it rests on changes: a unit goes down or comes back, a truck breaks down or is
repaired, a road closure republishes the layout. Travel times are the twin's, learned from observed trips.

Lower stage (real-time assignment): a loaded truck goes to the sink whose path from its load point is furthest
behind its target tonnes since the last solve. An empty truck goes by the plan's empty paths from where it is:
each path has arrival slots spaced by its target interval (3600 / trips per hour), and the truck takes the path
whose next slot it would be latest for, counting its own travel time; then that path's next slot moves one
interval on. Trucks so keep to the plan's short empty hauls and arrive at each shovel evenly spaced, instead of
bunching. From a park (or anywhere the plan sends no empty trucks from) the slots are per load point, and a
load point that falls ``starve`` intervals behind its own slots draws trucks off other loops (after a shovel
was down, the loops that took its trucks would otherwise keep them). Paths the
plan leaves at zero are used only when no planned path is open to the truck (then the nearest, as a real
dispatcher would).
"""

from __future__ import annotations

from collections.abc import Callable
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
    slack_s: float = 0.0  # [s] a truck arriving this much after its slot still keeps the slots behind it
    starve: float = 4.0  # [intervals] a load point this far behind its slots draws trucks off other loops
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
        self._sent_t: dict[tuple[str, str, str], float] = {}  # tonnes sent per (class, path) since the last solve
        # [s] next planned arrival per (class, sink, load point), or (class, "*", load point)
        self._due: dict[tuple[str, str, str], float] = {}

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
            self._sent_t, self._due = {}, {}
        return self.plan_

    # -- the lower stage --------------------------------------------------------------------------------

    def plan(self, request: Request, twin: FleetTwin, layout: Layout) -> Order:
        dest, best = self.choose(request, twin, layout)
        self.commit(request, dest, best, twin, layout)
        return order_for(request, dest, layout)

    def choose(self, request: Request, twin: FleetTwin, layout: Layout) -> tuple[str, tuple | None]:
        """Where the plan would send this truck, and why (the slot it would take), without recording it: a
        planner that keeps this one as its reference (``pangu``) asks, then ``commit``s what it really chose."""
        plan = self.ensure_plan(twin, layout, request.t)
        dests = candidates(request, layout, twin.down_facilities())
        if not dests:
            raise PlanningError(f"no route from {request.at} for truck {request.truck}")
        elapsed_h = max(request.t - self._t0, 1.0) / 3600.0
        loaded = request.payload_t > 0
        cls = request.truck_class  # every target and slot is per truck class, as the LP plans them
        best: tuple | None = None
        if loaded:
            target = plan.path_tph(request.truck_class)
            for d in dests:
                tph = target.get((request.at, d), 0.0)
                if tph > 0:
                    behind = (tph * elapsed_h - self._sent_t.get((cls, request.at, d), 0.0)) / tph  # [h] behind
                    if best is None or (-behind, d) < (-best[0], best[1]):
                        best = (behind, d)
        else:
            paths = plan.empty_trips(cls)
            from_here = {s: r for (d, s), r in paths.items() if d == request.at and s in dests}
            on_path = self._latest(request, twin, layout, from_here, lambda s: (cls, request.at, s))
            by_shovel = self._latest(request, twin, layout, plan.shovel_trips(cls), lambda s: (cls, "*", s), dests)
            # Keep to this sink's planned empty paths, unless a load point is starving: later for its slots (from
            # everywhere) by more than ``starve`` intervals than the best path here. That moves trucks back when a loop
            # has drawn more than its share (after a shovel was down, say).
            best = on_path
            starving = by_shovel is not None and (
                on_path is None or by_shovel[0] > on_path[0] + self.options.starve * by_shovel[3])
            if starving:
                best = by_shovel
        dest = best[1] if best is not None else self._nearest(request, twin, layout, dests)
        return dest, best

    def commit(self, request: Request, dest: str, best: tuple | None, twin: FleetTwin, layout: Layout) -> None:
        """Record that ``request``'s truck goes to ``dest``: tonnes sent on its loaded path, or the empty slots it
        takes. ``best`` is what ``choose`` gave; for another destination the truck's own arrival is used."""
        plan = self.plan_
        cls = request.truck_class
        if plan is None:
            return
        if request.payload_t > 0:
            key = (cls, request.at, dest)
            self._sent_t[key] = self._sent_t.get(key, 0.0) + request.payload_t
            return
        if best is None:
            return  # the plan had no slot for this truck (it went to the nearest): none is taken
        if best[1] == dest:
            arrive = best[2]
        else:
            travel = twin.travel_s(layout, request.at, dest, cls, False)
            if travel is None:
                return
            arrive = request.t + travel
        trips = plan.shovel_trips(cls)
        for key, rate in (((cls, request.at, dest), plan.empty_trips(cls).get((request.at, dest), 0.0)),
                          ((cls, "*", dest), trips.get(dest, 0.0))):
            if rate > 0:
                self._due[key] = max(self._due.get(key, self._t0), arrive - self.options.slack_s) + 3600.0 / rate

    def _latest(self, request: Request, twin: FleetTwin, layout: Layout, trips: dict[str, float],
                slot: Callable[[str], tuple[str, str, str]], dests: list[str] | None = None) -> tuple | None:
        """The load point whose next slot (spaced 3600 / trips per hour) this truck would be latest for:
        (lateness [s], load point, arrival [s], interval [s], slot key), or None."""
        best = None
        for s in (dests if dests is not None else sorted(trips)):
            rate = trips.get(s, 0.0)
            travel = twin.travel_s(layout, request.at, s, request.truck_class, False)
            if rate > 0 and travel is not None:
                arrive = request.t + travel
                late = arrive - self._due.get(slot(s), self._t0)
                if best is None or (-late, s) < (-best[0], best[1]):
                    best = (late, s, arrive, 3600.0 / rate, slot(s))
        return best

    def _nearest(self, request: Request, twin: FleetTwin, layout: Layout, dests: list[str]) -> str:
        loaded = request.payload_t > 0
        times = [(twin.travel_s(layout, request.at, d, request.truck_class, loaded) or np.inf, d) for d in dests]
        return min(times)[1]
