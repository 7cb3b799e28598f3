"""A small layer-level ONNX graph builder.

Why it exists: the validation benchmark needs many runnable model variants (MLPs, 1-D and 2-D CNNs) without
torch, and the background-load generator needs large published detector structures whose weights are shaped
graph *inputs* (timing-only: the file stays tiny and is never executed). Both are the same layer vocabulary,
so one builder serves both; the only switch is where weights live.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13  # ATC (ONNX -> Ascend offline model) accepts opsets 9-13 (CANN 5.0.4), so stay inside that range


class GraphBuilder:
    """Accumulates nodes, weights and inputs, then emits an `onnx.ModelProto`.

    `weights_as_inputs=True` declares every weight as a statically shaped graph input instead of an
    initializer: the cost model still counts its bytes (see `edge.accel.graph`), but no values are stored.
    """

    def __init__(self, name: str, *, weights_as_inputs: bool = False, seed: int = 0) -> None:
        self.name = name
        self.weights_as_inputs = weights_as_inputs
        self._rng = np.random.default_rng(seed)
        self._nodes: list[onnx.NodeProto] = []
        self._inputs: list[onnx.ValueInfoProto] = []
        self._outputs: list[onnx.ValueInfoProto] = []
        self._inits: list[onnx.TensorProto] = []
        self._count = 0

    def _fresh(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def input(self, name: str, shape: Sequence[int | str], elem: int = TensorProto.FLOAT) -> str:
        """Declare a data input; string dims (e.g. "N") stay symbolic so batch is a cost-model parameter."""
        self._inputs.append(helper.make_tensor_value_info(name, elem, list(shape)))
        return name

    def weight(self, stem: str, shape: Sequence[int], scale: float | None = None) -> str:
        """A float32 weight: He-scaled random values as an initializer, or a shaped graph input."""
        name = self._fresh(stem)
        if self.weights_as_inputs:
            self._inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
            return name
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        std = scale if scale is not None else float(np.sqrt(2.0 / max(fan_in, 1)))
        values = (self._rng.standard_normal(tuple(shape)) * std).astype(np.float32)
        self._inits.append(numpy_helper.from_array(values, name))
        return name

    def node(self, op_type: str, inputs: Sequence[str], n_out: int = 1, **attrs: object) -> str | list[str]:
        """Append one node; returns its output name (or names when `n_out` > 1)."""
        outs = [self._fresh(op_type.lower()) for _ in range(n_out)]
        self._nodes.append(helper.make_node(op_type, list(inputs), outs, name=self._fresh(op_type), **attrs))
        return outs[0] if n_out == 1 else outs

    def act(self, x: str, kind: str | None) -> str:
        """Activation by name: relu, silu (x * sigmoid(x), as YOLOv5 uses), leaky, or None."""
        if kind is None:
            return x
        if kind == "relu":
            return str(self.node("Relu", [x]))
        if kind == "leaky":
            return str(self.node("LeakyRelu", [x], alpha=0.1))
        if kind == "silu":
            return str(self.node("Mul", [x, str(self.node("Sigmoid", [x]))]))
        raise ValueError(f"unknown activation {kind!r}")

    def conv(self, x: str, cin: int, cout: int, k: int, *, stride: int = 1, pad: int | None = None,
             group: int = 1, dims: int = 2, act: str | None = "relu") -> str:
        """Conv (+ bias) + activation; `dims` 1 or 2 for Conv1d / Conv2d, 'same' padding by default."""
        p = k // 2 if pad is None else pad
        w = self.weight("w", [cout, cin // group, *([k] * dims)])
        b = self.weight("b", [cout], scale=0.01)
        y = self.node("Conv", [x, w, b], kernel_shape=[k] * dims, strides=[stride] * dims, pads=[p] * (2 * dims),
                      group=group)
        return self.act(str(y), act)

    def deconv(self, x: str, cin: int, cout: int, k: int, *, stride: int, act: str | None = "relu") -> str:
        """ConvTranspose (2-D) + activation: the upsampling blocks of PointPillars-style necks."""
        w = self.weight("wt", [cin, cout, k, k])
        y = self.node("ConvTranspose", [x, w], kernel_shape=[k, k], strides=[stride, stride])
        return self.act(str(y), act)

    def dense(self, x: str, fin: int, fout: int, act: str | None = "relu") -> str:
        """Fully connected layer as MatMul + Add (the form exporters emit; runtimes fuse it to Gemm)."""
        w = self.weight("fc_w", [fin, fout])
        b = self.weight("fc_b", [fout], scale=0.01)
        y = self.node("Add", [str(self.node("MatMul", [x, w])), b])
        return self.act(str(y), act)

    def const(self, values: np.ndarray, stem: str = "const") -> str:
        """A constant initializer (shapes, axes, quantisation scales, int8 weights): always stored, even in
        timing-only graphs, because such tensors are small or their values matter to shape inference."""
        name = self._fresh(stem)
        self._inits.append(numpy_helper.from_array(np.asarray(values), name))
        return name

    def output(self, name: str, elem: int = TensorProto.FLOAT, shape: Sequence[int | str] | None = None) -> None:
        self._outputs.append(helper.make_tensor_value_info(name, elem, None if shape is None else list(shape)))

    def build(self, metadata: dict[str, str] | None = None) -> onnx.ModelProto:
        """Emit the model (opset 13, IR 8 so older runtimes load it) and check it."""
        graph = helper.make_graph(self._nodes, self.name, self._inputs, self._outputs, self._inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="minefleet")
        model.ir_version = 8
        for key, value in (metadata or {}).items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        done = onnx.shape_inference.infer_shapes(model).graph
        inferred = {v.name: v for v in [*done.value_info, *done.output]}
        for out in model.graph.output:  # give outputs their inferred shapes (batch dim stays symbolic)
            if not out.type.tensor_type.HasField("shape") and out.name in inferred:
                out.type.CopyFrom(inferred[out.name].type)
        onnx.checker.check_model(model)
        return model
