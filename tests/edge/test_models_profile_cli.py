"""`minefleet models profile`: a file that is no model, or a batch the graph cannot take, is one error line."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from minefleet.cli import main


def relu_model(path: Path, batch: int | str) -> Path:
    """A one-node graph whose input's leading (batch) dim is `batch`: fixed when an int, symbolic when a name."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 8])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_an_empty_model_file_is_refused_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    assert main(["models", "profile", str(empty), "--device", "host"]) == 2
    err = error_line(capsys)
    assert err.startswith(f"minefleet: error: {empty}: ") and "empty" in err and "not an ONNX model" in err


def test_a_batch_other_than_a_fixed_batch_dim_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The graph would be priced at its own batch of 1 and the per-frame time divided by 4: wrong, so refused."""
    fixed = relu_model(tmp_path / "fixed.onnx", 1)
    assert main(["models", "profile", str(fixed), "--device", "host", "--batch", "4"]) == 2
    err = error_line(capsys)
    assert err.startswith(f"minefleet: error: {fixed}: ") and "fixed at 1" in err and "--batch 1" in err


def test_a_fixed_batch_of_one_at_batch_one_and_a_symbolic_batch_are_profiled(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixed = relu_model(tmp_path / "fixed.onnx", 1)
    assert main(["models", "profile", str(fixed), "--device", "host", "--batch", "1"]) == 0
    assert "ms per frame at batch 1" in capsys.readouterr().out
    symbolic = relu_model(tmp_path / "symbolic.onnx", "N")
    assert main(["models", "profile", str(symbolic), "--device", "host", "--batch", "4"]) == 0
    out = capsys.readouterr().out
    assert "symbolic.onnx on host" in out and "ms per frame at batch 4" in out
