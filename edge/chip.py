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

from edge.accel import BackgroundTask, DeviceProfile
from edge.accel.background import ReleaseClock
from edge.accel.frame import DONE, NEED_RELEASES, settle_frame
from edge.accel.scheduler import POLICIES, Tally, merged_stats

PERCEPTION_TASK = "perception"
PERCEPTION_PRIORITY = 1  # outranks a background job released at the same time
RELEASE_BLOCK = 256  # background releases drawn per clock at a time
SAMPLE_BLOCK = 4096  # latency samples per (class, task) buffered between folds into the tallies


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
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, got {self.policy!r}")
        if self.streams < 1:
            raise ValueError(f"streams must be >= 1, got {self.streams}")
        if self.on_miss not in ("drop", "late"):
            raise ValueError(f"on_miss must be 'drop' or 'late', got {self.on_miss!r}")
        self.latency_s = 0.0
        if self.model_path is not None:
            from edge.accel import model_cost  # onnx: loaded when a chip first has a model to cost

            self.latency_s = model_cost(self.model_path, self.profile).latency_s
        self._clocks = [self._class_clocks(c) for c in range(self.chips)]
        # The perception task is the last of the tasks, after the background ones in their given order.
        self._tasks = [task.name for task in self.background] + [PERCEPTION_TASK]
        self._latency = np.array([task.latency_s(self.profile) for task in self.background] + [self.latency_s])
        self._budget = np.array([task.budget_s for task in self.background] + [self.deadline_s])
        self._priority = np.array([task.priority for task in self.background] + [PERCEPTION_PRIORITY],
                                  dtype=np.int64)
        self._drop = np.array([task.on_miss == "drop" for task in self.background] + [self.on_miss == "drop"])
        n_bg, n_tasks = len(self.background), len(self._tasks)
        self._rel = np.zeros((self.chips, n_bg, 0))
        self._rel_pos = np.zeros((self.chips, n_bg), dtype=np.int64)
        self._free = np.zeros((self.chips, self.streams))
        self._busy = np.zeros(self.chips)
        self._jobs = np.zeros((self.chips, n_tasks), dtype=np.int64)
        self._missed = np.zeros_like(self._jobs)
        self._dropped = np.zeros_like(self._jobs)
        self._lat_buf = np.empty((self.chips, n_tasks, SAMPLE_BLOCK))
        self._queued_buf = np.empty_like(self._lat_buf)
        self._n_buf = np.zeros((self.chips, n_tasks), dtype=np.int64)
        self._tallies: list[dict[str, Tally]] = [{} for _ in range(self.chips)]  # per class: task -> settled
        self._finish = np.empty(self.chips)
        self._late = np.zeros(self.chips, dtype=bool)
        if n_bg:
            self._refill()

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

    def _refill(self, t: float = 0.0) -> None:
        """Keep each clock's releases not yet submitted and draw blocks behind those running low or not
        reaching ``t`` [s]; rows of unequal length end in NaN, which the kernel reads as "refill"."""
        rows = []
        for c, clocks in enumerate(self._clocks):
            for k, clock in enumerate(clocks):
                left = self._rel[c, k, self._rel_pos[c, k]:]
                left = left[~np.isnan(left)]
                while len(left) < RELEASE_BLOCK or left[-1] < t:
                    left = np.concatenate([left, clock.block(RELEASE_BLOCK)])
                rows.append(left)
        depth = max(len(row) for row in rows)
        rel = np.full((len(rows), depth), np.nan)
        for r, row in enumerate(rows):
            rel[r, :len(row)] = row
        self._rel = rel.reshape(self.chips, len(self.background), depth)
        self._rel_pos[:] = 0

    def _fold_samples(self) -> None:
        """Move the buffered settled jobs into the per-class tallies (in settling order)."""
        for c, tallies in enumerate(self._tallies):
            for k, name in enumerate(self._tasks):
                if not self._jobs[c, k]:
                    continue
                tally = tallies.get(name)
                if tally is None:
                    tally = tallies[name] = Tally()
                n = self._n_buf[c, k]
                tally.latency.extend(self._lat_buf[c, k, :n])
                tally.queued.extend(self._queued_buf[c, k, :n])
                tally.jobs += int(self._jobs[c, k])
                tally.missed += int(self._missed[c, k])
                tally.dropped += int(self._dropped[c, k])
        self._n_buf[:] = 0
        self._jobs[:] = 0
        self._missed[:] = 0
        self._dropped[:] = 0

    def frame(self, t: float) -> list[tuple[float | None, bool]]:
        """Run one frame's perception job released at ``t`` [s] on every class: per class (finish time or
        None if dropped, late)."""
        while True:
            code = settle_frame(t, self._rel, self._rel_pos, self._latency, self._budget, self._priority,
                                self._drop, self.deadline_s, self.policy == "edf", self._free, self._busy, self._jobs,
                                self._missed, self._dropped, self._lat_buf, self._queued_buf, self._n_buf,
                                self._finish, self._late)
            if code == DONE:
                break
            if code == NEED_RELEASES:
                self._refill(t)
            else:
                self._fold_samples()
        self._t_background = t
        return [(None if finish != finish else finish, late)
                for finish, late in zip(self._finish.tolist(), self._late.tolist(), strict=True)]

    def summary(self, trucks: int) -> dict:
        """Emulated figures over the group's chips (per truck: a truck's chip is one of the classes)."""
        by_task = {}
        self._fold_samples()
        for task, st in merged_stats(self._tallies).items():
            by_task[task] = {"jobs": st.jobs, "p50_ms": round(st.p50_s * 1e3, 3), "p99_ms": round(st.p99_s * 1e3, 3),
                             "queued_p99_ms": round(st.queued_p99_s * 1e3, 3), "missed": st.missed,
                             "dropped": st.dropped,
                             "timed_only": task != PERCEPTION_TASK}
        util = float(np.mean([busy / (self._t_background * self.streams) if self._t_background > 0 else 0.0
                              for busy in self._busy.tolist()]))
        return {"device": self.profile.name, "trucks": trucks, "emulated": True, "phase_classes": self.chips,
                "perception_cost_ms": round(self.latency_s * 1e3, 4), "tasks": by_task,
                "utilisation": round(util, 4)}

