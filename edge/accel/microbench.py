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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Timing:
    """One round of timed calls.

    wall_s: median wall time of one call. cpu_s: this thread's CPU time per call over the round (a mean: the CPU
    clock costs a system call to read in a VM, too much to read around a 7 us call). share: CPU time / wall time
    of the round - below 1 when the scheduler gave the core to other processes."""

    wall_s: float  # [s]
    cpu_s: float  # [s]
    share: float

    @property
    def best_s(self) -> float:
        """[s] the call's time on a core of its own: the smaller of two upper bounds. Other processes holding the
        core stretch every call longer than a scheduler slice (wall time), while a call's CPU time excludes them
        but carries the timing loop's own small overhead (which dominates only for calls of a few us)."""
        return min(self.wall_s, self.cpu_s)


def timed(run: Callable[[], object], budget_s: float = 0.3, min_runs: int = 15, warmup: int = 5) -> Timing:
    """Time `run` after warm-up, repeated until a time budget or a run count is met (one intra-op thread, so the
    whole call runs on this thread and its CPU clock)."""
    for _ in range(warmup):
        run()
    times: list[float] = []
    spent = 0.0
    cpu0, wall0 = time.thread_time(), time.perf_counter()
    while len(times) < min_runs or (spent < budget_s and len(times) < 2000):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
        spent += times[-1]
    cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
    return Timing(statistics.median(times), cpu / len(times), cpu / max(wall, 1e-12))


def median_time(run: Callable[[], object], budget_s: float = 0.3, min_runs: int = 15, warmup: int = 5) -> float:
    """[s] median wall time of `run` after warm-up, repeated until a time budget or a run count is met."""
    return timed(run, budget_s, min_runs, warmup).wall_s


def time_model(model: onnx.ModelProto, feed: Feed, budget_s: float = 0.3, rounds: int = 3) -> float:
    """[s] time of one run() of `model` on `feed`: the lowest of `rounds` rounds' `Timing.best_s`, so that a burst
    of other load on a shared machine during one round, or a share of the core taken all along, does not enter
    the figure."""
    sess = session(model)
    return min(timed(lambda: sess.run(None, feed), budget_s / rounds).best_s for _ in range(rounds))


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


def qdq_matmul(m: int, k: int, n: int) -> tuple[onnx.ModelProto, Feed, int]:
    """uint8 [m, k] @ int8 [k, n] -> uint8, as DequantizeLinear -> MatMul -> QuantizeLinear with uint8 graph input
    and output: onnxruntime fuses it to one QLinearMatMul, so the graph is that kernel and nothing else (no
    float quantise / dequantise passes whose estimate would have to be subtracted). (model, feed, MACs)."""
    b = GraphBuilder(f"qmm{m}x{k}x{n}")
    sa, za = b.const(np.float32(0.05)), b.const(np.uint8(128))
    sw, zw = b.const(np.float32(0.01)), b.const(np.int8(0))
    so, zo = b.const(np.float32(0.1)), b.const(np.uint8(128))
    x = str(b.node("DequantizeLinear", [b.input("x", ["N", k], onnx.TensorProto.UINT8), sa, za]))
    rng = np.random.default_rng(4)
    w = str(b.node("DequantizeLinear", [b.const(rng.integers(-127, 128, (k, n), dtype=np.int8)), sw, zw]))
    y = str(b.node("QuantizeLinear", [str(b.node("MatMul", [x, w])), so, zo]))
    b.output(y, onnx.TensorProto.UINT8)
    return b.build(), {"x": rng.integers(0, 256, (m, k), dtype=np.uint8)}, m * k * n


# name -> (channels in, channels out, kernel, stride, input length, spatial rank, batch): whole 16-wide tiles
LAYERS: dict[str, tuple[int, int, int, int, int, int, int]] = {
    "conv2d": (32, 64, 3, 1, 32, 2, 4),
    "conv2d_s2": (32, 64, 3, 2, 64, 2, 4),
    "conv1d": (32, 64, 5, 1, 256, 1, 8),
    "conv1d_narrow": (32, 16, 5, 1, 256, 1, 8),  # conv1d's input, K and column buffer, a quarter of its MACs
    "conv1d_s2": (32, 64, 5, 2, 512, 1, 8),  # the same GEMM as conv1d; only the patch gather is strided
    "conv1d_shallow": (2, 64, 3, 1, 512, 1, 8),  # a reduction only K = 6 deep
    "conv1d_shallow_c4": (4, 64, 3, 1, 512, 1, 8),  # K = 12, channels aligned for the direct int8 kernel
    "conv1d_tiny": (8, 16, 3, 1, 16, 1, 1),  # almost all per-call cost
    # kernel 3 vs 9 over the same input, at two input-channel counts: int8 per-tap cost vs MAC rate
    "taps4_k3": (4, 64, 3, 1, 256, 1, 8),
    "taps4_k9": (4, 64, 9, 1, 256, 1, 8),
    "taps16_k3": (16, 64, 3, 1, 256, 1, 8),
    "taps16_k9": (16, 64, 9, 1, 256, 1, 8),
}


def kernel_rows_conv(kernel: tuple[int, int], cin: int = 6, cout: int = 32, size: int = 40,
                     batch: int = 2) -> tuple[onnx.ModelProto, Feed, int]:
    """One 2-D conv with a non-square kernel, 'same' padding: (model, feed, output positions). A (3, 1) and a
    (1, 3) kernel make the same GEMM (K = 3 cin) over the same input and output; they differ only in how many
    kernel rows an im2col copies per output position (3 vs 1)."""
    kh, kw = kernel
    b = GraphBuilder(f"rows{kh}x{kw}")
    x = b.input("x", ["N", cin, size, size])
    w, bias = b.weight("w", [cout, cin, kh, kw]), b.weight("b", [cout], scale=0.01)
    b.output(str(b.node("Conv", [x, w, bias], kernel_shape=[kh, kw], pads=[kh // 2, kw // 2, kh // 2, kw // 2])))
    feed = {"x": np.random.default_rng(5).standard_normal((batch, cin, size, size)).astype(np.float32)}
    return b.build(), feed, batch * size * size


def column_elements(name: str, batch: int | None = None) -> int:
    """Elements of a LAYERS conv's im2col column buffer over the batch: K x output positions per image."""
    cin, _, k, stride, length, rank, default_batch = LAYERS[name]
    return (batch or default_batch) * (length // stride) ** rank * cin * k**rank


def tap_positions(name: str, batch: int | None = None) -> int:
    """Output positions x kernel taps of a LAYERS conv over the batch."""
    _, _, k, stride, length, rank, default_batch = LAYERS[name]
    return (batch or default_batch) * (length // stride) ** rank * k**rank


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


def int8_layer(built: tuple[onnx.ModelProto, Feed, int, int]) -> tuple[onnx.ModelProto, Feed]:
    """A `layer` through the static QDQ quantiser: (model, feed)."""
    model, feed = built[0], built[1]
    return int8(model, feed), feed


def elementwise(op: str, n: int) -> tuple[onnx.ModelProto, Feed]:
    """One Add (x + x) or unary op over n floats."""
    b = GraphBuilder(f"{op}{n}")
    x = b.input("x", ["N", n])
    b.output(str(b.node(op, [x, x] if op == "Add" else [x])))
    return b.build(), {"x": np.random.default_rng(3).standard_normal((1, n)).astype(np.float32)}


def transpose(rows: int, cols: int) -> tuple[onnx.ModelProto, Feed]:
    """One Transpose of a [1, rows, cols] fp32 tensor to [1, cols, rows]: a pure gather, no arithmetic."""
    b = GraphBuilder(f"transpose{rows}x{cols}")
    b.output(str(b.node("Transpose", [b.input("x", ["N", rows, cols])], perm=[0, 2, 1])))
    return b.build(), {"x": np.random.default_rng(6).standard_normal((1, rows, cols)).astype(np.float32)}


def bias_add(rows: int, run: int) -> tuple[onnx.ModelProto, Feed]:
    """[1, rows, run] + a [run] bias: `rows` contiguous runs of `run` elements, broadcast (see
    `edge.accel.ops.broadcast_spans`)."""
    b = GraphBuilder(f"bias{rows}x{run}")
    b.output(str(b.node("Add", [b.input("x", ["N", rows, run]), b.weight("bias", [run], scale=0.1)])))
    return b.build(), {"x": np.random.default_rng(7).standard_normal((1, rows, run)).astype(np.float32)}
