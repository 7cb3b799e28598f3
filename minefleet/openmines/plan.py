"""The translation: a checked ``OpenMine`` turned into the texts of the map, the scenario and the truck classes.

It holds every figure the import assumes because OpenMines does not give it, so that each assumption is made, and
its reason written into the output, in one place. It reads nothing and writes nothing (see ``reader``, ``output``).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import tomli_w

from fleet.loading import planned_passes
from fleet.truckclass import G
from minefleet.openmines.reader import MAX_SPEED_KMH, OpenMine, Site, TruckType

KM = 1000.0  # [m]
MIN = 60.0  # [s]
MATERIAL = "coal"  # OpenMines has one material; the loading areas and dumps all carry this one
ROLLING_RESISTANCE = 0.02  # [-] map default; OpenMines has none (a truck runs at its file speed on any road)
MIN_SEPARATION_M = 50.0  # [m] sites closer than this on the drawn plan are moved apart (positions only draw)
UNIT_RING_M = 15.0  # [m] shovels stand this far around their loading area's point

# OpenMines' built-in failure model (truck.py, not in the scenario file): a truck breaks down about every 6 h
# (exponential) and is repaired in 10 +- 3 min (normal); a shovel goes down for maintenance about every 24 h
# (exponential) for 45 +- 5 min (normal).
TRUCK_MTBF_H, TRUCK_MTTR_MIN, TRUCK_MTTR_SD_MIN = 6.0, 10.0, 3.0
SHOVEL_MTBF_H, SHOVEL_MTTR_MIN, SHOVEL_MTTR_SD_MIN = 24.0, 45.0, 5.0

# Truck-class assumptions (OpenMines gives a truck only a capacity and a speed). The shipped classes
# (fleet/trucks) are the reference: empty/payload 0.67-0.72, 4.8-5.3 kW per tonne gross, efficiency 0.80-0.85.
EMPTY_PER_PAYLOAD = 0.75
KW_PER_T_GROSS = 5.0
EFFICIENCY = 0.80
POWER_MARGIN = 1.5  # the drive could hold 1.5 x the file's speed loaded on flat road: the top speed binds
RIMPULL_PER_WEIGHT = 0.25
ACCEL_MPS2, SERVICE_BRAKE_MPS2, EMERGENCY_BRAKE_MPS2 = 0.5, 1.0, 2.9
REF_797F = {"payload_t": 363.0, "length_m": 15.58, "width_m": 9.75, "height_m": 6.53}


class Plan:
    """The files one import writes, and what the report says about them."""

    def __init__(self, mine: OpenMine, failures: bool) -> None:
        self.mine = mine
        self.failures = failures
        self.notes: list[str] = []
        self.roads = self._roads()
        self.road_limit_kmh = min(MAX_SPEED_KMH, 5.0 * math.ceil(1.2 * max(t.speed_kmh for t in mine.trucks) / 5.0))
        self.xy = self._layout()
        self._note_differences()

    def files(self) -> dict[str, str]:
        m = self.mine
        out = {f"{m.slug}.geojson": json.dumps(self.map_doc(), indent=1, ensure_ascii=False) + "\n",
               f"{m.slug}.toml": self.scenario_text()}
        for t in m.trucks:
            if t.count > 0:
                out[f"trucks/{t.id}.toml"] = self.truck_text(t)
        return out

    def summary(self) -> str:
        m = self.mine
        units = sum(len(s.units) for s in m.loads)
        bays = sum(d.bays for d in m.dumps)
        fleet = ", ".join(f"{t.count} x {t.type} ({t.capacity_t:g} t, {t.speed_kmh:g} km/h)" for t in m.trucks)
        return (f"{m.file}: OpenMines mine {m.name}: {len(m.loads)} load sites with {units} shovels, "
                f"{len(m.dumps)} dump sites with {bays} dumpers, fleet {fleet}; {self.hours:g} h shift")

    @property
    def hours(self) -> float:
        return self.mine.sim_min / 60.0 if self.mine.sim_min is not None else 8.0

    # -- layout ---------------------------------------------------------------------------------------

    def _roads(self) -> list[tuple[str, str, float, str]]:
        """(from id, to id, length [m], the file's key) for every road the matrices give, in file order."""
        m = self.mine
        out = []
        for i, ls in enumerate(m.loads):
            for j, ds in enumerate(m.dumps):
                out.append((ls.id, ds.id, m.l2d_km[i, j] * KM, f"road.l2d_road_matrix[{i}][{j}]"))
        for j, ds in enumerate(m.dumps):
            for i, ls in enumerate(m.loads):
                out.append((ds.id, ls.id, m.d2l_km[i, j] * KM, f"road.d2l_road_matrix[{i}][{j}]"))
        for i, ls in enumerate(m.loads):
            out.append((m.charging.id, ls.id, m.c2l_km[i] * KM, f"road.charging_to_load_road_matrix[{i}]"))
        return out

    def _layout(self) -> dict[str, np.ndarray]:
        """Site positions in metres: the file's positions scaled so that a road's drawn straight line is, in the
        median, as long as its tabled distance; sites that would overlap are moved apart (positions only draw)."""
        m = self.mine
        sites: list[Site] = [m.charging, *m.loads, *m.dumps]
        raw = {s.id: np.array(s.xy) for s in sites}
        ratios = [length / d for a, b, length, _ in self.roads
                  if (d := float(np.hypot(*(raw[a] - raw[b])))) > 0]
        if ratios:
            scale = float(np.median(ratios))
            xy = {k: v * scale for k, v in raw.items()}
            self.notes.append(f"site positions: drawn at {scale:,.4g} m per unit of the file's (the median of tabled "
                              "over straight-line distance); they only draw the map: route lengths are the matrices'")
        else:
            radius = float(np.median([length for _, _, length, _ in self.roads])) / 2
            xy = {s.id: radius * np.array([math.cos(a), math.sin(a)])
                  for s, a in zip(sites, np.linspace(0, 2 * math.pi, len(sites), endpoint=False), strict=True)}
            self.notes.append("site positions: the file's are all one point; the sites are drawn on a circle")
        placed: list[Site] = []
        for s in sites:
            p = xy[s.id]
            moved = 0.0
            while any(np.hypot(*(p - xy[q.id])) < MIN_SEPARATION_M for q in placed):
                p = p + np.array([MIN_SEPARATION_M, 0.0])
                moved += MIN_SEPARATION_M
            if moved:
                xy[s.id] = p
                self.notes.append(f"site {s.name} ({s.key}) drawn {moved:g} m east of its position, apart from "
                                  "another site (drawing only)")
            placed.append(s)
        return {k: np.round(v, 2) for k, v in xy.items()}

    # -- the map --------------------------------------------------------------------------------------

    def map_doc(self) -> dict[str, Any]:
        m = self.mine
        feats: list[dict[str, Any]] = []
        unit_failures = {"mtbf_h": SHOVEL_MTBF_H, "mttr_h": round(SHOVEL_MTTR_MIN / 60.0, 4)}
        for ls in m.loads:
            c = self.xy[ls.id]
            feats.append(_point(c, kind="loading_area", id=ls.id, name=ls.name, material=MATERIAL))
            for k, u in enumerate(ls.units):
                a = 2 * math.pi * k / len(ls.units) + math.pi / 2
                p = c + UNIT_RING_M * np.array([math.cos(a), math.sin(a)])
                feats.append(_point(p, kind="shovel", id=u.id, name=u.name, area=ls.id, bucket_t=u.tons,
                                    cycle_s=round(u.cycle_min * MIN, 3), fill_factor=1.0, spot_s=0.0,
                                    material=MATERIAL, **unit_failures))
        for ds in m.dumps:
            feats.append(_point(self.xy[ds.id], kind="dump", id=ds.id, name=ds.name,
                                dump_s=round(ds.dump_min * MIN, 3), bays=ds.bays, accepts=[MATERIAL]))
        feats.append(_point(self.xy[m.charging.id], kind="park", id=m.charging.id, name=m.charging.name))
        for a, b, length, key in self.roads:
            feats.append({"type": "Feature",
                          "properties": {"kind": "road", "id": f"{a}>{b}", "length_m": round(length, 3),
                                         "speed_limit_kmh": self.road_limit_kmh, "one_way": True,
                                         "note": f"OpenMines {key}"},
                          "geometry": {"type": "LineString", "coordinates": _bowed(self.xy[a], self.xy[b])}})
        return {
            "type": "FeatureCollection",
            "minefleet": {
                "schema": "minefleet-map/1", "site": m.slug, "name": m.name, "roads": "matrix",
                "description": f"Imported from the OpenMines scenario file {m.file} by 'minefleet import openmines'",
                "rolling_resistance": ROLLING_RESISTANCE,
                "sources": [
                    f"OpenMines file {m.file}: sites, shovels (tons, cycle_time), dumpers (count, cycle_time), "
                    "road matrices (km; every road's length_m)",
                    f"assumption: flat (elevation 0) with rolling resistance {ROLLING_RESISTANCE:g}, and road speed "
                    f"limits of {self.road_limit_kmh:g} km/h that never bind: OpenMines runs every truck at its "
                    "file speed whatever the road",
                    f"assumption: shovels spot trucks in 0 s, one material ({MATERIAL!r}): OpenMines has neither",
                    "OpenMines defaults (its truck.py, not in the file): shovel maintenance about every "
                    f"{SHOVEL_MTBF_H:g} h (exponential) for {SHOVEL_MTTR_MIN:g} +- {SHOVEL_MTTR_SD_MIN:g} min: "
                    "each shovel's mtbf_h and mttr_h",
                ],
            },
            "features": feats,
        }

    # -- the scenario ---------------------------------------------------------------------------------

    def scenario_text(self) -> str:
        """Written by hand rather than by a TOML library: the fleet groups as ``[[fleet.groups]]`` tables, with
        comments saying where each value comes from."""
        m = self.mine
        hours = f"the file's sim_time, {m.sim_min:g} min" if m.sim_min is not None else "no sim_time in the file"
        lines = [
            f"# Imported from the OpenMines scenario file {m.file} ({m.name}) by 'minefleet import openmines'.",
            "",
            "[scenario]",
            f"name = {_toml_str(m.slug)}",
            f"map = {_toml_str(m.slug + '.geojson')}",
            "seed = 0",
            f"hours = {round(self.hours, 6)!r}  # [h] {hours}",
            "",
            "[fleet]",
            f"start = {_toml_str(m.charging.id)}  # OpenMines trucks start at the charging site",
            "release_interval_s = 0.0  # all leave at once, as in OpenMines",
        ]
        for t in m.trucks:
            if t.count > 0:
                lines += ["", "[[fleet.groups]]", f"count = {t.count}  # {t.key}: {_toml_comment(t.type)}",
                          f"truck_class = {_toml_str(f'trucks/{t.id}.toml')}"]
        lines += ["", "[haul]", "cycle_cv = 0.0  # OpenMines pass and dump times are fixed", "dump_cv = 0.0", "",
                  "[cloud]", 'planner = "nearest"  # OpenMines dispatchers are not imported', ""]
        if self.failures:
            lines += ["[failures]  # OpenMines' built-in truck breakdowns and shovel maintenance",
                      "trucks = true  # MTBF/MTTR: the truck classes' mtbf_h, mttr_h",
                      "shovels = true  # MTBF/MTTR: the shovels' mtbf_h, mttr_h on the map", ""]
        return "\n".join(lines)

    # -- truck classes --------------------------------------------------------------------------------

    def truck_text(self, t: TruckType) -> str:
        f = self.mine.file
        v = t.speed_kmh / 3.6
        empty = EMPTY_PER_PAYLOAD * t.capacity_t
        gross = empty + t.capacity_t
        hold = gross * 1000.0 * G * ROLLING_RESISTANCE * v / EFFICIENCY / 1000.0  # [kW] to hold v loaded, flat
        power = max(KW_PER_T_GROSS * gross, POWER_MARGIN * hold)
        size = (t.capacity_t / REF_797F["payload_t"]) ** (1.0 / 3.0)
        ref = ", ".join(f"{REF_797F[k]:g} m" for k in ("length_m", "width_m", "height_m"))
        accel_loss = v / (2 * ACCEL_MPS2) + v / (2 * SERVICE_BRAKE_MPS2)
        doc: dict[str, Any] = {
            "schema": "minefleet-truck/1", "id": t.id, "name": t.type, "drive": "unspecified", "autonomous": False,
            "payload_t": t.capacity_t,
            "empty_mass_t": round(empty, 3),
            "gross_power_kw": round(power, 1),
            "drivetrain_efficiency": EFFICIENCY,
            "max_rimpull_kn": round(RIMPULL_PER_WEIGHT * gross * G, 1),
            "retarding_power_kw": round(power, 1),
            "max_speed_loaded_kmh": t.speed_kmh,
            "max_speed_empty_kmh": t.speed_kmh,
            "max_accel_mps2": ACCEL_MPS2,
            "service_brake_mps2": SERVICE_BRAKE_MPS2,
            "emergency_brake_mps2": EMERGENCY_BRAKE_MPS2,
            "length_m": round(REF_797F["length_m"] * size, 2),
            "width_m": round(REF_797F["width_m"] * size, 2),
            "height_m": round(REF_797F["height_m"] * size, 2),
            "mtbf_h": TRUCK_MTBF_H,
            "mttr_h": round(TRUCK_MTTR_MIN / 60.0, 4),
        }
        doc["sources"] = {
            "payload_t": f"OpenMines file {f}: capacity ({t.key}.capacity = {t.capacity_t:g} t)",
            "empty_mass_t": f"assumption: {EMPTY_PER_PAYLOAD:g} x payload (OpenMines has no truck mass; the shipped "
                            "classes in fleet/trucks have 0.67-0.72)",
            "gross_power_kw": f"assumption: {KW_PER_T_GROSS:g} kW per tonne gross (shipped classes 4.8-5.3 kW/t), "
                              f"at least {POWER_MARGIN:g} x the {hold:,.0f} kW that holds the file's speed loaded on "
                              f"flat road at rolling resistance {ROLLING_RESISTANCE:g}: the file's speed binds",
            "drivetrain_efficiency": f"assumption: {EFFICIENCY:g}, the low end of the shipped classes (0.80-0.85)",
            "max_rimpull_kn": f"assumption: {RIMPULL_PER_WEIGHT:.0%} of gross weight (shipped classes 19-31 %), far "
                              "above the flat road's resistance",
            "retarding_power_kw": "assumption: equal to the drive power; the imported map is flat, so it never binds",
            "max_speed_loaded_kmh": f"OpenMines file {f}: speed ({t.key}.speed = {t.speed_kmh:g} km/h; OpenMines runs "
                                    "a truck at this one speed loaded and empty)",
            "max_speed_empty_kmh": f"OpenMines file {f}: speed ({t.key}.speed = {t.speed_kmh:g} km/h, as loaded)",
            "max_accel_mps2": f"assumption: {ACCEL_MPS2:g} m/s^2 as the shipped classes; OpenMines trucks run at speed "
                              f"from the start, so a trip here takes about {accel_loss:.0f} s longer (speeding up "
                              "and braking)",
            "service_brake_mps2": f"assumption: {SERVICE_BRAKE_MPS2:g} m/s^2 planned stop, as the shipped classes",
            "emergency_brake_mps2": "MSHA 30 CFR 57.14101 Table M-1 (msha.gov/30CFR/57.14101.htm): 9.66 ft/s^2 = "
                                    "2.94 m/s^2 service-brake stop, rounded down to 2.9, as the shipped classes",
            "length_m": f"assumption: the Caterpillar 797F's {ref} (fleet/trucks/cat-797f.toml) scaled by the cube "
                        "root of payload; OpenMines has no dimensions (length spaces trucks in queues)",
            "width_m": "assumption: scaled from the Caterpillar 797F as length_m",
            "height_m": "assumption: scaled from the Caterpillar 797F as length_m",
            "mtbf_h": f"OpenMines default (its truck.py, not in the file): a breakdown about every {TRUCK_MTBF_H:g} h, "
                      "exponential",
            "mttr_h": f"OpenMines default (its truck.py, not in the file): repair {TRUCK_MTTR_MIN:g} +- "
                      f"{TRUCK_MTTR_SD_MIN:g} min (normal); the mean is kept",
        }
        head = (f"# {_toml_comment(t.type)}: OpenMines truck type imported from {f} ({t.key}).\n"
                "# Payload and speed come from the file; every other figure is an assumption, its reason in "
                "[sources].\n")
        return head + tomli_w.dumps(doc)

    # -- what the report says -------------------------------------------------------------------------

    def _note_differences(self) -> None:
        m = self.mine
        for t in m.trucks:
            if t.count == 0:
                self.notes.append(f"truck type {t.type} ({t.key}) has count 0: no group, no truck class written")
        pairs = sorted({(t.capacity_t, u.tons, u.cycle_min) for t in m.trucks if t.count for s in m.loads
                        for u in s.units})
        for cap, tons, cyc in pairs:
            load = planned_passes(cap, tons)
            exact = cap / tons
            if abs(load.payload_t - cap) > 0.01 * cap:
                self.notes.append(
                    f"loading: OpenMines loads a {cap:g} t truck under a {tons:g} t bucket in {exact:.2f} passes "
                    f"({exact * cyc:.2f} min, {cap:g} t); minefleet loads whole passes: {load.passes} "
                    f"({load.passes * cyc:.2f} min, {load.payload_t:.1f} t, {load.payload_t / cap - 1:+.0%})")
        for d in m.dumps:
            lo, hi = d.dump_range_min
            if hi > lo:
                self.notes.append(f"dump site {d.name} ({d.key}): dumpers of {lo:g}-{hi:g} min folded into "
                                  f"{d.bays} bays of {d.dump_min:.3g} min (count-weighted mean)")
        not_honoured = [
            "OpenMines' dispatchers" + (f" ({', '.join(m.dispatchers)})" if m.dispatchers else "")
            + ": not imported; the scenario plans with minefleet's 'nearest'",
            "road repairs (road.road_event_params"
            + (": " + ", ".join(f"{k} = {v}" for k, v in m.road_events.items()) if m.road_events else ", defaults")
            + "): minefleet has no random road closures with detours",
            "OpenMines' random road jams: not modelled as such; trucks here queue behind each other on the road",
            "payload scatter: OpenMines draws +-10 % uniform per load; minefleet scatters each pass (its own model)",
            "parking lots and shovel/dumper position offsets: drawing only in OpenMines; not imported",
            "trucks beyond repair (OpenMines: about once in 7 weeks per truck): not modelled",
        ]
        if self.failures:
            not_honoured += [
                f"breakdowns: OpenMines draws a new exponential time at every departure (trucks) or load (shovels) and "
                f"compares it with the time since the last one, so its real intervals are not the {TRUCK_MTBF_H:g} h / "
                f"{SHOVEL_MTBF_H:g} h means written here; minefleet runs a renewal process on those means",
                f"repair times: OpenMines' are normal ({TRUCK_MTTR_MIN:g} +- {TRUCK_MTTR_SD_MIN:g} min trucks, "
                f"{SHOVEL_MTTR_MIN:g} +- {SHOVEL_MTTR_SD_MIN:g} min shovels); minefleet keeps only the means",
            ]
        self.notes += [f"not honoured: {n}" for n in not_honoured]


def _toml_str(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def _toml_comment(value: str) -> str:
    return " ".join(value.splitlines())


def _point(xy: np.ndarray, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": [float(xy[0]), float(xy[1]), 0.0]}}


def _bowed(a: np.ndarray, b: np.ndarray) -> list[list[float]]:
    """A straight road bent slightly to its right at mid-way, so the two directions of a pair draw apart."""
    d = b - a
    length = float(np.hypot(*d))
    right = np.array([d[1], -d[0]]) / length
    mid = (a + b) / 2 + right * min(0.04 * length, 40.0)
    return [[float(a[0]), float(a[1]), 0.0], [round(float(mid[0]), 2), round(float(mid[1]), 2), 0.0],
            [float(b[0]), float(b[1]), 0.0]]
