"""``minefleet models compare``: the model swap experiment as a sweep, its tables and frontier, inputs refused
before any run."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from cli_checks import one_line_error, read_csv
from onnx import TensorProto, helper

from edge.contract import SensorSpec
from minefleet.cli import main
from minefleet.models_compare.frontier import pareto
from minefleet.sweep.results import mean_ci

# 2 models x 1 device x 1 dust x 2 seeds of a 0.1 h shift on open_pit_hazards: 4 runs.
MODELS, DEVICE, DUST, SEEDS, HOURS = ["tiny", "small"], "ascend-310", "0.3", 2, "0.1"
CSV_COLUMNS = [
    "model", "device", "dust", "runs", "emulated_latency_p50_ms", "emulated_latency_p99_ms", "deadline_miss_rate",
    "recall", "precision", "near_misses_mean", "near_misses_ci95", "collisions_mean", "collisions_ci95",
    "estops_mean", "estops_ci95", "safety_events_per_hour_mean", "safety_events_per_hour_ci95",
    "safe_speed_mean_kmh", "tonnes_per_hour_mean", "tonnes_per_hour_ci95",
]


def compare_args(out, *extra):
    return ["models", "compare", "--models", *MODELS, "--devices", DEVICE, "--dust", DUST, "--seeds", str(SEEDS),
            "--hours", HOURS, "--out", str(out), "--quiet", *extra]


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """The comparison above on two workers, its run directories kept apart: (tables folder, runs folder)."""
    base = tmp_path_factory.mktemp("compare")
    out, runs = base / "out", base / "runs"
    assert main(compare_args(out, "--runs-dir", str(runs), "--workers", "2")) == 0
    return out, runs


def test_tables_have_a_row_per_model_device_dust_with_every_column(compared):
    out, _ = compared
    columns, rows = read_csv(out / "models.csv")
    assert columns == CSV_COLUMNS
    assert [(r["model"], r["device"], r["dust"], r["runs"]) for r in rows] == [
        (m, DEVICE, DUST, str(SEEDS)) for m in MODELS]
    md = (out / "models.md").read_text(encoding="utf-8")
    assert ("| model | device | dust | runs | p50 latency [ms, emulated] | p99 latency [ms, emulated] | "
            "deadline misses | recall | precision | near misses | collisions | e-stops | safety events / h | "
            "safe speed [km/h] | t/h |") in md
    assert [line.split(" | ")[0] for line in md.splitlines() if line.startswith("| ") and "---" not in line][1:] == [
        f"| {m}" for m in MODELS]
    assert " ± " in md and "emulated" in md
    for table in ("results.csv", "summary.csv", "summary.md"):  # the sweep's own files beside them
        assert (out / table).is_file()


def test_figures_are_the_means_of_the_runs_summaries(compared):
    out, runs = compared
    _, results = read_csv(out / "results.csv")
    _, rows = read_csv(out / "models.csv")
    assert not (out / "runs").exists() and len(list(runs.iterdir())) == len(MODELS) * SEEDS
    for row in rows:
        mine = [r for r in results if r["edge.model"] == row["model"]]
        summaries = [json.loads((runs / f"{r['cell']}-seed{r['seed']}" / "summary.json").read_text()) for r in mine]
        assert len(summaries) == SEEDS and all(s["safety"]["perception"].keys() == {row["model"]} for s in summaries)
        perception = [s["safety"]["perception"][row["model"]] for s in summaries]
        assert all(p["timing"] == "emulated" and p["chip"]["device"] == DEVICE for p in perception)
        assert float(row["recall"]) == pytest.approx(np.mean([p["recall"] for p in perception]))
        assert float(row["emulated_latency_p99_ms"]) == pytest.approx(np.mean([p["latency_p99_ms"]
                                                                               for p in perception]))
        misses = [(p["late_frames"] + p["dropped_frames"]) / p["chip"]["tasks"]["perception"]["jobs"]
                  for p in perception]
        assert float(row["deadline_miss_rate"]) == pytest.approx(np.mean(misses))
        events = [(s["safety"]["collisions"] + s["safety"]["near_misses"] + s["safety"]["estops"]) / s["shift_hours"]
                  for s in summaries]
        mean, half = mean_ci(events)
        assert float(row["safety_events_per_hour_mean"]) == pytest.approx(mean)
        assert float(row["safety_events_per_hour_ci95"]) == pytest.approx(half)
        assert float(row["tonnes_per_hour_mean"]) == pytest.approx(np.mean([s["tonnes_per_hour"]
                                                                             for s in summaries]))
        assert float(row["safe_speed_mean_kmh"]) == pytest.approx(np.mean([s["safety"]["safe_speed_mean_kmh"]
                                                                            for s in summaries]))


def test_frontier_is_a_png(compared):
    out, _ = compared
    data = (out / "frontier.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_the_same_comparison_again_makes_no_run(compared, capsys):
    out, runs = compared
    capsys.readouterr()
    assert main(compare_args(out, "--runs-dir", str(runs))) == 0
    assert "0 made now, 4 already complete, 0 failed" in capsys.readouterr().out


def test_pareto_keeps_the_points_nothing_beats_on_both():
    points = [(1.0, 100.0), (0.5, 80.0), (2.0, 90.0), (0.5, 70.0), (3.0, 120.0)]
    assert pareto(points) == [1, 0, 4]


def onnx_file(path, *, in_name="scan", meta=None):
    """A minimal scan -> sectors graph (flatten, MatMul, reshape), its contract metadata ``meta``."""
    w = helper.make_tensor("w", TensorProto.FLOAT, [128, 32], np.zeros(128 * 32).tolist())
    shape = helper.make_tensor("shape", TensorProto.INT64, [3], [-1, 16, 2])
    nodes = [helper.make_node("Flatten", [in_name], ["f"]), helper.make_node("MatMul", ["f", "w"], ["y"]),
             helper.make_node("Reshape", ["y", "shape"], ["sectors"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, ["N", 2, 64])],
                              [helper.make_tensor_value_info("sectors", TensorProto.FLOAT, ["N", 16, 2])], [w, shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    for k, v in ({**SensorSpec().metadata(), "version": "1"} if meta is None else meta).items():
        model.metadata_props.add(key=k, value=v)
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("kwargs, problem", [
    ({"in_name": "lidar"}, "input must be one tensor named 'scan', got ['lidar']"),
    ({"meta": {}}, "metadata_props lacks 'contract'"),
    ({}, "carries no held-out detection range"),  # keeps the contract, but its card does not say how far it sees
])
def test_a_model_off_contract_is_refused_before_any_run(kwargs, problem, tmp_path, capsys):
    bad = onnx_file(tmp_path / "mine.onnx", **kwargs)
    out, runs = tmp_path / "out", tmp_path / "runs"
    argv = ["models", "compare", "--models", "tiny", str(bad), "--devices", DEVICE, "--seeds", "1", "--hours", HOURS,
            "--out", str(out), "--runs-dir", str(runs)]
    assert main(argv) == 2
    err = one_line_error(capsys)
    assert err.startswith(f"minefleet: error: {bad}: ") and problem in err, err
    assert not out.exists() and not runs.exists()


@pytest.mark.parametrize("option, value, problem", [
    ("--devices", "ascend-999", "--devices: ascend-999: is not usable: unknown device 'ascend-999'; known: "),
    ("--devices", "none", "--devices: 'none' has a fixed placeholder latency"),
    ("--dust", "1.5", "--dust: 1.5: must be <= 1, got 1.5"),
    ("--models", "huge", "huge: no such model (zoo: tiny, small, large, small-int8;"),
])
def test_an_unknown_device_or_bad_level_is_refused_up_front(option, value, problem, tmp_path, capsys):
    given = {"--models": ["tiny"], "--devices": [DEVICE], "--dust": [DUST], option: [value]}
    out = tmp_path / "out"
    argv = ["models", "compare", *(x for k, v in given.items() for x in (k, *v)), "--seeds", "1", "--out", str(out)]
    assert main(argv) == 2
    err = one_line_error(capsys)
    assert err.startswith(f"minefleet: error: {problem}"), err
    assert not out.exists()


def test_dry_run_counts_the_runs_and_makes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["models", "compare", "--models", "tiny", "small", "large", "--devices", "ascend-310", "ascend-310p",
                 "--dust", "0", "0.5", "--seeds", "3", "--out", str(out), "--dry-run"]) == 0
    assert "sweep OK: 12 cells x 3 seeds = 36 runs of open_pit_hazards.toml" in capsys.readouterr().out
    assert not out.exists()
