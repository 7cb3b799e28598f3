"""Share one emulated device between inference jobs, in simulation time (deterministic, no threads).

Why: a truck's chip runs its perception model beside declared background detectors, so a frame's emulated
latency is its own kernel time plus the time it waits for the chip. The scheduler is non-preemptive list
scheduling over `streams` execution queues: whenever a stream is free, the waiting job chosen by the policy
(FIFO: release, then submission; EDF: earliest deadline) starts. A job predicted to miss its deadline at the
moment it would start follows its `on_miss`: "drop" (never runs, the frame is skipped) or "late" (runs and is
delivered stale). Each stream runs a job at its full emulated latency (streams stand for independent
execution queues of the device, e.g. AI Core groups or the two chips of a dual-chip card).

Jobs arrive in nondecreasing release order; several may share a release time. A job's result is settled once
no later submission could change it: when a job with a later release is submitted, or on `flush()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edge.accel.profile import DeviceProfile
from metrics.quantiles import Quantiles

POLICIES = ("fifo", "edf")


@dataclass(frozen=True)
class Job:
    """One inference call. Times are simulation seconds; `deadline_s` is absolute.

    A batched call over several trucks' frames (a shared edge server) is one job with `batch` > 1 and the
    trucks it serves in `members`; its latency is the model's cost at that batch.
    """

    task: str
    truck: str
    release_s: float  # [s]
    latency_s: float  # [s] emulated, from the cost model
    deadline_s: float  # [s]
    priority: int = 0  # higher wins a tie
    on_miss: str = "drop"  # "drop" | "late"
    batch: int = 1
    members: tuple[str, ...] = ()
    timing_only: bool = False  # a background job whose model is timed but never executed

    def __post_init__(self) -> None:
        if self.on_miss not in ("drop", "late"):
            raise ValueError(f"job {self.task}/{self.truck}: on_miss must be 'drop' or 'late', got {self.on_miss!r}")
        if self.latency_s < 0 or self.batch < 1:
            raise ValueError(f"job {self.task}/{self.truck}: latency must be >= 0 and batch >= 1")

    @property
    def trucks(self) -> tuple[str, ...]:
        return self.members or (self.truck,)


@dataclass
class JobResult:
    """What became of a job. Until `settled`, start and finish are None."""

    job: Job
    start_s: float | None = None  # [s]
    finish_s: float | None = None  # [s]
    queued_s: float = 0.0  # [s] waiting for a stream (0 for a dropped job: it never queued to run)
    missed: bool = False
    dropped: bool = False
    stream: int | None = None
    settled: bool = False

    @property
    def latency_s(self) -> float | None:
        """[s] release to delivery (emulated), None when dropped or not yet settled."""
        return None if self.finish_s is None else self.finish_s - self.job.release_s


@dataclass(frozen=True)
class Stats:
    """Latency and deadline figures of a set of jobs (all emulated)."""

    jobs: int
    completed: int
    p50_s: float
    p99_s: float
    queued_mean_s: float
    queued_p99_s: float
    missed: int
    dropped: int


@dataclass
class Tally:
    """Settled jobs of one task or truck, folded into the figures `Stats` needs (no per-job objects kept).
    Settled elsewhere (a compiled frame, `edge.accel.frame`), jobs are counted into the fields directly."""

    jobs: int = 0
    missed: int = 0
    dropped: int = 0
    # [s] of completed jobs, in bounded distributions: a whole shift of frames costs the same memory as an hour
    latency: Quantiles = field(default_factory=Quantiles)
    queued: Quantiles = field(default_factory=Quantiles)

    def add(self, res: JobResult) -> None:
        self.jobs += 1
        self.missed += res.missed
        self.dropped += res.dropped
        if res.finish_s is not None:
            self.latency.add(res.finish_s - res.job.release_s)
            self.queued.add(res.queued_s)


@dataclass
class DeviceScheduler:
    """Non-preemptive FIFO / EDF scheduler of one device with `streams` execution queues.

    With `retain=False` (a whole shift of frames) settled jobs are folded into per-task and per-truck tallies
    instead of being kept in `results`, so memory grows by a float per job, not by a job object. A device whose
    jobs all serve one truck (a truck's own chip) sets `by_truck=False`: its per-truck tally would repeat the
    per-task ones at twice the cost.
    """

    profile: DeviceProfile
    streams: int = 1
    policy: str = "fifo"
    results: list[JobResult] = field(default_factory=list)
    retain: bool = True
    by_truck: bool = True

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, got {self.policy!r}")
        if self.streams < 1:
            raise ValueError(f"streams must be >= 1, got {self.streams}")
        self._free = [0.0] * self.streams  # [s] when each stream is next idle
        self._pending: list[tuple[int, JobResult]] = []
        self._horizon = float("-inf")  # latest release submitted
        self._seq = 0
        self.busy_s = 0.0  # [s] total stream time spent running jobs
        self._tallies: dict[str, dict[str, Tally]] = {"task": {}, "truck": {}}

    def submit(self, job: Job) -> JobResult:
        """Queue a job; returns its result handle (settled now if nothing later could change it)."""
        if job.release_s < self._horizon:
            raise ValueError(f"job {job.task}/{job.truck} released at {job.release_s} s after one at "
                             f"{self._horizon} s: submit in nondecreasing release order")
        if job.release_s > self._horizon:
            self._horizon = job.release_s
            if self._pending:
                self._dispatch(final=False)
        result = JobResult(job)
        self._pending.append((self._seq, result))
        self._seq += 1
        if self.retain:
            self.results.append(result)
        return result

    def flush(self) -> list[JobResult]:
        """Settle every queued job (no more submissions at the current release time)."""
        self._dispatch(final=True)
        return self.results

    def submit_all(self, jobs: list[Job]) -> list[JobResult]:
        """Submit ``jobs`` (in nondecreasing release order), then settle everything (``flush``)."""
        out = [self.submit(job) for job in jobs]
        self.flush()
        return out

    def _key(self, item: tuple[int, JobResult]) -> tuple[float, ...]:
        seq, res = item
        if self.policy == "edf":
            return (res.job.deadline_s, -res.job.priority, seq)
        return (res.job.release_s, -res.job.priority, seq)

    def _dispatch(self, final: bool) -> None:
        """Start queued jobs while the choice at the next start time can no longer change."""
        pending, free = self._pending, self._free
        while pending:
            stream = 0 if self.streams == 1 else min(range(self.streams), key=lambda s: (free[s], s))
            earliest = min(r.job.release_s for _, r in pending) if len(pending) > 1 else pending[0][1].job.release_s
            start = max(free[stream], earliest)
            if not final and start >= self._horizon:
                return  # jobs released at `start` may still arrive and outrank the waiting ones
            if len(pending) == 1:
                chosen = pending.pop()
            else:
                chosen = min((item for item in pending if item[1].job.release_s <= start), key=self._key)
                pending.remove(chosen)
            res, job = chosen[1], chosen[1].job
            finish = start + job.latency_s
            res.settled = True
            res.missed = finish > job.deadline_s
            if res.missed and job.on_miss == "drop":
                res.dropped = True
            else:
                res.start_s, res.finish_s, res.stream = start, finish, stream
                res.queued_s = start - job.release_s
                free[stream] = finish
                self.busy_s += job.latency_s
            if not self.retain:
                self._fold(res)

    def _fold(self, res: JobResult) -> None:
        job = res.job
        self._tally("task", job.task).add(res)
        if self.by_truck:
            for key in job.trucks:
                self._tally("truck", key).add(res)

    def _tally(self, by: str, key: str) -> Tally:
        tallies = self._tallies[by]
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = Tally()
        return tally

    def utilisation(self, t_end: float) -> float:
        """Share of stream time busy up to `t_end` [s] (emulated)."""
        return self.busy_s / (t_end * self.streams) if t_end > 0 else 0.0

    def energy_j(self) -> float:
        """[J] busy time x the profile's power: an emulated upper estimate."""
        return self.busy_s * self.profile.power_w

    def stats(self, by: str = "task") -> dict[str, Stats]:
        """Per-task (`by="task"`) or per-truck (`by="truck"`) figures over settled jobs."""
        if by not in ("task", "truck"):
            raise ValueError(f"by must be 'task' or 'truck', got {by!r}")
        if not self.retain:
            if by == "truck" and not self.by_truck:
                raise ValueError("this scheduler keeps no per-truck figures (by_truck=False)")
            return {key: _stats(t) for key, t in sorted(self._tallies[by].items())}
        groups: dict[str, list[JobResult]] = {}
        for res in self.results:
            if res.settled:
                for key in ([res.job.task] if by == "task" else list(res.job.trucks)):
                    groups.setdefault(key, []).append(res)
        return {key: summarise(items) for key, items in sorted(groups.items())}


def summarise(results: list[JobResult]) -> Stats:
    """Stats of a list of settled results (percentiles by linear interpolation; 0 when none completed)."""
    tally = Tally()
    for r in results:
        tally.add(r)
    return _stats(tally)


def combined_stats(schedulers: list[DeviceScheduler], by: str = "task") -> dict[str, Stats]:
    """Figures over several devices doing the same kind of work (e.g. one chip per truck), from their tallies.

    Only schedulers built with `retain=False` keep tallies."""
    if any(sched.retain for sched in schedulers):
        raise ValueError("combined_stats needs schedulers built with retain=False")
    return merged_stats([sched._tallies[by] for sched in schedulers])


def merged_stats(tallies: list[dict[str, Tally]]) -> dict[str, Stats]:
    """Figures per key over several devices' tallies (key -> `Tally`), merged in the order given."""
    groups: dict[str, Tally] = {}
    for device in tallies:
        for key, t in device.items():
            g = groups.setdefault(key, Tally())
            g.jobs, g.missed, g.dropped = g.jobs + t.jobs, g.missed + t.missed, g.dropped + t.dropped
            g.latency.merge(t.latency)
            g.queued.merge(t.queued)
    return {key: _stats(t) for key, t in sorted(groups.items())}


def _stats(t: Tally) -> Stats:
    def pct(a: Quantiles, q: float) -> float:
        return a.percentile(q) if a.count else 0.0

    return Stats(jobs=t.jobs, completed=t.latency.count, p50_s=pct(t.latency, 50), p99_s=pct(t.latency, 99),
                 queued_mean_s=t.queued.mean(), queued_p99_s=pct(t.queued, 99), missed=t.missed, dropped=t.dropped)
