"""Shared fixtures: small maps written on the fly, and the shipped data folders."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


def road(fid: str, coords: list[list[float]], **props: Any) -> dict[str, Any]:
    base = {"kind": "road", "id": fid, "speed_limit_kmh": 40, "width_m": 30, "one_way": False, "lanes": 2}
    base.update(props)
    return {"type": "Feature", "properties": base, "geometry": {"type": "LineString", "coordinates": coords}}


def point(kind: str, fid: str, xyz: list[float], **props: Any) -> dict[str, Any]:
    defaults = {
        "shovel": {"bucket_t": 60, "cycle_s": 30, "spot_s": 30, "material": "coal"},
        "dump": {"dump_s": 60, "bays": 1, "accepts": ["coal"]},
        "crusher": {"dump_s": 60, "bays": 1, "accepts": ["coal"], "capacity_tph": 3000},
    }.get(kind, {})
    base = {"kind": kind, "id": fid, **defaults, **props}
    return {"type": "Feature", "properties": base, "geometry": {"type": "Point", "coordinates": xyz}}


def collection(features: list[dict[str, Any]], site: str = "test") -> dict[str, Any]:
    return {"type": "FeatureCollection", "minefleet": {"schema": "minefleet-map/1", "site": site,
                                                       "rolling_resistance": 0.02}, "features": features}


def line_map(length: float = 2000.0) -> dict[str, Any]:
    """One straight flat road, shovel at one end, dump at the other, park near the dump."""
    return collection([
        road("R1", [[0, 0, 1000], [length, 0, 1000]]),
        point("shovel", "S1", [0, 0, 1000]),
        point("dump", "D1", [length, 0, 1000]),
        point("park", "P1", [length - 100, 0, 1000]),
    ])


@pytest.fixture
def write_map(tmp_path: Path) -> Callable[[dict[str, Any] | str, str], Path]:
    def write(doc: dict[str, Any] | str, name: str = "map.geojson") -> Path:
        p = tmp_path / name
        p.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
        return p

    return write


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[..., Path]:
    def write(text: str, name: str = "scenario.toml") -> Path:
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        return p

    return write


def device_variant(tmp_path: Path, device: str, old: str, new: str, name: str = "x.toml") -> Path:
    """A copy of a shipped device profile with one text edit, for load errors (``old`` must be present)."""
    from edge.accel.profile import DEVICES_DIR

    text = (DEVICES_DIR / f"{device}.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path
