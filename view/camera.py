"""The one object that owns the world <-> pixel transform (highway-env's ``WorldSurface`` idea).

World coordinates are the map's local frame: x east, y north [m]. Screen coordinates are pixels with y down,
so north is up on the screen. Everything that draws asks the camera where a point goes; nothing else
knows the scale or the offset.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

Bounds = tuple[float, float, float, float]  # xmin, ymin, xmax, ymax [m]

MAX_SCALE = 40.0  # [px/m] closest zoom: a 15 m truck is 600 px long
ZOOM_OUT_LIMIT = 8.0  # furthest zoom is the fit-to-map scale divided by this


@dataclass
class Camera:
    width: int  # [px]
    height: int  # [px]
    scale: float = 1.0  # [px/m]
    cx: float = 0.0  # [m] world x at the screen centre
    cy: float = 0.0  # [m] world y at the screen centre
    min_scale: float = 1e-3  # [px/m]
    max_scale: float = MAX_SCALE  # [px/m]

    # -- transform ------------------------------------------------------------------------------------

    def to_screen(self, x: float | np.ndarray, y: float | np.ndarray) -> tuple[float | np.ndarray, ...]:
        """Pixel position of world point(s) (x, y) [m]; works on scalars and numpy arrays alike."""
        return (self.width / 2 + (x - self.cx) * self.scale, self.height / 2 - (y - self.cy) * self.scale)

    def to_world(self, px: float | np.ndarray, py: float | np.ndarray) -> tuple[float | np.ndarray, ...]:
        """World point [m] under pixel (px, py)."""
        return (self.cx + (px - self.width / 2) / self.scale, self.cy - (py - self.height / 2) / self.scale)

    def points(self, xy: np.ndarray) -> np.ndarray:
        """``[k, 2]`` world coordinates [m] to ``[k, 2]`` pixel coordinates, for polygons and lines."""
        out = np.empty((len(xy), 2))
        out[:, 0] = self.width / 2 + (xy[:, 0] - self.cx) * self.scale
        out[:, 1] = self.height / 2 - (xy[:, 1] - self.cy) * self.scale
        return out

    def world_rect(self) -> Bounds:
        """The world rectangle [m] on screen."""
        hw, hh = self.width / 2 / self.scale, self.height / 2 / self.scale
        return (self.cx - hw, self.cy - hh, self.cx + hw, self.cy + hh)

    # -- visibility -----------------------------------------------------------------------------------

    def visible(self, x: np.ndarray, y: np.ndarray, pad_px: float = 0.0) -> np.ndarray:
        """Mask of points within the screen, widened by ``pad_px`` so shapes straddling the edge still draw."""
        px, py = self.to_screen(x, y)
        return (px >= -pad_px) & (px <= self.width + pad_px) & (py >= -pad_px) & (py <= self.height + pad_px)

    def sees(self, bounds: Bounds, pad_px: float = 0.0) -> bool:
        """Whether a world box [m] overlaps the screen (for culling whole polygons)."""
        xmin, ymin, xmax, ymax = self.world_rect()
        pad = pad_px / self.scale
        return not (bounds[2] < xmin - pad or bounds[0] > xmax + pad or bounds[3] < ymin - pad
                    or bounds[1] > ymax + pad)

    # -- moving ---------------------------------------------------------------------------------------

    def fit(self, bounds: Bounds, margin: float = 0.03, inset: tuple[int, int, int, int] = (0, 0, 0, 0)) -> None:
        """Show the whole box inside the screen less ``inset`` (left, top, right, bottom) [px] of panels, with
        ``margin`` (fraction of that area) around it; also sets the zoom-out limit."""
        xmin, ymin, xmax, ymax = bounds
        left, top, right, bottom = inset
        area_w, area_h = max(self.width - left - right, 1), max(self.height - top - bottom, 1)
        span_x, span_y = max(xmax - xmin, 1e-6), max(ymax - ymin, 1e-6)
        usable = 1.0 - 2 * margin
        self.scale = min(area_w * usable / span_x, area_h * usable / span_y)
        self.min_scale = min(self.scale / ZOOM_OUT_LIMIT, self.max_scale)
        self.cx = (xmin + xmax) / 2 - (left - right) / 2 / self.scale
        self.cy = (ymin + ymax) / 2 + (top - bottom) / 2 / self.scale

    def zoom_at(self, factor: float, px: float, py: float) -> None:
        """Zoom by ``factor`` keeping the world point under pixel (px, py) where it is (mouse-wheel zoom)."""
        wx, wy = self.to_world(px, py)
        self.scale = min(max(self.scale * factor, self.min_scale), self.max_scale)
        self.cx = wx - (px - self.width / 2) / self.scale
        self.cy = wy + (py - self.height / 2) / self.scale

    def pan(self, dx_px: float, dy_px: float) -> None:
        """Move the picture by (dx, dy) pixels, as a mouse drag does."""
        self.cx -= dx_px / self.scale
        self.cy += dy_px / self.scale

    def centre_on(self, x: float, y: float) -> None:
        """Put world point (x, y) [m] at the screen centre (following a truck)."""
        self.cx, self.cy = float(x), float(y)

    def resize(self, width: int, height: int) -> None:
        """A new window size; the world point at the centre stays at the centre."""
        self.width, self.height = int(width), int(height)

    def grown(self, margin: float) -> Camera:
        """The same view on a canvas ``1 + 2 margin`` times larger each way (for pre-rendered layers)."""
        return replace(self, width=round(self.width * (1 + 2 * margin)),
                       height=round(self.height * (1 + 2 * margin)))
