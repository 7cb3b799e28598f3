"""``minefleet validate FILE``: load a map, scenario or sweep the way a run would, and describe it.

A scenario is checked by building its run (map, routes, fleet, link, cloud, perception) and closing it before the
first tick: every refusal a run makes before simulating is made here by the same code, with the same line."""

from __future__ import annotations

from pathlib import Path

from edge.contract import inspect_model
from fleet.errors import InputError
from fleet.fields import read_toml
from fleet.truckclass import load_truck_class, truck_classes
from minefleet.assemble import Site, build_run, load_site
from minefleet.scenario import load_scenario
from minefleet.sweep.spec import load_sweep


def validate_file(name: str) -> list[str]:
    path = Path(name)
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        return _describe_map(path)
    if suffix == ".onnx":
        return _describe_model(path)
    if suffix == ".toml":
        head = read_toml(path, "scenario, sweep or truck class")
        if "sweep" in head:
            return [f"{path}: sweep OK: {load_sweep(path).describe()}"]
        if head.get("schema") == "minefleet-truck/1":
            tc = load_truck_class(path)
            return [f"{path}: truck class {tc.id} ({tc.name}) OK: payload {tc.payload_t:g} t, "
                    f"{tc.gross_power_kw:g} kW, loaded 10 % grade speed "
                    f"{tc.grade_speed_mps(tc.payload_t, 0.10, 0.025) * 3.6:.1f} km/h"]
        scn = load_scenario(path)
        run = build_run(scn)  # the run's own checks, by the run's own code: what validate passes, run accepts
        run.close()
        lines = _describe_map(scn.map_path, run.site)
        off = f", sites off: {', '.join(scn.sites_off)}" if scn.sites_off else ""
        fleet = " + ".join(f"{g.count} x {g.truck_class.id}" for g in scn.groups)
        return [f"{path}: scenario {scn.name} OK: {fleet}, "
                f"{scn.hours:g} h, seed {scn.seed}, planner {scn.planner}, link {scn.link_profile}{off}", *lines]
    raise InputError(name, "", "not a map (.geojson), scenario, sweep or truck class (.toml), or model (.onnx)")


def _describe_map(path: Path, site: Site | None = None) -> list[str]:
    site = site or load_site(str(path), list(truck_classes().values()))
    m, net = site.mine, site.net
    return [
        f"{path}: map {m.site} OK: {net.road_length_m / 1000:.1f} km of road, {len(net.nodes)} junctions, "
        f"{len(m.shovels)} shovels ({len(m.loading_areas)} loading areas), {len(m.dumps)} dumps/crushers, "
        f"{len(m.parks)} parks, {len(m.gnbs)} gNBs, "
        f"{sum(1 for a in m.areas if a.kind == 'hazard_zone')} hazard zones, {len(site.routes.routes)} routes, "
        f"{net.section_count} single-lane sections",
    ]


def _describe_model(path: Path) -> list[str]:
    info = inspect_model(path)
    sp = info.spec
    lines = [f"{path}: model {info.name} v{info.version} OK: contract {info.metadata['contract']}, "
             f"scan [N, {sp.channels}, {sp.beams}] -> sectors [N, {sp.sectors}, 2], fov {sp.fov_deg:g} deg, "
             f"range {sp.max_range_m:g} m"]
    card = info.card
    if not card:
        return [*lines, "  no held-out metrics recorded (a scenario must set [edge] detect_range_m)"]
    lines.append(f"  {card.get('params', '?')} parameters, trained on {card.get('train_frames', '?')} frames "
                 f"(seed {card.get('seed', '?')}); held-out (seed {card.get('heldout_seed', '?')}):")
    lines.append("    dust  recall  precision  distance MAE [m]  detection range [m]")
    for lv in card["heldout"]["by_dust"]:
        lines.append(f"    {lv['dust']:4.2f}  {lv['recall']:6.3f}  {lv['precision']:9.3f}  {lv['distance_mae_m']:16.2f}"
                     f"  {lv['range_m']:19.0f}")
    return lines
