"""Dispatch planners: ``plan(request, twin, layout) -> Order``, chosen by name, with keyword options.

A scenario names one (``[cloud] planner``) and may give it options (``[cloud.planner]``); the site layout carries
the same choice (``PlannerSpec``) so a cloud run as its own process plans exactly as one in process would. Each
planner declares its options as a frozen dataclass (``Options``); a key it does not have, or a value of the wrong
type, is refused by name before anything runs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cloud.planners.base import Order, Planner, PlannerConfigError, PlanningError, Request
from cloud.planners.fixed import FixedPlanner
from cloud.planners.lp_flow import LpFlowPlanner
from cloud.planners.min_wait import MinWaitPlanner
from cloud.planners.nearest import NearestPlanner
from cloud.planners.pangu import PanguPlanner

PLANNERS: dict[str, type] = {"nearest": NearestPlanner, "min_wait": MinWaitPlanner, "lp_flow": LpFlowPlanner,
                             "fixed": FixedPlanner, "pangu": PanguPlanner}


@dataclass(frozen=True)
class PlannerSpec:
    """Which planner, with which options, seeded how: what the layout tells a cloud to plan with."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0

    def body(self) -> dict[str, Any]:
        return {"name": self.name, "options": dict(self.options), "seed": self.seed}

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> PlannerSpec:
        return cls(str(body["name"]), dict(body.get("options", {})), int(body.get("seed", 0)))


def planner_options(name: str, options: dict[str, Any]) -> Any:
    """The planner's ``Options`` from a mapping; ``PlannerConfigError`` names an unknown planner, key or type."""
    if name not in PLANNERS:
        raise PlannerConfigError("planner", f"unknown planner {name!r} (known: {', '.join(sorted(PLANNERS))})")
    opt_cls = getattr(PLANNERS[name], "Options", None)
    if opt_cls is None:
        if options:
            raise PlannerConfigError(next(iter(options)), f"planner {name!r} takes no options")
        return None
    fields = {f.name: f for f in dataclasses.fields(opt_cls)}
    for key, value in options.items():
        if key not in fields:
            raise PlannerConfigError(key, f"is not an option of planner {name!r} "
                                          f"(its options: {', '.join(sorted(fields)) or 'none'})")
        want = type(getattr(opt_cls(), key))
        ok = isinstance(value, want) and not (isinstance(value, bool) and want is not bool)
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        if not ok:
            raise PlannerConfigError(key, f"must be {want.__name__}, got {value!r}")
    return opt_cls(**{k: (float(v) if type(getattr(opt_cls(), k)) is float else v) for k, v in options.items()})


def make_planner(spec: PlannerSpec | str) -> Planner:
    """A planner from its spec (or bare name), with the cloud's own random stream."""
    spec = PlannerSpec(spec) if isinstance(spec, str) else spec
    options = planner_options(spec.name, spec.options)
    cls = PLANNERS[spec.name]
    rng = np.random.default_rng(spec.seed)
    return cls(options, rng) if options is not None else cls()


__all__ = ["PLANNERS", "Order", "Planner", "PlannerConfigError", "PlannerSpec", "PlanningError", "Request",
           "make_planner", "planner_options"]
