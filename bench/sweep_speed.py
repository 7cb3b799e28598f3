"""A 16-run sweep on all cores against the same sweep on one: the local executor's speed-up.

    python -m bench.sweep_speed [--workers 2] [--hours 4]

The sweep: the open pit at 20 and 30 trucks x ``min_wait`` and ``lp_flow`` x 4 seeds, ``--hours`` each, written to
a temporary folder twice, once with one worker process and once with ``--workers``. Printed: both wall times, the
ratio (the target on a 2-core machine is >= 1.8x), and whether the two ``results.csv`` are byte-identical (they must
be: the executor decides where a run happens, never what it computes).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from minefleet.sweep import run_sweep

TARGET = 1.8
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--hours", type=float, default=4.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="minefleet-sweep-bench-") as tmp:
        root = Path(tmp)
        sweep = root / "sweep.toml"
        sweep.write_text(SWEEP.format(hours=args.hours), encoding="utf-8")
        serial = timed(sweep, root / "serial", 1)
        parallel = timed(sweep, root / "parallel", args.workers)
        same = (root / "serial" / "results.csv").read_bytes() == (root / "parallel" / "results.csv").read_bytes()
    ratio = serial / parallel
    print(f"minefleet sweep, 16 runs of {args.hours:g} h (open pit, 2 fleet sizes x 2 planners x 4 seeds)")
    print(f"1 worker {serial:7.1f} s   {args.workers} workers {parallel:7.1f} s   speed-up {ratio:.2f}x "
          f"(target >= {TARGET}x: {'met' if ratio >= TARGET else 'MISSED'})   results.csv identical: "
          f"{'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
