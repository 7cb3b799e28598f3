"""The pre-trained dispatch model against ``lp_flow`` on the shipped mines, none of which it was trained on.

    python -m bench.pangu [--scenarios tutorial open_pit strip_mine] [--seeds 5] [--hours 8] [--workers 2]

Per scenario and seed (0..n-1; fine-tuning uses seeds from 1000 up, so no shift judged here was trained on), one
shift each with ``lp_flow``, ``pangu`` zero-shot (``assets/models/pangu.onnx``) and, where it exists,
``pangu`` adapted to that mine (``assets/models/pangu-<scenario>.onnx``, made by
``python -m cloud.train --finetune <scenario>``). Printed: t/h mean and 95 % CI, the ratio to ``lp_flow`` on the
same seeds, the share of decisions that fell back to ``lp_flow`` (budget miss, invalid answer, layout too large),
how often the model chose as ``lp_flow`` would have, and the model's decision latency on the emulated Ascend 910C.
Goals printed beside them: zero-shot within 3 % of lp_flow on every mine; adapted >= lp_flow on at least one.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

import numpy as np

from bench.planners import ci95
from fleet.kpi import summarize
from minefleet.assemble import build_run
from minefleet.paths import data_dir
from minefleet.scenario import load_scenario

ZERO_SHOT_GOAL = 0.97


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", nargs="+", default=["tutorial", "open_pit", "strip_mine"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    models = data_dir("assets") / "models"
    jobs = []
    for scenario in args.scenarios:
        variants = [("lp_flow", None), ("zero-shot", "pangu")]
        if (models / f"pangu-{scenario}.onnx").is_file():
            variants.append(("adapted", f"pangu-{scenario}"))
        jobs += [(scenario, label, model, seed, args.hours) for label, model in variants for seed in range(args.seeds)]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(one_shift, jobs))
    print(f"minefleet pangu vs lp_flow: {args.seeds} seeds x {args.hours:g} h per row, {len(jobs)} shifts in "
          f"{time.perf_counter() - started:.0f} s; decision latency emulated on the Ascend 910C profile")
    print(f"{'scenario':<11} {'planner':<10} {'t/h mean':>10} {'95% CI':>7} {'/lp_flow':>9} {'fallback':>9} "
          f"{'as lp':>6} {'910C ms':>8}")
    adapted_wins = []
    for scenario in args.scenarios:
        base = {r["seed"]: r["tph"] for r in results if r["scenario"] == scenario and r["label"] == "lp_flow"}
        for label in ("lp_flow", "zero-shot", "adapted"):
            rows = [r for r in results if r["scenario"] == scenario and r["label"] == label]
            if not rows:
                continue
            tph = np.array([r["tph"] for r in rows])
            ratio = float(np.mean([r["tph"] / base[r["seed"]] for r in rows if base[r["seed"]] > 0]))
            line = f"{scenario:<11} {label:<10} {tph.mean():>10,.0f} {ci95(tph):>7,.0f} {ratio:>9.3f}"
            if label != "lp_flow":
                decisions = sum(r["stats"]["decisions"] for r in rows)
                fallbacks = sum(sum(r["stats"]["fallbacks"].values()) for r in rows)
                agree = sum((r["stats"]["agree_lp_flow"] or 0.0) * r["stats"]["model_decisions"] for r in rows)
                line += (f" {fallbacks / max(decisions, 1):>9.1%} {agree / max(decisions, 1):>6.0%} "
                         f"{rows[0]['stats']['emulated_decision_ms']:>8.3f}")
                goal = ratio >= ZERO_SHOT_GOAL if label == "zero-shot" else ratio >= 1.0
                line += f"  {'meets' if goal else 'MISSES'} " + ("0.97x" if label == "zero-shot" else ">= 1.0x")
                if label == "adapted":
                    adapted_wins.append(ratio >= 1.0)
            print(line)
    if adapted_wins:
        print(f"adapted >= lp_flow on at least one mine: {'yes' if any(adapted_wins) else 'NO'}")


if __name__ == "__main__":
    main()
