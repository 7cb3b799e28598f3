"""Which nodes run as one kernel, and at what precision.

Why: both the Ascend graph compiler (ATC) and onnxruntime's CPU graph optimiser fuse a matrix op with its
bias, batch-norm and activation epilogue, and fold QDQ (QuantizeLinear / DequantizeLinear) pairs around an op
into one int8 kernel (and onnxruntime drops a QDQ pair around a reshape altogether). Pricing every ONNX node as
its own kernel would charge launches and memory round trips that never happen; pricing a QDQ graph at fp32
would miss the int8 rate. A group's bytes are what crosses its boundary: its external inputs, its weights and
its external outputs, each at its own dtype (int8 where a folded Q/DQ sits on the boundary).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import onnx
from onnx import TensorProto, numpy_helper

from edge.accel.graph import GraphView
from edge.accel.ops import FREE_OPS, INT8_MATRIX_OPS, MATRIX_OPS, VIEW_OPS

EPILOGUE_OPS = {"Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "PRelu", "Elu",
                "BatchNormalization", "Add"}
QDQ_OPS = {"QuantizeLinear", "DequantizeLinear"}
_PRECISION = {TensorProto.FLOAT: "fp32", TensorProto.FLOAT16: "fp16", TensorProto.BFLOAT16: "fp16",
              TensorProto.DOUBLE: "fp64", TensorProto.INT8: "int8", TensorProto.UINT8: "int8",
              TensorProto.INT32: "int32", TensorProto.INT64: "int64", TensorProto.BOOL: "bool"}


@dataclass
class Group:
    """One kernel: an anchor node plus the nodes folded into it."""

    anchor: onnx.NodeProto
    members: list[onnx.NodeProto] = field(default_factory=list)
    precision: str = "fp32"
    in_bytes: int = 0  # [B] activations read
    weight_bytes: int = 0  # [B] parameters read
    out_bytes: int = 0  # [B] activations written
    int64: bool = False  # an int64 activation crosses the boundary (forces the Ascend AI CPU)

    @property
    def bytes(self) -> int:
        return self.in_bytes + self.weight_bytes + self.out_bytes

    @property
    def fused(self) -> list[str]:
        return [m.name or m.op_type for m in self.members if m is not self.anchor]


def _fused_dq(node: onnx.NodeProto, view: GraphView) -> bool:
    """A DequantizeLinear whose every reader is a compute node folds into those readers."""
    if node.op_type != "DequantizeLinear" or node.output[0] in view.outputs:
        return False
    readers = view.consumers.get(node.output[0], [])
    return bool(readers) and all(r.op_type not in QDQ_OPS | FREE_OPS | VIEW_OPS for r in readers)


def _scalar(view: GraphView, name: str) -> object:
    """The value of a constant quantisation parameter (its name where it is not an initializer)."""
    for init in view.model.graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init).tolist()
    return name


def _qparams(node: onnx.NodeProto, view: GraphView) -> list[object]:
    return [_scalar(view, name) for name in node.input[1:]]


def _requantised_view(node: onnx.NodeProto, view: GraphView) -> bool:
    """A view op between a DequantizeLinear and a QuantizeLinear of the same scale and zero point.

    Why: onnxruntime's QDQ transformer drops such a pair (its DropQDQNodes rule) and runs the view on the
    8-bit tensor, so neither the dequantise nor the quantise pass happens - only the view's dispatch."""
    if node.op_type not in VIEW_OPS or not node.input or node.output[0] in view.outputs:
        return False
    dq = view.producer.get(node.input[0])
    readers = view.consumers.get(node.output[0], [])
    if dq is None or dq.op_type != "DequantizeLinear" or len(readers) != 1 or readers[0].op_type != "QuantizeLinear":
        return False
    if dq.input[0] in view.weights or view.consumers.get(dq.output[0], []) != [node]:
        return False
    return _qparams(dq, view) == _qparams(readers[0], view)


def _dropped_qdq(node: onnx.NodeProto, view: GraphView) -> bool:
    """The DequantizeLinear before, or the QuantizeLinear after, a requantised view (see `_requantised_view`)."""
    if node.op_type == "DequantizeLinear":
        readers = view.consumers.get(node.output[0], [])
        return len(readers) == 1 and _requantised_view(readers[0], view)
    if node.op_type == "QuantizeLinear":
        prod = view.producer.get(node.input[0])
        return prod is not None and _requantised_view(prod, view)
    return False


def _batched_matmul(node: onnx.NodeProto, view: GraphView) -> bool:
    """A MatMul whose A operand has more than two dims (a batch of row blocks, as attention layers have)."""
    shape = view.tensor(node.input[0]).shape if node.input else None
    return node.op_type == "MatMul" and shape is not None and len(shape) > 2


def _epilogue_of(node: onnx.NodeProto, view: GraphView, anchor: dict[str, onnx.NodeProto],
                 nd_matmul_epilogue: bool = True) -> onnx.NodeProto | None:
    """The matrix-op anchor this node folds into as an epilogue, if any.

    `nd_matmul_epilogue` False: a MatMul with an A of more than two dims takes no epilogue. onnxruntime's CPU
    provider folds a bias Add (and then an activation) only into a Gemm, and turns a MatMul + Add into a Gemm
    only when A is a matrix; a batched MatMul's bias Add and activation run as kernels of their own."""
    if node.op_type not in EPILOGUE_OPS | {"Mul"}:
        return None
    data = [i for i in node.input if i and i not in view.weights]
    if node.op_type == "Add" and len(data) != 1:
        return None  # a residual add of two activations stays its own kernel
    prod = view.producer.get(data[0]) if data else None
    if prod is None or prod.output[0] in view.outputs:
        return None
    root = anchor.get(prod.name, prod)
    if root.op_type not in MATRIX_OPS or (not nd_matmul_epilogue and _batched_matmul(root, view)):
        return None
    readers = view.consumers.get(prod.output[0], [])
    if node.op_type == "Mul":  # SiLU: y * sigmoid(y), both read y
        sig = view.producer.get(data[1]) if len(data) == 2 else None
        ok = sig is not None and sig.op_type == "Sigmoid" and anchor.get(sig.name) is root
        return root if ok and len(readers) == 2 else None
    if node.op_type == "Sigmoid" and len(readers) == 2 and {r.op_type for r in readers} == {"Sigmoid", "Mul"}:
        return root
    return root if len(readers) == 1 else None


def _precision(group: Group, view: GraphView, dq_inputs: bool) -> str:
    if group.anchor.op_type in INT8_MATRIX_OPS or dq_inputs:
        return "int8"
    out = view.tensor(group.anchor.output[0]) if group.anchor.output else None
    return _PRECISION.get(out.elem if out else TensorProto.FLOAT, "fp32")


def build_groups(view: GraphView, fp32_as_fp16: bool = False, drop_view_qdq: bool = False,
                 nd_matmul_epilogue: bool = True) -> list[Group]:
    """Partition the graph's nodes into kernels, in graph order, with boundary bytes and precision.

    `fp32_as_fp16`: the device stores fp32 tensors as fp16 (ATC's default conversion), so they move 2 B each.
    `drop_view_qdq`: the runtime drops a DequantizeLinear / QuantizeLinear pair of equal parameters around a
    view op (onnxruntime does); such a pair is then no kernel at all.
    `nd_matmul_epilogue`: a batched MatMul (A of more than two dims) folds its bias and activation (ATC does;
    onnxruntime's CPU provider does not, see `_epilogue_of`).
    """
    anchor: dict[str, onnx.NodeProto] = {}
    groups: dict[str, Group] = {}
    order: list[Group] = []
    for index, node in enumerate(view.nodes):
        node.name = node.name or f"{node.op_type}_{index}"
        if node.op_type in FREE_OPS or (node.op_type != "DequantizeLinear"
                                        and all(not i or i in view.weights for i in node.input)):
            view.weights.update(node.output)  # constant-folded before the first inference: a weight after that
            continue
        if drop_view_qdq and _dropped_qdq(node, view):
            continue  # the view reads and writes the 8-bit tensor itself
        if _fused_dq(node, view):
            continue  # joins its readers' groups below
        root = _epilogue_of(node, view, anchor, nd_matmul_epilogue)
        if root is None and node.op_type == "QuantizeLinear":
            prod = view.producer.get(node.input[0])
            cand = anchor.get(prod.name, prod) if prod is not None else None
            if cand is not None and cand.name in groups and groups[cand.name].precision == "int8":
                root = cand
        if root is not None:
            anchor[node.name] = root
            groups[root.name].members.append(node)
            continue
        group = Group(node, [node])
        dq = [view.producer[i] for i in node.input if i in view.producer and _fused_dq(view.producer[i], view)]
        group.members[:0] = dq
        group.precision = _precision(group, view, bool(dq))
        groups[node.name] = group
        order.append(group)
    for group in order:
        _boundary(group, view, 2 if fp32_as_fp16 else 4)
        if fp32_as_fp16 and group.precision == "fp32":
            group.precision = "fp16"
    return order


def _nbytes(view: GraphView, name: str, fp32_size: int) -> int:
    t = view.tensor(name)
    return t.numel * fp32_size if t.elem == TensorProto.FLOAT else t.nbytes


def _boundary(group: Group, view: GraphView, fp32_size: int) -> None:
    """Fill a group's boundary bytes: external inputs, weights, and outputs read outside or by the caller."""
    made = {o for m in group.members for o in m.output}
    inside = {id(m) for m in group.members}
    seen: set[str] = set()
    for member in group.members:
        for name in member.input:
            if not name or name in made or name in seen:
                continue
            seen.add(name)
            t = view.tensor(name)
            if name in view.weights:
                group.weight_bytes += _nbytes(view, name, fp32_size)
            else:
                group.in_bytes += _nbytes(view, name, fp32_size)
                group.int64 |= t.elem == TensorProto.INT64 and member.op_type not in VIEW_OPS
        for name in member.output:
            readers = view.consumers.get(name, [])
            if name in view.outputs or any(id(r) not in inside for r in readers):
                group.out_bytes += _nbytes(view, name, fp32_size)
                group.int64 |= view.tensor(name).elem == TensorProto.INT64
