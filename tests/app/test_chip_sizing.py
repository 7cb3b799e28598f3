"""The truck's chip reaches latency, safe speed and tonnes: same model and seeds on different devices."""

from __future__ import annotations

import pytest
from shifts import shift

from edge.accel import load_profile, model_cost, shipped_tasks

CAMERA, LIDAR = "camera-yolov5s", "lidar-pointpillars"


def chip_run(device: str, background: tuple[str, ...], **edge) -> dict:
    """Six trucks with the large model, obstacles, 0.5 h, seed 3: safety block, t/h and the chip's figures."""
    out = shift("large", 3, trucks=6, hours=0.5, device=device, background=background, **edge)
    out["model"] = out["perception"]["large"]
    return out


@pytest.fixture(scope="module")
def suite_runs() -> dict[str, dict]:
    """One camera and one LiDAR detector beside the obstacle model on every chip."""
    return {d: chip_run(d, (CAMERA, LIDAR)) for d in ("ascend-310b", "ascend-310", "ascend-310p", "host")}


def test_slower_chip_gives_higher_p99_latency_and_lower_safe_speed(suite_runs):
    p99 = {d: r["model"]["latency_p99_ms"] for d, r in suite_runs.items()}
    safe = {d: r["safe_speed_mean_kmh"] for d, r in suite_runs.items()}
    # Queueing behind the camera and LiDAR detectors: the fewer TFLOPS, the longer the obstacle model waits. The
    # host is whatever CPU edge/devices/host.toml was calibrated on, so it has no fixed place in this order.
    assert p99["ascend-310b"] > p99["ascend-310"] > p99["ascend-310p"] > 0.0 and p99["host"] > 0.0
    assert p99["ascend-310b"] > 20.0  # tens of milliseconds behind a 60 ms PointPillars job
    assert safe["ascend-310b"] < safe["ascend-310"] < safe["ascend-310p"]
    util = {d: r["model"]["chip"]["utilisation"] for d, r in suite_runs.items()}
    assert util["ascend-310b"] > util["ascend-310"] > util["ascend-310p"] > 0.1


def test_the_host_runs_the_detectors_that_fit_their_budget_on_it(suite_runs):
    """The host is this machine's CPU as calibrated: a detector whose call alone outlasts its budget there (the
    PointPillars LiDAR model) has every frame dropped, timed only; one that fits runs its frames."""
    tasks = suite_runs["host"]["model"]["chip"]["tasks"]
    host = load_profile("host")
    fits = {t.name: model_cost(t.model_path, host).latency_s < t.budget_s for t in shipped_tasks()}
    assert not fits[LIDAR]
    for name in (CAMERA, LIDAR):
        assert tasks[name]["timed_only"] and tasks[name]["jobs"] > 0
        if fits[name]:
            assert tasks[name]["dropped"] < tasks[name]["jobs"]
        else:
            assert tasks[name]["dropped"] == tasks[name]["jobs"]
    assert tasks["perception"]["timed_only"] is False and tasks["perception"]["dropped"] == 0


def test_a_sensor_suite_that_overloads_the_chip_costs_tonnes():
    """Four cameras and a LiDAR detector whose frames queue rather than skip (background_on_miss = late):
    112 % of a 310B, 83 % of a 310. The 310B's backlog grows without end, perception goes stale, trucks
    hold; the 310 keeps up and hauls."""
    suite = (CAMERA,) * 4 + (LIDAR,)
    slow = chip_run("ascend-310b", suite, background_on_miss="late")
    fast = chip_run("ascend-310", suite, background_on_miss="late")
    assert slow["model"]["chip"]["utilisation"] > 1.0 > fast["model"]["chip"]["utilisation"]
    assert slow["model"]["latency_p99_ms"] > 1000.0 > 100.0 > fast["model"]["latency_p99_ms"]
    assert slow["holds"] > 0 and fast["holds"] == 0
    assert fast["tph"] > 0 and slow["tph"] < 0.5 * fast["tph"]
    assert slow["safe_speed_mean_kmh"] < fast["safe_speed_mean_kmh"]
    # The second camera is its own sensor, reported apart from the first.
    assert {f"{CAMERA} #2", f"{CAMERA} #4"} <= set(fast["model"]["chip"]["tasks"])
