"""MQTT topic names (docs/architecture.md, "Messages") and topic-filter matching with ``+`` and ``#``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Topics:
    """Topic names of one site; ``prefix`` keeps parallel runs on one broker apart."""

    site: str
    prefix: str = ""

    @property
    def root(self) -> str:
        return f"{self.prefix}mine/{self.site}"

    def telemetry(self, truck: str) -> str:
        return f"{self.root}/truck/{truck}/telemetry"

    def event(self, truck: str) -> str:
        return f"{self.root}/truck/{truck}/event"

    def perception(self, truck: str) -> str:
        return f"{self.root}/truck/{truck}/perception"

    def dispatch(self, truck: str) -> str:
        return f"{self.root}/dispatch/{truck}"

    @property
    def estop(self) -> str:
        return f"{self.root}/fleet/estop"

    @property
    def cloud_status(self) -> str:
        return f"{self.root}/cloud/status"

    @property
    def layout(self) -> str:
        """Retained site layout (facilities and routes) that the cloud plans on."""
        return f"{self.root}/site/layout"

    @property
    def equipment(self) -> str:
        """Shovels, bays and roads going out of service and back (QoS 1), from the site's own systems."""
        return f"{self.root}/site/equipment"


@lru_cache(maxsize=4096)
def matches(topic_filter: str, topic: str) -> bool:
    """MQTT 3.1.1 section 4.7 filter semantics: ``+`` one level, ``#`` the rest (including none)."""
    f_parts = topic_filter.split("/")
    t_parts = topic.split("/")
    for i, part in enumerate(f_parts):
        if part == "#":
            return i == len(f_parts) - 1
        if i >= len(t_parts):
            return False
        if part != "+" and part != t_parts[i]:
            return False
    return len(f_parts) == len(t_parts)
