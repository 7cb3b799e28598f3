"""Cost model: hand-counted MACs and bytes, weights as inputs, int8 and fallback detection, monotone latency."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto

from edge.accel import GraphError, load_profile, model_cost, profile_table
from edge.accel.netbuild import GraphBuilder


def conv_model(weights_as_inputs: bool = False) -> onnx.ModelProto:
    b = GraphBuilder("conv", weights_as_inputs=weights_as_inputs)
    b.output(b.conv(b.input("x", ["N", 3, 32, 32]), 3, 16, 3, act=None))  # same padding, stride 1
    return b.build()


def mlp_model() -> onnx.ModelProto:
    b = GraphBuilder("mlp")
    x = str(b.node("Flatten", [b.input("scan", ["N", 2, 64])], axis=1))
    b.output(b.dense(b.dense(x, 128, 64), 64, 16, act=None))
    return b.build()


def cnn_model() -> onnx.ModelProto:
    b = GraphBuilder("cnn")
    x = b.input("scan", ["N", 2, 128])
    x = b.conv(b.conv(x, 2, 32, 5, dims=1), 32, 64, 5, stride=2, dims=1)
    b.output(b.dense(str(b.node("Flatten", [str(b.node("GlobalAveragePool", [x]))], axis=1)), 64, 16, act=None))
    return b.build()


def test_conv_macs_and_bytes_match_a_hand_count() -> None:
    cost = model_cost(conv_model(), "host", batch=2)
    (conv,) = [n for n in cost.nodes if n.op_type == "Conv"]
    assert conv.macs == 2 * 16 * 32 * 32 * (3 * 3 * 3)  # N * Cout * H * W * (Cin * k * k)
    x, w, bias, y = 2 * 3 * 32 * 32, 16 * 3 * 3 * 3, 16, 2 * 16 * 32 * 32
    assert conv.bytes == 4 * (x + w + bias + y)  # fp32 on the host


def test_ascend_moves_fp32_tensors_as_fp16() -> None:
    host = model_cost(conv_model(), "host", batch=1).nodes[0]
    npu = model_cost(conv_model(), "ascend-310", batch=1).nodes[0]
    assert npu.bytes * 2 == host.bytes
    assert npu.precision == "fp16" and host.precision == "fp32"


def test_weights_given_as_graph_inputs_cost_like_initializers() -> None:
    a = model_cost(conv_model(False), "ascend-310", 4)
    b = model_cost(conv_model(True), "ascend-310", 4)
    assert (a.macs, a.bytes) == (b.macs, b.bytes)
    assert a.latency_s == pytest.approx(b.latency_s)


def test_gemm_and_batched_matmul_macs() -> None:
    cost = model_cost(mlp_model(), "host", batch=8)
    gemms = [n for n in cost.nodes if n.op_type == "MatMul"]
    assert [g.macs for g in gemms] == [8 * 128 * 64, 8 * 64 * 16]
    assert all(any(f.startswith("Add") for f in g.fused) for g in gemms)  # bias add folded into the GEMM
    b = GraphBuilder("bmm")
    q, k = b.input("q", ["N", 4, 10, 32]), b.input("k", ["N", 4, 32, 12])
    b.output(str(b.node("MatMul", [q, k])))
    assert model_cost(b.build(), "host", 3).macs == 3 * 4 * 10 * 12 * 32


def test_gemm_node_with_transposed_weight() -> None:
    b = GraphBuilder("gemm")
    x = b.input("x", ["N", 40])
    b.output(str(b.node("Gemm", [x, b.weight("w", [24, 40]), b.weight("b", [24])], transB=1)))
    assert model_cost(b.build(), "host", 5).macs == 5 * 40 * 24


def qdq_conv() -> onnx.ModelProto:
    b = GraphBuilder("qdq")
    x = b.input("x", ["N", 16, 16, 16])
    sa, za = b.const(np.float32(0.05)), b.const(np.uint8(128))
    sw, zw = b.const(np.float32(0.01)), b.const(np.int8(0))
    xq = str(b.node("DequantizeLinear", [str(b.node("QuantizeLinear", [x, sa, za])), sa, za]))
    w = str(b.node("DequantizeLinear", [b.const(np.ones((32, 16, 3, 3), np.int8)), sw, zw]))
    y = str(b.node("Conv", [xq, w], kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
    so, zo = b.const(np.float32(0.1)), b.const(np.uint8(128))
    b.output(str(b.node("DequantizeLinear", [str(b.node("QuantizeLinear", [y, so, zo])), so, zo])))
    return b.build()


def test_qdq_conv_is_recognised_as_int8_and_reads_int8_weights() -> None:
    cost = model_cost(qdq_conv(), "ascend-310", 1)
    (conv,) = [n for n in cost.nodes if n.op_type == "Conv"]
    assert conv.precision == "int8"
    x, w, y = 16 * 16 * 16, 32 * 16 * 9, 32 * 16 * 16  # all int8 at the kernel boundary
    assert x + w + y <= conv.bytes <= x + w + y + 64  # plus the scalar scales and zero points
    fp = GraphBuilder("fp")
    fx = fp.input("x", ["N", 16, 16, 16])
    fp.output(str(fp.node("Conv", [fx, fp.weight("w", [32, 16, 3, 3])], kernel_shape=[3, 3], pads=[1, 1, 1, 1])))
    fp_conv = model_cost(fp.build(), "ascend-310", 1).nodes[0]
    assert conv.time_s < fp_conv.time_s  # twice the cube rate, a quarter of the bytes


def test_integer_ops_are_int8() -> None:
    b = GraphBuilder("ci")
    x = b.input("x", ["N", 8, 8, 8], TensorProto.UINT8)
    b.output(str(b.node("ConvInteger", [x, b.const(np.ones((4, 8, 3, 3), np.int8))], kernel_shape=[3, 3])),
             TensorProto.INT32)
    (node,) = model_cost(b.build(), "ascend-310p", 1).nodes
    assert node.precision == "int8" and node.macs == 4 * 6 * 6 * 8 * 9


def _unary(op: str, **attrs: object) -> onnx.ModelProto:
    b = GraphBuilder(op)
    b.output(str(b.node(op, [b.input("x", ["N", 64, 64])], **attrs)))
    return b.build()


def test_unsupported_op_falls_back_to_ai_cpu_and_costs_more() -> None:
    prof = load_profile("ascend-310")
    assert "Round" not in prof.ai_core_ops
    core = model_cost(_unary("Abs"), prof, 4)
    cpu = model_cost(_unary("Round"), prof, 4)
    assert [n.unit for n in core.nodes] == ["AI_CORE"] and [n.unit for n in cpu.nodes] == ["AI_CPU"]
    assert cpu.latency_s > core.latency_s
    assert "AI CPU fallbacks: 1" in cpu.table()


def test_int64_tensor_forces_the_ai_cpu() -> None:
    b = GraphBuilder("i64")
    y = str(b.node("Cast", [b.input("x", ["N", 64]), ], to=TensorProto.INT64))
    b.output(str(b.node("Abs", [y])), TensorProto.INT64)
    units = {n.op_type: n.unit for n in model_cost(b.build(), "ascend-310", 1).nodes}
    assert units["Abs"] == "AI_CPU"


@pytest.mark.parametrize("device", ["ascend-310", "ascend-310b", "ascend-310p", "ascend-910c", "host"])
def test_latency_grows_with_batch(device: str) -> None:
    for model in (mlp_model(), cnn_model(), conv_model()):
        lat = [model_cost(model, device, b).latency_s for b in (1, 2, 4, 8, 16, 64)]
        assert all(a < b for a, b in itertools.pairwise(lat)), lat


def test_310_is_slower_than_310p_and_910c_fastest() -> None:
    for model in (cnn_model(), conv_model()):
        t = {d: model_cost(model, d, 16).latency_s for d in ("ascend-310", "ascend-310p", "ascend-910c")}
        assert t["ascend-310"] > t["ascend-310p"] > t["ascend-910c"]


def test_resnet18_matches_the_nnlqp_anchor_on_ascend_310() -> None:
    """NNLQP (ICPP 2022): ResNet-18 fp16 batch 8 on Atlas 300 (Ascend 310) ~9.2 ms."""
    b = GraphBuilder("resnet18", weights_as_inputs=True)
    x = b.conv(b.input("x", ["N", 3, 224, 224]), 3, 64, 7, stride=2, pad=3)
    x = str(b.node("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    cin = 64
    for ch, first_stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        for i in range(2):
            s = first_stride if i == 0 else 1
            y = b.conv(b.conv(x, cin, ch, 3, stride=s), ch, ch, 3, act=None)
            short = x if (s == 1 and cin == ch) else b.conv(x, cin, ch, 1, stride=s, pad=0, act=None)
            x, cin = str(b.node("Relu", [str(b.node("Add", [y, short]))])), ch
    x = str(b.node("Flatten", [str(b.node("GlobalAveragePool", [x]))], axis=1))
    b.output(b.dense(x, 512, 1000, act=None))
    cost = model_cost(b.build(), "ascend-310", 8)
    assert cost.macs == pytest.approx(8 * 1.814e9, rel=0.01)
    assert cost.latency_s == pytest.approx(9.2e-3, rel=0.10)


def test_table_and_profile_table_say_emulated(tmp_path: Path) -> None:
    path = tmp_path / "cnn.onnx"
    onnx.save(cnn_model(), str(path))
    text = profile_table(path, "ascend-310", batch=4)
    assert "emulated" in text and "ascend-310" in text and "Conv" in text
    assert "per frame at batch 4" in text


def test_symbolic_non_batch_dim_is_refused() -> None:
    b = GraphBuilder("dyn")
    b.output(str(b.node("Abs", [b.input("x", ["N", "L"])])))
    with pytest.raises(GraphError, match="dim 1"):
        model_cost(b.build(), "host", 1)
