"""Truck classes as data (``fleet/trucks/*.toml``) and the traction model that turns them into motion.

Rimpull follows the usual power-limited curve: ``F(v) = min(F_max, eta * P / v)``. Resistance is
``m g (grade + rolling resistance)``. Downhill, speed is capped where the retarder can just hold it:
``v_ret = P_ret / (m g (-grade - rr))``. These three give the grade/payload speed limit (docs/architecture.md,
"Trucks and motion").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fleet.fields import Fields, read_toml

G = 9.81  # [m/s^2]
TRUCK_DIR = Path(__file__).with_name("trucks")
NUMERIC_FIELDS = (
    "payload_t", "empty_mass_t", "gross_power_kw", "drivetrain_efficiency", "max_rimpull_kn",
    "retarding_power_kw", "max_speed_loaded_kmh", "max_speed_empty_kmh", "max_accel_mps2",
    "service_brake_mps2", "emergency_brake_mps2", "length_m", "width_m", "height_m",
)
OPTIONAL_FIELDS = ("mtbf_h", "mttr_h")  # reliability: needed only when a scenario switches breakdowns on


@dataclass(frozen=True)
class TruckClass:
    id: str
    name: str
    drive: str
    autonomous: bool
    payload_t: float
    empty_mass_t: float
    gross_power_kw: float
    drivetrain_efficiency: float
    max_rimpull_kn: float
    retarding_power_kw: float
    max_speed_loaded_kmh: float
    max_speed_empty_kmh: float
    max_accel_mps2: float
    service_brake_mps2: float
    emergency_brake_mps2: float
    length_m: float
    width_m: float
    height_m: float
    sources: dict[str, str]
    mtbf_h: float | None = None  # [h] mean time between breakdowns (random breakdowns need it)
    mttr_h: float | None = None  # [h] mean time to repair

    def mass_kg(self, payload_t: float | np.ndarray) -> float | np.ndarray:
        return (self.empty_mass_t + payload_t) * 1000.0

    def grade_speed_mps(self, payload_t: float, grade: float, rr: float) -> float:
        """Steady speed on a constant grade [m/s]: where rimpull meets resistance, or the retarder limit."""
        return float(steady_speed(self, np.array([payload_t]), np.array([grade]), np.array([rr]),
                                  np.array([payload_t > 0]))[0])


def steady_speed(tc: TruckClass, payload_t: np.ndarray, grade: np.ndarray, rr: np.ndarray,
                 loaded: np.ndarray) -> np.ndarray:
    """Vectorised steady speed on each grade [m/s] (capped by the class top speed for the payload)."""
    m = tc.mass_kg(payload_t)
    resist = m * G * (grade + rr)  # [N]
    vmax = np.where(loaded, tc.max_speed_loaded_kmh, tc.max_speed_empty_kmh) / 3.6
    power = tc.drivetrain_efficiency * tc.gross_power_kw * 1000.0
    with np.errstate(divide="ignore"):
        climb = np.where(resist > 0, power / resist, np.inf)
        # The rimpull ceiling at low speed: a grade steeper than max rimpull allows is impassable.
        climb = np.where(resist > tc.max_rimpull_kn * 1000.0, 0.0, climb)
        descend = np.where(resist < 0, tc.retarding_power_kw * 1000.0 / -resist, np.inf)
    return np.minimum(vmax, np.minimum(climb, descend))


def tractive_accel(tc: TruckClass, v: np.ndarray, mass_kg: np.ndarray, grade: np.ndarray,
                   rr: np.ndarray) -> np.ndarray:
    """Acceleration available from the drive train at speed v [m/s^2], capped by ``max_accel_mps2``."""
    power = tc.drivetrain_efficiency * tc.gross_power_kw * 1000.0
    rimpull = np.minimum(tc.max_rimpull_kn * 1000.0, power / np.maximum(v, 0.1))
    a = rimpull / mass_kg - G * (grade + rr)
    return np.minimum(a, tc.max_accel_mps2)


def load_truck_class(path: str | Path) -> TruckClass:
    src = str(path)
    f = Fields(read_toml(path, "truck class"), src, "")
    if f.string("schema") != "minefleet-truck/1":
        raise f.error("schema", "must be 'minefleet-truck/1'")
    values = {k: f.number(k, positive=True) for k in NUMERIC_FIELDS}
    values.update({k: f.number(k, positive=True) for k in OPTIONAL_FIELDS if k in f.data})
    sources_f = f.table("sources")
    sources = {k: sources_f.string(k) for k in values}
    tc = TruckClass(id=f.string("id"), name=f.string("name"), drive=f.string("drive"),
                    autonomous=f.boolean("autonomous"), sources=sources, **values)
    f.reject_unknown()
    sources_f.reject_unknown()
    if tc.drivetrain_efficiency > 1:
        raise f.error("drivetrain_efficiency", "must be <= 1")
    return tc


def truck_classes() -> dict[str, TruckClass]:
    """Every class shipped in ``fleet/trucks``, by id."""
    out = {}
    for p in sorted(TRUCK_DIR.glob("*.toml")):
        tc = load_truck_class(p)
        out[tc.id] = tc
    return out
