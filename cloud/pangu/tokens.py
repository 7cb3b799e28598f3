"""What the pre-trained dispatch model sees of one decision: a set of entity tokens (contract ``dispatch-tokens/1``).

Token 0 is the requesting truck; tokens 1.. are the layout's load points and then its dumps and crushers, each in
id order, padded to ``MAX_TOKENS``. A token's features are dimensionless: times are divided by the mine's own
time scale (the median free-flow route time of the truck's class), rates are trips per that scale, so a mine of
3 km hauls and one of 15 km look alike to the model. Trucks enter as what they do to the facilities: the trucks
committed to each one (ordered there and not yet served), the backlog they make, when this truck could start.

The three reference planners' views ride along as features, the way a dispatcher's screen shows the plan beside
the queues: the flow LP's target trips on the path to each facility, and which facility ``lp_flow``, ``min_wait``
and ``fixed`` would each pick. The model learns when each of them is right for the mine it sees, and where to
depart from all three; ``Experts`` keeps them in step with what was really chosen.

The ONNX contract: input ``tokens`` float32 [N, T, D] and ``mask`` float32 [N, T] (1 where the token may be
chosen), output ``scores`` float32 [N, T]; T = ``MAX_TOKENS``, D = ``len(FEATURES)``. ``metadata_props`` carry
``contract``, ``max_tokens`` and ``features`` (comma-joined), checked when the model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cloud.flowlp import unit_rates
from cloud.layout import Facility, Layout
from cloud.planners.base import PlanningError, Request, candidates
from cloud.planners.fixed import FixedPlanner
from cloud.planners.lp_flow import LpFlowPlanner
from cloud.planners.min_wait import MinWaitPlanner
from cloud.twin import FleetTwin

CONTRACT = "dispatch-tokens/1"
MAX_TOKENS = 64  # the requesting truck and up to 63 load points and sinks
FEATURES = (
    "requester",  # 1 on token 0
    "shovel", "dump", "crusher",  # kind of a facility token
    "candidate",  # 1 where the truck may be sent (the action mask)
    "travel",  # facility: learned travel time from where the truck is; requester: 1 when loaded
    "service",  # facility: time a truck of this class stands there; requester: trucks of its class per load point / 10
    "units_up",  # facility: share of its units or bays in service; requester: share of load points in service
    "committed",  # trucks ordered there and not yet served, per unit in service
    "backlog",  # time those trucks keep its units busy
    "finish",  # when this truck could be done there: max(travel, backlog) + service (min_wait's score)
    "capacity",  # trucks it can serve per time scale (dig rate or tipping rate)
    "lp_rate",  # the flow plan's target trips per time scale on the path from here to it
    "lp_pick", "min_wait_pick", "fixed_pick",  # 1 where that planner would send this truck
)
CLIP = 10.0  # features are clipped to +-CLIP: a far outlier must not swamp a small network


class TokenError(ValueError):
    """A layout the model cannot take (more facilities than tokens)."""


@dataclass
class Tokens:
    """One decision as the model sees it, and the facility each token stands for."""

    x: np.ndarray  # float32 [MAX_TOKENS, D]
    mask: np.ndarray  # float32 [MAX_TOKENS]
    dests: list[str | None]  # facility id per token (None: the requester or padding)
    lp_best: tuple | None  # what lp_flow's choice rests on (for ``Experts.commit``)
    picks: dict[str, str]  # reference planner -> its destination

    def index(self, dest: str) -> int:
        return self.dests.index(dest)


def facilities_of(layout: Layout) -> list[Facility]:
    """The facilities that become tokens, in token order (load points, then sinks, each by id)."""
    sinks = sorted((f for f in layout.facilities.values() if f.kind in ("dump", "crusher")), key=lambda f: f.id)
    out = layout.shovels() + sinks
    if len(out) > MAX_TOKENS - 1:
        raise TokenError(f"the layout has {len(out)} load points and sinks; the model takes at most {MAX_TOKENS - 1}")
    return out


def time_scale(layout: Layout, cls: str) -> float:
    """[s] the median free-flow route time of a class: the unit every time feature is measured in."""
    times = [t for r in layout.routes.values() for t in (r.time_s.get(cls) or next(iter(r.time_s.values())))]
    return float(np.median(times)) if times else 600.0


class Experts:
    """The reference planners whose picks are features, kept in step with the decisions really taken."""

    def __init__(self, lp: LpFlowPlanner | None = None) -> None:
        self.lp = lp or LpFlowPlanner()
        self.min_wait = MinWaitPlanner()
        self.fixed = FixedPlanner()

    def picks(self, request: Request, twin: FleetTwin, layout: Layout) -> tuple[dict[str, str], tuple | None]:
        lp_dest, lp_best = self.lp.choose(request, twin, layout)
        return {"lp_flow": lp_dest, "min_wait": self.min_wait.plan(request, twin, layout).dest,
                "fixed": self.fixed.plan(request, twin, layout).dest}, lp_best

    def commit(self, request: Request, dest: str, tokens: Tokens, twin: FleetTwin, layout: Layout) -> None:
        self.lp.commit(request, dest, tokens.lp_best, twin, layout)


class Encoder:
    """Tokens for each request; what depends only on the layout is worked out once per layout."""

    def __init__(self) -> None:
        self._layout_id: int | None = None
        self._facs: list[Facility] = []
        self._scale: dict[str, float] = {}

    def _static(self, layout: Layout) -> list[Facility]:
        if self._layout_id != id(layout):
            self._facs = facilities_of(layout)
            self._scale = {}
            self._layout_id = id(layout)
        return self._facs

    def encode(self, request: Request, twin: FleetTwin, layout: Layout, experts: Experts) -> Tokens:
        """The tokens of ``request``; ``PlanningError`` when the truck has nowhere to go, ``TokenError`` when the
        layout is too large for the model."""
        facs = self._static(layout)
        cls = request.truck_class
        scale = self._scale.get(cls)
        if scale is None:
            scale = self._scale[cls] = time_scale(layout, cls)
        down = twin.down_facilities()
        dests = set(candidates(request, layout, down))
        if not dests:
            raise PlanningError(f"no route from {request.at} for truck {request.truck}")
        picks, lp_best = experts.picks(request, twin, layout)
        loaded = request.payload_t > 0
        committed = twin.heading_to()
        units_down = twin.down_units()
        plan = experts.lp.plan_
        x = np.zeros((MAX_TOKENS, len(FEATURES)), np.float32)
        mask = np.zeros(MAX_TOKENS, np.float32)
        f = {name: k for k, name in enumerate(FEATURES)}
        points = [p for p in facs if p.kind == "shovel"]
        up_points = sum(1 for p in points if p.id not in down)
        x[0, f["requester"]] = 1.0
        x[0, f["travel"]] = float(loaded)
        x[0, f["service"]] = layout.fleet.get(cls, 0) / max(len(points), 1) / 10.0
        x[0, f["units_up"]] = up_points / max(len(points), 1)
        token_dests: list[str | None] = [None] * MAX_TOKENS
        for k, fac in enumerate(facs, start=1):
            token_dests[k] = fac.id
            row = x[k]
            row[f[fac.kind]] = 1.0
            is_cand = fac.id in dests
            row[f["candidate"]] = mask[k] = float(is_cand)
            travel = twin.travel_s(layout, request.at, fac.id, cls, loaded) if is_cand else None
            if fac.kind == "shovel":
                rate, stand, _ = unit_rates(fac, cls, units_down)
                units = max(len(fac.unit_specs), 1)
                up = sum(1 for u in fac.unit_specs if u.id not in units_down) / units if fac.unit_specs else 1.0
                service, per_h = stand, rate * 3600.0
            else:
                up = twin.units_up.get(fac.id, fac.bays) / max(fac.bays, 1)
                service = fac.service_s
                per_h = fac.bays * 3600.0 / max(fac.service_s, 1.0)
            n_up = max(up * max(fac.bays, 1), 1.0)
            backlog = committed.get(fac.id, 0) * fac.service_s / max(fac.bays, 1)
            row[f["units_up"]] = up
            row[f["service"]] = service / scale
            row[f["committed"]] = committed.get(fac.id, 0) / n_up
            row[f["backlog"]] = backlog / scale
            row[f["capacity"]] = per_h * scale / 3600.0
            if travel is not None:
                row[f["travel"]] = travel / scale
                row[f["finish"]] = (max(travel, backlog) + fac.service_s) / scale
            if plan is not None and is_cand:
                trips = plan.loaded.get((cls, request.at, fac.id), 0.0) if loaded \
                    else plan.empty.get((cls, request.at, fac.id), 0.0)
                row[f["lp_rate"]] = trips * scale / 3600.0
            for name, key in (("lp_flow", "lp_pick"), ("min_wait", "min_wait_pick"), ("fixed", "fixed_pick")):
                row[f[key]] = float(picks[name] == fac.id)
        np.clip(x, -CLIP, CLIP, out=x)
        return Tokens(x, mask, token_dests, lp_best, picks)
