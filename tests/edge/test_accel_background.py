"""Background detector graphs: tiny timing-only files of the cited size, timed and scheduled as load."""

from __future__ import annotations

import onnx
import pytest

from edge.accel import BackgroundTask, DeviceScheduler, Job, load_profile, model_cost, periodic_jobs, shipped_tasks
from edge.accel.background import BACKGROUND_DIR, card

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
