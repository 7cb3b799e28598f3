"""Scheduler in simulation time: FIFO vs EDF order, drop vs late, stats, streams, shared batches."""

from __future__ import annotations

import numpy as np
import pytest

from edge.accel import DeviceScheduler, Job, load_profile
from edge.accel.scheduler import combined_stats

PROF = load_profile("ascend-310")


def job(task: str, release: float, latency: float, deadline: float, truck: str = "T1", **kw: object) -> Job:
    return Job(task=task, truck=truck, release_s=release, latency_s=latency, deadline_s=deadline, **kw)


def run(policy: str, jobs: list[Job], streams: int = 1) -> DeviceScheduler:
    sched = DeviceScheduler(PROF, streams=streams, policy=policy)
    for j in jobs:
        sched.submit(j)
    sched.flush()
    return sched


def order(sched: DeviceScheduler) -> list[str]:
    done = [r for r in sched.results if r.start_s is not None]
    return [r.job.task for r in sorted(done, key=lambda r: (r.start_s, r.stream))]


def test_same_release_fifo_by_submission_edf_by_deadline() -> None:
    jobs = [job("a", 0.0, 0.01, 1.0), job("b", 0.0, 0.01, 0.5), job("c", 0.0, 0.01, 0.2)]
    assert order(run("fifo", jobs)) == ["a", "b", "c"]
    assert order(run("edf", jobs)) == ["c", "b", "a"]


def test_edf_picks_the_urgent_waiting_job_across_releases() -> None:
    jobs = [job("long", 0.0, 0.10, 1.0), job("lax", 0.01, 0.01, 5.0), job("urgent", 0.02, 0.01, 0.2)]
    fifo, edf = run("fifo", jobs), run("edf", jobs)
    assert order(fifo) == ["long", "lax", "urgent"]
    assert order(edf) == ["long", "urgent", "lax"]
    urgent = next(r for r in edf.results if r.job.task == "urgent")
    assert urgent.start_s == pytest.approx(0.10) and urgent.queued_s == pytest.approx(0.08)


def test_predicted_miss_drops_or_runs_late() -> None:
    for policy in ("fifo", "edf"):
        sched = run(policy, [job("busy", 0.0, 0.05, 1.0), job("frame", 0.01, 0.01, 0.04, on_miss="drop"),
                             job("frame2", 0.01, 0.01, 0.04, on_miss="late")])
        drop, late = sched.results[1], sched.results[2]
        assert drop.dropped and drop.missed and drop.start_s is None and drop.finish_s is None
        assert late.missed and not late.dropped and late.finish_s == pytest.approx(0.06)
        assert late.finish_s > late.job.deadline_s


def test_dropped_job_does_not_occupy_the_device() -> None:
    sched = run("fifo", [job("busy", 0.0, 0.05, 1.0), job("miss", 0.0, 0.01, 0.02), job("next", 0.0, 0.01, 1.0)])
    assert sched.results[2].start_s == pytest.approx(0.05)


def test_stats_percentiles_queueing_and_counts() -> None:
    rng = np.random.default_rng(3)
    lat = rng.uniform(0.001, 0.02, size=200)
    jobs = [job("det", k * 0.1, float(lat[k]), k * 0.1 + 0.05) for k in range(200)]  # never overlap
    stats = run("fifo", jobs).stats()["det"]
    assert stats.jobs == stats.completed == 200 and stats.missed == stats.dropped == 0
    assert stats.p50_s == pytest.approx(np.percentile(lat, 50))
    assert stats.p99_s == pytest.approx(np.percentile(lat, 99))
    assert stats.queued_mean_s == 0.0


def test_per_truck_stats_and_queueing() -> None:
    jobs = [job("det", 0.0, 0.02, 1.0, truck="T1"), job("det", 0.0, 0.02, 1.0, truck="T2")]
    by_truck = run("fifo", jobs).stats(by="truck")
    assert by_truck["T1"].p50_s == pytest.approx(0.02) and by_truck["T2"].p50_s == pytest.approx(0.04)
    assert by_truck["T2"].queued_mean_s == pytest.approx(0.02)


def test_streams_overlap() -> None:
    jobs = [job("a", 0.0, 0.02, 1.0), job("b", 0.0, 0.02, 1.0)]
    one, two = run("fifo", jobs, streams=1), run("fifo", jobs, streams=2)
    assert [r.start_s for r in one.results] == [0.0, pytest.approx(0.02)]
    assert [r.start_s for r in two.results] == [0.0, 0.0]
    assert {r.stream for r in two.results} == {0, 1}
    assert two.utilisation(0.02) == pytest.approx(1.0)


def test_shared_batch_job_counts_for_every_truck() -> None:
    shared = job("det", 0.0, 0.004, 0.1, truck="edge-server", batch=3, members=("T1", "T2", "T3"))
    stats = run("fifo", [shared]).stats(by="truck")
    assert set(stats) == {"T1", "T2", "T3"} and stats["T3"].p50_s == pytest.approx(0.004)


def test_results_settle_only_when_nothing_can_outrank_them() -> None:
    sched = DeviceScheduler(PROF, policy="edf")
    first = sched.submit(job("a", 0.0, 0.01, 1.0))
    assert not first.settled  # another job released at 0.0 may still come
    sched.submit(job("b", 0.5, 0.01, 1.0))
    assert first.settled and first.start_s == 0.0


def test_bad_input_is_refused() -> None:
    sched = DeviceScheduler(PROF)
    sched.submit(job("a", 1.0, 0.01, 2.0))
    with pytest.raises(ValueError, match="nondecreasing release order"):
        sched.submit(job("b", 0.5, 0.01, 2.0))
    with pytest.raises(ValueError, match="policy"):
        DeviceScheduler(PROF, policy="rr")
    with pytest.raises(ValueError, match="on_miss"):
        job("c", 0.0, 0.01, 1.0, on_miss="retry")


def test_energy_is_busy_time_times_power() -> None:
    sched = run("fifo", [job("a", 0.0, 0.5, 1.0)])
    assert sched.energy_j() == pytest.approx(0.5 * PROF.power_w)


def test_folded_tallies_give_the_same_figures_as_kept_results() -> None:
    """A shift-long scheduler keeps tallies, not job objects; its figures match the kept-results ones."""
    rng = np.random.default_rng(5)
    jobs = [job("cam" if k % 3 else "obstacle", 0.01 * k, float(rng.uniform(0.002, 0.02)), 0.01 * k + 0.03,
                truck=f"T{k % 4}", on_miss="drop" if k % 2 else "late") for k in range(300)]
    kept = run("fifo", jobs)
    folded = DeviceScheduler(PROF, policy="fifo", retain=False)
    for j in jobs:
        folded.submit(j)
    folded.flush()
    assert folded.results == []
    for by in ("task", "truck"):
        assert folded.stats(by) == kept.stats(by)
    assert kept.stats()["cam"].dropped > 0 and kept.stats()["obstacle"].missed > 0
    both = combined_stats([folded, folded], "task")
    assert both["cam"].jobs == 2 * kept.stats()["cam"].jobs and both["cam"].p50_s == kept.stats()["cam"].p50_s
    with pytest.raises(ValueError, match="retain=False"):
        combined_stats([kept])


@pytest.mark.parametrize("policy,streams", [("fifo", 1), ("edf", 1), ("fifo", 2), ("edf", 3)])
def test_submit_all_settles_as_submit_then_flush(policy, streams) -> None:
    """A frame's jobs in one call (a truck's chip each frame) give the same starts, finishes, drops and figures
    as one submission at a time, over windows that each end with a settling pass."""
    rng = np.random.default_rng(11)
    jobs = [job("cam" if k % 3 else "obstacle", 0.01 * (k // 2), float(rng.uniform(0.002, 0.03)),
                0.01 * (k // 2) + float(rng.uniform(0.01, 0.05)), priority=k % 2,
                on_miss="drop" if k % 4 == 1 else "late") for k in range(400)]
    one, batched = DeviceScheduler(PROF, streams, policy), DeviceScheduler(PROF, streams, policy)
    for w in range(0, len(jobs), 7):
        window = jobs[w:w + 7]
        for j in window:
            one.submit(j)
        one.flush()
        batched.submit_all(window)
    fields = [(r.start_s, r.finish_s, r.stream, r.missed, r.dropped, r.queued_s) for r in one.results]
    assert fields == [(r.start_s, r.finish_s, r.stream, r.missed, r.dropped, r.queued_s) for r in batched.results]
    assert any(f[4] for f in fields) and any(f[3] and not f[4] for f in fields)  # drops and late runs both occur
    assert one.stats() == batched.stats()
    with pytest.raises(ValueError, match="nondecreasing"):
        batched.submit_all([job("cam", 0.0, 0.01, 1.0)])


def test_a_chip_of_one_truck_keeps_no_per_truck_tally() -> None:
    sched = DeviceScheduler(PROF, retain=False, by_truck=False)
    sched.submit_all([job("cam", 0.0, 0.01, 1.0), job("obstacle", 0.0, 0.02, 1.0)])
    assert sched.stats("task")["obstacle"].jobs == 1
    with pytest.raises(ValueError, match="by_truck"):
        sched.stats("truck")
