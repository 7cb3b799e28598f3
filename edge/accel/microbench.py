"""Micro-graphs and timing helpers for calibrating the host profile with onnxruntime.

Why separate: calibration (`edge.accel.calibrate`) decides what to measure and how to turn timings into
profile figures; this module only builds the small purpose-made graphs and times them, one intra-op thread,
median wall time after warm-up. None of these graphs is a validation model.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

from edge.accel.netbuild import GraphBuilder

Feed = dict[str, np.ndarray]


def session(model: onnx.ModelProto, threads: int = 1) -> ort.InferenceSession:
    """A CPU session as the validation uses it: one intra-op thread, sequential, full graph optimisation."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def median_time(run: Callable[[], object], budget_s: float = 0.3, min_runs: int = 15, warmup: int = 5) -> float:
    """[s] median wall time of `run` after warm-up, repeated until a time budget or a run count is met."""
    for _ in range(warmup):
        run()
    times: list[float] = []
    spent = 0.0
    while len(times) < min_runs or (spent < budget_s and len(times) < 2000):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
        spent += times[-1]
    return statistics.median(times)


def time_model(model: onnx.ModelProto, feed: Feed, budget_s: float = 0.3, rounds: int = 3) -> float:
    """[s] time of one run() of `model` on `feed`: the lowest of `rounds` medians, so that a burst of other
    load on a shared machine during one round does not enter the figure."""
    sess = session(model)
    return min(median_time(lambda: sess.run(None, feed), budget_s / rounds) for _ in range(rounds))


class _Reader(CalibrationDataReader):
    def __init__(self, feed: Feed) -> None:
        self._feeds = iter([{k: v[:1] for k, v in feed.items()}] * 4)

    def get_next(self) -> Feed | None:
        return next(self._feeds, None)


def int8(model: onnx.ModelProto, feed: Feed) -> onnx.ModelProto:
    """The same graph through onnxruntime's static QDQ quantiser (uint8 activations, int8 weights)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "f.onnx", Path(tmp) / "q.onnx"
        onnx.save(model, str(src))
        quantize_static(str(src), str(dst), _Reader(feed), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        return onnx.load(str(dst))


def dense_chain(n: int) -> tuple[onnx.ModelProto, Feed]:
    """n tiny 16 -> 16 dense layers: almost nothing but kernel launches."""
    b = GraphBuilder(f"chain{n}")
    x = b.input("x", ["N", 16])
    for _ in range(n):
        x = b.dense(x, 16, 16)
    b.output(x)
    return b.build(), {"x": np.linspace(-1, 1, 16, dtype=np.float32).reshape(1, 16)}


def matmul(m: int, k: int, n: int) -> tuple[onnx.ModelProto, Feed, int]:
    """[m, k] @ [k, n]: (model, feed, MACs)."""
    b = GraphBuilder(f"mm{m}x{k}x{n}")
    b.output(str(b.node("MatMul", [b.input("x", ["N", k]), b.weight("w", [k, n])])))
    feed = {"x": np.random.default_rng(1).standard_normal((m, k)).astype(np.float32)}
    return b.build(), feed, m * k * n


# name -> (channels in, channels out, kernel, stride, input length, spatial rank, batch): whole 16-wide tiles
LAYERS: dict[str, tuple[int, int, int, int, int, int, int]] = {
    "conv2d": (32, 64, 3, 1, 32, 2, 4),
    "conv2d_s2": (32, 64, 3, 2, 64, 2, 4),
    "conv1d": (32, 64, 5, 1, 256, 1, 8),
    "conv1d_s2": (32, 64, 5, 2, 512, 1, 8),
    "conv1d_shallow": (2, 64, 3, 1, 512, 1, 8),  # a reduction only K = 6 deep
    "conv1d_tiny": (8, 16, 3, 1, 16, 1, 1),  # almost all per-call cost
}


def layer(name: str, batch: int | None = None) -> tuple[onnx.ModelProto, Feed, int, int]:
    """A single conv layer from LAYERS, or "gemm" (64 x 512 x 512): (model, feed, MACs, reduction depth K)."""
    if name == "gemm":
        model, feed, macs = matmul(64, 512, 512)
        return model, feed, macs, 512
    cin, cout, k, stride, length, rank, default_batch = LAYERS[name]
    n = batch or default_batch
    b = GraphBuilder(name)
    b.output(b.conv(b.input("x", ["N", cin, *[length] * rank]), cin, cout, k, stride=stride, dims=rank, act=None))
    feed = {"x": np.random.default_rng(2).standard_normal((n, cin, *[length] * rank)).astype(np.float32)}
    return b.build(), feed, n * cout * (length // stride) ** rank * cin * k**rank, cin * k**rank


def elementwise(op: str, n: int) -> tuple[onnx.ModelProto, Feed]:
    """One Add (x + x) or unary op over n floats."""
    b = GraphBuilder(f"{op}{n}")
    x = b.input("x", ["N", n])
    b.output(str(b.node(op, [x, x] if op == "Add" else [x])))
    return b.build(), {"x": np.random.default_rng(3).standard_normal((1, n)).astype(np.float32)}
