"""End to end through the CLI: run directories, determinism, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import REPO, collection, line_map, point, road

from minefleet.cli import main
from net.auth import REASONS

RUN_FILES = {"scenario.toml", "summary.json", "timing.json", "trucks.csv", "events.csv", "trace.npz"}


def run_cli(*args: str) -> int:
    return main(list(args))


@pytest.fixture(scope="module")
def open_pit_runs(tmp_path_factory):
    """The open-pit scenario, 30 trucks, 8 h, twice with seed 7 and once with seed 8."""
    base = tmp_path_factory.mktemp("open_pit")
    out = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        code = run_cli("run", str(REPO / "scenarios" / "open_pit.toml"), "--headless", "--quiet",
                       "--seed", str(seed), "--out", str(base / name))
        assert code == 0
        out[name] = base / name
    return out


def test_open_pit_shift_produces_tonnes_and_a_queue_at_the_busiest_shovel(open_pit_runs):
    summary = json.loads((open_pit_runs["a"] / "summary.json").read_text())
    assert summary["trucks"] == 30
    assert summary["shift_hours"] == 8.0
    assert summary["tonnes"] > 0
    assert summary["tonnes_per_hour"] == pytest.approx(summary["tonnes"] / 8.0, rel=1e-6)
    shovels = {k: v for k, v in summary["facilities"].items() if v["kind"] == "shovel"}
    busiest = max(shovels.values(), key=lambda s: s["visits"])
    assert busiest["queue_time_mean_s"] > 0.0
    assert busiest["queue_len_max"] >= 2
    assert summary["dispatch"] == {"orders_rejected": 0, "order_timeouts": 0, "messages_rejected": 0,
                                   "cloud_messages_rejected": 0, "cloud_requests_unanswered": 0,
                                   "orders_refused": dict.fromkeys(REASONS, 0),
                                   "estops_refused": dict.fromkeys(REASONS, 0), "remote_estops": 0}
    assert 0.0 < summary["truck_utilisation_mean"] < 1.0
    assert set(p.name for p in open_pit_runs["a"].iterdir()) == RUN_FILES


def test_same_seed_gives_identical_summary_and_another_seed_does_not(open_pit_runs):
    a = (open_pit_runs["a"] / "summary.json").read_bytes()
    b = (open_pit_runs["b"] / "summary.json").read_bytes()
    c = (open_pit_runs["c"] / "summary.json").read_bytes()
    assert a == b
    assert a != c
    assert (open_pit_runs["a"] / "events.csv").read_bytes() == (open_pit_runs["b"] / "events.csv").read_bytes()


def test_timing_holds_host_figures_and_summary_none(open_pit_runs):
    timing = json.loads((open_pit_runs["a"] / "timing.json").read_text())
    assert timing["run_wall_s"] > 0 and timing["sim_speed_x"] > 0
    summary = json.loads((open_pit_runs["a"] / "summary.json").read_text())
    assert not {"run_wall_s", "sim_speed_x", "host"} & set(summary)


def bad_maps():
    ok = [point("shovel", "S1", [0, 0, 0]), point("dump", "D1", [1000, 0, 0])]
    straight = road("R1", [[0, 0, 0], [1000, 0, 0]])
    return {
        "dangling road": (collection([straight, road("R9", [[500, 0, 0], [500, 300, 0]]), *ok]),
                          "road R9: dangling end"),
        "shovel off every road": (collection([straight, point("shovel", "S1", [400, 500, 0]), ok[1]]),
                                  "shovel S1: is 500 m from the nearest road"),
        "non-numeric property": (collection([road("R1", [[0, 0, 0], [1000, 0, 0]], width_m="wide"), *ok]),
                                 "road R1: 'width_m' must be a number"),
        "unknown kind": (collection([straight, *ok, point("helipad", "H1", [5, 0, 0])]),
                         "feature H1: unknown kind 'helipad'"),
        "invalid JSON": ('{"type": "FeatureCollection", "features": [}', "invalid JSON at line 1"),
    }


@pytest.mark.parametrize("case", list(bad_maps()))
def test_bad_map_exits_2_with_one_line(case, write_map, capsys):
    doc, expected = bad_maps()[case]
    path = write_map(doc)
    assert run_cli("validate", str(path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"minefleet: error: {path}: ")
    assert expected in err


SCENARIO = """
[scenario]
name = "bad"
map = "{map}"
[fleet]
count = 2
truck_class = "{cls}"
"""


@pytest.mark.parametrize("map_name, cls, expected", [
    ("no_such_map", "cat-797f", "[scenario]: 'map' names a missing map file ('no_such_map')"),
    ("tutorial", "belaz-99999", "[fleet]: 'truck_class' unknown truck class 'belaz-99999' (known: cat-797f"),
])
def test_bad_scenario_exits_2_with_one_line(map_name, cls, expected, write_scenario, capsys):
    path = write_scenario(SCENARIO.format(map=map_name, cls=cls))
    assert run_cli("run", str(path), "--headless") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"{path}: {expected}" in err


@pytest.mark.parametrize("table, expected", [
    ('[edge]\ndevice = "ascend-9"\n', "[edge]: 'device' is not usable: unknown device 'ascend-9'; known: ascend-310"),
    ('[link]\nprofile = "6g"\n', "[link]: 'profile' is not usable: "),
    ('[edge]\nbackground_on_miss = "later"\n', "[edge]: 'background_on_miss'"),
    ('[link]\nprofile = "lte"\nsites_off = ["gnb-9"]\n', "link.sites_off: map "),
    ('[link]\nprofile = "lte"\nsites_off = ["gnb-1"]\n', "link.sites_off: switches off every gNB of map"),
    ('[link]\nsites_off = ["gnb-1"]\n', "link.sites_off: the ideal link has no sites to switch off"),
])
def test_unusable_device_or_link_profile_is_refused_by_key(table, expected, write_scenario, capsys):
    path = write_scenario(SCENARIO.format(map="tutorial", cls="cat-797f") + table)
    assert run_cli("validate", str(path)) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1


def test_unknown_scenario_key_is_refused(write_scenario, capsys):
    path = write_scenario(SCENARIO.format(map="tutorial", cls="cat-797f") + "spead = 3\n")
    assert run_cli("validate", str(path)) == 2
    assert "[fleet]: unknown key 'spead'" in capsys.readouterr().err


@pytest.mark.parametrize("args, expected", [
    (["--device", "ascend-999"], "--device: is not usable: unknown device 'ascend-999'"),
    (["--device", "ascend-310", "--hours", "0"], "--hours: must be > 0"),
    (["--hours", "inf"], "--hours: must be > 0 and at most 720 h, got inf"),
    (["--hours", "1e9"], "--hours: must be > 0 and at most 720 h, got 1e+09"),
    (["--link", "6g"], "--link: is not usable: "),
    (["--transport", "mqtt", "--broker", "tcp://host:1883"], "--broker: broker URL must look like mqtt://host:port"),
    (["--transport", "mqtt", "--broker", "mqtts://u:secret@host:99999"], "--broker: broker URL 'mqtts://u:***@"),
    (["--transport", "mqtt", "--broker", "mqtts://host", "--ca-file", "/no/ca.pem"], "--ca-file: no such file"),
    (["--ca-file", "/no/ca.pem"], "need --transport mqtt"),
])
def test_bad_command_line_override_exits_2_naming_the_option(args, expected, tmp_path, capsys):
    assert run_cli("run", "open_pit_hazards", "--headless", "--out", str(tmp_path / "r"), *args) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_failed_run_leaves_an_existing_run_directory_untouched(write_scenario, tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli("run", "tutorial", "--headless", "--quiet", "--hours", "0.2", "--out", str(out)) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = write_scenario(SCENARIO.format(map="no_such_map", cls="cat-797f"))
    assert run_cli("run", str(bad), "--headless", "--out", str(out)) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("make, problem", [
    (lambda p: (p.mkdir(), (p / "notes.txt").write_text("mine")), "is a folder that is not a minefleet run directory"),
    (lambda p: p.write_text("mine"), "is a file, not a run directory"),
])
def test_out_that_would_lose_a_users_files_is_refused_before_the_shift(make, problem, tmp_path, capsys):
    out = tmp_path / "out"
    make(out)
    before = sorted((q.name, q.read_bytes()) for q in ([out] if out.is_file() else out.iterdir()))
    assert run_cli("run", "tutorial", "--headless", "--quiet", "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert problem in err and len(err.strip().splitlines()) == 1
    assert sorted((q.name, q.read_bytes()) for q in ([out] if out.is_file() else out.iterdir())) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temp folder left


def test_rerun_replaces_the_run_directory_whole(tmp_path):
    out = tmp_path / "run"
    assert run_cli("run", "tutorial", "--headless", "--quiet", "--hours", "0.2", "--out", str(out)) == 0
    (out / "stray.txt").write_text("left from before")
    assert run_cli("run", "tutorial", "--headless", "--quiet", "--hours", "0.3", "--out", str(out)) == 0
    assert set(p.name for p in out.iterdir()) == RUN_FILES
    assert json.loads((out / "summary.json").read_text())["shift_hours"] == 0.3


@pytest.mark.parametrize("name", ["maps/tutorial.geojson", "maps/open_pit_coal.geojson",
                                  "maps/strip_mine.geojson", "scenarios/open_pit.toml",
                                  "scenarios/strip_mine.toml", "scenarios/open_pit_one_site.toml",
                                  "fleet/trucks/xcmg-znk95.toml"])
def test_validate_accepts_shipped_files(name, capsys):
    assert run_cli("validate", str(REPO / name)) == 0
    assert " OK: " in capsys.readouterr().out


def test_console_script_prints_no_traceback(write_map):
    """The installed entry point: a user's mistake is one line on stderr and exit status 2."""
    path = write_map(line_map() | {"features": "nope"})
    proc = subprocess.run([sys.executable, "-m", "minefleet.cli", "validate", str(path)],
                          capture_output=True, text=True, cwd=Path(REPO), check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"minefleet: error: {path}: 'features' must be a non-empty list"


def test_models_profile_times_any_onnx_graph_and_refuses_a_missing_one(capsys):
    """A timing-only camera detector has no scan-sectors contract, yet the chip can time it."""
    graph = REPO / "assets" / "background" / "yolov5s_640.onnx"
    assert run_cli("models", "profile", str(graph), "--device", "ascend-310b") == 0
    out = capsys.readouterr().out
    assert "emulated:" in out and "ms per call" in out and "ascend-310b" in out
    assert run_cli("models", "profile", "no-such-model") == 2
    assert "no such model" in capsys.readouterr().err


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_the_run_in_one_line_keeping_the_shift_so_far(signum, status, tmp_path, capsys, monkeypatch):
    """The signal arrives 10 simulated minutes into the shift (raised from inside the simulation, so the test
    does not hang on the host's speed): exit 128 + signal, a run directory marked interrupted, no temp folder."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers can only be set in the main thread")
    from fleet.engine import Simulation

    real_run = Simulation.run

    def run_then_signal(self, until, progress=None):
        real_run(self, 600.0, progress)
        os.kill(os.getpid(), signum)  # delivered to the main thread: KeyboardInterrupt, or the SIGTERM handler
        real_run(self, until, progress)

    monkeypatch.setattr(Simulation, "run", run_then_signal)
    # Python's own Ctrl-C handler, as a terminal gives it: a process started in the background by a shell without
    # job control inherits SIGINT ignored, and would never see this one.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    out = tmp_path / "run"
    try:
        code = run_cli("run", "tutorial", "--headless", "--quiet", "--hours", "2", "--out", str(out))
    finally:
        signal.signal(signal.SIGINT, previous)
    assert code == status
    err = capsys.readouterr().err
    assert f"stopped by {signal.Signals(signum).name}" in err and "marked interrupted" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["shift_hours"] == pytest.approx(600 / 3600, abs=1e-3)
    assert [p.name for p in tmp_path.iterdir()] == ["run"]
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask  # a run directory follows the umask
