"""Layout reorders a CPU runtime inserts around its channel-blocked (NCHWc) 2-D convolutions.

Why: onnxruntime's CPU provider runs 2-D convolutions, pools and the elementwise ops between them on
channel-blocked tensors (its NchwcTransformer; 1-D convs keep NCHW and run as im2col, see the profile's
`im2col_conv_ranks`). Where a blocked tensor meets an op with no blocked kernel - a Transpose, Reshape, Split
or Slice, a Gemm, a graph output - the runtime inserts a ReorderOutput, and before a blocked conv whose input
is not blocked, a ReorderInput. Each is a full copy of the tensor through memory plus a kernel dispatch, and a
graph that shuffles channels (ShuffleNet: Reshape, Transpose, Split between its convs) pays two per unit, so
pricing the graph as its ONNX nodes alone misses them. An NPU profile has no such reorders here: ATC picks its
5-D layout once for the whole graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import onnx

from edge.accel.graph import GraphView

# Ops that produce a blocked tensor from blocked input (2-D conv and pools only when 4-D).
BLOCKED_SPATIAL = {"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"}
BLOCKED_ELEMENTWISE = {"Add", "Sum", "Mul", "Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid",
                       "BatchNormalization", "Identity", "Dropout"}
# Concat stays blocked only where every input's channel count is a whole number of blocks.
CHANNEL_BLOCK = 16  # [channels] fp32 lanes of one AVX-512 register: MLAS's NCHWc block size there
# A conv with fewer input channels than a block reads the NCHW tensor directly (no ReorderInput).
DIRECT_NCHW_MAX_CHANNELS = CHANNEL_BLOCK


def blocked_input_channels(cin: int) -> int:
    """Input channels a blocked 2-D conv computes over: a whole number of blocks, the padding zero-filled - but
    a conv with fewer channels than a block reads its NCHW input as it is (the image-input conv)."""
    if cin < DIRECT_NCHW_MAX_CHANNELS:
        return cin
    return -(-cin // CHANNEL_BLOCK) * CHANNEL_BLOCK


@dataclass(frozen=True)
class Reorder:
    """One inserted layout copy: the tensor it copies and which way."""

    tensor: str
    kind: str  # "ReorderInput" (NCHW -> blocked) or "ReorderOutput" (blocked -> NCHW)
    nbytes: int  # [B] size of the tensor (read once, written once)


def _rank(view: GraphView, name: str) -> int:
    shape = view.tensor(name).shape
    return len(shape) if shape is not None else 0


def _is_conv2d(node: onnx.NodeProto, view: GraphView) -> bool:
    return node.op_type == "Conv" and _rank(view, node.input[0]) == 4


def _data_inputs(node: onnx.NodeProto, view: GraphView) -> list[str]:
    return [i for i in node.input if i and i not in view.weights]


def _channels(view: GraphView, name: str) -> int:
    shape = view.tensor(name).shape
    return shape[1] if shape is not None and len(shape) > 1 else 0


def _quantized(node: onnx.NodeProto, view: GraphView) -> bool:
    """A node that reads a DequantizeLinear: part of an int8 QDQ kernel, which runs channels-last (QLinearConv
    is NHWC), never on channel-blocked tensors."""
    return any(view.producer.get(i) is not None and view.producer[i].op_type == "DequantizeLinear"
               for i in node.input if i)


def _blocked_output(node: onnx.NodeProto, view: GraphView, blocked: set[str]) -> bool:
    """Whether the runtime runs `node` on blocked tensors (so its output is blocked too)."""
    data = _data_inputs(node, view)
    if not data or not node.output or _rank(view, node.output[0]) != 4:
        return False
    if node.op_type in BLOCKED_SPATIAL:  # a 2-D fp32 conv or pool always runs blocked (input reordered if need be)
        return not _quantized(node, view)
    if node.op_type in BLOCKED_ELEMENTWISE:
        return all(d in blocked for d in data)
    if node.op_type == "Concat":
        return all(d in blocked and _channels(view, d) % CHANNEL_BLOCK == 0 for d in data)
    return False


def reorders(view: GraphView) -> list[Reorder]:
    """The reorders a channel-blocked CPU runtime inserts into this graph, in graph order."""
    blocked: set[str] = set()
    found: dict[tuple[str, str], Reorder] = {}
    for node in view.nodes:
        data = _data_inputs(node, view)
        runs_blocked = _blocked_output(node, view, blocked)
        for name in data:
            if name in blocked and not runs_blocked and (name, "ReorderOutput") not in found:
                found[(name, "ReorderOutput")] = Reorder(name, "ReorderOutput", view.tensor(name).nbytes)
        if _is_conv2d(node, view) and runs_blocked and data[0] not in blocked \
                and _channels(view, data[0]) >= DIRECT_NCHW_MAX_CHANNELS:
            found.setdefault((data[0], "ReorderInput"), Reorder(data[0], "ReorderInput",
                                                                 view.tensor(data[0]).nbytes))
        if runs_blocked:
            blocked.update(node.output)
    for name in view.outputs:
        if name in blocked:
            found.setdefault((name, "ReorderOutput"), Reorder(name, "ReorderOutput", view.tensor(name).nbytes))
    return list(found.values())
