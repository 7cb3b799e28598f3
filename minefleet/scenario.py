"""Scenario files (TOML): what to simulate. Every key is checked; unknown keys are refused by name."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from cloud.planners import PlannerConfigError, planner_options
from edge.accel.profile import DeviceError
from edge.accel.profile import load_profile as load_device
from edge.perception import BUILTIN
from edge.safety import SafetyParams
from fleet.engine import HaulParams
from fleet.errors import InputError
from fleet.failures import CLOUD, EVENT_KINDS, FailureParams, ScheduledEvent
from fleet.fields import Fields, read_toml
from fleet.kinematics import Traffic
from fleet.onboard import EdgeConfig
from fleet.truckclass import TRUCK_DIR, TruckClass, load_truck_class
from minefleet.paths import data_dir, resolve
from net.radio.profile import ProfileError, load_profile


@dataclass(frozen=True)
class EdgeSettings:
    """The ``[edge]`` and ``[hazards]`` tables: perception on every truck, and what it must see."""

    model: str = "small"  # zoo name, ONNX path, "oracle" or "blind"
    truck_models: tuple[tuple[tuple[str, ...], str], ...] = ()  # (truck ids, model) overrides
    frame_hz: float = EdgeConfig.frame_hz  # [Hz] range-sensor frames
    latency_ms: float = 30.0  # [ms] fixed inference latency of ONNX models when device = "none"
    # the safety controller's own defaults, in the scenario's units
    budget_ms: float = SafetyParams.budget_s * 1000.0  # [ms] oldest usable perception result
    t_sense_ms: float = SafetyParams.t_sense_s * 1000.0
    t_actuation_ms: float = SafetyParams.t_actuation_s * 1000.0
    margin_m: float = SafetyParams.margin_m
    detect_range_m: float | None = None  # override of the model card's range
    hazard_rate_scale: float = 1.0  # [hazards] rate_scale: x the map's base obstacle rates
    dust: float = 0.0  # [hazards] 0..1
    rain: float = 0.0  # [hazards] 0..1
    device: str = "none"  # emulated chip per truck (edge/devices/<name>.toml), "none" = placeholder latency
    timing: str = "emulated"  # emulated | measured (host wall time of the real inference)
    policy: str = "fifo"  # fifo | edf on the chip
    streams: int = 1
    deadline_ms: float = 100.0  # [ms] relative deadline of a perception job on the chip
    on_miss: str = "late"  # late (deliver, marked late) | drop
    background: tuple[str, ...] = ()  # timing-only background tasks on every chip (assets/background names)
    background_on_miss: str = "drop"  # drop | late: what a background frame predicted to miss its budget does


@dataclass(frozen=True)
class FleetGroup:
    """One ``[[fleet.groups]]`` entry (or the whole fleet, when ``[fleet]`` names one class)."""

    count: int
    truck_class: TruckClass
    class_ref: str  # as written: a shipped class id or a path
    start: str | None = None  # a facility id, "spread", or None for the fleet's default
    class_path: str | None = None  # the class file's absolute path, when it is not a shipped class


MAX_HOURS = 24.0 * 30  # [h] the longest shift a scenario or --hours may ask for (a month)
MAX_SEED = 2**63 - 1  # the largest seed: a TOML integer is 64-bit, and the run directory's scenario.toml holds it
SPREAD = "spread"  # start queued at the load points, spread over them in turn


@dataclass(frozen=True)
class Scenario:
    path: str
    name: str
    map: str  # as written in the file
    map_path: Path  # resolved
    seed: int
    hours: float
    dt_s: float
    groups: tuple[FleetGroup, ...]
    start: str | None
    release_interval_s: float
    order_timeout_s: float
    cycle_cv: float
    dump_cv: float
    traffic: Traffic
    link_profile: str
    telemetry_period_s: float
    link_timeout_s: float
    planner: str
    trace_period_s: float
    edge: EdgeSettings | None = None
    sites_off: tuple[str, ...] = ()  # gNBs of the map switched off (a site-failure experiment)
    payload_cv: float = HaulParams.payload_cv
    failures: FailureParams = field(default_factory=FailureParams)
    events: tuple[ScheduledEvent, ...] = ()
    planner_options: dict[str, Any] = field(default_factory=dict)  # [cloud.planner] keyword options

    @property
    def truck_count(self) -> int:
        return sum(g.count for g in self.groups)

    def classes(self) -> list[TruckClass]:
        """The run's truck classes, one per distinct class id, in group order (class index = position)."""
        out: dict[str, TruckClass] = {}
        for g in self.groups:
            out.setdefault(g.truck_class.id, g.truck_class)
        return list(out.values())

    def resized(self, count: int) -> Scenario:
        """The same scenario with ``count`` trucks (a fleet of one class only)."""
        if len(self.groups) != 1:
            raise InputError(self.path, "[[fleet.groups]]", "resizing needs a fleet of one group")
        return replace(self, groups=(replace(self.groups[0], count=count),))

    def with_overrides(self, hours: float | None = None, seed: int | None = None,
                       model: str | None = None, device: str | None = None, link: str | None = None,
                       planner: str | None = None) -> Scenario:
        out = self
        if planner is not None:  # the scenario's options go with its own planner only
            name, opts = checked_planner(planner, self.planner_options if planner == self.planner else {},
                                         self.path, "--planner")
            out = replace(out, planner=name, planner_options=opts)
        if link is not None:
            out = replace(out, link_profile=_usable(link, "ideal", load_profile, ProfileError,
                                                    lambda msg: InputError(self.path, "--link", msg)))
        if model is not None or device is not None:
            base = self.edge or _edge(Fields({}, self.path, "[edge]"), Fields({}, self.path, "[hazards]"))
            if model is not None:
                base = replace(base, model=_model(model, lambda msg: InputError(self.path, "--model", msg)),
                               truck_models=())
            if device is not None:
                base = replace(base, device=_usable(device, "none", load_device, DeviceError,
                                                    lambda msg: InputError(self.path, "--device", msg)))
            out = replace(out, edge=base)
        if hours is not None:
            if not (math.isfinite(hours) and 0 < hours <= MAX_HOURS):  # the same range as [scenario] hours
                raise InputError(self.path, "--hours", f"must be > 0 and at most {MAX_HOURS:g} h, got {hours:g}")
            out = replace(out, hours=hours)
        if seed is not None:
            if not 0 <= seed <= MAX_SEED:  # the same range as [scenario] seed
                raise InputError(self.path, "--seed", f"must be >= 0 and at most {MAX_SEED}, got {seed}")
            out = replace(out, seed=seed)
        return out

    def resolved(self) -> dict[str, Any]:
        """The scenario as run, every default filled in, for the run directory's ``scenario.toml``."""
        return {
            "scenario": {"name": self.name, "map": self.map, "map_file": str(self.map_path.resolve()),
                         "seed": self.seed, "hours": self.hours, "dt_s": self.dt_s},
            "fleet": {**({"start": self.start} if self.start else {}),
                      "release_interval_s": self.release_interval_s, "order_timeout_s": self.order_timeout_s,
                      "groups": [{"count": g.count, "truck_class": g.class_path or g.class_ref,
                                  **({"start": g.start} if g.start else {})} for g in self.groups]},
            "haul": {"cycle_cv": self.cycle_cv, "dump_cv": self.dump_cv, "payload_cv": self.payload_cv},
            "failures": asdict(self.failures),
            **({"events": [{"kind": e.kind, "target": e.target, "start_h": e.start_s / 3600.0,
                            "end_h": e.end_s / 3600.0, "reason": e.reason} for e in self.events]}
               if self.events else {}),
            "traffic": asdict(self.traffic),
            "link": {"profile": self.link_profile, "telemetry_period_s": self.telemetry_period_s,
                     "timeout_s": self.link_timeout_s, "sites_off": list(self.sites_off)},
            "cloud": {"planner": {"name": self.planner, **self.planner_options}},
            "output": {"trace_period_s": self.trace_period_s},
            **(_edge_tables(self.edge) if self.edge else {}),
        }


def load_scenario(path: str | Path, doc: dict[str, Any] | None = None) -> Scenario:
    """The scenario a file describes; ``doc`` is read in place of the file's own text when given (the file's
    document with dotted-key overrides applied, ``minefleet.overrides``), so every check below applies to it."""
    path = resolve(str(path), "scenarios", ".toml")
    src = str(path)
    root = Fields(read_toml(path, "scenario") if doc is None else doc, src, "")
    sc, fl, hl = root.table("scenario"), root.table("fleet"), root.table("haul")
    tr, lk, cl, out = root.table("traffic"), root.table("link"), root.table("cloud"), root.table("output")
    ed, hz = root.table("edge"), root.table("hazards")
    if hz.data and not ed.data:
        raise InputError(src, "[hazards]", "obstacles need an [edge] table with a perception model "
                                           "(model = 'blind' drives without one)")
    map_name = sc.string("map")
    if "map_file" in sc.data:  # a run directory's scenario.toml: the very file the run was made on
        map_path = Path(sc.string("map_file"))
        if not map_path.is_file():
            raise sc.error("map_file", f"names a missing map file ({str(map_path)!r})")
    else:
        map_path = resolve(map_name, "maps", ".geojson", base=path.parent)
        if not map_path.is_file():
            raise sc.error("map", f"names a missing map file ({map_name!r})")
    groups = _groups(fl, path)
    planner, planner_opts = _planner(cl)
    scenario = Scenario(
        path=src,
        name=sc.string("name", path.stem),
        map=map_name,
        map_path=map_path,
        seed=sc.integer("seed", 0, min=0, max=MAX_SEED),
        hours=sc.number("hours", 8.0, positive=True, max=MAX_HOURS),
        dt_s=sc.number("dt_s", HaulParams.dt, positive=True, max=2.0),
        groups=groups,
        start=fl.string("start") if "start" in fl.data else None,
        release_interval_s=fl.number("release_interval_s", HaulParams.release_interval_s, min=0.0),
        order_timeout_s=fl.number("order_timeout_s", HaulParams.order_timeout_s, positive=True),
        cycle_cv=hl.number("cycle_cv", HaulParams.cycle_cv, min=0.0, max=1.0),
        dump_cv=hl.number("dump_cv", HaulParams.dump_cv, min=0.0, max=1.0),
        payload_cv=hl.number("payload_cv", HaulParams.payload_cv, min=0.0, max=1.0),
        traffic=Traffic(jam_gap_m=tr.number("jam_gap_m", Traffic.jam_gap_m, positive=True),
                        headway_s=tr.number("headway_s", Traffic.headway_s, min=0.0),
                        arrive_tol_m=tr.number("arrive_tol_m", Traffic.arrive_tol_m, positive=True)),
        link_profile=_link_profile(lk),
        telemetry_period_s=lk.number("telemetry_period_s", HaulParams.telemetry_period_s, min=0.0),
        link_timeout_s=lk.number("timeout_s", HaulParams.link_timeout_s, positive=True),
        planner=planner,
        planner_options=planner_opts,
        trace_period_s=out.number("trace_period_s", 2.0, positive=True),
        edge=_edge(ed, hz) if ed.data else None,
        sites_off=lk.strings("sites_off", ()),
        failures=_failures(fa := root.table("failures")),
        events=_events(root, src),
    )
    for f in (root, sc, fl, hl, tr, lk, cl, out, ed, hz, fa):
        f.reject_unknown()
    _periods_fit_the_tick(scenario, sc, ed, lk, out)
    if scenario.failures.trucks:
        for g in scenario.groups:
            if g.truck_class.mtbf_h is None or g.truck_class.mttr_h is None:
                raise InputError(src, "failures.trucks", f"truck class {g.class_ref!r} has no mtbf_h and mttr_h "
                                                         "(needed for random truck breakdowns)")
    return scenario


def _periods_fit_the_tick(scn: Scenario, sc: Fields, ed: Fields, lk: Fields, out: Fields) -> None:
    """Every period the run keeps at least one tick long: what is due is done at a tick boundary, once a tick, so a
    shorter period would silently run at the tick's rate instead (frames at 2 Hz for 10 Hz asked, at 0.5 s ticks).
    The radio link's conditions are re-evaluated once a second (``HaulParams.link_update_period_s``)."""
    tick = scn.dt_s
    due = [(out, "trace_period_s", scn.trace_period_s, f"a trace sample every {scn.trace_period_s:g} s")]
    if scn.telemetry_period_s > 0:
        due.append((lk, "telemetry_period_s", scn.telemetry_period_s,
                    f"telemetry every {scn.telemetry_period_s:g} s"))
    if scn.edge is not None:
        due.append((ed, "frame_hz", 1.0 / scn.edge.frame_hz, f"{scn.edge.frame_hz:g} Hz sensor frames"))
    for fields, key, period, what in due:
        if period < tick - 1e-9:
            raise fields.error(key, f"asks for {what}, shorter than the kinematic tick ([scenario] dt_s = {tick:g} "
                                    "s); things fall due once a tick at most: lower dt_s or lengthen the period")
    radio = HaulParams.link_update_period_s
    if scn.link_profile != "ideal" and radio < tick - 1e-9:
        raise sc.error("dt_s", f"= {tick:g} s is longer than the radio link's update period ({radio:g} s, [link] "
                               f"profile {scn.link_profile!r}): use dt_s <= {radio:g}")


def _planner(cl: Fields) -> tuple[str, dict[str, Any]]:
    """``[cloud] planner = "name"``, or a ``[cloud.planner]`` table with ``name`` and the planner's options."""
    raw = cl._get("planner", "nearest")
    if isinstance(raw, dict):
        pf = Fields(raw, cl.source, "[cloud.planner]")
        name, options = pf.string("name"), {k: v for k, v in raw.items() if k != "name"}
        where = "[cloud.planner]"
    else:
        name, options, where = cl.string("planner", "nearest"), {}, "[cloud]"
    return checked_planner(name, options, cl.source, where)


def checked_planner(name: str, options: dict[str, Any], src: str, where: str) -> tuple[str, dict[str, Any]]:
    """The planner name and options if the planner takes them; else the user's error naming the key."""
    try:
        planner_options(name, options)
    except PlannerConfigError as exc:
        key = "planner" if exc.key == "planner" and where == "[cloud]" else exc.key
        raise InputError(src, where, f"'{key}' {exc.problem}") from None
    return name, dict(options)


def _truck_class(f: Fields, path: Path) -> tuple[TruckClass, str, str | None]:
    """A shipped class by id, or a class file by path (relative to the scenario): (class, as written, path)."""
    name = f.string("truck_class")
    own = name.endswith(".toml")
    class_path = resolve(name, "", ".toml", base=path.parent) if own else TRUCK_DIR / f"{name}.toml"
    if not class_path.is_file():
        known = ", ".join(sorted(p.stem for p in TRUCK_DIR.glob("*.toml")))
        raise f.error("truck_class", f"unknown truck class {name!r} (known: {known}; or a path to a .toml)")
    return load_truck_class(class_path), name, str(class_path.resolve()) if own else None


def _groups(fl: Fields, path: Path) -> tuple[FleetGroup, ...]:
    """``[fleet] count + truck_class`` (one class) or ``[[fleet.groups]]`` (a mixed fleet), not both."""
    raw = fl._get("groups", None)
    if raw is None:
        tc, ref, own = _truck_class(fl, path)
        return (FleetGroup(fl.integer("count", min=1, max=5000), tc, ref, class_path=own),)
    if "count" in fl.data or "truck_class" in fl.data:
        raise fl.error("groups", "cannot be combined with [fleet] count / truck_class: give every group")
    if not isinstance(raw, list) or not raw or not all(isinstance(g, dict) for g in raw):
        raise fl.error("groups", "must be a non-empty array of tables [[fleet.groups]]")
    out = []
    for k, g in enumerate(raw):
        gf = Fields(g, fl.source, f"fleet.groups[{k}]")
        tc, ref, own = _truck_class(gf, path)
        out.append(FleetGroup(gf.integer("count", min=1, max=5000), tc, ref,
                              gf.string("start") if "start" in gf.data else None, own))
        gf.reject_unknown()
    if sum(g.count for g in out) > 5000:
        raise fl.error("groups", f"{sum(g.count for g in out)} trucks in all, at most 5000")
    return tuple(out)


def _failures(fa: Fields) -> FailureParams:
    d = FailureParams()
    return FailureParams(trucks=fa.boolean("trucks", d.trucks), shovels=fa.boolean("shovels", d.shovels),
                         shovel_mtbf_h=fa.number("shovel_mtbf_h", d.shovel_mtbf_h, positive=True),
                         shovel_mttr_h=fa.number("shovel_mttr_h", d.shovel_mttr_h, positive=True),
                         block_s=fa.number("block_s", d.block_s, min=0.0))


def _events(root: Fields, src: str) -> tuple[ScheduledEvent, ...]:
    """``[[events]]``: what goes out of service when. Targets are checked against the map when it is loaded; a
    cloud outage has one possible target, the cloud, so it may leave it out."""
    raw = root._get("events", [])
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise root.error("events", "must be an array of tables [[events]]")
    out = []
    for k, e in enumerate(raw):
        ef = Fields(e, src, f"events[{k}]")
        start, end = ef.number("start_h", min=0.0), ef.number("end_h", min=0.0)
        if end <= start:
            raise ef.error("end_h", f"must be after start_h ({start:g} h), got {end:g}")
        kind = ef.string("kind", choices=EVENT_KINDS)
        target = ef.string("target", CLOUD, choices=(CLOUD,)) if kind == "cloud_outage" else ef.string("target")
        out.append(ScheduledEvent(kind, target, start * 3600.0, end * 3600.0, ef.string("reason", "maintenance")))
        ef.reject_unknown()
    return tuple(out)


def _usable(name: str, off: str, load: Callable[[str], object], error: type[Exception],
            fail: Callable[[str], Exception]) -> str:
    """``name`` if it loads (``off`` needs no loading); else the user's error ``fail(message)``, one line."""
    if name != off:
        try:
            load(name)
        except error as exc:
            raise fail(f"is not usable: {exc}") from None
    return name


def _model(ref: str, fail: Callable[[str], Exception]) -> str:
    """``ref`` if a run can find it: oracle, blind, a zoo name with its file, or an ONNX path (opened and checked
    against the contract when the run is built). A misspelt zoo name is the user's error ``fail(message)`` naming
    the key, not a missing file deep in the model folder."""
    zoo = data_dir("assets") / "models"
    if ref not in BUILTIN and not ref.endswith(".onnx") and not (zoo / f"{ref}.onnx").is_file():
        raise fail(f"unknown model {ref!r} (a zoo name such as tiny, small, large, small-int8; oracle; blind; or a "
                   "path to an .onnx file)")
    return ref


def _link_profile(lk: Fields) -> str:
    """``ideal`` (no delay, no loss) or a 5G/LTE profile: shipped name or a path to a profile TOML."""
    return _usable(lk.string("profile", "ideal"), "ideal", load_profile, ProfileError,
                   lambda msg: lk.error("profile", msg))


def _edge(ed: Fields, hz: Fields) -> EdgeSettings:
    overrides = []
    groups = ed._get("trucks", [])
    if not isinstance(groups, list):
        raise ed.error("trucks", "must be an array of tables [[edge.trucks]] with ids and model")
    for k, g in enumerate(groups):
        gf = Fields(g if isinstance(g, dict) else {}, ed.source, f"[[edge.trucks]] #{k + 1}")
        overrides.append((gf.strings("ids"), _model(gf.string("model"), partial(gf.error, "model"))))
        gf.reject_unknown()
    d = EdgeSettings  # the one place each default lives
    return EdgeSettings(
        model=_model(ed.string("model", d.model), partial(ed.error, "model")),
        truck_models=tuple(overrides),
        frame_hz=ed.number("frame_hz", d.frame_hz, positive=True, max=100.0),
        latency_ms=ed.number("latency_ms", d.latency_ms, min=0.0),
        budget_ms=ed.number("budget_ms", d.budget_ms, positive=True),
        t_sense_ms=ed.number("t_sense_ms", d.t_sense_ms, min=0.0),
        t_actuation_ms=ed.number("t_actuation_ms", d.t_actuation_ms, min=0.0),
        margin_m=ed.number("margin_m", d.margin_m, min=0.0),
        detect_range_m=ed.number("detect_range_m", positive=True) if "detect_range_m" in ed.data else None,
        hazard_rate_scale=hz.number("rate_scale", d.hazard_rate_scale, min=0.0),
        dust=hz.number("dust", d.dust, min=0.0, max=1.0),
        rain=hz.number("rain", d.rain, min=0.0, max=1.0),
        device=_device(ed),
        timing=ed.string("timing", d.timing, choices=("emulated", "measured")),
        policy=ed.string("policy", d.policy, choices=("fifo", "edf")),
        streams=ed.integer("streams", d.streams, min=1, max=64),
        deadline_ms=ed.number("deadline_ms", d.deadline_ms, positive=True),
        on_miss=ed.string("on_miss", d.on_miss, choices=("late", "drop")),
        background=ed.strings("background", d.background),
        background_on_miss=ed.string("background_on_miss", d.background_on_miss, choices=("drop", "late")),
    )


def _device(ed: Fields) -> str:
    """``none`` (placeholder latency) or an emulated chip: shipped name or a path to a device profile."""
    return _usable(ed.string("device", EdgeSettings.device), "none", load_device, DeviceError,
                   lambda msg: ed.error("device", msg))


def _edge_tables(e: EdgeSettings) -> dict[str, Any]:
    edge: dict[str, Any] = {"model": e.model, "frame_hz": e.frame_hz, "latency_ms": e.latency_ms,
                            "budget_ms": e.budget_ms, "t_sense_ms": e.t_sense_ms,
                            "t_actuation_ms": e.t_actuation_ms, "margin_m": e.margin_m, "device": e.device,
                            "timing": e.timing, "policy": e.policy, "streams": e.streams,
                            "deadline_ms": e.deadline_ms, "on_miss": e.on_miss, "background": list(e.background),
                            "background_on_miss": e.background_on_miss}
    if e.detect_range_m is not None:
        edge["detect_range_m"] = e.detect_range_m
    if e.truck_models:
        edge["trucks"] = [{"ids": list(ids), "model": m} for ids, m in e.truck_models]
    return {"edge": edge, "hazards": {"rate_scale": e.hazard_rate_scale, "dust": e.dust, "rain": e.rain}}
