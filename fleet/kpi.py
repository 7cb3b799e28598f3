"""Shift KPIs from the engine's accumulators. Simulated figures only: deterministic.

See docs/architecture.md, "Runs and KPIs".

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
        facilities[sp.id] = _facility(sp, shift_s)
        (shovel_q if sp.kind == "shovel" else dump_q).append((sp.wait_s, sp.visits))
    productive = f.state_time[:, PRODUCTIVE].sum(axis=1)
    state_share = f.state_time.sum(axis=0) / max(f.state_time.sum(), 1e-9)
    shovel_units = [u for sp in sim.points if sp.kind == "shovel" for u in sp.units]
    down_s = truck_down_s(sim)
    return {
        "shift_hours": _r(hours, 4),
        "trucks": f.n,
        "tonnes": _r(tonnes, 1),
        "tonnes_per_hour": _r(tonnes / hours if hours else 0.0, 2),
        "tonnes_by_material": {k: _r(v, 1) for k, v in sorted(sim.tonnes_by_material.items())},
        "loads": int(sim.loads.sum()),
        "cycle_time_s": _stats([t for _, t in sim.cycle_times]),
        "payload": _payload(sim.loads_log, None, sim),
        "queue_time_shovel_mean_s": _r(_pooled(shovel_q), 2),
        "queue_time_dump_mean_s": _r(_pooled(dump_q), 2),
        "shovel_utilisation_mean": _r(np.mean([u.busy_s / shift_s if shift_s else 0.0 for u in shovel_units]), 4),
        "truck_utilisation_mean": _r(productive.mean() / shift_s if shift_s else 0.0, 4),
        "truck_availability_mean": _r(1.0 - down_s.mean() / shift_s if shift_s else 1.0, 4),
        "state_time_share": {TruckState(k).name: _r(v, 4) for k, v in enumerate(state_share)},
        "distance_km": _r(f.odometer_m.sum() / 1000.0, 2),
        "by_class": {tc.id: _class_kpis(sim, c, hours, down_s) for c, tc in enumerate(sim.classes)
                     if (f.class_index == c).any()},
        "facilities": facilities,
        "failures": {"truck_breakdowns": sum(1 for e in sim.log if e[2] == "breakdown"),
                     "unit_outages": sum(1 for e in sim.log if e[2] == "unit_down"),
                     "road_closures": sum(1 for e in sim.log if e[2] == "road_closed"),
                     **_network_faults(sim)},
        "dispatch": {"orders_rejected": sim.orders_rejected, "messages_rejected": sim.comms.rejected,
                     "orders_refused": dict(sim.comms.orders_refused),
                     "estops_refused": dict(sim.comms.estops_refused),
                     "remote_estops": sim.remote_estop.engaged,
                     "order_timeouts": sum(1 for e in sim.log if e[2] == "order_timeout")},
        "single_lane_refusals": sim.claims.refusals,
        "link_holds": sim.link_holds,
    }


def _network_faults(sim: Simulation) -> dict[str, Any]:
    """gNB outages and cloud outages with the messages they cost, only in runs that schedule them (every other
    run's summary stays as it was)."""
    out: dict[str, Any] = {}
    gnb_offs = sum(1 for e in sim.log if e[2] == "gnb_off")
    if gnb_offs:
        out["gnb_outages"] = gnb_offs
    if sim.comms.outage.windows:
        out["cloud_outage"] = sim.comms.outage.summary()
    return out


def truck_down_s(sim: Simulation) -> np.ndarray:
    """Breakdown time per truck over the shift [s], a breakdown still under repair counted to the end."""
    f = sim.fleet
    return f.down_s + np.where(f.down, sim.t - np.nan_to_num(f.down_since), 0.0)


def _facility(sp: Any, shift_s: float) -> dict[str, Any]:
    """A facility's queue figures, and per unit: visits, tonnes, utilisation (share of the shift with a truck
    at it), availability (share not out of service)."""
    wait = sp.wait_s / sp.visits if sp.visits else 0.0
    units = {u.id: {"visits": u.visits, "tonnes": _r(u.tonnes, 1),
                    "utilisation": _r(u.busy_s / shift_s if shift_s else 0.0, 4),
                    "availability": _r(1.0 - u.down_s / shift_s if shift_s else 1.0, 4)} for u in sp.units}
    return {"kind": sp.kind, "visits": sp.visits, "tonnes": _r(sp.tonnes, 1),
            "queue_time_mean_s": _r(wait, 2), "queue_len_mean": _r(sp.queue_area / max(shift_s, 1e-9), 3),
            "queue_len_max": sp.max_queue,
            "utilisation": _r(np.mean([u["utilisation"] for u in units.values()]), 4),
            "availability": _r(np.mean([u["availability"] for u in units.values()]), 4),
            **({"units": units} if len(units) > 1 or sp.kind == "shovel" else {})}


def _payload(log: list[tuple[int, float, int, bool, float, str]], cls: int | None, sim: Simulation) -> dict[str, Any]:
    """Loads leaving the shovels: payload, passes and load time, and the 10/10/20 overload shares."""
    rows = [r for r in log if cls is None or r[0] == cls]
    if not rows:
        return {"loads": 0}
    rated = np.array([sim.classes[r[0]].payload_t for r in rows])
    payload = np.array([r[1] for r in rows])
    share = payload / rated
    return {"loads": len(rows), "mean_t": _r(payload.mean(), 2), "mean_share_of_rated": _r(share.mean(), 4),
            "over_110_share": _r(np.mean(share > 1.1), 4), "max_share_of_rated": _r(share.max(), 4),
            "trimmed": int(sum(r[3] for r in rows)), "passes_mean": _r(np.mean([r[2] for r in rows]), 3),
            "load_time_mean_s": _r(np.mean([r[4] for r in rows]), 2)}


def _class_kpis(sim: Simulation, c: int, hours: float, down_s: np.ndarray) -> dict[str, Any]:
    f = sim.fleet
    mine = f.class_index == c
    tonnes = float(sim.tonnes[mine].sum())
    shift_s = sim.t
    return {"trucks": int(mine.sum()), "loads": int(sim.loads[mine].sum()), "tonnes": _r(tonnes, 1),
            "tonnes_per_hour": _r(tonnes / hours if hours else 0.0, 2),
            "tonnes_per_truck_hour": _r(tonnes / hours / mine.sum() if hours else 0.0, 2),
            "cycle_time_s": _stats([t for k, t in sim.cycle_times if k == c]),
            "payload": _payload(sim.loads_log, c, sim),
            "availability": _r(1.0 - down_s[mine].mean() / shift_s if shift_s else 1.0, 4),
            "utilisation": _r(f.state_time[mine][:, PRODUCTIVE].sum(axis=1).mean() / shift_s if shift_s else 0.0, 4)}


def _pooled(pairs: list[tuple[float, int]]) -> float:
    visits = sum(v for _, v in pairs)
    return sum(w for w, _ in pairs) / visits if visits else 0.0


def truck_rows(sim: Simulation) -> list[dict[str, Any]]:
    """One row per truck for ``trucks.csv``."""
    f = sim.fleet
    down = truck_down_s(sim)
    rows = []
    for i, tid in enumerate(f.ids):
        row: dict[str, Any] = {"truck": tid, "class": sim.classes[f.class_index[i]].id,
                               "loads": int(sim.loads[i]), "tonnes": _r(sim.tonnes[i], 1),
                               "distance_km": _r(f.odometer_m[i] / 1000.0, 3),
                               "utilisation": _r(f.state_time[i, PRODUCTIVE].sum() / sim.t if sim.t else 0.0, 4),
                               "availability": _r(1.0 - down[i] / sim.t if sim.t else 1.0, 4)}
        for k in TruckState:
            row[f"{k.name.lower()}_s"] = _r(f.state_time[i, k], 1)
        rows.append(row)
    return rows
