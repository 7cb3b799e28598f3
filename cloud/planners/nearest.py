"""Nearest destination by free-flow travel time: the simplest field rule, and the baseline to beat."""

from __future__ import annotations

from cloud.layout import Layout
from cloud.planners.base import Order, PlanningError, Request, candidates, order_for
from cloud.twin import FleetTwin


class NearestPlanner:
    name = "nearest"

    def plan(self, request: Request, twin: FleetTwin, layout: Layout) -> Order:
        loaded = request.payload_t > 0
        best: tuple[float, str] | None = None
        for dest in candidates(request, layout, twin.down_facilities()):
            t = layout.travel_s(request.at, dest, request.truck_class, loaded)
            if t is not None and (best is None or (t, dest) < best):
                best = (t, dest)
        if best is None:
            raise PlanningError(f"no route from {request.at} for truck {request.truck}")
        dest = best[1]
        return order_for(request, dest, layout)
