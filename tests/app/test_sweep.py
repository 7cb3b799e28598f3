"""Headless batch runs: ``run --set``, ``sweep`` (tables, resume, failures, bad input) and ``plot``."""

from __future__ import annotations

import csv
import json
import math
import sys

import pytest
from cli_checks import one_line_error, read_csv
from conftest import REPO

from minefleet.cli import main
from minefleet.sweep import run_sweep
from minefleet.sweep.results import mean_ci

# 2 x 2 cells x 2 seeds of a 0.2 h tutorial shift; payloads scatter, so the seeds differ. The seeds are listed out
# of order and one key is written bare: neither may change the tables.
SWEEP = """
[sweep]
scenario = "tutorial"
seeds = [1, 0]
hours = 0.2

[grid]
"fleet.count" = [1, 2]
"cloud.planner" = ["nearest", "min_wait"]
haul.payload_cv = [0.1]
"""
PARAMS = ["fleet.count", "cloud.planner", "haul.payload_cv"]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The sweep above, uninterrupted, on two workers: (sweep file, output folder)."""
    base = tmp_path_factory.mktemp("sweep")
    path = base / "grid.toml"
    path.write_text(SWEEP, encoding="utf-8")
    assert main(["sweep", str(path), "--out", str(base / "out"), "--workers", "2", "--quiet"]) == 0
    return path, base / "out"


def test_results_have_one_row_per_run_by_cell_then_seed(swept):
    _, out = swept
    columns, rows = read_csv(out / "results.csv")
    assert columns[:5] == ["cell", *PARAMS, "seed"]
    for kpi in ("tonnes", "tonnes_per_hour", "loads", "cycle_time_mean_s", "queue_time_shovel_mean_s",
                "queue_time_dump_mean_s", "shovel_utilisation_mean", "truck_utilisation_mean", "lp_bound_share"):
        assert kpi in columns
    assert [(r["fleet.count"], r["cloud.planner"], r["seed"]) for r in rows] == [
        (n, planner, seed) for n in ("1", "2") for planner in ("nearest", "min_wait") for seed in ("0", "1")]
    for r in rows:
        summary = json.loads((out / "runs" / f"{r['cell']}-seed{r['seed']}" / "summary.json").read_text())
        assert r["trucks"] == r["fleet.count"] == str(summary["trucks"])
        assert summary["planner"] == r["cloud.planner"] and summary["seed"] == int(r["seed"])
        assert float(r["tonnes_per_hour"]) == summary["tonnes_per_hour"] > 0
    assert len({r["cell"] for r in rows}) == 4
    assert {r["tonnes"] for r in rows if r["cell"] == rows[0]["cell"]} != {rows[0]["tonnes"]}  # seeds differ


def test_summary_gives_each_cell_the_mean_and_95_ci_over_its_seeds(swept):
    _, out = swept
    _, runs = read_csv(out / "results.csv")
    columns, rows = read_csv(out / "summary.csv")
    assert columns[:5] == ["cell", *PARAMS, "runs"]
    assert {"tonnes_per_hour_mean", "tonnes_per_hour_ci95", "lp_bound_share_mean", "lp_bound_share_ci95"} <= set(
        columns)
    assert len(rows) == 4 and all(r["runs"] == "2" for r in rows)
    first = rows[0]
    tonnes = [float(r["tonnes"]) for r in runs if r["cell"] == first["cell"]]
    mean, half = mean_ci(tonnes)
    assert float(first["tonnes_mean"]) == pytest.approx(mean) == pytest.approx(sum(tonnes) / 2)
    assert float(first["tonnes_ci95"]) == pytest.approx(half) and half > 0
    md = (out / "summary.md").read_text()
    assert "| cell | fleet.count | cloud.planner | haul.payload_cv | runs | trucks | tonnes |" in md
    assert md.count("\n| ") == 4 + 1 and " ± " in md


def test_mean_ci_is_student_t():
    mean, half = mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0 and half == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert mean_ci([5.0]) == (5.0, None)


def test_resumed_sweep_makes_only_the_missing_runs_and_the_same_tables(swept, tmp_path, capsys):
    path, uninterrupted = swept
    out = tmp_path / "out"
    assert run_sweep(path, out, workers=1, quiet=True, stop_after=3) == 0  # killed after three runs
    made = sorted(p for p in (out / "runs").iterdir())
    assert len(made) == 3 and not (out / "results.csv").exists()
    stamps = {p.name: (p.stat().st_mtime_ns, (p / "summary.json").stat().st_mtime_ns) for p in made}
    (out / "runs" / ".count-2-x.half-written").mkdir()  # what a kill during write_run leaves
    capsys.readouterr()
    assert main(["sweep", str(path), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    assert "5 made now, 3 already complete, 0 failed" in capsys.readouterr().out
    assert {p.name: (p.stat().st_mtime_ns, (p / "summary.json").stat().st_mtime_ns)
            for p in made} == stamps
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(
        p.name for p in (uninterrupted / "runs").iterdir())
    for table in ("results.csv", "summary.csv", "summary.md"):
        assert (out / table).read_bytes() == (uninterrupted / table).read_bytes()


def test_a_run_of_an_edited_sweep_is_made_again(tmp_path, capsys):
    """A run directory whose scenario.toml is not the run's own (hours changed) is no finished run of it."""
    out = tmp_path / "out"
    edited = tmp_path / "grid.toml"
    edited.write_text(SWEEP.replace('"cloud.planner" = ["nearest", "min_wait"]', '"cloud.planner" = ["nearest"]')
                      .replace("seeds = [1, 0]", "seeds = [0]"), encoding="utf-8")
    assert main(["sweep", str(edited), "--out", str(out), "--quiet"]) == 0
    assert main(["sweep", str(edited), "--out", str(out), "--dry-run"]) == 0
    assert "2 runs of tutorial.toml; 2 already complete" in capsys.readouterr().out
    edited.write_text(edited.read_text().replace("hours = 0.2", "hours = 0.1"), encoding="utf-8")
    assert main(["sweep", str(edited), "--out", str(out), "--dry-run"]) == 0
    assert "2 runs of tutorial.toml; 0 already complete" in capsys.readouterr().out


def test_a_failing_run_is_reported_and_the_others_complete(tmp_path, capsys):
    """The truck ids of [[edge.trucks]] are checked against the fleet only when a run is built."""
    path = tmp_path / "cases.toml"
    path.write_text("""
[sweep]
scenario = "tutorial"
seeds = 1
hours = 0.1

[[cases]]
"fleet.count" = 1

[[cases]]
"fleet.count" = 1
"edge.trucks" = [{ids = ["T009"], model = "oracle"}]
""", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--quiet"]) == 1
    captured = capsys.readouterr()
    failed = [line for line in captured.err.splitlines() if "failed" in line]
    assert len(failed) == 1 and "no truck 'T009'" in failed[0], captured.err
    assert "1 made now, 0 already complete, 1 failed" in captured.out
    _, rows = read_csv(out / "results.csv")
    assert len(rows) == 1 and rows[0]["edge.trucks"] == ""
    _, failures = read_csv(out / "failures.csv")
    assert len(failures) == 1 and "no truck 'T009'" in failures[0]["error"]
    assert not (out / "runs" / failures[0]["run"]).exists()


@pytest.mark.parametrize("grid, expected", [
    ('"fleet.cuont" = [1, 2]', "[grid] 'fleet.cuont': unknown key (scenario "),
    ('"fleet.count" = [1, "many"]', "[grid] 'fleet.count': must be a whole number, got 'many'"),
    ('"cloud.planner" = ["nearest", "neareast"]', "[grid] 'cloud.planner': unknown planner 'neareast'"),
    ('"fleet.count" = 2', "[grid]: 'fleet.count' must be a non-empty list of values, got 2"),
    ('"scenario.seed" = [1, 2]', "[grid] 'scenario.seed': is the sweep's to set, by [sweep] seeds"),
    ('"fleet.start" = ["nowhere"]', "[grid] fleet.start=nowhere: "),
])
def test_bad_grid_is_refused_before_any_run(grid, expected, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(f'[sweep]\nscenario = "tutorial"\nseeds = 2\n[grid]\n{grid}\n', encoding="utf-8")
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = one_line_error(capsys)
    assert err.startswith(f"minefleet: error: {path}: ") and expected in err, err
    assert not (tmp_path / "out").exists()


def test_sweep_of_a_scenario_whose_map_is_missing_is_refused(tmp_path, capsys):
    (tmp_path / "scn.toml").write_text('[scenario]\nmap = "no_such_map"\n[fleet]\ncount = 1\n'
                                       'truck_class = "cat-797f"\n', encoding="utf-8")
    path = tmp_path / "sweep.toml"
    path.write_text('[sweep]\nscenario = "scn.toml"\nseeds = 2\n[grid]\n"fleet.count" = [1, 2]\n', encoding="utf-8")
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    assert f"{tmp_path / 'scn.toml'}: [scenario]: 'map' names a missing map file ('no_such_map')" in one_line_error(
        capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, expected", [
    ('[sweep]\nscenario = "tutorial"\nseeds = 2\nspeeds = 3\n', "[sweep]: unknown key 'speeds'"),
    ('[sweep]\nscenario = "tutorial"\nseeds = [0, 0]\n', "[sweep]: 'seeds' lists a seed twice"),
    ('[sweep]\nscenario = "no_such_scenario"\nseeds = 2\n', "[sweep]: 'scenario' no scenario 'no_such_scenario'"),
    ('[sweep]\nscenario = "tutorial"\nseeds = 1\n[[cases]]\n"fleet.count" = 1\n[[cases]]\n"fleet.count" = 1\n',
     "[[cases]] #2: fleet.count=1: the same values as a cell before it ([[cases]] #1)"),
])
def test_bad_sweep_file_is_refused_by_key(text, expected, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    assert main(["sweep", str(path), "--dry-run"]) == 2
    err = one_line_error(capsys)
    assert err.startswith(f"minefleet: error: {path}: ") and expected in err, err


def test_missing_sweep_file_is_refused(tmp_path, capsys):
    assert main(["sweep", str(tmp_path / "none.toml")]) == 2
    assert one_line_error(capsys) == f"minefleet: error: {tmp_path / 'none.toml'}: sweep file not found\n"


def test_shipped_example_sweep_checks_out_without_running(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(REPO / "scenarios" / "sweeps" / "fleet_size.toml"), "--out", str(out),
                 "--dry-run"]) == 0
    assert "sweep OK: 12 cells x 3 seeds = 36 runs of open_pit.toml" in capsys.readouterr().out
    assert not out.exists()
    assert main(["validate", str(REPO / "scenarios" / "sweeps" / "fleet_size.toml")]) == 0
    assert "sweep OK: 12 cells x 3 seeds = 36 runs" in capsys.readouterr().out


@pytest.mark.parametrize("name, expected", [
    ("planners", "8 cells x 10 seeds = 80 runs of open_pit.toml"),
    ("links", "4 cells x 5 seeds = 20 runs of open_pit_5g.toml"),
    ("models", "24 cells x 10 seeds = 240 runs of open_pit_hazards.toml"),
    ("chips", "4 cells x 3 seeds = 12 runs of open_pit_hazards.toml"),
])
def test_shipped_sweeps_check_out(name, expected, tmp_path, capsys):
    assert main(["sweep", str(REPO / "scenarios" / "sweeps" / f"{name}.toml"), "--out", str(tmp_path / "out"),
                 "--dry-run"]) == 0
    assert f"sweep OK: {expected}" in capsys.readouterr().out
    assert not (tmp_path / "out").exists()


def test_ray_executor_without_ray_says_how_to_install_it(swept, tmp_path, monkeypatch, capsys):
    path, _ = swept
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as if it were not installed
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "--executor", "ray"]) == 2
    assert "pip install 'minefleet[cluster]'" in one_line_error(capsys)


def test_ray_executor_gives_the_local_results(swept, tmp_path):
    pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'minefleet[cluster]'")
    path, local = swept
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--executor", "ray", "--workers", "2", "--quiet"]) == 0
    assert (out / "results.csv").read_bytes() == (local / "results.csv").read_bytes()


def test_plot_writes_a_png(swept, tmp_path, capsys):
    _, out = swept
    png = tmp_path / "plot.png"
    assert main(["plot", str(out / "results.csv"), "--x", "fleet.count", "--y", "tonnes_per_hour",
                 "--series", "cloud.planner", "--out", str(png)]) == 0
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert main(["plot", str(out / "results.csv"), "--x", "fleet.cuont", "--y", "tonnes_per_hour"]) == 2
    assert "--x: no column 'fleet.cuont'" in capsys.readouterr().err


def knee_results(path):
    """A fleet-sizing results.csv with a known knee: series "a" gains 100 t/h per truck up to 8 trucks, then 20; "b"
    gains 100 per truck throughout. Two seeds per point, +-5 about the curve, so the knee is found on the means."""
    def curve(series, n):
        return 100.0 * n if series == "b" or n <= 8 else 800.0 + 20.0 * (n - 8)

    rows = [[f"{series}-{n}", series, n, seed, curve(series, n) + (5.0 if seed else -5.0)]
            for series in ("a", "b") for n in range(2, 17, 2) for seed in (0, 1)]
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["cell", "planner", "fleet.count", "seed", "tonnes_per_hour"], *rows])
    return path


def test_knee_is_the_first_count_whose_next_step_adds_under_the_share_of_the_mean(tmp_path, capsys):
    results = knee_results(tmp_path / "results.csv")
    png = tmp_path / "knee.png"
    assert main(["plot", str(results), "--x", "fleet.count", "--y", "tonnes_per_hour", "--series", "planner",
                 "--knee", "0.5", "--out", str(png)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("planner = a: knee at fleet.count = 8: the step to 10 adds 20 tonnes_per_hour per unit of "
                        "fleet.count, under 0.5 x the mean 100 per unit at 8")
    assert lines[1] == ("planner = b: no knee in fleet.count 2..16: every step adds at least 0.5 x the mean "
                        "tonnes_per_hour per unit of fleet.count")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_find_knee_reads_a_step_of_several_units_per_unit():
    from minefleet.sweep.plot import find_knee

    counts = [10.0, 20.0, 30.0, 40.0]
    tph = [3000.0, 5800.0, 7000.0, 7400.0]  # per truck 300, 290, 233; ten more add 280, 120, 40 per truck
    assert find_knee(counts, tph, 0.5) == 1  # 280 >= 150, then 120 < 145
    assert find_knee(counts, tph, 0.4) == 2  # 120 >= 116, then 40 < 93
    assert find_knee(counts, tph, 0.1) is None  # 280 >= 30, 120 >= 29, 40 >= 23
    assert find_knee([0.0, 1.0, 2.0], [0.0, 10.0, 20.0], 0.5) is None  # no mean per unit at 0, then linear


def test_knee_needs_a_numeric_x_and_a_positive_share(swept, capsys):
    _, out = swept
    assert main(["plot", str(out / "results.csv"), "--x", "cloud.planner", "--y", "tonnes", "--knee", "0.5"]) == 2
    assert "--knee: needs a numeric --x column; 'cloud.planner' is not" in one_line_error(capsys)
    assert main(["plot", str(out / "results.csv"), "--x", "fleet.count", "--y", "tonnes", "--knee", "0"]) == 2
    assert "--knee: must be a share > 0" in one_line_error(capsys)


def test_run_set_reaches_the_summary_and_the_run_directory_runs_again_alike(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "tutorial", "--headless", "--quiet", "--hours", "0.1", "--out", str(out),
                 "--set", "fleet.count=2", "--set", "cloud.planner=min_wait", "--set", "haul.payload_cv=0.1"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["trucks"] == 2 and summary["planner"] == "min_wait"
    again = tmp_path / "again"
    assert main(["run", str(out / "scenario.toml"), "--headless", "--quiet", "--out", str(again)]) == 0
    assert (again / "summary.json").read_bytes() == (out / "summary.json").read_bytes()


@pytest.mark.parametrize("override, expected", [
    ("fleet.cuont=2", "--set fleet.cuont: unknown key"),
    ("fleet.count=many", "--set fleet.count: must be a whole number, got 'many'"),
    ("flet.count=2", "--set flet.count: unknown key 'flet'"),
    ("fleet.count", "--set fleet.count: expected KEY=VALUE"),
])
def test_run_set_of_a_bad_key_or_value_is_refused_by_key(override, expected, tmp_path, capsys):
    assert main(["run", "tutorial", "--headless", "--out", str(tmp_path / "r"), "--set", override]) == 2
    err = one_line_error(capsys)
    assert err.startswith(f"minefleet: error: {REPO / 'scenarios' / 'tutorial.toml'}: {expected}"), err
    assert not (tmp_path / "r").exists()


def test_the_longest_runs_start_first(monkeypatch, tmp_path):
    """Truck-hours order the runs (longest first, ties as listed), so the workers finish together."""
    import importlib
    from dataclasses import replace

    from minefleet.scenario import load_scenario

    ex = importlib.import_module("minefleet.sweep.execute")  # the package exports a function of the same name

    base = load_scenario("tutorial")
    jobs = [ex.Job(name, replace(base.resized(n), hours=h))
            for name, n, h in (("a", 4, 1.0), ("b", 8, 1.0), ("c", 2, 8.0), ("d", 4, 1.0), ("e", 1, 0.5))]
    seen: list[str] = []
    monkeypatch.setattr(ex, "_local", lambda jobs, runs_dir, done, workers: seen.extend(j.name for j in jobs))
    ex.execute(jobs, tmp_path, lambda job, error: None)
    assert seen == ["c", "b", "a", "d", "e"]
