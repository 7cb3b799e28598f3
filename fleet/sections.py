"""Single-lane sections: opposing trucks may not meet inside one, so a truck claims it before entering.

A claim is taken when the truck is within braking distance (+ margin) of the entry, so a truck refused a
claim can still stop at the entry line. Trucks entering from the same end share a section (they follow
each other); a claim from the other end waits until the section is empty.

Claims are taken before a tick's move and released after it. ``quiet_ticks`` bounds how many ticks can pass before
any truck could come within claiming reach of a section or drive out of one it holds: those ticks run back to back
in the kernel, the same ticks as one at a time (docs/architecture.md, "Time").
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from numba import njit

from fleet.routes import RouteTable
from fleet.state import FleetArrays


class SectionClaims:
    def __init__(self, fleet: FleetArrays) -> None:
        self.fleet = fleet
        self.holders: dict[int, Counter[int]] = {}  # section -> entry node -> trucks holding
        self.refusals = 0

    def claim(self, i: int, section: int, node: int, entry_s: float) -> bool:
        held = self.holders.setdefault(section, Counter())
        if any(count > 0 for n, count in held.items() if n != node):
            self.refusals += 1
            return False
        held[node] += 1
        f = self.fleet
        f.claim_section[i], f.claim_node[i], f.claim_s[i] = section, node, entry_s
        return True

    def release(self, i: int) -> None:
        f = self.fleet
        sec = int(f.claim_section[i])
        if sec >= 0:
            self.holders[sec][int(f.claim_node[i])] -= 1
            f.claim_section[i] = -1
            f.claim_node[i] = -1

    def stop_lines(self, rt: RouteTable, idx: np.ndarray, seg: np.ndarray, s: np.ndarray, v: np.ndarray,
                   brake: np.ndarray, margin: float) -> tuple[np.ndarray, int]:
        """Where each truck on the road (``idx``) refused a section must stop: the route distance [m] of the
        section's entry (inf for everyone else), the kernel taking the gap to it each tick; and how many of them
        asked for a claim now and were refused (one still holding another section does not ask: it must leave
        that one first).

        A truck asks once it is within braking distance plus ``margin`` of the entry. A route that starts inside a
        section (a facility on a single-lane spur) claims it before departing.
        """
        line = np.full(len(idx), np.inf)
        held = self.fleet.claim_section[idx]
        ahead, entry, node = rt.next_section[seg], rt.next_section_s[seg], rt.next_section_node[seg]
        # A truck standing exactly at its line is on the section's first segment already: it has not entered.
        here = rt.seg_section[seg]
        at_line = (here >= 0) & (here != held)
        if at_line.any():
            ahead, entry, node = (np.where(at_line, here, ahead), np.where(at_line, rt.section_start_s[seg], entry),
                                  np.where(at_line, rt.section_node[seg], node))
        dist = entry - s
        reach = v * v / (2.0 * brake) + margin
        asked = 0
        for j in np.flatnonzero((ahead >= 0) & (dist <= reach) & (held != ahead)):
            if held[j] >= 0:
                line[j] = entry[j]
            elif not self.claim(int(idx[j]), int(ahead[j]), int(node[j]), float(entry[j])):
                line[j] = entry[j]
                asked += 1
        return line, asked

    def quiet_ticks(self, rt: RouteTable, idx: np.ndarray, seg: np.ndarray, s: np.ndarray, v: np.ndarray,
                    accel: np.ndarray, brake: np.ndarray, line: np.ndarray, margin: float, dt: float,
                    most: int) -> int:
        """How many ticks (1 to ``most``) from now can run as one kernel call with the claims of now: before the last
        of them no truck on the road (``idx``, on segments ``seg`` at ``s`` [m], ``v`` [m/s]; its class's top
        acceleration ``accel`` and service braking ``brake`` [m/s2]) can come within claiming reach of a section
        it does not hold or leave one it holds, and every truck refused now (``line``, from ``stop_lines``) is
        within ``margin`` of its line, so within reach all along: each would ask again every tick and be refused
        again (the claims stand until a release), and the kernel keeps it short of its line."""
        return _quiet_ticks(self.fleet.claim_section[idx], seg, s, v, accel, brake, line, margin, dt, most,
                            rt.next_section, rt.next_section_s, rt.seg_section, rt.section_end_s,
                            rt.next_section_end_s)

    def release_passed(self, rt: RouteTable, idx: np.ndarray, seg: np.ndarray, s: np.ndarray) -> None:
        """Free the sections trucks have driven out of."""
        held = self.fleet.claim_section[idx]
        done = (held >= 0) & (rt.seg_section[seg] != held) & (s > self.fleet.claim_s[idx])
        for j in np.flatnonzero(done):
            self.release(int(idx[j]))


ROUNDING_M = 1e-6  # [m] kept clear of a claim or release point, for the kernel's rounding in getting there


@njit(cache=True)
def _quiet_ticks(held, seg, s, v, accel, brake, line, margin, dt, most, next_section, next_section_s, seg_section,
                 section_end_s, next_section_end_s):
    """``SectionClaims.quiet_ticks``. A truck's speed grows by at most ``accel * dt`` a tick and its distance is the
    trapezoid of its speeds (``kinematics._ticks``), so after m ticks it has gone at most ``v T + accel T^2 / 2``
    (T = m dt) at a speed of at most ``v + accel T``: its claiming reach (``v^2 / 2 brake + margin``) is at most
    that speed's; and at least ``margin``, so a truck refused within ``margin`` of its line stays within reach.
    A call of n ticks needs m = 1 ... n - 1 clear: the claims of its first tick are taken before it, and the
    releases after its last one after it."""
    n = most
    for j in range(len(s)):
        k = seg[j]
        ahead, h = next_section[k], held[j]
        exit_s = np.inf  # where it leaves the section it holds
        if h >= 0:
            if seg_section[k] == h:
                exit_s = section_end_s[k]
            elif ahead == h:
                exit_s = next_section_end_s[k]
            else:
                return 1  # holds a section it is neither in nor coming to: let the tick look
        claim = ahead >= 0 and ahead != h
        if line[j] < np.inf:  # refused now: it stays so, if its reach cannot shrink past its line
            if line[j] - s[j] > margin:
                return 1
            claim = False
        if not claim and exit_s == np.inf:
            continue
        for m in range(1, n):
            t = m * dt
            gone = v[j] * t + 0.5 * accel[j] * t * t + ROUNDING_M
            if s[j] + gone >= exit_s:
                n = m
                break
            if claim:
                vm = v[j] + accel[j] * t
                if next_section_s[k] - s[j] - gone <= vm * vm / (2.0 * brake[j]) + margin:
                    n = m
                    break
        if n == 1:
            return 1
    return n
