"""The signature loop, end to end: what the trucks see decides collisions, speed and tonnes."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import REPO

from edge.contract import SensorSpec, inspect_model
from edge.dataset import road_half_widths
from edge.evaluate import metrics
from edge.train import onnx_predict
from minefleet.assemble import build_run
from minefleet.cli import main
from minefleet.scenario import load_scenario

SEEDS = range(20)


def shift(model: str, seed: int, trucks: int = 10, hours: float = 1.0, **edge) -> dict:
    """One seeded open-pit shift with obstacles (6x the map's rates unless given); safety block and t/h."""
    scn = load_scenario(REPO / "scenarios" / "open_pit_hazards.toml").with_overrides(seed=seed, model=model)
    scn = replace(scn, truck_count=trucks, edge=replace(scn.edge, **{"hazard_rate_scale": 6.0, **edge}))
    run = build_run(scn)
    run.sim.run(hours * 3600.0)
    safety = run.sim.onboard.summary()
    return {**safety, "tph": float(run.sim.tonnes.sum()) / hours}


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


def test_slower_perception_lowers_safe_speed_and_tonnes():
    """The small model in heavy dust, 30 ms vs 900 ms latency (budget 1.2 s), same seeds, 2 h: the
    perception-safe speed falls and so do the tonnes."""
    def run(latency_ms, seed):
        return shift("small", seed, trucks=20, hours=2.0, device="none", latency_ms=latency_ms, budget_ms=1200.0,
                     dust=0.6)

    fast = [run(30.0, seed) for seed in (1, 2)]
    slow = [run(900.0, seed) for seed in (1, 2)]
    assert np.mean([s["safe_speed_mean_kmh"] for s in slow]) < np.mean([s["safe_speed_mean_kmh"] for s in fast]) - 3
    assert sum(s["tph"] for s in slow) < 0.98 * sum(s["tph"] for s in fast)


@pytest.mark.parametrize("name", ["tiny", "small", "large", "small-int8"])
def test_recall_falls_as_dust_rises_on_heldout_frames(name):
    """Fresh frames from a seed no model was trained on: recall in clear air beats recall in heavy dust."""
    path = REPO / "assets" / "models" / f"{name}.onnx"
    card = inspect_model(path).card
    recalls = [lv["recall"] for lv in card["heldout"]["by_dust"]]
    assert recalls[0] > recalls[-1]
    fresh = metrics(onnx_predict(path), SensorSpec(), road_half_widths(REPO / "maps"), seed=424242,
                    frames_per_level=600)
    by_dust = {lv["dust"]: lv["recall"] for lv in fresh["by_dust"]}
    assert by_dust[0.0] > by_dust[1.0]


def test_validate_prints_contract_and_metrics(capsys):
    assert main(["validate", str(REPO / "assets" / "models" / "small.onnx")]) == 0
    out = capsys.readouterr().out
    assert "contract scan-sectors/1" in out and "recall" in out


def test_bad_model_exits_2_with_one_line(tmp_path, capsys):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x01garbage")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{bad}: not a loadable ONNX model" in err
    assert main(["run", "open_pit_hazards", "--headless", "--model", str(bad), "--hours", "0.1"]) == 2


def test_a_run_records_safety_and_perception(tmp_path):
    out = tmp_path / "run"
    assert main(["run", "open_pit_hazards", "--headless", "--quiet", "--hours", "0.25", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    perception = summary["safety"]["perception"]["small"]
    assert perception["trucks"] == 20 and perception["frames"] > 0
    assert 0.0 < perception["recall"] <= 1.0
