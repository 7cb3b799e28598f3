"""Pit geometry for radio: which gNB-to-truck rays the pit walls block, and the ground height of a point.

A wall is a polygon with a crest elevation. The straight ray from the gNB antenna to the truck antenna is
blocked where its ground track crosses a wall's outline while the ray is below that wall's crest (its height is
interpolated linearly along the path). Checking the crossings of the outline is enough: inside one crossing
interval the ray is a straight line, so it is lowest at an end of the interval.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from numba import njit
from shapely.geometry import Polygon


class Walls:
    """Wall outlines as edge arrays, grouped per wall, with bounding boxes to skip walls a ray cannot reach."""

    def __init__(self, walls: Sequence[tuple[Polygon, float]]) -> None:
        self.crest: list[float] = []
        self.edges: list[np.ndarray] = []  # per wall: (E, 4) rows x0, y0, x1, y1 [m]
        boxes = []
        for poly, crest in walls:
            if not isinstance(poly, Polygon) or poly.is_empty:
                raise ValueError(f"a wall must be a non-empty shapely Polygon, got {type(poly).__name__}")
            if not np.isfinite(crest):
                raise ValueError(f"wall crest elevation must be finite, got {crest!r}")
            rings = [np.asarray(poly.exterior.coords)[:, :2]] + [np.asarray(r.coords)[:, :2] for r in poly.interiors]
            self.edges.append(np.concatenate([np.hstack([r[:-1], r[1:]]) for r in rings]))
            self.crest.append(float(crest))
            boxes.append(poly.bounds)
        self.boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
        self.all_edges = np.concatenate(self.edges) if self.edges else np.zeros((0, 4))  # (E, 4), wall by wall
        self.first_edge = np.concatenate([[0], np.cumsum([len(e) for e in self.edges])]).astype(np.int64)

    def __len__(self) -> int:
        return len(self.crest)

    def blocked(self, ax: np.ndarray, ay: np.ndarray, az: np.ndarray,
                bx: np.ndarray, by: np.ndarray, bz: np.ndarray) -> np.ndarray:
        """For rays from (a) to (b) [m], broadcast together: True where some wall blocks the ray."""
        arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (ax, ay, az, bx, by, bz)))
        shape = arrays[0].shape
        out = np.zeros(arrays[0].size, dtype=bool)
        if self.crest:
            _blocked(*(np.ascontiguousarray(a.ravel()) for a in arrays), self.boxes, np.asarray(self.crest),
                     self.first_edge, self.all_edges, out)
        return out.reshape(shape)


    def blocked_grid(self, ax: np.ndarray, ay: np.ndarray, az: np.ndarray,
                     bx: np.ndarray, by: np.ndarray, bz: np.ndarray) -> np.ndarray:
        """Rays from every point (a) (1-D, e.g. the sites) to every point (b) (1-D, e.g. trucks): shape
        (len(b), len(a)), what ``blocked`` gives for ``a[None, :]`` and ``b[:, None]`` without building the
        broadcast copies."""
        a = [np.ascontiguousarray(v, dtype=float).ravel() for v in (ax, ay, az)]
        b = [np.ascontiguousarray(v, dtype=float).ravel() for v in (bx, by, bz)]
        out = np.zeros((b[0].size, a[0].size), dtype=bool)
        if self.crest:
            _blocked_grid(*a, *b, self.boxes, np.asarray(self.crest), self.first_edge, self.all_edges, out)
        return out


@njit(cache=True)
def _blocked(ax: np.ndarray, ay: np.ndarray, az: np.ndarray, bx: np.ndarray, by: np.ndarray, bz: np.ndarray,
             boxes: np.ndarray, crest: np.ndarray, first_edge: np.ndarray, edges: np.ndarray,
             out: np.ndarray) -> None:  # pragma: no cover - compiled
    """Ray by ray: compiled because the radio map asks for thousands of rays per second (every truck to every
    site at every measurement), each against ~50 walls of ~20 edges."""
    for i in range(ax.size):
        out[i] = _ray_blocked(ax[i], ay[i], az[i], bx[i], by[i], bz[i], boxes, crest, first_edge, edges)


@njit(cache=True)
def _blocked_grid(ax: np.ndarray, ay: np.ndarray, az: np.ndarray, bx: np.ndarray, by: np.ndarray, bz: np.ndarray,
                  boxes: np.ndarray, crest: np.ndarray, first_edge: np.ndarray, edges: np.ndarray,
                  out: np.ndarray) -> None:  # pragma: no cover - compiled
    for j in range(bx.size):
        for i in range(ax.size):
            out[j, i] = _ray_blocked(ax[i], ay[i], az[i], bx[j], by[j], bz[j], boxes, crest, first_edge, edges)


@njit(cache=True)
def _ray_blocked(ax: float, ay: float, az: float, bx: float, by: float, bz: float, boxes: np.ndarray,
                 crest: np.ndarray, first_edge: np.ndarray, edges: np.ndarray) -> bool:  # pragma: no cover
    """Wall by wall. Only the stretch of a ray below a wall's crest can be blocked by that wall (from a mast on
    the rim down to a truck: the stretch near the truck), so a wall whose bounding box that stretch misses is
    skipped."""
    dx, dy, dz = bx - ax, by - ay, bz - az
    for w in range(crest.size):
        top = crest[w]
        if dz < 0.0:
            t_lo, t_hi = min(max((top - az) / dz, 0.0), 1.0), 1.0
        elif dz > 0.0:
            t_lo, t_hi = 0.0, min(max((top - az) / dz, 0.0), 1.0)
        elif az < top:
            t_lo, t_hi = 0.0, 1.0
        else:
            continue
        if t_lo >= t_hi:
            continue
        x0, x1 = ax + t_lo * dx, ax + t_hi * dx
        y0, y1 = ay + t_lo * dy, ay + t_hi * dy
        if max(x0, x1) < boxes[w, 0] or min(x0, x1) > boxes[w, 2]:
            continue
        if max(y0, y1) < boxes[w, 1] or min(y0, y1) > boxes[w, 3]:
            continue
        for e in range(first_edge[w], first_edge[w + 1]):
            ex, ey = edges[e, 2] - edges[e, 0], edges[e, 3] - edges[e, 1]
            denom = dx * ey - dy * ex
            if denom == 0.0:
                continue
            qx, qy = edges[e, 0] - ax, edges[e, 1] - ay
            t = (qx * ey - qy * ex) / denom  # along the ray
            u = (qx * dy - qy * dx) / denom  # along the edge
            if 0.0 <= t <= 1.0 and 0.0 <= u <= 1.0 and az + t * dz < top:
                return True
    return False


class Terrain:
    """Ground elevation of a point: the lowest polygon (bench floor, pit) that holds it, else the surface."""

    def __init__(self, areas: Sequence[tuple[Polygon, float]], surface_z: float) -> None:
        self.areas = [(p, float(z)) for p, z in areas]
        self.surface_z = float(surface_z)
        for p in self.areas:
            shapely.prepare(p[0])

    def z(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Ground elevation [m] at points (x, y) [m]."""
        x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
        z = np.full(x.shape, self.surface_z)
        for poly, elev in self.areas:
            inside = shapely.contains_xy(poly, x, y)
            z = np.where(inside, np.minimum(z, elev), z)
        return z
