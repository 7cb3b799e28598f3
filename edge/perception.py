"""Perception runtimes: an ONNX model run by onnxruntime in batches, and the oracle and blind references.

One onnxruntime session per model file; all trucks using that model in a frame go through it in one batch
(per-call overhead dominates small models, so batching across trucks is what keeps the host cost down).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np

from edge.contract import ModelInfo, SensorSpec, inspect_model

BUILTIN = ("oracle", "blind")


class Perception(Protocol):
    name: str
    needs_scan: bool

    def infer(self, scans: np.ndarray, truth: np.ndarray) -> np.ndarray:
        """Sector outputs ``[N, S, 2]`` for scans ``[N, C, B]`` (``truth`` is for the oracle only)."""
        ...


class OnnxPerception:
    needs_scan = True

    def __init__(self, path: str | Path, spec: SensorSpec, providers: list[str] | None = None) -> None:
        import onnxruntime as ort

        self.info: ModelInfo = inspect_model(path, expected=spec)
        self.name = self.info.name
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1  # one truck computer's worth; results do not depend on it
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=providers or ["CPUExecutionProvider"])
        self.calls = 0
        self.frames = 0

    def infer(self, scans: np.ndarray, truth: np.ndarray) -> np.ndarray:
        self.calls += 1
        self.frames += len(scans)
        return self.session.run(["sectors"], {"scan": np.ascontiguousarray(scans, dtype=np.float32)})[0]


class OraclePerception:
    """Ground truth, instantly: the upper bound any model is measured against."""

    name = "oracle"
    needs_scan = False

    def infer(self, scans: np.ndarray, truth: np.ndarray) -> np.ndarray:
        return truth


class BlindPerception:
    """Never detects anything: shows what the safety loop is worth."""

    name = "blind"
    needs_scan = False

    def infer(self, scans: np.ndarray, truth: np.ndarray) -> np.ndarray:
        out = np.zeros_like(truth)
        out[..., 1] = 1.0
        return out


def make_perception(ref: str, spec: SensorSpec, models_dir: Path) -> Perception:
    """``oracle``, ``blind``, a zoo name (``assets/models/<name>.onnx``) or a path to any conforming ONNX."""
    if ref == "oracle":
        return OraclePerception()
    if ref == "blind":
        return BlindPerception()
    path = Path(ref)
    if path.suffix != ".onnx":
        path = models_dir / f"{ref}.onnx"
    return OnnxPerception(path, spec)
