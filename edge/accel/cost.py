"""Emulated latency of an ONNX model on a device profile, kernel by kernel.

Model (per fused kernel): time = max(compute / effective rate, bytes / memory bandwidth) + launch overhead.
The effective rate is the matrix unit's peak for the kernel's precision x the profile's efficiency, scaled
down when a small layer has fewer tiles than the chip has cores; matrix work is counted after padding each
GEMM dimension to the unit's tile. Ops the AI Core lacks, or that carry int64 tensors, run on the AI CPU at
its own (much lower) rates with its own dispatch cost. A call adds the host <-> device copies and a fixed
latency. Every figure this module prints is emulated, not measured.

The `host` profile describes onnxruntime's CPU provider, whose convolutions are not GEMM arithmetic alone, so
it carries a few calibrated CPU-runtime figures that an NPU profile leaves at zero: building the column buffer
of im2col convs (fp32 Conv1d; more per element when strided), which int8 convs get MLAS's direct kernel and
which fall back to a column buffer (one memcpy per output position and kernel row) plus the generic int8 GEMM
(per-row packing cost), and per-call costs per precision (see `_host_int8_time`, `_im2col_s`). Its memory terms
are split by access pattern: weights stream at their own (single read-only stream) rate, a Transpose gathers
at the transpose rate, and a broadcasting binary op pays per contiguous run. Its 2-D convs run channel-blocked:
input channels count in whole blocks, depthwise convs fill the vector lanes across channels, and the layout
copies around the blocked region are kernels of their own (`edge.accel.layout`).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from pathlib import Path

import onnx

from edge.accel.fusion import Group, build_groups
from edge.accel.graph import GraphError, GraphView, analyse, load_model
from edge.accel.layout import blocked_input_channels, reorders
from edge.accel.ops import Gemm, Work, broadcast_spans, node_work
from edge.accel.profile import DeviceProfile, load_profile


@dataclass(frozen=True)
class NodeCost:
    """One kernel's emulated cost. unit: AI_CORE | AI_CPU | HOST; bound: compute | memory | launch."""

    name: str
    op_type: str
    unit: str
    precision: str
    macs: int
    flops: int
    bytes: int  # [B] moved: activations in + weights + activations out
    time_s: float  # [s]
    bound: str
    fused: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelCost:
    """A model's emulated latency on one device at one batch size, with its per-kernel breakdown."""

    model: str
    device: str
    batch: int
    nodes: tuple[NodeCost, ...]
    transfer_s: float  # [s] host <-> device copies plus the fixed per-call latency
    latency_s: float  # [s] emulated end-to-end time of one call

    @property
    def macs(self) -> int:
        return sum(n.macs for n in self.nodes)

    @property
    def bytes(self) -> int:
        return sum(n.bytes for n in self.nodes)

    def unit_time(self, unit: str) -> float:
        """[s] time spent on one unit (AI_CORE, AI_CPU or HOST)."""
        return sum(n.time_s for n in self.nodes if n.unit == unit)

    def table(self, limit: int | None = None) -> str:
        """A printed per-kernel breakdown; every time in it is emulated."""
        rows = sorted(self.nodes, key=lambda n: n.time_s, reverse=True) if limit else list(self.nodes)
        rows = rows[:limit] if limit else rows
        head = (f"{self.model} on {self.device} (emulated), batch {self.batch}: "
                f"{self.latency_s * 1e3:.3f} ms emulated, {self.macs / 1e9:.3f} GMAC, {self.bytes / 1e6:.2f} MB moved")
        lines = [head, f"{'node':<28} {'op':<18} {'unit':<7} {'prec':<5} {'MMAC':>9} {'KB':>9} "
                       f"{'us (emulated)':>13} bound"]
        for n in rows:
            lines.append(f"{n.name[:28]:<28} {n.op_type[:18]:<18} {n.unit:<7} {n.precision:<5} {n.macs / 1e6:>9.3f} "
                         f"{n.bytes / 1e3:>9.1f} {n.time_s * 1e6:>13.2f} {n.bound}")
        if limit and len(self.nodes) > limit:
            lines.append(f"... {len(self.nodes) - limit} more kernels")
        fallback = [n for n in self.nodes if n.unit == "AI_CPU"]
        lines.append(f"transfer + call latency (emulated): {self.transfer_s * 1e6:.1f} us; kernels: {len(self.nodes)}; "
                     f"AI CPU fallbacks: {len(fallback)} ({self.unit_time('AI_CPU') * 1e6:.1f} us emulated)")
        return "\n".join(lines)


def _padded(gemm: Gemm, tile: tuple[int, int, int], precision: str) -> tuple[int, int]:
    """(MACs after padding to the tile, number of output tiles the work splits into)."""
    tm, tn, tk = tile
    if precision == "int8" and tk > 1:
        tk *= 2  # the cube takes K in 32s for int8 (16 x 32 x 16 per cycle), 16s for fp16
    mp, np_, kp = ceil(gemm.m / tm) * tm, ceil(gemm.n / tn) * tn, ceil(gemm.k / tk) * tk
    return gemm.groups * mp * np_ * kp, gemm.groups * ceil(gemm.m / tm) * ceil(gemm.n / tn)


def _unit(group: Group, profile: DeviceProfile) -> str:
    if profile.kind == "cpu":
        return "HOST"
    ops = {m.op_type for m in group.members if m.op_type not in {"QuantizeLinear", "DequantizeLinear"}}
    if group.int64 or not ops <= profile.ai_core_ops:
        return "AI_CPU"
    return "AI_CORE"


def _gemm_time(gemm: Gemm | None, macs: int, kind: str, precision: str, k_over: float,
               profile: DeviceProfile) -> float:
    """[s] arithmetic of one matrix kernel: padded MACs at the kind's share of peak, with the reduction-depth
    penalty K / (K + k_over) (a fixed amount of work per output: accumulator I/O, requantisation).

    A depthwise conv (one output channel per group) on a CPU is padded across its channels, not per group:
    onnxruntime's depthwise kernels put neighbouring channels in the vector lanes (NCHWc blocks), so padding
    each one-channel group to a full 16-lane tile would charge 16 x its arithmetic."""
    if gemm is not None and profile.kind == "cpu" and gemm.groups > 1 and gemm.n == 1:
        gemm = Gemm(1, gemm.m, gemm.groups, gemm.k)
    padded, tiles = _padded(gemm, profile.cube_tile, precision) if gemm else (macs, 1)
    share = min(profile.ai_cores, tiles) / profile.ai_cores  # small layers leave cores idle
    eff = profile.efficiency_for(kind, precision)
    if gemm is not None and k_over:
        eff *= gemm.k / (gemm.k + k_over)  # shallow reductions: accumulator I/O dominates
    return 2 * padded / (profile.peak_ops(precision) * eff * share)


def _int8_gemm_rows_s(rows: int, profile: DeviceProfile) -> float:
    """[s] per-row cost of a generic int8 GEMM: MLAS QGEMM packs each row of A (K padded to 4) and takes its
    row sum for the zero-point correction; the int32 results are requantised in a second pass."""
    return rows * profile.gemm_row_int8_us * 1e-6


def _host_int8_time(work: Work, profile: DeviceProfile) -> float:
    """[s] arithmetic of an int8 matrix kernel as onnxruntime's CPU provider runs it (a profile that names the
    direct conv kernel's channel alignment). QLinearConv is NHWC for every rank: channels along N.

    A conv whose channels suit the direct kernel (MLAS ConvSym: input gathered in place through an indirection
    buffer, requantised in registers) is priced at the conv share of peak with its own per-output overhead, plus
    its per-tap work (one indirection pointer and one pass of the tap loop per output position and kernel tap,
    which few input channels amortise badly).
    Any other ungrouped conv is copied into a column buffer - one memcpy per output position and kernel row,
    which for 3-channel input costs more than the arithmetic - and then runs the generic int8 GEMM, as a MatMul
    does. Grouped (depthwise) convs have MLAS kernels of their own and keep the conv pricing."""
    conv, gemm = work.conv, work.gemm
    grouped = gemm is not None and gemm.groups > 1
    if conv is not None and (grouped or profile.direct_int8_conv(conv.cin, conv.cout)):
        taps = conv.positions * conv.taps * profile.direct_conv_int8_tap_us * 1e-6
        return _gemm_time(gemm, work.macs, f"conv{work.rank}d", "int8", profile.k_overhead_int8_conv, profile) + taps
    time = _gemm_time(gemm, work.macs, "gemm", "int8", profile.k_overhead_int8, profile)
    time += _int8_gemm_rows_s(gemm.groups * gemm.m if gemm else 0, profile)
    if conv is not None:
        time += conv.positions * conv.kernel_rows * profile.im2col_row_us * 1e-6
    return time


def _im2col_s(work: Work, profile: DeviceProfile) -> float:
    """[s] building the column buffer of a conv run as im2col + one GEMM per image (MLAS fp32): every element of
    it (K x output positions per image) is copied from the input and then packed again as the GEMM's B operand,
    a cost independent of the output channels. A strided conv pays more per element: MLAS copies a stride-1
    patch row four floats per vector move, a strided one element by element."""
    image = work.per_image
    if work.conv is None or image is None:
        return 0.0
    per_element = profile.im2col_ns + (profile.im2col_strided_ns if work.conv.strided else 0.0)
    return image.groups * image.n * image.k * per_element * 1e-9


def _blocked(work: Work, profile: DeviceProfile) -> Gemm | None:
    """The GEMM a CPU's channel-blocked 2-D conv computes: its reduction runs over whole blocks of input
    channels (see `edge.accel.layout.blocked_input_channels`), so 24 input channels cost as 32 do."""
    gemm, conv = work.gemm, work.conv
    if gemm is None or conv is None or profile.kind != "cpu" or work.rank != 2 or gemm.groups != 1:
        return gemm
    return Gemm(1, gemm.m, gemm.n, conv.taps * blocked_input_channels(conv.cin))


def _matrix_compute(work: Work, precision: str, profile: DeviceProfile) -> float:
    """[s] compute time of a matrix kernel (GEMM, MatMul or convolution) on the AI Core or the host."""
    if precision == "int8" and profile.direct_conv_int8_align > 0:
        time = _host_int8_time(work, profile)
    elif work.rank in profile.im2col_conv_ranks:
        time = _gemm_time(work.per_image, work.macs, f"conv{work.rank}d", precision,
                          profile.k_overhead_for(precision), profile) + _im2col_s(work, profile)
    else:
        kind = f"conv{work.rank}d" if work.rank else "gemm"
        time = _gemm_time(_blocked(work, profile), work.macs, kind, precision, profile.k_overhead_for(precision),
                          profile)
    calls = work.per_image.groups if work.per_image else (work.gemm.groups if work.gemm else 1)
    return time + calls * profile.gemm_call_s(precision)  # per GEMM call: packing, loop setup


def _kernel_cost(group: Group, work: Work, vector: int, profile: DeviceProfile, view: GraphView) -> NodeCost:
    """Price one fused kernel."""
    unit = _unit(group, profile)
    anchor = group.anchor
    flops = 2 * work.macs + vector
    if work.kind == "view" and profile.kind == "npu":
        time, bound = 0.0, "launch"  # ATC folds reshapes into the neighbouring kernels' addressing
    elif work.kind == "view":
        time, bound = profile.op_launch_us * 1e-6, "launch"  # the runtime still dispatches it (no copy)
    elif unit == "AI_CPU":
        compute = flops / (profile.ai_cpu_gflops * 1e9)
        memory = group.bytes / (profile.ai_cpu_gbps * 1e9)
        time = max(compute, memory) + profile.ai_cpu_launch_us * 1e-6
        bound = "compute" if compute >= memory else "memory"
    else:
        compute = _matrix_compute(work, group.precision, profile) if work.macs else 0.0
        if vector:
            compute += vector / (profile.vector_tflops * 1e12)
        if not work.macs and profile.broadcast_span_ns:  # a broadcasting op as a kernel of its own
            compute += broadcast_spans(anchor, view) * profile.broadcast_span_ns * 1e-9
        rate = profile.transpose_rate() if anchor.op_type == "Transpose" else profile.memory_gbps * 1e9
        if work.macs:  # a matrix kernel streams its weights at their own rate
            memory = (group.in_bytes + group.out_bytes) / rate + group.weight_bytes / profile.weight_rate()
        else:
            memory = group.bytes / rate
        time = max(compute, memory) + profile.launch_s(group.precision)
        bound = "compute" if compute >= memory else "memory"
    return NodeCost(anchor.name, anchor.op_type, unit, group.precision, work.macs, flops, group.bytes, time, bound,
                    tuple(group.fused))


def _group_work(group: Group, view: GraphView) -> tuple[Work, int]:
    """The anchor's work, plus the vector FLOPs of everything folded into it."""
    work = node_work(group.anchor, view)
    vector = work.vector_flops
    for member in group.members:  # folded Q/DQ pairs become the int8 kernel's requantisation: no extra pass
        if member is not group.anchor and member.op_type not in {"QuantizeLinear", "DequantizeLinear"}:
            vector += node_work(member, view).vector_flops
    return work, vector


def model_cost(model: str | Path | onnx.ModelProto, profile: DeviceProfile | str, batch: int = 1) -> ModelCost:
    """Emulated latency of one inference call of `model` at `batch` on `profile` (a profile or its name)."""
    prof = load_profile(profile) if isinstance(profile, str) else profile
    view = analyse(model, batch)
    name = Path(model).name if isinstance(model, str | Path) else (view.model.graph.name or "model")
    return _view_cost(view, prof, batch, name)


def _reorder_costs(view: GraphView, prof: DeviceProfile) -> tuple[NodeCost, ...]:
    """The layout copies a CPU runtime with channel-blocked 2-D convs inserts (see `edge.accel.layout`), each a
    read and a write of its tensor at the transpose rate plus a kernel launch. None on an NPU, or on a CPU profile
    whose 2-D convs run as im2col on NCHW."""
    if prof.kind != "cpu" or 2 in prof.im2col_conv_ranks:
        return ()
    costs = []
    for r in reorders(view):
        time = 2 * r.nbytes / prof.transpose_rate() + prof.op_launch_us * 1e-6  # a reorder is a transpose
        costs.append(NodeCost(f"{r.tensor}:{r.kind}", r.kind, "HOST", "fp32", 0, 0, 2 * r.nbytes, time, "memory"))
    return tuple(costs)


def _view_cost(view: GraphView, prof: DeviceProfile, batch: int, name: str) -> ModelCost:
    """Price an analysed graph: shared by `model_cost` and `profile_table`, which analyses the graph itself."""
    host = prof.kind == "cpu"  # onnxruntime's CPU provider
    groups = build_groups(view, prof.fp32_as_fp16, drop_view_qdq=host, nd_matmul_epilogue=not host)
    nodes = tuple(_kernel_cost(g, *_group_work(g, view), prof, view) for g in groups) + _reorder_costs(view, prof)
    io_bytes = sum(view.tensor(n).nbytes for n in [*view.data_inputs, *view.outputs])  # copied as given
    transfer = prof.transfer_latency_us * 1e-6 + io_bytes / (prof.transfer_gbps * 1e9)
    return ModelCost(name, prof.name, batch, nodes, transfer, transfer + sum(n.time_s for n in nodes))


def _load_user_model(path: Path) -> onnx.ModelProto:
    """Read a model a user named. onnx reads an empty (or graph-less) file as an empty model without complaint,
    which would then be "timed" at a transfer latency alone: refuse it, naming the file."""
    if path.is_file() and path.stat().st_size == 0:
        raise GraphError(f"{path}: empty file (0 bytes), not an ONNX model")
    proto = load_model(path)
    if not proto.HasField("graph") or not (proto.graph.node or proto.graph.output):
        raise GraphError(f"{path}: not an ONNX model (it holds no graph)")
    try:  # strict: an input shape the graph's nodes cannot take is refused, not priced at whatever dims were left
        onnx.shape_inference.infer_shapes(proto, strict_mode=True)
    except Exception as exc:  # onnx raises InferenceError and several checker errors
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
        raise GraphError(f"{path}: its shapes do not fit its graph ({first[:200]})") from None
    return proto


def _check_batch(path: Path, proto: onnx.ModelProto, data_inputs: list[str], batch: int) -> None:
    """Refuse a batch the graph cannot take. `analyse` binds only a symbolic leading dim; a fixed one stays as it
    is, so the graph would be priced at its own batch while the per-frame time is divided by `batch`."""
    leading: dict[str, int | None] = {}
    for value in proto.graph.input:
        dims = value.type.tensor_type.shape.dim
        if value.name in data_inputs and dims:
            fixed = dims[0].HasField("dim_value") and dims[0].dim_value > 0
            leading[value.name] = dims[0].dim_value if fixed else None
    if not leading or any(dim is None for dim in leading.values()):
        return  # a symbolic batch dim: bound to `batch` by analyse
    name, fixed = next(iter(leading.items()))
    if fixed != batch:
        raise GraphError(f"{path}: batch {batch} refused: input {name!r} has its batch dim fixed at {fixed} in the "
                         f"graph (use --batch {fixed}, or export the model with a symbolic batch dim)")


def profile_table(model_path: str | Path, device_name: str, batch: int = 1, limit: int | None = 25) -> str:
    """The printed breakdown behind `minefleet models profile MODEL --device NAME` (emulated figures)."""
    prof = load_profile(device_name)
    path = Path(model_path)
    proto = _load_user_model(path)
    view = analyse(proto, batch)  # copies the proto: its input dims stay as the file has them
    _check_batch(path, proto, view.data_inputs, batch)
    cost = _view_cost(view, prof, batch, path.name)
    head = (f"device {prof.name}: {prof.description} (emulated from its profile; peak fp16 "
            f"{prof.peak_fp16_tflops:g} TFLOPS, int8 {prof.peak_int8_tops:g} TOPS, {prof.memory_gbps:g} GB/s)")
    per_frame = cost.latency_s / batch * 1e3
    tail = f"emulated: {cost.latency_s * 1e3:.3f} ms per call, {per_frame:.3f} ms per frame at batch {batch}"
    return "\n".join([head, cost.table(limit), tail])
