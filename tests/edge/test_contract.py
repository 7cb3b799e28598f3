"""The model contract: shipped models pass; each way of breaking it is refused by name, before any run."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from conftest import REPO
from onnx import TensorProto, helper

from edge.contract import ModelError, SensorSpec, inspect_model
from edge.perception import OnnxPerception

ZOO = ["tiny", "small", "large", "small-int8"]
SPEC = SensorSpec()


def model_file(tmp_path, *, in_name="scan", in_type=TensorProto.FLOAT, in_shape=("N", 2, 64), out_name="sectors",
               sectors=16, meta=None, name="m.onnx"):
    """A minimal graph: flatten the scan, one MatMul to S*2, reshape, sigmoid."""
    c, b = in_shape[1], in_shape[2]
    w = helper.make_tensor("w", TensorProto.FLOAT, [c * b, sectors * 2], np.zeros(c * b * sectors * 2).tolist())
    shape = helper.make_tensor("shape", TensorProto.INT64, [3], [-1, sectors, 2])
    nodes = [helper.make_node("Cast", [in_name], ["x"], to=TensorProto.FLOAT),
             helper.make_node("Flatten", ["x"], ["f"]), helper.make_node("MatMul", ["f", "w"], ["y"]),
             helper.make_node("Reshape", ["y", "shape"], ["r"]), helper.make_node("Sigmoid", ["r"], [out_name])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(in_name, in_type, list(in_shape))],
                              [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["N", sectors, 2])],
                              [w, shape])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    props = {**SPEC.metadata(), "version": "1"} if meta is None else meta
    for k, v in props.items():
        m.metadata_props.add(key=k, value=v)
    path = tmp_path / name
    onnx.save(m, str(path))
    return path


@pytest.mark.parametrize("name", ZOO)
def test_zoo_models_meet_the_contract_and_carry_heldout_metrics(name):
    info = inspect_model(REPO / "assets" / "models" / f"{name}.onnx", expected=SPEC)
    assert info.spec == SPEC
    levels = info.card["heldout"]["by_dust"]
    assert [lv["dust"] for lv in levels] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert (REPO / "assets" / "models" / f"{name}.onnx").stat().st_size < 5_000_000


def test_a_conforming_model_swaps_in_and_runs_batched(tmp_path):
    runtime = OnnxPerception(model_file(tmp_path), SPEC)
    out = runtime.infer(np.zeros((5, 2, 64), dtype=np.float32), None)
    assert out.shape == (5, 16, 2)
    np.testing.assert_allclose(out, 0.5)  # sigmoid(0)


@pytest.mark.parametrize("kwargs, problem", [
    ({"in_name": "lidar"}, "input must be one tensor named 'scan'"),
    ({"in_type": TensorProto.DOUBLE}, "input 'scan' must be float32"),
    ({"in_shape": ("N", 2, 32)}, "input 'scan' shape ['N', 2, 32] does not match [N, 2, 64]"),
    ({"sectors": 8}, "output 'sectors' shape ['N', 8, 2] does not match [N, 16, 2]"),
    ({"out_name": "boxes"}, "first output must be named 'sectors'"),
    ({"meta": {"contract": "scan-sectors/1"}}, "metadata_props lacks 'beams'"),
    ({"meta": {**SPEC.metadata(), "version": "1", "contract": "yolo/8"}}, "contract is 'yolo/8'"),
    ({"meta": {**SPEC.metadata(), "version": "1", "fov_deg": "90"}}, "sensor mismatch: model has fov_deg=90"),
])
def test_broken_models_are_refused_with_the_reason(tmp_path, kwargs, problem):
    path = model_file(tmp_path, **kwargs)
    with pytest.raises(ModelError) as err:
        inspect_model(path, expected=SPEC)
    assert str(err.value).startswith(str(path))
    assert problem in str(err.value)


def test_not_onnx_at_all(tmp_path):
    path = tmp_path / "notes.onnx"
    path.write_text("this is not a model")
    with pytest.raises(ModelError, match="not a loadable ONNX model"):
        inspect_model(path)
