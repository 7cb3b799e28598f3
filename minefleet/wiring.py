"""How the fleet's messages travel: the in-process router, or MQTT through a broker (embedded or external).

Over MQTT the fleet leads a time barrier and the cloud follows (``net.sync``), so results match the
in-process run exactly. The cloud runs in a thread of this process, or as its own process
(``minefleet cloud``) when ``cloud_in_process`` is false.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from cloud.planners import PlannerSpec, make_planner
from cloud.service import CloudService
from net.auth import SiteKey
from net.broker import EmbeddedBroker
from net.inproc import InProcRouter
from net.mqtt import MqttTransport
from net.sync import Leader, serve_follower
from net.topics import Topics

CLOUD_ID = "cloud"


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
         prefix: str | None = None, ca_certs: str | None = None, key: SiteKey | None = None) -> Wiring:
    """Fleet over MQTT; an embedded broker when ``broker_url`` is None. ``ca_certs``: PEM file of the CA of an
    ``mqtts://`` broker (None: the system's CAs). ``key``: the site key; None generates one for the run when
    the cloud is in this process, and is refused otherwise (the cloud elsewhere must hold the same key)."""
    if key is None:
        if not cloud_in_process:
            raise ValueError("a fleet whose cloud runs elsewhere needs the site key the cloud signs orders with")
        key = SiteKey.generate()
    closers = []
    if broker_url is None:
        broker = EmbeddedBroker().start()
        closers.append(broker.stop)
        broker_url = broker.url
    # A per-run prefix keeps parallel runs on one broker apart; it never reaches a result.
    prefix = f"mf-{uuid.uuid4().hex[:8]}/" if prefix is None else prefix
    topics = Topics(site, prefix=prefix)
    wiring = Wiring(None, topics, None, "mqtt", broker_url, key=key, _closers=closers)
    try:
        if cloud_in_process:
            cloud_tr = MqttTransport(broker_url, f"{prefix}cloud", inbox=True, ca_certs=ca_certs)
            closers.append(cloud_tr.close)
            wiring.cloud = CloudService(cloud_tr, topics, make_planner(planner), key)

            def serve() -> None:
                try:
                    serve_follower(cloud_tr, topics, CLOUD_ID, quiet=[topics.telemetry("+")])
                except BaseException as exc:  # reported to the fleet's thread by Wiring.close
                    wiring._errors.append(exc)

            wiring._thread = threading.Thread(target=serve, name="minefleet-cloud", daemon=True)
            wiring._thread.start()
        fleet_tr = MqttTransport(broker_url, f"{prefix}fleet", ca_certs=ca_certs)
        closers.append(fleet_tr.close)
        leader = Leader(fleet_tr, topics)
        leader.wait_for([CLOUD_ID])
        wiring.transport = leader
    except BaseException:
        for close in reversed(closers):
            close()
        raise
    return wiring


def serve_cloud(broker_url: str, site: str, planner: str | None, key: SiteKey, prefix: str = "",
                ca_certs: str | None = None) -> CloudService:
    """Run the cloud tier as its own process until the fleet's run ends (``minefleet cloud``). ``planner``
    None plans as the site's layout asks (the scenario's planner, options and seed). ``key``: the site key the
    fleet checks orders with."""
    topics = Topics(site, prefix=prefix)
    transport = MqttTransport(broker_url, f"{prefix}cloud-{uuid.uuid4().hex[:6]}", inbox=True, ca_certs=ca_certs)
    try:
        cloud = CloudService(transport, topics, make_planner(planner) if planner is not None else None, key)
        serve_follower(transport, topics, CLOUD_ID, quiet=[topics.telemetry("+")], idle_timeout_s=3600.0)
        return cloud
    finally:
        transport.close()
