"""Host cost of batched perception: minefleet's path vs onnxruntime's own floor, per frame.

    python -m bench.inference_cost [--trucks 30 60 100] [--repeats 300]

For each zoo model and fleet size: the cost per frame of ``OnnxPerception.infer`` on one batch of sensor
scans (what a simulation tick pays), against a bare ``InferenceSession.run`` on the same batch with a
prepared contiguous float32 array (onnxruntime's floor), both single-threaded, median of repeats.
Target: within 1.5x of the floor at 60 trucks (the perception shift's fleet). ``run(quick=True)``: 60 trucks
only, fewer repeats.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from bench.report import at_most, figure, print_figures
from edge.contract import ModelError, SensorSpec, inspect_model
from edge.dataset import generate, road_half_widths
from edge.perception import OnnxPerception
from minefleet.paths import data_dir

TARGET = 1.5
TARGET_AT = 60  # [trucks] the fleet size the target is judged at
TRUCKS = (30, TARGET_AT, 100)
REPEATS = 300
QUICK_REPEATS = 100


def median_s(fn, repeats: int) -> float:
    for _ in range(20):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def perception_models(spec: SensorSpec) -> list[Path]:
    """The zoo's perception models: the model folder also holds other kinds (the dispatch planner's), which the
    scan-sectors contract check tells apart."""
    out = []
    for path in sorted((data_dir("assets") / "models").glob("*.onnx")):
        try:
            inspect_model(path, expected=spec)
        except ModelError:
            continue
        out.append(path)
    return out


def run(quick: bool = False, trucks: tuple[int, ...] | None = None, repeats: int | None = None) -> dict[str, Any]:
    """Per zoo model and fleet size: our cost and the floor per frame [us]; the target judged at 60 trucks."""
    trucks = trucks or ((TARGET_AT,) if quick else TRUCKS)
    repeats = repeats or (QUICK_REPEATS if quick else REPEATS)
    spec = SensorSpec()
    models = perception_models(spec)
    frames = generate(max(trucks), spec, road_half_widths(data_dir("maps")), np.random.default_rng(0), dust=0.3)
    rows, figures = [], []
    for path in models:
        runtime = OnnxPerception(path, spec)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        bare = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        for n in trucks:
            # What a tick hands over: a slice of the fleet's scans (not necessarily contiguous).
            scans = frames.scans[:n]
            ready = np.ascontiguousarray(scans, dtype=np.float32)
            ours = median_s(lambda s=scans, rt=runtime: rt.infer(s, None), repeats) / n * 1e6
            floor = median_s(lambda r=ready, b=bare: b.run(["sectors"], {"scan": r}), repeats) / n * 1e6
            rows.append({"model": Path(path).stem, "trucks": n, "us_per_frame": ours, "floor_us_per_frame": floor,
                         "ratio": ours / floor})
            target = at_most(ours / floor, TARGET, "x") if n == TARGET_AT else None
            figures.append(figure(f"{Path(path).stem} {n} trucks, per frame", ours, "us", baseline=floor,
                                  baseline_name="ort floor", target=target))
    return {"figures": figures, "rows": rows, "repeats": repeats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trucks", type=int, nargs="+", default=list(TRUCKS))
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    res = run(False, tuple(args.trucks), args.repeats)
    print(f"{'model':>11} {'trucks':>6} {'minefleet us/frame':>19} {'ort floor us/frame':>19} {'ratio':>6}")
    for r in res["rows"]:
        print(f"{r['model']:>11} {r['trucks']:>6} {r['us_per_frame']:>19.2f} {r['floor_us_per_frame']:>19.2f} "
              f"{r['ratio']:>5.2f}x")
    print(f"target: within {TARGET}x of the floor at {TARGET_AT} trucks")
    print_figures(res["figures"])


if __name__ == "__main__":
    main()
