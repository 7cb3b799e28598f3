"""Trucks pulling out of a facility onto their routes: one line per exit, first come, first served.

A truck with an order joins the line for its route's first road. The first truck in a line looks at its exit: it
pulls out when no truck on the road stands within a truck length plus the jam gap of the road's start (and a
single-lane start is claimed for it), else it looks again every ``DEPART_RETRY_S``, counted from the tick it
looked at. Trucks behind it wait their turn: at a garage at shift start, or behind a truck broken down at a bench
exit, only the first in line looks. Looks that the blocking trucks' own motion says must fail
(``fleet.kinematics.exit_wait``) are not made: the next look is the first of the same series that bound allows.

A mixin of ``fleet.engine.Simulation``, like ``fleet.breakdowns``. See docs/architecture.md, "Trucks and motion".
"""

from __future__ import annotations

from collections import deque
from typing import Any

from fleet import kinematics
from fleet.state import TruckState

DEPART_RETRY_S = 1.0  # [s] how often the first truck in line at a blocked exit looks again
WAIT_ORDER = int(TruckState.WAIT_ORDER)  # a plain int: an IntEnum member costs a class-attribute lookup each use


class Departures:
    """Exit lines of the simulation (see the module docstring)."""

    fleet: Any
    rt: Any
    ct: Any
    params: Any
    queue: Any
    grid: Any
    ticks: int
    t: float
    claims: Any
    point_by_id: dict[str, Any]
    _aside_at: Any
    _record: Any

    def _init_departures(self) -> None:
        # first road of a route -> (truck, route, request) of the trucks waiting to pull out onto it, in order
        self.exit_lines: dict[int, deque[tuple[int, int, int]]] = {}

    def _depart(self, i: int, route: int, request: int) -> None:
        """The truck has its order: it joins the line for its exit (and looks at once if it is first)."""
        edge = int(self.rt.route_edges[route, 0])
        line = self.exit_lines.setdefault(edge, deque())
        line.append((i, route, request))
        if len(line) == 1:
            self._look(edge)

    def _look(self, edge: int) -> None:
        """The first truck in the line pulls out if its exit is clear, else looks again later. A truck no longer
        waiting for this order (it broke down in the line) leaves the line when it comes to the front."""
        f = self.fleet
        line = self.exit_lines[edge]
        while line:
            i, route, request = line[0]
            if f.state[i] == WAIT_ORDER and f.request_seq[i] == request:
                break
            line.popleft()
        else:
            return
        wait = self._exit_wait(i, route, edge)
        if wait is not None:
            self.queue.push(self._retry_time(wait), self._look, edge)
            return
        line.popleft()
        f.route[i] = route
        f.dest[i] = self.point_by_id[self.rt.routes[route].dest].index
        f.s[i] = 0.0
        f.v[i] = 0.0
        f.state[i] = TruckState.TRAVEL_LOADED if f.payload_t[i] > 0 else TruckState.TRAVEL_EMPTY
        self._record(i, "depart", self.rt.routes[route].dest)
        if line:
            self._look(edge)  # the next in line looks now, and finds the truck that has just pulled out

    def _retry_time(self, wait: float) -> float:
        """The first look of the series ``now + DEPART_RETRY_S``, then each look's tick ``+ DEPART_RETRY_S``, that
        is not before ``wait`` [s] from now less two ticks (the tick a look fires at, and one for rounding)."""
        grid = self.grid
        earliest = self.t + wait - 2.0 * self.params.dt
        k = self.ticks
        most = int(DEPART_RETRY_S / self.params.dt) + 2  # ticks from one look to the next, and more
        at = self.t + DEPART_RETRY_S
        while at < earliest:
            k += grid.first_at_or_after(k, at, most)  # the tick that look would fire at
            at = grid.time(k) + DEPART_RETRY_S
        return at

    def _exit_wait(self, i: int, route: int, first: int) -> float | None:
        """None when truck ``i``'s exit onto ``route`` (whose first road is ``first``) is clear (and a single-lane
        start is claimed); else a lower bound [s] on how long it stays blocked (0 for a single-lane start refused)."""
        f, rt = self.fleet, self.rt
        clear = float(self.ct.length[f.class_index[i]]) + self.params.traffic.jam_gap_m
        wait = kinematics.exit_wait(rt, self.ct, self.params.traffic, f.state, f.route, f.s, f.v, f.class_index,
                                    self._aside_at, first, clear, self.t)
        if wait is not None:
            return wait
        section = rt.edge_section[first]
        if section < 0 or self.claims.claim(i, int(section), int(rt.route_section_node[route, 0]), 0.0):
            return None
        return 0.0
