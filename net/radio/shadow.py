"""Spatially consistent shadow fading: a smooth random field per gNB, fixed by the seed.

Each field is a sum of random plane waves whose wavenumbers are drawn so that the correlation between two points
d apart is exp(-d / d_corr), the exponential model TR 38.901 uses (sec. 7.6.3.1), with unit variance. A truck
that stands still keeps its shadowing, one that drives sees it change over tens of metres, and the coverage map
and the trucks see the same values at the same place.

Part of the shadowing comes from the surroundings of the truck and is the same towards every site: the value
towards site i is sqrt(1 - rho) y_i + sqrt(rho) x, with x a field shared by all sites, so two sites' values at one
place correlate by rho (the inter-site correlation of 3GPP system simulations, ``pathloss.SHADOW_SITE_CORR``).
The difference between two sites' shadowing, which decides the best cell where they are about as strong, then
has a spread of sqrt(2 (1 - rho)) sigma: sigma at rho = 0.5 instead of sqrt(2) sigma for independent fields.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from net.radio.cosine import cos_into

COMPONENTS = 64  # plane waves per field: enough for a near-Gaussian value with the exact correlation


class ShadowField:
    """Unit-variance correlated Gaussian fields, one per (site, condition), evaluated at any points."""

    def __init__(self, rng: np.random.Generator, n_sites: int, corr_m: float, site_corr: float = 0.0,
                 components: int = COMPONENTS) -> None:
        if corr_m <= 0:
            raise ValueError(f"decorrelation distance must be > 0 m, got {corr_m}")
        if components < 1:
            raise ValueError(f"components must be >= 1, got {components}")
        if not 0.0 <= site_corr <= 1.0:
            raise ValueError(f"inter-site correlation must be in [0, 1], got {site_corr}")
        rows = n_sites + 1  # the last row is the field shared by all sites
        u = rng.random((rows, components))
        # Radial wavenumber with CDF 1 - 1/sqrt(1 + (k d)^2): the 2-D spectrum of exp(-d / d_corr).
        k = np.sqrt(1.0 / np.square(1.0 - u) - 1.0) / corr_m  # [rad/m]
        angle = rng.uniform(0.0, 2.0 * np.pi, (rows, components))
        self.kx = k * np.cos(angle)
        self.ky = k * np.sin(angle)
        self.phase = rng.uniform(0.0, 2.0 * np.pi, (rows, components))
        self.scale = np.sqrt(2.0 / components)
        self.n_sites = n_sites
        self.own_weight = math.sqrt(1.0 - site_corr)
        self.common_weight = math.sqrt(site_corr)

    def _waves(self, x: np.ndarray, y: np.ndarray, row: np.ndarray) -> np.ndarray:
        """Unit-variance value of field ``row`` at (x, y), element by element (1-D arrays of one length)."""
        out = np.empty(x.size)
        _waves(np.ascontiguousarray(x, dtype=float), np.ascontiguousarray(y, dtype=float),
               np.ascontiguousarray(row, dtype=np.int64), self.kx, self.ky, self.phase, self.scale, out)
        return out

    def at_links(self, x: np.ndarray, y: np.ndarray, point: np.ndarray, site: np.ndarray) -> np.ndarray:
        """Values for the links (point[j], site[j]) among points x, y [m]; one value per link.

        Only the links asked for are evaluated, so a caller that needs the LOS field on some links and the NLOS
        field on the others pays for one field, not two.
        """
        x = np.asarray(x, dtype=float).ravel()
        y = np.asarray(y, dtype=float).ravel()
        point = np.asarray(point, dtype=np.int64).ravel()
        site = np.asarray(site, dtype=np.int64).ravel()
        own = self._waves(x[point], y[point], site)
        if self.common_weight == 0.0:
            return own
        used, where = _distinct(point)  # the shared field at the points these links are at
        common = self._waves(x[used], y[used], np.full(used.size, self.n_sites))
        return self.own_weight * own + self.common_weight * common[where]

    def at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Field values, shape (points, sites), at points x, y [m] (1-D arrays)."""
        x = np.asarray(x, dtype=float).ravel()
        point, site = np.divmod(np.arange(x.size * self.n_sites), self.n_sites)
        return self.at_links(x, y, point, site).reshape(x.size, self.n_sites)


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)``, without its sort when the values come sorted (links listed
    point by point, as ``np.nonzero`` lists them)."""
    if values.size and np.all(values[1:] >= values[:-1]):
        first = np.empty(values.size, dtype=bool)
        first[0] = True
        np.not_equal(values[1:], values[:-1], out=first[1:])
        return values[first], np.cumsum(first) - 1
    return np.unique(values, return_inverse=True)


@njit(cache=True)
def _waves(x, y, row, kx, ky, phase, scale, out):  # pragma: no cover - compiled
    """``scale * sum(cos(x kx + y ky + phase))`` over each point's field row, without the gathered copies and
    temporaries of the array expression. The cosines are ``cosine.cos_into``'s, vectorised: libm's, one call a
    wave, were a third of a 5G perception run's time."""
    args = np.empty(kx.shape[1])
    waves = np.empty(kx.shape[1])
    for i in range(x.size):
        r = row[i]
        xi, yi = x[i], y[i]
        for k in range(args.size):
            args[k] = xi * kx[r, k] + yi * ky[r, k] + phase[r, k]
        cos_into(args, waves)
        total = 0.0
        for k in range(waves.size):
            total += waves[k]
        out[i] = scale * total
