"""Execution providers: what onnxruntime offers, and a clear error for one it does not."""

from __future__ import annotations

import onnxruntime as ort
import pytest

from edge.accel import ProviderError, providers, select_provider


def test_providers_lists_onnxruntime_providers() -> None:
    assert providers() == ort.get_available_providers()
    assert "CPUExecutionProvider" in providers()


def test_cpu_is_always_selectable() -> None:
    assert select_provider("cpu") == ["CPUExecutionProvider"]
    assert select_provider(" CPU ") == ["CPUExecutionProvider"]


@pytest.mark.parametrize("name, ep", [("cuda", "CUDAExecutionProvider"), ("cann", "CANNExecutionProvider")])
def test_accelerated_provider_or_a_named_error(name: str, ep: str) -> None:
    if ep in ort.get_available_providers():
        assert select_provider(name) == [ep, "CPUExecutionProvider"]
    else:
        with pytest.raises(ProviderError, match=f"'{name}' needs {ep}"):
            select_provider(name)


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(ProviderError, match="unknown execution provider 'tpu'"):
        select_provider("tpu")
