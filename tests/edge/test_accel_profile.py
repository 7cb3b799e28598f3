"""Device profiles: every shipped profile loads with a source per figure; bad profiles fail by file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import device_variant

from edge.accel import DeviceError, available_devices, load_profile
from edge.accel.profile import DEVICES_DIR

SHIPPED = ["ascend-310", "ascend-310b", "ascend-310p", "ascend-910c", "host"]


def test_shipped_profiles_load() -> None:
    assert set(SHIPPED) <= set(available_devices())
    for name in SHIPPED:
        prof = load_profile(name)
        assert prof.name == name
        assert prof.peak_fp16_tflops > 0 and prof.memory_gbps > 0 and 0 < prof.efficiency <= 1


def test_ascend_runs_fp32_at_fp16_rate_and_host_does_not() -> None:
    npu = load_profile("ascend-310")
    assert npu.fp32_as_fp16 and npu.peak_ops("fp32") == npu.peak_ops("fp16")
    assert npu.peak_ops("int8") == 2 * npu.peak_ops("fp16")
    host = load_profile("host")
    assert not host.fp32_as_fp16 and host.kind == "cpu"


def test_every_profile_names_a_source_for_every_figure() -> None:
    import tomllib

    for name in SHIPPED:
        doc = tomllib.loads((DEVICES_DIR / f"{name}.toml").read_text(encoding="utf-8"))
        figures = {k for sec, table in doc.items() if sec not in {"sources", "calibration", "device"} for k in table}
        missing = [k for k in figures if not str(doc["sources"].get(k, "")).strip()]
        assert not missing, f"{name}: no source for {missing}"


def test_host_profile_records_its_calibration() -> None:
    cal = load_profile("host").calibration
    assert cal.get("date") and "onnxruntime" in cal.get("method", "")


def test_unknown_device_names_the_known_ones() -> None:
    with pytest.raises(DeviceError, match=r"unknown device 'ascend-999'.*ascend-310"):
        load_profile("ascend-999")


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    return device_variant(tmp_path, "ascend-310", old, new)


def test_negative_figure_names_file_and_field(tmp_path: Path) -> None:
    path = _variant(tmp_path, "peak_fp16_tflops = 8.0", "peak_fp16_tflops = -8.0")
    with pytest.raises(DeviceError) as err:
        load_profile(path)
    assert str(path) in str(err.value) and "'peak_fp16_tflops' must be > 0" in str(err.value)


def test_missing_figure_names_file_and_field(tmp_path: Path) -> None:
    path = _variant(tmp_path, "memory_gbps = 51.2", "")
    with pytest.raises(DeviceError, match=r"x\.toml: missing field 'memory_gbps'"):
        load_profile(path)


def test_unsourced_figure_is_refused(tmp_path: Path) -> None:
    path = _variant(tmp_path, "\npower_w = \"HiSilicon", "\nunused_note = \"HiSilicon")
    with pytest.raises(DeviceError, match="'power_w' has no entry in \\[sources\\]"):
        load_profile(path)


def test_efficiency_above_one_and_typos_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DeviceError, match="'efficiency' must be <= 1"):
        load_profile(_variant(tmp_path, "efficiency = 0.62", "efficiency = 1.5"))
    with pytest.raises(DeviceError, match="unknown field 'memory_gbs'"):
        load_profile(_variant(tmp_path, "memory_gbps = 51.2", "memory_gbs = 51.2"))


def test_device_error_is_a_value_error() -> None:
    assert issubclass(DeviceError, ValueError)
