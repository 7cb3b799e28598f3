"""Device profiles: chip figures as data (`edge/devices/*.toml`), loaded and checked.

Why data and not code: every figure must carry its public source (or a stated assumption) beside it, and the
`host` profile is rewritten by calibration on the machine it describes. The loader refuses a profile with a
missing, negative or unsourced figure and names the file and field, so a bad profile fails before a run.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEVICES_DIR = Path(__file__).resolve().parent.parent / "devices"

# field -> (type, lower bound, bound inclusive?) for every number a profile must give
_NUMBERS: dict[str, tuple[type, float, bool]] = {
    "peak_fp16_tflops": (float, 0.0, False),  # [TFLOPS] matrix unit, dense fp16
    "peak_int8_tops": (float, 0.0, False),  # [TOPS] matrix unit, dense int8
    "vector_tflops": (float, 0.0, False),  # [TFLOPS] vector unit (elementwise, pooling, normalisation)
    "memory_gbps": (float, 0.0, False),  # [GB/s] device memory bandwidth
    "ai_cores": (int, 1, True),  # compute cores the matrix work is split over
    "efficiency": (float, 0.0, False),  # share of peak reached on real layers, (0, 1]
    "op_launch_us": (float, 0.0, True),  # [us] per kernel launched
    "transfer_gbps": (float, 0.0, False),  # [GB/s] host <-> device copy rate
    "transfer_latency_us": (float, 0.0, True),  # [us] fixed cost per inference call (both copies, sync)
    "ai_cpu_gflops": (float, 0.0, False),  # [GFLOPS] fallback CPU rate for ops the matrix/vector units lack
    "ai_cpu_gbps": (float, 0.0, False),  # [GB/s] fallback CPU memory rate
    "ai_cpu_launch_us": (float, 0.0, True),  # [us] per fallback op (dispatch to the AI CPU and back)
    "power_w": (float, 0.0, False),  # [W]
}
_OPTIONAL_NUMBERS: dict[str, tuple[type, float, bool]] = {
    "peak_fp32_tflops": (float, 0.0, False),  # [TFLOPS] only where fp32 does not run at the fp16 rate
    "gemm_call_us": (float, 0.0, True),  # [us] per GEMM call inside a kernel (per image and group of a conv)
    "k_overhead": (float, 0.0, True),  # reduction steps' worth of fixed work per output tile (accumulator I/O)
    "k_overhead_int8": (float, 0.0, True),  # the same for int8 kernels (defaults to k_overhead)
    "op_launch_int8_us": (float, 0.0, True),  # [us] per int8 kernel (defaults to op_launch_us)
    # CPU-runtime terms (host only; 0 or absent on an NPU, where they have no meaning):
    "k_overhead_int8_conv": (float, 0.0, True),  # k_overhead of the direct int8 conv kernel (default k_overhead_int8)
    "gemm_row_int8_us": (float, 0.0, True),  # [us] per row of A in an int8 GEMM (packing + row sum)
    "gemm_call_int8_us": (float, 0.0, True),  # [us] per GEMM call of an int8 kernel (defaults to gemm_call_us)
    "direct_conv_int8_align": (int, 0, True),  # int8 convs use the direct kernel if channels are multiples (0: all)
    "direct_conv_int8_min_out": (int, 0, True),  # ... and have at least this many output channels
    "direct_conv_int8_tap_us": (float, 0.0, True),  # [us] per output position and kernel tap of that kernel
    "im2col_row_us": (float, 0.0, True),  # [us] per output position and kernel row of an int8 im2col conv
    "im2col_ns": (float, 0.0, True),  # [ns] per column-buffer element of an im2col conv (copy + GEMM packing)
    "im2col_strided_ns": (float, 0.0, True),  # [ns] extra per element when the im2col gather is strided
    "transpose_gbps": (float, 0.0, False),  # [GB/s] bytes in + out of a Transpose or a layout reorder
    "weight_gbps": (float, 0.0, False),  # [GB/s] a matrix kernel's read of its weights (one pass, read only)
    "broadcast_span_ns": (float, 0.0, True),  # [ns] per contiguous run of a broadcasting binary op (host)
}
_LISTS = {"fp32_as_fp16", "cube_tile", "ai_core_ops", "im2col_conv_ranks", "efficiency_by_kind"}
_OTHER = {"name", "kind", "description"} | _LISTS
_SOURCED = set(_NUMBERS) | set(_OPTIONAL_NUMBERS) | _LISTS


class DeviceError(ValueError):
    """A device profile that is missing, unknown, or has a bad or unsourced figure."""


@dataclass(frozen=True)
class DeviceProfile:
    """One accelerator (or the calibrated host CPU) as the cost model sees it."""

    name: str
    kind: str  # "npu": Ascend AI Core + AI CPU; "cpu": every op on the host
    description: str
    peak_fp16_tflops: float
    peak_int8_tops: float
    peak_fp32_tflops: float  # equals peak_fp16_tflops when fp32_as_fp16 (ATC casts fp32 graphs to fp16)
    fp32_as_fp16: bool
    vector_tflops: float
    memory_gbps: float
    ai_cores: int
    efficiency: float
    op_launch_us: float
    transfer_gbps: float
    transfer_latency_us: float
    ai_cpu_gflops: float
    ai_cpu_gbps: float
    ai_cpu_launch_us: float
    power_w: float
    cube_tile: tuple[int, int, int]  # (m, n, k) a matrix op is padded to; k doubles for int8 on a cube
    ai_core_ops: frozenset[str]
    gemm_call_us: float = 0.0  # [us]
    k_overhead: float = 0.0  # a GEMM with reduction depth K runs at K / (K + k_overhead) of the layer rate
    k_overhead_int8: float = 0.0
    op_launch_int8_us: float = 0.0  # [us]
    im2col_conv_ranks: frozenset[int] = frozenset()  # conv ranks run as one im2col GEMM per image
    k_overhead_int8_conv: float = 0.0
    gemm_row_int8_us: float = 0.0  # [us]
    gemm_call_int8_us: float = 0.0  # [us]
    direct_conv_int8_align: int = 0
    direct_conv_int8_min_out: int = 0
    direct_conv_int8_tap_us: float = 0.0  # [us]
    im2col_row_us: float = 0.0  # [us]
    im2col_ns: float = 0.0  # [ns]
    im2col_strided_ns: float = 0.0  # [ns]
    transpose_gbps: float = 0.0  # [GB/s] 0: the memory rate (see `transpose_rate`)
    weight_gbps: float = 0.0  # [GB/s] 0: the memory rate (see `weight_rate`)
    broadcast_span_ns: float = 0.0  # [ns] (see `edge.accel.ops.broadcast_spans`)
    efficiency_by_kind: dict[str, float] = field(default_factory=dict)  # e.g. "conv1d_fp32" -> share of peak
    sources: dict[str, str] = field(default_factory=dict)
    calibration: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def efficiency_for(self, kind: str, precision: str) -> float:
        """Share of peak for a layer kind ("conv1d", "conv2d", "gemm") at a precision, else the general one."""
        return self.efficiency_by_kind.get(f"{kind}_{precision}", self.efficiency)

    def launch_s(self, precision: str) -> float:
        """[s] per kernel launched at a precision."""
        return (self.op_launch_int8_us if precision == "int8" else self.op_launch_us) * 1e-6

    def k_overhead_for(self, precision: str) -> float:
        return self.k_overhead_int8 if precision == "int8" else self.k_overhead

    def gemm_call_s(self, precision: str) -> float:
        """[s] per GEMM call (per image and group of a convolution) at a precision."""
        return (self.gemm_call_int8_us if precision == "int8" else self.gemm_call_us) * 1e-6

    def direct_int8_conv(self, cin: int, cout: int) -> bool:
        """Whether an int8 conv with these per-group channels runs on the direct conv kernel (always, when the
        profile sets no alignment) rather than as im2col + a generic int8 GEMM."""
        align = self.direct_conv_int8_align
        if not align:
            return True
        return cin % align == 0 and cout % align == 0 and cout >= self.direct_conv_int8_min_out

    def transpose_rate(self) -> float:
        """[B/s] a Transpose's (or layout reorder's) bytes in + out: a gather of scattered elements that a CPU
        runs well below its streaming rate; the memory rate where the profile gives no figure of its own."""
        return (self.transpose_gbps or self.memory_gbps) * 1e9

    def weight_rate(self) -> float:
        """[B/s] a matrix kernel's read of its weights. Why apart from the memory rate: a single core streaming
        one read-only operand (a GEMV at batch 1 is nothing else) does not reach the rate of an elementwise
        kernel, whose two reads and a write keep more loads in flight; the memory rate where the profile gives
        no figure of its own."""
        return (self.weight_gbps or self.memory_gbps) * 1e9

    def peak_ops(self, precision: str) -> float:
        """[op/s] matrix-unit peak for a precision: int8 at the INT8 rate, fp16, fp32 per `fp32_as_fp16`."""
        if precision == "int8":
            return self.peak_int8_tops * 1e12
        if precision == "fp32":
            return self.peak_fp32_tflops * 1e12
        return self.peak_fp16_tflops * 1e12


def available_devices() -> list[str]:
    """Names of the shipped profiles."""
    return sorted(p.stem for p in DEVICES_DIR.glob("*.toml"))


def _resolve(name_or_path: str | Path) -> Path:
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        path = Path(text)
        if not path.is_file():
            raise DeviceError(f"{path}: no such device profile")
        return path
    path = DEVICES_DIR / f"{text}.toml"
    if not path.is_file():
        raise DeviceError(f"unknown device {text!r}; known: {', '.join(available_devices())}")
    return path


def _number(where: str, key: str, value: Any, spec: tuple[type, float, bool]) -> float | int:
    kind, low, inclusive = spec
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DeviceError(f"{where}: {key!r} must be a number, got {value!r}")
    if kind is int and not isinstance(value, int):
        raise DeviceError(f"{where}: {key!r} must be a whole number, got {value!r}")
    if value < low or (value == low and not inclusive):
        raise DeviceError(f"{where}: {key!r} must be {'>=' if inclusive else '>'} {low:g}, got {value!r}")
    return kind(value)


def _flatten(where: str, doc: dict[str, Any]) -> dict[str, Any]:
    """All tables except [sources] and [calibration] merged into one namespace (sections are for reading)."""
    flat: dict[str, Any] = {}
    for section, table in doc.items():
        if section in {"sources", "calibration"}:
            continue
        if not isinstance(table, dict):
            raise DeviceError(f"{where}: top-level {section!r} must be a [table]")
        for key, value in table.items():
            if key in flat:
                raise DeviceError(f"{where}: {key!r} given twice")
            if key not in _NUMBERS and key not in _OPTIONAL_NUMBERS and key not in _OTHER:
                raise DeviceError(f"{where}: unknown field {key!r} in [{section}]")
            flat[key] = value
    return flat


def load_profile(name_or_path: str | Path) -> DeviceProfile:
    """Load `edge/devices/<name>.toml` (or a path to a .toml) and check every figure and its source."""
    path = _resolve(name_or_path)
    where = str(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DeviceError(f"{where}: cannot read profile ({exc})") from exc
    flat = _flatten(where, doc)
    kind = flat.get("kind", "npu")
    if kind not in {"npu", "cpu"}:
        raise DeviceError(f"{where}: 'kind' must be \"npu\" or \"cpu\", got {kind!r}")
    if kind == "cpu":  # a CPU has no separate fallback processor: its fallback rates are its own
        flat.setdefault("ai_cpu_gflops", flat.get("vector_tflops", 0) * 1e3)
        flat.setdefault("ai_cpu_gbps", flat.get("memory_gbps", 0))
        flat.setdefault("ai_cpu_launch_us", flat.get("op_launch_us", 0))
    nums: dict[str, float | int] = {}
    for key, spec in _NUMBERS.items():
        if key not in flat:
            raise DeviceError(f"{where}: missing field {key!r}")
        nums[key] = _number(where, key, flat[key], spec)
    if not nums["efficiency"] <= 1.0:
        raise DeviceError(f"{where}: 'efficiency' must be <= 1, got {nums['efficiency']!r}")
    fp32_as_fp16 = flat.get("fp32_as_fp16", kind == "npu")
    if not isinstance(fp32_as_fp16, bool):
        raise DeviceError(f"{where}: 'fp32_as_fp16' must be true or false")
    if fp32_as_fp16:
        fp32 = float(nums["peak_fp16_tflops"])
    elif "peak_fp32_tflops" in flat:
        spec = _OPTIONAL_NUMBERS["peak_fp32_tflops"]
        fp32 = float(_number(where, "peak_fp32_tflops", flat["peak_fp32_tflops"], spec))
    else:
        raise DeviceError(f"{where}: missing field 'peak_fp32_tflops' (required when fp32_as_fp16 = false)")
    tile = flat.get("cube_tile", [1, 1, 1])
    if (not isinstance(tile, list) or len(tile) != 3
            or not all(isinstance(t, int) and not isinstance(t, bool) and t >= 1 for t in tile)):
        raise DeviceError(f"{where}: 'cube_tile' must be three whole numbers >= 1, got {tile!r}")
    ops = flat.get("ai_core_ops", [])
    if kind == "npu" and not ops:
        raise DeviceError(f"{where}: missing field 'ai_core_ops' (an npu profile must list its AI Core ops)")
    if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
        raise DeviceError(f"{where}: 'ai_core_ops' must be a list of ONNX op type names")
    ranks = flat.get("im2col_conv_ranks", [])
    if not isinstance(ranks, list) or not all(isinstance(r, int) and not isinstance(r, bool) and r >= 1
                                              for r in ranks):
        raise DeviceError(f"{where}: 'im2col_conv_ranks' must be a list of whole numbers >= 1, got {ranks!r}")
    by_kind = flat.get("efficiency_by_kind", {})
    if not isinstance(by_kind, dict):
        raise DeviceError(f"{where}: 'efficiency_by_kind' must be a table of shares of peak")
    for kind_key, share in by_kind.items():
        _number(where, f"efficiency_by_kind.{kind_key}", share, (float, 0.0, False))
        if share > 1.0:
            raise DeviceError(f"{where}: 'efficiency_by_kind.{kind_key}' must be <= 1, got {share!r}")
    call_us = _number(where, "gemm_call_us", flat.get("gemm_call_us", 0.0), _OPTIONAL_NUMBERS["gemm_call_us"])
    k_over = _number(where, "k_overhead", flat.get("k_overhead", 0.0), _OPTIONAL_NUMBERS["k_overhead"])
    k_over8 = _number(where, "k_overhead_int8", flat.get("k_overhead_int8", k_over),
                      _OPTIONAL_NUMBERS["k_overhead_int8"])
    launch8 = _number(where, "op_launch_int8_us", flat.get("op_launch_int8_us", nums["op_launch_us"]),
                      _OPTIONAL_NUMBERS["op_launch_int8_us"])
    host_terms = {key: _number(where, key, flat[key], _OPTIONAL_NUMBERS[key])
                  for key in ("gemm_row_int8_us", "direct_conv_int8_align", "direct_conv_int8_min_out",
                              "direct_conv_int8_tap_us", "im2col_row_us", "im2col_ns", "im2col_strided_ns",
                              "transpose_gbps", "weight_gbps", "broadcast_span_ns") if key in flat}
    call8 = _number(where, "gemm_call_int8_us", flat.get("gemm_call_int8_us", call_us),
                    _OPTIONAL_NUMBERS["gemm_call_int8_us"])
    k_over8_conv = _number(where, "k_overhead_int8_conv", flat.get("k_overhead_int8_conv", k_over8),
                           _OPTIONAL_NUMBERS["k_overhead_int8_conv"])
    sources = doc.get("sources", {})
    if not isinstance(sources, dict):
        raise DeviceError(f"{where}: [sources] must be a table")
    given = {k for sec, t in doc.items() if sec not in {"sources", "calibration"} for k in t}
    for key in sorted(_SOURCED & given):
        text = sources.get(key)
        if not isinstance(text, str) or not text.strip():
            raise DeviceError(f"{where}: {key!r} has no entry in [sources] (name its public source or "
                              "write \"assumption: why\")")
    return DeviceProfile(
        name=str(flat.get("name", path.stem)), kind=kind, description=str(flat.get("description", "")),
        peak_fp16_tflops=float(nums["peak_fp16_tflops"]), peak_int8_tops=float(nums["peak_int8_tops"]),
        peak_fp32_tflops=fp32, fp32_as_fp16=fp32_as_fp16, vector_tflops=float(nums["vector_tflops"]),
        memory_gbps=float(nums["memory_gbps"]), ai_cores=int(nums["ai_cores"]),
        efficiency=float(nums["efficiency"]), op_launch_us=float(nums["op_launch_us"]),
        transfer_gbps=float(nums["transfer_gbps"]), transfer_latency_us=float(nums["transfer_latency_us"]),
        ai_cpu_gflops=float(nums["ai_cpu_gflops"]), ai_cpu_gbps=float(nums["ai_cpu_gbps"]),
        ai_cpu_launch_us=float(nums["ai_cpu_launch_us"]), power_w=float(nums["power_w"]),
        cube_tile=(tile[0], tile[1], tile[2]), ai_core_ops=frozenset(ops), gemm_call_us=float(call_us),
        k_overhead=float(k_over), k_overhead_int8=float(k_over8), op_launch_int8_us=float(launch8),
        im2col_conv_ranks=frozenset(ranks), efficiency_by_kind={k: float(v) for k, v in by_kind.items()},
        k_overhead_int8_conv=float(k_over8_conv), gemm_call_int8_us=float(call8), **host_terms,  # type: ignore[arg-type]
        sources=dict(sources),
        calibration=dict(doc.get("calibration", {})), path=path,
    )
