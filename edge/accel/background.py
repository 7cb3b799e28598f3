"""Declared background load on a truck's chip: detectors that are timed from their graph, never executed.

Why: a mining truck's accelerator does not run the obstacle model alone; camera and LiDAR detectors of
published size share it. Their graphs (`assets/background/`) carry layer structure and weight shapes only,
so the cost model can time them and the scheduler can make them contend, while outputs can say which tasks
were timed-only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from math import ceil
from pathlib import Path

import numpy as np

from edge.accel.profile import DeviceProfile, load_profile
from edge.accel.scheduler import Job

BACKGROUND_DIR = Path(__file__).resolve().parent.parent.parent / "assets" / "background"


@dataclass(frozen=True)
class BackgroundTask:
    """A periodic detector on the chip. `budget_s` is its relative deadline [s].

    Its sensor runs on its own clock, not the range sensor's: frames are due at `phase_s + k * period`, with
    the period stretched by the clock's rate error `drift_ppm`, and each reaches the chip up to `jitter_s`
    late (exposure, transfer, pre-processing). Unsynchronised clocks make the relative phase of the two
    sensors sweep during a shift, so contention is sampled over every phase rather than fixed by one draw.
    """

    name: str
    model_path: Path
    rate_hz: float  # [Hz]
    budget_s: float  # [s]
    priority: int = 0
    timing_only: bool = True
    on_miss: str = "drop"
    phase_s: float = 0.0  # [s] time of the first frame
    batch: int = 1
    drift_ppm: float = 0.0  # [ppm] this run's rate error of the sensor clock against simulation time
    jitter_s: float = 0.0  # [s] each frame reaches the chip U(0, jitter_s) after it is due
    clock_ppm: float = 0.0  # [ppm] bound of |drift_ppm| (card), from which a run draws its drift

    def __post_init__(self) -> None:
        if self.rate_hz <= 0 or self.budget_s <= 0:
            raise ValueError(f"background task {self.name}: rate_hz and budget_s must be > 0")
        if not 0.0 <= self.jitter_s < self.period_s:
            raise ValueError(f"background task {self.name}: jitter_s must be >= 0 and below the frame period")

    @property
    def period_s(self) -> float:
        """[s] time between frames on the sensor's own clock, seen in simulation time."""
        return 1.0 / (self.rate_hz * (1.0 + self.drift_ppm * 1e-6))

    def latency_s(self, profile: DeviceProfile | str) -> float:
        """[s] emulated latency of one call on `profile`."""
        prof = load_profile(profile) if isinstance(profile, str) else profile
        return _latency(str(self.model_path), prof.name, str(prof.path), self.batch)


@lru_cache(maxsize=64)
def _latency(model_path: str, device: str, profile_path: str, batch: int) -> float:
    from edge.accel.cost import model_cost  # onnx: loaded when a background detector is first costed

    return model_cost(model_path, load_profile(profile_path), batch).latency_s


def background_job(task: BackgroundTask, truck: str, release_s: float, cost: DeviceProfile | str | float) -> Job:
    """One frame of the task, released at `release_s` [s], with its deadline a budget later. `cost`: the
    device (profile or name) to time it on, or its latency [s] there when the caller has it already."""
    latency = cost if isinstance(cost, float) else task.latency_s(cost)
    return Job(task=task.name, truck=truck, release_s=release_s, latency_s=latency,
               deadline_s=release_s + task.budget_s, priority=task.priority, on_miss=task.on_miss,
               batch=task.batch, timing_only=task.timing_only)


def periodic_jobs(task: BackgroundTask, truck: str, t0: float, t1: float,
                  profile: DeviceProfile | str) -> list[Job]:
    """The task's jobs for one truck due in [t0, t1) [s] on its clock (no jitter), in release order."""
    period = task.period_s
    k0 = max(0, ceil((t0 - task.phase_s) / period - 1e-9))
    k1 = max(k0, ceil((t1 - task.phase_s) / period - 1e-9))
    return [background_job(task, truck, task.phase_s + k * period, profile) for k in range(k0, k1)]


class ReleaseClock:
    """The release times of one background task's frames, in order, jitter drawn from its own generator.

    Stateful so that consecutive windows of a run see one continuous sequence: a frame due before a window's
    end but delayed past it by jitter is released in the next window, never lost or duplicated.
    """

    def __init__(self, task: BackgroundTask, rng: np.random.Generator) -> None:
        self.task = task
        self.rng = rng
        self.k = 0
        self._next = self._release(0)

    def _release(self, k: int) -> float:
        due = self.task.phase_s + k * self.task.period_s
        return due + float(self.rng.uniform(0.0, self.task.jitter_s)) if self.task.jitter_s > 0 else due

    def until(self, t1: float) -> list[float]:
        """Releases [s] before `t1` not returned yet (jitter < period keeps them in order)."""
        out = []
        while self._next < t1:
            out.append(self._next)
            self.k += 1
            self._next = self._release(self.k)
        return out

    def block(self, n: int) -> np.ndarray:
        """The next ``n`` releases [s] as one array: the values ``until`` would return, in order, at the cost of
        one vectorised draw (a compiled caller walks them itself)."""
        if n < 1:
            raise ValueError(f"block size must be >= 1, got {n}")
        k = np.arange(self.k + 1, self.k + n)
        later = self.task.phase_s + k * self.task.period_s
        if self.task.jitter_s > 0:
            later = later + self.rng.uniform(0.0, self.task.jitter_s, n - 1)
        out = np.concatenate([[self._next], later])
        self.k += n
        self._next = self._release(self.k)
        return out


def card(model_path: Path) -> dict[str, object]:
    """The JSON card beside a background graph (source of its structure, expected size, timing-only)."""
    path = model_path.with_suffix(".card.json")
    return json.loads(path.read_text(encoding="utf-8"))


def shipped_tasks(directory: Path = BACKGROUND_DIR) -> list[BackgroundTask]:
    """One task per shipped background graph, at the rate and budget its card declares.

    ``directory``: where the graphs are (an installed package keeps its assets elsewhere than a source tree).
    """
    tasks = []
    for path in sorted(Path(directory).glob("*.onnx")):
        meta = card(path)
        tasks.append(BackgroundTask(name=str(meta["name"]), model_path=path, rate_hz=float(meta["rate_hz"]),
                                    budget_s=float(meta["budget_s"]), priority=int(meta.get("priority", 0)),
                                    jitter_s=float(meta.get("jitter_ms", 0.0)) / 1e3,
                                    clock_ppm=float(meta.get("clock_ppm", 0.0))))
    return tasks
