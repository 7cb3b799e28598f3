"""``fixed``: each truck is bound to one load point for the shift, the way many mines still run (truck groups).

The groups are the user's (``[cloud.planner] groups = {"shovel-c11" = ["T001", ...]}``) or, for trucks not named
there, the flow LP's allocation at the start of the shift: each load point gets the share of each class's trucks
that its planned trips take of that class's truck-time (largest remainders). A loaded truck tips where the plan
sends most of its load point's tonnes. The groups are never re-planned: when a truck's load point is out of
service it goes to the nearest one in service until its own is back. That is the reference the dynamic planners
are measured against.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cloud.flowlp import FlowPlan, solve, unit_rates
from cloud.layout import Layout
from cloud.planners.base import Order, PlanningError, Request, candidates, order_for
from cloud.twin import FleetTwin


@dataclass(frozen=True)
class FixedOptions:
    groups: dict = field(default_factory=dict)  # load point -> truck ids bound to it (the rest: the LP's share)


class FixedPlanner:
    name = "fixed"
    Options = FixedOptions

    def __init__(self, options: FixedOptions | None = None, rng: np.random.Generator | None = None) -> None:
        self.options = options or FixedOptions()
        self.home: dict[str, str] = {t: s for s, ids in self.options.groups.items() for t in ids}
        self.plan_: FlowPlan | None = None
        self._quota: dict[tuple[str, str], int] = {}  # (class, load point) -> trucks
        self._given: dict[tuple[str, str], int] = {}

    def _allocate(self, layout: Layout) -> None:
        """Trucks per (class, load point) from the plan's truck-time per load point."""
        self.plan_ = plan = solve(layout, {c: float(n) for c, n in layout.fleet.items()}, layout.travel_s)
        for cls, count in layout.fleet.items():
            use: dict[str, float] = {}
            for (c, s, d), trips in plan.loaded.items():
                if c == cls:
                    _, stand, _ = unit_rates(layout.facilities[s], c)
                    cycle = ((layout.travel_s(s, d, c, True) or 0.0) + stand + layout.facilities[d].service_s)
                    use[s] = use.get(s, 0.0) + trips * cycle
            for (c, d, s), trips in plan.empty.items():
                if c == cls:
                    use[s] = use.get(s, 0.0) + trips * (layout.travel_s(d, s, c, False) or 0.0)
            total = sum(use.values())
            if total <= 0:
                continue
            exact = {s: count * u / total for s, u in use.items()}
            quota = {s: int(np.floor(v)) for s, v in exact.items()}
            left = count - sum(quota.values())
            for s in sorted(exact, key=lambda s: (-(exact[s] - quota[s]), s))[:left]:
                quota[s] += 1
            for s, q in quota.items():
                self._quota[(cls, s)] = q

    def _home_of(self, request: Request, layout: Layout) -> str | None:
        home = self.home.get(request.truck)
        if home is None and self._quota:
            short = [(self._given.get((request.truck_class, s), 0) - q, s)
                     for (c, s), q in sorted(self._quota.items()) if c == request.truck_class]
            if short:
                home = min(short)[1]
                self._given[(request.truck_class, home)] = self._given.get((request.truck_class, home), 0) + 1
                self.home[request.truck] = home
        return home

    def plan(self, request: Request, twin: FleetTwin, layout: Layout) -> Order:
        if self.plan_ is None:
            self._allocate(layout)
        dests = candidates(request, layout, twin.down_facilities())
        if not dests:
            raise PlanningError(f"no route from {request.at} for truck {request.truck}")
        loaded = request.payload_t > 0
        if loaded:
            flows = {d: t for (s, d), t in self.plan_.path_tph().items() if s == request.at and d in dests}
            if flows:
                return order_for(request, max(flows, key=lambda d: (flows[d], d)), layout)
        else:
            home = self._home_of(request, layout)
            if home in dests:
                return order_for(request, home, layout)
        times = [(layout.travel_s(request.at, d, request.truck_class, loaded) or np.inf, d) for d in dests]
        return order_for(request, min(times)[1], layout)
