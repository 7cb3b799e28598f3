"""Longitudinal motion of every truck on the road in one compiled step.

Speed each tick = min(road and retarder cap with a braking envelope toward slower segments and the stop,
drive-train acceleration from the rimpull curve, IDM car-following toward the truck ahead or a stop line,
an extra cap such as the perception-safe speed). Design section 3.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from fleet.following import EDGE_KEY, following_work, leader_gaps_into
from fleet.routes import RouteTable
from fleet.state import ON_ROAD, TruckState
from fleet.telemetry import telemetry_columns_into
from fleet.truckclass import G, TruckClass

TRAVEL_EMPTY = int(TruckState.TRAVEL_EMPTY)
TRAVEL_LOADED = int(TruckState.TRAVEL_LOADED)
# States the kernel moves (those on the road): travelling, holding (a controlled stop), e-stopped (held at 0).
MOVING_STATE = np.isin(np.arange(len(TruckState)), ON_ROAD)
NO_REPORTS = np.empty(0, dtype=np.int64)


@dataclass(frozen=True)
class Traffic:
    """Car-following parameters (IDM, Treiber et al. 2000), scaled for haul trucks."""

    jam_gap_m: float = 20.0  # [m] bumper gap kept when stopped behind another truck
    headway_s: float = 3.0  # [s] time gap kept while following
    arrive_tol_m: float = 0.5  # [m] within this of the route end the truck has arrived


class ClassTable:
    """Truck-class figures as arrays indexed by class, so mixed fleets stay vectorised."""

    def __init__(self, classes: list[TruckClass]) -> None:
        self.classes = classes
        self.empty_kg = np.array([c.empty_mass_t * 1000.0 for c in classes])
        self.power_w = np.array([c.drivetrain_efficiency * c.gross_power_kw * 1000.0 for c in classes])
        self.rimpull_n = np.array([c.max_rimpull_kn * 1000.0 for c in classes])
        self.accel = np.array([c.max_accel_mps2 for c in classes])
        self.brake = np.array([c.service_brake_mps2 for c in classes])
        self.emergency = np.array([c.emergency_brake_mps2 for c in classes])
        self.length = np.array([c.length_m for c in classes])
        self.width = np.array([c.width_m for c in classes])
        self.payload_t = np.array([c.payload_t for c in classes])


def locate(rt: RouteTable, route: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Global segment index of each (route, s)."""
    return _locate(route, s, rt.route_base, rt.route_len, rt.seg_gs0)


@njit(cache=True)
def _locate(route: np.ndarray, s: np.ndarray, route_base: np.ndarray, route_len: np.ndarray,
            seg_gs0: np.ndarray) -> np.ndarray:
    out = np.empty(len(s), dtype=np.int64)
    for j in range(len(s)):
        r = route[j]
        gs = route_base[r] + min(s[j], route_len[r] - 1e-6)
        out[j] = np.searchsorted(seg_gs0, gs, side="right") - 1
    return out


def exit_wait(rt: RouteTable, ct: ClassTable, traffic: Traffic, state: np.ndarray, route: np.ndarray, s: np.ndarray,
              v: np.ndarray, cls: np.ndarray, aside_at: np.ndarray, edge: int, clear_m: float,
              now: float) -> float | None:
    """None when no truck on the road stands on ``edge`` within ``clear_m`` [m] of its start; else a lower bound
    [s] on how long until every truck that does has left that stretch.

    A truck waiting to pull out onto the edge looks again later, and needs to look no sooner than this bound: a
    truck cannot cover the distance it still has to go in the zone (to ``clear_m``, to the edge's end, or to its
    route's end, where it arrives and leaves the road) faster than at its class's top acceleration from its speed
    now, the kinematic tick's own bound (``_ticks``: v grows by at most ``accel * dt`` a tick, distance is the
    trapezoid of the speeds). The only other way off the road is standing aside after a breakdown, at
    ``aside_at`` [s] (inf for a truck that is not broken down). One compiled pass: waiting trucks ask this often.
    """
    wait = _exit_wait(MOVING_STATE, state, route, s, v, cls, aside_at, edge, clear_m, now, rt.route_base,
                      rt.route_len, rt.seg_gs0, rt.seg_edge, rt.seg_edge_s0, rt.seg_k, rt.seg_s0, rt.seg_len,
                      ct.accel, traffic.arrive_tol_m)
    return None if wait < 0.0 else wait


@njit(cache=True)
def _exit_wait(moving_state, state, route, s, v, cls, aside_at, edge, clear_m, now, route_base, route_len, seg_gs0,
               seg_edge, seg_edge_s0, seg_k, seg_s0, seg_len, accel, arrive_tol):
    wait = -1.0  # no truck in the zone
    for i in range(len(state)):
        if not moving_state[state[i]]:
            continue
        r = route[i]
        k = np.searchsorted(seg_gs0, route_base[r] + min(s[i], route_len[r] - 1e-6), side="right") - 1
        if seg_edge[k] != edge or s[i] - seg_edge_s0[k] >= clear_m:
            continue
        # Route distance at which it is out of the zone (past the clearance, on the next edge, or arrived), less
        # a margin for rounding. The edge ends where its last segment on this route does.
        last = k
        route_end = route_base[r] + route_len[r]
        while last + 1 < len(seg_k) and seg_gs0[last + 1] < route_end and seg_k[last + 1] == seg_k[k]:
            last += 1
        out = min(seg_edge_s0[k] + clear_m, seg_s0[last] + seg_len[last], route_len[r] - arrive_tol) - 1e-6
        d = max(out - s[i], 0.0)
        a = accel[cls[i]]
        motion = 2.0 * d / (v[i] + np.sqrt(v[i] * v[i] + 2.0 * a * d)) if d > 0.0 else 0.0
        wait = max(wait, min(motion, max(aside_at[i] - now, 0.0)))
    return wait


def tick(rt: RouteTable, ct: ClassTable, traffic: Traffic, dt: float, state: np.ndarray, route: np.ndarray,
         s: np.ndarray, v: np.ndarray, payload_t: np.ndarray, cls: np.ndarray, x: np.ndarray, y: np.ndarray,
         z: np.ndarray, heading: np.ndarray, odometer: np.ndarray, state_time: np.ndarray,
         stop_gap: np.ndarray, v_limit: np.ndarray, min_gap: np.ndarray | None = None,
         ticks: int = 1, reports: np.ndarray | None = None, taken: np.ndarray | None = None,
         stop_line: np.ndarray | None = None) -> tuple[int, np.ndarray]:
    """Advance the whole fleet by up to ``ticks`` ticks of ``dt`` [s] in place, stopping after the first tick in
    which a truck reaches its route's end; returns the ticks done and the trucks that arrived in the last one.

    Several ticks in one compiled call are the same ticks one by one (the caller asks for them only while
    nothing else is due: no event, message, observer or link update); they only skip the Python between them.
    Per truck arrays (index i over the fleet): ``stop_gap`` [m] is the distance to a stop line as the call starts
    (an obstacle seen ahead; inf if none), ``v_limit`` [m/s] any extra cap such as the perception-safe speed; both
    hold for every tick of the call. ``stop_line`` [m], when given, is a stop line as a distance along the
    truck's route (the entry of a single-lane section refused; inf if none): the gap to it is taken each tick.
    ``min_gap`` (one element, [m]), when given, is lowered to the least bumper
    gap between a truck and the one ahead of it on its path as the tick finds them: the car-following gaps are
    computed every tick anyway, so the safety invariant (never closer than the jam gap) is watched at every tick
    for the cost of one compare. ``reports`` (ascending tick numbers, each below ``ticks``), when given: after each
    of those ticks, if the call goes on, the fleet's telemetry columns (``fleet.telemetry``) are taken into the next
    ``taken[j]`` (shape ``(len(reports), 3, n)``), positions placed first (``fleet.telemetry`` sends them).
    """
    watch = min_gap if min_gap is not None else np.full(1, np.inf)
    if reports is None or taken is None:
        reports, taken = NO_REPORTS, np.empty((0, 3, len(state)))
    lines = stop_line if stop_line is not None else np.full(len(state), np.inf)
    return _ticks(ticks, reports, taken, dt, MOVING_STATE, state, route, s, v, payload_t, cls, x, y, z, heading,
                  odometer, state_time, stop_gap, lines, v_limit, watch, rt.vmax, rt.vexit, rt.seg_s0, rt.seg_len,
                  rt.seg_grade, rt.seg_rr, rt.seg_heading, rt.seg_lane_xy, rt.p0, rt.p1, rt.route_base, rt.route_len,
                  rt.seg_gs0, rt.seg_edge, rt.seg_edge_s0, rt.seg_k, rt.route_edges, rt.route_edge_s0, len(rt.edge_len),
                  ct.empty_kg, ct.power_w, ct.rimpull_n, ct.accel, ct.brake, ct.emergency, ct.length,
                  traffic.jam_gap_m, traffic.headway_s, traffic.arrive_tol_m)


@njit(cache=True)
def _ticks(ticks, reports, taken, dt, moving_state, state, route, s, v, payload_t, cls, x, y, z, heading, odometer,
           state_time, stop_gap, stop_line, v_limit, min_gap, vmax, vexit, seg_s0, seg_len, seg_grade, seg_rr,
           seg_heading, seg_lane_xy, p0, p1, route_base, route_len, seg_gs0, seg_edge, seg_edge_s0, seg_k, route_edges,
           route_edge_s0, n_edges, empty_kg, power_w, rimpull_n, accel, brake, emergency, length, jam_gap, headway,
           arrive_tol):
    # No truck changes state inside the call (it ends at the first arrival), so who moves is found once, and each
    # truck's segment is carried from tick to tick: a truck only moves forward, so a short walk replaces a search.
    n_all = len(state)
    count = 0
    for i in range(n_all):
        if moving_state[state[i]]:
            count += 1
    idx = np.empty(count, dtype=np.int64)
    count = 0
    for i in range(n_all):
        if moving_state[state[i]]:
            idx[count] = i
            count += 1
    r_m = route[idx]
    s_m = s[idx]
    v_m = v[idx]
    length_m = length[cls[idx]]
    seg = _locate(r_m, s_m, route_base, route_len, seg_gs0)
    work = following_work(count, n_edges)
    work[2][:] = np.argsort(seg_edge[seg] * EDGE_KEY + (s_m - seg_edge_s0[seg]), kind="mergesort")
    gap, lead = work[0], work[1]
    report = 0  # the next of ``reports``
    # One tick per pass: the trucks on the road, their routes ``r_m``, distances ``s_m`` and speeds ``v_m`` as the
    # tick starts and the gaps and leaders found then, are moved on, with their segments ``seg``. The tick is written
    # here rather than called, and ``leader_gaps_into`` is inlined when compiled: calls per tick passing some thirty
    # arrays cost a third of the kernel's time (measured on the OpenMines peer's mine).
    for done in range(1, ticks + 1):
        for i in range(n_all):
            state_time[i, state[i]] += dt
        for j in range(count):
            s_m[j] = s[idx[j]]
            v_m[j] = v[idx[j]]
        leader_gaps_into(seg, s_m, r_m, seg_edge, seg_edge_s0, seg_k, route_edges, route_edge_s0, length_m, work)
        for j in range(count):
            # A truck's rear (not a junction given way at), from a truck that has entered the road: one still at its
            # route's start is in the loading or dump area beside the one that left before it, and waits there.
            if lead[j] >= 0 and s_m[j] > 0.0 and gap[j] < min_gap[0]:
                min_gap[0] = gap[j]
        n_arrived = 0
        for j in range(count):
            i = idx[j]
            c, k, vj = cls[i], seg[j], v_m[j]
            g = gap[j]
            v_lead = v_m[lead[j]] if lead[j] >= 0 else 0.0
            stop = stop_gap[i]
            if stop_line[i] < np.inf:
                stop = min(stop, max(stop_line[i] - s_m[j], 0.0))
            var = c * 2 + (1 if payload_t[i] > 0 else 0)
            b = brake[c]
            a_max = accel[c]
            to_end = max(seg_s0[k] + seg_len[k] - s_m[j], 0.0)
            # Braking envelope: slow enough to reach every later cap (and the stop) at the service rate.
            v_cap = min(vmax[var, k], np.sqrt(vexit[var, k] ** 2 + 2.0 * b * to_end))
            if v_limit[i] < v_cap:
                # A lower safe speed (or a HOLD, limit 0) is reached at the service rate: a controlled slow-down.
                v_cap = min(v_cap, max(v_limit[i], vj - b * dt))
            if stop < np.inf:
                # A stop line (obstacle seen ahead, single-lane section refused): brake to stand at it, up to the
                # emergency rate when the service rate no longer suffices.
                v_cap = min(v_cap, np.sqrt(2.0 * b * max(stop, 0.0)))
            mass = empty_kg[c] + payload_t[i] * 1000.0
            rimpull = min(rimpull_n[c], power_w[c] / max(vj, 0.1))
            a = min(rimpull / mass - G * (seg_grade[k] + seg_rr[k]), a_max)
            if g < np.inf:
                # IDM interaction term: brake as the desired gap s* approaches the actual gap.
                s_star = jam_gap + max(0.0, vj * headway + vj * (vj - v_lead) / (2.0 * np.sqrt(a_max * b)))
                a = min(a, a_max * (1.0 - (s_star / max(g, 0.1)) ** 2))
            a = max(a, -emergency[c])
            vn = max(vj + a * dt, 0.0)
            vn = min(vn, max(v_cap, vj - emergency[c] * dt))
            ds = 0.5 * (vj + vn) * dt
            # Never close within the jam gap of what is ahead nor pass a stop line within a tick: IDM alone lets a
            # truck closing at walking pace on a stopped one come to rest metres inside the jam gap.
            reach = min(ds, max(g - jam_gap, 0.0), max(stop, 0.0))
            if reach < ds:
                vn = min(vn, reach / dt)
                ds = reach
            r = r_m[j]
            sn = min(s_m[j] + ds, route_len[r])
            odometer[i] += sn - s_m[j]
            s[i] = sn
            v[i] = vn if ds > 0 else 0.0
            # Its segment now (placed on it once, after the last tick: ``_place``).
            gs = route_base[r] + min(sn, route_len[r] - 1e-6)
            kn = k
            while kn + 1 < len(seg_gs0) and seg_gs0[kn + 1] <= gs:  # the searchsorted(side="right") - 1 result
                kn += 1
            seg[j] = kn
            if sn >= route_len[r] - arrive_tol:  # ``_arrived`` names them
                n_arrived += 1
        if n_arrived or done == ticks:
            _place(idx, seg, s, x, y, z, heading, seg_s0, seg_len, seg_heading, seg_lane_xy, p0, p1)
            return done, _arrived(idx, r_m, s, route_len, arrive_tol) if n_arrived else np.empty(0, dtype=np.int64)
        if report < len(reports) and reports[report] == done:
            _place(idx, seg, s, x, y, z, heading, seg_s0, seg_len, seg_heading, seg_lane_xy, p0, p1)
            telemetry_columns_into(x, y, v, taken[report])
            report += 1
    return 0, np.empty(0, dtype=np.int64)


@njit(cache=True)
def _arrived(idx, r_m, s, route_len, arrive_tol):
    """The trucks ``idx`` at their route's end (within ``arrive_tol``): after a tick that ``_ticks`` found had
    arrivals, so the ticks without any allocate nothing."""
    out = np.empty(len(idx), dtype=np.int64)
    n = 0
    for j in range(len(idx)):
        if s[idx[j]] >= route_len[r_m[j]] - arrive_tol:
            out[n] = idx[j]
            n += 1
    return out[:n]


@njit(cache=True)
def _place(idx, seg, s, x, y, z, heading, seg_s0, seg_len, seg_heading, seg_lane_xy, p0, p1):
    """Put the trucks ``idx`` on their lanes' polylines at distance ``s`` along segment ``seg``: once, after the
    call's last tick, as nothing inside the kernel reads a position."""
    for j in range(len(idx)):
        i, k = idx[j], seg[j]
        frac = min(max((s[i] - seg_s0[k]) / seg_len[k], 0.0), 1.0)
        x[i] = p0[k, 0] + frac * (p1[k, 0] - p0[k, 0]) + seg_lane_xy[k, 0]
        y[i] = p0[k, 1] + frac * (p1[k, 1] - p0[k, 1]) + seg_lane_xy[k, 1]
        z[i] = p0[k, 2] + frac * (p1[k, 2] - p0[k, 2])
        heading[i] = seg_heading[k]
