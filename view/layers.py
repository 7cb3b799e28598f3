"""Pre-rendered layers: pictures of the world that change only when the camera does.

A ``CachedLayer`` paints onto a canvas larger than the screen (``margin`` of a screen on each side), so
panning and following a truck only move a blit offset; it paints again when the zoom changes, the window
grows, or the view leaves the canvas. ``MapPainter`` is the static map painted into such a layer.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pygame

from view import palette as P
from view.camera import Bounds, Camera
from view.palette import Colour, TextCache

if TYPE_CHECKING:
    from fleet.mapfile import MineMap

Painter = Callable[[pygame.Surface, Camera], None]

MAP_LABEL_SCALE = 0.12  # [px/m] dump, crusher and park names appear from this zoom
GNB_LABEL_SCALE = 0.5  # [px/m] gNB names appear from this zoom (they crowd the rim otherwise)
LANE_LINE_MIN_PX = 10  # road drawn at least this wide [px] before its lane divider shows
ICON_PX = 12  # [px] crusher, park and gNB symbol size


class CachedLayer:
    """A camera-dependent picture painted once and blitted every frame until the camera leaves it."""

    def __init__(self, paint: Painter, alpha: bool = False, margin: float = 0.5) -> None:
        self.paint = paint
        self.alpha = alpha
        self.margin = margin  # [screens] extra canvas on each side
        self.renders = 0  # how many times the layer was painted (re-paints cost; tests and bench read this)
        self._surf: pygame.Surface | None = None
        self._cam: Camera | None = None

    def invalidate(self) -> None:
        """Paint again on the next blit (the content changed, not the camera)."""
        self._surf = None

    def _offset(self, cam: Camera) -> tuple[float, float]:
        """Top-left of the screen inside the canvas [px]."""
        big = self._cam
        assert big is not None
        ox = big.width / 2 - cam.width / 2 + (cam.cx - big.cx) * cam.scale
        oy = big.height / 2 - cam.height / 2 - (cam.cy - big.cy) * cam.scale
        return ox, oy

    def _fits(self, cam: Camera) -> bool:
        if self._surf is None or self._cam is None or abs(self._cam.scale - cam.scale) > 1e-9 * cam.scale:
            return False
        ox, oy = self._offset(cam)
        return ox >= 0 and oy >= 0 and ox + cam.width <= self._cam.width and oy + cam.height <= self._cam.height

    def blit(self, target: pygame.Surface, cam: Camera) -> None:
        if not self._fits(cam):
            self._cam = cam.grown(self.margin)
            flags = pygame.SRCALPHA if self.alpha else 0
            self._surf = pygame.Surface((self._cam.width, self._cam.height), flags)
            if self.alpha:
                self._surf.fill((0, 0, 0, 0))
            self.paint(self._surf, self._cam)
            self.renders += 1
        assert self._surf is not None
        ox, oy = self._offset(cam)
        target.blit(self._surf, (0, 0), pygame.Rect(round(ox), round(oy), cam.width, cam.height))


@dataclass(frozen=True)
class _Shape:
    xy: np.ndarray  # [k, 2] world coordinates [m]
    bounds: Bounds
    fill: Colour
    edge: Colour | None


def _bounds(xy: np.ndarray) -> Bounds:
    return (float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max()))


class MapPainter:
    """The static map: pit, benches shaded by elevation, walls, hazard zones, roads, dumps, crusher, parks, gNBs.

    Geometry and colours are worked out once from the ``MineMap``; ``paint`` only transforms and draws.
    """

    def __init__(self, mine: MineMap, text: TextCache) -> None:
        self.text = text
        floors = [a for a in mine.areas if a.kind in ("pit", "bench", "wall")]
        z = [a.elevation_m for a in floors] or [0.0]
        self.z_range = (min(z), max(z))  # [m] elevation shading spans the map's own range
        order = {"pit": 0, "bench": 1, "wall": 2}
        # Higher floors first: in a pit each lower bench lies inside the one above, so it is painted over it.
        floors.sort(key=lambda a: (-a.elevation_m, order[a.kind]))
        self.areas: list[_Shape] = []
        for a in floors:
            xy = np.asarray(a.polygon.exterior.coords)[:, :2]
            fill = self.elevation_colour(a.elevation_m)
            if a.kind == "pit":
                fill = P.PIT_RIM
            elif a.kind == "wall":
                fill = P.shade(fill, P.WALL_SHADE)
            self.areas.append(_Shape(xy, _bounds(xy), fill, P.BENCH_EDGE if a.kind == "bench" else None))
        self.zones = [np.asarray(a.polygon.exterior.coords)[:, :2] for a in mine.areas if a.kind == "hazard_zone"]
        self.roads = [(r.coords[:, :2], _bounds(r.coords[:, :2]), r.width_m, r.lanes, r.one_way) for r in mine.roads]
        self.dumps = [np.asarray(d.outline.exterior.coords)[:, :2] for d in mine.dumps if d.outline is not None]
        self.icons: list[tuple[str, float, float]] = (
            [("crusher" if d.kind == "crusher" else "dump", d.xyz[0], d.xyz[1]) for d in mine.dumps
             if d.outline is None]
            + [("park", p.xyz[0], p.xyz[1]) for p in mine.parks]
            + [("gnb", g.xyz[0], g.xyz[1]) for g in mine.gnbs])
        boxes = [mine.bounds(), *(_bounds(xy) for xy in self.dumps)]
        self.bounds: Bounds = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
                               max(b[3] for b in boxes))  # [m] everything painted, dump outlines included
        self.labels = ([(d.id, d.xyz[0], d.xyz[1], MAP_LABEL_SCALE) for d in mine.dumps]
                       + [(p.id, p.xyz[0], p.xyz[1], MAP_LABEL_SCALE) for p in mine.parks]
                       + [(g.id, g.xyz[0], g.xyz[1], GNB_LABEL_SCALE) for g in mine.gnbs])

    def elevation_colour(self, z: float) -> Colour:
        lo, hi = self.z_range
        return P.lerp(P.BENCH_LOW, P.BENCH_HIGH, (z - lo) / (hi - lo) if hi > lo else 1.0)  # type: ignore[return-value]

    def paint(self, surface: pygame.Surface, cam: Camera) -> None:
        surface.fill(P.BACKGROUND)
        for a in self.areas:
            if cam.sees(a.bounds):
                pts = cam.points(a.xy)
                pygame.draw.polygon(surface, a.fill, pts)
                if a.edge is not None:
                    pygame.draw.polygon(surface, a.edge, pts, 1)
        for xy in self.zones:
            pygame.draw.polygon(surface, P.HAZARD_ZONE, cam.points(xy), 2)
        for xy in self.dumps:
            pts = cam.points(xy)
            pygame.draw.polygon(surface, P.DUMP_FILL, pts)
            pygame.draw.polygon(surface, P.DUMP_EDGE, pts, 2)
        self._roads(surface, cam)
        for kind, x, y in self.icons:
            px, py = cam.to_screen(x, y)
            _icon(surface, kind, px, py)
        for text, x, y, min_scale in self.labels:
            if cam.scale >= min_scale:
                px, py = cam.to_screen(x, y)
                label = self.text.render(text, P.MAP_LABEL, "small")
                surface.blit(label, (px - label.get_width() / 2, py + ICON_PX))

    def _roads(self, surface: pygame.Surface, cam: Camera) -> None:
        """Edges under surfaces under lane lines, so crossings read as one continuous network."""
        seen = [(cam.points(xy), w, lanes, one_way) for xy, b, w, lanes, one_way in self.roads
                if cam.sees(b, pad_px=w * cam.scale)]
        for pts, w, _, _ in seen:
            _polyline(surface, P.ROAD_EDGE, pts, max(round(w * cam.scale), 2) + 2)
        for pts, w, _, one_way in seen:
            _polyline(surface, P.ROAD_ONE_WAY if one_way else P.ROAD, pts, max(round(w * cam.scale), 2))
        for pts, w, lanes, one_way in seen:
            width_px = w * cam.scale
            if lanes >= 2 and width_px >= LANE_LINE_MIN_PX:
                pygame.draw.lines(surface, P.ROAD_CENTRE, False, pts, 1)
            if one_way and width_px >= 4:
                _arrows(surface, pts, max(width_px * 0.4, 4.0))


def _polyline(surface: pygame.Surface, colour: Colour, pts: np.ndarray, width: int) -> None:
    """A thick polyline as one quad per segment with round joints.

    pygame's own wide lines are thick along x or y only, so a diagonal road would look narrower than a
    straight one; quads keep the road's true width at every angle.
    """
    if width <= 2:
        pygame.draw.lines(surface, colour, False, pts, width)
        return
    a, b = pts[:-1], pts[1:]
    d = b - a
    n = np.stack([-d[:, 1], d[:, 0]], axis=1) / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    off = n * (width / 2)
    for quad in np.stack([a + off, b + off, b - off, a - off], axis=1).tolist():
        pygame.draw.polygon(surface, colour, quad)
    for x, y in pts.tolist():
        pygame.draw.circle(surface, colour, (x, y), width / 2)


def _arrows(surface: pygame.Surface, pts: np.ndarray, size: float) -> None:
    """Direction chevrons at the middle of each long segment of a one-way road."""
    for a, b in itertools.pairwise(pts):
        d = b - a
        length = float(np.hypot(*d))
        if length < 6 * size:
            continue
        u = d / length
        n = np.array([-u[1], u[0]])
        tip = (a + b) / 2 + u * size
        pygame.draw.polygon(surface, P.ROAD_EDGE, [tip, tip - u * 2 * size + n * size, tip - u * 2 * size - n * size])


def _icon(surface: pygame.Surface, kind: str, px: float, py: float) -> None:
    h = ICON_PX / 2
    if kind in ("crusher", "dump"):
        rect = pygame.Rect(0, 0, ICON_PX, ICON_PX)
        rect.center = (round(px), round(py))
        pygame.draw.rect(surface, P.CRUSHER if kind == "crusher" else P.DUMP_FILL, rect)
        pygame.draw.rect(surface, P.ROAD_EDGE, rect, 1)
        pygame.draw.line(surface, P.ROAD_EDGE, rect.topleft, rect.bottomright)
        pygame.draw.line(surface, P.ROAD_EDGE, rect.topright, rect.bottomleft)
    elif kind == "park":
        rect = pygame.Rect(0, 0, ICON_PX + 4, ICON_PX + 4)
        rect.center = (round(px), round(py))
        pygame.draw.rect(surface, P.PARK, rect, border_radius=3)
        pygame.draw.rect(surface, P.MAP_LABEL, rect, 1, border_radius=3)
    else:  # gNB: a mast with a head
        pygame.draw.polygon(surface, P.GNB, [(px, py - h), (px - h * 0.7, py + h), (px + h * 0.7, py + h)])
        pygame.draw.circle(surface, P.MAP_LABEL, (px, py - h), 3)
        pygame.draw.arc(surface, P.GNB, pygame.Rect(px - h * 1.6, py - h * 2.6, h * 3.2, h * 3.2), 0.6, 2.5, 1)
