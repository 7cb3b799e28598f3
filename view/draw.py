"""The dynamic layer's things: trucks, shovels and tipping points with their queues, obstacles.

Drawing functions only read the snapshot (highway-env's ``vehicle/graphics.py`` rule). Geometry is worked
out for the whole fleet in numpy, then drawn truck by truck; trucks off screen are skipped before any of it.
"""

from __future__ import annotations

import numpy as np
import pygame

from fleet.snapshot import FacilityView, Snapshot
from view import palette as P
from view.camera import Camera
from view.palette import TextCache

MIN_LENGTH_PX = 14.0  # [px] a truck never draws shorter than this, however far out the zoom
MIN_WIDTH_PX = 8.0  # [px]
BED_FRACTION = 0.4  # rear share of the body that shows the load (the centre stays in the state colour)
LABEL_SCALE = 1.2  # [px/m] truck ids appear from this zoom
SPEED_LABEL_SCALE = 3.0  # [px/m] speeds join the ids from this zoom
FACILITY_LABEL_SCALE = 0.12  # [px/m] shovel names appear from this zoom
SHOVEL_PX = 8  # [px] shovel symbol radius
UNIT_PX = 5  # [px] symbol radius of a loading area's unit
MIN_OBSTACLE_PX = 4.0  # [px] obstacle symbol radius at least this


def truck_outlines(snap: Snapshot, cam: Camera, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Screen polygons of trucks ``idx``: body ``[m, 6, 2]``, load ``[m, 4, 2]`` and load fraction ``[m]``.

    The body is a rectangle of the truck's length and width [m] with a chamfered front, so heading reads at a
    glance; the load fills the rear of the bed in proportion to payload over capacity.
    """
    t = snap.trucks
    px, py = cam.to_screen(t.x[idx], t.y[idx])
    length = np.maximum(t.length_m[idx] * cam.scale, MIN_LENGTH_PX)[:, None]
    width = np.maximum(t.width_m[idx] * cam.scale, MIN_WIDTH_PX)[:, None]
    chamfer = np.minimum(0.3 * length, 0.5 * width)
    half_l, half_w = length / 2, width / 2
    u = np.hstack([-half_l, half_l - chamfer, half_l, half_l, half_l - chamfer, -half_l])
    v = np.hstack([-half_w, -half_w, -half_w / 2, half_w / 2, half_w, half_w])
    cap = np.where(t.capacity_t[idx] > 0, t.capacity_t[idx], 1.0)
    frac = np.clip(t.payload_t[idx] / cap, 0.0, 1.0)
    rear = -half_l + 1.0
    front = rear + (BED_FRACTION * length - 1.0) * frac[:, None]
    inner = half_w - 1.0
    lu = np.hstack([rear, front, front, rear])
    lv = np.hstack([-inner, -inner, inner, inner])
    c, s = np.cos(t.heading[idx])[:, None], np.sin(t.heading[idx])[:, None]

    def place(uu: np.ndarray, vv: np.ndarray) -> np.ndarray:
        return np.stack([px[:, None] + uu * c - vv * s, py[:, None] - (uu * s + vv * c)], axis=-1)

    return place(u, v), place(lu, lv), frac


def draw_trucks(surface: pygame.Surface, cam: Camera, snap: Snapshot, colours: np.ndarray, text: TextCache,
                selected: int | None) -> None:
    """Every visible truck as an oriented shape in its state colour, with its load, and the selection ring."""
    t = snap.trucks
    if not t.ids:
        return
    pad = float(max(t.length_m.max() * cam.scale, MIN_LENGTH_PX))
    idx = np.flatnonzero(cam.visible(t.x, t.y, pad_px=pad))
    if idx.size == 0:
        return
    body, load, frac = truck_outlines(snap, cam, idx)
    fill = colours[np.clip(t.state[idx], 0, len(colours) - 1)].tolist()
    body_l, load_l, loaded = body.tolist(), load.tolist(), (frac > 0).tolist()
    draw_polygon = pygame.draw.polygon
    for k in range(idx.size):
        draw_polygon(surface, fill[k], body_l[k])
        if loaded[k]:
            draw_polygon(surface, P.PAYLOAD, load_l[k])
        draw_polygon(surface, P.TRUCK_OUTLINE, body_l[k], 1)
    _outages(surface, cam, snap, idx)
    if selected is not None and 0 <= selected < len(t.ids):
        sx, sy = cam.to_screen(t.x[selected], t.y[selected])
        radius = max(t.length_m[selected] * cam.scale, MIN_LENGTH_PX) * 0.75 + 4
        pygame.draw.circle(surface, P.SELECTED, (sx, sy), radius, 2)
    if cam.scale >= LABEL_SCALE:
        _labels(surface, cam, snap, idx, text)


def _outages(surface: pygame.Surface, cam: Camera, snap: Snapshot, idx: np.ndarray) -> None:
    """A truck whose radio link is in outage gets a crossed mark above it."""
    out = snap.link_outage
    if out.size == 0:
        return
    t = snap.trucks
    for i in idx[out[idx]].tolist():
        sx, sy = cam.to_screen(t.x[i], t.y[i])
        r = max(t.length_m[i] * cam.scale, MIN_LENGTH_PX) * 0.5
        cx, cy = float(sx), float(sy) - r - 6
        pygame.draw.line(surface, P.LINK_OUTAGE, (cx - 5, cy - 5), (cx + 5, cy + 5), 2)
        pygame.draw.line(surface, P.LINK_OUTAGE, (cx - 5, cy + 5), (cx + 5, cy - 5), 2)


def _labels(surface: pygame.Surface, cam: Camera, snap: Snapshot, idx: np.ndarray, text: TextCache) -> None:
    t = snap.trucks
    px, py = cam.to_screen(t.x[idx], t.y[idx])
    offset = np.maximum(t.length_m[idx] * cam.scale, MIN_LENGTH_PX) * 0.75 + 6  # clear of the selection ring
    speeds = cam.scale >= SPEED_LABEL_SCALE
    for k, i in enumerate(idx.tolist()):
        label = f"{t.ids[i]} {t.speed_mps[i] * 3.6:.0f} km/h" if speeds else t.ids[i]
        surf = text.render(label, P.TRUCK_LABEL, "small")
        surface.blit(surf, (px[k] - surf.get_width() / 2, py[k] - offset[k] - surf.get_height()))


def draw_facilities(surface: pygame.Surface, cam: Camera, facilities: list[FacilityView], text: TextCache) -> None:
    """Shovels as symbols; shovels, dumps and crushers with a queue badge (waiting, bays in service / bays)."""
    for f in facilities:
        if f.kind == "park":
            continue
        px, py = cam.to_screen(f.x, f.y)
        if not (-80 <= px <= cam.width + 80 and -80 <= py <= cam.height + 80):
            continue
        if f.kind == "shovel":
            if len(f.units) > 1:  # a loading area: its units around the stop, each tied to it
                for ux, uy, up in f.units:
                    upx, upy = cam.to_screen(ux, uy)
                    pygame.draw.line(surface, P.SHOVEL_ARM, (px, py), (upx, upy), 1)
                    _shovel(surface, upx, upy, UNIT_PX, up)
            _shovel(surface, px, py, SHOVEL_PX, any(up for _, _, up in f.units) or not f.units)
        _badge(surface, text, f, px + SHOVEL_PX + 3, py - SHOVEL_PX - 14)
        if cam.scale >= FACILITY_LABEL_SCALE and f.kind == "shovel":
            name = text.render(f.id, P.MAP_LABEL, "small")
            surface.blit(name, (px - name.get_width() / 2, py + SHOVEL_PX + 3))


def _shovel(surface: pygame.Surface, px: float, py: float, r: float, up: bool) -> None:
    """A shovel symbol: body and boom; greyed out while it is out of service."""
    pygame.draw.circle(surface, P.SHOVEL if up else P.SHOVEL_DOWN, (px, py), r)
    pygame.draw.circle(surface, P.SHOVEL_ARM, (px, py), r, 2)
    pygame.draw.line(surface, P.SHOVEL_ARM, (px, py), (px + r * 1.6, py - r * 1.2), 3)


def _badge(surface: pygame.Surface, text: TextCache, f: FacilityView, x: float, y: float) -> None:
    colour = P.BADGE_OK if f.queue == 0 else P.BADGE_JAM if f.queue >= P.BADGE_JAM_AT else P.BADGE_BUSY
    label = text.render(f"q{f.queue}  {f.busy}/{f.bays}", P.BADGE_TEXT, "small")
    rect = label.get_rect(topleft=(round(x), round(y))).inflate(8, 4)
    pygame.draw.rect(surface, colour, rect, border_radius=4)
    surface.blit(label, (rect.x + 4, rect.y + 2))


def draw_obstacles(surface: pygame.Surface, cam: Camera, obstacles: dict[str, np.ndarray]) -> None:
    """Obstacles on the roads by kind: spillage round, vehicles square, people as diamonds."""
    x = obstacles.get("x")
    if x is None or len(x) == 0:
        return
    y, r, kinds = obstacles["y"], obstacles["r"], obstacles["kind"]
    for i in np.flatnonzero(cam.visible(x, y, pad_px=20)).tolist():
        px, py = cam.to_screen(float(x[i]), float(y[i]))
        rad = max(float(r[i]) * cam.scale, MIN_OBSTACLE_PX)
        kind = str(kinds[i])
        colour = P.OBSTACLE_COLOURS.get(kind, P.OBSTACLE_UNKNOWN)
        if kind == "person":
            pts = [(px, py - rad * 1.3), (px + rad, py), (px, py + rad * 1.3), (px - rad, py)]
            pygame.draw.polygon(surface, colour, pts)
            pygame.draw.polygon(surface, P.OBSTACLE_EDGE, pts, 1)
        elif kind == "light_vehicle":
            rect = pygame.Rect(0, 0, rad * 2, rad * 2)
            rect.center = (round(px), round(py))
            pygame.draw.rect(surface, colour, rect)
            pygame.draw.rect(surface, P.OBSTACLE_EDGE, rect, 1)
        else:
            pygame.draw.circle(surface, colour, (px, py), rad)
            pygame.draw.circle(surface, P.OBSTACLE_EDGE, (px, py), rad, 1)
