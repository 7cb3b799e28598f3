"""Service points: a FIFO queue in front of parallel bays (one loading spot at a shovel, bays at a dump)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class ServicePoint:
    index: int
    id: str
    kind: str  # shovel, dump, crusher, park
    bays: int
    queue: deque[tuple[int, float]] = field(default_factory=deque)  # (truck, arrival time [s])
    busy: int = 0
    # KPI accumulators
    busy_s: float = 0.0  # [s] bay-seconds in service
    wait_s: float = 0.0  # [s] summed queue waits
    visits: int = 0
    tonnes: float = 0.0
    max_queue: int = 0
    queue_area: float = 0.0  # [truck*s] integral of queue length
    _t_last: float = 0.0

    def _account(self, t: float) -> None:
        self.queue_area += len(self.queue) * (t - self._t_last)
        self._t_last = t

    def arrive(self, truck: int, t: float) -> None:
        self._account(t)
        self.queue.append((truck, t))
        self.max_queue = max(self.max_queue, len(self.queue) - (1 if self.busy < self.bays else 0))

    def next_truck(self, t: float) -> int | None:
        """The next truck to serve now, if a bay is free and someone waits."""
        if self.busy >= self.bays or not self.queue:
            return None
        self._account(t)
        truck, t_arrive = self.queue.popleft()
        self.busy += 1
        self.visits += 1
        self.wait_s += t - t_arrive
        return truck

    def finish(self, service_s: float) -> None:
        self.busy -= 1
        self.busy_s += service_s

    def close(self, t: float) -> None:
        """Bring the queue-length integral up to the end of the shift."""
        self._account(t)
