"""The forward scanning range sensor, synthesised for every truck at once, with ground truth per sector.

Each beam is a ray from the truck's front across the field of view. It returns the nearest hit among round
targets (hazards and other trucks) and the road-side berms, or nothing within range. Dust and rain degrade the
scan the way they degrade a LiDAR: returns drop out (more at long range), backscatter makes false short
returns, and range noise grows. Ground truth (is a target in each sector, and how far) is kept beside every
frame for training and scoring; berms are background, not obstacles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from edge.contract import SensorSpec

BERM_REFLECTIVITY = 0.25  # [-] compacted spoil berm
INTENSITY_FALLOFF_M = 40.0  # [m] range at which a return's intensity halves
FALSE_RANGE_M = (2.0, 20.0)  # [m] where dust backscatter puts false returns


@dataclass(frozen=True)
class Weather:
    dust: float = 0.0  # [0..1] airborne dust density; coal mines are dusty
    rain: float = 0.0  # [0..1]

    def drop_rate(self) -> float:
        """Share of far returns lost [-] (scaled by range inside the kernel)."""
        return min(0.9, 0.6 * self.dust + 0.2 * self.rain)

    def false_rate(self) -> float:
        """Chance per beam of a false short return from backscatter [-]."""
        return min(0.5, 0.2 * self.dust + 0.05 * self.rain)

    def noise_m(self) -> float:
        return 0.05 + 0.5 * self.dust + 0.2 * self.rain  # [m] range noise (1 sigma)


@dataclass
class Targets:
    """Round things a beam can hit: hazards and trucks (x, y [m], radius [m], reflectivity [-])."""

    x: np.ndarray
    y: np.ndarray
    r: np.ndarray
    refl: np.ndarray

    @classmethod
    def empty(cls) -> Targets:
        z = np.zeros(0)
        return cls(z, z.copy(), z.copy(), z.copy())


def synthesise(spec: SensorSpec, px: np.ndarray, py: np.ndarray, heading: np.ndarray, half_width: np.ndarray,
               self_target: np.ndarray, targets: Targets, weather: Weather,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Scans ``[N, C, B]`` float32 and ground truth ``[N, S, 2]`` float32 for N sensor poses.

    ``px, py`` [m] sensor position, ``heading`` [rad], ``half_width`` [m] of the road each truck is on (the
    berms), ``self_target`` the index of each truck's own body in ``targets`` (-1 if none).
    """
    n, b = len(px), spec.beams
    u = rng.random((n, b, 3))  # drop-out, false return, and (with the normal) noise draws
    noise = rng.standard_normal((n, b))
    scan = np.empty((n, spec.channels, b), dtype=np.float32)
    truth = np.empty((n, spec.sectors, 2), dtype=np.float32)
    _kernel(px, py, heading, half_width, self_target, targets.x, targets.y, targets.r, targets.refl,
            np.deg2rad(spec.fov_deg), spec.max_range_m, weather.drop_rate(), weather.false_rate(),
            weather.noise_m(), u, noise, scan)
    _truth(px, py, heading, self_target, targets.x, targets.y, targets.r, np.deg2rad(spec.fov_deg),
           spec.max_range_m, truth)
    return scan, truth


def ground_truth(spec: SensorSpec, px: np.ndarray, py: np.ndarray, heading: np.ndarray, self_target: np.ndarray,
                 targets: Targets) -> np.ndarray:
    """Ground truth ``[N, S, 2]`` alone, for perceptions that need no scan (oracle, blind)."""
    truth = np.empty((len(px), spec.sectors, 2), dtype=np.float32)
    _truth(px, py, heading, self_target, targets.x, targets.y, targets.r, np.deg2rad(spec.fov_deg),
           spec.max_range_m, truth)
    return truth


@njit(cache=True)
def _kernel(px, py, heading, half_width, self_target, tx, ty, tr, trefl, fov, max_range,
            drop_rate, false_rate, noise_m, u, noise, scan):
    n = len(px)
    beams = scan.shape[2]
    lo, hi = FALSE_RANGE_M
    near = np.empty(len(tx), dtype=np.int64)
    rels = np.empty(beams)  # [rad] each beam's angle off the heading, and how far it leans to the side
    side = np.empty(beams)
    for k in range(beams):
        rels[k] = (k / (beams - 1) - 0.5) * fov
        side[k] = abs(np.sin(rels[k]))
    for i in range(n):
        # Only targets whose nearest surface lies within range can be hit (a hit is never nearer than the
        # target's centre less its radius); a metre's margin keeps rounding on the safe side. Same targets in the
        # same order as the full list: the scan is the same, at a fraction of the cost on a spread-out fleet.
        m = 0
        for j in range(len(tx)):
            ox, oy, reach = tx[j] - px[i], ty[j] - py[i], max_range + tr[j] + 1.0
            if j != self_target[i] and ox * ox + oy * oy < reach * reach:
                near[m] = j
                m += 1
        for k in range(beams):
            rel = rels[k]
            dx, dy = np.cos(heading[i] + rel), np.sin(heading[i] + rel)
            best, refl = max_range, 0.0
            s = side[k]
            if s > 1e-6 and half_width[i] / s < best:
                best, refl = half_width[i] / s, BERM_REFLECTIVITY
            for jj in range(m):
                j = near[jj]
                ox, oy = tx[j] - px[i], ty[j] - py[i]
                along = ox * dx + oy * dy
                if along <= 0.0:
                    continue
                perp2 = ox * ox + oy * oy - along * along
                r2 = tr[j] * tr[j]
                if perp2 > r2:
                    continue
                hit = along - np.sqrt(r2 - perp2)
                if 0.0 < hit < best:
                    best, refl = hit, trefl[j]
            rng_m = best
            intensity = 0.0
            if refl > 0.0:
                if u[i, k, 0] < drop_rate * rng_m / max_range:
                    rng_m, refl = max_range, 0.0
                else:
                    rng_m = min(max(rng_m + noise[i, k] * noise_m, 0.5), max_range)
                    intensity = refl / (1.0 + (rng_m / INTENSITY_FALLOFF_M) ** 2)
            if u[i, k, 1] < false_rate:
                fr = lo + (hi - lo) * u[i, k, 2]
                if fr < rng_m:
                    rng_m, intensity = fr, 0.05 + 0.1 * u[i, k, 2]
            scan[i, 0, k] = rng_m / max_range
            scan[i, 1, k] = intensity


@njit(cache=True)
def _truth(px, py, heading, self_target, tx, ty, tr, fov, max_range, truth):
    """Each target marks every sector its angular extent overlaps, with its nearest surface distance."""
    n_sectors = truth.shape[1]
    width = fov / n_sectors
    for i in range(len(px)):
        ch, sh = np.cos(heading[i]), np.sin(heading[i])
        for q in range(n_sectors):
            truth[i, q, 0] = 0.0
            truth[i, q, 1] = 1.0
        for j in range(len(tx)):
            if j == self_target[i]:
                continue
            ox, oy = tx[j] - px[i], ty[j] - py[i]
            fwd = ox * ch + oy * sh
            left = -ox * sh + oy * ch
            centre = np.sqrt(ox * ox + oy * oy)
            dist = centre - tr[j]
            if fwd <= 0.0 or dist > max_range or dist < 0.0:
                continue
            bearing = np.arctan2(left, fwd)
            half = np.arcsin(min(1.0, tr[j] / centre))
            lo = max(bearing - half, -fov / 2)
            hi = min(bearing + half, fov / 2)
            if lo > hi:
                continue  # wholly outside the field of view
            q0 = min(int((lo + fov / 2) / width), n_sectors - 1)
            q1 = min(int((hi + fov / 2) / width), n_sectors - 1)
            for q in range(q0, q1 + 1):
                truth[i, q, 0] = 1.0
                truth[i, q, 1] = min(truth[i, q, 1], dist / max_range)
