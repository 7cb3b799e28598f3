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

    def head_is(self, fn: Callable[..., None]) -> bool:
        """The next event to fire is a call of ``fn``."""
        return bool(self._heap) and self._heap[0][2] == fn

    def next_time_behind_head(self) -> float | None:
        """Time of the next event after the one at the head (a heap's second least is a child of its root)."""
        heap = self._heap
        if len(heap) < 2:
            return None
        return heap[1][0] if len(heap) == 2 else min(heap[1][0], heap[2][0])

    def pop_head(self) -> None:
        """Take the next event out without calling it (its caller has done its work another way)."""
        self.now = heapq.heappop(self._heap)[0]

    def fire_next(self) -> None:
        self.now, _, fn, args = heapq.heappop(self._heap)
        fn(*args)

    def __len__(self) -> int:
        return len(self._heap)
