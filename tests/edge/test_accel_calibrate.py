"""Host calibration output: the rendered host.toml loads as a valid, fully sourced profile (no timing here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.accel import load_profile
from edge.accel.calibrate import _k_overhead, render


def test_rendered_host_profile_loads_with_every_figure(tmp_path: Path) -> None:
    figures = {
        "op_launch_us": 0.4, "transfer_latency_us": 5.0, "memory_gbps": 80.0, "vector_tflops": 0.015,
        "transfer_gbps": 90.0, "op_launch_int8_us": 0.7, "k_overhead": 4.0, "k_overhead_int8": 100.0,
        "peak_fp32_tflops": 0.12, "peak_int8_tops": 0.6, "eff_conv2d_fp32": 0.9, "eff_conv1d_fp32": 0.75,
        "eff_gemm_fp32": 0.97, "eff_conv2d_int8": 0.8, "eff_conv1d_int8": 1.0, "eff_gemm_int8": 0.83,
        "efficiency": 0.9, "gemm_call_us": 0.25, "gemm_call_int8_us": 0.07, "k_overhead_int8_conv": 25.0,
        "gemm_row_int8_us": 0.005, "im2col_row_us": 0.004, "im2col_ns": 0.15, "im2col_strided_ns": 0.25,
        "direct_conv_int8_tap_us": 0.0005, "transpose_gbps": 27.0, "weight_gbps": 95.0, "broadcast_span_ns": 6.0,
    }
    path = tmp_path / "host.toml"
    path.write_text(render(figures), encoding="utf-8")
    prof = load_profile(path)
    assert prof.kind == "cpu" and prof.peak_fp32_tflops == pytest.approx(0.12)
    assert prof.efficiency_for("conv1d", "fp32") == pytest.approx(0.75)
    assert prof.efficiency_for("conv3d", "fp32") == pytest.approx(0.9)  # unknown kind: the general share
    assert prof.launch_s("int8") == pytest.approx(0.7e-6) and prof.k_overhead_for("int8") == pytest.approx(100.0)
    assert prof.im2col_conv_ranks == frozenset({1})
    assert prof.gemm_call_s("int8") == pytest.approx(0.07e-6) and prof.gemm_call_s("fp32") == pytest.approx(0.25e-6)
    assert (prof.k_overhead_int8_conv, prof.gemm_row_int8_us) == pytest.approx((25.0, 0.005))
    assert (prof.im2col_row_us, prof.im2col_strided_ns) == pytest.approx((0.004, 0.25))
    assert not prof.direct_int8_conv(3, 16) and prof.direct_int8_conv(4, 16)
    assert prof.sources["direct_conv_int8_align"].startswith("assumption")
    assert prof.transpose_rate() == pytest.approx(27e9) and prof.weight_rate() == pytest.approx(95e9)
    assert prof.broadcast_span_ns == pytest.approx(6.0)
    for key in ("im2col_row_us", "im2col_strided_ns", "gemm_row_int8_us", "k_overhead_int8_conv", "transpose_gbps",
                "weight_gbps", "broadcast_span_ns"):
        assert prof.sources[key].startswith("calibrated: edge.accel.calibrate"), key
    assert "calibrated" in prof.sources["peak_fp32_tflops"] and prof.calibration["date"]


def test_k_overhead_recovers_a_known_depth_penalty() -> None:
    k0 = 12.0

    def rate(k: int) -> float:
        return k / (k + k0)

    assert _k_overhead(rate(6), rate(160), 6, 160) == pytest.approx(k0)
    assert _k_overhead(1.0, 1.0, 6, 160) == pytest.approx(0.0)
