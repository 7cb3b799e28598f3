"""Telemetry of many trucks as one columnar message, for transports inside one process.

Every truck reports every second; as one object per truck that was most of a dispatch-only run's cost. A
``TelemetryBatch`` carries the same messages as columns, sorted by sender, all delivered at one time. The
in-process router releases it in exactly the order the single messages would have had (``(t_deliver, src, seq)``,
cut where another message falls between two of its trucks), and hands it whole to subscribers that take batches
or one envelope at a time to those that do not, so nothing downstream can tell the difference. Over MQTT every
truck still publishes its own message. docs/architecture.md, "Messages".

A kernel call that moved the fleet through several telemetry periods (``fleet.telemetry``) hands them over as one
``TelemetryPeriods``: the same batches, one per period, in one object. The router releases it whole when no other
message falls between its first and its last (the usual case), else period by period as batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from net.envelope import Envelope


@dataclass(frozen=True)
class TelemetryBatch:
    """Telemetry messages sent at ``t_sent`` and delivered at ``t_deliver``, one per sender, sorted by sender."""

    t_sent: float
    t_deliver: float
    src: list[str]
    seq: list[int]
    x: np.ndarray  # [m]
    y: np.ndarray  # [m]
    v: np.ndarray  # [m/s]
    state: list[str]
    payload_t: np.ndarray  # [t]

    def __len__(self) -> int:
        return len(self.src)

    def key(self, k: int) -> tuple[float, str, int]:
        """The delivery order key of message ``k``, as the router orders single messages."""
        return self.t_deliver, self.src[k], self.seq[k]

    def part(self, a: int, b: int) -> TelemetryBatch:
        return TelemetryBatch(self.t_sent, self.t_deliver, self.src[a:b], self.seq[a:b], self.x[a:b], self.y[a:b],
                              self.v[a:b], self.state[a:b], self.payload_t[a:b])

    def envelopes(self) -> list[Envelope]:
        """The single messages, as a truck would have published them."""
        xs, ys, vs, loads = self.x.tolist(), self.y.tolist(), self.v.tolist(), self.payload_t.tolist()
        return [Envelope(kind="telemetry", src=src, seq=seq, t_sent=self.t_sent, t_deliver=self.t_deliver,
                         body={"x": xs[k], "y": ys[k], "v": vs[k], "state": self.state[k], "payload_t": loads[k]})
                for k, (src, seq) in enumerate(zip(self.src, self.seq, strict=True))]


@dataclass(frozen=True)
class TelemetryPeriods:
    """Consecutive periods' telemetry of the same senders, each delivered at its own time: period ``j`` is the
    batch ``period(j)``. Between two periods no truck changes state or payload (they come from one kernel call),
    so the periods share ``state`` and ``payload_t``; each sender's sequence number grows by one a period."""

    t_sent: list[float]
    t_deliver: list[float]  # non-decreasing
    src: list[str]
    seq0: np.ndarray  # each sender's sequence number in period 0 (int64)
    x: np.ndarray  # [m], shape (periods, senders)
    y: np.ndarray  # [m]
    v: np.ndarray  # [m/s]
    state: list[str]
    payload_t: np.ndarray  # [t]

    def __len__(self) -> int:
        """Messages: one per sender and period."""
        return len(self.t_sent) * len(self.src)

    @property
    def periods(self) -> int:
        return len(self.t_sent)

    def key(self, j: int, k: int) -> tuple[float, str, int]:
        """The delivery order key of sender ``k``'s message of period ``j``."""
        return self.t_deliver[j], self.src[k], int(self.seq0[k]) + j

    def period(self, j: int) -> TelemetryBatch:
        return TelemetryBatch(self.t_sent[j], self.t_deliver[j], self.src, (self.seq0 + j).tolist(), self.x[j],
                              self.y[j], self.v[j], self.state, self.payload_t)

    def from_period(self, j: int) -> TelemetryPeriods:
        """The periods from ``j`` on."""
        return TelemetryPeriods(self.t_sent[j:], self.t_deliver[j:], self.src, self.seq0 + j, self.x[j:], self.y[j:],
                                self.v[j:], self.state, self.payload_t)
