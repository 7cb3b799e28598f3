"""Writing an import's files: atomically, with a manifest of checksums, and never over a file it did not write.

Kept apart from the translation because it is about the output directory, not about OpenMines: what a previous
import left there, what the user changed since, and that a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from fleet.errors import InputError

MANIFEST = ".minefleet-import.json"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_out_dir(out: Path) -> dict[str, str]:
    """The files a previous import wrote here (name -> checksum); refuse a directory holding anything else."""
    if out.exists() and not out.is_dir():
        raise InputError(str(out), "", "exists and is not a directory")
    if not out.exists():
        return {}
    previous: dict[str, str] = {}
    manifest = out / MANIFEST
    if manifest.exists():
        try:
            doc = json.loads(manifest.read_text(encoding="utf-8"))
            previous = {str(k): str(v) for k, v in doc["files"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise InputError(str(manifest), "", "is not a minefleet import manifest: refusing to write into "
                                                f"{out}") from None
    for p in sorted(out.rglob("*")):
        if p.is_dir() or p == manifest:
            continue
        rel = p.relative_to(out).as_posix()
        if rel not in previous:
            raise InputError(str(out), "", f"holds {rel}, which 'minefleet import' did not write: refusing to "
                                           "overwrite anything there (choose a new or empty --out)")
        if _sha(p.read_bytes()) != previous[rel]:
            raise InputError(str(out), "", f"{rel} was changed since 'minefleet import' wrote it: refusing to "
                                           "overwrite it (choose a new or empty --out)")
    return previous


def _write(out: Path, files: dict[str, str], previous: dict[str, str], source: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    sums = {}
    for rel, text in files.items():
        data = text.encode("utf-8")
        _atomic(out / rel, data)
        sums[rel] = _sha(data)
    for rel in previous.keys() - files.keys():  # ours, unchanged (checked), and no longer part of the import
        (out / rel).unlink(missing_ok=True)
    manifest = {"written_by": "minefleet import openmines", "source": source, "files": sums}
    _atomic(out / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode("utf-8"))


def _atomic(path: Path, data: bytes) -> None:
    """Write beside the target, then rename over it: a reader sees the old file or the new, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    mask = os.umask(0)
    os.umask(mask)
    try:
        os.chmod(tmp, 0o666 & ~mask)  # as any file the user writes (mkstemp makes it private)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
