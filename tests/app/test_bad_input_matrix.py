"""Every kind of input a user hands the command line, each broken one way, in one table.

Why: a user's mistake must cost one line naming the file (or flag), the key or feature and the problem, exit 2,
before any work: no traceback, no silent fallback, and no run directory or table left behind. Each row writes its
files into an empty folder, runs ``minefleet.cli.main`` in-process there, and checks the line and the folder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from cli_checks import one_line_error
from conftest import REPO, device_variant, line_map, road
from fleetkit import truck_class
from onnx import TensorProto, helper, numpy_helper
from openmines_fixture import one_road

from edge.contract import SensorSpec
from minefleet.cli import main

Writer = Callable[[Path], None]
SCENARIO = '[scenario]\nmap = "map.geojson"\nhours = 0.01\n[fleet]\ncount = 2\ntruck_class = "cat-797f"\n'
LTE = REPO / "net" / "profiles" / "lte.toml"
BAD_KEY = "zz" * 32  # the length of a site key, not hex


def text(name: str, body: str) -> Writer:
    return lambda d: (d / name).write_text(body, encoding="utf-8")


def mine(name: str, edit: Callable[[dict[str, Any]], None] | None = None) -> Writer:
    """The one-road test map (``conftest.line_map``), with ``edit`` applied, as ``name``."""
    def write(d: Path) -> None:
        doc = line_map()
        if edit is not None:
            edit(doc)
        (d / name).write_text(json.dumps(doc), encoding="utf-8")  # NaN is written as JSON's NaN, as a tool might
    return write


def scenario(extra: str = "", sub: tuple[str, str] | None = None) -> Writer:
    """``scenario.toml``: the small scenario on ``map.geojson``, with ``sub`` = (old, new) replaced and ``extra``
    appended (to its last table, [fleet])."""
    body = SCENARIO
    if sub is not None:
        assert sub[0] in body
        body = body.replace(*sub)
    return text("scenario.toml", body + extra)


def on_map(extra: str = "", sub: tuple[str, str] | None = None) -> tuple[Writer, Writer]:
    """The test map and a scenario on it (see ``scenario``)."""
    return mine("map.geojson"), scenario(extra, sub)


def feature(doc: dict[str, Any], fid: str) -> dict[str, Any]:
    return next(f for f in doc["features"] if f["properties"].get("id") == fid)


def onnx_model(name: str, nodes: list[onnx.NodeProto], inputs: list[onnx.ValueInfoProto],
               outputs: list[onnx.ValueInfoProto], weights: dict[str, np.ndarray],
               meta: dict[str, str] | None = None) -> Writer:
    def write(d: Path) -> None:
        graph = helper.make_graph(nodes, "g", inputs, outputs,
                                  [numpy_helper.from_array(v, k) for k, v in weights.items()])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])
        onnx.helper.set_model_props(model, meta or {})
        onnx.save(model, str(d / name))
    return write


def contract_model_of_wrong_width(name: str) -> Writer:
    """A sound graph carrying the perception contract's metadata whose scan is one beam wider than it says."""
    sp = SensorSpec()
    return onnx_model(
        name,
        [helper.make_node("ReduceSum", ["scan"], ["s"], axes=[1, 2], keepdims=1),
         helper.make_node("Expand", ["s", "shape"], ["sectors"])],
        [helper.make_tensor_value_info("scan", TensorProto.FLOAT, ["N", sp.channels, sp.beams + 1])],
        [helper.make_tensor_value_info("sectors", TensorProto.FLOAT, ["N", sp.sectors, 2])],
        {"shape": np.array([1, sp.sectors, 2], np.int64)}, {**sp.metadata(), "version": "1"})


def matmul_model(name: str, rows: int) -> Writer:
    """x [1, 3, 7] @ w [rows, 2]: a graph whose input shape fits its weights only when ``rows`` is 7."""
    return onnx_model(name, [helper.make_node("MatMul", ["x", "w"], ["y"])],
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 7])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                      {"w": np.zeros((rows, 2), np.float32)})


def sweep(name: str, extra: str) -> Writer:
    return text(name, f'[sweep]\nscenario = "scenario.toml"\nseeds = 1\nhours = 0.01\n{extra}')


def openmines_without(name: str, section: str, key: str) -> Writer:
    """The hand-checkable OpenMines mine (``openmines_fixture.one_road``) with one key of a section deleted."""
    def write(d: Path) -> None:
        doc = one_road()
        del doc[section][key]
        (d / name).write_text(json.dumps(doc), encoding="utf-8")
    return write


def broken_road(doc: dict[str, Any]) -> None:
    feature(doc, "R1")["geometry"] = {"type": "Point", "coordinates": [0, 0, 1000]}


def nan_coordinate(doc: dict[str, Any]) -> None:
    feature(doc, "R1")["geometry"]["coordinates"][1][0] = float("nan")


def road_to_nowhere(doc: dict[str, Any]) -> None:
    doc["features"].append(road("R9", [[500, 500, 1000], [900, 900, 1000]]))


@dataclass(frozen=True)
class Case:
    """One broken input: the files to write, the command, and the words its one line must hold (file or flag,
    key or feature, problem)."""

    id: str
    argv: list[str]
    words: tuple[str, ...]
    files: tuple[Writer, ...] = ()


BASE = on_map()
RUN = ["run", "scenario.toml", "--headless", "--quiet", "--out", "out"]
HOURS = ("scenario.toml", "--hours", "must be > 0 and at most 720 h")
CASES = [
    # maps
    Case("map: road geometry not a line", ["validate", "bad.geojson"], ("bad.geojson", "road R1", "LineString"),
         (mine("bad.geojson", broken_road),)),
    Case("map: feature without id", ["validate", "bad.geojson"], ("bad.geojson", "feature #1", "missing 'id'"),
         (mine("bad.geojson", lambda d: d["features"][1]["properties"].pop("id")),)),
    Case("map: unknown facility kind", ["validate", "bad.geojson"],
         ("bad.geojson", "feature D1", "unknown kind 'silo'"),
         (mine("bad.geojson", lambda d: feature(d, "D1")["properties"].update(kind="silo")),)),
    Case("map: road to nowhere", ["validate", "bad.geojson"], ("bad.geojson", "road R9", "dangling end"),
         (mine("bad.geojson", road_to_nowhere),)),
    Case("map: NaN coordinate", ["validate", "bad.geojson"], ("bad.geojson", "road R1", "bad coordinate [nan"),
         (mine("bad.geojson", nan_coordinate),)),
    Case("map: broken JSON, through a run", RUN, ("map.geojson", "invalid JSON", "line 1 column"),
         (text("map.geojson", '{"type": "FeatureCollection", '), scenario())),
    # scenarios
    Case("scenario: typo in a required key", ["validate", "scenario.toml"],
         ("scenario.toml", "[fleet]", "missing required 'count'", "unknown key 'cuont', did you mean 'count'?"),
         on_map(sub=("count = 2", "cuont = 2"))),
    Case("scenario: typo in an optional key", RUN,
         ("scenario.toml", "[scenario]", "unknown key 'huors', did you mean 'hours'?"),
         on_map(sub=("hours", "huors"))),
    Case("scenario: fleet.start not on the map, validate", ["validate", "scenario.toml"],
         ("scenario.toml", "fleet.start", "no park or facility 'NOWHERE'"),
         on_map(extra='start = "NOWHERE"\n')),
    Case("scenario: fleet.start not on the map, run", RUN,
         ("scenario.toml", "fleet.start", "no park or facility 'NOWHERE'"),
         on_map(extra='start = "NOWHERE"\n')),
    Case("scenario: hours = inf", ["validate", "scenario.toml"], ("scenario.toml", "'hours'", "must be finite"),
         on_map(sub=("hours = 0.01", "hours = inf"))),
    Case("scenario: count of the wrong type", ["validate", "scenario.toml"],
         ("scenario.toml", "'count'", "must be a whole number, got 'two'"),
         on_map(sub=("count = 2", 'count = "two"'))),
    Case("scenario: seed beyond a 64-bit TOML integer", ["validate", "scenario.toml"],
         ("scenario.toml", "'seed'", "must be <= 9223372036854775807"),
         on_map(sub=("hours = 0.01", "hours = 0.01\nseed = 18446744073709551616"))),
    Case("scenario: a radio profile on a map with no gNB, validate", ["validate", "scenario.toml"],
         ("scenario.toml", "link.profile", "needs gNB sites"),
         on_map(extra='[link]\nprofile = "lte"\n')),
    Case("scenario: [[edge.trucks]] names a truck the fleet lacks, validate", ["validate", "scenario.toml"],
         ("scenario.toml", "[[edge.trucks]]", "no truck 'T009'"),
         on_map(extra='[edge]\nmodel = "blind"\n[[edge.trucks]]\nids = ["T009"]\n'
                                              'model = "oracle"\n')),
    Case("scenario: sensor frames faster than the tick", ["validate", "scenario.toml"],
         ("scenario.toml", "[edge]", "'frame_hz'", "10 Hz sensor frames", "dt_s = 0.5"),
         on_map(sub=("hours = 0.01", "hours = 0.01\ndt_s = 0.5"), extra='[edge]\nmodel = "oracle"\n')),
    Case("scenario: telemetry faster than the tick, run", RUN,
         ("scenario.toml", "[link]", "'telemetry_period_s'", "telemetry every 1 s", "dt_s = 2"),
         on_map(sub=("hours = 0.01", "hours = 0.01\ndt_s = 2.0"), extra='[output]\ntrace_period_s = 4.0\n')),
    Case("scenario: a tick longer than the radio's update period", ["validate", "scenario.toml"],
         ("scenario.toml", "[scenario]", "'dt_s' = 2 s", "radio link's update period (1 s", "'lte'"),
         on_map(sub=("hours = 0.01", "hours = 0.01\ndt_s = 2.0"),
                extra='[link]\nprofile = "lte"\ntelemetry_period_s = 2.0\n[output]\ntrace_period_s = 4.0\n')),
    Case("scenario: trace samples faster than the tick", ["validate", "scenario.toml"],
         ("scenario.toml", "[output]", "'trace_period_s'", "dt_s = 1"),
         on_map(sub=("hours = 0.01", "hours = 0.01\ndt_s = 1.0"), extra='[output]\ntrace_period_s = 0.5\n')),
    # truck classes
    Case("truck class: negative payload", ["validate", "neg.toml"], ("neg.toml", "'payload_t'", "must be > 0"),
         (lambda d: truck_class(d, "neg", -10),)),
    Case("truck class: negative payload, through a run", RUN, ("neg.toml", "'payload_t'", "must be > 0"),
         (*on_map(sub=('"cat-797f"', '"neg.toml"')), lambda d: truck_class(d, "neg", -10))),
    # device and link profiles
    Case("device profile: missing field", ["models", "profile", "tiny", "--device", "dev.toml"],
         ("dev.toml", "'efficiency'", "missing field"),
         (lambda d: device_variant(d, "ascend-310", "efficiency = 0.62", "", "dev.toml"),)),
    Case("device profile: missing field, run --device", [*RUN, "--device", "dev.toml"],
         ("--device", "dev.toml", "missing field 'efficiency'"),
         (*BASE, lambda d: device_variant(d, "ascend-310", "efficiency = 0.62", "", "dev.toml"))),
    Case("link profile: value out of range, run --link", [*RUN, "--link", "link.toml"],
         ("--link", "link.toml", "radio.bandwidth_mhz", "outside"),
         (*BASE, text("link.toml", LTE.read_text(encoding="utf-8").replace("bandwidth_mhz = 20.0",
                                                                           "bandwidth_mhz = -20.0")))),
    Case("link profile: value of the wrong type, in the scenario", ["validate", "scenario.toml"],
         ("scenario.toml", "'profile'", "link.toml", "radio.bandwidth_mhz", "must be a number"),
         (*on_map(extra='[link]\nprofile = "link.toml"\n'),
          text("link.toml", LTE.read_text(encoding="utf-8").replace("bandwidth_mhz = 20.0",
                                                                    'bandwidth_mhz = "wide"')))),
    # models
    Case("model: random bytes, models profile", ["models", "profile", "rand.onnx"],
         ("rand.onnx", "not a readable ONNX model"),
         (lambda d: (d / "rand.onnx").write_bytes(np.random.default_rng(0).bytes(256)),)),
    Case("model: random bytes, run --model", [*RUN, "--model", "rand.onnx"],
         ("rand.onnx", "not a loadable ONNX model"),
         (*BASE, lambda d: (d / "rand.onnx").write_bytes(np.random.default_rng(0).bytes(256)))),
    Case("model: misspelt zoo name in the scenario", ["validate", "scenario.toml"],
         ("scenario.toml", "[edge]", "'model'", "unknown model 'smal'"), on_map('[edge]\nmodel = "smal"\n')),
    Case("model: misspelt zoo name, run --model", [*RUN, "--model", "smal"],
         ("scenario.toml", "--model", "unknown model 'smal'"), BASE),
    Case("model: scan of the wrong width, run --model", [*RUN, "--model", "wide.onnx"],
         ("wide.onnx", "input 'scan'", "does not match"), (*BASE, contract_model_of_wrong_width("wide.onnx"))),
    Case("model: input shape the graph cannot take, models profile", ["models", "profile", "mm.onnx"],
         ("mm.onnx", "MatMul", "Incompatible dimensions"), (matmul_model("mm.onnx", 5),)),
    Case("model: batch beyond the graph's fixed one", ["models", "profile", "mm.onnx", "--batch", "4"],
         ("mm.onnx", "batch 4", "fixed at 1"), (matmul_model("mm.onnx", 7),)),
    Case("model: batch 0", ["models", "profile", "tiny", "--batch", "0"], ("--batch", "must be", ">= 1, got 0")),
    # sweeps
    Case("sweep: unknown key", ["sweep", "sw.toml", "--dry-run"],
         ("sw.toml", "[sweep]", "unknown key 'sedes', did you mean 'seeds'?"),
         (*BASE, sweep("sw.toml", 'sedes = 2\n[grid]\n"fleet.count" = [1, 2]\n'))),
    Case("sweep: grid value of the wrong type", ["sweep", "sw.toml", "--dry-run"],
         ("sw.toml", "[grid] 'fleet.count'", "must be a whole number, got 'many'"),
         (*BASE, sweep("sw.toml", '[grid]\n"fleet.count" = ["many", 2]\n'))),
    Case("sweep: grid value not a list", ["sweep", "sw.toml", "--dry-run"],
         ("sw.toml", "'fleet.count'", "must be a non-empty list"),
         (*BASE, sweep("sw.toml", '[grid]\n"fleet.count" = 3\n'))),
    Case("sweep: --out an existing file", ["sweep", "sw.toml", "--quiet", "--workers", "1", "--out", "afile"],
         ("afile", "--out", "is a file"),
         (*BASE, sweep("sw.toml", '[grid]\n"fleet.count" = [1]\n'), text("afile", "mine\n"))),
    # broker URLs and site keys
    Case("broker: bad scheme", [*RUN, "--transport", "mqtt", "--broker", "http://x"],
         ("--broker", "mqtt://host:port", "'http://x'"), BASE),
    Case("broker: bad port", [*RUN, "--transport", "mqtt", "--broker", "mqtt://x:99999"], ("--broker", "bad port"),
         BASE),
    Case("broker: bad scheme, cloud", ["cloud", "--broker", "http://x", "--site", "test"],
         ("--broker", "mqtt://host:port", "'http://x'")),
    Case("key file: missing", [*RUN, "--transport", "mqtt", "--no-cloud", "--key-file", "nokey"],
         ("site key", "'nokey'", "cannot be read"), BASE),
    Case("key file: not hex", [*RUN, "--transport", "mqtt", "--no-cloud", "--key-file", "key.hex"],
         ("site key", "'key.hex'", "not hex"), (*BASE, text("key.hex", BAD_KEY + "\n"))),
    # flags
    *(Case(f"--hours {h}", [*RUN, "--hours", h], (*HOURS, f"got {h.replace('1e9', '1e+09')}"), BASE)
      for h in ("inf", "1e9", "-1", "0", "nan")),
    Case("--hours without --out: no default run directory", ["run", "scenario.toml", "--headless", "--hours", "0"],
         HOURS, BASE),
    Case("--seed below 0", [*RUN, "--seed", "-1"], ("scenario.toml", "--seed", "must be >= 0"), BASE),
    Case("--seed beyond 64 bits", [*RUN, "--seed", str(2**64)], ("scenario.toml", "--seed", "at most"), BASE),
    Case("--out an existing file", [*RUN[:-1], "afile"], ("afile", "--out", "is a file"),
         (*BASE, text("afile", "mine\n"))),
    Case("--out a folder that is not a run directory", [*RUN[:-1], "mine"], ("mine", "--out", "not a minefleet run"),
         (*BASE, lambda d: (d / "mine").mkdir() or (d / "mine" / "notes.txt").write_text("x"))),
    Case("--set an unknown key", [*RUN, "--set", "fleet.cuont=3"], ("scenario.toml", "--set fleet.cuont",
                                                                      "unknown key"), BASE),
    Case("--planner unknown", [*RUN, "--planner", "fastest"], ("--planner", "unknown planner 'fastest'"), BASE),
    # imports
    Case("OpenMines: broken JSON", ["import", "openmines", "om.json", "--out", "imported"],
         ("om.json", "invalid JSON", "line 1 column"), (text("om.json", '{"mine": {"name": "X"},'),)),
    Case("OpenMines: missing section", ["import", "openmines", "om.json", "--out", "imported"],
         ("om.json", "road", "missing required 'd2l_road_matrix'"),
         (openmines_without("om.json", "road", "d2l_road_matrix"),)),
    Case("OpenMines: --out an existing file", ["import", "openmines", "om.json", "--out", "afile"],
         ("afile", "not a directory"), (text("om.json", json.dumps(one_road())), text("afile", "mine\n"))),
]


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(case: Case, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for write in case.files:
        write(tmp_path)
    before = _tree(tmp_path)
    status = main(case.argv)
    err = one_line_error(capsys)
    assert status == 2, err
    assert err.startswith("minefleet: error: "), err
    for word in case.words:
        assert word in err, (word, err)
    assert BAD_KEY not in err  # a key file's contents are never echoed
    assert _tree(tmp_path) == before  # no run directory, table or import was made


def test_the_matrix_covers_every_kind_of_input() -> None:
    """At least 25 rows, and a row for each kind of input the command line reads."""
    assert len(CASES) >= 25
    kinds = {re.split(r"[: ]", c.id)[0] for c in CASES}
    assert {"map", "scenario", "truck", "device", "link", "model", "sweep", "broker", "key", "--hours", "--out",
            "--seed", "--set", "OpenMines"} <= kinds


def test_a_start_at_a_shovel_validates_and_hauls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Trucks started at a load point queue there and load at once: validate passes it, and the shift hauls
    (it once ran at 0 t with no warning)."""
    monkeypatch.chdir(tmp_path)
    for write in on_map('start = "S1"\n', ("hours = 0.01", "hours = 0.5")):
        write(tmp_path)
    assert main(["validate", "scenario.toml"]) == 0
    assert main(["run", "scenario.toml", "--headless", "--quiet", "--out", "out"]) == 0
    assert "warning" not in capsys.readouterr().err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["tonnes"] > 0 and summary["loads"] >= 2
