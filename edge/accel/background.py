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

from edge.accel.cost import model_cost
from edge.accel.profile import DeviceProfile, load_profile
from edge.accel.scheduler import Job

BACKGROUND_DIR = Path(__file__).resolve().parent.parent.parent / "assets" / "background"


@dataclass(frozen=True)
class BackgroundTask:
    """A periodic detector on the chip. `budget_s` is its relative deadline [s]; jobs are released at
    `phase_s + k / rate_hz`."""

    name: str
    model_path: Path
    rate_hz: float  # [Hz]
    budget_s: float  # [s]
    priority: int = 0
    timing_only: bool = True
    on_miss: str = "drop"
    phase_s: float = 0.0  # [s] offset of the first release after t0
    batch: int = 1

    def __post_init__(self) -> None:
        if self.rate_hz <= 0 or self.budget_s <= 0:
            raise ValueError(f"background task {self.name}: rate_hz and budget_s must be > 0")

    def latency_s(self, profile: DeviceProfile | str) -> float:
        """[s] emulated latency of one call on `profile`."""
        prof = load_profile(profile) if isinstance(profile, str) else profile
        return _latency(str(self.model_path), prof.name, str(prof.path), self.batch)


@lru_cache(maxsize=64)
def _latency(model_path: str, device: str, profile_path: str, batch: int) -> float:
    return model_cost(model_path, load_profile(profile_path), batch).latency_s


def periodic_jobs(task: BackgroundTask, truck: str, t0: float, t1: float,
                  profile: DeviceProfile | str) -> list[Job]:
    """The task's jobs for one truck with releases in [t0, t1) [s], in release order."""
    latency = task.latency_s(profile)
    period = 1.0 / task.rate_hz
    first = t0 + task.phase_s
    count = max(0, ceil((t1 - first) / period - 1e-9))
    return [Job(task=task.name, truck=truck, release_s=first + k * period, latency_s=latency,
                deadline_s=first + k * period + task.budget_s, priority=task.priority, on_miss=task.on_miss,
                batch=task.batch, timing_only=task.timing_only) for k in range(count)]


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
                                    budget_s=float(meta["budget_s"]), priority=int(meta.get("priority", 0))))
    return tasks
