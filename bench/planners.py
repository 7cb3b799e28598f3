"""Every dispatch planner on one mine at two fleet sizes, seeded shifts: t/h with a 95 % CI and the LP bound share.

    python -m bench.planners [--scenario open_pit] [--trucks 30 60] [--seeds 10] [--hours 8] [--workers 2]

Each row is one planner at one fleet size over ``--seeds`` shifts (seeds 0..n-1), run in separate processes.
``bound`` is the flow LP's t/h for the same layout, fleet and availability (no queues, no traffic): no planner
can beat it, so ``share`` says how far each is from the best the mine could do over the whole shift, start-up
and unfinished loads included, and ``steady`` the same for the t/h tipped after the first hour
(``minefleet.bound.steady_tph``), which is what the bound, a steady state, describes. The goals it prints beside the
figures: lp_flow >= 98 % of the bound below saturation, >= 90 % at saturation, lp_flow >= min_wait >= nearest.
"""

from __future__ import annotations

import argparse
import platform
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy import stats

from fleet.kpi import summarize
from minefleet.assemble import build_run
from minefleet.bound import lp_bound
from minefleet.scenario import load_scenario

PLANNERS = ("nearest", "min_wait", "fixed", "lp_flow", "pangu")


def one_shift(job: tuple[str, str, int, int, float]) -> tuple[str, int, float, float, float]:
    scenario, planner, trucks, seed, hours = job
    scn = load_scenario(scenario).with_overrides(hours=hours, seed=seed, planner=planner).resized(trucks)
    run = build_run(scn)
    try:
        run.sim.run(hours * 3600.0)
    finally:
        run.close()
    s = summarize(run.sim)
    bound = lp_bound(run.sim, s)
    return planner, trucks, s["tonnes_per_hour"], bound["tonnes_per_hour"], bound.get("steady_share", float("nan"))


def ci95(x: np.ndarray) -> float:
    return float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default="open_pit")
    parser.add_argument("--trucks", type=int, nargs="+", default=[30, 60])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--planners", nargs="+", default=list(PLANNERS))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    jobs = [(args.scenario, p, n, seed, args.hours) for n in args.trucks for p in args.planners
            for seed in range(args.seeds)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(one_shift, jobs))
    wall = time.perf_counter() - started
    print(f"minefleet planners, {args.scenario}, {args.seeds} seeds x {args.hours:g} h per row; "
          f"{len(jobs)} shifts in {wall:.0f} s on {args.workers} workers; host {platform.machine()}")
    print(f"{'trucks':>6}  {'planner':<9} {'t/h mean':>10} {'95% CI':>8} {'bound':>8} {'share':>7} {'steady':>7}")
    means: dict[tuple[int, str], float] = {}
    for n in args.trucks:
        for p in args.planners:
            rows = [r for r in results if r[0] == p and r[1] == n]
            tph = np.array([r[2] for r in rows])
            bound = np.array([r[3] for r in rows])
            means[(n, p)] = float(tph.mean())
            steady = np.array([r[4] for r in rows])
            print(f"{n:>6}  {p:<9} {tph.mean():>10,.0f} {ci95(tph):>8,.0f} {bound.mean():>8,.0f} "
                  f"{(tph / bound).mean():>7.1%} {steady.mean():>7.1%}")
    for n in args.trucks:
        if all((n, p) in means for p in ("lp_flow", "min_wait", "nearest")):
            order = means[(n, "lp_flow")] >= means[(n, "min_wait")] >= means[(n, "nearest")]
            print(f"{n} trucks: lp_flow >= min_wait >= nearest: {'yes' if order else 'NO'}")


if __name__ == "__main__":
    main()
