"""Simulation speed, dispatch only: simulated seconds per wall second on the open-pit map.

    python -m bench.sim_speed [--hours H] [--trucks 30 100 300] [--planner nearest]

Prints, per fleet size, the speed with 1 Hz telemetry (the shipped default) and without telemetry, and the
share of truck-time spent moving (queued trucks cost little, so a speed means little without it).
Targets at 100 trucks (dispatch only, no perception): >= 10,000x real time with 1 Hz telemetry, >= 20,000x
without. Each telemetry row's baseline is the same fleet without telemetry, measured in the same run, so its
ratio is what telemetry costs. ``--quick`` (and ``run(quick=True)``): 100 trucks only, 0.5 h per row.
"""

from __future__ import annotations

import argparse
import platform
import time
from dataclasses import replace
from typing import Any

from bench.report import at_least, figure, print_figures
from fleet.state import TRAVEL
from minefleet.assemble import build_run, load_site
from minefleet.scenario import load_scenario

TARGET_AT = 100  # [trucks] the fleet size the targets are for
TARGETS_X = {1.0: 10_000.0, 0.0: 20_000.0}  # telemetry period [s] (0 = off) -> x real time at TARGET_AT trucks
TELEMETRY = ((1.0, "1 Hz"), (0.0, "off"))
HOURS = 2.0  # [h] simulated per row
QUICK_HOURS = 0.5
TRUCKS = (30, 100, 300)
QUICK_TRUCKS = (TARGET_AT,)


def measure(scn, site, hours: float) -> tuple[float, float, float]:
    run = build_run(scn, site)
    started = time.perf_counter()
    run.sim.run(hours * 3600.0)
    wall = time.perf_counter() - started
    st = run.sim.fleet.state_time
    moving = st[:, TRAVEL].sum() / st.sum()
    return hours * 3600.0 / wall, wall, moving


def run(quick: bool = False, hours: float | None = None, trucks: tuple[int, ...] | None = None,
        planner: str | None = None) -> dict[str, Any]:
    """Every fleet size with telemetry on and off; the rows and the figures (targets judged at 100 trucks)."""
    hours = hours or (QUICK_HOURS if quick else HOURS)
    trucks = trucks or (QUICK_TRUCKS if quick else TRUCKS)
    base = load_scenario("open_pit")
    if planner:
        base = replace(base, planner=planner)
    site = load_site(str(base.map_path), base.classes())
    # Warm the compiled kernels so the first row does not pay for compilation.
    measure(base.resized(2), site, 0.05)
    rows, figures = [], []
    for n in trucks:
        speeds = {}
        for period, label in TELEMETRY:
            scn = replace(base.resized(n), telemetry_period_s=period)
            speed, wall, moving = measure(scn, site, hours)
            speeds[period] = speed
            rows.append({"trucks": n, "telemetry": label, "x_real_time": speed, "wall_s": wall, "moving": moving})
        for period, label in TELEMETRY:
            target = at_least(speeds[period], TARGETS_X[period], "x") if n == TARGET_AT else None
            off = period == 0.0
            figures.append(figure(f"P1b {n} trucks, telemetry {label}", speeds[period], "x",
                                  baseline=None if off else speeds[0.0], baseline_name="" if off else "telemetry off",
                                  target=target))
    return {"figures": figures, "rows": rows, "planner": base.planner, "dt_s": base.dt_s, "hours": hours}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=HOURS, help="simulated hours per measurement")
    parser.add_argument("--trucks", type=int, nargs="+", default=list(TRUCKS))
    parser.add_argument("--planner", default=None, help="dispatch planner (default: the scenario's)")
    args = parser.parse_args()
    res = run(False, args.hours, tuple(args.trucks), args.planner)
    print(f"minefleet sim speed, open-pit map, planner {res['planner']}, dt {res['dt_s']} s, {args.hours:g} h "
          f"simulated per row; host {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"{'trucks':>6} {'telemetry':>10} {'sim-s/wall-s':>13} {'wall s':>8} {'moving':>7}")
    for r in res["rows"]:
        print(f"{r['trucks']:>6} {r['telemetry']:>10} {r['x_real_time']:>12,.0f}x {r['wall_s']:>8.2f} "
              f"{r['moving']:>7.0%}")
    print_figures(res["figures"])


if __name__ == "__main__":
    main()
