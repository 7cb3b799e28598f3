"""``python -m bench``: the registry, --only, the JSON it writes, verdicts, and a failing module that does not end
the suite. The benchmarks themselves are replaced by tiny fake modules: nothing here is timed."""

from __future__ import annotations

import importlib
import json
import sys
import types
from pathlib import Path

import pytest

from bench import __main__ as entry
from bench.report import VERDICT_OK, VERDICT_SHORT, at_least, at_most, below, figure, table

BENCH_DIR = Path(entry.__file__).resolve().parent


def fake_module(monkeypatch: pytest.MonkeyPatch, name: str, run=None) -> None:
    """A module ``bench.<name>`` whose ``run`` is ``run`` (none when None)."""
    mod = types.ModuleType(f"bench.{name}")
    if run is not None:
        mod.run = run
    monkeypatch.setitem(sys.modules, f"bench.{name}", mod)


def fake_suite(monkeypatch: pytest.MonkeyPatch, seen: list[bool]) -> None:
    """Four fake benchmarks: one on target, one short, one that raises, one without ``run``; soak-like extra."""

    def good(quick: bool = False) -> dict:
        seen.append(quick)
        return {"figures": [figure("speed", 300.0, "x", baseline=100.0, baseline_name="floor",
                                   target=at_least(300.0, 200.0, "x"))], "detail": {"rows": [1, 2]}}

    def short(quick: bool = False) -> dict:
        return {"figures": [figure("latency", 3.0, "s", target=at_most(3.0, 1.0, " s"))]}

    def broken(quick: bool = False) -> dict:
        raise RuntimeError("the broker is gone\nsecond line never shown")

    fake_module(monkeypatch, "fake_good", good)
    fake_module(monkeypatch, "fake_short", short)
    fake_module(monkeypatch, "fake_broken", broken)
    fake_module(monkeypatch, "fake_norun")
    fake_module(monkeypatch, "fake_long", good)
    monkeypatch.setattr(entry, "BENCHMARKS", (
        entry.Benchmark("fake_good"), entry.Benchmark("fake_broken"), entry.Benchmark("fake_short"),
        entry.Benchmark("fake_norun"), entry.Benchmark("fake_long", default=False)))


def test_registry_names_every_module_once_and_soak_only_on_request() -> None:
    names = [b.name for b in entry.BENCHMARKS]
    assert len(names) == len(set(names))
    for name in names:
        assert (BENCH_DIR / f"{name}.py").is_file(), name
    for required in ("start_time", "perception_speed", "scaling", "sim_speed", "inference_cost", "view_fps",
                     "decision_time", "planners", "pangu", "sweep_speed", "transport_cost", "mqtt_throughput",
                     "accel_validation", "peer_openmines"):
        assert required in [b.name for b in entry.selected(None)]
    assert "soak" in names and "soak" not in [b.name for b in entry.selected(None)]
    assert [b.name for b in entry.selected(["soak"])] == ["soak"]


@pytest.mark.parametrize("name", [b.name for b in entry.BENCHMARKS])
def test_every_module_imports_and_has_a_run(name: str) -> None:
    """A renamed or moved name in the package breaks a benchmark only when it is run: import each one here."""
    module = importlib.import_module(f"bench.{name}")
    assert callable(getattr(module, "run", None)) and callable(getattr(module, "main", None))


def test_only_keeps_suite_order_and_refuses_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert [b.name for b in entry.selected(["view_fps", "start_time"])] == ["start_time", "view_fps"]
    with pytest.raises(ValueError, match="unknown benchmark 'nope'"):
        entry.selected(["start_time", "nope"])
    assert entry.main(["--only", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--only" in err[0] and "nope" in err[0]


def test_json_folder_must_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.main(["--only", "start_time", "--json", str(tmp_path / "missing" / "out.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--json" in err[0]


def test_suite_writes_json_and_reports_a_failure_without_stopping(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[bool] = []
    fake_suite(monkeypatch, seen)
    out = tmp_path / "results.json"
    assert entry.main(["--quick", "--json", str(out)]) == 1  # one module failed
    assert seen == [True]  # quick reached run(); fake_long was not run by default
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["quick"] is True
    assert {"cpu", "cores", "python", "load_average"} <= set(doc["host"])
    mods = doc["modules"]
    assert list(mods) == ["fake_good", "fake_broken", "fake_short", "fake_norun"]
    good = mods["fake_good"]
    assert good["detail"] == {"rows": [1, 2]}
    (fig,) = good["figures"]
    assert fig == {"name": "speed", "value": 300.0, "unit": "x", "baseline": 100.0, "baseline_name": "floor",
                   "ratio": 3.0, "target": ">= 200x", "ok": True}
    assert mods["fake_short"]["figures"][0]["ok"] is False
    assert mods["fake_broken"]["error"] == "RuntimeError: the broker is gone"
    assert "has no run(quick)" in mods["fake_norun"]["error"]
    printed = capsys.readouterr().out
    assert "FAILED: RuntimeError: the broker is gone" in printed
    assert "second line" not in printed
    row = next(line for line in printed.splitlines() if "latency" in line)
    assert row.split()[-1] == VERDICT_SHORT
    row = next(line for line in printed.splitlines() if " speed " in line)
    assert row.split()[-1] == VERDICT_OK
    assert "1 figure(s) SHORT of target; 2 module(s) failed: fake_broken, fake_norun" in printed


def test_only_runs_the_named_module_even_if_not_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[bool] = []
    fake_suite(monkeypatch, seen)
    out = tmp_path / "r.json"
    assert entry.main(["--only", "fake_long", "--json", str(out)]) == 0
    assert seen == [False]
    assert list(json.loads(out.read_text(encoding="utf-8"))["modules"]) == ["fake_long"]


def test_a_module_that_exits_is_recorded_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    def gives_up(quick: bool = False) -> dict:
        raise SystemExit("the sweep failed with status 2")

    fake_module(monkeypatch, "fake_exit", gives_up)
    res = entry.run_one(entry.Benchmark("fake_exit"), quick=True)
    assert res["error"] == "SystemExit: the sweep failed with status 2"


def test_adapter_reads_figures_from_a_module_without_them(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = {"inproc": {"wall_s": 10.0, "x_real_time": 360.0}, "amqtt": {"installed": False},
           "mosquitto": {"installed": True, "wall_s": 20.0, "ratio": 2.0, "ceiling": 1.5, "same_summary": True},
           "cloud_process": {"inproc": {"wall_s": 8.0}, "amqtt": {"installed": False},
                             "mosquitto": {"installed": True, "wall_s": 10.0, "ratio": 1.25, "ceiling": 1.5,
                                           "same_summary": False}}}
    fake_module(monkeypatch, "fake_transport", lambda quick=False: raw)
    res = entry.run_one(entry.Benchmark("fake_transport", adapter=entry._transport_cost), quick=False)
    wall, same, split_wall, split_same = res["figures"]
    assert (wall["value"], wall["baseline"], wall["ratio"], wall["target"], wall["ok"]) == (20.0, 10.0, 2.0,
                                                                                          "<= 1.5x", False)
    assert same["value"] == 1.0
    assert (split_wall["baseline"], split_wall["ratio"], split_wall["ok"], split_same["value"]) == (8.0, 1.25, True,
                                                                                                  0.0)
    assert "on its own" in split_wall["name"] and "in fleet" in wall["name"]
    peer = {"ratio": 2.5, "target_ratio": 2.0, "minefleet": {"x_real_time": 5000.0},
            "openmines": {"x_real_time": 2000.0}}
    (fig,) = entry._peer_openmines(peer)
    assert (fig["ratio"], fig["ok"], fig["baseline_name"]) == (2.5, True, "OpenMines")


def test_skipped_module_is_shown_as_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_module(monkeypatch, "fake_skip", lambda quick=False: {"skipped": "OpenMines is not installed"})
    res = entry.run_one(entry.Benchmark("fake_skip"), quick=True)
    assert "figures" not in res
    assert any("skipped: OpenMines is not installed" in line for line in table({"fake_skip": res}))


def test_targets_and_ratios() -> None:
    assert at_least(200.0, 200.0, "x").ok and not at_least(199.9, 200.0, "x").ok
    assert at_most(1.0, 1.0, " s").ok and not at_most(1.01, 1.0, " s").ok
    assert not below(2048.0, 2048.0, " MB").ok and below(2047.0, 2048.0, " MB").text == "< 2,048 MB"
    assert figure("f", 3.0, "x", baseline=0.0)["ratio"] is None  # no division by a zero baseline
    assert figure("f", 3.0, "x", baseline=6.0, ratio=2.0)["ratio"] == 2.0  # a module's own ratio wins
    assert figure("f", 3.0, "x")["ok"] is None


def test_minefleet_bench_is_python_m_bench(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from minefleet import cli

    assert cli.main(["bench", "--only", "nope"]) == 2
    assert "minefleet bench: error: --only: unknown benchmark 'nope'" in capsys.readouterr().err
    ran: list[tuple[list[str], str]] = []
    monkeypatch.setattr(entry, "main", lambda argv, prog: ran.append((argv, prog)) or 0)
    assert cli.main(["bench", "--quick", "--json", str(tmp_path / "b.json")]) == 0
    assert ran == [(["--quick", "--json", str(tmp_path / "b.json")], "minefleet bench")]
    monkeypatch.setitem(sys.modules, "bench.__main__", None)  # an installed wheel: no benchmarks beside it
    assert cli.main(["bench"]) == 2
    assert "the benchmarks come with minefleet's source tree" in capsys.readouterr().err
