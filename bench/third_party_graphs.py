"""Third-party ONNX graphs for the cost model's validation: ResNet-50, ShuffleNet v2 and DenseNet-121.

    python -m bench.third_party_graphs     # build (or find) them and print their size and MACs

Why: the validation set of `bench.accel_validation` is built by this project's own graph builder, so a rule the
builder never emits (a channel shuffle, dense concatenation, a Sum of branches) would go unchecked. These are
the three architectures onnx ships as backend test models, exported here by torch from torchvision's own
definitions with random weights (weights=None: timing does not depend on the values, and nothing is downloaded),
at the project's opset, with a fixed batch of 1 as onnx's test models have. The files (~150 MB together) are
written to a cache directory, never to the repository, and rebuilt when torch or torchvision change.
Needs torch and torchvision (pip install torchvision); without them `build` raises `Unavailable` with the reason.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from pathlib import Path
from typing import Any

import onnx

from edge.accel.netbuild import OPSET

# name -> torchvision.models constructor
GRAPHS = {"resnet50": "resnet50", "shufflenet_v2_x1_0": "shufflenet_v2_x1_0", "densenet121": "densenet121"}
IMAGE = (1, 3, 224, 224)  # ImageNet input at batch 1, as onnx's test models take it
SEED = 0  # torch seed for the random weights
CACHE_ENV = "MINEFLEET_CACHE"  # overrides the cache root (default: ~/.cache/minefleet)


class Unavailable(RuntimeError):
    """The graphs cannot be built here (torch or torchvision missing); the message says which."""


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "minefleet")


def _torchvision_models() -> types.ModuleType:
    """torchvision.models, imported without torchvision's compiled ops where those cannot load.

    Why: the model definitions are plain Python, but `import torchvision` first registers its compiled
    detection ops, which fails when the torchvision wheel was built against another torch build (a CUDA
    torchvision beside a CPU-only torch). The package is then registered without running its __init__, so
    only `torchvision.models` (which this module needs) is imported."""
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise Unavailable(f"torch is not installed; pip install torch torchvision ({exc})") from None
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        raise Unavailable("torchvision is not installed; pip install torchvision")
    try:
        return importlib.import_module("torchvision.models")
    except (RuntimeError, OSError):
        for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
            del sys.modules[name]
        package = types.ModuleType("torchvision")
        package.__path__ = list(spec.submodule_search_locations)
        package.__spec__ = spec
        sys.modules["torchvision"] = package
        return importlib.import_module("torchvision.models")


def _versions() -> str:
    from importlib.metadata import version

    return f"torch{version('torch')}-torchvision{version('torchvision')}-opset{OPSET}"


def build(cache_dir: Path | None = None) -> dict[str, Path]:
    """Export each graph once into the cache (per torch / torchvision version); name -> .onnx path."""
    models = _torchvision_models()
    import torch

    folder = (cache_dir or cache_root()) / "third_party_graphs" / _versions()
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, ctor in GRAPHS.items():
        path = folder / f"{name}.onnx"
        if not path.is_file():
            torch.manual_seed(SEED)
            net = getattr(models, ctor)(weights=None).eval()
            tmp = path.with_suffix(".tmp")
            torch.onnx.export(net, torch.randn(*IMAGE), str(tmp), opset_version=OPSET, dynamo=False,
                              input_names=["image"], output_names=["logits"])
            tmp.replace(path)  # a half-written file is never taken for a graph
        paths[name] = path
    return paths


def run(quick: bool = False) -> dict[str, Any]:
    """Build (or find) the graphs: their file sizes and MACs, or the reason they cannot be built."""
    from edge.accel import load_profile, model_cost

    try:
        paths = build()
    except Unavailable as exc:
        print(f"third-party graphs skipped: {exc}")
        return {"skipped": str(exc)}
    host = load_profile("host")
    figures = {}
    for name, path in paths.items():
        cost = model_cost(onnx.load(str(path)), host, 1)
        figures[name] = {"path": str(path), "mb": round(path.stat().st_size / 1e6, 1), "gmac": cost.macs / 1e9}
        print(f"{name:<20} {figures[name]['mb']:>7.1f} MB {figures[name]['gmac']:>7.3f} GMAC  {path}")
    return {"graphs": figures}


def main() -> None:
    run()


if __name__ == "__main__":
    main()
