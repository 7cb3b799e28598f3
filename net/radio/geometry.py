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

    def __len__(self) -> int:
        return len(self.crest)

    def blocked(self, ax: np.ndarray, ay: np.ndarray, az: np.ndarray,
                bx: np.ndarray, by: np.ndarray, bz: np.ndarray) -> np.ndarray:
        """For rays from (a) to (b) [m], broadcast together: True where some wall blocks the ray."""
        arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (ax, ay, az, bx, by, bz)))
        shape = arrays[0].shape
        ax, ay, az, bx, by, bz = (a.ravel() for a in arrays)
        out = np.zeros(ax.shape, dtype=bool)
        lo_x, hi_x = np.minimum(ax, bx), np.maximum(ax, bx)
        lo_y, hi_y = np.minimum(ay, by), np.maximum(ay, by)
        low_z = np.minimum(az, bz)
        for w, (edges, crest) in enumerate(zip(self.edges, self.crest, strict=True)):
            x0, y0, x1, y1 = self.boxes[w]
            near = np.flatnonzero(~out & (low_z < crest) & (hi_x >= x0) & (lo_x <= x1) & (hi_y >= y0) & (lo_y <= y1))
            if near.size == 0:
                continue
            px, py = ax[near, None], ay[near, None]
            dx, dy = (bx[near] - ax[near])[:, None], (by[near] - ay[near])[:, None]
            qx, qy = edges[None, :, 0], edges[None, :, 1]
            ex, ey = (edges[:, 2] - edges[:, 0])[None, :], (edges[:, 3] - edges[:, 1])[None, :]
            denom = dx * ey - dy * ex
            with np.errstate(divide="ignore", invalid="ignore"):
                t = ((qx - px) * ey - (qy - py) * ex) / denom  # along the ray
                u = ((qx - px) * dy - (qy - py) * dx) / denom  # along the edge
            hit = (denom != 0) & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
            z = az[near, None] + t * (bz[near] - az[near])[:, None]
            out[near] = np.any(hit & (z < crest), axis=1)
        return out.reshape(shape)


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
