"""The interface every transport offers, so the fleet and the cloud never know which one carries them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from net.envelope import Envelope

Handler = Callable[[str, Envelope], None]


class Transport(Protocol):
    """Publish/subscribe with MQTT semantics, released in simulation time.

    A message is handed to subscribers when the simulation reaches its ``t_deliver``, in
    ``(t_deliver, src, seq)`` order, which makes every transport deterministic.
    """

    def publish(self, topic: str, env: Envelope, qos: int = 0, retain: bool = False) -> None: ...

    def subscribe(self, topic_filter: str, handler: Handler) -> None: ...

    def next_due(self) -> float | None:
        """Simulation time of the earliest undelivered message, or None."""
        ...

    def deliver_next(self) -> None:
        """Hand the earliest undelivered message to its subscribers."""
        ...
