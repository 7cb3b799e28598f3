"""Perception models in runs: held-out recall against dust, validation output, one-line errors, summaries."""

from __future__ import annotations

import json

import pytest
from conftest import REPO

from edge.contract import SensorSpec, inspect_model
from edge.dataset import road_half_widths
from edge.evaluate import metrics
from edge.train import onnx_predict
from minefleet.cli import main


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
