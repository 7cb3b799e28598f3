"""Wiring one run together from a scenario: map, road graph, routes, fleet, transport, link and cloud."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from cloud.planners import PlannerSpec
from cloud.service import CloudService
from edge.accel import BackgroundTask, shipped_tasks
from edge.accel import load_profile as load_device
from edge.chip import ChipTimeline
from edge.contract import ModelError, SensorSpec
from edge.perception import BUILTIN, make_perception
from edge.safety import SafetyParams
from edge.sensor import Weather
from fleet.comms import FleetComms
from fleet.engine import HaulParams, Simulation
from fleet.errors import InputError
from fleet.failures import NETWORK_KINDS, ScheduledEvent, closure_sets
from fleet.hazards import HazardField
from fleet.loading import LoadingPolicy, loadable
from fleet.mapfile import GNodeB, MineMap, load_map
from fleet.onboard import EdgeConfig, ModelSlot, Onboard
from fleet.roads import RoadNetwork, build_network
from fleet.routes import RouteTable
from fleet.truckclass import TruckClass
from minefleet.paths import data_dir
from minefleet.scenario import SPREAD, Scenario
from minefleet.wiring import Wiring
from minefleet.wiring import inproc as wire_inproc
from minefleet.wiring import mqtt as wire_mqtt
from net.auth import SiteKey
from net.link import IdealLink, LinkModel
from net.radio.link import FiveGLink
from net.radio.profile import load_profile
from net.sync import PEER_TIMEOUT_S

# Child generators per subsystem (docs/architecture.md, "Time"): adding one never shifts another's stream.
SUBSYSTEMS = ("fleet", "hazards", "sensor", "link", "planner", "chip", "failures")
PHASE_CLASSES = 4  # emulated chips per group of alike trucks, each with its sensors at other phases


@dataclass
class Site:
    """What a map becomes once loaded and checked; shared by every run on that map."""

    mine: MineMap
    net: RoadNetwork
    routes: RouteTable


def load_site(map_path: str, classes: list[TruckClass], closures: tuple[frozenset[str], ...] = ()) -> Site:
    mine = load_map(map_path)
    net = build_network(mine)
    return Site(mine, net, RouteTable(mine, net, classes, closures))


def check_against_map(scn: Scenario, mine: MineMap) -> None:
    """What the scenario names on the map exists, and every class of the fleet can be loaded at every shovel;
    checked before anything runs, named by file and key."""
    facilities = set(mine.facility_ids())
    for k, g in enumerate(scn.groups):
        if g.start not in (None, SPREAD) and g.start not in facilities:
            raise InputError(scn.path, f"fleet.groups[{k}].start", f"no facility {g.start!r} on map {mine.path}")
    if scn.start not in (None, SPREAD) and scn.start not in facilities:
        raise InputError(scn.path, "fleet.start", f"no park or facility {scn.start!r} on map {mine.path}")
    units = {s.id for s in mine.shovels}
    roads = {r.id for r in mine.roads}
    for k, ev in enumerate(scn.events):
        if ev.kind in NETWORK_KINDS:
            check_network_event(scn, mine, k, ev)
            continue
        known = roads if ev.kind == "road_closed" else (units | facilities) - {p.id for p in mine.parks}
        if ev.target not in known:
            what = "road" if ev.kind == "road_closed" else "shovel, loading area, dump or crusher"
            raise InputError(scn.path, f"events[{k}].target", f"map {mine.path} has no {what} {ev.target!r}")
    policy = LoadingPolicy()
    for s in mine.shovels:
        for tc in scn.classes():
            if not loadable(tc.payload_t, s.pass_t, policy):
                raise InputError(mine.path, f"shovel {s.id}",
                                 f"one {s.pass_t:g} t pass overloads a {tc.id} truck (rated {tc.payload_t:g} t) "
                                 f"beyond {1 + policy.hard_over:.0%}: no truck of that class can load here")


def truck_starts(scn: Scenario, mine: MineMap) -> list[str]:
    """The facility each truck starts at: its group's start, else the fleet's, else the first park (or the
    first load point). ``spread`` puts trucks at the load points in turn, queued there at shift start."""
    parks = [p.id for p in mine.parks]
    points = [p.id for p in mine.load_points()]
    default = scn.start or (parks[0] if parks else points[0])
    starts, turn = [], 0
    for g in scn.groups:
        for _ in range(g.count):
            start = g.start or default
            if start == SPREAD:
                start = points[turn % len(points)]
                turn += 1
            starts.append(start)
    return starts


def rngs(seed: int) -> dict[str, np.random.Generator]:
    children = np.random.SeedSequence(seed).spawn(len(SUBSYSTEMS))
    return {name: np.random.default_rng(s) for name, s in zip(SUBSYSTEMS, children, strict=True)}


@dataclass
class Run:
    scenario: Scenario
    site: Site
    sim: Simulation
    wiring: Wiring
    link: LinkModel

    @property
    def cloud(self) -> CloudService | None:
        return self.wiring.cloud

    def close(self) -> None:
        self.wiring.close(self.sim.t)


def sites_on_air(scn: Scenario, mine: MineMap) -> list[GNodeB]:
    """The map's gNBs less those the scenario switches off (``[link] sites_off``, a site-failure experiment).

    A name the map does not have, switching every site off, or switching sites off on the ideal link (which has
    none) is the user's error, named by file and key: a typo must not run the mine with all its sites.
    """
    if not scn.sites_off:
        return list(mine.gnbs)
    if scn.link_profile == "ideal":
        raise InputError(scn.path, "link.sites_off", "the ideal link has no sites to switch off; "
                                                     "choose a radio profile (5g-urllc, 5g-embb, lte)")
    known = [g.id for g in mine.gnbs]
    for off in scn.sites_off:
        if off not in known:
            raise InputError(scn.path, "link.sites_off",
                             f"map {mine.path} has no gNB {off!r} (its sites: {', '.join(known) or 'none'})")
    on_air = [g for g in mine.gnbs if g.id not in scn.sites_off]
    if not on_air:
        raise InputError(scn.path, "link.sites_off", f"switches off every gNB of map {mine.path}")
    return on_air


def check_network_event(scn: Scenario, mine: MineMap, k: int, ev: ScheduledEvent) -> None:
    """A ``gnb_off`` event names a gNB of the map that is on the air in this run's radio (the ideal link has
    none); a cloud outage needs nothing of the map (its target was checked on reading)."""
    if ev.kind != "gnb_off":
        return
    key = f"events[{k}].target"
    if scn.link_profile == "ideal":
        raise InputError(scn.path, key, "the ideal link has no gNB to switch off; "
                                        "choose a radio profile in [link] (5g-urllc, 5g-embb, lte)")
    known = [g.id for g in mine.gnbs]
    if ev.target not in known:
        raise InputError(scn.path, key, f"map {mine.path} has no gNB {ev.target!r} "
                                        f"(its sites: {', '.join(known) or 'none'})")
    if ev.target in scn.sites_off:
        raise InputError(scn.path, key, f"gNB {ev.target!r} is off for the whole shift (link.sites_off)")


def make_link(scn: Scenario, mine: MineMap, ids: list[str], rng: np.random.Generator) -> LinkModel:
    """The radio between trucks and cloud: ideal, or a 5G/LTE profile over the map's gNBs and walls."""
    gnbs = sites_on_air(scn, mine)
    if scn.link_profile == "ideal":
        return IdealLink()
    if not gnbs:
        raise InputError(scn.path, "link.profile", f"{scn.link_profile!r} needs gNB sites, map {mine.path} has none")
    return FiveGLink([(g.id, *g.xyz, g.height_m, g.tx_power_dbm, g.band) for g in gnbs],
                     [(a.polygon, a.elevation_m) for a in mine.areas if a.kind == "wall"],
                     load_profile(scn.link_profile), rng, ids,
                     [(a.polygon, a.elevation_m) for a in mine.areas if a.kind in ("pit", "bench")])


def build_run(scn: Scenario, site: Site | None = None, transport: str = "inproc", broker: str | None = None,
              cloud_in_process: bool = True, prefix: str | None = None, ca_certs: str | None = None,
              key: SiteKey | None = None, peer_timeout_s: float = PEER_TIMEOUT_S) -> Run:
    """Everything one run needs; ``transport`` is ``inproc`` or ``mqtt`` (embedded broker unless ``broker``).
    ``key``: the site key orders are signed with; None makes one for the run (a cloud elsewhere needs it given)."""
    classes = scn.classes()
    site = site or load_site(str(scn.map_path), classes, closure_sets(scn.events))
    mine = site.mine
    check_against_map(scn, mine)
    starts = truck_starts(scn, mine)
    class_index = [next(c for c, tc in enumerate(classes) if tc.id == g.truck_class.id)
                   for g in scn.groups for _ in range(g.count)]
    streams = rngs(scn.seed)
    ids = [f"T{i + 1:03d}" for i in range(scn.truck_count)]
    link = make_link(scn, mine, ids, streams["link"])
    spec = PlannerSpec(scn.planner, scn.planner_options, int(streams["planner"].integers(2**63)))
    if transport == "mqtt":
        wiring = wire_mqtt(mine.site, spec, broker, cloud_in_process, prefix, ca_certs, key, peer_timeout_s)
    else:
        wiring = wire_inproc(mine.site, spec, key)
    comms = FleetComms(wiring.transport, wiring.topics, link, ids, wiring.key)
    params = HaulParams(dt=scn.dt_s, cycle_cv=scn.cycle_cv, dump_cv=scn.dump_cv, payload_cv=scn.payload_cv,
                        release_interval_s=scn.release_interval_s, order_timeout_s=scn.order_timeout_s,
                        telemetry_period_s=scn.telemetry_period_s, traffic=scn.traffic,
                        link_timeout_s=scn.link_timeout_s, failures=scn.failures)
    try:
        sim = Simulation(mine, site.net, site.routes, classes, class_index, starts, wiring.transport, comms,
                         streams["fleet"], params, scn.events, streams["failures"], {"planner": spec.body()})
        if scn.edge is not None:
            attach_edge(sim, scn, streams)
    except BaseException:
        wiring.close()
        raise
    return Run(scn, site, sim, wiring, link)


def attach_edge(sim: Simulation, scn: Scenario, streams: dict[str, np.random.Generator]) -> None:
    """Hazards on the roads and a perception + safety stack on every truck."""
    e = scn.edge
    spec = SensorSpec()
    weather = Weather(dust=e.dust, rain=e.rain)
    refs = [e.model] * sim.fleet.n
    index = {tid: i for i, tid in enumerate(sim.fleet.ids)}
    for ids, model in e.truck_models:
        for tid in ids:
            if tid not in index:
                raise InputError(scn.path, "[[edge.trucks]]", f"no truck {tid!r} (trucks are T001..T{sim.fleet.n:03d})")
            refs[index[tid]] = model
    models_dir = data_dir("assets") / "models"

    background = _background(scn, streams["chip"])
    jitter_seed = int(streams["chip"].integers(2**63))

    def make_slot(ref: str) -> ModelSlot:
        runtime = make_perception(ref, spec, models_dir)
        if ref in BUILTIN:
            return ModelSlot(ref=ref, runtime=runtime, latency_s=0.0, detect_range_m=spec.max_range_m,
                             exact_path=ref == "oracle", timing="none")
        reach = e.detect_range_m or runtime.info.detect_range_m(e.dust)
        if reach is None:
            raise ModelError(runtime.info.path, "carries no held-out detection range (card metadata); "
                                                "set [edge] detect_range_m in the scenario")
        chip = None
        timing = "placeholder" if e.device == "none" else e.timing
        if e.device != "none":
            chip = ChipTimeline(load_device(e.device), Path(runtime.info.path), background,
                                deadline_s=e.deadline_ms / 1000.0, on_miss=e.on_miss, policy=e.policy,
                                streams=e.streams, chips=min(PHASE_CLASSES, sim.fleet.n),
                                rng=np.random.default_rng([jitter_seed, zlib.crc32(ref.encode())]))
        return ModelSlot(ref=ref, runtime=runtime, latency_s=e.latency_ms / 1000.0, detect_range_m=reach,
                         chip=chip, timing=timing)

    slots: list[ModelSlot] = []
    by_ref: dict[str, int] = {}
    for ref in refs:
        if ref not in by_ref:
            by_ref[ref] = len(slots)
            slots.append(make_slot(ref))
    cfg = EdgeConfig(spec=spec, frame_hz=e.frame_hz, weather=weather,
                     safety=SafetyParams(t_sense_s=e.t_sense_ms / 1000, t_actuation_s=e.t_actuation_ms / 1000,
                                         margin_m=e.margin_m, budget_s=e.budget_ms / 1000))
    hazards = HazardField(sim.mine, sim.net, streams["hazards"], e.hazard_rate_scale,
                          float(sim.ct.width.max()) / 2)
    hazards.keep_clear = sim.within_reach
    hazards.start(sim.queue, 0.0)
    sim.hazards = hazards
    sim.onboard = Onboard(sim, hazards, cfg, slots, np.array([by_ref[r] for r in refs]), streams["sensor"],
                          make_slot=make_slot)


def _background(scn: Scenario, rng: np.random.Generator) -> list[BackgroundTask]:
    """The scenario's timing-only background detectors, each at a seeded phase and clock drift against the
    range sensor's frames (a name listed twice is two sensors, e.g. two cameras)."""
    shipped = {t.name: t for t in shipped_tasks(data_dir("assets") / "background")}
    tasks = []
    for name in scn.edge.background:
        if name not in shipped:
            raise InputError(scn.path, "[edge] background", f"unknown task {name!r} (shipped: "
                                                            f"{', '.join(sorted(shipped))})")
        task = shipped[name]
        seen = sum(t.name.split(" #")[0] == name for t in tasks)
        task = replace(task, name=f"{name} #{seen + 1}") if seen else task
        tasks.append(replace(task, on_miss=scn.edge.background_on_miss,
                             phase_s=float(rng.uniform(0.0, 1.0 / task.rate_hz)),
                             drift_ppm=float(rng.uniform(-task.clock_ppm, task.clock_ppm))))
    return tasks
