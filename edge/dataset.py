"""Labelled frames from the project's own sensor: random road scenes ahead of a truck, in batches.

A scene puts the sensing truck on a haul road (half-width drawn from the shipped maps' road widths) with
hazards and other trucks ahead, under a given dust and rain level. Scenes are laid 1 km apart so one sensor
call handles a batch without one scene's targets reaching another's beams.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.contract import SensorSpec
from edge.sensor import Targets, Weather, ground_truth, synthesise

SCENE_SPACING_M = 1000.0  # [m] far beyond the sensor's range
# (radius [m], reflectivity [-]) of what appears on haul roads: spillage, light vehicle, person, haul truck
TARGET_KINDS = ((1.0, 0.08), (2.5, 0.6), (0.4, 0.35), (4.5, 0.5))
CHUNK = 256  # scenes per sensor call
SMALL_RADIUS_M = 1.2  # [m] spillage and people: the obstacles that set how far a model can be trusted


def road_half_widths(maps_dir: Path) -> np.ndarray:
    """Half-widths [m] of every road in the shipped maps: the berm distances the sensor sees."""
    widths = []
    for p in sorted(maps_dir.glob("*.geojson")):
        doc = json.loads(p.read_text(encoding="utf-8"))
        widths += [f["properties"].get("width_m", 30.0) for f in doc["features"]
                   if f["properties"].get("kind") == "road"]
    return np.asarray(widths, dtype=float) / 2


@dataclass
class Frames:
    scans: np.ndarray  # [N, C, B] float32
    truth: np.ndarray  # [N, S, 2] float32
    dust: np.ndarray  # [N]
    truth_small: np.ndarray  # [N, S, 2]: the same scenes counting only small obstacles (spillage, people)


def generate(n: int, spec: SensorSpec, half_widths: np.ndarray, rng: np.random.Generator,
             dust: float | None = None, rain: float | None = None) -> Frames:
    """``n`` frames; dust and rain fixed if given, else drawn per chunk (dust uniform, rain mostly dry)."""
    scans, truth, dusts, small = [], [], [], []
    for start in range(0, n, CHUNK):
        m = min(CHUNK, n - start)
        d = float(rng.uniform(0, 1)) if dust is None else dust
        r = (float(rng.uniform(0, 0.5)) if rng.random() < 0.2 else 0.0) if rain is None else rain
        targets, hw = _scenes(m, spec, half_widths, rng)
        px = np.arange(m) * SCENE_SPACING_M
        s, t = synthesise(spec, px, np.zeros(m), np.zeros(m), hw, np.full(m, -1), targets, Weather(d, r), rng)
        keep = targets.r <= SMALL_RADIUS_M
        tiny = Targets(targets.x[keep], targets.y[keep], targets.r[keep], targets.refl[keep])
        small.append(ground_truth(spec, px, np.zeros(m), np.zeros(m), np.full(m, -1), tiny))
        scans.append(s)
        truth.append(t)
        dusts.append(np.full(m, d))
    return Frames(np.concatenate(scans), np.concatenate(truth), np.concatenate(dusts), np.concatenate(small))


def _scenes(m: int, spec: SensorSpec, half_widths: np.ndarray, rng: np.random.Generator):
    hw = rng.choice(half_widths, size=m)
    xs, ys, rs, refl = [], [], [], []
    for k in range(m):
        base = k * SCENE_SPACING_M
        count = rng.poisson(1.5)
        for _ in range(count):
            kind = int(rng.choice(4, p=[0.35, 0.2, 0.2, 0.25]))
            radius, reflectivity = TARGET_KINDS[kind]
            dist = rng.uniform(3.0, spec.max_range_m * 1.1)
            # Trucks drive in lanes (ours at 0, the other at +half-width); hazards lie anywhere on the road.
            lat = (rng.choice([0.0, hw[k]]) + rng.normal(0, 1.0)) if kind == 3 else rng.uniform(-hw[k], hw[k])
            xs.append(base + dist)
            ys.append(lat)
            rs.append(radius * rng.uniform(0.8, 1.2))
            refl.append(reflectivity * rng.uniform(0.7, 1.3))
    t = Targets(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float), np.asarray(rs, dtype=float),
                np.asarray(refl, dtype=float))
    return t, hw
