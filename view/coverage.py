"""The gNB coverage heat overlay: a precomputed SINR grid drawn as a translucent heat map.

The grid comes from the link model (``link.sinr_grid(xmin, ymin, xmax, ymax, res_m)``, dB, row 0 in the
south); the view only colours and places it. Colours span the grid's own spread (2nd to 98th percentile),
so the picture shows where coverage is better or worse on this map without assuming a radio's figures.
"""

from __future__ import annotations

import numpy as np
import pygame

from view import palette as P
from view.camera import Bounds, Camera

LOW_PERCENTILE = 2.0  # [%] of grid values drawn in the coldest colour or below
HIGH_PERCENTILE = 98.0  # [%] drawn in the hottest colour or above


class Coverage:
    """SINR [dB] on a regular grid; ``grid[j, i]`` covers the cell (i, j) counted east and north from xmin, ymin.

    ``res_m`` [m] is the cell size when known (the link model's grid may overrun ``bounds`` by part of a
    cell); without it the grid is taken to span ``bounds`` exactly.
    """

    def __init__(self, sinr_db: np.ndarray, bounds: Bounds, res_m: float | None = None) -> None:
        grid = np.asarray(sinr_db, dtype=np.float64)
        if grid.ndim != 2 or grid.size == 0:
            raise ValueError(f"coverage grid must be a non-empty 2-D array, got shape {grid.shape}")
        ny, nx = grid.shape
        xmin, ymin, xmax, ymax = bounds
        if res_m is not None:
            xmax, ymax = xmin + nx * res_m, ymin + ny * res_m
        self.bounds: Bounds = (xmin, ymin, xmax, ymax)
        finite = grid[np.isfinite(grid)]
        lo, hi = (np.percentile(finite, [LOW_PERCENTILE, HIGH_PERCENTILE]) if finite.size else (0.0, 1.0))
        self.range_db = (float(lo), float(hi) if hi > lo else float(lo) + 1.0)  # [dB] colour scale
        rgba = P.heat_rgba(grid[::-1], *self.range_db)  # north row first, as the screen has it
        self.image = pygame.image.frombuffer(np.ascontiguousarray(rgba).tobytes(), (nx, ny), "RGBA").copy()
        self.cells = (nx, ny)

    def paint(self, surface: pygame.Surface, cam: Camera) -> None:
        """Scale just the cells in view to their pixel rectangle (zooming in never builds a huge image)."""
        xmin, ymin, xmax, ymax = self.bounds
        nx, ny = self.cells
        cw, ch = (xmax - xmin) / nx, (ymax - ymin) / ny  # [m] cell size
        vx0, vy0, vx1, vy1 = cam.world_rect()
        i0, i1 = max(int((vx0 - xmin) // cw), 0), min(int(np.ceil((vx1 - xmin) / cw)), nx)
        j0, j1 = max(int((vy0 - ymin) // ch), 0), min(int(np.ceil((vy1 - ymin) / ch)), ny)
        if i0 >= i1 or j0 >= j1:
            return
        if cw * cam.scale * 4 > surface.get_width() or ch * cam.scale * 4 > surface.get_height():
            self._cells(surface, cam, range(i0, i1), range(j0, j1))
            return
        part = self.image.subsurface(pygame.Rect(i0, ny - j1, i1 - i0, j1 - j0))
        left, top = cam.to_screen(xmin + i0 * cw, ymin + j1 * ch)
        right, bottom = cam.to_screen(xmin + i1 * cw, ymin + j0 * ch)
        size = (max(round(right - left), 1), max(round(bottom - top), 1))
        surface.blit(pygame.transform.smoothscale(part, size), (round(left), round(top)))

    def _cells(self, surface: pygame.Surface, cam: Camera, cols: range, rows: range) -> None:
        """Close in, a few cells fill the screen: draw them as rectangles rather than scale a huge image."""
        xmin, ymin, xmax, ymax = self.bounds
        nx, ny = self.cells
        cw, ch = (xmax - xmin) / nx, (ymax - ymin) / ny
        for j in rows:
            for i in cols:
                left, top = cam.to_screen(xmin + i * cw, ymin + (j + 1) * ch)
                right, bottom = cam.to_screen(xmin + (i + 1) * cw, ymin + j * ch)
                rect = pygame.Rect(round(left), round(top), round(right) - round(left), round(bottom) - round(top))
                surface.fill(self.image.get_at((i, ny - 1 - j)), rect)
