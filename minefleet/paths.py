"""Where the shipped data lives: beside the packages in a source tree, inside the wheel when installed."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_dir(kind: str) -> Path:
    """``maps``, ``scenarios`` or ``assets``: the wheel's copy if installed, else the source tree's."""
    for candidate in (_PKG / "_data" / kind, _PKG.parent / kind):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"minefleet data folder '{kind}' not found next to {_PKG}")


def resolve(name: str, kind: str, suffix: str, base: Path | None = None) -> Path:
    """A user's reference to a shipped file: a path (relative to ``base`` first), or a bare name."""
    p = Path(name)
    candidates = []
    if base is not None and not p.is_absolute():
        candidates.append(base / p)
    candidates.append(p)
    if p.suffix == "" and len(p.parts) == 1:
        candidates.append(data_dir(kind) / f"{name}{suffix}")
    for c in candidates:
        if c.is_file():
            return c
    return candidates[-1]
