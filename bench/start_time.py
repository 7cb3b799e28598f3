"""Start-up time: from launching ``minefleet run tutorial --headless --hours 0.01`` to its first simulated tick.

    python -m bench.start_time [--quick] [--repeats 5]

Every figure is the best of ``--repeats`` fresh processes, each timed by this process from just before it is
launched: on a busy host other work only ever adds to a start-up, so the fastest of a few is the closest to
what the program itself costs (the medians are kept in the JSON too). Measured in the same run, interleaved:
  floor         the interpreter alone, to its first statement: what no program can beat;
  import        to the end of ``import minefleet.cli``: what importing the command costs;
  first tick    the command line run through a small wrapper that marks the end of the engine's first
                ``Simulation.step`` (the engine itself is unchanged; the wrapper wraps the method before the CLI
                runs);
  whole run     the plain ``minefleet`` console script, to the end of its run directory and its exit.
The first three end at a mark the child prints, ``time.perf_counter()``, a system-wide monotonic clock, so the
child's mark and this process's launch time are on one clock and the interpreter's shutdown is left out.
Target: first tick <= 1.0 s. Then ``python -X importtime`` of the CLI: the ten imports with the largest
cumulative time (first-party and third-party), which is where start-up time goes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import at_most, figure, print_figures

TARGET_S = 1.0  # [s] launch to first simulated tick
REPEATS = 5
QUICK_REPEATS = 3
TOP_IMPORTS = 10
COMMAND = ["run", "tutorial", "--headless", "--hours", "0.01", "--quiet"]
MARK = "minefleet-bench-first-tick"
# Marks the end of the first tick on stderr, then runs the CLI exactly as the console script does.
WRAPPER = f"""
import sys, time
import fleet.engine as engine
_step = engine.Simulation.step
def step(self, *args, **kwargs):
    engine.Simulation.step = _step
    done = _step(self, *args, **kwargs)
    print("{MARK}", repr(time.perf_counter()), file=sys.stderr, flush=True)
    return done
engine.Simulation.step = step
from minefleet.cli import main
sys.argv[0] = "minefleet"
sys.exit(main())
"""


def _console_script() -> list[str]:
    """The installed ``minefleet`` beside this interpreter (what a user launches), else the same entry point
    through this interpreter."""
    found = shutil.which("minefleet", path=str(Path(sys.executable).parent))
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from minefleet.cli import main; sys.exit(main())"]


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds from launch to exit, and the child's stderr; a failing child is an error, not a figure."""
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"{' '.join(argv[:3])} ... exited {done.returncode}: {tail}")
    return wall, done.stderr


def _to_mark(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from launching ``argv`` to the mark it prints on stderr."""
    started = time.perf_counter()
    _, err = _timed(argv, env)
    for line in err.splitlines():
        if line.startswith(MARK):
            return float(line.split()[1]) - started
    raise RuntimeError(f"{' '.join(argv[:2])} ... ended without its mark")


def _marked(code: str) -> list[str]:
    """``python -c`` running ``code``, then printing the mark."""
    return [sys.executable, "-c", f"{code}\nimport sys, time\nprint({MARK!r}, repr(time.perf_counter()), "
                                  "file=sys.stderr)"]


def import_times(env: dict[str, str], top: int = TOP_IMPORTS) -> list[dict[str, Any]]:
    """``python -X importtime -c "import minefleet.cli"``: the ``top`` imports by cumulative time [ms]."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import minefleet.cli"], capture_output=True,
                          text=True, env=env, check=True)
    rows = []
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue  # the header line
        name = parts[2].rstrip()
        rows.append({"module": name.strip(), "depth": (len(name) - len(name.lstrip())) // 2,
                     "self_ms": int(parts[0]) / 1000.0, "cumulative_ms": int(parts[1]) / 1000.0})
    return sorted(rows, key=lambda r: -r["cumulative_ms"])[:top]


def run(quick: bool = False, repeats: int | None = None) -> dict[str, Any]:
    """Interleaved fresh processes of each kind; the medians as figures, and the top imports."""
    repeats = repeats or (QUICK_REPEATS if quick else REPEATS)
    env = dict(os.environ)
    samples: dict[str, list[float]] = {"floor": [], "import": [], "first_tick": [], "whole": []}
    with tempfile.TemporaryDirectory(prefix="minefleet-start-") as tmp:
        # One untimed round first: bytecode and numba caches are written once, as after an install.
        _timed([*_console_script(), *COMMAND, "--out", str(Path(tmp) / "warm")], env)
        for k in range(repeats):
            samples["floor"].append(_to_mark(_marked("pass"), env))
            samples["import"].append(_to_mark(_marked("import minefleet.cli"), env))
            out = str(Path(tmp) / f"tick-{k}")
            samples["first_tick"].append(_to_mark([sys.executable, "-c", WRAPPER, *COMMAND, "--out", out], env))
            samples["whole"].append(_timed([*_console_script(), *COMMAND, "--out", str(Path(tmp) / f"w-{k}")],
                                           env)[0])
    best = {k: min(v) for k, v in samples.items()}
    med = {k: statistics.median(v) for k, v in samples.items()}
    floor = best["floor"]
    figures = [
        figure("P0 launch to first tick", best["first_tick"], "s", baseline=floor, baseline_name="interpreter",
               target=at_most(best["first_tick"], TARGET_S, " s")),
        figure("import minefleet.cli", best["import"], "s", baseline=floor, baseline_name="interpreter"),
        # The share from the medians: a best import and a best first tick come from different processes.
        figure("import share of first tick (medians)", med["import"] / med["first_tick"], "share"),
        figure("whole run, 0.01 h + run dir", best["whole"], "s", baseline=floor, baseline_name="interpreter"),
    ]
    return {"figures": figures, "repeats": repeats, "command": "minefleet " + " ".join(COMMAND),
            "samples_s": samples, "median_s": med,
            "top_imports": import_times(env)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_REPEATS} processes of each kind")
    parser.add_argument("--repeats", type=int, default=None, help=f"processes of each kind (default {REPEATS})")
    args = parser.parse_args()
    res = run(args.quick, args.repeats)
    print(f"minefleet start-up: `{res['command']}`, best of {res['repeats']} fresh processes of each kind")
    print_figures(res["figures"])
    print(f"\n`python -X importtime -c 'import minefleet.cli'`: top {TOP_IMPORTS} by cumulative time")
    print(f"{'cumulative ms':>13} {'self ms':>8}  module")
    for r in res["top_imports"]:
        print(f"{r['cumulative_ms']:>13.1f} {r['self_ms']:>8.1f}  {'  ' * r['depth']}{r['module']}")


if __name__ == "__main__":
    main()
