"""The safety controller: how fast a truck may go given what it can see, and where it must stop.

Perception-safe speed (docs/architecture.md, "Trucks and motion"): the largest v with
``v * (t_sense + frame_period + t_inference + t_actuation) + v^2 / (2 a_brake) + margin <= detection range``:
the worst-case reaction of a frame-based pipeline, with the inference latency of the newest result (emulated
on the truck's chip). The age of the newest result decides staleness (HOLD). A detection in the truck's corridor puts a
stop line short of it; a result older than the budget means the truck no longer knows what is ahead: HOLD.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from edge.contract import SensorSpec


@dataclass(frozen=True)
class SafetyParams:
    t_sense_s: float = 0.05  # [s] sensor integration before a frame exists
    t_actuation_s: float = 0.3  # [s] brake system response
    margin_m: float = 5.0  # [m] kept between the stopped truck's front and an obstacle
    budget_s: float = 0.5  # [s] oldest usable perception result; older => HOLD
    threshold: float = 0.5  # [-] obstacle probability taken as a detection
    corridor_m: float = 1.0  # [m] clearance beside the truck body that counts as in its path
    known_truck_tol_m: float = 6.0  # [m] a detection this close to a fleet truck's body is that truck


def safe_speed(detect_range_m: np.ndarray, delay_s: np.ndarray, brake_mps2: np.ndarray,
               p: SafetyParams) -> np.ndarray:
    """Largest speed [m/s] that can still stop within the detection range (0 if the range is used up).

    ``delay_s`` [s]: frame period + inference latency, between sensing and actuation.
    """
    reach = np.maximum(detect_range_m - p.margin_m, 0.0)
    t = p.t_sense_s + delay_s + p.t_actuation_s
    return brake_mps2 * (-t + np.sqrt(t * t + 2.0 * reach / brake_mps2))


def stop_distance(sectors: np.ndarray, spec: SensorSpec, half_width_m: np.ndarray,
                  p: SafetyParams) -> np.ndarray:
    """Distance [m] from each truck's front to the nearest detection in its corridor (inf if none).

    ``sectors`` is ``[N, S, 2]`` model output; ``half_width_m`` per truck includes the corridor clearance.
    """
    dist = sectors[..., 1] * spec.max_range_m
    edges = np.deg2rad(np.linspace(-spec.fov_deg / 2, spec.fov_deg / 2, spec.sectors + 1))
    half_angle = np.arctan2(half_width_m[:, None], np.maximum(dist, 1e-3))
    in_path = (edges[:-1] <= half_angle) & (edges[1:] >= -half_angle)
    hit = (sectors[..., 0] >= p.threshold) & in_path
    return np.where(hit, dist, np.inf).min(axis=1) if len(sectors) else np.zeros(0)


@njit(cache=True)
def truck_limits(idx, now, latest, latest_t, latest_s, latest_route, frame_x, frame_y, frame_h, route, s, v, x, y,
                 body_r, latency, frame_period, detect_range, exact, brake, service, half_width, true_gap, fov,
                 max_range, t_sense, t_act, margin, budget, threshold, known_tol):
    """The controller for every truck on the road at once (index j into ``idx``; per-truck inputs by i).

    A detection is placed in the world from the truck's pose at its frame; if it falls on another truck the
    fleet knows about (positions shared over the network, as autonomous haulage systems do), it is that truck,
    which car-following already keeps its distance from, not an obstacle. Returns stop gap [m] (stop line
    minus margin), speed limit [m/s], stale (=> HOLD) and hard (=> an e-stop: the stop line is nearer than
    the service brake can manage).
    """
    n = len(idx)
    n_sectors = latest.shape[1]
    width = fov / n_sectors
    stop = np.full(n, np.inf)
    limit = np.full(n, np.inf)
    stale = np.zeros(n, dtype=np.bool_)
    hard = np.zeros(n, dtype=np.bool_)
    for j in range(n):
        i = idx[j]
        age = now - latest_t[i]
        if age > budget:
            stale[j] = True
            limit[j] = 0.0
        else:
            reach = max(detect_range[i] - margin, 0.0)
            # Worst-case reaction of a frame-based pipeline: an obstacle appearing just after a frame waits
            # a frame period, then sensing, inference (the newest result's latency) and the brakes.
            t = t_sense + frame_period + latency[i] + t_act
            limit[j] = brake[i] * (-t + np.sqrt(t * t + 2.0 * reach / brake[i]))
        if exact[i]:
            d = true_gap[i]
        elif latest_route[i] == route[i]:
            d = np.inf
            for q in range(n_sectors):
                if latest[i, q, 0] < threshold:
                    continue
                dist = latest[i, q, 1] * max_range
                half_angle = np.arctan2(half_width[i], max(dist, 1e-3))
                lo = -fov / 2 + q * width
                if not (lo <= half_angle and lo + width >= -half_angle and dist < d):
                    continue
                bearing = frame_h[i] + lo + width / 2
                wx = frame_x[i] + dist * np.cos(bearing)
                wy = frame_y[i] + dist * np.sin(bearing)
                known = False
                for k in idx:
                    if k != i and (x[k] - wx) ** 2 + (y[k] - wy) ** 2 < (body_r[k] + known_tol) ** 2:
                        known = True
                        break
                if not known:
                    d = dist
            d -= s[i] - latest_s[i]  # the truck has moved on since the frame
        else:
            d = np.inf  # the newest result belongs to the previous route (the truck has just turned)
        stop[j] = d - margin
        if d < np.inf and v[i] > 0.5 and v[i] * v[i] / (2.0 * max(stop[j], 0.1)) > service[i]:
            hard[j] = True
    return stop, limit, stale, hard


def obstacle_seen(out: np.ndarray, truth: np.ndarray, threshold: float, max_range_m: float,
                  margin_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: was one obstacle within the sensor's range and field of view, and did the model detect it.

    ``truth`` ``[N, S, 2]`` is the sensor's ground truth for that obstacle alone (``edge.sensor.ground_truth``
    with one target, so the geometry is the sensor's own); ``out`` ``[N, S, 2]`` the model's result for the
    same frames. Detected: some sector the obstacle covers holds a detection whose stop line (its distance less
    ``margin_m``) is at or before the obstacle; a detection placed beyond it would not stop the truck for it.
    This is what explains a collision: in view and not detected is a missed detection.
    """
    covered = truth[..., 0] >= 0.5
    near_enough = (out[..., 1] - truth[..., 1]) * max_range_m <= margin_m
    detected = (covered & (out[..., 0] >= threshold) & near_enough).any(axis=-1)
    return covered.any(axis=-1), detected
