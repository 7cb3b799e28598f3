"""Single-lane sections: opposing trucks may not meet inside one, so a truck claims it before entering.

A claim is taken when the truck is within braking distance (+ margin) of the entry, so a truck refused a
claim can still stop at the entry line. Trucks entering from the same end share a section (they follow
each other); a claim from the other end waits until the section is empty.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

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

    def stop_gaps(self, rt: RouteTable, idx: np.ndarray, seg: np.ndarray, s: np.ndarray, v: np.ndarray,
                  brake: np.ndarray, margin: float) -> np.ndarray:
        """Distance [m] to the stop line of each truck refused a section; inf for everyone else.

        A route that starts inside a section (a facility on a single-lane spur) claims it before departing.
        """
        gap = np.full(len(idx), np.inf)
        held = self.fleet.claim_section[idx]
        ahead = rt.next_section[seg]
        dist = rt.next_section_s[seg] - s
        reach = v * v / (2.0 * brake) + margin
        for j in np.flatnonzero((ahead >= 0) & (dist <= reach) & (held != ahead)):
            if held[j] >= 0 or not self.claim(int(idx[j]), int(ahead[j]), int(rt.next_section_node[seg[j]]),
                                             float(rt.next_section_s[seg[j]])):
                gap[j] = min(gap[j], max(dist[j], 0.0))
        return gap

    def release_passed(self, rt: RouteTable, idx: np.ndarray, seg: np.ndarray, s: np.ndarray) -> None:
        """Free the sections trucks have driven out of."""
        held = self.fleet.claim_section[idx]
        done = (held >= 0) & (rt.seg_section[seg] != held) & (s > self.fleet.claim_s[idx])
        for j in np.flatnonzero(done):
            self.release(int(idx[j]))
