"""What a coarser kinematic tick buys a dispatch study, and what it costs in its KPIs.

    python -m bench.tick_resolution [--hours 4] [--dt 0.5] [--rounds 3]

Runs dispatch-only shifts (no perception, ideal link: the runs that may take a coarse tick, see
``minefleet.scenario``) at the default 0.1 s tick and at ``--dt``, alternating the two, and prints per mine the
wall time of each (median of the rounds), the speed-up, and the tonnes, loads and mean cycle time at the coarse
tick against the fine one. The mines: three shipped scenarios, the single-lane strip mine, and the OpenMines peer's
mine as ``minefleet import openmines`` makes it, with telemetry off as OpenMines has none (``bench.peer_openmines``).
The README's promise, judged here: tonnes within 1 % of the 0.1 s tick's (the target applies to the size of the
change). The speed-ups (each row's ratio: fine wall / coarse wall) are shown for reading.
``--quick``: 1 h shifts, one round.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.peer_openmines import imported_scenario
from bench.report import at_most, figure, print_figures
from bench.timing import timed_shift
from fleet.engine import HaulParams
from fleet.kpi import summarize
from minefleet.assemble import load_site
from minefleet.scenario import Scenario, load_scenario

SHIPPED = ("open_pit", "open_pit_crusher", "open_pit_mixed", "strip_mine")
PEER = "peer mine (no telemetry)"
HOURS, QUICK_HOURS = 4.0, 1.0
ROUNDS = 3
COARSE_DT = 0.5  # [s] the coarse tick the README quotes
TONNES_TOL = 0.01  # [-] the README's promise


def _shift(scn: Scenario, site: Any, hours: float) -> tuple[float, dict[str, float]]:
    wall, run = timed_shift(scn, site, hours)
    s = summarize(run.sim)
    return wall, {"tonnes": float(s["tonnes"]), "loads": float(s["loads"]), "cycle_s": float(s["cycle_time_s"]["mean"])}


def compare(name: str, scn: Scenario, hours: float, dt: float, rounds: int) -> dict[str, Any]:
    """The shift at the default tick and at ``dt``, alternated ``rounds`` times (a run is deterministic, so the
    KPIs are those of any round; the walls are medians)."""
    fine_scn, coarse_scn = replace(scn, dt_s=HaulParams.dt), replace(scn, dt_s=dt)
    site = load_site(str(scn.map_path), scn.classes())
    _shift(coarse_scn, site, 0.05)  # compile the kernels outside the timed runs
    walls: dict[str, list[float]] = {"fine": [], "coarse": []}
    kpis: dict[str, dict[str, float]] = {}
    for _ in range(rounds):
        for key, s in (("fine", fine_scn), ("coarse", coarse_scn)):
            wall, kpis[key] = _shift(s, site, hours)
            walls[key].append(wall)
    fine_s, coarse_s = statistics.median(walls["fine"]), statistics.median(walls["coarse"])
    return {"mine": name, "fine_wall_s": fine_s, "coarse_wall_s": coarse_s, "speedup": fine_s / coarse_s,
            "fine": kpis["fine"], "coarse": kpis["coarse"],
            "tonnes_diff": kpis["coarse"]["tonnes"] / kpis["fine"]["tonnes"] - 1.0}


def run(quick: bool = False, hours: float | None = None, dt: float = COARSE_DT,
        rounds: int | None = None) -> dict[str, Any]:
    hours = hours or (QUICK_HOURS if quick else HOURS)
    rounds = rounds or (1 if quick else ROUNDS)
    with tempfile.TemporaryDirectory(prefix="minefleet-bench-") as tmp:
        mines = [(name, load_scenario(name)) for name in SHIPPED]
        mines.append((PEER, replace(imported_scenario(Path(tmp)), telemetry_period_s=0.0)))
        rows = [compare(name, scn, hours, dt, rounds) for name, scn in mines]
    figures = []
    for r in rows:
        # ratio: the speed-up, fine wall / coarse wall
        figures.append(figure(f"{r['mine']}: wall at dt {dt:g} s", r["coarse_wall_s"], "s",
                              baseline=r["fine_wall_s"], baseline_name=f"dt {HaulParams.dt:g} s", ratio=r["speedup"]))
        figures.append(figure(f"{r['mine']}: tonnes at dt {dt:g} s, change", r["tonnes_diff"], "share",
                              target=at_most(abs(r["tonnes_diff"]), TONNES_TOL)))
    return {"figures": figures, "rows": rows, "hours": hours, "dt_s": dt, "rounds": rounds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=HOURS, help="simulated hours per shift")
    parser.add_argument("--dt", type=float, default=COARSE_DT, help="the coarse tick [s]")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="alternated runs of each tick")
    args = parser.parse_args()
    res = run(False, args.hours, args.dt, args.rounds)
    print(f"tick resolution: dispatch-only shifts of {res['hours']:g} h at dt {HaulParams.dt:g} s and "
          f"{res['dt_s']:g} s, median wall of {res['rounds']} alternated rounds")
    print(f"{'mine':<36} {'wall fine':>9} {'coarse':>8} {'speed-up':>8} {'tonnes':>8} {'loads':>7} {'cycle':>7}")
    for r in res["rows"]:
        f, c = r["fine"], r["coarse"]
        print(f"{r['mine']:<36} {r['fine_wall_s']:>8.2f}s {r['coarse_wall_s']:>7.2f}s {r['speedup']:>7.2f}x "
              f"{r['tonnes_diff']:>+8.2%} {c['loads'] - f['loads']:>+7.0f} {c['cycle_s'] / f['cycle_s'] - 1:>+7.2%}")
    print_figures(res["figures"])


if __name__ == "__main__":
    main()
