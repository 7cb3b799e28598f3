"""Simulation speed, dispatch only: simulated seconds per wall second on the open-pit map.

    python -m bench.sim_speed [--hours H] [--trucks 30 100 300] [--planner nearest]

Prints, per fleet size, the speed with 1 Hz telemetry (the shipped default) and without telemetry, and the
share of truck-time spent moving (queued trucks cost little, so a speed means little without it).
Target for later: >= 5000x real time at 100 trucks without perception.
"""

from __future__ import annotations

import argparse
import platform
import time
from dataclasses import replace

from fleet.state import TRAVEL
from minefleet.assemble import build_run, load_site
from minefleet.scenario import load_scenario

TARGET_X = 5000.0


def measure(scn, site, hours: float) -> tuple[float, float, float]:
    run = build_run(scn, site)
    started = time.perf_counter()
    run.sim.run(hours * 3600.0)
    wall = time.perf_counter() - started
    st = run.sim.fleet.state_time
    moving = st[:, TRAVEL].sum() / st.sum()
    return hours * 3600.0 / wall, wall, moving


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=2.0, help="simulated hours per measurement")
    parser.add_argument("--trucks", type=int, nargs="+", default=[30, 100, 300])
    parser.add_argument("--planner", default=None, help="dispatch planner (default: the scenario's)")
    args = parser.parse_args()
    base = load_scenario("open_pit")
    if args.planner:
        base = replace(base, planner=args.planner)
    site = load_site(str(base.map_path), base.classes())
    # Warm the compiled kernels so the first row does not pay for compilation.
    measure(base.resized(2), site, 0.05)
    print(f"minefleet sim speed, open-pit map, planner {base.planner}, dt {base.dt_s} s, {args.hours:g} h "
          f"simulated per row; host {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"{'trucks':>6} {'telemetry':>10} {'sim-s/wall-s':>13} {'wall s':>8} {'moving':>7} {'vs 5000x':>9}")
    for n in args.trucks:
        for period, label in ((1.0, "1 Hz"), (0.0, "off")):
            scn = replace(base.resized(n), telemetry_period_s=period)
            speed, wall, moving = measure(scn, site, args.hours)
            print(f"{n:>6} {label:>10} {speed:>12,.0f}x {wall:>8.2f} {moving:>7.0%} {speed / TARGET_X:>8.2f}x")


if __name__ == "__main__":
    main()
