"""The emulated chips of a group of trucks that share a configuration, in a few phase classes.

Every truck carries its own chip. Trucks with the same device, perception model, background tasks and
scheduling differ only in how their camera and LiDAR frames fall against their range-sensor frames (the
sensors are not synchronised). So a group is emulated as ``chips`` timelines ("phase classes"), each with
its own background phases spread evenly over the frame period and its own clock drift; truck i rides class
``i % chips``. A handful of classes covers the phases a fleet has, at a fixed cost per group, not per truck.

Each frame, per class: the background detectors' jobs released since the last frame are submitted (each
detector on its own drifting, jittered sensor clock), then the perception job; the scheduler settles them
(decisions at frame boundaries, non-preemptive). The perception result is released at the job's emulated
finish, late results are marked, dropped ones never arrive.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from edge.accel import BackgroundTask, DeviceProfile, DeviceScheduler, Job
from edge.accel.background import ReleaseClock, background_job
from edge.accel.scheduler import combined_stats

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
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))  # drift and jitter
    chips: int = 1  # phase classes
    latency_s: float = field(init=False)  # [s] emulated cost of one perception call, batch 1
    _t_background: float = 0.0

    def __post_init__(self) -> None:
        if self.chips < 1:
            raise ValueError(f"chips must be >= 1, got {self.chips}")
        self.latency_s = 0.0
        if self.model_path is not None:
            from edge.accel import model_cost  # onnx: loaded when a chip first has a model to cost

            self.latency_s = model_cost(self.model_path, self.profile).latency_s
        self.schedulers = [DeviceScheduler(self.profile, streams=self.streams, policy=self.policy, retain=False,
                                           by_truck=False)
                           for _ in range(self.chips)]
        self._clocks = [self._class_clocks(c) for c in range(self.chips)]
        self._bg_latency = {task.name: task.latency_s(self.profile) for task in self.background}  # [s] per call

    def _class_clocks(self, c: int) -> list[ReleaseClock]:
        """Class ``c``'s sensors: the task's seeded phase moved into the c-th of ``chips`` equal slices of the
        period (stratified, so the classes together cover every phase), a drift of their own."""
        clocks = []
        for task in self.background:
            period = 1.0 / task.rate_hz
            frac = (task.phase_s / period) % 1.0
            drift = float(self.rng.uniform(-task.clock_ppm, task.clock_ppm)) if c else task.drift_ppm
            mine = replace(task, phase_s=period * (c + frac) / self.chips, drift_ppm=drift)
            clocks.append(ReleaseClock(mine, self.rng.spawn(1)[0]))
        return clocks

    def frame(self, t: float) -> list[tuple[float | None, bool]]:
        """Run one frame's perception job released at ``t`` [s] on every class: per class (finish time or
        None if dropped, late)."""
        out = []
        for sched, clocks in zip(self.schedulers, self._clocks, strict=True):
            jobs = [background_job(c.task, "chip", r, self._bg_latency[c.task.name])
                    for c in clocks for r in c.until(t)]
            jobs.sort(key=lambda j: j.release_s)
            jobs.append(Job(task=PERCEPTION_TASK, truck="chip", release_s=t, latency_s=self.latency_s,
                            deadline_s=t + self.deadline_s, priority=1, on_miss=self.on_miss))
            res = sched.submit_all(jobs)[-1]
            out.append(((None if res.dropped else res.finish_s), res.missed))
        self._t_background = t
        return out

    def summary(self, trucks: int) -> dict:
        """Emulated figures over the group's chips (per truck: a truck's chip is one of the classes)."""
        by_task = {}
        for task, st in combined_stats(self.schedulers, "task").items():
            by_task[task] = {"jobs": st.jobs, "p50_ms": round(st.p50_s * 1e3, 3), "p99_ms": round(st.p99_s * 1e3, 3),
                             "queued_p99_ms": round(st.queued_p99_s * 1e3, 3), "missed": st.missed,
                             "dropped": st.dropped,
                             "timed_only": task != PERCEPTION_TASK}
        util = float(np.mean([s.utilisation(self._t_background) for s in self.schedulers]))
        return {"device": self.profile.name, "trucks": trucks, "emulated": True, "phase_classes": self.chips,
                "perception_cost_ms": round(self.latency_s * 1e3, 4), "tasks": by_task,
                "utilisation": round(util, 4)}

