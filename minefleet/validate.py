"""``minefleet validate FILE``: load a map or scenario the way a run would, and describe it."""

from __future__ import annotations

import tomllib
from pathlib import Path

from fleet.errors import InputError
from fleet.truckclass import load_truck_class, truck_classes
from minefleet.assemble import load_site
from minefleet.scenario import load_scenario


def validate_file(name: str) -> list[str]:
    path = Path(name)
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        return _describe_map(path)
    if suffix == ".toml":
        try:
            head = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(name, "", "file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(name, "", f"invalid TOML: {exc}") from None
        if head.get("schema") == "minefleet-truck/1":
            tc = load_truck_class(path)
            return [f"{path}: truck class {tc.id} ({tc.name}) OK: payload {tc.payload_t:g} t, "
                    f"{tc.gross_power_kw:g} kW, loaded 10 % grade speed "
                    f"{tc.grade_speed_mps(tc.payload_t, 0.10, 0.025) * 3.6:.1f} km/h"]
        scn = load_scenario(path)
        lines = _describe_map(scn.map_path)
        return [f"{path}: scenario {scn.name} OK: {scn.truck_count} x {scn.truck_class.id}, "
                f"{scn.hours:g} h, seed {scn.seed}, planner {scn.planner}", *lines]
    raise InputError(name, "", "not a map (.geojson) or scenario/truck class (.toml)")


def _describe_map(path: Path) -> list[str]:
    site = load_site(str(path), list(truck_classes().values()))
    m, net = site.mine, site.net
    return [
        f"{path}: map {m.site} OK: {net.road_length_m / 1000:.1f} km of road, {len(net.nodes)} junctions, "
        f"{len(m.shovels)} shovels, {len(m.dumps)} dumps/crushers, {len(m.parks)} parks, {len(m.gnbs)} gNBs, "
        f"{sum(1 for a in m.areas if a.kind == 'hazard_zone')} hazard zones, {len(site.routes.routes)} routes, "
        f"{net.section_count} single-lane sections",
    ]
