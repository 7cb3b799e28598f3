"""Link models decide, when a message is sent, when it arrives in simulation time (or that it is lost)."""

from __future__ import annotations

from typing import Protocol


class LinkModel(Protocol):
    name: str

    def uplink(self, truck: str, t_sent: float, size_bytes: int, qos: int) -> float | None:
        """Delivery time [s] of a truck -> cloud message, or None if it is lost."""
        ...

    def downlink(self, truck: str, t_sent: float, size_bytes: int, qos: int) -> float | None:
        """Delivery time [s] of a cloud -> truck message, or None if it is lost."""
        ...


class IdealLink:
    """No delay, no loss: isolates dispatch and haul effects from radio effects."""

    name = "ideal"

    def uplink(self, truck: str, t_sent: float, size_bytes: int, qos: int) -> float | None:
        return t_sent

    def uplink_all(self, t_sent: float) -> float:
        """Delivery time of a message every truck sends at ``t_sent``: the same for all, none lost."""
        return t_sent

    def downlink(self, truck: str, t_sent: float, size_bytes: int, qos: int) -> float | None:
        return t_sent
