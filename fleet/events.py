"""The one event queue: discrete happenings keyed by (time, sequence), fired in a deterministic order."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any


class EventQueue:
    def __init__(self) -> None:
        self.now = 0.0  # [s] nominal time of the event being fired
        self._heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = itertools.count()

    def push(self, t: float, fn: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._heap, (t, next(self._seq), fn, args))

    def next_time(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def fire_next(self) -> None:
        self.now, _, fn, args = heapq.heappop(self._heap)
        fn(*args)

    def __len__(self) -> int:
        return len(self._heap)
