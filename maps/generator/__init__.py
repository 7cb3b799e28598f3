"""The mine generator: the three shipped maps from their parameters, and random mines for training and tests.

Split by job: ``features`` writes GeoJSON features, ``geometry`` does plan geometry, ``pit`` and ``open_pit`` build
an open pit, ``strip_mine`` a strip mine, ``tutorial`` the teaching map; ``shipped`` holds the shipped maps'
parameters, ``random_mines`` draws new ones from a seed, and ``check`` hands every map to the simulator's own
loader before it is written. Command line: ``python -m maps.generator shipped`` rewrites ``maps/*.geojson``;
``python -m maps.generator random --seed S --count N --out DIR`` writes N generated mines.

Run from a source tree (the wheel ships the maps as data, not this package).
"""

from maps.generator.check import MapSummary, check_map
from maps.generator.features import dumps_map
from maps.generator.random_mines import random_mine, random_params
from maps.generator.shipped import shipped_maps

__all__ = ["MapSummary", "check_map", "dumps_map", "random_mine", "random_params", "shipped_maps"]
