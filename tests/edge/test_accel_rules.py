"""Cost-model rules: the Ascend AI Core op mapping (per CANN's operator list), shape arithmetic folded before
pricing, depthwise padding on the host, layout reorders, batched-MatMul epilogues and the transpose rate."""

from __future__ import annotations

import importlib.util

import numpy as np
import onnx
import pytest

from bench import third_party_graphs
from edge.accel import available_devices, load_profile, model_cost
from edge.accel.cost import _gemm_time
from edge.accel.graph import analyse
from edge.accel.layout import reorders
from edge.accel.netbuild import GraphBuilder
from edge.accel.ops import Gemm

ASCEND = [d for d in available_devices() if d.startswith("ascend")]


def _residual_sum() -> onnx.ModelProto:
    """Two conv branches joined by an ONNX Sum, as Caffe2-exported ResNets join theirs."""
    b = GraphBuilder("residual_sum")
    x = b.input("x", ["N", 16, 16, 16])
    y = str(b.node("Sum", [b.conv(x, 16, 16, 3, act=None), b.conv(x, 16, 16, 1, act=None)]))
    b.output(y)
    return b.build()


@pytest.mark.parametrize("device", ASCEND)
def test_sum_runs_on_the_ai_core_per_the_cann_operator_list(device: str) -> None:
    prof = load_profile(device)
    assert {"Sum", "Floor", "Sin", "Cos"} <= prof.ai_core_ops
    assert "Ceil" not in prof.ai_core_ops  # the list runs Ceil on the AI CPU
    source = prof.sources["ai_core_ops"]
    assert "hicann/ops-math" in source and "AccumulateNV2" in source and "op_list.md" in source
    (total,) = [n for n in model_cost(_residual_sum(), prof, 1).nodes if n.op_type == "Sum"]
    assert total.unit == "AI_CORE"
    assert total.time_s < prof.ai_cpu_launch_us * 1e-6  # less than a fallback's dispatch alone


def test_sum_counts_one_add_per_extra_input() -> None:
    b = GraphBuilder("sum3")
    x = b.input("x", ["N", 1000])
    b.output(str(b.node("Sum", [x, str(b.node("Relu", [x])), str(b.node("Abs", [x]))])))
    (total,) = [n for n in model_cost(b.build(), "ascend-310", 2).nodes if n.op_type == "Sum"]
    assert total.flops == 2 * 2 * 1000  # batch 2, 1000 elements, two additions each


def _channel_split() -> onnx.ModelProto:
    """x[:, :C // 2] with C read at run time (Shape -> Gather -> Div), as torch exports ShuffleNet's split."""
    b = GraphBuilder("split")
    x = b.input("x", ["N", 32, 8, 8])
    channels = str(b.node("Gather", [str(b.node("Shape", [x])), b.const(np.array(1, np.int64))], axis=0))
    half = str(b.node("Div", [channels, b.const(np.array(2, np.int64))]))
    end = str(b.node("Unsqueeze", [half, b.const(np.array([0], np.int64))]))
    left = str(b.node("Slice", [x, b.const(np.array([0], np.int64)), end, b.const(np.array([1], np.int64))]))
    b.output(b.conv(left, 16, 16, 1, act=None))
    return b.build()


def test_shape_arithmetic_is_folded_so_the_conv_after_it_is_priced() -> None:
    view = analyse(_channel_split(), batch=3)
    assert not {n.op_type for n in view.nodes} & {"Shape", "Gather", "Div", "Unsqueeze"}
    slice_out = next(n for n in view.nodes if n.op_type == "Slice").output[0]
    assert view.tensor(slice_out).shape == (3, 16, 8, 8)
    (conv,) = [n for n in model_cost(_channel_split(), "host", 3).nodes if n.op_type == "Conv"]
    assert conv.macs == 3 * 64 * 16 * 16  # batch x positions x out x in (1x1 kernel)


def test_depthwise_conv_is_padded_across_channels_on_the_host_only() -> None:
    host, npu = load_profile("host"), load_profile("ascend-310")
    per_group, across = Gemm(32, 1024, 1, 9), Gemm(1, 1024, 32, 9)
    assert _gemm_time(per_group, 0, "conv2d", "fp32", 0.0, host) == _gemm_time(across, 0, "conv2d", "fp32", 0.0, host)
    # the cube pads each one-channel group to its 16-wide tile: 16 x the padded work of 32 channels side by side
    ratio = _gemm_time(per_group, 0, "conv2d", "fp16", 0.0, npu) / _gemm_time(across, 0, "conv2d", "fp16", 0.0, npu)
    assert ratio == pytest.approx(16.0)


def _shuffle() -> onnx.ModelProto:
    """conv -> Transpose -> conv: the blocked conv output must be reordered out and back in."""
    b = GraphBuilder("shuffle")
    x = b.conv(b.input("x", ["N", 8, 8, 8]), 8, 32, 3)  # under a block of input channels: read as NCHW
    y = str(b.node("Transpose", [x], perm=[0, 1, 3, 2]))
    b.output(str(b.node("Flatten", [str(b.node("GlobalAveragePool", [b.conv(y, 32, 32, 1)]))], axis=1)))
    return b.build()


def test_layout_reorders_around_a_transpose() -> None:
    view = analyse(_shuffle(), batch=2)
    found = [(r.kind, r.nbytes) for r in reorders(view)]
    tensor = 2 * 32 * 8 * 8 * 4  # [B] the conv output, fp32
    assert found.count(("ReorderOutput", tensor)) == 1 and found.count(("ReorderInput", tensor)) == 1
    # the pooled [2, 32, 1, 1] tensor leaves the blocked layout for Flatten
    assert ("ReorderOutput", 2 * 32 * 4) in found and len(found) == 3
    host = load_profile("host")
    costs = [n for n in model_cost(_shuffle(), host, 2).nodes if n.op_type.startswith("Reorder")]
    expected = 2 * tensor / host.transpose_rate() + host.op_launch_us * 1e-6
    assert sorted(n.time_s for n in costs)[-1] == pytest.approx(expected)
    assert not [n for n in model_cost(_shuffle(), "ascend-310", 2).nodes if n.op_type.startswith("Reorder")]


def test_conv_relu_pool_chain_needs_no_reorder_inside() -> None:
    b = GraphBuilder("chain")
    x = b.conv(b.conv(b.input("x", ["N", 3, 16, 16]), 3, 16, 3), 16, 16, 3)
    b.output(str(b.node("GlobalAveragePool", [x])))
    found = reorders(analyse(b.build(), batch=1))
    assert [(r.kind, r.nbytes) for r in found] == [("ReorderOutput", 16 * 4)]  # only the graph output


def _batched_dense() -> onnx.ModelProto:
    b = GraphBuilder("tokens")
    b.output(b.dense(b.input("t", ["N", 64, 32]), 32, 32, act="relu"))  # MatMul on a 3-D A, + bias, Relu
    return b.build()


def test_batched_matmul_epilogue_runs_apart_on_the_host_only() -> None:
    host = [n.op_type for n in model_cost(_batched_dense(), "host", 2).nodes]
    npu = [n.op_type for n in model_cost(_batched_dense(), "ascend-310", 2).nodes]
    assert host == ["MatMul", "Add", "Relu"]
    assert npu == ["MatMul"]
    b = GraphBuilder("rows")
    b.output(b.dense(b.input("x", ["N", 32]), 32, 32, act="relu"))  # 2-D A: MatMul + Add is a Gemm
    assert [n.op_type for n in model_cost(b.build(), "host", 2).nodes] == ["MatMul"]


def test_transpose_is_priced_at_the_transpose_rate() -> None:
    host = load_profile("host")
    assert host.transpose_gbps > 0 and host.transpose_rate() == pytest.approx(host.transpose_gbps * 1e9)
    npu = load_profile("ascend-310")
    assert npu.transpose_rate() == pytest.approx(npu.memory_gbps * 1e9)  # no figure of its own
    b = GraphBuilder("t")
    b.output(str(b.node("Transpose", [b.input("x", ["N", 256, 256])], perm=[0, 2, 1])))
    (node,) = model_cost(b.build(), host, 1).nodes
    assert node.bytes == 2 * 256 * 256 * 4
    assert node.time_s == pytest.approx(node.bytes / host.transpose_rate() + host.op_launch_us * 1e-6)


def test_third_party_graphs_say_why_when_torchvision_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torchvision" else real(name))
    with pytest.raises(third_party_graphs.Unavailable, match="is not installed; pip install"):
        third_party_graphs.build()  # torchvision missing (or torch, where CI has none)
    assert "pip install" in third_party_graphs.run()["skipped"]


def _binary(shape_a: list[int | str], shape_b: list[int]) -> onnx.ModelProto:
    b = GraphBuilder("binary")
    b.output(str(b.node("Add", [b.input("x", shape_a), b.weight("w", shape_b, scale=0.1)])))
    return b.build()


@pytest.mark.parametrize(("shape_a", "shape_b", "spans"), [
    (["N", 64, 64], [64], 2 * 64),  # a bias over the last dim: one run per row
    (["N", 4, 64, 64], [2, 1, 1, 64], 2 * 4 * 64),  # a mask over the keys: runs of 64 keys
    (["N", 64, 1], [1, 1, 1], 0),  # one element: a scalar loop, no broadcast runs
    (["N", 8, 8], [2, 8, 8], 0),  # equal shapes
    (["N", 64, 1], [1, 64, 1], 2),  # both advance together over [64, 1]: one run per batch item
    (["N", 64, 4], [1, 64, 1], 2 * 64 * 4),  # the last dim broadcasts: runs of one element
])
def test_broadcast_spans_are_the_runs_both_inputs_advance_together(shape_a: list[int | str], shape_b: list[int],
                                                                   spans: int) -> None:
    from edge.accel.ops import broadcast_spans

    view = analyse(_binary(shape_a, shape_b), batch=2)
    (node,) = [n for n in view.nodes if n.op_type == "Add"]
    assert broadcast_spans(node, view) == spans


def test_broadcast_runs_are_priced_on_the_host_only() -> None:
    host, npu = load_profile("host"), load_profile("ascend-310")
    assert host.broadcast_span_ns > 0 and npu.broadcast_span_ns == 0
    scalar = model_cost(_binary(["N", 64, 4], [1]), host, 2).nodes[0]  # one element: no runs
    runs = model_cost(_binary(["N", 64, 4], [1, 64, 1]), host, 2).nodes[0]  # 512 runs of one element
    assert runs.time_s - scalar.time_s == pytest.approx(512 * host.broadcast_span_ns * 1e-9, rel=0.05)


def test_gemv_weights_stream_at_the_weight_rate() -> None:
    host = load_profile("host")
    b = GraphBuilder("gemv")
    b.output(str(b.node("MatMul", [b.input("x", ["N", 1024]), b.weight("w", [1024, 1024])])))
    (node,) = model_cost(b.build(), host, 1).nodes
    assert node.bound == "memory"
    streamed = 4 * 1024 * 1024 / host.weight_rate() + 2 * 4 * 1024 / (host.memory_gbps * 1e9)
    assert node.time_s == pytest.approx(streamed + host.op_launch_us * 1e-6)


def test_blocked_conv_reduces_over_whole_channel_blocks_on_the_host() -> None:
    from edge.accel.layout import blocked_input_channels

    assert [blocked_input_channels(c) for c in (3, 8, 16, 24, 48, 58)] == [3, 8, 16, 32, 48, 64]

    def conv_node(cin: int, device: str) -> float:
        b = GraphBuilder("c")
        b.output(b.conv(b.input("x", ["N", cin, 16, 16]), cin, 32, 3, act=None))
        return next(n for n in model_cost(b.build(), device, 4).nodes if n.op_type == "Conv").time_s

    assert conv_node(24, "host") == pytest.approx(conv_node(32, "host"), rel=0.02)  # 24 channels cost as 32
    assert conv_node(24, "ascend-310") < conv_node(32, "ascend-310")
