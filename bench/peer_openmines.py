"""Side by side with OpenMines: one mine, one dispatcher family, wall time and tonnes of both, in one process.

    python -m bench.peer_openmines [--rounds 5] [--hours 4] [--quick]

OpenMines (PyPI ``openmines``, a SimPy event simulator: every truck runs at its one speed over a distance table) is
the peer. The mine is ``bench/mines/ridgeback_pit.json``, written in OpenMines' own format; OpenMines runs the file
as it is, and minefleet runs what ``minefleet import openmines`` makes of it (a matrix map, the truck classes, the
scenario with its failures). Both dispatch by the nearest site: OpenMines' ``NearestDispatcher`` (least tabled
distance) and minefleet's ``nearest`` (least free-flow time; on the imported flat map, where every class has one
speed and the road limits never bind, that is the least distance too).

Rounds are interleaved (OpenMines, minefleet, minefleet without telemetry, then again), so a load on the shared
machine falls on all of them alike. Each figure is the median over the rounds; the speed ratio is the median of the
rounds' own ratios, each from runs made back to back. Only the simulation is timed:

- OpenMines: ``Mine.start`` (its processes set up, then ``env.run``). Excluded: building the ``Mine`` from the
  file and ``dump_frames``, the post-run pass that writes ``results/*.json`` for its charts (a no-op here). Its log
  handlers are set to WARNING (options of its ``Mine``), so it writes no log lines during the run; at its defaults
  it writes one per load and per breakdown, to a file and to the console.
- minefleet: ``run.sim.run`` in process (planner nearest, perception off, in-process transport). Excluded: the
  import, ``build_run`` (map, routes, wiring) and the kernels' compilation (a short run first warms them).

The target is minefleet at least twice OpenMines' speed with its richer physics kept. The figures are simulated
seconds per wall second measured in the same run, so their ratio is what carries over to another host.
"""

from __future__ import annotations

import argparse
import logging
import platform
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.timing import timed_shift
from fleet.errors import InputError
from fleet.fields import read_json
from fleet.kpi import summarize
from fleet.state import TRAVEL
from minefleet.assemble import load_site
from minefleet.openmines import import_openmines
from minefleet.scenario import Scenario, load_scenario

MINE = Path(__file__).resolve().parent / "mines" / "ridgeback_pit.json"
TARGET_RATIO = 2.0  # minefleet's speed at least twice OpenMines' (simulated seconds per wall second)
ROUNDS, QUICK_ROUNDS = 5, 2  # OpenMines' shift takes under a second: its median needs rounds
QUICK_HOURS = 1.0  # [h] per measurement with --quick (the full run takes the file's sim_time, 4 h)
MAX_HOURS = 24.0  # [h] the longest --hours: OpenMines keeps every event of the shift in memory
WARM_UP_H = 0.05  # [h] a short run of each simulator before the rounds: numba compiles, caches fill
SEED = 0  # minefleet's scenario seed and OpenMines' (it draws from Python's and numpy's global generators)
OPENMINES_DISPATCHER = "NearestDispatcher"
MINEFLEET_PLANNER = "nearest"
LABELS = {"openmines": "OpenMines", "minefleet": "minefleet (telemetry as imported)",
          "minefleet_no_telemetry": "minefleet (telemetry off)"}  # the measured sides, in the order each round runs

INSTALL_HINT = ("pip install --no-deps openmines==0.2.0, then pip install -e '.[bench]' (simpy): openmines' own pins "
                "(numpy 1.25, scipy 1.10, matplotlib 3.7, tqdm 4.65) conflict with minefleet's requirements, and its "
                "simulation needs only simpy, numpy, scipy and matplotlib")

@dataclass(frozen=True)
class Shift:
    """One timed shift: wall seconds of the simulation alone, tonnes dumped, and counts read after the clock."""

    wall_s: float
    tonnes: float
    counts: dict[str, Any]


# -- OpenMines ---------------------------------------------------------------------------------------------


def openmines_version() -> str | None:
    """The installed OpenMines' version, or None when it is not installed (the benchmark then says how)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("openmines")
    except PackageNotFoundError:
        return None


def build_openmines(config: dict[str, Any], log_dir: Path) -> Any:
    """OpenMines' ``Mine`` for ``config``, built as its own ``run_dispatch_sim`` (openmines/src/cli/run.py) builds
    it, with its ``NearestDispatcher``; that function also runs, prints and writes charts, so it is not called."""
    from openmines.src.charging_site import ChargingSite
    from openmines.src.dispatch_algorithms.nearest_dispatcher import NearestDispatcher
    from openmines.src.dump_site import Dumper, DumpSite
    from openmines.src.load_site import LoadSite, Shovel
    from openmines.src.mine import Mine
    from openmines.src.road import Road
    from openmines.src.truck import Truck

    mine = Mine(config["mine"]["name"], log_path=log_dir, log_file_level=logging.WARNING,
                log_console_level=logging.WARNING)
    for name in ("Truck", "Road", mine.name):  # its own handlers only: in a process whose root logger has a handler
        logging.getLogger(name).propagate = False  # (an earlier benchmark's library made one), every line went there
    mine.add_dispatcher(NearestDispatcher())
    charging = ChargingSite(config["charging_site"]["name"], position=config["charging_site"]["position"])
    for t in config["charging_site"]["trucks"]:
        for k in range(t["count"]):
            charging.add_truck(Truck(name=f"{t['type']}{k + 1}", truck_capacity=t["capacity"], truck_speed=t["speed"]))
    for ls in config["load_sites"]:
        site = LoadSite(name=ls["name"], position=ls["position"])
        for s in ls["shovels"]:
            site.add_shovel(Shovel(name=s["name"], shovel_tons=s["tons"], shovel_cycle_time=s["cycle_time"],
                                   position_offset=s["position_offset"]))
        site.add_parkinglot(position_offset=ls["parkinglot"]["position_offset"], name=ls["parkinglot"]["name"])
        mine.add_load_site(site)
    for ds in config["dump_sites"]:
        site = DumpSite(ds["name"], position=ds["position"])
        for d in ds["dumpers"]:
            for k in range(d["count"]):
                site.add_dumper(Dumper(name=f"{ds['name']}-{k}", dumper_cycle_time=d["cycle_time"],
                                       position_offset=d["position_offset"]))
        site.add_parkinglot(position_offset=ds["parkinglot"]["position_offset"], name=ds["parkinglot"]["name"])
        mine.add_dump_site(site)
    road = config["road"]
    mine.add_road(Road(l2d_road_matrix=np.array(road["l2d_road_matrix"]),
                       d2l_road_matrix=np.array(road["d2l_road_matrix"]),
                       charging_to_load_road_matrix=road["charging_to_load_road_matrix"],
                       road_event_params=road.get("road_event_params", {})))
    mine.add_charging_site(charging)
    mine.dump_frames = lambda total_time, rl=False: None  # post-run chart data and its file: not simulation
    return mine


def time_openmines(config: dict[str, Any], hours: float, log_dir: Path) -> tuple[Any, Shift]:
    """One OpenMines shift of ``hours``: the ``Mine`` as it ended, and the simulation's wall time, the tonnes dumped
    and what its random models did (counted from its event pools after the clock stopped)."""
    random.seed(SEED)
    np.random.seed(SEED)  # OpenMines draws from the global generators; this bench process owns them
    mine = build_openmines(config, log_dir)
    try:
        started = time.perf_counter()
        mine.start(total_time=hours * 60.0)  # OpenMines' clock is in minutes
        wall = time.perf_counter() - started
    finally:
        release_logs(mine)
    pool = mine.random_event_pool
    shovels = [s for ls in mine.load_sites for s in ls.shovel_list]
    counts = {"truck_breakdowns": len(pool.get_even_by_type("TruckEvent:breakdown")),
              "shovel_maintenances": sum(len(s.event_pool.get_even_by_type("Shovel Maintenance Start"))
                                         for s in shovels),
              "road_jams": len(pool.get_even_by_type("RoadEvent:jam")),
              "road_repairs": len(pool.get_even_by_type("RoadEvent:repair"))}
    tonnes = sum(d.dumper_tons for ds in mine.dump_sites for d in ds.dumper_list)
    return mine, Shift(wall, float(tonnes), counts)


def release_logs(mine: Any) -> None:
    """Detach and close the log handlers OpenMines' ``MineLogger`` attached: they are process-wide (its loggers are
    named ``Truck``, ``Road`` and after the mine) and each holds a file open, so the next run would reuse them."""
    for name in ("Truck", "Road", mine.name):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
    mine.global_logger.FILE_HANDLER.close()
    mine.global_logger.CONSOLE_HANDLER.close()


# -- minefleet ---------------------------------------------------------------------------------------------


def imported_scenario(out_dir: Path) -> Scenario:
    """The peer's mine as ``minefleet import openmines`` writes it (failures on, as OpenMines always has them)."""
    import_openmines(MINE, out_dir)
    scn = load_scenario(out_dir / "ridgeback-pit.toml")
    if scn.planner != MINEFLEET_PLANNER or scn.edge is not None:
        raise RuntimeError(f"{MINE.name}: the import should plan with {MINEFLEET_PLANNER!r} and no perception, "
                           f"got planner {scn.planner!r}, perception {scn.edge is not None}")
    return scn


def time_minefleet(scn: Scenario, site: Any, hours: float) -> Shift:
    """One minefleet shift of ``hours``: the simulation's wall time, the tonnes dumped, the share of truck-time
    moving (queued trucks cost the kernel little, so a speed means little without it) and its failures."""
    wall, run = timed_shift(scn, site, hours)
    st = run.sim.fleet.state_time
    failures = summarize(run.sim)["failures"]
    counts = {"moving_share": float(st[:, TRAVEL].sum() / st.sum()),
              "truck_breakdowns": failures["truck_breakdowns"], "shovel_outages": failures["unit_outages"]}
    return Shift(wall, float(run.sim.tonnes.sum()), counts)


# -- the comparison ----------------------------------------------------------------------------------------


def run(quick: bool = False, rounds: int | None = None, hours: float | None = None) -> dict[str, Any]:
    """Interleaved rounds of both simulators on the peer's mine; the figures as a JSON-able dict, or
    ``{"skipped": why}`` when OpenMines is not installed (the optional peer), so a run of every bench goes on."""
    om_version = openmines_version()
    if om_version is None:
        return {"skipped": f"OpenMines is not installed: {INSTALL_HINT}"}
    config = read_json(MINE, "OpenMines")
    rounds = rounds or (QUICK_ROUNDS if quick else ROUNDS)
    hours = hours or (QUICK_HOURS if quick else config["sim_time"] / 60.0)
    shifts: dict[str, list[Shift]] = {side: [] for side in LABELS}
    with tempfile.TemporaryDirectory(prefix="peer-openmines-") as tmp:
        scn = imported_scenario(Path(tmp) / "import")
        quiet = replace(scn, telemetry_period_s=0.0)
        site = load_site(str(scn.map_path), scn.classes())
        log_dir = Path(tmp) / "openmines-logs"
        time_openmines(config, WARM_UP_H, log_dir)
        time_minefleet(scn, site, WARM_UP_H)
        for _ in range(rounds):
            shifts["openmines"].append(time_openmines(config, hours, log_dir)[1])
            shifts["minefleet"].append(time_minefleet(scn, site, hours))
            shifts["minefleet_no_telemetry"].append(time_minefleet(quiet, site, hours))
    out: dict[str, Any] = {
        "mine": MINE.name, "trucks": scn.truck_count, "hours": hours, "rounds": rounds, "seed": SEED,
        "openmines_version": om_version, "openmines_dispatcher": OPENMINES_DISPATCHER,
        "minefleet_planner": scn.planner, "minefleet_telemetry_period_s": scn.telemetry_period_s,
        "minefleet_link_profile": scn.link_profile, "minefleet_dt_s": scn.dt_s, "minefleet_perception": False,
        "target_ratio": TARGET_RATIO,
    }
    for side, runs in shifts.items():
        wall = statistics.median(r.wall_s for r in runs)
        out[side] = {"wall_s": wall, "wall_s_rounds": [r.wall_s for r in runs], "x_real_time": hours * 3600.0 / wall,
                     "tonnes": statistics.median(r.tonnes for r in runs), "tonnes_rounds": [r.tonnes for r in runs],
                     **runs[-1].counts}
    # Speed ratios round by round: the sides of one round ran back to back, under about the same load.
    for key, side in (("ratio", "minefleet"), ("ratio_no_telemetry", "minefleet_no_telemetry")):
        out[f"{key}_rounds"] = [o.wall_s / m.wall_s for o, m in zip(shifts["openmines"], shifts[side], strict=True)]
        out[key] = statistics.median(out[f"{key}_rounds"])
    out["meets_target"] = out["ratio"] >= TARGET_RATIO
    return out


def why_tonnes_differ(r: dict[str, Any]) -> str:
    """Why the two productions differ, with what each simulator's random models did in the last round."""
    om, mf = r["openmines"], r["minefleet"]
    return (
        f"Tonnes differ (minefleet / OpenMines {mf['tonnes'] / om['tonnes']:.2f}) because the two simulate different "
        "things on one table. OpenMines runs each truck at its one speed from the first metre, queues it at the "
        "shovel with the shortest queue however slow that shovel is, samples road jams from the trucks on a road "
        f"({om['road_jams']} jams) and road repairs with detours ({om['road_repairs']}), and draws its failures so "
        f"that they grow likelier the longer since the last ({om['truck_breakdowns']} truck breakdowns, "
        f"{om['shovel_maintenances']} shovel maintenances of about 45 min). minefleet accelerates and brakes each "
        "truck (rimpull, rolling resistance), keeps trucks one behind another on each lane (IDM: a fast truck stays "
        "behind a slow one), sends a truck to the first free shovel of a loading area, loads whole passes with "
        f"scatter, and runs breakdowns as a renewal process on the same means ({mf['truck_breakdowns']} truck "
        f"breakdowns, {mf['shovel_outages']} shovel outages); its trucks were moving {mf['moving_share']:.0%} of "
        "truck-time.")


def report(r: dict[str, Any]) -> list[str]:
    """The printed table: each simulator's wall time, speed and tonnes, then the ratios beside the target."""
    lines = [
        f"peer benchmark: {r['mine']} ({r['trucks']} trucks, {r['hours']:g} h simulated per run), median of "
        f"{r['rounds']} interleaved rounds; host {platform.processor() or platform.machine()}, Python "
        f"{platform.python_version()} (on a shared machine only the ratios, measured in this run, carry over)",
        f"  OpenMines {r['openmines_version']}: dispatcher {r['openmines_dispatcher']}, seed {r['seed']}, logging at "
        "WARNING; timed: Mine.start (excluded: building the Mine, dump_frames' chart data and its file)",
        f"  minefleet: planner {r['minefleet_planner']}, perception off, link {r['minefleet_link_profile']}, dt "
        f"{r['minefleet_dt_s']:g} s, telemetry every {r['minefleet_telemetry_period_s']:g} s as imported, seed "
        f"{r['seed']}; timed: sim.run (excluded: the import, build_run, the kernels' compilation)",
        f"{'simulator':<36} {'wall s':>8} {'x real time':>12} {'tonnes':>10}",
    ]
    for side, name in LABELS.items():
        s = r[side]
        lines.append(f"{name:<36} {s['wall_s']:>8.2f} {s['x_real_time']:>11,.0f}x {s['tonnes']:>10,.0f}")
    verdict = "meets" if r["meets_target"] else "MISSES"
    rounds = ", ".join(f"{x:.2f}" for x in r["ratio_rounds"])
    lines += [f"minefleet / OpenMines speed, median of the rounds' ratios: {r['ratio']:.2f}x (target >= "
              f"{r['target_ratio']:g}x: {verdict}; round by round {rounds}); with telemetry off "
              f"{r['ratio_no_telemetry']:.2f}x",
              why_tonnes_differ(r)]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=None, help=f"interleaved rounds (default {ROUNDS})")
    parser.add_argument("--hours", type=float, default=None, help="simulated hours per run (default: the file's)")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ROUNDS} rounds of {QUICK_HOURS:g} h")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error(f"--rounds: must be >= 1, got {args.rounds}")
    if args.hours is not None and not 0 < args.hours <= MAX_HOURS:
        parser.error(f"--hours: must be > 0 and at most {MAX_HOURS:g}, got {args.hours:g}")
    try:
        result = run(args.quick, args.rounds, args.hours)
    except InputError as err:  # the mine file or its import is wrong
        print(f"bench.peer_openmines: error: {err}", file=sys.stderr)
        return 2
    if "skipped" in result:
        print(f"bench.peer_openmines: error: {result['skipped']}", file=sys.stderr)
        return 2
    print("\n".join(report(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
