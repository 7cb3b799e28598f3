"""The pre-trained dispatch model against ``lp_flow`` on the shipped mines, none of which it was trained on.

    python -m bench.pangu [--scenarios tutorial open_pit strip_mine] [--seeds 5] [--hours 8] [--workers 2]

Per scenario and seed (0..n-1; fine-tuning uses seeds from 1000 up, so no shift judged here was trained on), one
shift each with ``lp_flow``, ``pangu`` zero-shot (``assets/models/pangu.onnx``) and, where it exists,
``pangu`` adapted to that mine (``assets/models/pangu-<scenario>.onnx``, made by
``python -m cloud.train --finetune <scenario>``). Printed: t/h mean and 95 % CI, the ratio to ``lp_flow`` on the
same seeds, the share of decisions that fell back to ``lp_flow`` (budget miss, invalid answer, layout too large),
how often the model chose as ``lp_flow`` would have, and the model's decision latency on the emulated Ascend 910C.
Goals printed beside them: zero-shot within 3 % of lp_flow on every mine; adapted >= lp_flow on at least one.
``run(quick=True)``: 2 seeds of 1 h per row.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np

from bench.planners import ci95
from bench.report import Target, at_least, figure, print_figures
from fleet.kpi import summarize
from minefleet.assemble import build_run
from minefleet.paths import data_dir
from minefleet.scenario import load_scenario

ZERO_SHOT_GOAL = 0.97
SCENARIOS = ("tutorial", "open_pit", "strip_mine")
SEEDS, QUICK_SEEDS = 5, 2
HOURS, QUICK_HOURS = 8.0, 1.0  # [h]
WORKERS = 2


def one_shift(job: tuple[str, str, str | None, int, float]) -> dict:
    scenario, label, model, seed, hours = job
    scn = load_scenario(scenario).with_overrides(hours=hours, seed=seed)
    if model is None:
        scn = scn.with_overrides(planner="lp_flow")
    else:
        scn = replace(scn, planner="pangu", planner_options={"model": model})
    run = build_run(scn)
    try:
        run.sim.run(hours * 3600.0)
    finally:
        run.close()
    stats = run.cloud.planner.stats() if hasattr(run.cloud.planner, "stats") else {}
    return {"scenario": scenario, "label": label, "seed": seed, "tph": summarize(run.sim)["tonnes_per_hour"],
            "stats": stats}


def run(quick: bool = False, scenarios: tuple[str, ...] = SCENARIOS, seeds: int | None = None,
        hours: float | None = None, workers: int = WORKERS) -> dict[str, Any]:
    """Every variant's seeded shifts per mine; rows, and figures beside lp_flow on the same seeds."""
    seeds = seeds or (QUICK_SEEDS if quick else SEEDS)
    hours = hours or (QUICK_HOURS if quick else HOURS)
    models = data_dir("assets") / "models"
    jobs = []
    for scenario in scenarios:
        variants = [("lp_flow", None), ("zero-shot", "pangu")]
        if (models / f"pangu-{scenario}.onnx").is_file():
            variants.append(("adapted", f"pangu-{scenario}"))
        jobs += [(scenario, label, model, seed, hours) for label, model in variants for seed in range(seeds)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one_shift, jobs))
    rows, figures, adapted_wins = [], [], []
    for scenario in scenarios:
        base = {r["seed"]: r["tph"] for r in results if r["scenario"] == scenario and r["label"] == "lp_flow"}
        for label in ("lp_flow", "zero-shot", "adapted"):
            got = [r for r in results if r["scenario"] == scenario and r["label"] == label]
            if not got:
                continue
            tph = np.array([r["tph"] for r in got])
            ratio = float(np.mean([r["tph"] / base[r["seed"]] for r in got if base[r["seed"]] > 0]))
            row = {"scenario": scenario, "label": label, "tph": float(tph.mean()), "ci95": ci95(tph), "ratio": ratio}
            if label != "lp_flow":
                decisions = sum(r["stats"]["decisions"] for r in got)
                fallbacks = sum(sum(r["stats"]["fallbacks"].values()) for r in got)
                agree = sum((r["stats"]["agree_lp_flow"] or 0.0) * r["stats"]["model_decisions"] for r in got)
                row.update(fallback=fallbacks / max(decisions, 1), agree=agree / max(decisions, 1),
                           emulated_ms=got[0]["stats"]["emulated_decision_ms"])
                target = at_least(ratio, ZERO_SHOT_GOAL, "x") if label == "zero-shot" else None
                figures.append(figure(f"{scenario} {label} t/h", row["tph"], "t/h",
                                      baseline=float(np.mean(list(base.values()))), baseline_name="lp_flow",
                                      ratio=ratio, target=target))
                if label == "adapted":
                    adapted_wins.append(ratio >= 1.0)
            rows.append(row)
    if adapted_wins:
        won = any(adapted_wins)
        figures.append(figure("adapted >= lp_flow on one mine", float(won), "bool", target=Target("true", won)))
    return {"figures": figures, "rows": rows, "seeds": seeds, "hours": hours, "shifts": len(jobs),
            "wall_s": time.perf_counter() - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS))
    parser.add_argument("--seeds", type=int, default=SEEDS)
    parser.add_argument("--hours", type=float, default=HOURS)
    parser.add_argument("--workers", type=int, default=WORKERS)
    args = parser.parse_args()
    res = run(False, tuple(args.scenarios), args.seeds, args.hours, args.workers)
    print(f"minefleet pangu vs lp_flow: {args.seeds} seeds x {args.hours:g} h per row, {res['shifts']} shifts in "
          f"{res['wall_s']:.0f} s; decision latency emulated on the Ascend 910C profile")
    print(f"{'scenario':<11} {'planner':<10} {'t/h mean':>10} {'95% CI':>7} {'/lp_flow':>9} {'fallback':>9} "
          f"{'as lp':>6} {'910C ms':>8}")
    for r in res["rows"]:
        line = f"{r['scenario']:<11} {r['label']:<10} {r['tph']:>10,.0f} {r['ci95']:>7,.0f} {r['ratio']:>9.3f}"
        if r["label"] != "lp_flow":
            line += f" {r['fallback']:>9.1%} {r['agree']:>6.0%} {r['emulated_ms']:>8.3f}"
        print(line)
    print_figures(res["figures"])


if __name__ == "__main__":
    main()
