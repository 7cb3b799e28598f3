"""Dispatch planners: ``plan(request, twin, layout) -> Order``, chosen by name, with keyword options.

A scenario names one (``[cloud] planner``) and may give it options (``[cloud.planner]``); the site layout carries
the same choice (``PlannerSpec``) so a cloud run as its own process plans exactly as one in process would. Each
planner declares its options as a frozen dataclass (``Options``); a key it does not have, or a value of the wrong
type, is refused by name before anything runs.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cloud.planners.base import Order, Planner, PlannerConfigError, PlanningError, Request

# Name -> "module:class". Loaded on first use: the LP planners bring scipy, which a run that does not use them
# should not wait for at start.
PLANNERS: dict[str, str] = {"nearest": "cloud.planners.nearest:NearestPlanner",
                            "min_wait": "cloud.planners.min_wait:MinWaitPlanner",
                            "lp_flow": "cloud.planners.lp_flow:LpFlowPlanner",
                            "fixed": "cloud.planners.fixed:FixedPlanner",
                            "pangu": "cloud.planners.pangu:PanguPlanner"}


def planner_class(name: str) -> type:
    """The class of planner ``name`` (a key of ``PLANNERS``), imported on first use."""
    module, cls = PLANNERS[name].split(":")
    return getattr(importlib.import_module(module), cls)


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
    opt_cls = getattr(planner_class(name), "Options", None)
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
    cls = planner_class(spec.name)
    rng = np.random.default_rng(spec.seed)
    return cls(options, rng) if options is not None else cls()


__all__ = ["PLANNERS", "Order", "Planner", "PlannerConfigError", "PlannerSpec", "PlanningError", "Request",
           "make_planner", "planner_class", "planner_options"]
