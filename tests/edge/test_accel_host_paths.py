"""Host-only CPU-runtime terms of the cost model: which int8 conv kernel onnxruntime picks, the im2col copies of
the fallback, the scalar gather of strided fp32 im2col, per-row int8 GEMM cost, and QDQ pairs dropped around
views. Behaviour only - predictions compared with each other, never with a clock."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
from conftest import device_variant

from edge.accel import DeviceError, DeviceProfile, load_profile, model_cost
from edge.accel.microbench import int8
from edge.accel.netbuild import GraphBuilder
from edge.accel.profile import DEVICES_DIR

MODELS = Path(__file__).resolve().parents[2] / "assets" / "models"


def conv(cin: int, cout: int, k: int, *, stride: int = 1, length: int = 32, dims: int = 2,
         quantise: bool = False) -> onnx.ModelProto:
    b = GraphBuilder(f"conv{cin}")
    b.output(b.conv(b.input("x", ["N", cin, *[length] * dims]), cin, cout, k, stride=stride, dims=dims, act=None))
    model = b.build()
    if not quantise:
        return model
    feed = {"x": np.random.default_rng(0).standard_normal((1, cin, *[length] * dims)).astype(np.float32)}
    return int8(model, feed)


def conv_time(model: onnx.ModelProto, device: str | DeviceProfile, batch: int = 1) -> float:
    prof = load_profile(device) if isinstance(device, str) else device
    (node,) = [n for n in model_cost(model, prof, batch).nodes if n.op_type == "Conv"]
    return node.time_s


def test_calibrated_host_terms_are_positive_and_sourced() -> None:
    host = load_profile("host")
    for key in ("im2col_row_us", "im2col_ns", "im2col_strided_ns", "gemm_row_int8_us", "k_overhead_int8_conv",
                "gemm_call_int8_us", "direct_conv_int8_tap_us", "transpose_gbps", "weight_gbps", "broadcast_span_ns"):
        assert getattr(host, key) > 0, key
        assert host.sources[key].startswith("calibrated:"), key
    assert (host.direct_conv_int8_align, host.direct_conv_int8_min_out) == (4, 16)
    assert "MLAS" in host.sources["direct_conv_int8_align"]


def test_ascend_profiles_have_no_cpu_runtime_terms() -> None:
    for name in ("ascend-310", "ascend-310b", "ascend-310p", "ascend-910c"):
        prof = load_profile(name)
        assert prof.direct_conv_int8_align == 0 and prof.im2col_row_us == 0 and prof.im2col_strided_ns == 0
        assert prof.im2col_ns == 0
        assert prof.gemm_row_int8_us == 0 and prof.direct_int8_conv(3, 16)
        assert prof.broadcast_span_ns == 0 and prof.weight_rate() == pytest.approx(prof.memory_gbps * 1e9)


def test_direct_int8_conv_needs_aligned_channels_and_enough_outputs() -> None:
    host = load_profile("host")
    assert host.direct_int8_conv(4, 16) and host.direct_int8_conv(8, 64) and host.direct_int8_conv(24, 48)
    assert not host.direct_int8_conv(3, 16)  # RGB input: the 4-channel dot product does not fit
    assert not host.direct_int8_conv(2, 32) and not host.direct_int8_conv(16, 8) and not host.direct_int8_conv(16, 18)


def test_three_channel_int8_conv_costs_more_than_four_on_the_host_only() -> None:
    rgb, rgba = conv(3, 16, 3, length=48, quantise=True), conv(4, 16, 3, length=48, quantise=True)
    assert model_cost(rgb, "host").macs < model_cost(rgba, "host").macs
    assert conv_time(rgb, "host") > conv_time(rgba, "host")  # im2col copies + generic GEMM vs direct kernel
    assert conv_time(rgb, "ascend-310") <= conv_time(rgba, "ascend-310")  # a cube has no such fallback


def test_im2col_copies_are_one_per_output_position_and_kernel_row() -> None:
    host = load_profile("host")
    more = replace(host, im2col_row_us=host.im2col_row_us + 0.01)
    for model, positions, rows in [(conv(3, 16, 5, length=40, quantise=True), 40 * 40, 5),
                                   (conv(2, 16, 5, length=64, dims=1, quantise=True), 64, 1)]:
        extra = conv_time(model, more, batch=2) - conv_time(model, host, batch=2)
        assert extra == pytest.approx(2 * positions * rows * 0.01e-6)
    direct = conv(16, 32, 3, length=40, quantise=True)
    assert conv_time(direct, more) == pytest.approx(conv_time(direct, host))  # the direct kernel copies nothing


def test_direct_int8_conv_pays_per_output_position_and_kernel_tap() -> None:
    host = load_profile("host")
    more = replace(host, direct_conv_int8_tap_us=host.direct_conv_int8_tap_us + 0.01)
    direct = conv(16, 32, 5, length=40, quantise=True)
    assert conv_time(direct, more, 2) - conv_time(direct, host, 2) == pytest.approx(2 * 40 * 40 * 25 * 0.01e-6)
    fallback = conv(3, 32, 5, length=40, quantise=True)
    assert conv_time(fallback, more, 2) == pytest.approx(conv_time(fallback, host, 2))


def test_fp32_conv1d_column_buffer_is_priced_per_element_not_per_output_channel() -> None:
    host = load_profile("host")
    more = replace(host, im2col_ns=host.im2col_ns + 0.1)
    for cout in (16, 128):  # the same input and K: the same column buffer, 8 x 256 x 160 elements
        model = conv(32, cout, 5, length=256, dims=1)
        assert conv_time(model, more, 8) - conv_time(model, host, 8) == pytest.approx(8 * 256 * 160 * 0.1e-9)
    narrow, wide = conv(32, 16, 5, length=256, dims=1), conv(32, 128, 5, length=256, dims=1)
    assert conv_time(narrow, host, 8) > conv_time(wide, host, 8) / 8  # 1/8 of the MACs, not 1/8 of the time
    for other in (conv(32, 64, 3, length=32), conv(32, 64, 5, length=256, dims=1, quantise=True)):
        assert conv_time(other, more, 2) == pytest.approx(conv_time(other, host, 2))  # NCHWc / QLinearConv


def test_strided_1d_conv_pays_its_gather_on_the_host() -> None:
    host = load_profile("host")
    plain = conv(32, 64, 5, stride=1, length=256, dims=1)
    strided = conv(32, 64, 5, stride=2, length=512, dims=1)  # the same GEMM: 256 outputs, K = 160
    gather = 8 * 256 * 160 * host.im2col_strided_ns * 1e-9
    assert conv_time(strided, host, 8) - conv_time(plain, host, 8) == pytest.approx(gather, rel=1e-6)
    assert conv_time(strided, replace(host, im2col_strided_ns=0.0), 8) == pytest.approx(conv_time(plain, host, 8))
    # 2-D fp32 convs run as onnxruntime's NCHWc direct convolution: no im2col, no gather term
    wide, narrow = conv(32, 64, 3, stride=2, length=64), conv(32, 64, 3, stride=1, length=32)
    assert conv_time(wide, host, 4) == pytest.approx(conv_time(narrow, host, 4), rel=0.02)


def test_int8_gemm_pays_per_row_of_a() -> None:
    host = load_profile("host")
    b = GraphBuilder("mm")
    b.output(b.dense(b.input("x", ["N", 64]), 64, 64, act=None))
    model = int8(b.build(), {"x": np.ones((1, 64), np.float32)})
    more = replace(host, gemm_row_int8_us=host.gemm_row_int8_us + 0.01)

    def matmul_time(prof: DeviceProfile, batch: int) -> float:
        return next(n.time_s for n in model_cost(model, prof, batch).nodes if n.op_type == "MatMul")

    assert matmul_time(more, 32) - matmul_time(host, 32) == pytest.approx(32 * 0.01e-6)


def test_requantised_views_drop_their_qdq_pair_on_the_host_only() -> None:
    path = MODELS / "small-int8.onnx"
    host = [n.op_type for n in model_cost(path, "host", 1).nodes]
    npu = [n.op_type for n in model_cost(path, "ascend-310", 1).nodes]
    assert "Flatten" in host and "Reshape" in host
    assert len(npu) - len(host) == 4  # DequantizeLinear + QuantizeLinear around each of Flatten and Reshape
    assert host.count("QuantizeLinear") == 1  # only the input's


def test_negative_or_unsourced_host_term_names_file_and_field(tmp_path: Path) -> None:
    value = f"{load_profile('host').im2col_row_us:.5f}"
    bad = device_variant(tmp_path, "host", f"im2col_row_us = {value}", "im2col_row_us = -0.004", "h.toml")
    with pytest.raises(DeviceError, match=r"h\.toml.*'im2col_row_us' must be >= 0"):
        load_profile(bad)
    text = (DEVICES_DIR / "host.toml").read_text(encoding="utf-8")
    unsourced = tmp_path / "u.toml"
    unsourced.write_text("\n".join(line for line in text.splitlines() if not line.startswith("im2col_strided_ns = \"")),
                         encoding="utf-8")
    with pytest.raises(DeviceError, match=r"u\.toml.*'im2col_strided_ns' has no entry in \[sources\]"):
        load_profile(unsourced)
