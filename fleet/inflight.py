"""Perception results on their way to their trucks: a few slots per truck, put and released in compiled code.

Why: a frame's results reach a chip group's phase classes at different emulated times, so one frame leaves a
handful of groups in flight, and releasing them group by group was a dozen numpy calls each, every tick.
Here each truck keeps its own results in flight in slots; a release hands each truck, in order of arrival (ties:
in order of putting), every result due by ``now``, and writes the newest into what the truck knows
(docs/architecture.md, "Edge").
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numba import njit

DUE_TOL_S = 1e-9  # [s] a result due within this of now is delivered now (frame times are sums of 0.1 s steps)
POSE = 5  # s [m], route, x [m], y [m], heading [rad] at the frame


class InFlight:
    """Results in flight per truck: arrival, the result and ground truth of its frame, and the pose at it."""

    def __init__(self, trucks: int, sectors: int, depth: int = 4) -> None:
        self.arrival = np.full((trucks, depth), np.inf)  # [s] inf: a free slot
        self.order = np.zeros((trucks, depth), dtype=np.int64)  # when it was put, to keep ties in order
        self.frame_t = np.zeros((trucks, depth))  # [s]
        self.latency = np.zeros((trucks, depth))  # [s] frame to result
        self.pose = np.zeros((trucks, depth, POSE))
        self.out = np.zeros((trucks, depth, sectors, 2), dtype=np.float32)
        self.truth = np.zeros((trucks, depth, sectors, 2), dtype=np.float32)
        self._puts = 0
        self.watched = np.zeros((trucks * depth, 2), dtype=np.int64)  # (truck, slot) released and watched

    def put(self, trucks: np.ndarray, latency: np.ndarray, t_frame: float, out: np.ndarray, truth: np.ndarray,
            fleet_s: np.ndarray, route: np.ndarray, x: np.ndarray, y: np.ndarray, heading: np.ndarray) -> None:
        """Put the frame's result ``out[j]`` (ground truth ``truth[j]``) of truck ``trucks[j]`` in flight for
        ``latency[j]`` [s] (NaN: the chip dropped it, nothing is put), posed where the fleet arrays say."""
        while not _put(trucks, latency, t_frame, out, truth, fleet_s, route, x, y, heading, self._puts,
                       self.arrival, self.order, self.frame_t, self.latency, self.pose, self.out, self.truth):
            self._grow()
        self._puts += 1

    def release(self, now: float, gap: np.ndarray, exact: np.ndarray, watch_m: float, latest: np.ndarray,
                latest_t: np.ndarray, latest_s: np.ndarray, latest_route: np.ndarray, frame_x: np.ndarray,
                frame_y: np.ndarray, frame_h: np.ndarray, latency: np.ndarray) -> np.ndarray:
        """Deliver every result due by ``now`` [s]: the newest per truck becomes what it knows. Returns the
        (truck, slot) of each delivered result of a truck ``gap`` [m] <= ``watch_m`` from an obstacle and not
        ``exact``, in order of delivery; their slots hold the result until the next ``put``."""
        n = _release(now + DUE_TOL_S, gap, exact, watch_m, self.arrival, self.order, self.frame_t, self.latency,
                     self.pose, self.out, latest, latest_t, latest_s, latest_route, frame_x, frame_y, frame_h, latency,
                     self.watched)
        return self.watched[:n]

    def of(self, truck: int) -> Iterator[int]:
        """Slots of ``truck``'s results still in flight, in order of arrival."""
        busy = np.flatnonzero(np.isfinite(self.arrival[truck]))
        yield from busy[np.lexsort((self.order[truck, busy], self.arrival[truck, busy]))].tolist()

    def _grow(self) -> None:
        """Twice the slots per truck: more results in flight at once than a truck had room for."""
        def wider(a: np.ndarray, fill: float) -> np.ndarray:
            more = np.full_like(a, fill)
            return np.concatenate([a, more], axis=1)

        self.arrival = wider(self.arrival, np.inf)
        self.order, self.frame_t = wider(self.order, 0), wider(self.frame_t, 0.0)
        self.latency = wider(self.latency, 0.0)
        self.pose, self.out, self.truth = wider(self.pose, 0.0), wider(self.out, 0.0), wider(self.truth, 0.0)
        self.watched = np.zeros((self.arrival.size, 2), dtype=np.int64)


@njit(cache=True)
def _put(trucks, latency, t_frame, out, truth, fleet_s, route, x, y, heading, puts, arrival, order, frame_t,
         slot_latency, pose, slot_out, slot_truth):
    """False (nothing put) if a truck has no free slot; else every non-dropped result in a free slot."""
    depth = arrival.shape[1]
    for j in range(len(trucks)):
        if latency[j] != latency[j]:
            continue
        i = trucks[j]
        free = False
        for k in range(depth):
            if arrival[i, k] == np.inf:
                free = True
                break
        if not free:
            return False
    for j in range(len(trucks)):
        if latency[j] != latency[j]:
            continue
        i = trucks[j]
        k = 0
        while arrival[i, k] != np.inf:
            k += 1
        arrival[i, k] = t_frame + latency[j]
        order[i, k] = puts
        frame_t[i, k] = t_frame
        slot_latency[i, k] = latency[j]
        pose[i, k, 0], pose[i, k, 1], pose[i, k, 2], pose[i, k, 3], pose[i, k, 4] = \
            fleet_s[i], route[i], x[i], y[i], heading[i]
        slot_out[i, k] = out[j]
        slot_truth[i, k] = truth[j]
    return True


@njit(cache=True)
def _release(due_by, gap, exact, watch_m, arrival, order, frame_t, slot_latency, pose, slot_out, latest, latest_t,
             latest_s, latest_route, frame_x, frame_y, frame_h, latency, watched):
    n_watched = 0
    depth = arrival.shape[1]
    for i in range(arrival.shape[0]):
        while True:
            best = -1
            for k in range(depth):  # the earliest due, the first put among equals
                if arrival[i, k] > due_by:
                    continue
                if best < 0 or arrival[i, k] < arrival[i, best] or (arrival[i, k] == arrival[i, best]
                                                                    and order[i, k] < order[i, best]):
                    best = k
            if best < 0:
                break
            arrival[i, best] = np.inf
            if gap[i] <= watch_m and not exact[i]:
                watched[n_watched, 0], watched[n_watched, 1] = i, best
                n_watched += 1
            latency[i] = slot_latency[i, best]
            latest[i] = slot_out[i, best]
            latest_t[i] = frame_t[i, best]
            latest_s[i] = pose[i, best, 0]
            latest_route[i] = np.int64(pose[i, best, 1])
            frame_x[i], frame_y[i], frame_h[i] = pose[i, best, 2], pose[i, best, 3], pose[i, best, 4]
    return n_watched
