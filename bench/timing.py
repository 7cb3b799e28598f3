"""Timing one minefleet shift the same way in every benchmark: only ``sim.run`` is timed (building the run, the
map's routes and the kernels' compilation are not), and the run is closed whatever happens."""

from __future__ import annotations

import time
from typing import Any

from minefleet.assemble import Run, build_run


def timed_shift(scn: Any, site: Any, hours: float) -> tuple[float, Run]:
    """Wall seconds of ``hours`` of simulation of ``scn`` on ``site``, and the run (closed) for its figures."""
    run = build_run(scn, site)
    try:
        started = time.perf_counter()
        run.sim.run(hours * 3600.0)
        wall = time.perf_counter() - started
    finally:
        run.close()
    return wall, run
