"""3GPP TR 38.901 rural-macro (RMa) path loss, Table 7.4.1-1, vectorised over links.

An open-pit mine is open terrain with tall masts on the rim, which is what RMa describes. Walls of the pit
are not buildings: whether a link is LOS or NLOS comes from the pit geometry (``net.radio.geometry``), not from
the statistical LOS probability of the table.
"""

from __future__ import annotations

import numpy as np

C_MPS = 3.0e8  # [m/s] propagation speed used by TR 38.901 (note 5 of Table 7.4.1-1)
H_BUILDING_M = 5.0  # [m] RMa default average building height h (Table 7.4.1-1)
W_STREET_M = 20.0  # [m] RMa default average street width W (Table 7.4.1-1)
# Shadow fading standard deviations (Table 7.4.1-1) and decorrelation distances (Table 7.5-6 Part-3).
SIGMA_LOS_PL1_DB = 4.0  # [dB] LOS before the breakpoint
SIGMA_LOS_PL2_DB = 6.0  # [dB] LOS after the breakpoint
SIGMA_NLOS_DB = 8.0  # [dB]
CORR_LOS_M = 37.0  # [m] shadow-fading decorrelation distance, RMa LOS
CORR_NLOS_M = 120.0  # [m] shadow-fading decorrelation distance, RMa NLOS
# Correlation of one point's shadow fading towards two different sites (not in the TR 38.901 tables used
# here): CEPT SEAMCAT manual sec. 9.11 "Pathloss correlation" (ecowiki.atlassian.net, SH space): z_i = a x +
# b y_i with a^2 + b^2 = 1, and "the shadowing correlation between sites ... is of 0.5" as in most LTE studies
# (the 3GPP system-simulation baseline of TR 36.814 / TR 25.814 uses the same value).
SHADOW_SITE_CORR = 0.5
D2D_MIN_M = 10.0  # [m] the formulas hold from 10 m; closer links are evaluated at 10 m


def breakpoint_m(h_bs: np.ndarray | float, h_ut: np.ndarray | float, fc_ghz: np.ndarray | float) -> np.ndarray:
    """d_BP = 2 pi h_BS h_UT f_c / c with f_c in Hz (note 5 of Table 7.4.1-1) [m]."""
    return 2.0 * np.pi * np.asarray(h_bs) * np.asarray(h_ut) * np.asarray(fc_ghz) * 1e9 / C_MPS


def _pl1(d3d: np.ndarray, fc_ghz: np.ndarray, h: float) -> np.ndarray:
    """RMa LOS PL1 [dB]; f_c in GHz, distances in m (note 6 of Table 7.4.1-1)."""
    return (20.0 * np.log10(40.0 * np.pi * d3d * fc_ghz / 3.0)
            + min(0.03 * h ** 1.72, 10.0) * np.log10(d3d)
            - min(0.044 * h ** 1.72, 14.77)
            + 0.002 * np.log10(h) * d3d)


def rma_los_db(d2d: np.ndarray, h_bs: np.ndarray, h_ut: np.ndarray, fc_ghz: np.ndarray,
               h: float = H_BUILDING_M) -> np.ndarray:
    """RMa LOS path loss [dB]: PL1 up to the breakpoint, PL2 = PL1(d_BP) + 40 log10(d3D / d_BP) beyond.

    ``d2d`` [m] ground distance, ``h_bs`` / ``h_ut`` [m] antenna heights above the ground, ``fc_ghz`` [GHz];
    all broadcast together.
    """
    d2d, h_bs, h_ut, fc_ghz = np.broadcast_arrays(np.maximum(np.asarray(d2d, float), D2D_MIN_M),
                                                  np.asarray(h_bs, float), np.asarray(h_ut, float),
                                                  np.asarray(fc_ghz, float))
    d3d = np.hypot(d2d, h_bs - h_ut)
    dbp = breakpoint_m(h_bs, h_ut, fc_ghz)
    pl1 = _pl1(d3d, fc_ghz, h)
    pl2 = _pl1(dbp, fc_ghz, h) + 40.0 * np.log10(d3d / dbp)
    return np.where(d2d <= dbp, pl1, pl2)


def rma_nlos_db(d2d: np.ndarray, h_bs: np.ndarray, h_ut: np.ndarray, fc_ghz: np.ndarray,
                h: float = H_BUILDING_M, w: float = W_STREET_M) -> np.ndarray:
    """RMa NLOS path loss [dB] = max(PL_LOS, PL'_NLOS) (Table 7.4.1-1)."""
    d2d, h_bs, h_ut, fc_ghz = np.broadcast_arrays(np.maximum(np.asarray(d2d, float), D2D_MIN_M),
                                                  np.asarray(h_bs, float), np.asarray(h_ut, float),
                                                  np.asarray(fc_ghz, float))
    d3d = np.hypot(d2d, h_bs - h_ut)
    nlos = (161.04 - 7.1 * np.log10(w) + 7.5 * np.log10(h)
            - (24.37 - 3.7 * (h / h_bs) ** 2) * np.log10(h_bs)
            + (43.42 - 3.1 * np.log10(h_bs)) * (np.log10(d3d) - 3.0)
            + 20.0 * np.log10(fc_ghz)
            - (3.2 * np.log10(11.75 * h_ut) ** 2 - 4.97))
    return np.maximum(rma_los_db(d2d, h_bs, h_ut, fc_ghz, h), nlos)


def shadow_sigma_db(los: np.ndarray, d2d: np.ndarray, h_bs: np.ndarray, h_ut: np.ndarray,
                    fc_ghz: np.ndarray) -> np.ndarray:
    """Shadow-fading standard deviation [dB] of each link: 4 / 6 dB LOS (before / after d_BP), 8 dB NLOS."""
    los_sigma = np.where(np.asarray(d2d) <= breakpoint_m(h_bs, h_ut, fc_ghz), SIGMA_LOS_PL1_DB, SIGMA_LOS_PL2_DB)
    return np.where(los, los_sigma, SIGMA_NLOS_DB)


# Carrier centre frequencies [GHz] of the bands a site may name (TS 38.101-1 Table 5.2-1 for NR, TS 36.101
# Table 5.5-1 for LTE): the centre of each band's downlink range.
BAND_GHZ = {
    "n28": 0.7805, "n41": 2.593, "n77": 3.75, "n78": 3.55, "n79": 4.7,
    "b3": 1.8425, "b7": 2.655, "b8": 0.9425, "b20": 0.806, "b28": 0.7805,
}


def band_ghz(band: str) -> float:
    """Centre frequency [GHz] of a band name such as ``n78`` or ``b3``; ValueError names the unknown band."""
    try:
        return BAND_GHZ[band.lower()]
    except KeyError:
        raise ValueError(f"unknown band {band!r}; known: {', '.join(sorted(BAND_GHZ))}") from None
