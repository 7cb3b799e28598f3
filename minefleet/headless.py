"""One headless run: build it, simulate the whole shift as fast as the host allows, write its run directory.

``minefleet run --headless`` and every run of ``minefleet sweep`` go through this one function, so a sweep's run
directory is the very one ``minefleet run`` would write for the same scenario and seed.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from fleet.trace import TraceRecorder
from minefleet.assemble import build_run
from minefleet.rundir import write_run
from minefleet.scenario import Scenario
from net.auth import SiteKey
from net.mqtt import MqttError
from net.sync import PEER_TIMEOUT_S, SyncError


class Terminated(BaseException):
    """SIGTERM, raised in the main thread by the command's handler; ends a run as Ctrl-C does."""


def run_headless(scn: Scenario, out: Path, *, quiet: bool = False, transport: str = "inproc",
                 broker: str | None = None, cloud_in_process: bool = True, prefix: str | None = None,
                 ca_certs: str | None = None, key: SiteKey | None = None,
                 peer_timeout_s: float = PEER_TIMEOUT_S) -> dict[str, Any]:
    """Run ``scn`` for its whole shift into the run directory ``out`` (written atomically); the host timings.

    A signal, or a messaging failure (the broker or the cloud gone for longer than the peer time-out), ends the
    shift early: the run directory is still written, marked interrupted, and the first failure is raised with
    ``partial`` set to ``out``. The wiring options are ``build_run``'s. A progress bar goes to stderr unless
    ``quiet`` (or stderr is no terminal).
    """
    started = time.perf_counter()
    run = build_run(scn, transport=transport, broker=broker, cloud_in_process=cloud_in_process, prefix=prefix,
                    ca_certs=ca_certs, key=key, peer_timeout_s=peer_timeout_s)
    built = time.perf_counter()
    trace = TraceRecorder(scn.trace_period_s)
    run.sim.observers.append(trace)
    until = scn.hours * 3600.0
    stopped: BaseException | None = None
    try:
        with tqdm(total=round(until), unit="sim-s", disable=quiet or None, file=sys.stderr, desc=scn.name,
                  leave=False) as bar:
            run.sim.run(until, progress=lambda t: bar.update(round(t) - bar.n))
    except (KeyboardInterrupt, Terminated, MqttError, SyncError) as exc:  # keep the shift so far, marked as such
        stopped = exc
        for sp in run.sim.points:
            sp.close(run.sim.t)
    try:
        run.close()
    except (MqttError, SyncError) as exc:  # the first failure is the one the user hears of
        stopped = stopped or exc
    ran = time.perf_counter()
    timing = {"host": platform.node(), "python": platform.python_version(),
              "setup_wall_s": round(built - started, 3), "run_wall_s": round(ran - built, 3),
              "sim_s": run.sim.t, "sim_speed_x": round(run.sim.t / max(ran - built, 1e-9), 1),
              **run.wiring.messaging_stats()}
    write_run(run, out, trace, timing, interrupted=stopped is not None and run.sim.t < until)
    if stopped is not None:
        stopped.partial = out  # type: ignore[attr-defined]  # the caller names it in its one line
        raise stopped
    return timing
