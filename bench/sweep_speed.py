"""A 16-run sweep on all cores against the same sweep on one: the local executor's speed-up.

    python -m bench.sweep_speed [--workers 2] [--hours 4]

The sweep: the open pit at 20 and 30 trucks x ``min_wait`` and ``lp_flow`` x 4 seeds, ``--hours`` each, written to
a temporary folder twice, once with one worker process and once with ``--workers``. Printed: both wall times, the
ratio (the target on a 2-core machine is >= 1.8x), and whether the two ``results.csv`` are byte-identical (they must
be: the executor decides where a run happens, never what it computes). ``run(quick=True)``: 0.5 h per run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import Target, at_least, figure
from minefleet.sweep import run_sweep

TARGET = 1.8
HOURS, QUICK_HOURS = 4.0, 0.5  # [h] per run of the sweep
SWEEP = """[sweep]
scenario = "open_pit"
seeds = 4
hours = {hours}

[grid]
"fleet.count" = [20, 30]
"cloud.planner" = ["min_wait", "lp_flow"]
"""


def timed(sweep: Path, out: Path, workers: int) -> float:
    started = time.perf_counter()
    status = run_sweep(sweep, out, workers=workers, quiet=True)
    if status != 0:
        raise SystemExit(f"the sweep failed with status {status} ({out})")
    return time.perf_counter() - started


def run(quick: bool = False, workers: int | None = None, hours: float | None = None) -> dict[str, Any]:
    """The sweep on one worker and on ``workers``; the speed-up beside the serial time, and whether the results
    are identical."""
    workers = workers or os.cpu_count() or 2
    hours = hours or (QUICK_HOURS if quick else HOURS)
    with tempfile.TemporaryDirectory(prefix="minefleet-sweep-bench-") as tmp:
        root = Path(tmp)
        sweep = root / "sweep.toml"
        sweep.write_text(SWEEP.format(hours=hours), encoding="utf-8")
        serial = timed(sweep, root / "serial", 1)
        parallel = timed(sweep, root / "parallel", workers)
        same = (root / "serial" / "results.csv").read_bytes() == (root / "parallel" / "results.csv").read_bytes()
    speedup = serial / parallel
    figures = [
        figure(f"16-run sweep on {workers} workers", parallel, "s", baseline=serial, baseline_name="1 worker",
               ratio=speedup, target=at_least(speedup, TARGET, "x")),
        figure("results.csv identical", float(same), "bool", target=Target("true", same)),
    ]
    return {"figures": figures, "hours": hours, "workers": workers, "serial_s": serial, "parallel_s": parallel,
            "speedup": speedup, "identical": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--hours", type=float, default=HOURS)
    args = parser.parse_args()
    res = run(False, args.workers, args.hours)
    print(f"minefleet sweep, 16 runs of {args.hours:g} h (open pit, 2 fleet sizes x 2 planners x 4 seeds)")
    print(f"1 worker {res['serial_s']:7.1f} s   {args.workers} workers {res['parallel_s']:7.1f} s   speed-up "
          f"{res['speedup']:.2f}x (target >= {TARGET}x: {'met' if res['speedup'] >= TARGET else 'MISSED'})   "
          f"results.csv identical: {'yes' if res['identical'] else 'NO'}")


if __name__ == "__main__":
    main()
