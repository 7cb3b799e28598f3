"""Load an ONNX graph, bind its batch size, infer every tensor's shape and tell weights from activations.

Why: the cost model prices each node from the shapes and dtypes of what it reads and writes; those come from
onnx shape inference on the graph as given (no hand-kept per-model tables). Weights can be initializers or,
in timing-only graphs, statically shaped graph inputs: both are weights here, because on a device both are
bytes that must be read from memory on every inference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from edge.accel.errors import GraphError

# [B] bytes per element of each ONNX tensor type
DTYPE_BYTES: dict[int, int] = {
    TensorProto.FLOAT: 4, TensorProto.FLOAT16: 2, TensorProto.BFLOAT16: 2, TensorProto.DOUBLE: 8,
    TensorProto.INT8: 1, TensorProto.UINT8: 1, TensorProto.INT16: 2, TensorProto.UINT16: 2,
    TensorProto.INT32: 4, TensorProto.UINT32: 4, TensorProto.INT64: 8, TensorProto.UINT64: 8,
    TensorProto.BOOL: 1,
}

# Input slots that hold parameters rather than activations, per op type: a statically shaped graph input
# read only through these slots is a weight.
PARAM_SLOTS: dict[str, set[int]] = {
    "Conv": {1, 2}, "ConvTranspose": {1, 2}, "Gemm": {1, 2}, "MatMul": {1}, "BatchNormalization": {1, 2, 3, 4},
    "Add": {1}, "Mul": {1}, "PRelu": {1}, "InstanceNormalization": {1, 2}, "LayerNormalization": {1, 2},
    "QLinearConv": {1, 2, 3, 4, 5, 6, 7, 8}, "QLinearMatMul": {1, 2, 3, 4, 5, 6, 7}, "ConvInteger": {1, 2, 3},
    "MatMulInteger": {1, 2, 3}, "DequantizeLinear": {0, 1, 2}, "QuantizeLinear": {1, 2},
}


# Shape arithmetic is folded only over small integer tensors: shapes, axes, split sizes (never a weight).
FOLD_MAX_ELEMENTS = 64
# Ops that turn shapes into shapes; exporters chain them from `Shape` to compute a Reshape's or a Slice's bounds.
SHAPE_ARITHMETIC = {"Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Add", "Sub", "Mul", "Div", "Cast",
                    "Slice", "Floor", "Ceil", "Identity", "Range", "Equal", "Where", "ReduceProd", "Max", "Min"}
FOLD_ROUNDS = 64  # each round resolves at least one more level of shapes; graphs need a handful


@dataclass(frozen=True)
class Tensor:
    """Shape (None where unknown) and element type of one tensor."""

    shape: tuple[int, ...] | None
    elem: int

    @property
    def numel(self) -> int:
        if self.shape is None:
            return 0
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        """[B] size at its own dtype."""
        return self.numel * DTYPE_BYTES.get(self.elem, 4)


@dataclass
class GraphView:
    """A shape-inferred graph: its nodes in order, every tensor, which tensors are weights, and the wiring."""

    model: onnx.ModelProto
    nodes: list[onnx.NodeProto]
    tensors: dict[str, Tensor]
    weights: set[str]
    data_inputs: list[str]
    outputs: list[str]
    producer: dict[str, onnx.NodeProto] = field(default_factory=dict)
    consumers: dict[str, list[onnx.NodeProto]] = field(default_factory=dict)

    def tensor(self, name: str) -> Tensor:
        return self.tensors.get(name, Tensor(None, TensorProto.FLOAT))


def load_model(model: str | Path | onnx.ModelProto) -> onnx.ModelProto:
    """Read a model from a path, or take a ModelProto as is (a copy, so binding never mutates the caller's)."""
    if isinstance(model, onnx.ModelProto):
        copy = onnx.ModelProto()
        copy.CopyFrom(model)
        return copy
    path = Path(model)
    if not path.is_file():
        raise GraphError(f"{path}: no such model file")
    try:
        return onnx.load(str(path))
    except Exception as exc:  # onnx raises several protobuf and decode errors
        raise GraphError(f"{path}: not a readable ONNX model ({exc})") from exc


def _bind_batch(model: onnx.ModelProto, batch: int) -> None:
    """Set the leading symbolic dim of each data input to `batch`; any other symbolic dim is an error."""
    init_names = {t.name for t in model.graph.initializer}
    for value in model.graph.input:
        if value.name in init_names:
            continue
        dims = value.type.tensor_type.shape.dim
        for axis, dim in enumerate(dims):
            if dim.HasField("dim_value") and dim.dim_value > 0:
                continue
            if axis != 0:
                raise GraphError(f"input {value.name!r}: dim {axis} ({dim.dim_param or '?'}) is not fixed; "
                                 "only the leading batch dim may be symbolic")
            dim.Clear()
            dim.dim_value = batch


def _static(value: onnx.ValueInfoProto) -> bool:
    dims = value.type.tensor_type.shape.dim
    return all(d.HasField("dim_value") and d.dim_value > 0 for d in dims)


def _weight_inputs(model: onnx.ModelProto, consumers: dict[str, list[onnx.NodeProto]]) -> set[str]:
    """Graph inputs that are weights: statically shaped and read only through parameter slots."""
    found: set[str] = set()
    for value in model.graph.input:
        uses = consumers.get(value.name, [])
        if not uses or not _static(value):
            continue
        if all(any(name == value.name and slot in PARAM_SLOTS.get(n.op_type, set())
                   for slot, name in enumerate(n.input)) for n in uses):
            found.add(value.name)
    return found


def _infer(proto: onnx.ModelProto) -> onnx.ModelProto:
    try:
        return onnx.shape_inference.infer_shapes(proto, strict_mode=False, data_prop=True)
    except Exception as exc:
        raise GraphError(f"shape inference failed: {exc}") from exc


def _static_shapes(proto: onnx.ModelProto) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for value in [*proto.graph.input, *proto.graph.value_info, *proto.graph.output]:
        tt = value.type.tensor_type
        if tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim):
            shapes[value.name] = tuple(int(d.dim_value) for d in tt.shape.dim)
    return shapes


def _fold_value(node: onnx.NodeProto, known: dict[str, np.ndarray],
                shapes: dict[str, tuple[int, ...]]) -> list[np.ndarray] | None:
    """The outputs of one shape-arithmetic node whose inputs are all known, else None."""
    if node.op_type == "Shape":
        shape = shapes.get(node.input[0])
        if shape is None:
            return None
        start = next((a.i for a in node.attribute if a.name == "start"), 0)
        end = next((a.i for a in node.attribute if a.name == "end"), None)
        return [np.array(shape[start:end], dtype=np.int64)]
    if node.op_type not in SHAPE_ARITHMETIC or not all(not i or i in known for i in node.input):
        return None
    inputs = [helper.make_tensor_value_info(i, helper.np_dtype_to_tensor_dtype(known[i].dtype), known[i].shape)
              for i in node.input if i]
    outputs = [helper.make_empty_tensor_value_info(o) for o in node.output]
    graph = helper.make_graph([node], "fold", inputs, outputs)
    try:
        run = ReferenceEvaluator(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]))
        return [np.asarray(v) for v in run.run(None, {i: known[i] for i in node.input if i})]
    except Exception:  # a node the reference evaluator cannot run stays in the graph, unfolded
        return None


def _fold_shape_arithmetic(proto: onnx.ModelProto) -> onnx.ModelProto:
    """Replace shape arithmetic that is constant once the batch is bound with its values, and infer again.

    Why: exporters compute a Reshape's or a Slice's bounds from `Shape` at run time (ShuffleNet's channel split
    divides a channel count by 2), and onnx's data propagation stops at ops such as Div, leaving every shape
    after it unknown - and so unpriced. A runtime folds them before the first inference (onnxruntime's constant
    folding, ATC's), so the folded graph is also the one that runs."""
    proto = _infer(proto)
    for _ in range(FOLD_ROUNDS):
        graph = proto.graph
        known = {t.name: numpy_helper.to_array(t) for t in graph.initializer if np.prod(t.dims) <= FOLD_MAX_ELEMENTS}
        shapes = _static_shapes(proto)
        folded: set[int] = set()  # indices into graph.node
        for index, node in enumerate(graph.node):
            if node.op_type == "Constant":
                attr = next((a for a in node.attribute if a.name == "value"), None)
                if attr is not None and np.prod(attr.t.dims) <= FOLD_MAX_ELEMENTS:
                    known[node.output[0]] = numpy_helper.to_array(attr.t)
                continue
            values = _fold_value(node, known, shapes)
            if values is None or any(v.size > FOLD_MAX_ELEMENTS for v in values):
                continue
            known.update(zip(node.output, values, strict=True))
            folded.add(index)
        if not folded:
            return proto
        keep = [n for i, n in enumerate(graph.node) if i not in folded]
        needed = {i for n in keep for i in n.input} | {o.name for o in graph.output}
        made = {o: known[o] for i in sorted(folded) for o in graph.node[i].output if o in needed}
        del graph.node[:]
        graph.node.extend(keep)
        graph.initializer.extend(numpy_helper.from_array(v, name) for name, v in made.items())
        del graph.value_info[:]
        proto = _infer(proto)
    return proto


def analyse(model: str | Path | onnx.ModelProto, batch: int = 1) -> GraphView:
    """Bind the batch, fold shape arithmetic, run onnx shape inference and index the graph for costing."""
    if batch < 1:
        raise GraphError(f"batch must be >= 1, got {batch}")
    proto = load_model(model)
    _bind_batch(proto, batch)
    proto = _fold_shape_arithmetic(proto)
    graph = proto.graph
    tensors: dict[str, Tensor] = {}
    for value in [*graph.input, *graph.value_info, *graph.output]:
        tt = value.type.tensor_type
        shape = None
        if tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim):
            shape = tuple(int(d.dim_value) for d in tt.shape.dim)
        tensors[value.name] = Tensor(shape, tt.elem_type)
    for init in graph.initializer:
        tensors[init.name] = Tensor(tuple(init.dims), init.data_type)
    producer: dict[str, onnx.NodeProto] = {}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    weights = {t.name for t in graph.initializer}
    for node in graph.node:
        for out in node.output:
            producer[out] = node
        for name in node.input:
            if name:
                consumers.setdefault(name, []).append(node)
        if node.op_type == "Constant":
            weights.update(node.output)
            attr = next((a for a in node.attribute if a.name == "value"), None)
            if attr is not None:
                t = helper.get_attribute_value(attr)
                tensors[node.output[0]] = Tensor(tuple(t.dims), t.data_type)
    weights |= _weight_inputs(proto, consumers)
    data_inputs = [v.name for v in graph.input if v.name not in weights]
    return GraphView(proto, list(graph.node), tensors, weights, data_inputs, [o.name for o in graph.output],
                     producer, consumers)
