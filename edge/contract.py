"""The perception model contract ``scan-sectors/1`` and the loader that refuses a model that breaks it.

Input ``scan`` float32 [N, C, B] (C channels: normalised range, intensity; B beams across the field of view).
Output ``sectors`` float32 [N, S, 2] (obstacle probability, normalised distance) for S equal sectors.
The parameters travel in the ONNX file's ``metadata_props`` so any file meeting them swaps in by path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CONTRACT = "scan-sectors/1"
REQUIRED = ("contract", "beams", "channels", "sectors", "fov_deg", "max_range_m", "version")


class ModelError(ValueError):
    """A model file that cannot be used; the message names the file and what is wrong."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


@dataclass(frozen=True)
class SensorSpec:
    """What the forward range sensor produces; a model must be trained for exactly this."""

    beams: int = 64
    channels: int = 2
    sectors: int = 16
    fov_deg: float = 60.0  # [deg] total horizontal field of view, centred on the heading
    max_range_m: float = 100.0  # [m]

    def metadata(self) -> dict[str, str]:
        return {"contract": CONTRACT, "beams": str(self.beams), "channels": str(self.channels),
                "sectors": str(self.sectors), "fov_deg": f"{self.fov_deg:g}",
                "max_range_m": f"{self.max_range_m:g}"}


@dataclass(frozen=True)
class ModelInfo:
    path: str
    name: str
    version: str
    spec: SensorSpec
    metadata: dict[str, str]

    @property
    def card(self) -> dict[str, Any]:
        """Held-out metrics recorded at training time (empty when the model carries none)."""
        raw = self.metadata.get("card")
        return json.loads(raw) if raw else {}

    def detect_range_m(self, dust: float) -> float | None:
        """Range [m] within which held-out recall is >= 0.9 at this dust level (interpolated), if recorded."""
        table = self.card.get("detect_range_m")
        if not table:
            return None
        return float(np.interp(dust, table["dust"], table["range_m"]))


def inspect_model(path: str | Path, expected: SensorSpec | None = None) -> ModelInfo:
    """Open an ONNX file with onnxruntime and check it against the contract (and the run's sensor)."""
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise ModelError(path, "model file not found")
    try:
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types for every kind of unreadable file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(path, f"not a loadable ONNX model ({first[:160]})") from None
    meta = dict(sess.get_modelmeta().custom_metadata_map)
    missing = [k for k in REQUIRED if k not in meta]
    if missing:
        raise ModelError(path, f"metadata_props lacks '{missing[0]}' (the {CONTRACT} contract needs "
                               f"{', '.join(REQUIRED)})")
    if meta["contract"] != CONTRACT:
        raise ModelError(path, f"contract is {meta['contract']!r}, expected {CONTRACT!r}")
    try:
        spec = SensorSpec(beams=int(meta["beams"]), channels=int(meta["channels"]), sectors=int(meta["sectors"]),
                          fov_deg=float(meta["fov_deg"]), max_range_m=float(meta["max_range_m"]))
    except ValueError as exc:
        raise ModelError(path, f"contract metadata is not numeric ({exc})") from None
    inputs, outputs = sess.get_inputs(), sess.get_outputs()
    if len(inputs) != 1 or inputs[0].name != "scan":
        raise ModelError(path, f"input must be one tensor named 'scan', got {[i.name for i in inputs]}")
    if inputs[0].type != "tensor(float)":
        raise ModelError(path, f"input 'scan' must be float32, got {inputs[0].type}")
    _check_shape(path, "input 'scan'", inputs[0].shape, [spec.channels, spec.beams])
    if not outputs or outputs[0].name != "sectors":
        raise ModelError(path, f"first output must be named 'sectors', got {[o.name for o in outputs]}")
    _check_shape(path, "output 'sectors'", outputs[0].shape, [spec.sectors, 2])
    if expected is not None and spec != expected:
        diff = [f for f in ("beams", "channels", "sectors", "fov_deg", "max_range_m")
                if getattr(spec, f) != getattr(expected, f)]
        raise ModelError(path, f"sensor mismatch: model has {diff[0]}={getattr(spec, diff[0]):g}, the run's "
                               f"sensor has {getattr(expected, diff[0]):g}")
    return ModelInfo(path=str(path), name=meta.get("name", path.stem), version=meta["version"], spec=spec,
                     metadata=meta)


def _check_shape(path: Path, what: str, shape: list[Any], tail: list[int]) -> None:
    if len(shape) != len(tail) + 1:
        raise ModelError(path, f"{what} must have rank {len(tail) + 1} [N, {', '.join(map(str, tail))}], "
                               f"got {shape}")
    for got, want in zip(shape[1:], tail, strict=True):
        if isinstance(got, int) and got != want:
            raise ModelError(path, f"{what} shape {shape} does not match [N, {', '.join(map(str, tail))}]")
