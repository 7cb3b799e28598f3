"""The ``pangu`` planner at run time: a model answers within its emulated budget, lp_flow otherwise, and a model
that breaks the ``dispatch-tokens/1`` contract is refused before the run.

No trained model ships yet, so each test builds its own: one linear layer over the tokens picking one feature
(``lp_pick`` reproduces lp_flow's choices), plus the mask as a large penalty, written with ``onnx.helper``.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
from conftest import REPO
from onnx import TensorProto, helper, numpy_helper

from cloud.layout import Layout
from cloud.pangu.tokens import CONTRACT, FEATURES, MAX_TOKENS
from cloud.planners import PlannerConfigError, PlannerSpec, make_planner
from cloud.planners.base import Request
from cloud.planners.pangu import PanguOptions, PanguPlanner, shipped_assets
from cloud.service import CloudService
from cloud.twin import FleetTwin
from fleet.kpi import summarize
from minefleet.assemble import build_run
from minefleet.cli import main
from minefleet.scenario import load_scenario
from net.envelope import Envelope
from net.inproc import InProcRouter
from net.topics import Topics

HOURS = 2.0  # open_pit: about 250 decisions, two seconds of host time per shift


def write_model(path: Path, feature: str = "lp_pick", masked_out: bool = False, nan: bool = False,
                meta: dict[str, str] | None = None, inputs: tuple[str, str] = ("tokens", "mask"),
                dims: int = len(FEATURES)) -> Path:
    """scores = tokens @ w + (mask - 1) * 1e4, w picking ``feature``: the best allowed token by that feature.
    ``masked_out`` flips the penalty (the best token is one the mask rules out); ``nan`` adds NaN to every score."""
    w = np.zeros((dims, 1), np.float32)
    w[FEATURES.index(feature) % dims, 0] = 1.0
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.array([2], np.int64), "axis"),
             numpy_helper.from_array(np.array(1.0, np.float32), "one"),
             numpy_helper.from_array(np.array(1e4, np.float32), "big"),
             numpy_helper.from_array(np.array(np.nan if nan else 0.0, np.float32), "extra")]
    tok, mask = inputs
    nodes = [helper.make_node("MatMul", [tok, "w"], ["picked"]),
             helper.make_node("Squeeze", ["picked", "axis"], ["score"]),
             helper.make_node("Sub", [mask, "one"], ["closed"]),
             helper.make_node("Mul", ["closed", "big"], ["penalty"]),
             helper.make_node("Sub" if masked_out else "Add", ["score", "penalty"], ["masked"]),
             helper.make_node("Add", ["masked", "extra"], ["scores"])]
    graph = helper.make_graph(
        nodes, "pangu-test",
        [helper.make_tensor_value_info(tok, TensorProto.FLOAT, ["N", MAX_TOKENS, dims]),
         helper.make_tensor_value_info(mask, TensorProto.FLOAT, ["N", MAX_TOKENS])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", MAX_TOKENS])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    helper.set_model_props(model, {"contract": CONTRACT, "max_tokens": str(MAX_TOKENS),
                                   "features": ",".join(FEATURES), **(meta or {})})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("pangu_models")
    return {"lp": write_model(base / "lp.onnx"), "masked_out": write_model(base / "masked_out.onnx", masked_out=True),
            "nan": write_model(base / "nan.onnx", nan=True)}


def shift(planner: str, options: dict | None = None) -> tuple[float, dict | None]:
    """t/h of an open_pit shift of ``HOURS`` and the planner's own figures (None when it keeps none)."""
    scn = replace(load_scenario("open_pit").with_overrides(hours=HOURS), planner=planner,
                  planner_options=options or {})
    run = build_run(scn)
    try:
        run.sim.run(HOURS * 3600.0)
    finally:
        run.close()
    return summarize(run.sim)["tonnes_per_hour"], run.cloud.planner_stats()


@pytest.fixture(scope="module")
def lp_flow_tph() -> float:
    tph, stats = shift("lp_flow")
    assert stats is None  # a planner without figures of its own adds nothing
    return tph


@pytest.mark.parametrize(("model", "options", "reason"), [
    ("lp", {}, None),  # the model answers every time, as lp_flow would
    ("masked_out", {}, "invalid"),  # its best token is never one the truck may take
    ("lp", {"budget_ms": 1e-6}, "budget_miss"),  # it would answer, but too late
])
def test_the_model_or_its_fallback_hauls_as_lp_flow(models, lp_flow_tph, model, options, reason):
    """Every decision is lp_flow's (by the model or the fallback): the t/h may differ only by the orders leaving
    the cloud the emulated decision time (or the budget) later, which moves them at most one tick."""
    tph, stats = shift("pangu", {"model": str(models[model]), **options})
    assert tph == pytest.approx(lp_flow_tph, rel=0.01)
    n = stats["decisions"]
    assert n > 100
    assert stats["model"] == models[model].name and stats["device"] == "ascend-910c"
    assert 0 < stats["emulated_decision_ms"] < PanguOptions.budget_ms
    if reason is None:
        assert stats["fallbacks"] == {"budget_miss": 0, "invalid": 0, "too_large": 0}
        assert stats["model_decisions"] == n and stats["agree_lp_flow"] == 1.0 and stats["fallback_rate"] == 0.0
    else:
        assert stats["fallbacks"][reason] == n and sum(stats["fallbacks"].values()) == n
        assert stats["model_decisions"] == 0 and stats["fallback_rate"] == 1.0 and stats["agree_lp_flow"] is None


def _tutorial(tmp_path: Path, planner_table: str) -> Path:
    text = (REPO / "scenarios" / "tutorial.toml").read_text(encoding="utf-8")
    assert '[cloud]\nplanner = "nearest"' in text
    path = tmp_path / "tutorial_pangu.toml"
    path.write_text(text.replace('[cloud]\nplanner = "nearest"', planner_table), encoding="utf-8")
    return path


def test_the_run_summary_carries_the_planners_figures_only_for_pangu(models, tmp_path):
    scn = _tutorial(tmp_path, f'[cloud.planner]\nname = "pangu"\nmodel = "{models["lp"].as_posix()}"')
    summaries = {}
    for planner in ("pangu", "lp_flow"):
        out = tmp_path / planner
        assert main(["run", str(scn), "--headless", "--quiet", "--hours", "0.5", "--planner", planner,
                     "--out", str(out)]) == 0
        summaries[planner] = json.loads((out / "summary.json").read_text())
    stats = summaries["pangu"]["planner_stats"]
    assert summaries["pangu"]["planner"] == "pangu"
    assert stats["decisions"] > 0 and stats["fallbacks"]["invalid"] == 0 and stats["agree_lp_flow"] == 1.0
    assert "planner_stats" not in summaries["lp_flow"]
    assert summaries["pangu"]["tonnes"] == pytest.approx(summaries["lp_flow"]["tonnes"], rel=0.01)


def _tutorial_layout() -> dict:
    run = build_run(load_scenario("tutorial").with_overrides(hours=0.1))
    body = run.sim.layout_body()
    run.close()
    return body


def test_an_order_leaves_the_emulated_decision_time_after_the_request(models):
    """Also: NaN scores are invalid, and the truck goes where lp_flow sends it, just as late."""
    layout, req = Layout(_tutorial_layout()), Request("T001", "cat-797f", "park-1", 0.0, None, 100.0)
    for model, reason in (("lp", None), ("nan", "invalid")):
        planner = PanguPlanner(PanguOptions(model=str(models[model])))
        order = planner.plan(req, FleetTwin(), layout)
        assert order.dest == "shovel-1" and order.delay_s == pytest.approx(planner.latency_s)
        assert planner.stats()["fallbacks"]["invalid"] == (reason == "invalid")


def test_a_layout_larger_than_the_model_is_planned_by_lp_flow(models):
    """64 load points and a crusher: more facilities than tokens. lp_flow answers, at once (the model never ran)."""
    shovels = [{"id": f"S{k:02d}", "kind": "shovel", "x": 0, "y": 0, "material": "coal", "bays": 1, "service_s": 150}
               for k in range(MAX_TOKENS)]
    crusher = {"id": "C1", "kind": "crusher", "x": 0, "y": 0, "accepts": ["coal"], "bays": 1, "service_s": 60}
    routes = [{"id": f"C1>{s['id']}", "from": "C1", "to": s["id"], "length_m": 900 + k,
               "time_s": {"k": [300 + k, 400 + k]}} for k, s in enumerate(shovels)]
    layout = Layout({"site": "big", "facilities": [*shovels, crusher], "routes": routes})
    planner = PanguPlanner(PanguOptions(model=str(models["lp"])))
    order = planner.plan(Request("T1", "k", "C1", 0.0, None, 0.0), FleetTwin(), layout)
    assert order.dest.startswith("S") and order.delay_s == 0.0
    assert planner.stats()["fallbacks"] == {"budget_miss": 0, "invalid": 0, "too_large": 1}


def _serve(body: dict, model: Path) -> tuple[CloudService, InProcRouter, Topics, list[Envelope]]:
    router, topics = InProcRouter(), Topics(body["site"])
    cloud = CloudService(router, topics, make_planner(PlannerSpec("pangu", {"model": str(model)})))
    orders: list[Envelope] = []
    router.subscribe(topics.dispatch("+"), lambda topic, env: orders.append(env))
    router.publish(topics.layout, Envelope("layout", "site", 1, 0.0, body, t_deliver=0.0), qos=1, retain=True)
    return cloud, router, topics, orders


def _ask(router: InProcRouter, topics: Topics, truck: str, body: dict, seq: int) -> None:
    router.publish(topics.event(truck), Envelope("event", truck, seq, 1.0, body, t_deliver=1.0), qos=1)
    while router.next_due() is not None:
        router.deliver_next()


def test_the_cloud_keeps_answering_around_requests_pangu_cannot_take(models):
    """A truck of a class the layout does not know, at a facility it does not know: counted as failed, never a
    crash; a malformed request is dropped; the next good request gets its order, sent the emulated time later."""
    cloud, router, topics, orders = _serve(_tutorial_layout(), models["lp"])
    _ask(router, topics, "T999", {"event": "ready", "at": "nowhere", "payload_t": 0.0, "material": None,
                                  "truck_class": "belaz-75710", "request": 1}, seq=1)
    _ask(router, topics, "T001", {"event": "ready", "at": "park-1", "payload_t": 0.0, "material": None,
                                  "truck_class": "cat-797f", "request": 1}, seq=2)
    _ask(router, topics, "T001", {"event": "ready"}, seq=3)
    assert cloud.failed == 1 and cloud.rejected == 1 and cloud.orders == 1
    _ask(router, topics, "T001", {"event": "ready", "at": "park-1", "payload_t": 0.0, "material": None,
                                  "truck_class": "cat-797f", "request": 2}, seq=4)
    assert cloud.orders == 2 and [e.body["dest"] for e in orders] == ["shovel-1", "shovel-1"]
    latency = cloud.planner.latency_s
    assert all(e.t_sent == e.t_deliver == pytest.approx(1.0 + latency) for e in orders)
    assert cloud.planner_stats()["decisions"] == 2


def _bad_models(tmp: Path) -> dict[str, tuple[Path, str]]:
    text = tmp / "notes.onnx"
    text.write_text("a text file, renamed\n", encoding="utf-8")
    features = list(FEATURES)
    features[FEATURES.index("lp_pick")] = "lp_choice"
    return {
        "missing": (tmp / "absent.onnx", "no such model file"),
        "text": (text, "not a loadable ONNX model"),
        "perception": (write_model(tmp / "scan.onnx", meta={"contract": "scan-sectors/1"}),
                       "metadata contract is 'scan-sectors/1', expected 'dispatch-tokens/1'"),
        "features": (write_model(tmp / "feat.onnx", meta={"features": ",".join(features)}),
                     "metadata features differ from dispatch-tokens/1: feature 13 is 'lp_choice', expected 'lp_pick'"),
        "tokens": (write_model(tmp / "tok.onnx", meta={"max_tokens": "32"}), "metadata max_tokens is '32'"),
        "inputs": (write_model(tmp / "in.onnx", inputs=("x", "mask")), "inputs must be 'tokens' and 'mask'"),
        "shape": (write_model(tmp / "shape.onnx", dims=len(FEATURES) - 1), "input 'tokens' shape"),
    }


@pytest.mark.parametrize("case", ["missing", "text", "perception", "features", "tokens", "inputs", "shape"])
def test_a_model_that_breaks_the_contract_is_refused_naming_file_and_problem(case, tmp_path):
    path, problem = _bad_models(tmp_path)[case]
    with pytest.raises(PlannerConfigError) as err:
        PanguPlanner(PanguOptions(model=str(path)))
    msg = str(err.value)
    assert err.value.key == "model" and str(path) in msg and problem in msg and "\n" not in msg


def test_a_bare_name_is_a_shipped_model_and_bad_options_are_named(tmp_path, models):
    with pytest.raises(PlannerConfigError, match="no such model file") as err:
        PanguPlanner(PanguOptions(model="no-such-pangu"))
    assert os.path.join("assets", "models", "no-such-pangu.onnx") in str(err.value)
    with pytest.raises(PlannerConfigError, match="unknown device 'ascend-9999'") as err:
        PanguPlanner(PanguOptions(model=str(models["lp"]), device="ascend-9999"))
    assert err.value.key == "device"
    with pytest.raises(PlannerConfigError, match="must be > 0") as err:
        PanguPlanner(PanguOptions(model=str(models["lp"]), budget_ms=0.0))
    assert err.value.key == "budget_ms"


def test_shipped_assets_are_the_wheels_copy_when_installed(tmp_path):
    (tmp_path / "assets").mkdir()
    assert shipped_assets(tmp_path) == tmp_path / "assets"
    (tmp_path / "minefleet" / "_data" / "assets").mkdir(parents=True)
    assert shipped_assets(tmp_path) == tmp_path / "minefleet" / "_data" / "assets"


def test_a_scenario_naming_an_unusable_model_exits_2_with_one_line(tmp_path, capsys):
    path, problem = _bad_models(tmp_path)["text"]
    scn = _tutorial(tmp_path, f'[cloud.planner]\nname = "pangu"\nmodel = "{path.as_posix()}"')
    assert main(["run", str(scn), "--headless", "--quiet", "--planner", "pangu", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "planner option 'model'" in err and str(path) in err and problem in err
    assert not (tmp_path / "r").exists()
