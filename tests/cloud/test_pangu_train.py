"""cloud.train end to end on two small generated mines: a card that says what was done, the same weights from the
same seed (the reference shifts read back from the cache), and a bad fine-tune target refused in one line."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch", reason="training needs torch (the train extra)")
pytest.importorskip("gymnasium", reason="training runs through the Gymnasium environment (the gym extra)")

import onnx

from cloud.train import main

ARGS = ["--mines", "2", "--hours", "0.6", "--rounds", "1", "--epochs", "2", "--workers", "1"]


def test_pretraining_is_reproducible_and_its_card_says_what_was_done(tmp_path, capsys):
    work = tmp_path / "work"
    assert main([*ARGS, "--work", str(work), "--out", str(tmp_path / "a.onnx")]) == 0
    first = capsys.readouterr().out
    assert "reference planners: 6 shifts (0 from the cache)" in first
    card = json.loads((tmp_path / "a.card.json").read_text(encoding="utf-8"))
    assert card["trained_on"]["mines"] == 2 and sum(card["teachers"].values()) == 2
    assert card["rounds"][0]["round"] == 1 and card["imitation"]["epochs"] == 2
    assert "work" not in card["curriculum"]  # no path of the machine it was made on
    assert main([*ARGS, "--work", str(work), "--out", str(tmp_path / "b.onnx")]) == 0
    assert "(6 from the cache)" in capsys.readouterr().out
    weights = [{t.name: t.raw_data for t in onnx.load(str(tmp_path / f"{n}.onnx")).graph.initializer} for n in "ab"]
    assert weights[0] == weights[1]


def test_a_fine_tune_without_weights_or_with_an_unknown_target_is_one_line(tmp_path, capsys):
    assert main(["--finetune", "open_pit", "--base", str(tmp_path / "none.pt"), "--work", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no pre-trained weights" in err and len(err.strip().splitlines()) == 1
    assert main(["--finetune", "no_such_mine", "--work", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no_such_mine" in err and "not found" in err and len(err.strip().splitlines()) == 1
