"""onnxruntime execution providers: which are present, and the provider list for a named choice.

Why: real inference runs on the CPU by default; where this onnxruntime build offers CUDA or Huawei's CANN
provider, a run may use it for the real inference (the reported timing stays the emulated one unless the
run asks for measured). Asking for a provider that is not there is a configuration error, named as such.
"""

from __future__ import annotations

_CHOICES = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "cann": "CANNExecutionProvider",
}


class ProviderError(ValueError):
    """A requested execution provider that this onnxruntime build does not offer."""


def providers() -> list[str]:
    """`onnxruntime.get_available_providers()`, as this build reports it."""
    import onnxruntime as ort  # here: a run without perception never loads onnxruntime

    return list(ort.get_available_providers())


def select_provider(name: str) -> list[str]:
    """Provider list for an InferenceSession: the named provider first, the CPU as fallback for its gaps."""
    key = name.strip().lower()
    if key not in _CHOICES:
        raise ProviderError(f"unknown execution provider {name!r}; choose one of {', '.join(_CHOICES)}")
    wanted = _CHOICES[key]
    available = providers()
    if wanted not in available:
        raise ProviderError(f"execution provider {name!r} needs {wanted}, which this onnxruntime build does not "
                            f"offer (available: {', '.join(available)})")
    return [wanted] if key == "cpu" else [wanted, "CPUExecutionProvider"]
