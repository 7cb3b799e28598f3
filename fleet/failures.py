"""Equipment failures and scheduled events: what goes out of service, when, and for how long.

Random breakdowns are an alternating renewal process per machine: time to the next failure is exponential with
mean MTBF, counted from the end of the last repair; the repair is exponential with mean MTTR, counted from when
the machine really stops. So a truck's long-run availability is MTBF / (MTBF + MTTR). Draws come from the run's
own ``failures`` random stream, so switching breakdowns on shifts no other stream. Scheduled events (a shovel
down for maintenance from t1 to t2, a road closed) are data. The engine reacts to both (``fleet.engine``); the
cloud hears of them only through the equipment topic, the trucks' events and the republished layout.
See docs/architecture.md, "Failures and events".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EVENT_KINDS = ("down", "road_closed")


@dataclass(frozen=True)
class FailureParams:
    """The ``[failures]`` table. Truck MTBF/MTTR come from each truck class, a shovel's from the map or here."""

    trucks: bool = False  # random truck breakdowns (needs mtbf_h and mttr_h in every truck class of the run)
    shovels: bool = False  # random shovel breakdowns
    shovel_mtbf_h: float = 60.0  # [h] default for shovels without their own (assumption, see the README)
    shovel_mttr_h: float = 2.0  # [h] (assumption)
    block_s: float = 1800.0  # [s] a truck broken down on a road blocks its lane this long, then stands aside


@dataclass(frozen=True)
class ScheduledEvent:
    """One ``[[events]]`` entry: ``target`` (a shovel, loading area, dump or crusher; or a road) out of service
    from ``start_s`` to ``end_s``."""

    kind: str  # down | road_closed
    target: str
    start_s: float
    end_s: float
    reason: str = "maintenance"


def closure_sets(events: tuple[ScheduledEvent, ...]) -> tuple[frozenset[str], ...]:
    """Every set of roads closed together at some moment, in time order (the route table plans each)."""
    edges = sorted({t for e in events if e.kind == "road_closed" for t in (e.start_s, e.end_s)})
    out: list[frozenset[str]] = []
    for t in edges:
        closed = frozenset(e.target for e in events if e.kind == "road_closed" and e.start_s <= t < e.end_s)
        if closed and closed not in out:
            out.append(closed)
    return tuple(out)


class FailureClock:
    """Seeded times to failure and to repair [s], one stream for the whole run."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def time_to_failure(self, mtbf_h: float) -> float:
        return float(self.rng.exponential(mtbf_h * 3600.0))

    def time_to_repair(self, mttr_h: float) -> float:
        return float(self.rng.exponential(mttr_h * 3600.0))
