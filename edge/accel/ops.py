"""Arithmetic work of one ONNX node from its inferred shapes: MACs, vector FLOPs, and its GEMM form.

Why a GEMM form: a matrix unit (the DaVinci cube, or a CPU's SIMD GEMM kernel) works in fixed tiles, so a
layer's time depends on its M x N x K dimensions rounded up to the tile, not only on its MAC count.
Why a convolution also keeps its geometry (channels, kernel, strides): a CPU runtime lowers a convolution in
ways whose cost is not a function of the GEMM alone - how it gathers the input patches depends on the stride
and on how many kernel rows there are, and which kernel it picks depends on the channel counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import onnx
from onnx import helper

from edge.accel.graph import GraphView

MATRIX_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul", "QLinearConv", "QLinearMatMul", "ConvInteger",
              "MatMulInteger"}
INT8_MATRIX_OPS = {"QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger"}
# Pure re-indexing of the same buffer: runtimes alias it, ATC folds it away.
VIEW_OPS = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"}
# Shape arithmetic that constant-folds before the first inference.
FREE_OPS = {"Shape", "Constant", "ConstantOfShape", "Size"}
# Data movement: bytes in and out, no arithmetic.
MOVE_OPS = {"Transpose", "Concat", "Split", "Slice", "Gather", "GatherElements", "GatherND", "ScatterND",
            "ScatterElements", "Pad", "Resize", "Upsample", "Tile", "Expand", "DepthToSpace", "SpaceToDepth"}
# Element-wise binary ops with multidirectional broadcasting.
BROADCAST_BINARY = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Equal", "Greater", "Less", "And", "Or",
                    "PRelu"}
# Element-wise ops over any number of inputs (ONNX Sum, Mean): n inputs cost n - 1 passes.
VARIADIC_SUMS = {"Sum", "Mean"}
# [FLOP per output element] of vector (elementwise / normalisation) ops; anything unlisted counts 1.
# A normalisation over its own statistics takes 8: the mean (1 addition), the variance (subtract, square, add)
# and the normalised output (subtract the mean, times the reciprocal deviation, times the scale, plus the bias).
# QuantizeLinear and DequantizeLinear count 1: one multiply by the scale per element, the zero point, rounding,
# clamping and conversion being single instructions on the same lanes (the vector rate is calibrated on a
# Sigmoid, whose 4 counted FLOPs stand for a whole exponential and a division).
VECTOR_FLOPS: dict[str, float] = {
    "Sigmoid": 4, "Tanh": 4, "Erf": 4, "Gelu": 8, "HardSigmoid": 2, "HardSwish": 3, "Softplus": 3, "Elu": 3,
    "Pow": 2, "Exp": 2, "Log": 2, "BatchNormalization": 2, "InstanceNormalization": 8,
    "LayerNormalization": 8, "Softmax": 5, "LogSoftmax": 5, "QuantizeLinear": 1, "DequantizeLinear": 1,
}


@dataclass(frozen=True)
class Gemm:
    """A node as `groups` independent (M x K) @ (K x N) products."""

    groups: int
    m: int
    n: int
    k: int


@dataclass(frozen=True)
class ConvShape:
    """A convolution's geometry, per group: input and output channels, kernel and strides per spatial axis."""

    cin: int
    cout: int
    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    positions: int  # output positions over the whole batch (N x spatial output size)

    @property
    def kernel_rows(self) -> int:
        """Kernel rows: every kernel position but the innermost (width) axis - 1 for a Conv1d, kh for a Conv2d."""
        return prod(self.kernel[:-1])

    @property
    def taps(self) -> int:
        return prod(self.kernel)

    @property
    def strided(self) -> bool:
        """The innermost (width) stride exceeds 1: consecutive outputs read non-adjacent inputs."""
        return bool(self.strides) and self.strides[-1] > 1


@dataclass(frozen=True)
class Work:
    """What a node computes. kind: matrix | vector | move | view | free."""

    kind: str
    macs: int
    vector_flops: int
    gemm: Gemm | None = None  # channels along N: how a cube or a blocked direct convolution tiles it
    per_image: Gemm | None = None  # im2col form, one GEMM per image and group, output positions along N
    rank: int = 0  # spatial rank of a convolution (1 for Conv1d, 2 for Conv2d), 0 for GEMM / MatMul
    conv: ConvShape | None = None  # geometry of a (non-transposed) convolution

    @property
    def flops(self) -> int:
        """[FLOP] a MAC counts as two operations, the datasheet convention for TOPS / TFLOPS."""
        return 2 * self.macs + self.vector_flops


def _attr(node: onnx.NodeProto, name: str, default: object) -> object:
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _conv(node: onnx.NodeProto, view: GraphView) -> Work:
    w_slot = 3 if node.op_type == "QLinearConv" else 1
    x, w = view.tensor(node.input[0]).shape, view.tensor(node.input[w_slot]).shape
    y = view.tensor(node.output[0]).shape
    if x is None or w is None or y is None:
        return Work("matrix", 0, 0)
    group = int(_attr(node, "group", 1))  # type: ignore[arg-type]
    rank = len(x) - 2
    if node.op_type == "ConvTranspose":
        cout_g, kernel = w[1], prod(w[2:])
        k, n, m = x[1] // group, cout_g * kernel, x[0] * prod(x[2:])
        image = Gemm(x[0] * group, cout_g * kernel, prod(x[2:]), k)
        return Work("matrix", group * m * n * k, 0, Gemm(group, m, n, k), image, rank)
    k, n, m = w[1] * prod(w[2:]), w[0] // group, y[0] * prod(y[2:])
    image = Gemm(y[0] * group, n, prod(y[2:]), k)
    strides: list[int] = _attr(node, "strides", None) or [1] * rank  # type: ignore[assignment]
    shape = ConvShape(w[1], n, tuple(w[2:]), tuple(int(s) for s in strides), m)
    return Work("matrix", group * m * n * k, 0, Gemm(group, m, n, k), image, rank, shape)


def _matmul(node: onnx.NodeProto, view: GraphView) -> Work:
    b_slot = 3 if node.op_type == "QLinearMatMul" else 1
    a, b = view.tensor(node.input[0]).shape, view.tensor(node.input[b_slot]).shape
    if a is None or b is None:
        return Work("matrix", 0, 0)
    if node.op_type == "Gemm":
        ta, tb = int(_attr(node, "transA", 0)), int(_attr(node, "transB", 0))  # type: ignore[arg-type]
        m, k = (a[1], a[0]) if ta else (a[0], a[1])
        n = b[0] if tb else b[1]
        return Work("matrix", m * n * k, 0, Gemm(1, m, n, k))
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    k, n = a2[-1], b2[-1]
    if len(b2) == 2:  # a shared weight matrix: all leading dims of A fold into M
        m, groups = prod(a2[:-1]), 1
    else:
        m, groups = a2[-2], max(prod(a2[:-2]), prod(b2[:-2]))
    return Work("matrix", groups * m * n * k, 0, Gemm(groups, m, n, k))


def broadcast_spans(node: onnx.NodeProto, view: GraphView) -> int:
    """How many contiguous runs a broadcasting binary op walks its output in; 0 where it does not broadcast.

    Why: onnxruntime's CPU provider runs a broadcast (a bias [C] added to [N, L, C], a mask [N, 1, 1, L] added
    to scores) as one vectorised loop per run of trailing dims in which both inputs advance together, with a
    fixed cost per run; a run of 1 element (a [N, L, 1] tensor plus a [1]) pays it per element. An input of
    one element is no broadcast at all (a scalar loop), nor are inputs of equal shape."""
    if op_arity(node) != 2:
        return 0
    shapes = [view.tensor(i).shape for i in node.input[:2]]
    out = view.tensor(node.output[0]).shape
    if out is None or any(s is None for s in shapes):
        return 0
    a, b = shapes
    if a == b or prod(a) == 1 or prod(b) == 1:  # type: ignore[arg-type]
        return 0
    rank = len(out)
    a = (1,) * (rank - len(a)) + tuple(a)  # type: ignore[arg-type]
    b = (1,) * (rank - len(b)) + tuple(b)  # type: ignore[arg-type]
    run, axis = 1, rank - 1
    while axis >= 0 and a[axis] == b[axis]:
        run *= out[axis]
        axis -= 1
    return prod(out) // max(run, 1)


def op_arity(node: onnx.NodeProto) -> int:
    """2 for the element-wise binary ops that broadcast, else 0."""
    return 2 if node.op_type in BROADCAST_BINARY and len([i for i in node.input if i]) == 2 else 0


def node_work(node: onnx.NodeProto, view: GraphView) -> Work:
    """MACs and vector FLOPs of one node (batch already bound in `view`)."""
    op = node.op_type
    if op in FREE_OPS:
        return Work("free", 0, 0)
    if op in VIEW_OPS:
        return Work("view", 0, 0)
    if op in {"Conv", "ConvTranspose", "QLinearConv", "ConvInteger"}:
        return _conv(node, view)
    if op in MATRIX_OPS:
        return _matmul(node, view)
    if op in MOVE_OPS:
        return Work("move", 0, 0)
    out = view.tensor(node.output[0]) if node.output else None
    first = view.tensor(node.input[0]) if node.input else None
    if op in {"MaxPool", "AveragePool", "LpPool"}:
        kernel = prod(_attr(node, "kernel_shape", [1]))  # type: ignore[arg-type]
        return Work("vector", 0, (out.numel if out else 0) * kernel)
    if op.startswith("Global") or op.startswith("Reduce"):
        return Work("vector", 0, first.numel if first else 0)
    if op in VARIADIC_SUMS:  # one addition per output element for every input past the first
        return Work("vector", 0, (out.numel if out else 0) * max(len([i for i in node.input if i]) - 1, 1))
    return Work("vector", 0, int((out.numel if out else 0) * VECTOR_FLOPS.get(op, 1)))
