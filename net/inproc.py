"""A deterministic in-process router with MQTT topic-filter semantics, for fast batch runs."""

from __future__ import annotations

import heapq
import itertools

from net.envelope import Envelope
from net.topics import matches
from net.transport import Handler, Subscriptions


class InProcRouter:
    """Delivers in ``(t_deliver, src, seq)`` order; retained messages reach later subscribers too.

    QoS is recorded but every message arrives: loss is the link model's decision, taken before publish.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, str, int, int, str, Envelope]] = []
        self._tie = itertools.count()
        self._subs = Subscriptions()
        self.retained: dict[str, Envelope] = {}
        self.published = 0
        self.delivered = 0

    def publish(self, topic: str, env: Envelope, qos: int = 0, retain: bool = False) -> None:
        if qos not in (0, 1, 2):
            raise ValueError(f"QoS must be 0, 1 or 2, got {qos}")
        if retain:
            self.retained[topic] = env
        self.published += 1
        heapq.heappush(self._heap, (env.t_deliver, env.src, env.seq, next(self._tie), topic, env))

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        self._subs.add(topic_filter, handler)
        for topic, env in sorted(self.retained.items()):
            if matches(topic_filter, topic):
                heapq.heappush(self._heap, (env.t_deliver, env.src, env.seq, next(self._tie), topic, env))

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def deliver_next(self) -> None:
        *_, topic, env = heapq.heappop(self._heap)
        self.delivered += 1
        for h in self._subs.handlers(topic):
            h(topic, env)
