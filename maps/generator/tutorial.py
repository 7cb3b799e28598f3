"""The tutorial map: one flat road, one shovel, one dump, small enough to work a truck cycle out by hand.

A kind of its own because it has no pit or strip to draw: only a road, its two ends and a park on the road's
interior (which the loader splits into a T-junction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from maps.generator.features import (
    GnbSite,
    MapMeta,
    Sink,
    Unit,
    collection,
    gnb_features,
    load_stop,
    point,
    road,
    sink_point,
)


@dataclass(frozen=True, kw_only=True)
class TutorialParams:
    """Everything the tutorial map is built from."""

    meta: MapMeta
    z: float  # [m asl] the whole map is flat at this elevation
    length_m: float  # [m] shovel at x = 0, dump at x = length_m
    speed_kmh: float
    width_m: float
    material: str
    unit: Unit
    dump: Sink
    park_x: float  # [m] on the road's interior
    gnb: GnbSite


def build(p: TutorialParams) -> dict[str, Any]:
    """The map document."""
    z = p.z
    features = [
        road("road-1", [(0, 0, z), (p.length_m, 0, z)], p.speed_kmh, p.width_m),
        *load_stop("shovel-1", (0, 0, z), p.material, [p.unit], (-1.0, 0.0), (0.0, 1.0)),
        sink_point(p.dump, (p.length_m, 0, z)),
        point("park", "park-1", (p.park_x, 0, z)),
        *gnb_features([p.gnb]),
    ]
    return collection(p.meta, features)
