"""Spatially consistent shadow fading: a smooth random field per gNB, fixed by the seed.

Each field is a sum of random plane waves whose wavenumbers are drawn so that the correlation between two points
d apart is exp(-d / d_corr), the exponential model TR 38.901 uses (sec. 7.6.3.1), with unit variance. A truck
that stands still keeps its shadowing, one that drives sees it change over tens of metres, and the coverage map
and the trucks see the same values at the same place.
"""

from __future__ import annotations

import numpy as np

COMPONENTS = 64  # plane waves per field: enough for a near-Gaussian value with the exact correlation
CHUNK = 4096  # points evaluated at once, to bound memory on large grids


class ShadowField:
    """Unit-variance correlated Gaussian fields, one per (site, condition), evaluated at any points."""

    def __init__(self, rng: np.random.Generator, n_sites: int, corr_m: float, components: int = COMPONENTS) -> None:
        if corr_m <= 0:
            raise ValueError(f"decorrelation distance must be > 0 m, got {corr_m}")
        u = rng.random((n_sites, components))
        # Radial wavenumber with CDF 1 - 1/sqrt(1 + (k d)^2): the 2-D spectrum of exp(-d / d_corr).
        k = np.sqrt(1.0 / np.square(1.0 - u) - 1.0) / corr_m  # [rad/m]
        angle = rng.uniform(0.0, 2.0 * np.pi, (n_sites, components))
        self.kx = k * np.cos(angle)
        self.ky = k * np.sin(angle)
        self.phase = rng.uniform(0.0, 2.0 * np.pi, (n_sites, components))
        self.scale = np.sqrt(2.0 / components)

    def at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Field values, shape (points, sites), at points x, y [m] (1-D arrays)."""
        x = np.asarray(x, dtype=float).ravel()
        y = np.asarray(y, dtype=float).ravel()
        out = np.empty((x.size, self.kx.shape[0]))
        for s in range(0, x.size, CHUNK):
            xs, ys = x[s:s + CHUNK, None, None], y[s:s + CHUNK, None, None]
            arg = xs * self.kx[None] + ys * self.ky[None] + self.phase[None]
            out[s:s + CHUNK] = self.scale * np.cos(arg).sum(axis=2)
        return out
