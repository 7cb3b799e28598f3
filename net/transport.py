"""The interface every transport offers, so the fleet and the cloud never know which one carries them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from net.envelope import Envelope
from net.topics import matches

Handler = Callable[[str, Envelope], None]


class Transport(Protocol):
    """Publish/subscribe with MQTT semantics, released in simulation time.

    A message is handed to subscribers when the simulation reaches its ``t_deliver``, in
    ``(t_deliver, src, seq)`` order, which makes every transport deterministic.
    """

    def publish(self, topic: str, env: Envelope, qos: int = 0, retain: bool = False) -> None: ...

    def subscribe(self, topic_filter: str, handler: Handler, qos: int = 1) -> None:
        """Hand messages matching ``topic_filter`` to ``handler``. ``qos``: the most a broker is asked to deliver
        them with; 0 for topics published at QoS 0 alone (telemetry), so that a broker that delivers at the
        subscription's QoS (amqtt) neither asks nor waits for an acknowledgement of each."""
        ...

    def next_due(self) -> float | None:
        """Simulation time of the earliest undelivered message, or None."""
        ...

    def deliver_next(self) -> None:
        """Hand the earliest undelivered message to its subscribers."""
        ...


class Subscriptions:
    """Topic filters and their handlers, with a per-topic cache: every transport routes messages the same way."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, Handler]] = []
        self._cache: dict[str, list[Handler]] = {}

    def add(self, topic_filter: str, handler: Handler) -> None:
        self.entries.append((topic_filter, handler))
        self._cache.clear()

    @property
    def filters(self) -> list[str]:
        return [f for f, _ in self.entries]

    def handlers(self, topic: str) -> list[Handler]:
        """Handlers whose filter matches ``topic``, in subscription order."""
        found = self._cache.get(topic)
        if found is None:
            found = self._cache[topic] = [h for f, h in self.entries if matches(f, topic)]
        return found
