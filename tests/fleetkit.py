"""Test helpers for fleet-level runs: truck classes of any payload, small maps with loading areas, one-shot runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from conftest import REPO, collection, point, road

from minefleet.assemble import Run, build_run
from minefleet.scenario import load_scenario

XCMG = REPO / "fleet" / "trucks" / "xcmg-znk95.toml"


def truck_class(tmp: Path, cid: str, payload_t: float, **figures: float) -> Path:
    """A copy of the shipped XCMG class with another id, payload and any figures replaced (sources kept)."""
    head, sources = XCMG.read_text(encoding="utf-8").split("\n[sources]\n")
    head = re.sub(r'^id = ".*"$', f'id = "{cid}"', head, flags=re.M)
    for key, value in {"payload_t": payload_t, **figures}.items():
        if re.search(rf"^{key} = ", head, flags=re.M):
            head = re.sub(rf"^{key} = [^\s#]+", f"{key} = {value}", head, flags=re.M)
        else:
            head += f"\n{key} = {value}\n"
            sources += f'\n{key} = "assumption: test figure"\n'
    path = tmp / f"{cid}.toml"
    path.write_text(f"{head}\n[sources]\n{sources}", encoding="utf-8")
    return path


def area_map(length: float, units: list[dict[str, Any]], *, dump_bays: int = 8) -> dict[str, Any]:
    """One flat road: a loading area (its units given as shovel properties) at x = 0, a dump at the other end."""
    feats = [road("R1", [[0, 0, 0], [length, 0, 0]], speed_limit_kmh=50),
             point("loading_area", "LA", [0, 0, 0], material="coal"),
             point("dump", "D1", [length, 0, 0], bays=dump_bays, dump_s=30),
             point("park", "P1", [length - 50, 0, 0])]
    for k, u in enumerate(units):
        feats.append(point("shovel", u.pop("id", f"U{k + 1}"), [-20.0 - 15 * k, 20.0, 0], area="LA", **u))
    return collection(feats)


def run_for(path: Path, hours: float | None = None) -> Run:
    scn = load_scenario(path).with_overrides(hours=hours)
    run = build_run(scn)
    run.sim.run(scn.hours * 3600.0)
    return run


def loaded_events(run: Run, facility: str, after_s: float = 0.0) -> list[tuple[float, str, float]]:
    """(t, truck, payload) of every load finished at a facility after ``after_s``."""
    return [(t, tid, p) for t, tid, ev, fac, p in run.sim.log if ev == "loaded" and fac == facility and t > after_s]
