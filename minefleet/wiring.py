"""How the fleet's messages travel: the in-process router, or MQTT through a broker (embedded or external).

Over MQTT the fleet leads a time barrier and the cloud follows (``net.sync``), so results match the
in-process run exactly. The cloud runs in a thread of this process, or as its own process
(``minefleet cloud``) when ``cloud_in_process`` is false.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloud.planners import PlannerSpec, make_planner
from cloud.service import CloudService
from net.auth import SiteKey
from net.broker import EmbeddedBroker
from net.follower import FollowerStats, serve_follower
from net.inproc import InProcRouter
from net.journal import Journal
from net.mqtt import MqttTransport
from net.sync import PEER_TIMEOUT_S, Leader, sim_topic
from net.topics import Topics

CLOUD_ID = "cloud"


def client_id(prefix: str, role: str) -> str:
    """A client id no other process uses: a broker drops the older of two clients with one id, so two runs on one
    prefix must not knock each other off (the prefix claim in net.sync refuses the second one instead)."""
    return f"{prefix}{role}-{uuid.uuid4().hex[:6]}"


@dataclass
class Wiring:
    """The fleet's transport, the cloud service (when in this process), the site key orders are signed with,
    and what to stop afterwards."""

    transport: Any
    topics: Topics
    cloud: CloudService | None
    kind: str  # inproc or mqtt
    broker_url: str = ""
    key: SiteKey | None = field(default=None, repr=False)
    _thread: threading.Thread | None = None
    _errors: list[BaseException] = field(default_factory=list)
    _closers: list[Any] = field(default_factory=list)

    def messaging_stats(self) -> dict[str, Any]:
        """Host-side facts of the messaging for timing.json: broker outages ridden out, followers that came back,
        signed kinds whose signature failed on receipt and control messages refused (none over the in-process
        router, which has no broker and no barrier)."""
        if not isinstance(self.transport, Leader):
            return {}
        leader = self.transport
        out = leader.transport.outage_summary()
        return {"broker_outages": out["outages"], "broker_outage_wall_s": out["outage_wall_s"],
                "broker_offline_drops": out["offline_drops"],
                "cloud_rejoins": leader.rejoins, "control_refused": dict(sorted(leader.refused.items())),
                "messages_unauthentic": leader.transport.unauthentic}

    def close(self, t: float | None = None) -> None:
        """End the run's messaging: stop the cloud follower, close clients, stop an embedded broker."""
        try:
            if isinstance(self.transport, Leader):
                self.transport.close(t)
            if self._thread is not None:
                self._thread.join(timeout=30.0)
        finally:
            for close in reversed(self._closers):
                close()
            self._closers.clear()
        if self._errors:
            raise self._errors[0]


def inproc(site: str, planner: PlannerSpec, key: SiteKey | None = None) -> Wiring:
    """Fleet and cloud on one router; ``key`` None: a fresh site key for this run, which both sides share."""
    router = InProcRouter()
    topics = Topics(site)
    key = key if key is not None else SiteKey.generate()
    return Wiring(router, topics, CloudService(router, topics, make_planner(planner), key), "inproc", key=key)


def mqtt(site: str, planner: PlannerSpec, broker_url: str | None, cloud_in_process: bool = True,
         prefix: str | None = None, ca_certs: str | None = None, key: SiteKey | None = None,
         peer_timeout_s: float = PEER_TIMEOUT_S) -> Wiring:
    """Fleet over MQTT; an embedded broker when ``broker_url`` is None. ``ca_certs``: PEM file of the CA of an
    ``mqtts://`` broker (None: the system's CAs). ``key``: the site key; None generates one for the run when
    the cloud is in this process, and is refused otherwise (the cloud elsewhere must hold the same key)."""
    if key is None:
        if not cloud_in_process:
            raise ValueError("a fleet whose cloud runs elsewhere needs the site key the cloud signs orders with")
        key = SiteKey.generate()
    closers = []
    fleet_url = cloud_url = broker_url
    if broker_url is None:
        broker = EmbeddedBroker().start()
        closers.append(broker.stop)
        broker_url, fleet_url, cloud_url = broker.url, broker.url_for("fleet"), broker.url_for("cloud")
    # A per-run prefix keeps parallel runs on one broker apart; it never reaches a result.
    prefix = f"mf-{uuid.uuid4().hex[:8]}/" if prefix is None else prefix
    topics = Topics(site, prefix=prefix)
    wiring = Wiring(None, topics, None, "mqtt", broker_url, key=key, _closers=closers)
    try:
        if cloud_in_process:
            cloud_tr = MqttTransport(cloud_url, client_id(prefix, "cloud"), inbox=True, ca_certs=ca_certs,
                                     will=(sim_topic(topics, f"hello/{CLOUD_ID}"), b""))
            closers.append(cloud_tr.close)
            wiring.cloud = CloudService(cloud_tr, topics, make_planner(planner), key)

            def serve() -> None:
                try:
                    serve_follower(cloud_tr, topics, CLOUD_ID, key, **wiring.cloud.follower_terms(),
                                   timeout_s=peer_timeout_s)
                except BaseException as exc:  # reported to the fleet's thread by Wiring.close
                    wiring._errors.append(exc)

            wiring._thread = threading.Thread(target=serve, name="minefleet-cloud", daemon=True)
            wiring._thread.start()
        fleet_tr = MqttTransport(fleet_url, client_id(prefix, "fleet"), ca_certs=ca_certs,
                                 will=(sim_topic(topics, "claim"), b""), frame_qos0=True)
        closers.append(fleet_tr.close)
        leader = Leader(fleet_tr, topics, key, timeout_s=peer_timeout_s)
        leader.claim()
        leader.wait_for([CLOUD_ID])
        wiring.transport = leader
    except BaseException:
        for close in reversed(closers):
            close()
        raise
    return wiring


def serve_cloud(broker_url: str, site: str, planner: str | None, key: SiteKey, prefix: str = "",
                ca_certs: str | None = None, journal: Path | None = None,
                peer_timeout_s: float = PEER_TIMEOUT_S) -> tuple[CloudService, FollowerStats]:
    """Run the cloud tier as its own process until the fleet's run ends (``minefleet cloud``). ``planner``
    None plans as the site's layout asks (the scenario's planner, options and seed). ``key``: the site key the
    fleet checks orders with. ``journal``: a file recording what the cloud was delivered; a cloud started again
    with the same file (after a crash or kill) rebuilds its state from it and rejoins the run where it was."""
    topics = Topics(site, prefix=prefix)
    book = Journal(journal, {"site": site, "prefix": prefix, "follower": CLOUD_ID}) if journal is not None else None
    transport = MqttTransport(broker_url, client_id(prefix, "cloud"), inbox=True, ca_certs=ca_certs,
                              will=(sim_topic(topics, f"hello/{CLOUD_ID}"), b""))
    try:
        cloud = CloudService(transport, topics, make_planner(planner) if planner is not None else None, key)
        stats = serve_follower(transport, topics, CLOUD_ID, key, **cloud.follower_terms(),
                               timeout_s=peer_timeout_s, idle_timeout_s=3600.0, journal=book)
        return cloud, stats
    finally:
        transport.close()
