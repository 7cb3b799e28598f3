"""Equipment failures and scheduled events: what goes out of service, when, and for how long.

Random breakdowns are an alternating renewal process per machine: time to the next failure is exponential with
mean MTBF, counted from the end of the last repair; the repair is exponential with mean MTTR, counted from when
the machine really stops. So a truck's long-run availability is MTBF / (MTBF + MTTR). Draws come from the run's
own ``failures`` random stream, so switching breakdowns on shifts no other stream. Scheduled events (a shovel
down for maintenance from t1 to t2, a road closed) are data. The engine reacts to both (``fleet.engine``); the
cloud hears of them only through the equipment topic, the trucks' events and the republished layout.
Network faults are events too: a gNB off the air (the radio link masks it, ``net.radio.link``) and a cloud
outage (``CloudOutage``: the backhaul beyond the radio carries nothing, decided on the fleet's side of every
transport, so a cloud in another process needs to know nothing of it).
See docs/architecture.md, "Failures and events".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

EVENT_KINDS = ("down", "road_closed", "gnb_off", "cloud_outage")
NETWORK_KINDS = ("gnb_off", "cloud_outage")  # events of the network, not of the mine's equipment
CLOUD = "cloud"  # the one target a cloud outage may name (and the target it gets when it names none)


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
    """One ``[[events]]`` entry: ``target`` (a shovel, loading area, dump or crusher; a road; a gNB of the map;
    or the cloud) out of service from ``start_s`` to ``end_s``."""

    kind: str  # down | road_closed | gnb_off | cloud_outage
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


class CloudOutage:
    """When the cloud is cut off from the site (``cloud_outage`` events), and what that cost in messages.

    The cut is in the backhaul beyond the radio, so it is judged where a message crosses it: an uplink message
    when the radio delivers it, an order or e-stop command when it leaves the cloud. A message crossing during an
    outage is lost (a truck's QoS 1 retries over the radio succeeded; the cloud behind it is gone) and counted
    here, apart from radio loss. The site's own messages (layout, equipment) go over the wired site network with
    QoS 1, so they wait and arrive when the outage ends: a cloud that came back without them would plan on a
    stale mine.
    """

    def __init__(self, events: tuple[ScheduledEvent, ...] = ()) -> None:
        self.windows = _merged([(e.start_s, e.end_s) for e in events if e.kind == "cloud_outage"])
        self.lost = {"uplink": 0, "downlink": 0}  # truck messages, and the cloud's commands, lost to an outage
        self.held = 0  # site messages delivered late, when an outage ended

    def end_of(self, t: float) -> float | None:
        """End [s] of the outage in force at ``t`` (start inclusive, end exclusive), or None if the cloud is up."""
        for start, end in self.windows:
            if start <= t < end:
                return end
        return None

    def summary(self) -> dict[str, object]:
        return {"windows": len(self.windows), "uplink_lost": self.lost["uplink"],
                "downlink_lost": self.lost["downlink"], "site_messages_held": self.held}


def _merged(windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping or touching windows as one, in time order (an outage ends when the last one ends)."""
    out: list[tuple[float, float]] = []
    for start, end in sorted(windows):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def schedule_network_faults(sim: Any, events: tuple[ScheduledEvent, ...]) -> None:
    """Arm a simulation's network faults: its fleet messaging learns the cloud outages (it drops what crosses
    the backhaul then), and each outage's and each gNB's start and end are queued, to switch the site and to
    leave a line in the run's event log (``events.csv``)."""
    sim.comms.outage = outage = CloudOutage(events)
    for start, end in outage.windows:
        sim.queue.push(start, _note, sim, "cloud_down", CLOUD)
        sim.queue.push(end, _note, sim, "cloud_up", CLOUD)
    for ev in events:
        if ev.kind == "gnb_off":
            sim.queue.push(ev.start_s, _gnb, sim, ev.target, False)
            sim.queue.push(ev.end_s, _gnb, sim, ev.target, True)


def _gnb(sim: Any, site: str, on: bool) -> None:
    sim.comms.link.switch(site, on)
    _note(sim, "gnb_on" if on else "gnb_off", site)


def _note(sim: Any, event: str, what: str) -> None:
    sim.log.append((sim.t, "-", event, what, 0.0))
