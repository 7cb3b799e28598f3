"""Link KPIs gathered while a run sends messages: latency percentiles, loss, handovers, outage time."""

from __future__ import annotations

from typing import Any

from metrics.quantiles import Quantiles

DIRECTIONS = ("uplink", "downlink")
# [s] a handover back to the cell a truck left less than this long ago counts as a ping-pong. Assumption: a
# wider window than the 1 s minimum time of stay of 3GPP TR 36.839, so that slow back-and-forth counts too.
PING_PONG_S = 5.0


class LinkStats:
    """Counters and latency samples per direction; ``summary()`` turns them into the KPI dict of a run."""

    def __init__(self, trucks: int = 0) -> None:
        self.trucks = trucks  # for the per-truck-hour rates
        self.latency = {d: Quantiles() for d in DIRECTIONS}  # [s] per delivered message (bounded)
        self.sent = dict.fromkeys(DIRECTIONS, 0)
        self.lost = dict.fromkeys(DIRECTIONS, 0)
        self.retransmissions = dict.fromkeys(DIRECTIONS, 0)  # QoS 1 resends after a time-out
        self.handovers = 0
        self.ping_pongs = 0  # handovers back to the previous cell within PING_PONG_S
        self.outage_truck_s = 0.0  # [truck-s] time trucks spent unable to hold the link
        self.t_first: float | None = None
        self.t_last: float | None = None

    def seen(self, t: float) -> None:
        """Extend the observed span of simulation time to include ``t`` [s]."""
        if self.t_first is None or t < self.t_first:
            self.t_first = t
        if self.t_last is None or t > self.t_last:
            self.t_last = t

    def summary(self) -> dict[str, Any]:
        span = (self.t_last - self.t_first) if self.t_first is not None and self.t_last is not None else 0.0
        out: dict[str, Any] = {}
        for d in DIRECTIONS:
            lat = self.latency[d]
            out[f"{d}_latency_p50_ms"] = round(lat.percentile(50) * 1e3, 3) if lat.count else None
            out[f"{d}_latency_p99_ms"] = round(lat.percentile(99) * 1e3, 3) if lat.count else None
            out[f"{d}_sent"] = self.sent[d]
            out[f"{d}_lost"] = self.lost[d]
            out[f"{d}_loss_rate"] = round(self.lost[d] / self.sent[d], 6) if self.sent[d] else 0.0
            out[f"{d}_retransmissions"] = self.retransmissions[d]
        out["handovers"] = self.handovers
        truck_h = self.trucks * span / 3600.0
        out["handovers_per_truck_h"] = round(self.handovers / truck_h, 3) if truck_h > 0 else None
        out["ping_pongs"] = self.ping_pongs
        out["outage_truck_s"] = round(self.outage_truck_s, 3)
        total = self.sent["uplink"] + self.sent["downlink"]
        out["messages_per_s"] = round(total / span, 3) if span > 0 else None
        return out
