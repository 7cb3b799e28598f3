"""Service points: one FIFO queue in front of a facility's units.

A loading point's units are its shovels (a loading area has several, each at its own rate; a shovel standing
alone is a point with one unit); a dump's or crusher's units are its tipping bays. A truck waiting in the queue
takes the first free unit, fastest units first, or waits for the one unit its order names. A unit with two sides
takes a second truck while it loads the first (double-side loading: spotting is hidden behind loading). A unit
that is down takes nobody; one due to go down finishes the truck it has first.

Time-integrated KPIs (queue length, occupancy, downtime) are brought up to date at every change (``_account``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class Unit:
    index: int  # within its point
    id: str
    xyz: tuple[float, float, float]
    sides: int = 1
    rank: float = 0.0  # free units are taken lowest rank first (faster units rank lower)
    occupants: int = 0  # trucks spotting, waiting for the bucket, or being served
    bucket_busy: bool = False  # a shovel loading (one bucket for both sides)
    ready: deque[int] = field(default_factory=deque)  # trucks spotted, waiting for the bucket
    up: bool = True
    outages: int = 0  # breakdowns and maintenance windows in force (down while any is)
    down_pending: str | None = None  # reason of an outage waiting for the unit to empty
    down_reason: str = ""
    # KPI accumulators
    busy_s: float = 0.0  # [s] with at least one truck at the unit
    down_s: float = 0.0  # [s] out of service
    visits: int = 0
    tonnes: float = 0.0
    _t_last: float = 0.0

    @property
    def free(self) -> bool:
        return self.up and self.outages == 0 and self.occupants < self.sides

    def _account(self, t: float) -> None:
        dt = t - self._t_last
        self.busy_s += dt if self.occupants > 0 else 0.0
        self.down_s += dt if not self.up else 0.0
        self._t_last = t


@dataclass
class ServicePoint:
    index: int
    id: str
    kind: str  # shovel (a loading point), dump, crusher, park
    units: list[Unit]
    queue: deque[tuple[int, float, int]] = field(default_factory=deque)  # (truck, arrival [s], unit or -1)
    # KPI accumulators
    wait_s: float = 0.0  # [s] summed queue waits
    visits: int = 0
    tonnes: float = 0.0
    max_queue: int = 0
    queue_area: float = 0.0  # [truck*s] integral of queue length
    _t_last: float = 0.0

    @property
    def bays(self) -> int:
        return len(self.units)

    @property
    def busy(self) -> int:
        """Units serving a truck now."""
        return sum(1 for u in self.units if u.occupants > 0)

    @property
    def up(self) -> bool:
        """At least one unit in service (or about to finish its truck)."""
        return any(u.up for u in self.units)

    def _account(self, t: float) -> None:
        if t > self._t_last:
            self.max_queue = max(self.max_queue, len(self.queue))
        self.queue_area += len(self.queue) * (t - self._t_last)
        self._t_last = t

    def arrive(self, truck: int, t: float, unit: int = -1) -> None:
        self._account(t)
        self.queue.append((truck, t, unit))

    def next_truck(self, t: float) -> tuple[int, Unit] | None:
        """The first waiting truck that a free unit can take now, and that unit (which it now occupies)."""
        by_rank = sorted((u for u in self.units if u.free), key=lambda u: (u.rank, u.index))
        if not by_rank:
            return None
        for pos, (truck, t_arrive, want) in enumerate(self.queue):
            unit = by_rank[0] if want < 0 else (self.units[want] if self.units[want].free else None)
            if unit is None:
                continue
            self._account(t)
            del self.queue[pos]
            self.occupy(unit, t)
            self.visits += 1
            unit.visits += 1
            self.wait_s += t - t_arrive
            return truck, unit
        return None

    def leave_queue(self, truck: int, t: float) -> bool:
        """Take a waiting truck out of the queue (it broke down, or is sent elsewhere); False if not queued."""
        for pos, (k, _, _) in enumerate(self.queue):
            if k == truck:
                self._account(t)
                del self.queue[pos]
                return True
        return False

    def forget_unit(self, unit: int) -> None:
        """Trucks waiting for this unit (now down) take any free unit instead."""
        self.queue = deque((k, t0, -1 if want == unit else want) for k, t0, want in self.queue)

    def occupy(self, unit: Unit, t: float) -> None:
        unit._account(t)
        unit.occupants += 1

    def vacate(self, unit: Unit, t: float) -> None:
        unit._account(t)
        unit.occupants -= 1

    def set_up(self, unit: Unit, t: float, up: bool, reason: str = "") -> None:
        unit._account(t)
        unit.up = up
        unit.down_pending = None
        unit.down_reason = "" if up else reason

    def close(self, t: float) -> None:
        """Bring the time integrals up to the end of the shift."""
        self._account(t)
        for u in self.units:
            u._account(t)
