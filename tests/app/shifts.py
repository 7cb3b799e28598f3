"""Shared: one seeded open-pit shift with obstacles and perception."""

from __future__ import annotations

from dataclasses import replace

from conftest import REPO

from minefleet.assemble import build_run
from minefleet.scenario import Scenario, load_scenario


def hazard_scenario(model: str, seed: int, trucks: int = 10, hours: float = 1.0, **edge) -> Scenario:
    """The open-pit scenario with obstacles (6x the map's rates unless given), this model, seed and fleet size."""
    scn = load_scenario(REPO / "scenarios" / "open_pit_hazards.toml").with_overrides(seed=seed, model=model,
                                                                                     hours=hours)
    return replace(scn.resized(trucks), edge=replace(scn.edge, **{"hazard_rate_scale": 6.0, **edge}))


def shift(model: str, seed: int, trucks: int = 10, hours: float = 1.0, **edge) -> dict:
    """One seeded open-pit shift with obstacles (6x the map's rates unless given); safety block and t/h."""
    run = build_run(hazard_scenario(model, seed, trucks, hours, **edge))
    run.sim.run(hours * 3600.0)
    safety = run.sim.onboard.summary()
    return {**safety, "tph": float(run.sim.tonnes.sum()) / hours}
