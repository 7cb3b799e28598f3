"""Background detector graphs: tiny timing-only files of the cited size, timed and scheduled as load."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from edge.accel import BackgroundTask, DeviceScheduler, Job, load_profile, model_cost, periodic_jobs, shipped_tasks
from edge.accel.background import BACKGROUND_DIR, ReleaseClock, card
from edge.chip import ChipTimeline

GRAPHS = ["yolov5s_640", "pointpillars_kitti"]


@pytest.mark.parametrize("stem", GRAPHS)
def test_graph_is_tiny_timing_only_and_of_the_cited_size(stem: str) -> None:
    path = BACKGROUND_DIR / f"{stem}.onnx"
    assert path.stat().st_size < 200_000
    model = onnx.load(str(path))
    assert sum(len(t.raw_data) for t in model.graph.initializer) < 1_000  # weights are shaped inputs, no values
    meta = card(path)
    assert meta["timing_only"] is True and meta["structure_source"] and meta["expected_source"]
    cost = model_cost(path, "ascend-310", 1)
    assert cost.macs / 1e9 == pytest.approx(meta["expected_gmacs"], rel=0.10)
    assert meta["expected_gflops"] == pytest.approx(2 * meta["expected_gmacs"], rel=0.01)


def test_yolov5s_matches_the_published_16_5_gflops() -> None:
    cost = model_cost(BACKGROUND_DIR / "yolov5s_640.onnx", "host", 1)
    assert 2 * cost.macs / 1e9 == pytest.approx(16.5, rel=0.10)


def test_pointpillars_scatter_falls_back_to_the_ai_cpu() -> None:
    cost = model_cost(BACKGROUND_DIR / "pointpillars_kitti.onnx", "ascend-310", 1)
    assert [n.op_type for n in cost.nodes if n.unit == "AI_CPU"] == ["ScatterND"]


def test_periodic_jobs_between_t0_and_t1() -> None:
    prof = load_profile("ascend-310p")
    task = BackgroundTask("cam", BACKGROUND_DIR / "yolov5s_640.onnx", rate_hz=10.0, budget_s=0.1, phase_s=0.02)
    jobs = periodic_jobs(task, "T7", 1.0, 2.0, prof)
    assert len(jobs) == 10
    assert jobs[0].release_s == pytest.approx(1.02) and jobs[-1].release_s == pytest.approx(1.92)
    assert all(j.deadline_s == pytest.approx(j.release_s + 0.1) for j in jobs)
    assert all(j.timing_only and j.truck == "T7" for j in jobs)
    assert jobs[0].latency_s == pytest.approx(model_cost(task.model_path, prof, 1).latency_s)


def test_background_load_delays_the_perception_job() -> None:
    prof = load_profile("ascend-310")
    tasks = shipped_tasks()
    assert {t.name for t in tasks} == {"camera-yolov5s", "lidar-pointpillars"}
    jobs = [j for t in tasks for j in periodic_jobs(t, "T1", 0.0, 1.0, prof)]
    jobs.append(Job("obstacle", "T1", release_s=0.005, latency_s=0.001, deadline_s=0.2))
    sched = DeviceScheduler(prof, policy="fifo")
    for j in sorted(jobs, key=lambda j: j.release_s):
        sched.submit(j)
    sched.flush()
    obstacle = sched.stats()["obstacle"]
    assert obstacle.queued_mean_s > 0.0  # the chip was busy with the camera and LiDAR detectors


def test_release_clock_is_continuous_across_windows_and_jitter_stays_within_its_bound() -> None:
    task = BackgroundTask("cam", BACKGROUND_DIR / "yolov5s_640.onnx", rate_hz=10.0, budget_s=0.1, phase_s=0.03,
                          jitter_s=0.005)
    clock = ReleaseClock(task, np.random.default_rng(4))
    got = [r for k in range(1, 101) for r in clock.until(k * 0.1)]  # 10 s in 0.1 s windows
    assert len(got) == 100
    due = 0.03 + 0.1 * np.arange(100)
    lag = np.array(got) - due
    assert np.all(lag >= 0.0) and np.all(lag < 0.005) and lag.std() > 0.001
    assert np.all(np.diff(got) > 0)
    again = ReleaseClock(task, np.random.default_rng(4))
    assert [r for r in again.until(10.0)] == got  # the windows do not change the sequence


def test_clock_drift_slides_the_phase_against_the_range_sensor() -> None:
    fast = BackgroundTask("lidar", BACKGROUND_DIR / "pointpillars_kitti.onnx", rate_hz=10.0, budget_s=0.1,
                          drift_ppm=50.0)
    jobs = periodic_jobs(fast, "T1", 3599.0, 3600.0, "ascend-310")
    # 50 ppm over an hour: 36,000 frames come 0.18 s early, almost two frame periods.
    assert fast.period_s == pytest.approx(0.1 / 1.00005)
    assert len(jobs) == 10
    assert jobs[0].release_s == pytest.approx(35_992 * fast.period_s, abs=1e-6)
    assert 35_992 * 0.1 - jobs[0].release_s == pytest.approx(0.18, abs=1e-3)  # against an exact 10 Hz clock


@pytest.mark.parametrize("jitter", [-0.001, 0.1])
def test_jitter_must_stay_below_the_frame_period(jitter: float) -> None:
    with pytest.raises(ValueError, match="jitter_s"):
        BackgroundTask("cam", BACKGROUND_DIR / "yolov5s_640.onnx", rate_hz=10.0, budget_s=0.1, jitter_s=jitter)


def test_phase_classes_spread_the_background_over_the_frame_period() -> None:
    """Four classes of one group: the perception job waits differently on each, by where the LiDAR job falls."""
    prof = load_profile("ascend-310b")
    lidar = [t for t in shipped_tasks() if t.name == "lidar-pointpillars"]
    chip = ChipTimeline(prof, None, lidar, deadline_s=0.1, chips=4, rng=np.random.default_rng(1))
    waits = np.array([[(f - t) if f is not None else np.nan for f, _ in chip.frame(t)]
                      for t in 0.1 * np.arange(1, 51)])
    per_class = np.nanmean(waits, axis=0)
    # LiDAR frames due 0, 25, 50, 75 ms into the period, 60 ms each on a 310B: the perception job released at
    # the period's end waits for nothing, nothing, ~10 ms, ~35 ms.
    assert per_class[:2] == pytest.approx([0.0, 0.0], abs=1e-4)
    assert 0.005 < per_class[2] < 0.02 < 0.03 < per_class[3] < 0.045
    summary = chip.summary(trucks=8)
    assert summary["phase_classes"] == 4 and summary["tasks"]["perception"]["jobs"] == 4 * 50
    assert summary["tasks"]["lidar-pointpillars"]["timed_only"] is True
