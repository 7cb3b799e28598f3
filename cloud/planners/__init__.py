"""Dispatch planners: ``plan(request, twin, layout) -> Order``, chosen by name in the scenario."""

from __future__ import annotations

from cloud.planners.base import Order, Planner, PlanningError, Request
from cloud.planners.min_wait import MinWaitPlanner
from cloud.planners.nearest import NearestPlanner

PLANNERS: dict[str, type[Planner]] = {"nearest": NearestPlanner, "min_wait": MinWaitPlanner}


def make_planner(name: str) -> Planner:
    try:
        return PLANNERS[name]()
    except KeyError:
        raise KeyError(f"unknown planner {name!r} (expected one of {', '.join(sorted(PLANNERS))})") from None


__all__ = ["PLANNERS", "Order", "Planner", "PlanningError", "Request", "make_planner"]
