"""The shipped pre-trained dispatch model: its contract and card, and that it plans a mine it never saw."""

from __future__ import annotations

import json
from dataclasses import replace

import onnx
import pytest

from cloud.pangu.tokens import CONTRACT, FEATURES, MAX_TOKENS
from cloud.planners.pangu import model_path
from edge.accel import model_cost
from fleet.kpi import summarize
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario


def _card() -> dict:
    return json.loads(model_path("pangu").with_suffix(".card.json").read_text(encoding="utf-8"))


def test_the_shipped_model_keeps_its_contract_and_its_card_says_what_it_was_trained_on():
    path = model_path("pangu")
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert meta["contract"] == CONTRACT
    assert meta["features"] == ",".join(FEATURES) and int(meta["max_tokens"]) == MAX_TOKENS
    card = _card()
    assert card["trained_on"]["mines"] >= 50
    assert sum(card["teachers"].values()) == card["trained_on"]["mines"]
    assert card["emulated_910c_ms"] == pytest.approx(model_cost(path, "ascend-910c").latency_s * 1e3, rel=1e-3)
    assert json.loads(meta["card"])["command"] == card["command"]


def _tph(planner: str, hours: float) -> tuple[float, dict]:
    scn = load_scenario("open_pit").with_overrides(hours=hours, seed=3)
    scn = replace(scn, planner=planner, planner_options={})
    run = build_run(scn)
    run.sim.run(hours * 3600)
    run.close()
    stats = run.cloud.planner.stats() if planner == "pangu" else {}
    return summarize(run.sim)["tonnes_per_hour"], stats


def test_the_shipped_model_plans_the_open_pit_within_three_percent_of_lp_flow():
    """The open pit is not among the generated mines it was trained on (zero-shot)."""
    pangu, stats = _tph("pangu", 2.0)
    lp, _ = _tph("lp_flow", 2.0)
    assert stats["decisions"] > 100 and stats["fallback_rate"] == 0.0
    assert pangu >= 0.97 * lp
