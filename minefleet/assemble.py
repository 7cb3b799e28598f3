"""Wiring one run together from a scenario: map, road graph, routes, fleet, transport, link and cloud."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cloud.planners import make_planner
from cloud.service import CloudService
from fleet.comms import FleetComms
from fleet.engine import HaulParams, Simulation
from fleet.errors import InputError
from fleet.mapfile import MineMap, load_map
from fleet.roads import RoadNetwork, build_network
from fleet.routes import RouteTable
from fleet.truckclass import TruckClass
from minefleet.scenario import Scenario
from net.inproc import InProcRouter
from net.link import IdealLink
from net.topics import Topics

# Child generators per subsystem (design section 2): adding one never shifts another's stream.
SUBSYSTEMS = ("fleet", "hazards", "sensor", "link", "planner")


@dataclass
class Site:
    """What a map becomes once loaded and checked; shared by every run on that map."""

    mine: MineMap
    net: RoadNetwork
    routes: RouteTable


def load_site(map_path: str, classes: list[TruckClass]) -> Site:
    mine = load_map(map_path)
    net = build_network(mine)
    return Site(mine, net, RouteTable(mine, net, classes))


def rngs(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(SUBSYSTEMS))
    return {name: np.random.default_rng(s) for name, s in zip(SUBSYSTEMS, children, strict=True)}


@dataclass
class Run:
    scenario: Scenario
    site: Site
    sim: Simulation
    cloud: CloudService
    transport: InProcRouter


def build_run(scn: Scenario, site: Site | None = None) -> Run:
    classes = [scn.truck_class]
    site = site or load_site(str(scn.map_path), classes)
    mine = site.mine
    parks = [p.id for p in mine.parks]
    start = scn.start or (parks[0] if parks else mine.shovels[0].id)
    if start not in mine.facility_ids():
        raise InputError(scn.path, "fleet.start", f"no park or facility {start!r} on map {mine.path}")
    transport = InProcRouter()
    topics = Topics(mine.site)
    cloud = CloudService(transport, topics, make_planner(scn.planner))
    ids = [f"T{i + 1:03d}" for i in range(scn.truck_count)]
    comms = FleetComms(transport, topics, IdealLink(), ids)
    params = HaulParams(dt=scn.dt_s, cycle_cv=scn.cycle_cv, dump_cv=scn.dump_cv,
                        release_interval_s=scn.release_interval_s, order_timeout_s=scn.order_timeout_s,
                        telemetry_period_s=scn.telemetry_period_s, traffic=scn.traffic)
    sim = Simulation(mine, site.net, site.routes, classes, [0] * len(ids), start, transport, comms,
                     rngs(scn.seed)["fleet"], params)
    return Run(scn, site, sim, cloud, transport)
