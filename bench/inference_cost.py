"""Host cost of batched perception: minefleet's path vs onnxruntime's own floor, per frame.

    python -m bench.inference_cost [--trucks 30 100] [--repeats 300]

For each zoo model and fleet size: the cost per frame of ``OnnxPerception.infer`` on one batch of sensor
scans (what a simulation tick pays), against a bare ``InferenceSession.run`` on the same batch with a
prepared contiguous float32 array (onnxruntime's floor), both single-threaded, median of repeats.
Target: within 1.5x of the floor.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edge.contract import SensorSpec
from edge.dataset import generate, road_half_widths
from edge.perception import OnnxPerception
from minefleet.paths import data_dir

TARGET = 1.5


def median_s(fn, repeats: int) -> float:
    for _ in range(20):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trucks", type=int, nargs="+", default=[30, 100])
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    spec = SensorSpec()
    models = sorted((data_dir("assets") / "models").glob("*.onnx"))
    frames = generate(max(args.trucks), spec, road_half_widths(data_dir("maps")), np.random.default_rng(0),
                      dust=0.3)
    print(f"{'model':>11} {'trucks':>6} {'minefleet us/frame':>19} {'ort floor us/frame':>19} {'ratio':>6}")
    for path in models:
        runtime = OnnxPerception(path, spec)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        bare = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        for n in args.trucks:
            # What a tick hands over: a slice of the fleet's scans (not necessarily contiguous).
            scans = frames.scans[:n]
            ready = np.ascontiguousarray(scans, dtype=np.float32)
            ours = median_s(lambda s=scans, rt=runtime: rt.infer(s, None), args.repeats)
            floor = median_s(lambda r=ready, b=bare: b.run(["sectors"], {"scan": r}), args.repeats)
            print(f"{Path(path).stem:>11} {n:>6} {ours / n * 1e6:>19.2f} {floor / n * 1e6:>19.2f} "
                  f"{ours / floor:>5.2f}x")
    print(f"target: within {TARGET}x of the floor")


if __name__ == "__main__":
    main()
