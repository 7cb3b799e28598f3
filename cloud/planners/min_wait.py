"""Shortest expected wait: the destination where the truck can start service soonest (SQ/SPTF family).

For each candidate, the truck could start at max(travel time, time until the trucks already committed
there are served), then add its own service. Committed trucks are those the cloud has sent there and not
yet heard finish (from its own orders and the trucks' events), so the rule needs no positions.
"""

from __future__ import annotations

from cloud.layout import Layout
from cloud.planners.base import Order, PlanningError, Request, candidates, order_for
from cloud.twin import FleetTwin


class MinWaitPlanner:
    name = "min_wait"

    def plan(self, request: Request, twin: FleetTwin, layout: Layout) -> Order:
        loaded = request.payload_t > 0
        committed = twin.heading_to()
        best: tuple[float, str] | None = None
        for dest in candidates(request, layout, twin.down_facilities()):
            travel = layout.travel_s(request.at, dest, request.truck_class, loaded)
            if travel is None:
                continue
            fac = layout.facilities[dest]
            backlog = committed.get(dest, 0) * fac.service_s / max(fac.bays, 1)
            finish = max(travel, backlog) + fac.service_s
            if best is None or (finish, dest) < best:
                best = (finish, dest)
        if best is None:
            raise PlanningError(f"no route from {request.at} for truck {request.truck}")
        dest = best[1]
        return order_for(request, dest, layout)
