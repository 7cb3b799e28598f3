"""Export a trained ``pangu`` network to the ONNX file the runtime planner loads (contract ``dispatch-tokens/1``).

Why the checks live here: a file that onnxruntime computes differently from torch, or that the emulated Ascend
910C cannot cost, must fail at export, not when a simulation first asks it for a destination. The exported file
carries the contract in its ``metadata_props`` (``contract``, ``max_tokens``, ``features``, ``card``), which the
runtime checks on load; the sibling ``<stem>.card.json`` adds the emulated 910C latency. Host onnxruntime timings
are left out of both: they depend on the machine that exported the file.

Uses the TorchScript exporter (``dynamo=False``): it emits the plain opset-17 ops the cost model prices, and
the dynamo exporter needs onnxscript, which the ``train`` extra does not install. Training only (imports torch).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from cloud.pangu.tokens import CONTRACT, FEATURES, MAX_TOKENS
from edge.accel import model_cost

OPSET = 17
TOLERANCE = 1e-4  # onnxruntime vs torch, on the scores of tokens that may be chosen
DEVICE = "ascend-910c"


class ExportError(RuntimeError):
    """The exported file does not compute what the torch model does, or cannot be costed."""


def card_path(path: str | Path) -> Path:
    """``<stem>.card.json`` beside the model file."""
    path = Path(path)
    return path.with_name(f"{path.stem}.card.json")


def sample_inputs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random decisions shaped like the encoder's: a requester, a varying number of facility tokens with features
    in [-CLIP/2, CLIP/2], zero padding after them, and a mask over some of the facilities."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, MAX_TOKENS, len(FEATURES)), np.float32)
    mask = np.zeros((n, MAX_TOKENS), np.float32)
    for i in range(n):
        k = int(rng.integers(2, MAX_TOKENS))
        x[i, :k] = rng.uniform(-5.0, 5.0, (k, len(FEATURES)))
        mask[i, 1:k] = rng.random(k - 1) < 0.6
        mask[i, 1 + int(rng.integers(k - 1))] = 1.0
    return x, mask


def _verify(model: nn.Module, path: Path) -> float:
    """Largest |onnxruntime - torch| over the tokens that may be chosen; raises ExportError beyond TOLERANCE.

    Masked tokens score about -1e4, where one float32 step is about 1e-3, so they are compared relative to
    their size instead."""
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for n, seed in ((1, 1), (7, 2)):
        x, mask = sample_inputs(n, seed)
        (got,) = sess.run(["scores"], {"tokens": x, "mask": mask})
        with torch.no_grad():
            want = model(torch.from_numpy(x), torch.from_numpy(mask)).numpy()
        if got.shape != want.shape:
            raise ExportError(f"{path}: onnxruntime scores are {list(got.shape)}, torch {list(want.shape)}")
        diff = np.abs(got - want)
        valid = float(diff[mask > 0].max())
        masked = float((diff / np.maximum(np.abs(want), 1.0))[mask == 0].max(initial=0.0))
        if not valid <= TOLERANCE or not masked <= TOLERANCE:
            raise ExportError(f"{path}: onnxruntime differs from torch by {valid:.2e} on valid tokens and "
                              f"{masked:.2e} (relative) on masked ones at batch {n}; tolerance {TOLERANCE:g}")
        worst = max(worst, valid)
    return worst


def export_onnx(model: nn.Module, path: str | Path, card: dict) -> dict:
    """Write ``model`` to ``path`` as ONNX (tokens [N, 64, 16], mask [N, 64] -> scores [N, 64], dynamic N, opset
    17), stamp the contract and ``card`` into its metadata, check it against torch and cost it on the emulated
    910C, and write ``<stem>.card.json``. Returns that card: ``card`` plus ``emulated_910c_ms`` (batch 1)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    card_json = json.dumps(card, sort_keys=True)  # fails here, before any file is written, if not JSON
    was_training = model.training
    model.eval()
    try:
        x, mask = sample_inputs(2)
        torch.onnx.export(model, (torch.from_numpy(x), torch.from_numpy(mask)), str(path),
                          input_names=["tokens", "mask"], output_names=["scores"],
                          dynamic_axes={"tokens": {0: "N"}, "mask": {0: "N"}, "scores": {0: "N"}},
                          opset_version=OPSET, do_constant_folding=True, dynamo=False)
        proto = onnx.load(str(path))
        meta = {"contract": CONTRACT, "max_tokens": str(MAX_TOKENS), "features": ",".join(FEATURES),
                "card": card_json}
        del proto.metadata_props[:]
        for key, value in meta.items():
            proto.metadata_props.add(key=key, value=value)
        onnx.checker.check_model(proto)
        onnx.save(proto, str(path))
        _verify(model, path)
    finally:
        model.train(was_training)
    try:
        cost = model_cost(path, DEVICE, batch=1)
    except Exception as exc:  # the cost model raises several error types; any of them means the file is unfit
        raise ExportError(f"{path}: the {DEVICE} cost model cannot price it ({exc})") from exc
    if not cost.latency_s > 0:
        raise ExportError(f"{path}: emulated {DEVICE} latency is {cost.latency_s}")
    full = {**card, "emulated_910c_ms": round(cost.latency_s * 1e3, 4)}
    card_path(path).write_text(json.dumps(full, sort_keys=True, indent=1) + "\n")
    return full
