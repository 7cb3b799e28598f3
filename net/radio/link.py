"""The 5G link model: per truck and direction, SINR from the serving gNB decides delay and loss.

``update(t, x, y, z)`` (about once per simulated second, all trucks at once) places every truck in the radio
map: path loss to each site (TR 38.901 RMa, NLOS where a pit wall blocks the ray), shadow fading, the serving
cell, the SINR of each direction, outage, and a handover interruption when the serving cell changes.
``uplink`` / ``downlink`` then turn that state into a delivery time for one message: base delay + size /
achievable rate + HARQ retransmissions + jitter, or a loss. QoS 1 retries a lost message after a time-out
(TCP under MQTT), QoS 0 loses it.

The serving cell follows the measurement chain of TS 38.331, so that the mobility figures of a profile mean
what they mean in a network (evaluated on 1 Hz samples, a 320 ms time-to-trigger stood for two samples a
second apart). Each truck measures the RSRP of every site once per ``measurement_period_s`` (the L1 period of
TS 38.133); when ``update`` is called less often, the measurements in between are taken on the straight line
between the previous and the new position (a truck moves ~15 m in 1 s, under the 37 m shadow decorrelation).
The measurements go through the layer-3 filter of sec. 5.5.3.2, F = (1 - a) F + a M in dB with a = 1/2^(k/4)
per measurement period, and a neighbour takes over when the event A3 entry condition (neighbour above serving
by the hysteresis) holds in every filtered measurement for ``time_to_trigger_s``. A handover found between
two updates is executed, with its interruption, at the update that found it: the link cannot hold back
messages it has already delivered. Where two sites are about as strong, the shadow fading along a truck's path
(sigma 4-8 dB, decorrelating over 37-120 m) still moves the best cell back and forth: that is the channel
model speaking, not the measurement chain.

A site can be switched off the air and back (``switch``, a scheduled ``gnb_off`` event): its received level
sinks to ``OFF_AIR_DBM`` in every measurement and SINR from then on, so trucks it served re-establish on another
site at once, or are in outage where no other site reaches. The radio map is still computed in full, so the
random draws do not depend on which sites are on the air.

Random draws come from one generator per truck and direction, spawned from the link's generator, so a truck's
draws depend only on its own messages: the order in which different trucks happen to send cannot change them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Polygon

from net.radio import cells, pathloss
from net.radio.geometry import Terrain, Walls
from net.radio.kpi import PING_PONG_S, LinkStats
from net.radio.profile import Profile
from net.radio.shadow import ShadowField

THERMAL_DBM_HZ = -174.0  # [dBm/Hz] thermal noise density at 290 K
H_BS_RANGE_M = (10.0, 150.0)  # [m] TR 38.901 RMa applicability of the BS height
GOOD_SINR_DB = 30.0  # [dB] assumed for a truck before its first update
MAX_GRID_POINTS = 2_000_000
MAX_MEASUREMENTS_PER_UPDATE = 50  # beyond this the measurements of a long gap are spread out (filter adapts)
UL, DL = 0, 1
OFF_AIR_DBM = -300.0  # [dBm] the level of a site off the air: far below any noise, yet finite, so the layer-3
# filter of a truck forgets it within a few measurements once the site is back (an -inf level never leaves it)


@dataclass(frozen=True)
class Site:
    """A gNB site: position of the mast foot [m], mast height [m], transmit power [dBm] and band name."""

    id: str
    x: float
    y: float
    z_ground: float
    height_m: float
    tx_power_dbm: float
    band: str


def _db_sum(levels_dbm: np.ndarray, axis: int) -> np.ndarray:
    """Power sum of dBm levels along an axis, in dBm (an empty or all -inf sum gives -inf)."""
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.sum(np.power(10.0, levels_dbm / 10.0), axis=axis))


class FiveGLink:
    """A ``LinkModel`` for a 5G (or LTE) network on the mine's sites, from plain data."""

    needs_size = True

    def __init__(self, gnbs: Sequence[tuple[str, float, float, float, float, float, str]],
                 walls: Sequence[tuple[Polygon, float]], profile: Profile, rng: np.random.Generator,
                 trucks: Sequence[str], terrain: Sequence[tuple[Polygon, float]] = (),
                 surface_z: float | None = None) -> None:
        if not gnbs:
            raise ValueError("a 5G link needs at least one gNB")
        self.sites = [Site(str(g[0]), *(float(v) for v in g[1:6]), str(g[6])) for g in gnbs]
        self.profile = p = profile
        self.name = p.name
        self.walls = Walls(walls)
        z_default = float(np.median([s.z_ground for s in self.sites])) if surface_z is None else surface_z
        self.terrain = Terrain(terrain, z_default)
        self.ids = list(trucks)
        self.index = {tid: i for i, tid in enumerate(self.ids)}
        n = len(self.ids)
        self.gx = np.array([s.x for s in self.sites])
        self.gy = np.array([s.y for s in self.sites])
        self.gz = np.array([s.z_ground + s.height_m for s in self.sites])  # [m] antenna elevation
        self.ptx = np.array([s.tx_power_dbm for s in self.sites])
        self.fc = np.array([pathloss.band_ghz(p.band or s.band) for s in self.sites])  # [GHz]
        self.cochannel = np.isclose(self.fc[:, None], self.fc[None, :])
        self.shadow_los = ShadowField(rng, len(self.sites), pathloss.CORR_LOS_M, pathloss.SHADOW_SITE_CORR)
        self.shadow_nlos = ShadowField(rng, len(self.sites), pathloss.CORR_NLOS_M, pathloss.SHADOW_SITE_CORR)
        streams = rng.spawn(2 * n)
        self.rngs = (streams[:n], streams[n:])  # per direction, per truck
        self.noise_dbm = (THERMAL_DBM_HZ + 10 * math.log10(p.ul_allocation_mhz * 1e6) + p.gnb_noise_figure_db
                          + p.ul_interference_margin_db,
                          THERMAL_DBM_HZ + 10 * math.log10(p.bandwidth_mhz * 1e6) + p.ue_noise_figure_db)
        self.rate_hz = (p.ul_allocation_mhz * 1e6, p.bandwidth_mhz * 1e6 * p.dl_share)
        self.serving = np.full(n, -1, dtype=np.int64)
        self.sinr = np.full((2, n), GOOD_SINR_DB)  # [dB] per direction
        self.outage = np.zeros(n, dtype=bool)
        self.ho_until = np.full(n, -np.inf)  # [s] end of the current handover interruption
        n_sites = len(self.sites)
        self.rsrp_l3 = np.full((n, n_sites), np.nan)  # [dBm] layer-3 filtered RSRP per truck and site
        self.off = np.zeros(n_sites, dtype=np.int64)  # scheduled outages in force per site (0: on the air)
        self.a3_since = np.full((n, n_sites), np.inf)  # [s] start of the unbroken A3 entry run per neighbour
        self.left_cell = np.full(n, -1, dtype=np.int64)  # cell each truck last handed over from
        self.t_handover = np.full(n, -np.inf)  # [s] time of each truck's last handover
        self.xyz: np.ndarray | None = None  # (3, trucks) positions [m] at the last update
        self.t_update: float | None = None
        self._pl_last: np.ndarray | None = None  # (trucks, sites) [dB] path loss at each truck's last position
        self.kpi = LinkStats(n)

    # -- the radio map ------------------------------------------------------------------------------

    def _path_loss(self, x: np.ndarray, y: np.ndarray, zg: np.ndarray) -> np.ndarray:
        """Path loss + shadowing [dB] to every site, shape (points, sites), at ground elevation ``zg``: a pure
        function of the point, which is what lets ``update`` keep the rows of trucks that stood still."""
        p = self.profile
        ue_z = zg + p.ue_height_m
        d2d = np.hypot(x[:, None] - self.gx[None, :], y[:, None] - self.gy[None, :])
        h_bs = np.clip(self.gz[None, :] - zg[:, None], *H_BS_RANGE_M)
        blocked = self.walls.blocked_grid(self.gx, self.gy, self.gz, x, y, ue_z)
        fc = self.fc[None, :]
        pl = np.where(blocked, pathloss.rma_nlos_db(d2d, h_bs, p.ue_height_m, fc),
                      pathloss.rma_los_db(d2d, h_bs, p.ue_height_m, fc))
        if p.shadow_scale > 0:
            sigma = pathloss.shadow_sigma_db(~blocked, d2d, h_bs, p.ue_height_m, fc)
            field = np.empty(blocked.shape)
            for shadow, links in ((self.shadow_los, ~blocked), (self.shadow_nlos, blocked)):
                point, site = np.nonzero(links)
                field[point, site] = shadow.at_links(x, y, point, site)
            pl = pl + p.shadow_scale * sigma * field
        return pl

    def _received(self, pl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Downlink received power [dBm] from every site for path losses ``pl`` (points, sites), and the path
        loss with the sites off the air in it."""
        p = self.profile
        rx = self.ptx[None, :] + p.gnb_antenna_gain_dbi + p.ue_antenna_gain_dbi - pl
        if self.off.any():  # a site off the air: nothing heard down, nothing heard up (the path loss stands for it)
            off = self.off[None, :] > 0
            rx = np.where(off, OFF_AIR_DBM, rx)
            pl = np.where(off, self.ptx[None, :] + p.gnb_antenna_gain_dbi + p.ue_antenna_gain_dbi - OFF_AIR_DBM, pl)
        return rx, pl

    def _truck_path_loss(self, pts: np.ndarray) -> np.ndarray:
        """Path loss (measurements, trucks, sites) at measurement points ``pts`` (3, measurements, trucks).

        A truck whose every point is where it stood at the last update (queued, loading, parked: most of a fleet
        at any time) keeps its rows from then; only the others are evaluated, shadow fading being most of the
        cost. Same points, same function, same values."""
        m, n, sites = pts.shape[1], pts.shape[2], len(self.sites)
        out = np.empty((m, n, sites))
        moved = np.ones(n, dtype=bool)
        if self._pl_last is not None and self.xyz is not None:
            moved = np.any(pts != self.xyz[:, None, :], axis=(0, 1))
            out[:, ~moved] = self._pl_last[~moved]
        if moved.any():
            x, y, zg = (pts[k][:, moved].ravel() for k in range(3))
            out[:, moved] = self._path_loss(x, y, zg).reshape(m, -1, sites)
        self._pl_last = out[-1].copy()
        return out

    def switch(self, site: str, on: bool) -> None:
        """Take a site off the air (``on`` False) or end one such outage; outages of one site may overlap, the
        site is back when the last ends. Trucks see it at the next ``update``."""
        k = next((j for j, s in enumerate(self.sites) if s.id == site), None)
        if k is None:
            raise KeyError(f"no gNB {site!r} on link {self.name}")
        self.off[k] = max(self.off[k] + (-1 if on else 1), 0)

    def _sinr(self, rx: np.ndarray, pl: np.ndarray, serving: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(uplink, downlink) SINR [dB] of each point towards its serving site."""
        p = self.profile
        rows = np.arange(rx.shape[0])
        own = rx[rows, serving]
        others = np.where(self.cochannel[serving] & (np.arange(rx.shape[1])[None, :] != serving[:, None]),
                          rx + 10 * math.log10(max(p.interference_load, 1e-12)), -np.inf)
        interference = _db_sum(others, axis=1)
        dl = own - _db_sum(np.stack([np.full_like(own, self.noise_dbm[DL]), interference], axis=1), axis=1)
        ul = p.ue_tx_power_dbm + p.gnb_antenna_gain_dbi + p.ue_antenna_gain_dbi - pl[rows, serving] - self.noise_dbm[UL]
        return ul, dl

    def update(self, t: float, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> None:
        """Refresh serving cell, SINR, outage and handovers of all trucks at time ``t`` [s].

        ``x``, ``y`` [m] are the trucks' positions and ``z`` [m] their road elevation, in ``trucks`` order.
        Handover decisions use every measurement period since the last update (see the module docstring);
        SINR and outage, which the messages see, are those at the new positions.
        """
        p = self.profile
        x, y, z = (np.asarray(a, dtype=float).ravel() for a in (x, y, z))
        if x.size != len(self.ids):
            raise ValueError(f"update needs {len(self.ids)} positions, got {x.size}")
        if self.t_update is not None and t > self.t_update:
            self.kpi.outage_truck_s += float(self.outage.sum()) * (t - self.t_update)
        self.kpi.seen(t)
        times, pts = self._measurement_points(t, np.stack([x, y, z]))
        m, n = pts.shape[1], x.size
        rx, pl = self._received(self._truck_path_loss(pts).reshape(m * n, -1))
        rx, pl = rx.reshape(m, n, -1), pl.reshape(m, n, -1)
        t_prev = self.t_update
        switched = np.zeros(n, dtype=bool)
        for j in range(m):
            switched |= self._measure(float(times[j]), float(times[j] - t_prev) if t_prev is not None else 0.0,
                                      rx[j], pl[j])
            t_prev = float(times[j])
        self.ho_until[switched] = t + p.handover_interruption_ms / 1e3
        self.t_update = t
        self.xyz = pts[:, -1].copy()
        ul, dl = self._sinr(rx[-1], pl[-1], self.serving)
        self.sinr[UL], self.sinr[DL] = ul, dl
        self.outage = (ul < p.outage_sinr_db) | (dl < p.outage_sinr_db)

    def _measurement_points(self, t: float, xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Times (m,) and positions (3, m, trucks) of the measurements since the last update, the last one now.

        One per ``measurement_period_s`` on the straight line from the previous positions (at most
        MAX_MEASUREMENTS_PER_UPDATE); a single one at the first update or when time did not advance.
        """
        if self.t_update is None or self.xyz is None or t <= self.t_update:
            return np.array([t]), xyz[:, None, :]
        gap = t - self.t_update
        m = min(max(1, math.ceil(gap / self.profile.measurement_period_s - 1e-9)), MAX_MEASUREMENTS_PER_UPDATE)
        f = np.arange(1, m + 1) / m
        pts = self.xyz[:, None, :] + f[None, :, None] * (xyz - self.xyz)[:, None, :]
        pts[:, -1] = xyz  # exactly the reported positions at t
        return self.t_update + f * gap, pts

    def _measure(self, t: float, dt: float, rx: np.ndarray, pl: np.ndarray) -> np.ndarray:
        """One measurement of all trucks at ``t`` [s], ``dt`` [s] after the previous one; True where a truck
        changed cell.

        Layer-3 filter per TS 38.331 sec. 5.5.3.2: k assumes one sample per measurement period X, and the time
        characteristics are preserved at another input rate, so the weight of a sample ``dt`` after the last is
        1 - (1 - a)^(dt / X). A neighbour takes over when its event A3 entry condition (sec. 5.5.4.4, offsets 0:
        filtered neighbour > filtered serving + hysteresis) held in every measurement of the last
        ``time_to_trigger_s`` (sec. 5.5.4.1); several ripe neighbours: the strongest. A truck whose serving cell
        fell below the outage SINR re-establishes on the strongest cell at once (no time to wait for A3).
        """
        p = self.profile
        a = 2.0 ** (-p.l3_filter_k / 4.0)
        w = 1.0 - (1.0 - a) ** (dt / p.measurement_period_s) if dt > 0 else a
        ripe = np.empty(rx.shape, dtype=bool)
        new = np.empty(rx.shape[0], dtype=bool)
        a3 = cells.filter_and_enter(t, 1.0 - w, w, rx, self.rsrp_l3, self.serving, self.a3_since,
                                    p.handover_hysteresis_db, p.time_to_trigger_s - 1e-9, ripe, new)
        _, dl = self._sinr(rx, pl, self.serving)
        switch, ping_pongs = cells.hand_over(t, rx, self.rsrp_l3, dl, p.outage_sinr_db, ripe, a3, new, self.serving,
                                             self.left_cell, self.t_handover, self.a3_since, PING_PONG_S)
        self.kpi.handovers += int(switch.sum())
        self.kpi.ping_pongs += int(ping_pongs)
        return switch

    def sinr_grid(self, xmin: float, ymin: float, xmax: float, ymax: float, res_m: float) -> np.ndarray:
        """Downlink SINR [dB] of the best cell on a grid, for a coverage overlay.

        ``out[j, i]`` is the value at (xmin + (i + 0.5) res_m, ymin + (j + 0.5) res_m), a truck antenna above
        the ground there (the terrain's elevation).
        """
        if not (res_m > 0 and xmax > xmin and ymax > ymin):
            raise ValueError(f"bad grid: ({xmin}, {ymin})-({xmax}, {ymax}) at {res_m} m")
        nx, ny = math.ceil((xmax - xmin) / res_m), math.ceil((ymax - ymin) / res_m)
        if nx * ny > MAX_GRID_POINTS:
            raise ValueError(f"grid of {nx} x {ny} points is over {MAX_GRID_POINTS}; use a coarser resolution")
        gx, gy = np.meshgrid(xmin + (np.arange(nx) + 0.5) * res_m, ymin + (np.arange(ny) + 0.5) * res_m)
        x, y = gx.ravel(), gy.ravel()
        rx, pl = self._received(self._path_loss(x, y, self.terrain.z(x, y)))
        _, dl = self._sinr(rx, pl, np.argmax(rx, axis=1))
        return dl.reshape(ny, nx)

    # -- messages -----------------------------------------------------------------------------------

    def _attempt(self, i: int, d: int, size_bytes: int) -> float | None:
        """One transmission over the radio: its one-way delay [s], or None when the radio loses it."""
        p = self.profile
        if self.outage[i]:
            return None
        rng = self.rngs[d][i]
        sinr = float(self.sinr[d, i])
        fail = max(p.bler_target, 1.0 / (1.0 + math.exp(min((sinr - p.bler_sinr50_db) / p.bler_slope_db, 700.0))))
        n_tx = int(rng.geometric(max(1.0 - fail, 1e-12)))
        if n_tx > p.harq_max_tx or rng.random() < p.loss_floor:
            return None
        se = min(p.max_spectral_efficiency, p.shannon_alpha * math.log2(1.0 + 10 ** (sinr / 10.0)))
        base, jitter = (p.ul_base_ms, p.ul_jitter_ms) if d == UL else (p.dl_base_ms, p.dl_jitter_ms)
        jitter_s = float(rng.exponential(jitter / 1e3)) if jitter > 0 else 0.0
        return base / 1e3 + size_bytes * 8.0 / (se * self.rate_hz[d]) + (n_tx - 1) * p.harq_rtt_ms / 1e3 + jitter_s

    def _send(self, truck: str, d: int, t_sent: float, size_bytes: int, qos: int) -> float | None:
        i = self.index.get(truck)
        if i is None:
            raise KeyError(f"unknown truck {truck!r} on link {self.name}")
        p = self.profile
        name = "uplink" if d == UL else "downlink"
        kpi = self.kpi
        kpi.sent[name] += 1
        kpi.seen(t_sent)
        t = max(t_sent, float(self.ho_until[i]))  # data waits out a handover interruption
        rto = p.rto_ms / 1e3
        for attempt in range(p.max_attempts if qos >= 1 else 1):
            if attempt:
                kpi.retransmissions[name] += 1
            delay = self._attempt(i, d, size_bytes)
            if delay is not None:
                kpi.latency[name].add(t + delay - t_sent)
                return t + delay
            t += rto
            rto *= p.rto_backoff
        kpi.lost[name] += 1
        return None

    def uplink(self, truck: str, t_sent: float, size_bytes: int, qos: int) -> float | None:
        """Delivery time [s] of a truck -> cloud message, or None if it is lost."""
        return self._send(truck, UL, t_sent, size_bytes, qos)

    def downlink(self, truck: str, t_sent: float, size_bytes: int, qos: int) -> float | None:
        """Delivery time [s] of a cloud -> truck message, or None if it is lost."""
        return self._send(truck, DL, t_sent, size_bytes, qos)

    # -- what the view and the run record read ------------------------------------------------------

    def serving_site(self, truck: str) -> str | None:
        """Id of the gNB serving a truck, or None before its first update."""
        s = int(self.serving[self.index[truck]])
        return self.sites[s].id if s >= 0 else None

    def stats(self) -> dict[str, object]:
        """Link KPIs: latency p50/p99 and loss per direction, handovers (total, per truck-hour, ping-pongs),
        outage truck-seconds, messages/s."""
        return self.kpi.summary()
