"""The haulage flow LP (the DISPATCH pattern's upper stage): how many loaded and empty trips per hour on each path.

Variables, per truck class c: ``x[c, s, d]`` loaded trips/h from load point s to sink d, ``y[c, d, s]`` empty trips/h
back. The LP maximises tonnes/h = sum x * payload subject to
- flow balance: per class, trips into each load point and each sink equal trips out;
- dig rate: the trips each load point receives fit its units' time (a unit out of service gives none);
- sinks: tipping time fits the bays in service, and a crusher's tonnes fit its throughput;
- fleet: per class, the truck-seconds the trips take (travel both ways, loading, tipping) fit the trucks available;
- material targets (optional): at least so many t/h of a material, or a share of the total, into a sink.
Queues and traffic are not in it, so its optimum is an upper bound on what any dispatcher can haul with this
layout, fleet and availability; a real-time rule then sends each free truck to the path furthest behind its
target flow. Solved with scipy's HiGHS (``linprog(method="highs")``). See docs/architecture.md, "Cloud".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog

from cloud.layout import Facility, Layout

TravelFn = Callable[[str, str, str, bool], float | None]  # (origin, dest, class, loaded) -> seconds or None


@dataclass(frozen=True)
class Target:
    """At least ``tph`` t/h of ``material`` into ``sink`` (or into all sinks when None); or, with ``share``, that
    share of all tonnes."""

    material: str
    tph: float = 0.0
    share: float = 0.0
    sink: str | None = None


@dataclass
class FlowPlan:
    tonnes_per_hour: float
    loaded: dict[tuple[str, str, str], float]  # (class, load point, sink) -> trips/h
    empty: dict[tuple[str, str, str], float]  # (class, sink, load point) -> trips/h
    payload: dict[tuple[str, str], float]  # (class, load point) -> t per trip
    feasible: bool = True
    message: str = ""
    binding: list[str] = field(default_factory=list)  # constraints at their limit (for the reader)

    def path_tph(self, cls: str | None = None) -> dict[tuple[str, str], float]:
        """Target t/h per loaded path (load point, sink), of one truck class or (None) all together."""
        out: dict[tuple[str, str], float] = {}
        for (c, s, d), trips in self.loaded.items():
            if cls is None or c == cls:
                out[(s, d)] = out.get((s, d), 0.0) + trips * self.payload[(c, s)]
        return out

    def empty_trips(self, cls: str | None = None) -> dict[tuple[str, str], float]:
        """Target empty trips/h per path (sink, load point), of one truck class or (None) all together."""
        out: dict[tuple[str, str], float] = {}
        for (c, d, s), trips in self.empty.items():
            if cls is None or c == cls:
                out[(d, s)] = out.get((d, s), 0.0) + trips
        return out

    def shovel_trips(self, cls: str | None = None) -> dict[str, float]:
        """Target loaded trips/h leaving each load point, of one truck class or (None) all together."""
        out: dict[str, float] = {}
        for (c, s, _), trips in self.loaded.items():
            if cls is None or c == cls:
                out[s] = out.get(s, 0.0) + trips
        return out


def unit_rates(fac: Facility, cls: str, down: frozenset[str] = frozenset(),
               share: dict[str, float] | None = None) -> tuple[float, float, float]:
    """(trucks/s when every unit in service is busy, mean seconds a truck stands at a unit, mean payload [t]).

    ``share``: the part of the time each unit is in service (its availability; 1 when not given)."""
    specs = [u for u in fac.unit_specs if u.id not in down and cls in u.load_s]
    if not specs:
        return 0.0, 0.0, 0.0
    up = {u.id: (share or {}).get(u.id, 1.0) for u in specs}
    rate = sum(up[u.id] / u.load_s[cls] for u in specs)
    if rate <= 0:
        return 0.0, 0.0, 0.0
    payload = sum(up[u.id] * u.payload_t[cls] / u.load_s[cls] for u in specs) / rate  # weighted by unit rate
    return rate, sum(up.values()) / rate, payload


def solve(layout: Layout, trucks: dict[str, float], travel: TravelFn, down_units: frozenset[str] = frozenset(),
          bays_down: dict[str, int] | None = None, targets: tuple[Target, ...] = (),
          unit_share: dict[str, float] | None = None) -> FlowPlan:
    """The flow plan for ``trucks`` available per class, with ``down_units`` out of service (``unit_share``: the
    share of time each unit is in service, for a bound over a shift with downtime)."""
    bays_down = bays_down or {}
    points = [f for f in layout.shovels()]
    sinks = sorted((f for f in layout.facilities.values() if f.kind in ("dump", "crusher")), key=lambda f: f.id)
    xs: list[tuple[str, str, str, float]] = []  # (class, s, d, loaded travel s)
    ys: list[tuple[str, str, str, float]] = []
    per: dict[tuple[str, str], tuple[float, float, float]] = {}
    for c in sorted(trucks):
        for s in points:
            rate, stand, payload = unit_rates(s, c, down_units, unit_share)
            if rate <= 0:
                continue
            per[(c, s.id)] = (rate, stand, payload)
            for d in sinks:
                if s.material in d.accepts and bays_down.get(d.id, 0) < d.bays:
                    t = travel(s.id, d.id, c, True)
                    if t is not None:
                        xs.append((c, s.id, d.id, t))
        for d in sinks:
            for s in points:
                t = travel(d.id, s.id, c, False)
                if (c, s.id) in per and t is not None:
                    ys.append((c, d.id, s.id, t))
    n = len(xs) + len(ys)
    if not xs:
        return FlowPlan(0.0, {}, {}, {}, True, "no loaded path: nothing can be hauled")
    sink_of = {d.id: d for d in sinks}
    a_eq, a_ub, b_ub, names = [], [], [], []

    def row() -> np.ndarray:
        return np.zeros(n)

    for c in sorted(trucks):  # flow balance per class at every load point and sink
        for fid in [s.id for s in points] + [d.id for d in sinks]:
            r = row()
            for k, (cc, s, d, _) in enumerate(xs):
                if cc == c:
                    r[k] += (s == fid) - (d == fid)
            for k, (cc, d, s, _) in enumerate(ys):
                if cc == c:
                    r[len(xs) + k] += (d == fid) - (s == fid)
            if r.any():
                a_eq.append(r)
    for s in points:  # dig rate: share of the units' time, per hour
        r = row()
        for k, (c, sp, _, _) in enumerate(xs):
            if sp == s.id:
                r[k] = 1.0 / (per[(c, sp)][0] * 3600.0)
        if r.any():
            a_ub.append(r), b_ub.append(1.0), names.append(f"dig rate of {s.id}")
    for d in sinks:
        bays = d.bays - bays_down.get(d.id, 0)
        r = row()
        for k, (_, _, dd, _) in enumerate(xs):
            if dd == d.id:
                r[k] = d.service_s / (3600.0 * bays)
        if r.any():
            a_ub.append(r), b_ub.append(1.0), names.append(f"bays of {d.id}")
        if d.capacity_tph:
            r = row()
            for k, (c, s, dd, _) in enumerate(xs):
                if dd == d.id:
                    r[k] = per[(c, s)][2] / d.capacity_tph
            a_ub.append(r), b_ub.append(1.0), names.append(f"throughput of {d.id}")
    for c, count in sorted(trucks.items()):  # truck-seconds per hour per class
        r = row()
        for k, (cc, s, d, t) in enumerate(xs):
            if cc == c:
                r[k] = (t + per[(c, s)][1] + sink_of[d].service_s) / 3600.0
        for k, (cc, _, _, t) in enumerate(ys):
            if cc == c:
                r[len(xs) + k] = t / 3600.0
        a_ub.append(r), b_ub.append(float(count)), names.append(f"{c} trucks")
    payload_row = np.array([per[(c, s)][2] for c, s, _, _ in xs] + [0.0] * len(ys))
    for tg in targets:
        r = row()
        for k, (c, s, d, _) in enumerate(xs):
            if layout.facilities[s].material == tg.material and (tg.sink is None or d == tg.sink):
                r[k] = -per[(c, s)][2]
        a_ub.append(r + tg.share * payload_row), b_ub.append(-tg.tph)
        names.append(f"target {tg.material}" + (f" into {tg.sink}" if tg.sink else ""))
    res = linprog(-payload_row, A_ub=np.array(a_ub), b_ub=np.array(b_ub),
                  A_eq=np.array(a_eq) if a_eq else None, b_eq=np.zeros(len(a_eq)) if a_eq else None,
                  bounds=(0, None), method="highs")
    if res.status != 0:
        if targets:  # the nearest feasible plan: the best one without the targets, flagged
            plan = solve(layout, trucks, travel, down_units, bays_down, unit_share=unit_share)
            plan.feasible = False
            plan.message = ("material targets cannot all be met with this fleet and layout "
                            f"({', '.join(t.material for t in targets)}); planned for the most tonnes without them")
            return plan
        return FlowPlan(0.0, {}, {}, {}, False, f"infeasible: {res.message.strip()}")
    v = res.x
    slack = np.array(b_ub) - np.array(a_ub) @ v
    binding = [nm for nm, sl, b in zip(names, slack, b_ub, strict=True) if abs(sl) <= 1e-6 * max(1.0, abs(b))]
    loaded = {(c, s, d): float(v[k]) for k, (c, s, d, _) in enumerate(xs) if v[k] > 1e-9}
    empty = {(c, d, s): float(v[len(xs) + k]) for k, (c, d, s, _) in enumerate(ys) if v[len(xs) + k] > 1e-9}
    payload = {key: p for key, (_, _, p) in per.items()}
    return FlowPlan(float(-res.fun), loaded, empty, payload, True, "optimal", binding)
