"""Every dispatch planner on one mine at two fleet sizes, seeded shifts: t/h with a 95 % CI and the LP bound share.

    python -m bench.planners [--scenario open_pit] [--trucks 30 60] [--seeds 10] [--hours 8] [--workers 2]

Each row is one planner at one fleet size over ``--seeds`` shifts (seeds 0..n-1), run in separate processes.
``bound`` is the flow LP's t/h for the same layout, fleet and availability (no queues, no traffic): no planner
can beat it, so ``share`` says how far each is from the best the mine could do over the whole shift, start-up
and unfinished loads included, and ``steady`` the same for the t/h tipped after the first hour
(``minefleet.bound.steady_tph``), which is what the bound, a steady state, describes. The goals it prints beside the
figures: lp_flow >= 98 % of the bound below saturation, >= 90 % at saturation, lp_flow >= min_wait >= nearest.
In the figures of ``run()`` each planner's t/h stands beside the bound of the same shifts; lp_flow's steady share
(after the first hour: the bound describes a steady state) is judged against the saturated goal (90 %), which
holds at every fleet size (the 98 % goal below saturation is read from the share). ``run(quick=True)``: 30
trucks, 3 seeds of 2 h.
"""

from __future__ import annotations

import argparse
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
from scipy import stats

from bench.report import Target, at_least, figure, print_figures
from fleet.kpi import summarize
from minefleet.assemble import build_run
from minefleet.bound import lp_bound
from minefleet.scenario import load_scenario

PLANNERS = ("nearest", "min_wait", "fixed", "lp_flow", "pangu")
SCENARIO = "open_pit"
TRUCKS, QUICK_TRUCKS = (30, 60), (30,)
SEEDS, QUICK_SEEDS = 10, 3
HOURS, QUICK_HOURS = 8.0, 2.0  # [h]; a steady share needs more than the first hour
WORKERS = 2
LP_SHARE_GOAL = 0.90  # lp_flow's steady t/h as a share of the bound, at saturation (the weaker of the two goals)
ORDER = ("lp_flow", "min_wait", "nearest")  # the t/h order the planners should keep


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


def run(quick: bool = False, scenario: str = SCENARIO, trucks: tuple[int, ...] | None = None,
        seeds: int | None = None, hours: float | None = None, planners: tuple[str, ...] = PLANNERS,
        workers: int = WORKERS) -> dict[str, Any]:
    """Every planner's seeded shifts at each fleet size; rows, and figures beside the LP bound."""
    trucks = trucks or (QUICK_TRUCKS if quick else TRUCKS)
    seeds = seeds or (QUICK_SEEDS if quick else SEEDS)
    hours = hours or (QUICK_HOURS if quick else HOURS)
    jobs = [(scenario, p, n, seed, hours) for n in trucks for p in planners for seed in range(seeds)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one_shift, jobs))
    wall = time.perf_counter() - started
    rows, figures = [], []
    for n in trucks:
        means: dict[str, float] = {}
        for p in planners:
            got = [r for r in results if r[0] == p and r[1] == n]
            tph, bound = np.array([r[2] for r in got]), np.array([r[3] for r in got])
            share = float((tph / bound).mean())
            means[p] = float(tph.mean())
            rows.append({"trucks": n, "planner": p, "tph": means[p], "ci95": ci95(tph), "bound": float(bound.mean()),
                         "share": share, "steady": float(np.array([r[4] for r in got]).mean())})
            figures.append(figure(f"{n} trucks {p} t/h", means[p], "t/h", baseline=float(bound.mean()),
                                  baseline_name="LP bound", ratio=share))
            if p == "lp_flow" and np.isfinite(rows[-1]["steady"]):
                steady = rows[-1]["steady"]
                figures.append(figure(f"{n} trucks lp_flow steady share of bound", steady, "share",
                                      target=at_least(steady, LP_SHARE_GOAL)))
        if all(p in means for p in ORDER):
            kept = means[ORDER[0]] >= means[ORDER[1]] >= means[ORDER[2]]
            figures.append(figure(f"{n} trucks {' >= '.join(ORDER)}", float(kept), "bool",
                                  target=Target("true", kept)))
    return {"figures": figures, "rows": rows, "scenario": scenario, "seeds": seeds, "hours": hours,
            "shifts": len(jobs), "wall_s": wall, "workers": workers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default=SCENARIO)
    parser.add_argument("--trucks", type=int, nargs="+", default=list(TRUCKS))
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--hours", type=float, default=HOURS)
    parser.add_argument("--planners", nargs="+", default=list(PLANNERS))
    parser.add_argument("--workers", type=int, default=WORKERS)
    args = parser.parse_args()
    res = run(False, args.scenario, tuple(args.trucks), args.seeds, args.hours, tuple(args.planners), args.workers)
    print(f"minefleet planners, {args.scenario}, {args.seeds} seeds x {args.hours:g} h per row; "
          f"{res['shifts']} shifts in {res['wall_s']:.0f} s on {args.workers} workers; host {platform.machine()}")
    print(f"{'trucks':>6}  {'planner':<9} {'t/h mean':>10} {'95% CI':>8} {'bound':>8} {'share':>7} {'steady':>7}")
    for r in res["rows"]:
        print(f"{r['trucks']:>6}  {r['planner']:<9} {r['tph']:>10,.0f} {r['ci95']:>8,.0f} {r['bound']:>8,.0f} "
              f"{r['share']:>7.1%} {r['steady']:>7.1%}")
    print_figures(res["figures"])


if __name__ == "__main__":
    main()
