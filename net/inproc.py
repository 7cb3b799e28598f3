"""A deterministic in-process router with MQTT topic-filter semantics, for fast batch runs."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

from net.batch import TelemetryBatch, TelemetryPeriods
from net.envelope import Envelope
from net.topics import matches
from net.transport import Handler, Subscriptions

BatchHandler = Callable[[TelemetryBatch], None]
PeriodsHandler = Callable[[TelemetryPeriods], None]


class InProcRouter:
    """Delivers in ``(t_deliver, src, seq)`` order; retained messages reach later subscribers too.

    QoS is recorded but every message arrives: loss is the link model's decision, taken before publish.
    Telemetry may come as a columnar batch (``publish_batch``, net/batch.py), or several periods' batches in one
    object (``publish_periods``), released in the same order.
    """

    def __init__(self) -> None:
        # (t_deliver, src, seq, tie, topic, message); a batch has topic None and the key of its first message
        self._heap: list[tuple[float, str, int, int, str | None, Envelope | TelemetryBatch | TelemetryPeriods]] = []
        self._topic_of: Callable[[str], str] | None = None  # sender -> telemetry topic, for batches
        self._batch_handlers: dict[Handler, tuple[BatchHandler, PeriodsHandler | None]] = {}
        # The senders of the last batch routed, their topics, and the handlers that take its batches whole (None: one
        # envelope at a time) and its periods whole (None: a batch at a time); cleared when a subscription changes.
        self._routed: tuple[list[str] | None, list[str], list[BatchHandler] | None, list[PeriodsHandler] | None] = \
            (None, [], None, None)
        # The topics of the senders of the last batch found to go whole, with its handlers: a part of it (a batch
        # cut where another message fell) goes whole to the same ones.
        self._whole: tuple[Callable[[str], str] | None, dict[str, str], list[BatchHandler],
                           list[PeriodsHandler] | None] | None = None
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

    def publish_batch(self, batch: TelemetryBatch, topic_of: Callable[[str], str]) -> None:
        """Publish one telemetry message per sender of ``batch`` (QoS 0) on ``topic_of(sender)``."""
        self._topic_of = topic_of
        self.published += len(batch)
        heapq.heappush(self._heap, (*batch.key(0), next(self._tie), None, batch))

    def publish_periods(self, periods: TelemetryPeriods, topic_of: Callable[[str], str]) -> None:
        """Publish one telemetry message per sender and period of ``periods`` (QoS 0) on ``topic_of(sender)``."""
        self._topic_of = topic_of
        self.published += len(periods)
        heapq.heappush(self._heap, (*periods.key(0, 0), next(self._tie), None, periods))

    def on_batch(self, handler: Handler, batch_handler: BatchHandler,
                 periods_handler: PeriodsHandler | None = None) -> None:
        """``handler``, already subscribed, takes a whole batch at once through ``batch_handler``, and, if given,
        several periods' batches at once through ``periods_handler``."""
        self._batch_handlers[handler] = (batch_handler, periods_handler)
        self._routed, self._whole = (None, [], None, None), None

    def subscribe(self, topic_filter: str, handler: Handler, qos: int = 1) -> None:
        self._subs.add(topic_filter, handler)
        self._routed, self._whole = (None, [], None, None), None
        for topic, env in sorted(self.retained.items()):
            if matches(topic_filter, topic):
                heapq.heappush(self._heap, (env.t_deliver, env.src, env.seq, next(self._tie), topic, env))

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def deliver_next(self) -> None:
        *_, topic, msg = heapq.heappop(self._heap)
        if isinstance(msg, TelemetryBatch):
            self._deliver_batch(msg)
            return
        if isinstance(msg, TelemetryPeriods):
            self._deliver_periods(msg)
            return
        self.delivered += 1
        for h in self._subs.handlers(topic):
            h(topic, msg)

    def _deliver_batch(self, batch: TelemetryBatch) -> None:
        """Release the batch's messages up to the first one another message must come before; the rest goes
        back. Whole to subscribers that all take batches, else one envelope at a time."""
        n = len(batch)
        if self._heap and self._heap[0][0] <= batch.t_deliver:  # a later time cannot fall between its trucks
            first_other = self._heap[0][:3]
            n = next((k for k in range(1, n) if batch.key(k) > first_other), n)
        if n < len(batch):
            rest = batch.part(n, len(batch))
            heapq.heappush(self._heap, (*rest.key(0), next(self._tie), None, rest))
            batch = batch.part(0, n)
        self.delivered += n
        _, topics, takers, _ = self._route(batch.src)
        if takers is not None:
            for take in takers:
                take(batch)
            return
        for topic, env in zip(topics, batch.envelopes(), strict=True):
            for h in self._subs.handlers(topic):
                h(topic, env)

    def _deliver_periods(self, periods: TelemetryPeriods) -> None:
        """Whole, when no other message falls between its first and its last and every subscriber takes periods;
        else its first period as a batch (``_deliver_batch``), the rest back in the queue."""
        last = periods.key(periods.periods - 1, len(periods.src) - 1)
        if not self._heap or self._heap[0][:3] > last:
            takers = self._route(periods.src)[3]
            if takers is not None:
                self.delivered += len(periods)
                for take in takers:
                    take(periods)
                return
        if periods.periods > 1:
            rest = periods.from_period(1)
            heapq.heappush(self._heap, (*rest.key(0, 0), next(self._tie), None, rest))
        self._deliver_batch(periods.period(0))

    def _route(self, src: list[str]) -> tuple[list[str] | None, list[str], list[BatchHandler] | None,
                                              list[PeriodsHandler] | None]:
        """Senders ``src``'s topics and the handlers that take their batches and their periods whole (see
        ``_routed``). A fleet's batches share one list of senders until one is cut."""
        if src is self._routed[0]:
            return self._routed
        whole = self._whole
        if whole is not None and whole[0] == self._topic_of and all(s in whole[1] for s in src):
            self._routed = (src, [whole[1][s] for s in src], whole[2], whole[3])
        else:
            topics = [self._topic_of(s) for s in src]
            handlers = self._subs.handlers(topics[0])
            found = [self._batch_handlers.get(h) for h in handlers]
            takers = [t for t in found if t is not None]
            if len(takers) < len(found) or any(self._subs.handlers(tp) != handlers for tp in topics):
                self._routed = (src, topics, None, None)
            else:
                periods = [t[1] for t in takers if t[1] is not None]
                self._routed = (src, topics, [t[0] for t in takers], periods if len(periods) == len(takers) else None)
                self._whole = (self._topic_of, dict(zip(src, topics, strict=True)), self._routed[2], self._routed[3])
        return self._routed
