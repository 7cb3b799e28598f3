"""Longitudinal motion of every truck on the road in one vectorised step.

Speed each tick = min(road and retarder cap with a braking envelope toward slower segments and the stop,
drive-train acceleration from the rimpull curve, IDM car-following toward the truck ahead, a stop line at
a single-lane section held by opposing traffic). Design section 3; perception-safe speed joins this min.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fleet.routes import RouteTable
from fleet.truckclass import G, TruckClass


@dataclass(frozen=True)
class Traffic:
    """Car-following parameters (IDM, Treiber et al. 2000), scaled for haul trucks."""

    jam_gap_m: float = 20.0  # [m] bumper gap kept when stopped behind another truck
    headway_s: float = 3.0  # [s] time gap kept while following
    arrive_tol_m: float = 0.5  # [m] within this of the route end the truck has arrived


class ClassTable:
    """Truck-class figures as arrays indexed by class, so mixed fleets stay vectorised."""

    def __init__(self, classes: list[TruckClass]) -> None:
        self.classes = classes
        self.empty_kg = np.array([c.empty_mass_t * 1000.0 for c in classes])
        self.power_w = np.array([c.drivetrain_efficiency * c.gross_power_kw * 1000.0 for c in classes])
        self.rimpull_n = np.array([c.max_rimpull_kn * 1000.0 for c in classes])
        self.accel = np.array([c.max_accel_mps2 for c in classes])
        self.brake = np.array([c.service_brake_mps2 for c in classes])
        self.emergency = np.array([c.emergency_brake_mps2 for c in classes])
        self.length = np.array([c.length_m for c in classes])
        self.payload_t = np.array([c.payload_t for c in classes])


@dataclass
class Motion:
    """Result of one step for the trucks moved (index j into ``idx``)."""

    idx: np.ndarray
    seg: np.ndarray
    arrived: np.ndarray  # bool per j


def section_stop_gap(rt: RouteTable, seg: np.ndarray, s: np.ndarray, blocked: np.ndarray) -> np.ndarray:
    """Gap [m] to the entry of the next single-lane section where ``blocked``; inf elsewhere."""
    return np.where(blocked, rt.next_section_s[seg] - s, np.inf)


def step(rt: RouteTable, ct: ClassTable, traffic: Traffic, dt: float, cls: np.ndarray,
         route: np.ndarray, s: np.ndarray, v: np.ndarray, payload_t: np.ndarray, seg: np.ndarray,
         gap: np.ndarray, v_lead: np.ndarray, v_limit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New (s, v) after ``dt`` for the given trucks; ``v_limit`` is any extra cap (e.g. perception) [m/s]."""
    loaded = payload_t > 0
    var = cls * 2 + loaded
    brake = ct.brake[cls]
    seg_end = rt.seg_s0[seg] + rt.seg_len[seg]
    v_cap = np.minimum(rt.vmax[var, seg],
                       np.sqrt(rt.vexit[var, seg] ** 2 + 2.0 * brake * np.maximum(seg_end - s, 0.0)))
    v_cap = np.minimum(v_cap, v_limit)

    mass = ct.empty_kg[cls] + payload_t * 1000.0
    rimpull = np.minimum(ct.rimpull_n[cls], ct.power_w[cls] / np.maximum(v, 0.1))
    a_max = ct.accel[cls]
    a_drive = np.minimum(rimpull / mass - G * (rt.seg_grade[seg] + rt.seg_rr[seg]), a_max)

    # IDM interaction term: brake as the desired gap s* approaches the actual gap.
    finite = np.isfinite(gap)
    a = a_drive
    if finite.any():
        dv = v - v_lead
        s_star = traffic.jam_gap_m + np.maximum(0.0, v * traffic.headway_s + v * dv / (2.0 * np.sqrt(a_max * brake)))
        g = np.maximum(gap, 0.1)
        a_int = np.where(finite, a_max * (1.0 - (s_star / g) ** 2), np.inf)
        a = np.minimum(a, a_int)
    a = np.maximum(a, -ct.emergency[cls])
    v_new = np.clip(v + a * dt, 0.0, None)
    v_new = np.minimum(v_new, np.maximum(v_cap, v - ct.emergency[cls] * dt))
    ds = 0.5 * (v + v_new) * dt
    # Never close a gap below zero within a tick, whatever the braking said.
    ds = np.minimum(ds, np.maximum(gap, 0.0))
    s_new = np.minimum(s + ds, rt.route_len[route])
    return s_new, np.where(ds > 0, v_new, 0.0)
