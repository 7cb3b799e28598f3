"""Overlays the O key cycles through (trails, dispatch lines, coverage) and the selected truck's perception fan.

Trails are the view's own short memory of where trucks were; everything else is read from the snapshot.
"""

from __future__ import annotations

import math

import numpy as np
import pygame

from fleet.snapshot import Snapshot
from view import palette as P
from view.camera import Camera

FAN_ARC_STEPS = 6  # points along each sector's outer arc
MIN_FAN_PX = 3.0  # [px] a fan smaller than this is not drawn on the map (the panel still shows it)
TRAIL_GAP_PERIODS = 4  # a jump in time of more periods than this (a replay seek) starts trails afresh

OVERLAYS = ("trails", "dispatch", "coverage")


def overlay_cycle(with_coverage: bool) -> list[tuple[str, ...]]:
    """The combinations O steps through; coverage takes part only when a SINR grid was given."""
    names = [n for n in OVERLAYS if n != "coverage" or with_coverage]
    return [("trails",), ("dispatch",), *([("coverage",)] if with_coverage else []), tuple(names), ()]


class Trails:
    """Recent positions of every truck, sampled every ``period_s`` [s] of simulation time, ``length`` deep."""

    def __init__(self, period_s: float = 5.0, length: int = 36) -> None:
        self.period_s = period_s  # [s]
        self.length = length
        self._ids: list[str] = []
        self._buf = np.zeros((length, 0, 2))
        self._count = 0
        self._head = 0
        self._last_t = -math.inf
        self._next_t = -math.inf

    def reset(self) -> None:
        self._ids = []
        self._count = 0

    def record(self, snap: Snapshot) -> None:
        t = snap.trucks
        jumped = snap.t < self._last_t - 1e-9 or snap.t - self._last_t > TRAIL_GAP_PERIODS * self.period_s
        if t.ids != self._ids or (jumped and self._count):
            self._ids = list(t.ids)
            self._buf = np.zeros((self.length, len(t.ids), 2))
            self._count, self._head, self._next_t = 0, 0, -math.inf
        self._last_t = snap.t
        if snap.t + 1e-9 < self._next_t:
            return
        self._buf[self._head, :, 0] = t.x
        self._buf[self._head, :, 1] = t.y
        self._head = (self._head + 1) % self.length
        self._count = min(self._count + 1, self.length)
        self._next_t = (math.floor(snap.t / self.period_s + 1e-9) + 1) * self.period_s

    def history(self) -> np.ndarray:
        """``[k, n, 2]`` recorded positions [m], oldest first."""
        order = (np.arange(self._count) + self._head - self._count) % self.length
        return self._buf[order]

    def draw(self, surface: pygame.Surface, cam: Camera, snap: Snapshot, colours: np.ndarray) -> None:
        if self._count == 0 or snap.trucks.ids != self._ids:
            return
        t = snap.trucks
        hist = np.concatenate([self.history(), np.stack([t.x, t.y], axis=-1)[None]], axis=0)
        xs, ys = cam.to_screen(hist[..., 0], hist[..., 1])
        moved = (np.ptp(xs, axis=0) + np.ptp(ys, axis=0)) >= 2.0
        seen = (xs >= 0).any(0) & (xs <= cam.width).any(0) & (ys >= 0).any(0) & (ys <= cam.height).any(0)
        shaded = (colours[np.clip(t.state, 0, len(colours) - 1)] * P.TRAIL_SHADE).astype(int).tolist()
        pts = np.stack([xs, ys], axis=-1)
        for i in np.flatnonzero(moved & seen).tolist():
            pygame.draw.lines(surface, shaded[i], False, pts[:, i].tolist(), 2)


def draw_dispatch(surface: pygame.Surface, cam: Camera, snap: Snapshot) -> None:
    """A line from each truck to the facility it was sent to, blue running empty, orange loaded."""
    where = {f.id: cam.to_screen(f.x, f.y) for f in snap.facilities}
    t = snap.trucks
    xs, ys = cam.to_screen(t.x, t.y)
    for i, dest in enumerate(t.dest):
        end = where.get(dest)
        if end is not None:
            colour = P.DISPATCH_LOADED if t.payload_t[i] > 0 else P.DISPATCH_EMPTY
            pygame.draw.line(surface, colour, (xs[i], ys[i]), end, 1)


def fan_sectors(heading: float, fov: float, sectors: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Per sector: start and end bearing [rad], probability, normalised distance.

    Sector q covers bearings ``heading - fov/2 + q w`` to ``+ w`` (w = fov / S), counter-clockwise from east,
    as the perception contract defines them.
    """
    w = fov / len(sectors)
    start = heading - fov / 2
    return [(start + q * w, start + (q + 1) * w, float(sectors[q, 0]), float(sectors[q, 1]))
            for q in range(len(sectors))]


def _arc(centre: tuple[float, float], r: float, a0: float, a1: float, steps: int) -> list[tuple[float, float]]:
    a = np.linspace(a0, a1, steps)
    return list(zip((centre[0] + r * np.cos(a)).tolist(), (centre[1] - r * np.sin(a)).tolist(), strict=True))


def paint_fan(surface: pygame.Surface, centre: tuple[float, float], radius_px: float, heading: float, fov: float,
              sectors: np.ndarray) -> None:
    """Sectors coloured by probability, detected distances as white arcs, the field of view outlined."""
    for a0, a1, p, dist in fan_sectors(heading, fov, sectors):
        pygame.draw.polygon(surface, P.lerp(P.FAN_CLEAR, P.FAN_DETECT, p),
                            [centre, *_arc(centre, radius_px, a0, a1, FAN_ARC_STEPS)])
        if p >= P.DETECT_THRESHOLD:
            hit = _arc(centre, dist * radius_px, a0, a1, FAN_ARC_STEPS)
            pygame.draw.lines(surface, P.FAN_RANGE_ARC, False, hit, 2)
    rim = _arc(centre, radius_px, heading - fov / 2, heading + fov / 2, 4 * FAN_ARC_STEPS)
    pygame.draw.lines(surface, P.FAN_EDGE, True, [centre, *rim], 1)


def draw_perception(surface: pygame.Surface, cam: Camera, snap: Snapshot, i: int) -> None:
    """The selected truck's latest perception output on the map, and the true obstacles inside its view."""
    det = snap.detections
    sectors = det.get("sectors")
    if sectors is None or i >= len(sectors):
        return
    t = snap.trucks
    fov, reach = math.radians(float(det["fov_deg"])), float(det["max_range_m"])  # [rad], [m]
    radius = reach * cam.scale
    cx, cy = cam.to_screen(float(t.x[i]), float(t.y[i]))
    if radius >= MIN_FAN_PX:
        box = pygame.Rect(math.floor(cx - radius) - 2, math.floor(cy - radius) - 2, math.ceil(2 * radius) + 5,
                          math.ceil(2 * radius) + 5).clip(surface.get_rect())
        if box.width > 0 and box.height > 0:
            layer = pygame.Surface(box.size, pygame.SRCALPHA)
            paint_fan(layer, (cx - box.x, cy - box.y), radius, float(t.heading[i]), fov, sectors[i])
            surface.blit(layer, box.topleft)
    ob = snap.obstacles
    if len(ob.get("x", ())) == 0:
        return
    dx, dy = ob["x"] - t.x[i], ob["y"] - t.y[i]
    bearing = (np.arctan2(dy, dx) - t.heading[i] + math.pi) % (2 * math.pi) - math.pi
    inside = (np.hypot(dx, dy) - ob["r"] <= reach) & (np.abs(bearing) <= fov / 2 + np.arcsin(
        np.clip(ob["r"] / np.maximum(np.hypot(dx, dy), 1e-6), 0, 1)))
    for k in np.flatnonzero(inside).tolist():
        px, py = cam.to_screen(float(ob["x"][k]), float(ob["y"][k]))
        pygame.draw.circle(surface, P.TRUTH_RING, (px, py), max(float(ob["r"][k]) * cam.scale, 4.0) + 4, 2)
