"""Scaling with perception on: wall time, speed and peak memory at 30 / 100 / 300 / 1000 trucks.

    python -m bench.scaling [--quick] [--trucks 30 100 300 1000] [--hours 1.0]

Each fleet size runs in a fresh process (so its peak RSS is its own, and nothing one size compiled or cached in
memory helps the next): the shift of ``bench.perception_speed`` (open pit with hazards, ``tiny`` at 10 Hz on every
truck, 5G link, cloud in process) resized to that many trucks. The child warms the kernels on a two-truck shift,
then times ``sim.run``; its peak RSS is the process's high-water mark (``ru_maxrss``) at the end, and the
resident memory just before and after the timed shift shows how much of it the shift itself added.
Targets: peak RSS < 2 GB at 1000 trucks; wall time from 100 trucks to the largest size grows no worse than
linearly (the ratio of walls at most the ratio of fleet sizes, 10x from 100 to 1000). A full run simulates
1 h per size; quick: 0.1 h at 30 / 100 / 300 trucks, where the memory target is not judged.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

from bench.perception_speed import scenarios
from bench.report import at_most, below, figure, print_figures
from minefleet.assemble import build_run, load_site

SIZES = (30, 100, 300, 1000)
QUICK_SIZES = (30, 100, 300)
HOURS = 1.0  # [h] simulated per size
QUICK_HOURS = 0.1
REFERENCE = 100  # [trucks] the size the growth is measured from
RSS_LIMIT_MB = 2048.0  # [MB] at RSS_AT trucks
RSS_AT = 1000
WARM_UP = (2, 30.0)  # (trucks, simulated s) run in the child before timing
# ru_maxrss is in KiB on Linux and in bytes on macOS.
RSS_UNIT_BYTES = 1 if sys.platform == "darwin" else 1024


def resident_mb() -> float | None:
    """This process's resident memory now [MB] (Linux); the peak alone hides what the shift itself adds."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return None


def child(trucks: int, hours: float) -> dict[str, Any]:
    """One size, in this process: the timed shift and the process's peak RSS."""
    scn, _ = scenarios(trucks, hours)
    site = load_site(str(scn.map_path), scn.classes())
    warm, _ = scenarios(WARM_UP[0], hours)
    r = build_run(warm, site)
    r.sim.run(WARM_UP[1])
    r.close()
    before = resident_mb()
    r = build_run(scn, site)
    started = time.perf_counter()
    r.sim.run(hours * 3600.0)
    wall = time.perf_counter() - started
    after = resident_mb()
    r.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * RSS_UNIT_BYTES / 2**20
    return {"trucks": trucks, "wall_s": wall, "x_real_time": hours * 3600.0 / wall, "peak_rss_mb": rss,
            "rss_before_mb": before, "rss_after_mb": after}


def measure(trucks: int, hours: float) -> dict[str, Any]:
    """One size in a fresh process; a failure in the child is raised with its last line."""
    done = subprocess.run([sys.executable, "-m", "bench.scaling", "--child", str(trucks), "--hours", str(hours)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"{trucks} trucks: the child exited {done.returncode}: {tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick: bool = False, sizes: tuple[int, ...] | None = None, hours: float | None = None) -> dict[str, Any]:
    sizes = tuple(sorted(sizes or (QUICK_SIZES if quick else SIZES)))
    hours = hours or (QUICK_HOURS if quick else HOURS)
    rows = [measure(n, hours) for n in sizes]
    by = {r["trucks"]: r for r in rows}
    figures = []
    for r in rows:
        rss_target = below(r["peak_rss_mb"], RSS_LIMIT_MB, " MB") if r["trucks"] == RSS_AT else None
        figures.append(figure(f"P7 {r['trucks']} trucks: x real time", r["x_real_time"], "x"))
        figures.append(figure(f"P7 {r['trucks']} trucks: peak RSS", r["peak_rss_mb"], "MB", target=rss_target))
    largest = sizes[-1]
    if REFERENCE in by and largest > REFERENCE:
        growth = by[largest]["wall_s"] / by[REFERENCE]["wall_s"]
        linear = largest / REFERENCE
        figures.append(figure(f"P7 wall {largest} / wall {REFERENCE} trucks", growth, "x", baseline=linear,
                              baseline_name="linear", target=at_most(growth, linear, "x")))
    return {"figures": figures, "rows": rows, "hours": hours, "model": "tiny", "frame_hz": 10.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_HOURS:g} h at {QUICK_SIZES}")
    parser.add_argument("--trucks", type=int, nargs="+", default=None, help=f"fleet sizes (default {SIZES})")
    parser.add_argument("--hours", type=float, default=None, help=f"simulated hours per size (default {HOURS:g})")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.hours)))
        return
    res = run(args.quick, tuple(args.trucks) if args.trucks else None, args.hours)
    print(f"minefleet scaling, perception on ({res['model']} at {res['frame_hz']:g} Hz), {res['hours']:g} h "
          "simulated per size, a fresh process per size")
    print(f"{'trucks':>6} {'wall s':>8} {'x real time':>12} {'peak RSS MB':>12} {'RSS before/after the shift MB':>30}")
    for r in res["rows"]:
        around = "-" if r["rss_before_mb"] is None else f"{r['rss_before_mb']:,.0f} / {r['rss_after_mb']:,.0f}"
        print(f"{r['trucks']:>6} {r['wall_s']:>8.1f} {r['x_real_time']:>11,.0f}x {r['peak_rss_mb']:>12,.0f} "
              f"{around:>30}")
    print_figures(res["figures"])


if __name__ == "__main__":
    main()
