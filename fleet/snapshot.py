"""What the view (or any observer) may read of a running simulation: a copy, never the engine itself.

A ``Snapshot`` is taken after a tick; its arrays are copies, so drawing can never change the simulation and
the simulation can go on while a frame is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fleet.state import STATE_NAMES
from metrics.quantiles import Quantiles


@dataclass(frozen=True)
class TruckArrays:
    """Per truck (index i), copied from the fleet arrays."""

    ids: list[str]
    x: np.ndarray  # [m]
    y: np.ndarray  # [m]
    heading: np.ndarray  # [rad], from east, counter-clockwise
    state: np.ndarray  # TruckState codes; names in ``STATE_NAMES``
    payload_t: np.ndarray
    capacity_t: np.ndarray
    speed_mps: np.ndarray
    safe_speed_mps: np.ndarray  # perception-safe speed (inf without perception)
    dest: list[str]  # facility the truck is heading to ("" when not on a route)
    model: list[str]  # perception model per truck ("" without perception)
    length_m: np.ndarray
    width_m: np.ndarray


@dataclass(frozen=True)
class FacilityView:
    id: str
    kind: str  # shovel, dump, crusher, park
    x: float
    y: float
    queue: int  # trucks waiting
    busy: int  # bays in service
    bays: int
    units: tuple[tuple[float, float, bool], ...] = ()  # a load point's shovels: (x, y [m], in service)


@dataclass(frozen=True)
class Snapshot:
    t: float  # [s] simulation time
    site: str
    trucks: TruckArrays
    facilities: list[FacilityView]
    obstacles: dict[str, np.ndarray]  # x, y, r [m] and kind (names) of obstacles on the roads now
    kpis: dict[str, Any]
    detections: dict[str, np.ndarray] = field(default_factory=dict)  # per truck: latest sector output
    truck_info: dict[str, list[str]] = field(default_factory=dict)  # label -> one formatted value per truck
    link_outage: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # per truck, radio down
    state_names: list[str] = field(default_factory=lambda: list(STATE_NAMES))


def take(sim: Any) -> Snapshot:
    """Copy what a viewer needs from a ``fleet.engine.Simulation`` after a tick."""
    f = sim.fleet
    ob = sim.onboard
    dest = [sim.points[d].id if d >= 0 else "" for d in f.dest.tolist()]
    trucks = TruckArrays(
        ids=list(f.ids), x=f.x.copy(), y=f.y.copy(), heading=f.heading.copy(), state=f.state.copy(),
        payload_t=f.payload_t.copy(), capacity_t=sim.ct.payload_t[f.class_index].copy(), speed_mps=f.v.copy(),
        safe_speed_mps=sim.v_limit.copy(), dest=dest,
        model=[ob.model_of(i) for i in range(f.n)] if ob is not None else [""] * f.n,
        length_m=sim.ct.length[f.class_index].copy(), width_m=sim.ct.width[f.class_index].copy())
    facilities = [FacilityView(sp.id, sp.kind, float(sim.fac_xyz[sp.index][0]), float(sim.fac_xyz[sp.index][1]),
                               len(sp.queue), sp.busy, sp.bays,
                               tuple((u.xyz[0], u.xyz[1], u.up) for u in sp.units) if sp.kind == "shovel" else ())
                  for sp in sim.points]
    obstacles: dict[str, np.ndarray] = {"x": np.zeros(0), "y": np.zeros(0), "r": np.zeros(0),
                                        "kind": np.zeros(0, dtype=object)}
    if sim.hazards is not None:
        alive = np.flatnonzero(sim.hazards.alive)
        obstacles = {"x": sim.hazards.x[alive].copy(), "y": sim.hazards.y[alive].copy(),
                     "r": sim.hazards.r[alive].copy(),
                     "kind": np.array([sim.hazards.kind_name(k) for k in alive], dtype=object)}
    hours = max(sim.t / 3600.0, 1e-9)
    tonnes = float(sim.tonnes.sum())
    kpis: dict[str, Any] = {
        "tonnes": tonnes, "tonnes_per_hour": tonnes / hours, "loads": int(sim.loads.sum()),
        "queue_shovels": sum(len(sp.queue) for sp in sim.points if sp.kind == "shovel"),
        "queue_dumps": sum(len(sp.queue) for sp in sim.points if sp.kind in ("dump", "crusher")),
    }
    detections: dict[str, np.ndarray] = {}
    info: dict[str, list[str]] = {}
    kpis.update(_slow_kpis(sim))
    if ob is not None:
        device = [s.chip.profile.name if s.chip is not None else "-" for s in ob.slots]
        timing = [s.timing for s in ob.slots]
        budget_ms = ob.cfg.safety.budget_s * 1e3
        slots = ob.truck_slot.tolist()
        info["device"] = [device[k] for k in slots]
        info["inference"] = [f"{lat * 1e3:.2f} ms {timing[k]}, budget {budget_ms:.0f} ms"
                             for lat, k in zip(ob.latency.tolist(), slots, strict=True)]
    link = sim.comms.link
    outage = np.asarray(getattr(link, "outage", np.zeros(0, dtype=bool)), dtype=bool).copy()
    if hasattr(link, "sinr") and hasattr(link, "serving_site"):
        info["link SINR down"] = [f"{v:.1f} dB" for v in link.sinr[1].tolist()]
        info["serving gNB"] = [link.serving_site(tid) or "-" for tid in f.ids]
    if ob is not None:
        kpis.update(collisions=sum(ob.collisions.values()), near_misses=ob.near_misses, estops=ob.estops,
                    holds=ob.holds)
        detections = {"sectors": ob.latest.copy(), "fov_deg": np.array(ob.cfg.spec.fov_deg),
                      "max_range_m": np.array(ob.cfg.spec.max_range_m)}
    return Snapshot(t=sim.t, site=sim.mine.site, trucks=trucks, facilities=facilities, obstacles=obstacles,
                    kpis=kpis, detections=detections, truck_info=info, link_outage=outage)


_SLOW_PERIOD_S = 10.0  # [s] of simulation between recomputations of percentile figures for the HUD
_slow_cache: dict[int, tuple[float, dict[str, Any]]] = {}


def _slow_kpis(sim: Any) -> dict[str, Any]:
    """Percentile figures (emulated inference p99 and misses, link p99 and loss), refreshed every 10 sim s:
    they scan every sample so far, too much work for every frame."""
    key = id(sim)
    cached = _slow_cache.get(key)
    if cached is not None and sim.t - cached[0] < _SLOW_PERIOD_S:
        return cached[1]
    out: dict[str, Any] = {}
    ob = sim.onboard
    if ob is not None:
        lat = Quantiles()
        for s in ob.slots:
            lat.merge(s.latencies)
        if lat.count:
            out["inference_p99_ms"] = lat.percentile(99) * 1e3
        out["inference_late_frames"] = sum(s.late for s in ob.slots)
    if hasattr(sim.comms.link, "stats"):
        st = sim.comms.link.stats()
        out.update(link_up_p99_ms=st.get("uplink_latency_p99_ms"), link_loss=st.get("uplink_loss_rate"))
        out = {k: v for k, v in out.items() if v is not None}
    _slow_cache.clear()
    _slow_cache[key] = (sim.t, out)
    return out
