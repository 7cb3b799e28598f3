"""One emulated chip timeline per group of trucks that share a configuration.

Every truck carries its own chip. Trucks with the same device, perception model, background tasks and
scheduling run identical timelines (frames are taken for the whole fleet at the same instants), so one
``DeviceScheduler`` per group stands for all of them: the cost is per group, not per truck.

Each frame: the background detectors' jobs released since the last frame are submitted, then the perception
job; the scheduler settles them (decisions at frame boundaries, non-preemptive). The perception result is
released at the job's emulated finish, late results are marked, dropped ones never arrive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from edge.accel import BackgroundTask, DeviceProfile, DeviceScheduler, Job, model_cost, periodic_jobs
from edge.accel.scheduler import summarise

PERCEPTION_TASK = "perception"


@dataclass
class ChipTimeline:
    profile: DeviceProfile
    model_path: Path | None  # None: a built-in perception (oracle, blind) that costs nothing on the chip
    background: list[BackgroundTask]
    deadline_s: float  # [s] relative deadline of a perception job
    on_miss: str = "late"
    policy: str = "fifo"
    streams: int = 1
    scheduler: DeviceScheduler = field(init=False)
    latency_s: float = field(init=False)  # [s] emulated cost of one perception call, batch 1
    _t_background: float = 0.0

    def __post_init__(self) -> None:
        self.scheduler = DeviceScheduler(self.profile, streams=self.streams, policy=self.policy)
        self.latency_s = model_cost(self.model_path, self.profile).latency_s if self.model_path else 0.0

    def frame(self, t: float) -> tuple[float | None, bool]:
        """Run one frame's perception job released at ``t`` [s]: (finish time or None if dropped, late)."""
        jobs = [j for task in self.background for j in periodic_jobs(task, "chip", self._t_background, t,
                                                                        self.profile)]
        self._t_background = t
        for job in sorted(jobs, key=lambda j: j.release_s):
            self.scheduler.submit(job)
        res = self.scheduler.submit(Job(task=PERCEPTION_TASK, truck="chip", release_s=t, latency_s=self.latency_s,
                                        deadline_s=t + self.deadline_s, priority=1, on_miss=self.on_miss))
        self.scheduler.flush()
        return (None if res.dropped else res.finish_s), res.missed

    def summary(self, trucks: int) -> dict:
        """Emulated figures of this timeline (per truck: every truck of the group ran the same)."""
        by_task = {}
        for task, st in self.scheduler.stats("task").items():
            by_task[task] = {"jobs": st.jobs, "p50_ms": round(st.p50_s * 1e3, 3), "p99_ms": round(st.p99_s * 1e3, 3),
                             "queued_p99_ms": round(st.queued_p99_s * 1e3, 3), "missed": st.missed,
                             "dropped": st.dropped,
                             "timed_only": task != PERCEPTION_TASK}
        return {"device": self.profile.name, "trucks": trucks, "emulated": True,
                "perception_cost_ms": round(self.latency_s * 1e3, 4), "tasks": by_task,
                "utilisation": round(self.scheduler.utilisation(self._t_background), 4)}


def perception_stats(timeline: ChipTimeline) -> tuple[float, float]:
    """(p50, p99) [s] emulated release-to-result latency of the perception jobs that completed."""
    st = summarise([r for r in timeline.scheduler.results if r.job.task == PERCEPTION_TASK and r.settled])
    return st.p50_s, st.p99_s
