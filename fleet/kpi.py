"""Shift KPIs from the engine's accumulators (design section 9). Simulated figures only: deterministic.

Definitions (also in the README):
- tonnes: payload tipped at dumps and crushers during the shift; t/h = tonnes / shift hours. A facility's
  tonnes are what it loaded (shovel) or received (dump, crusher).
- cycle time: between two consecutive dump completions of the same truck [s].
- queue time: arrival at a shovel (dump) to the start of spotting (tipping), per visit [s].
- shovel utilisation: share of the shift the shovel is spotting or loading a truck.
- truck utilisation: share of the shift a truck is travelling, spotting, loading or dumping
  (not queueing, waiting for an order, holding or stopped).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fleet.engine import Simulation
from fleet.state import PRODUCTIVE, TruckState


def _r(x: float, nd: int = 3) -> float:
    return float(round(float(x), nd))


def _stats(values: list[float] | np.ndarray) -> dict[str, float]:
    a = np.asarray(values, dtype=float)
    if a.size == 0:
        return {"n": 0, "mean": 0.0, "p50": 0.0, "p90": 0.0}
    return {"n": int(a.size), "mean": _r(a.mean(), 2), "p50": _r(np.percentile(a, 50), 2),
            "p90": _r(np.percentile(a, 90), 2)}


def summarize(sim: Simulation) -> dict[str, Any]:
    shift_s = sim.t
    hours = shift_s / 3600.0
    f = sim.fleet
    tonnes = float(sim.tonnes.sum())
    facilities: dict[str, Any] = {}
    shovel_q, dump_q = [], []
    for sp in sim.points:
        if sp.kind == "park":
            continue
        wait = sp.wait_s / sp.visits if sp.visits else 0.0
        entry = {"kind": sp.kind, "visits": sp.visits, "tonnes": _r(sp.tonnes, 1),
                 "queue_time_mean_s": _r(wait, 2), "queue_len_mean": _r(sp.queue_area / max(shift_s, 1e-9), 3),
                 "queue_len_max": sp.max_queue,
                 "utilisation": _r(sp.busy_s / (shift_s * sp.bays) if shift_s else 0.0, 4)}
        facilities[sp.id] = entry
        (shovel_q if sp.kind == "shovel" else dump_q).append((sp.wait_s, sp.visits))
    productive = f.state_time[:, PRODUCTIVE].sum(axis=1)
    state_share = f.state_time.sum(axis=0) / max(f.state_time.sum(), 1e-9)
    shovels = [facilities[s.id] for s in sim.mine.shovels]
    return {
        "shift_hours": _r(hours, 4),
        "trucks": f.n,
        "tonnes": _r(tonnes, 1),
        "tonnes_per_hour": _r(tonnes / hours if hours else 0.0, 2),
        "tonnes_by_material": {k: _r(v, 1) for k, v in sorted(sim.tonnes_by_material.items())},
        "loads": int(sim.loads.sum()),
        "cycle_time_s": _stats(sim.cycle_times),
        "queue_time_shovel_mean_s": _r(_pooled(shovel_q), 2),
        "queue_time_dump_mean_s": _r(_pooled(dump_q), 2),
        "shovel_utilisation_mean": _r(np.mean([s["utilisation"] for s in shovels]), 4),
        "truck_utilisation_mean": _r(productive.mean() / shift_s if shift_s else 0.0, 4),
        "state_time_share": {TruckState(k).name: _r(v, 4) for k, v in enumerate(state_share)},
        "distance_km": _r(f.odometer_m.sum() / 1000.0, 2),
        "facilities": facilities,
        "dispatch": {"orders_rejected": sim.orders_rejected,
                     "order_timeouts": sum(1 for e in sim.log if e[2] == "order_timeout")},
        "single_lane_refusals": sim.claims.refusals,
        "link_holds": sim.link_holds,
    }


def _pooled(pairs: list[tuple[float, int]]) -> float:
    visits = sum(v for _, v in pairs)
    return sum(w for w, _ in pairs) / visits if visits else 0.0


def truck_rows(sim: Simulation) -> list[dict[str, Any]]:
    """One row per truck for ``trucks.csv``."""
    f = sim.fleet
    rows = []
    for i, tid in enumerate(f.ids):
        row: dict[str, Any] = {"truck": tid, "class": sim.classes[f.class_index[i]].id,
                               "loads": int(sim.loads[i]), "tonnes": _r(sim.tonnes[i], 1),
                               "distance_km": _r(f.odometer_m[i] / 1000.0, 3),
                               "utilisation": _r(f.state_time[i, PRODUCTIVE].sum() / sim.t if sim.t else 0.0, 4)}
        for k in TruckState:
            row[f"{k.name.lower()}_s"] = _r(f.state_time[i, k], 1)
        rows.append(row)
    return rows
