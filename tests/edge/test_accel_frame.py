"""The compiled frame settlement of a chip group against the Python scheduler, job for job."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import edge.chip
from edge.accel import DeviceScheduler, Job, load_profile, shipped_tasks
from edge.accel.background import ReleaseClock, background_job
from edge.accel.scheduler import combined_stats
from edge.chip import PERCEPTION_PRIORITY, PERCEPTION_TASK, ChipTimeline
from metrics.quantiles import Quantiles

TINY = edge.chip.Path(__file__).resolve().parents[2] / "assets" / "models" / "tiny.onnx"


def _background(on_miss: str, streams: int = 1) -> list:
    """The shipped camera and LiDAR detectors, loading ``streams`` queues so that some frames miss, the camera
    outranking the perception job at a tie."""
    cam, lidar = sorted(shipped_tasks(), key=lambda task: task.name)
    return [replace(cam, budget_s=0.016, priority=2, on_miss=on_miss, rate_hz=15.0),
            replace(lidar, budget_s=0.065, on_miss="late", rate_hz=12.0 * streams, jitter_s=0.004)]


def _reference(chip: ChipTimeline, seed: int, times: np.ndarray) -> tuple[list, list[DeviceScheduler]]:
    """The same frames through `DeviceScheduler.submit_all`, one `Job` per release, clocks drawn one by one."""
    chip.rng = np.random.default_rng(seed)
    clocks: list[list[ReleaseClock]] = [chip._class_clocks(c) for c in range(chip.chips)]
    scheds = [DeviceScheduler(chip.profile, streams=chip.streams, policy=chip.policy, retain=False, by_truck=False)
              for _ in range(chip.chips)]
    out = []
    for t in times.tolist():
        row = []
        for sched, mine in zip(scheds, clocks, strict=True):
            jobs = [background_job(clock.task, "chip", r, clock.task.latency_s(chip.profile))
                    for clock in mine for r in clock.until(t)]
            jobs.sort(key=lambda j: j.release_s)
            jobs.append(Job(task=PERCEPTION_TASK, truck="chip", release_s=t, latency_s=chip.latency_s,
                            deadline_s=t + chip.deadline_s, priority=PERCEPTION_PRIORITY, on_miss=chip.on_miss))
            res = sched.submit_all(jobs)[-1]
            row.append((None if res.dropped else res.finish_s, res.missed))
        out.append(row)
    return out, scheds


def _tied() -> list:
    """Both detectors due at the same instants with the same rank: only the order of submission decides."""
    return [replace(task, rate_hz=10.0, budget_s=0.1, priority=0, jitter_s=0.0, phase_s=0.02, clock_ppm=0.0,
                    on_miss="late")
            for task in sorted(shipped_tasks(), key=lambda task: task.name)]


@pytest.mark.parametrize("policy", ["fifo", "edf"])
@pytest.mark.parametrize("streams", [1, 2])
@pytest.mark.parametrize("on_miss", ["drop", "late"])
def test_compiled_frames_settle_every_job_as_the_scheduler_does(policy: str, streams: int, on_miss: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # Small buffers: the run crosses many refills of the releases and folds of the samples.
    monkeypatch.setattr(edge.chip, "RELEASE_BLOCK", 3)
    monkeypatch.setattr(edge.chip, "SAMPLE_BLOCK", 5)
    _compare(_background(on_miss, streams), policy, streams, on_miss)


@pytest.mark.parametrize("policy", ["fifo", "edf"])
def test_ties_are_broken_in_submission_order(policy: str) -> None:
    _compare(_tied(), policy, 1, "late")


def _compare(background: list, policy: str, streams: int, on_miss: str) -> None:
    prof = load_profile("ascend-310b")
    seed = 7
    chip = ChipTimeline(prof, TINY, background, deadline_s=0.03, on_miss=on_miss, policy=policy,
                        streams=streams, chips=3, rng=np.random.default_rng(seed))
    times = 0.1 * np.arange(1, 301) + 0.0371
    got = [chip.frame(t) for t in times.tolist()]
    want, scheds = _reference(chip, seed, times)
    assert got == want
    assert not all(late for row in got for _, late in row)
    summary = chip.summary(trucks=6)
    expected = combined_stats(scheds, "task")
    assert set(summary["tasks"]) == set(expected)
    assert sum(task["missed"] for task in summary["tasks"].values()) > 0  # a case where deadlines are missed
    dropping = on_miss == "drop" and background[0].on_miss == "drop"
    assert (sum(task["dropped"] for task in summary["tasks"].values()) > 0) == dropping
    for task, st in expected.items():
        mine = summary["tasks"][task]
        assert (mine["jobs"], mine["missed"], mine["dropped"]) == (st.jobs, st.missed, st.dropped)
        assert mine["p50_ms"] == round(st.p50_s * 1e3, 3) and mine["p99_ms"] == round(st.p99_s * 1e3, 3)
        assert mine["queued_p99_ms"] == round(st.queued_p99_s * 1e3, 3)
    util = np.mean([s.utilisation(float(times[-1])) for s in scheds])
    assert summary["utilisation"] == round(float(util), 4) > 0.0


def test_chip_rejects_a_policy_it_cannot_settle() -> None:
    with pytest.raises(ValueError, match="policy"):
        ChipTimeline(load_profile("ascend-310b"), None, [], deadline_s=0.1, policy="lifo")


def test_a_release_block_continues_the_clock_exactly() -> None:
    task = replace(_background("late")[1], drift_ppm=37.0)
    one, many = ReleaseClock(task, np.random.default_rng(4)), ReleaseClock(task, np.random.default_rng(4))
    walked = np.array(one.until(200.0))
    blocks = np.concatenate([many.block(1), many.block(7), many.block(2500)])
    assert len(walked) == 2401 and np.array_equal(walked, blocks[:len(walked)])
    assert many.until(300.0) == one.until(300.0)[len(blocks) - len(walked):]  # none returned twice, none lost


def test_quantiles_extend_is_adding_one_by_one() -> None:
    rng = np.random.default_rng(2)
    for n in (10, 65_536, 70_001):
        xs = rng.exponential(0.02, n)
        xs[::97] = 0.0
        one, many = Quantiles(), Quantiles()
        for x in xs.tolist():
            one.add(x)
        many.extend(xs[:n // 3])
        many.extend(xs[n // 3:])
        assert (one.count, one.exact, one.mean(), one.percentile(50), one.percentile(99)) == \
               (many.count, many.exact, many.mean(), many.percentile(50), many.percentile(99))
