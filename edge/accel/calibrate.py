"""Calibrate the `host` profile on this CPU with onnxruntime micro-benchmarks (single intra-op thread).

Why: the cost model is validated against real onnxruntime timings on the host, so the host's figures must be
measured on the host - but never fitted to the validation models. Each figure comes from purpose-built
micro-graphs (`edge.accel.microbench`): chains of tiny dense layers (per-call and per-kernel overhead, fp32 and
int8), large MatMuls (matrix peak), a few ordinary layers (share of peak per layer kind), a shallow conv
(reduction-depth overhead), elementwise ops (memory bandwidth from a slope, vector rate). Where a micro-graph
has kernels besides the one measured, the cost model's own estimate of those is subtracted, so the figures
are consistent with how the model prices a graph.

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
    )


def _matrix_rate(base: DeviceProfile, model: onnx.ModelProto, feed: mb.Feed, macs: int) -> float:
    """[op/s] of the matrix kernel(s) alone: measured time less the model's estimate of everything else."""
    cost = model_cost(model, base, next(iter(feed.values())).shape[0])
    other = cost.transfer_s + sum(n.time_s for n in cost.nodes if not n.macs)
    launches = sum(base.launch_s(n.precision) for n in cost.nodes if n.macs)
    return 2 * macs / max(mb.time_model(model, feed) - other - launches, 1e-9)


def _k_overhead(shallow: float, deep: float, ks: int, kd: int) -> float:
    """k0 with rate ~ K / (K + k0), from the rates of a shallow (ks) and a deep (kd) reduction."""
    rho = shallow / deep
    return max(ks * kd * (1 - rho) / (rho * kd - ks), 0.0) if rho * kd > ks else 1e3


def measure() -> dict[str, float]:
    """Run every micro-benchmark; figures in the units the profile uses."""
    m: dict[str, float] = {}
    (c1, f1), (c41, _) = mb.dense_chain(1), mb.dense_chain(41)
    t1 = min(mb.time_model(c1, f1) for _ in range(3))
    t41 = min(mb.time_model(c41, f1) for _ in range(3))
    m["op_launch_us"] = (t41 - t1) / 40 * 1e6  # one fused Gemm kernel per layer
    m["transfer_latency_us"] = max(t1 * 1e6 - m["op_launch_us"], 0.0)
    small, large = 1 << 16, 1 << 20
    t_small, t_large = mb.time_model(*mb.elementwise("Add", small)), mb.time_model(*mb.elementwise("Add", large))
    m["memory_gbps"] = 3 * 4 * (large - small) / (t_large - t_small) / 1e9  # two reads and a write of fp32
    t_sig = mb.time_model(*mb.elementwise("Sigmoid", 1 << 15))
    m["vector_tflops"] = 4 * (1 << 15) / max(t_sig - t1, 1e-9) / 1e12
    src = np.ones(1 << 20, np.float32)
    dst = np.empty_like(src)
    m["transfer_gbps"] = 2 * src.nbytes / mb.median_time(lambda: np.copyto(dst, src)) / 1e9
    q1, q41 = mb.int8(c1, f1), mb.int8(c41, f1)
    kernels = [len(model_cost(q, _base_profile(m), 1).nodes) for q in (q1, q41)]
    tq1 = min(mb.time_model(q1, f1) for _ in range(3))
    tq41 = min(mb.time_model(q41, f1) for _ in range(3))
    m["op_launch_int8_us"] = (tq41 - tq1) / (kernels[1] - kernels[0]) * 1e6
    base = _base_profile(m)
    rate: dict[str, float] = {}
    depth: dict[str, int] = {}
    for size in [(256, 256, 256), (512, 512, 512), (256, 1024, 1024)]:
        model, feed, macs = mb.matmul(*size)
        name = "mm{}x{}x{}".format(*size)
        depth[name] = size[1]
        rate[f"{name}_fp32"] = _matrix_rate(base, model, feed, macs)
        rate[f"{name}_int8"] = _matrix_rate(base, mb.int8(model, feed), feed, macs)
    for name in ["conv2d", "conv2d_s2", "conv1d", "conv1d_s2", "conv1d_shallow", "gemm"]:
        model, feed, macs, depth[name] = mb.layer(name)
        rate[f"{name}_fp32"] = _matrix_rate(base, model, feed, macs)
        rate[f"{name}_int8"] = _matrix_rate(base, mb.int8(model, feed), feed, macs)
    for prec in ("fp32", "int8"):
        key = "k_overhead" if prec == "fp32" else "k_overhead_int8"
        k0 = m[key] = _k_overhead(rate[f"conv1d_shallow_{prec}"], rate[f"conv1d_{prec}"], 6, depth["conv1d"])

        def deep(name: str, prec: str = prec, k0: float = k0) -> float:
            """The rate a reduction of unbounded depth would reach: measured x (K + k0) / K."""
            return rate[f"{name}_{prec}"] * (depth[name] + k0) / depth[name]

        peak = max(deep(n) for n in depth if n.startswith("mm"))
        m["peak_fp32_tflops" if prec == "fp32" else "peak_int8_tops"] = peak / 1e12
        for kind, names in [("conv2d", ["conv2d", "conv2d_s2"]), ("conv1d", ["conv1d", "conv1d_s2"]),
                            ("gemm", ["gemm"])]:  # geometric mean over stride 1 and stride 2 layers
            share = float(np.exp(np.mean([np.log(deep(n) / peak) for n in names])))
            m[f"eff_{kind}_{prec}"] = min(share, 1.0)
    m["efficiency"] = statistics.median(m[f"eff_{n}_fp32"] for n in ["conv2d", "conv1d", "gemm"])
    tiny, feed4, macs4, k_tiny = mb.layer("conv1d_tiny", 4)
    _, feed64, _, _ = mb.layer("conv1d_tiny", 64)
    per_image = (mb.time_model(tiny, feed64) - mb.time_model(tiny, feed4)) / 60
    fp32_rate = m["peak_fp32_tflops"] * 1e12 * m["eff_conv1d_fp32"] * k_tiny / (k_tiny + m["k_overhead"])
    arith = 2 * macs4 / 4 / fp32_rate
    m["gemm_call_us"] = max(per_image - arith, 0.0) * 1e6
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


def render(m: dict[str, float]) -> str:
    """The host.toml text for a set of measurements (units in brackets, method and date recorded)."""
    today = dt.date.today().isoformat()
    method = (f"edge.accel.calibrate on {today}: onnxruntime {ort.__version__} CPUExecutionProvider, 1 intra-op "
              "thread, ORT_ENABLE_ALL, median wall time per run() after warm-up")
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
k_overhead_int8 = {m["k_overhead_int8"]:.2f}       # the same for int8 kernels

[memory]
memory_gbps = {m["memory_gbps"]:.1f}           # [GB/s] slope of Add time between 64 K and 1 M floats

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
efficiency_by_kind = "calibrated: {method}; kernel rate / peak / (K / (K + k_overhead)) of Conv2d 32->64 \
3x3 (stride 1 @32x32, stride 2 @64x64) b4, Conv1d 32->64 k5 (stride 1 L256, stride 2 L512) b8 (geometric mean \
per kind), MatMul 64x512x512; fp32 and static-QDQ int8"
im2col_conv_ranks = "onnxruntime CPU provider: the NCHWc blocked direct convolution (NchwcTransformer) handles \
2-D convs only; others use MLAS im2col + SGEMM per image"
k_overhead = "calibrated: {method}; Conv1d 2->64 k3 L512 b8 (K = 6) rate against the conv1d rate (K = 160), \
rate ~ K / (K + k_overhead)"
k_overhead_int8 = "calibrated: {method}; as k_overhead, both layers static-QDQ int8"
op_launch_int8_us = "calibrated: {method}; (time of 41 - time of 1 static-QDQ dense layers) / extra int8 kernels"
gemm_call_us = "calibrated: {method}; per-image time slope of Conv1d 8->16 k3 L16 (batch 4 vs 64) less its arithmetic"
cube_tile = "assumption: MLAS SGEMM kernels on AVX-512 produce 16 fp32 output columns per register (lscpu avx512f)"
memory_gbps = "calibrated: {method}; 12 bytes per element (two reads, one write)"
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
    args = parser.parse_args()
    figures = measure()
    for key, value in figures.items():
        print(f"{key:<22} {value:.4f}")
    if args.write:
        path = DEVICES_DIR / "host.toml"
        path.write_text(render(figures), encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
