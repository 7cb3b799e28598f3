"""The signature loop, end to end: what the trucks see decides collisions."""

from __future__ import annotations

import pytest
from shifts import shift

SEEDS = range(20)


@pytest.fixture(scope="module")
def oracle_and_blind():
    return {m: [shift(m, seed) for seed in SEEDS] for m in ("oracle", "blind")}


def test_oracle_never_collides(oracle_and_blind):
    """Perfect, instant perception: over 20 seeded shifts, no collision."""
    shifts = oracle_and_blind["oracle"]
    assert sum(s["collisions"] for s in shifts) == 0
    assert sum(sum(s["hazards_appeared"].values()) for s in shifts) > 20  # there was something to avoid


def test_blind_trucks_hit_or_nearly_hit_obstacles(oracle_and_blind):
    """Same seeds, no perception: the obstacles are now struck or barely missed."""
    shifts = oracle_and_blind["blind"]
    assert sum(s["collisions"] + s["near_misses"] for s in shifts) > 0
    assert sum(s["collisions"] for s in shifts) > sum(s["collisions"] for s in oracle_and_blind["oracle"])
