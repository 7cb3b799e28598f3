"""Executors: a sweep's runs on this machine's cores (``local``) or on a Ray cluster (``ray``).

Every run goes through ``minefleet.headless.run_headless``, the function ``minefleet run --headless`` uses, into its
own run directory, written whole or not at all. A run that fails is one line of error handed back; it never stops
the others.

``local`` runs a process pool of fresh (spawned) interpreters: a forked copy of a parent that holds threads (a
progress bar's, a test runner's) can deadlock. ``ray`` ships each run's scenario to a Ray worker, which runs it in a
folder of its own and sends the run directory's files back to be put in place here, so the output folder need not
be shared with the cluster. The scenario's map file, and any truck class or model given by path, must be readable
at the same paths on the cluster's nodes (shipped names resolve in each node's own install).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from edge.contract import ModelError
from fleet.errors import InputError
from minefleet.headless import run_headless
from minefleet.rundir import swap_into_place
from minefleet.scenario import Scenario

EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class Job:
    """One run to make: its run directory's name under the sweep's ``runs/``, and its checked scenario."""

    name: str
    scenario: Scenario

    @property
    def truck_hours(self) -> float:
        """What the run costs, about: its trucks times its simulated hours."""
        return self.scenario.truck_count * self.scenario.hours


# Called in this process as each run ends, in the order they end: the job and its one-line error (None: done).
Done = Callable[[Job, str | None], None]


def default_workers() -> int:
    """Every core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def execute(jobs: Sequence[Job], runs_dir: Path, done: Done, *, executor: str = "local", workers: int | None = None,
            address: str | None = None) -> None:
    """Run ``jobs`` into ``runs_dir`` on ``workers`` processes (default: every core), calling ``done`` as each
    ends. ``address`` is Ray's (``auto``, ``ray://host:port``; default: start a local Ray); ``ray`` only."""
    if executor not in EXECUTORS:
        raise InputError("--executor", "", f"unknown executor {executor!r} (known: {', '.join(EXECUTORS)})")
    if workers is not None and workers < 1:
        raise InputError("--workers", "", f"must be >= 1, got {workers}")
    if address is not None and executor != "ray":
        raise InputError("--address", "", "needs --executor ray")
    if not jobs:
        return
    # The longest runs start first, so that the last to finish are short ones and the workers end together; the
    # executor decides where and when a run happens, never what it computes.
    jobs = sorted(jobs, key=lambda job: -job.truck_hours)
    if executor == "ray":
        _ray(jobs, runs_dir, done, workers, address)
    else:
        _local(jobs, runs_dir, done, workers or default_workers())


def _run_job(job: Job, runs_dir: Path) -> str | None:
    """In a worker: make one run; its error as one line, or None."""
    try:
        run_headless(job.scenario, runs_dir / job.name, quiet=True)
    except Exception as exc:
        return _one_line(exc)
    return None


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return text if isinstance(exc, InputError | ModelError) else f"{type(exc).__name__}: {text}".rstrip(": ")


def _local(jobs: Sequence[Job], runs_dir: Path, done: Done, workers: int) -> None:
    pool = ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = {pool.submit(_run_job, job, runs_dir): job for job in jobs}
        for future in as_completed(futures):
            try:
                error = future.result()
            except Exception as exc:  # the worker process itself died (killed, out of memory)
                error = _one_line(exc)
            done(futures[future], error)
    finally:  # on an interrupt too: runs not started yet are dropped, and a re-run makes them
        pool.shutdown(wait=True, cancel_futures=True)


def _ray(jobs: Sequence[Job], runs_dir: Path, done: Done, workers: int | None, address: str | None) -> None:
    try:
        import ray
    except ImportError:
        raise InputError("--executor ray", "", "Ray is not installed: pip install 'minefleet[cluster]'") from None
    started = not ray.is_initialized()
    if started:
        local = {} if address else {"num_cpus": workers or default_workers(), "include_dashboard": False}
        ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING, **local)
    try:
        remote = ray.remote(num_cpus=1)(_run_shipped)
        waiting = list(jobs)
        limit = workers or len(jobs)  # in flight at once; on a local Ray its num_cpus limits them already
        pending: dict[object, Job] = {}
        while waiting or pending:
            while waiting and len(pending) < limit:
                job = waiting.pop(0)
                pending[remote.remote(job)] = job
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                job = pending.pop(ref)
                try:
                    error, files = ray.get(ref)
                except Exception as exc:  # the task or its worker died
                    error, files = _one_line(exc), None
                if files is not None:
                    _place(files, runs_dir / job.name)
                done(job, error)
    finally:
        if started:
            ray.shutdown()


def _run_shipped(job: Job) -> tuple[str | None, dict[str, bytes] | None]:
    """On a Ray worker: make one run in a folder of its own; its error, or its run directory's files."""
    tmp = Path(tempfile.mkdtemp(prefix="minefleet-run-"))
    try:
        error = _run_job(job, tmp)
        if error is not None:
            return error, None
        return None, {p.name: p.read_bytes() for p in (tmp / job.name).iterdir()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _place(files: dict[str, bytes], out: Path) -> None:
    """A run directory sent back by a worker, put in place whole as ``write_run`` puts its own."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
