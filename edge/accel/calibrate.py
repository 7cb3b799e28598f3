"""Calibrate the `host` profile on this CPU with onnxruntime micro-benchmarks (single intra-op thread).

Why: the cost model is validated against real onnxruntime timings on the host, so the host's figures must be
measured on the host - but never fitted to the validation models. Each figure comes from purpose-built
micro-graphs (`edge.accel.microbench`): chains of tiny dense layers (per-call and per-kernel overhead, fp32 and
int8), large MatMuls (matrix peak), a few ordinary layers (share of peak per layer kind), shallow convs and a
shallow int8 MatMul (reduction-depth overheads), elementwise ops (memory bandwidth from a slope, vector rate),
and pairs of graphs that differ in one lowering cost only: int8 MatMuls of 16 vs 128 columns (per-row cost of
the int8 GEMM), a stride-2 vs a stride-1 Conv1d of the same GEMM (strided im2col gather), a (3, 1) vs a (1, 3)
int8 conv kernel (im2col copies per kernel row). Where a micro-graph has kernels besides the one measured, the
cost model's own estimate of those is subtracted, so the figures are consistent with how the model prices a
graph.

    python -m edge.accel.calibrate            # print the measured figures
    python -m edge.accel.calibrate --write    # rewrite edge/devices/host.toml with them
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics

import numpy as np
import onnx
import onnxruntime as ort

from edge.accel import microbench as mb
from edge.accel.cost import model_cost
from edge.accel.profile import DEVICES_DIR, DeviceProfile


def _base_profile(m: dict[str, float]) -> DeviceProfile:
    """A provisional host profile from the figures measured so far (matrix figures still unknown)."""
    return DeviceProfile(
        name="host", kind="cpu", description="calibrating", peak_fp16_tflops=1.0, peak_int8_tops=1.0,
        peak_fp32_tflops=1.0, fp32_as_fp16=False, vector_tflops=m["vector_tflops"], memory_gbps=m["memory_gbps"],
        ai_cores=1, efficiency=1.0, op_launch_us=m["op_launch_us"], transfer_gbps=m["transfer_gbps"],
        transfer_latency_us=m["transfer_latency_us"], ai_cpu_gflops=m["vector_tflops"] * 1e3,
        ai_cpu_gbps=m["memory_gbps"], ai_cpu_launch_us=m["op_launch_us"], power_w=1.0, cube_tile=(1, 16, 1),
        ai_core_ops=frozenset(), op_launch_int8_us=m.get("op_launch_int8_us", m["op_launch_us"]),
        direct_conv_int8_align=DIRECT_CONV_INT8_ALIGN, direct_conv_int8_min_out=DIRECT_CONV_INT8_MIN_OUT,
        gemm_row_int8_us=m.get("gemm_row_int8_us", 0.0),
    )


# MLAS's direct ("ConvSym") int8 conv kernel on AVX512-VNNI / AVX-VNNI / AVX2 takes input and output channels in
# multiples of 4 (one VNNI dot product sums 4 input channels) and packs output channels 16 at a time; onnxruntime
# sends any other QLinearConv to im2col + the generic int8 GEMM (MlasConvSymPackWSize returns 0).
DIRECT_CONV_INT8_ALIGN = 4
# [rows, cols] of the calibration Transpose: 1 MB of fp32, the size of a mid-network activation
TRANSPOSE_SHAPE = (512, 512)
# [K, N] of the calibration GEMV ([1, K] @ [K, N]): 4 MB of fp32 weights, read once per call, no arithmetic to speak of
GEMV_SHAPE = (1024, 1024)
# (rows, run) of two bias Adds of the same 64 K elements: 4096 runs of 16 vs 256 runs of 256
BROADCAST_RUNS = ((4096, 16), (256, 256))
DIRECT_CONV_INT8_MIN_OUT = 16


def _best(model: onnx.ModelProto, feed: mb.Feed, repeats: int = 3) -> float:
    """[s] lowest of a few `time_model` figures: figures that come from a difference of two timings need both
    timings free of bursts of other load."""
    return min(mb.time_model(model, feed) for _ in range(repeats))


def _kernel_time(base: DeviceProfile, model: onnx.ModelProto, feed: mb.Feed) -> float:
    """[s] time of the matrix kernel(s) alone: measured time less the model's estimate of everything else
    (transfers, call latency, other kernels) and of the matrix kernels' launches."""
    cost = model_cost(model, base, next(iter(feed.values())).shape[0])
    other = cost.transfer_s + sum(n.time_s for n in cost.nodes if not n.macs)
    launches = sum(base.launch_s(n.precision) for n in cost.nodes if n.macs)
    return max(_best(model, feed) - other - launches, 1e-9)


def _matrix_rate(base: DeviceProfile, model: onnx.ModelProto, feed: mb.Feed, macs: int, rows: int = 0,
                 extra_s: float = 0.0) -> float:
    """[op/s] of the matrix kernel(s)' arithmetic alone: less the int8 GEMM's per-row cost for `rows` rows of A,
    and less `extra_s` of non-arithmetic work (an im2col conv's column buffer)."""
    row_s = rows * base.gemm_row_int8_us * 1e-6
    return 2 * macs / max(_kernel_time(base, model, feed) - row_s - extra_s, 1e-9)


def _column_s(m: dict[str, float], name: str, batch: int | None = None) -> float:
    """[s] the column-buffer cost of a LAYERS Conv1d at fp32 (what `cost._im2col_s` charges)."""
    strided = mb.LAYERS[name][3] > 1
    per_element = m["im2col_ns"] + (m["im2col_strided_ns"] if strided else 0.0)
    return mb.column_elements(name, batch) * per_element * 1e-9


def _k_overhead(shallow: float, deep: float, ks: int, kd: int) -> float:
    """k0 with rate ~ K / (K + k0), from the rates of a shallow (ks) and a deep (kd) reduction."""
    rho = shallow / deep
    return max(ks * kd * (1 - rho) / (rho * kd - ks), 0.0) if rho * kd > ks else 1e3


def _overheads() -> dict[str, float]:
    """Per-call, per-kernel, memory, vector and copy figures (no matrix work involved)."""
    m: dict[str, float] = {}
    (c1, f1), (c41, _) = mb.dense_chain(1), mb.dense_chain(41)
    t1, t41 = _best(c1, f1), _best(c41, f1)
    m["op_launch_us"] = (t41 - t1) / 40 * 1e6  # one fused Gemm kernel per layer
    m["transfer_latency_us"] = max(t1 * 1e6 - m["op_launch_us"], 0.0)
    small, large = 1 << 16, 1 << 20
    t_small, t_large = _best(*mb.elementwise("Add", small)), _best(*mb.elementwise("Add", large))
    m["memory_gbps"] = 3 * 4 * (large - small) / (t_large - t_small) / 1e9  # two reads and a write of fp32
    t_sig = _best(*mb.elementwise("Sigmoid", 1 << 15))
    m["vector_tflops"] = 4 * (1 << 15) / max(t_sig - t1, 1e-9) / 1e12
    src = np.ones(1 << 20, np.float32)
    dst = np.empty_like(src)
    m["transfer_gbps"] = 2 * src.nbytes / mb.median_time(lambda: np.copyto(dst, src)) / 1e9
    rows, cols = TRANSPOSE_SHAPE
    t_transpose = _best(*mb.transpose(rows, cols))
    m["transpose_gbps"] = 2 * 4 * rows * cols / max(t_transpose - t1, 1e-9) / 1e9  # read and write fp32
    gemv, gemv_feed, _ = mb.matmul(1, *GEMV_SHAPE)
    weights = 4 * GEMV_SHAPE[0] * GEMV_SHAPE[1]
    m["weight_gbps"] = weights / max(_best(gemv, gemv_feed) - t1, 1e-9) / 1e9  # t1: the call and one kernel
    (short, many), (long, few) = BROADCAST_RUNS
    t_many, t_few = _best(*mb.bias_add(short, many)), _best(*mb.bias_add(long, few))
    m["broadcast_span_ns"] = max((t_many - t_few) / (short - long), 0.0) * 1e9  # same elements, more runs
    q1, q41 = mb.int8(c1, f1), mb.int8(c41, f1)
    kernels = [len(model_cost(q, _base_profile(m), 1).nodes) for q in (q1, q41)]
    m["op_launch_int8_us"] = (_best(q41, f1) - _best(q1, f1)) / (kernels[1] - kernels[0]) * 1e6
    return m


def _int8_gemm(m: dict[str, float]) -> tuple[float, float]:
    """gemm_row_int8_us, and the rate of a shallow (K = 8) int8 GEMM with that row cost removed.

    The same uint8 [4096 x 8] @ int8 [8 x N] at N = 16 and N = 128: time = M (row + N x per-output), so
    8 t16 - t128 = 7 M row."""
    base = _base_profile(m)
    rows, depth = 4096, 8
    narrow, wide = (mb.qdq_matmul(rows, depth, n) for n in (16, 128))
    t16, t128 = _kernel_time(base, *narrow[:2]), _kernel_time(base, *wide[:2])
    row_s = max((8 * t16 - t128) / (7 * rows), 0.0)
    return row_s * 1e6, 2 * wide[2] / max(t128 - rows * row_s, 1e-9)


def _direct_tap_us(m: dict[str, float]) -> float:
    """[us] per output position and kernel tap of the direct int8 conv kernel.

    Kernel 3 vs 9 over the same input (same quantise pass and layout transposes) differ by 6 taps per output
    position: per position and tap, Cin x Cout MACs plus the tap cost. At 4 and at 16 input channels the two
    differences separate the MAC time from the tap cost (few channels, so the tap cost is a large share of each
    difference and the split is well conditioned)."""
    base = _base_profile(m)
    step = {}
    for cin in (4, 16):
        narrow, wide = mb.layer(f"taps{cin}_k3"), mb.layer(f"taps{cin}_k9")
        extra = mb.tap_positions(f"taps{cin}_k9") - mb.tap_positions(f"taps{cin}_k3")
        step[cin] = (_kernel_time(base, *mb.int8_layer(wide)) - _kernel_time(base, *mb.int8_layer(narrow))) / extra
    cout = mb.LAYERS["taps4_k3"][1]
    per_mac = (step[16] - step[4]) / ((16 - 4) * cout)
    return max(step[4] - 4 * cout * per_mac, 0.0) * 1e6


def _rates(base: DeviceProfile, m: dict[str, float]) -> tuple[dict[str, float], dict[str, int]]:
    """Kernel rates of every matrix micro-graph at fp32 and int8, and each one's reduction depth K."""
    rate: dict[str, float] = {}
    depth: dict[str, int] = {}
    for size in [(256, 256, 256), (512, 512, 512), (256, 1024, 1024)]:
        model, feed, macs = mb.matmul(*size)
        name = "mm{}x{}x{}".format(*size)
        depth[name] = size[1]
        rate[f"{name}_fp32"] = _matrix_rate(base, model, feed, macs)
        rate[f"{name}_int8"] = _matrix_rate(base, mb.int8(model, feed), feed, macs, rows=size[0])
    for name in ["conv2d", "conv2d_s2", "conv1d", "conv1d_s2", "conv1d_shallow", "conv1d_shallow_c4", "gemm"]:
        model, feed, macs, depth[name] = mb.layer(name)
        column = _column_s(m, name) if name.startswith("conv1d") else 0.0  # fp32 Conv1d runs as im2col + GEMM
        rate[f"{name}_fp32"] = _matrix_rate(base, model, feed, macs, extra_s=column)
        rows = 64 if name == "gemm" else 0  # the direct conv kernel reads its input in place: no packed rows
        taps = mb.tap_positions(name) * m["direct_conv_int8_tap_us"] * 1e-6 if name != "gemm" else 0.0
        rate[f"{name}_int8"] = _matrix_rate(base, mb.int8(model, feed), feed, macs, rows=rows, extra_s=taps)
    return rate, depth


def _shares(m: dict[str, float], rate: dict[str, float], depth: dict[str, int]) -> None:
    """Peaks, reduction-depth overheads and shares of peak per layer kind, at fp32 and int8."""
    m["k_overhead"] = _k_overhead(rate["conv1d_shallow_fp32"], rate["conv1d_fp32"], 6, depth["conv1d"])
    m["k_overhead_int8_conv"] = _k_overhead(rate["conv1d_shallow_c4_int8"], rate["conv1d_int8"], 12,
                                            depth["conv1d"])
    # with their column buffer removed, fp32 Conv1d rates of stride 1 and 2 are the same GEMM: stride 1 sets it
    kinds = {"conv2d": ["conv2d", "conv2d_s2"], "gemm": ["gemm"]}
    for prec, gemm_k0, conv_k0, conv1d in [("fp32", "k_overhead", "k_overhead", ["conv1d"]),
                                           ("int8", "k_overhead_int8", "k_overhead_int8_conv",
                                            ["conv1d", "conv1d_s2"])]:

        def deep(name: str, prec: str = prec, gemm_k0: str = gemm_k0, conv_k0: str = conv_k0) -> float:
            """The rate a reduction of unbounded depth would reach: measured x (K + k0) / K."""
            k0 = m[conv_k0] if name.startswith("conv") else m[gemm_k0]
            return rate[f"{name}_{prec}"] * (depth[name] + k0) / depth[name]

        peak = max(deep(n) for n in depth if n.startswith("mm"))
        m["peak_fp32_tflops" if prec == "fp32" else "peak_int8_tops"] = peak / 1e12
        for kind, names in [*kinds.items(), ("conv1d", conv1d)]:  # geometric mean over the listed layers
            share = float(np.exp(np.mean([np.log(deep(n) / peak) for n in names])))
            m[f"eff_{kind}_{prec}"] = min(share, 1.0)
    m["efficiency"] = statistics.median(m[f"eff_{n}_fp32"] for n in ["conv2d", "conv1d", "gemm"])


def _im2col_figures(m: dict[str, float]) -> None:
    """The convolution lowering costs that are not GEMM arithmetic.

    im2col_ns: fp32 conv1d (32->64) and conv1d_narrow (32->16) share their input, K = 160 and column buffer
    (8 x 256 x 160 elements); the narrow one does a quarter of the MACs. So (t64 - t16) / 3 is the narrow one's
    arithmetic, and the rest of t16 is the column buffer: copying the patches and packing them for the SGEMM.
    im2col_strided_ns: conv1d_s2 is conv1d's GEMM and column buffer with a stride-2 gather; the difference is
    the strided copy's extra per element.
    im2col_row_us: an int8 conv with 6 input channels misses the direct kernel; a (3, 1) and a (1, 3) kernel make
    the same GEMM over the same tensors, and differ by two memcpy'd kernel rows per output position."""
    base = _base_profile(m)
    t = {name: _kernel_time(base, *mb.layer(name)[:2]) for name in ("conv1d", "conv1d_narrow", "conv1d_s2")}
    column = mb.column_elements("conv1d")
    narrow_arithmetic = (t["conv1d"] - t["conv1d_narrow"]) / 3  # 64 vs 16 output channels: 4 vs 1 x the MACs
    m["im2col_ns"] = max((t["conv1d_narrow"] - narrow_arithmetic) / column * 1e9, 0.0)
    m["im2col_strided_ns"] = max((t["conv1d_s2"] - t["conv1d"]) / column * 1e9, 0.0)
    (tall, feed, positions), (flat, _, _) = mb.kernel_rows_conv((3, 1)), mb.kernel_rows_conv((1, 3))
    rows = _kernel_time(base, mb.int8(tall, feed), feed) - _kernel_time(base, mb.int8(flat, feed), feed)
    m["im2col_row_us"] = max(rows / (2 * positions) * 1e6, 0.0)


def _gemm_call_us(m: dict[str, float], prec: str) -> float:
    """[us] per GEMM call: per-image time slope of a tiny Conv1d's kernel (batch 4 vs 64) less its arithmetic.

    Measured per precision because the per-image loops differ: MLAS's fp32 conv sets up an im2col buffer and an
    SGEMM per image, onnxruntime's QLinearConv only hands each image's rows to the int8 kernel."""
    tiny, feed4, macs4, k_tiny = mb.layer("conv1d_tiny", 4)
    _, feed64, _, _ = mb.layer("conv1d_tiny", 64)
    model, base = (tiny if prec == "fp32" else mb.int8(tiny, feed4)), _base_profile(m)
    per_image = (_kernel_time(base, model, feed64) - _kernel_time(base, model, feed4)) / 60
    if prec == "fp32":  # its column buffer / taps, which the model prices on their own
        per_image -= _column_s(m, "conv1d_tiny", 1)
    else:
        per_image -= mb.tap_positions("conv1d_tiny", 1) * m["direct_conv_int8_tap_us"] * 1e-6
    k0 = m["k_overhead"] if prec == "fp32" else m["k_overhead_int8_conv"]
    peak = m["peak_fp32_tflops"] if prec == "fp32" else m["peak_int8_tops"]
    rate = peak * 1e12 * m[f"eff_conv1d_{prec}"] * k_tiny / (k_tiny + k0)
    return max(per_image - 2 * macs4 / 4 / rate, 0.0) * 1e6


def measure(repeats: int = 3) -> dict[str, float]:
    """Every figure, in the units the profile uses: the median over `repeats` complete calibration passes.

    Why whole passes: most figures are differences or ratios of two timings, and a burst of other load that
    hits one side of a difference skews it; a burst rarely hits the same figure in two passes a minute apart."""
    passes = [_measure_once() for _ in range(repeats)]
    return {key: statistics.median(p[key] for p in passes) for key in passes[0]}


def _measure_once() -> dict[str, float]:
    """Run every micro-benchmark once."""
    m = _overheads()
    m["gemm_row_int8_us"], shallow_int8 = _int8_gemm(m)
    _im2col_figures(m)
    m["direct_conv_int8_tap_us"] = _direct_tap_us(m)
    rate, depth = _rates(_base_profile(m), m)
    m["k_overhead_int8"] = _k_overhead(shallow_int8, rate["gemm_int8"], 8, depth["gemm"])
    _shares(m, rate, depth)
    m["gemm_call_us"], m["gemm_call_int8_us"] = _gemm_call_us(m, "fp32"), _gemm_call_us(m, "int8")
    return m


def _cpuinfo(field_name: str) -> str:
    """One field of /proc/cpuinfo ("" where there is none, e.g. off Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith(field_name):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _cpu_name() -> str:
    return _cpuinfo("model name") or platform.processor() or "unknown CPU"


def _cpu_flags() -> str:
    flags = set(_cpuinfo("flags").split())
    return ", ".join(f for f in ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16"] if f in flags) or "unknown"


def render(m: dict[str, float], repeats: int = 3) -> str:
    """The host.toml text for a set of measurements (units in brackets, method and date recorded)."""
    today = dt.date.today().isoformat()
    method = (f"edge.accel.calibrate on {today}: onnxruntime {ort.__version__} CPUExecutionProvider, 1 intra-op "
              "thread, ORT_ENABLE_ALL, median wall time per run() after warm-up (CPU time per run() where other "
              f"processes held the core), median of {repeats} calibration passes")
    return f'''# Host CPU profile: written by `python -m edge.accel.calibrate --write` ({today}). Do not edit by hand;
# re-run calibration on the machine it describes. Figures are measured, not datasheet values.
[device]
name = "host"
kind = "cpu"
description = "{_cpu_name()} ({platform.machine()}; {_cpu_flags()}), onnxruntime CPU, single intra-op thread"

[compute]
peak_fp32_tflops = {m["peak_fp32_tflops"]:.4f}   # [TFLOPS] fp32 MatMul rate at unbounded reduction depth
peak_fp16_tflops = {m["peak_fp32_tflops"]:.4f}   # [TFLOPS] fp16 graphs run through fp32 kernels here
peak_int8_tops = {m["peak_int8_tops"]:.4f}     # [TOPS] static-QDQ int8 MatMul rate, same convention
fp32_as_fp16 = false
vector_tflops = {m["vector_tflops"]:.5f}      # [TFLOPS] Sigmoid on 32 K floats (L2-resident), less call cost
ai_cores = 1                  # one intra-op thread
efficiency = {m["efficiency"]:.3f}           # median share of peak over the three fp32 layers below
efficiency_by_kind = {{ {", ".join(f"{k[4:]} = {v:.3f}" for k, v in m.items() if k.startswith("eff_"))} }}
cube_tile = [1, 16, 1]        # output columns are computed 16 fp32 lanes at a time (one AVX-512 register)
im2col_conv_ranks = [1]       # 1-D convs run as im2col + one GEMM per image
gemm_call_us = {m["gemm_call_us"]:.3f}          # [us] per GEMM call (per image of a convolution)
k_overhead = {m["k_overhead"]:.2f}             # reduction steps of fixed work per output tile
k_overhead_int8 = {m["k_overhead_int8"]:.2f}       # the same for int8 GEMMs (int32 results requantised in a 2nd pass)
k_overhead_int8_conv = {m["k_overhead_int8_conv"]:.2f}   # the same for the direct int8 conv (requantises in registers)
gemm_row_int8_us = {m["gemm_row_int8_us"]:.5f}   # [us] per row of A in an int8 GEMM (packing + row sum)
gemm_call_int8_us = {m["gemm_call_int8_us"]:.3f}     # [us] per GEMM call of an int8 kernel (per image of a conv)
direct_conv_int8_align = {DIRECT_CONV_INT8_ALIGN}    # int8 convs with channels in multiples of 4 run the direct kernel
direct_conv_int8_min_out = {DIRECT_CONV_INT8_MIN_OUT}  # ... if they have >= 16 output channels; else im2col + int8 GEMM
direct_conv_int8_tap_us = {m["direct_conv_int8_tap_us"]:.5f}  # [us] per output position and kernel tap of that kernel
im2col_row_us = {m["im2col_row_us"]:.5f}      # [us] per output position and kernel row copied by an int8 im2col
im2col_ns = {m["im2col_ns"]:.4f}           # [ns] per column-buffer element of an fp32 im2col conv (copy + packing)
im2col_strided_ns = {m["im2col_strided_ns"]:.4f}   # [ns] extra per element when that gather is strided

[memory]
memory_gbps = {m["memory_gbps"]:.1f}           # [GB/s] slope of Add time between 64 K and 1 M floats
transpose_gbps = {m["transpose_gbps"]:.1f}        # [GB/s] bytes in + out of a Transpose (and a layout reorder)
weight_gbps = {m["weight_gbps"]:.1f}           # [GB/s] a matrix kernel's read of its weights (GEMV at batch 1)
broadcast_span_ns = {m["broadcast_span_ns"]:.2f}      # [ns] per contiguous run of a broadcasting binary op

[launch]
op_launch_us = {m["op_launch_us"]:.3f}          # [us] per kernel (chain of tiny dense layers)
op_launch_int8_us = {m["op_launch_int8_us"]:.3f}     # [us] per int8 kernel (the same chain, static QDQ)

[transfer]
transfer_gbps = {m["transfer_gbps"]:.1f}          # [GB/s] numpy copy of 4 MB (inputs are bound, outputs copied out)
transfer_latency_us = {m["transfer_latency_us"]:.3f}   # [us] per run() call with nothing to compute

[power]
power_w = 3.75                # [W] one core's share of a 360 W, 96-core EPYC package

[sources]
peak_fp32_tflops = "calibrated: {method}; best 2*M*K*N / kernel time of MatMul 256^3, 512^3, 256x1024x1024, \
scaled by (K + k_overhead) / K"
peak_fp16_tflops = "assumption: onnxruntime's x86 CPU provider has no fast fp16 GEMM, so fp16 = fp32 rate"
peak_int8_tops = "calibrated: {method}; QuantizeLinear/DequantizeLinear around MatMul, folded to one int8 kernel"
fp32_as_fp16 = "measured: the host runs fp32 graphs in fp32"
vector_tflops = "calibrated: {method}; 4 FLOP per Sigmoid element"
ai_cores = "assumption: the validation and the simulator pin onnxruntime to one intra-op thread"
efficiency = "calibrated: {method}; median of efficiency_by_kind over the fp32 layers"
efficiency_by_kind = "calibrated: {method}; kernel rate (fp32 Conv1d: less its column buffer) / peak / \
(K / (K + k_overhead)) of Conv2d 32->64 \
3x3 (stride 1 @32x32, stride 2 @64x64) b4, Conv1d 32->64 k5 (fp32: stride 1 L256; int8: and stride 2 L512) b8 \
(geometric mean per kind), MatMul 64x512x512; fp32 and static-QDQ int8"
im2col_conv_ranks = "onnxruntime CPU provider: the NCHWc blocked direct convolution (NchwcTransformer) handles \
2-D convs only; others use MLAS im2col + SGEMM per image"
k_overhead = "calibrated: {method}; Conv1d 2->64 k3 L512 b8 (K = 6) rate against the conv1d rate (K = 160), \
rate ~ K / (K + k_overhead)"
k_overhead_int8 = "calibrated: {method}; uint8 [4096 x 8] @ int8 [8 x 128] QLinearMatMul rate (row cost \
removed) against the static-QDQ MatMul 64x512x512 rate, rate ~ K / (K + k_overhead_int8)"
k_overhead_int8_conv = "calibrated: {method}; static-QDQ Conv1d 4->64 k3 L512 b8 (K = 12) rate against \
Conv1d 32->64 k5 L256 b8 (K = 160), both on the direct int8 conv kernel, tap cost removed"
gemm_row_int8_us = "calibrated: {method}; uint8 [4096 x 8] @ int8 [8 x N] QLinearMatMul at N = 16 and N = 128: \
(8 t16 - t128) / (7 x 4096)"
direct_conv_int8_align = "assumption: onnxruntime MLAS MlasConvSymPackWSize (convsym.cpp): the AVX512-VNNI \
ConvSym kernel needs KernelInputChannelAlignment = KernelOutputChannelAlignment = 4, else QLinearConv takes \
im2col + QGEMM"
direct_conv_int8_min_out = "assumption: onnxruntime MLAS MlasConvSymPackWSize: output channels below \
FilterOutputChannelPackCount = 16 leave the ConvSym kernel"
direct_conv_int8_tap_us = "calibrated: {method}; static-QDQ Conv1d k9 minus k3 (the same input, L256 b8, 64 \
out) at 4 and at 16 input channels: per extra position-tap, the part that does not grow with input channels"
im2col_row_us = "calibrated: {method}; static-QDQ Conv2d 6->32 @40x40 b2, kernel (3, 1) minus kernel (1, 3) \
(same GEMM and tensors), / (2 x output positions)"
im2col_ns = "calibrated: {method}; fp32 Conv1d 32->16 k5 L256 b8 kernel time less a third of (its time - \
Conv1d 32->64 k5 L256 b8), i.e. less its arithmetic, / column-buffer elements (8 x 256 x 160)"
im2col_strided_ns = "calibrated: {method}; fp32 Conv1d 32->64 k5 stride 2 L512 minus stride 1 L256 (b8, the \
same GEMM and column buffer), / column-buffer elements (8 x 256 x 160)"
op_launch_int8_us = "calibrated: {method}; (time of 41 - time of 1 static-QDQ dense layers) / extra int8 kernels"
gemm_call_us = "calibrated: {method}; per-image time slope of Conv1d 8->16 k3 L16 (batch 4 vs 64) less its arithmetic"
gemm_call_int8_us = "calibrated: {method}; as gemm_call_us, the same Conv1d static-QDQ int8 (direct int8 conv kernel)"
cube_tile = "assumption: MLAS SGEMM kernels on AVX-512 produce 16 fp32 output columns per register (lscpu avx512f)"
memory_gbps = "calibrated: {method}; 12 bytes per element (two reads, one write)"
broadcast_span_ns = "calibrated: {method}; Add [1, 4096, 16] + [16] minus Add [1, 256, 256] + [256] (the same \
65536 elements), / (4096 - 256) extra runs"
weight_gbps = "calibrated: {method}; MatMul [1, 1024] @ [1024, 1024] fp32: 4 MB of weights / (its time less \
the time of a 1-layer graph)"
transpose_gbps = "calibrated: {method}; Transpose [1, 512, 512] -> [1, 512, 512] (perm 0, 2, 1) fp32, 8 bytes \
per element (one read, one write), less the time of a 1-layer graph"
op_launch_us = "calibrated: {method}; (time of 41 - time of 1 tiny dense layers) / 40"
transfer_gbps = "calibrated: numpy.copyto of 1 M float32 on {today}"
transfer_latency_us = "calibrated: {method}; time of a 1-op graph minus one op launch"
power_w = "assumption: AMD EPYC 9654 TDP 360 W / 96 cores (AMD product page); a VM core has no power meter"

[calibration]
date = "{today}"
method = "{method}"
onnxruntime = "{ort.__version__}"
cpu = "{_cpu_name()}"
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="rewrite edge/devices/host.toml")
    parser.add_argument("--repeats", type=int, default=3, help="calibration passes (median per figure)")
    args = parser.parse_args()
    figures = measure(args.repeats)
    for key, value in figures.items():
        print(f"{key:<22} {value:.4f}")
    if args.write:
        path = DEVICES_DIR / "host.toml"
        path.write_text(render(figures, args.repeats), encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
