"""Soak: a long shift over the embedded broker with the cloud as its own process, memory sampled throughout.

    python -m bench.soak [--hours 48] [--trucks 60] [--model tiny] [--scenario open_pit_hazards]

Starts the embedded broker (each tier with its own account), ``minefleet cloud`` and ``minefleet run --no-cloud``
as two processes sharing a fresh site key, and samples both processes' resident set size (``/proc/<pid>/status``
VmRSS) every ``--every`` wall seconds until the shift ends. Prints the samples' summary: RSS after the warm-up
(the first ``--warmup`` share of the wall time) against the peak after it, as a growth ratio per process; the goal
is growth < 10 %. The figures go to ``--json`` too. Host measurements: they vary from run to run and machine to
machine; the run's own ``summary.json`` is in the output folder.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from net.auth import ENV_VAR, SiteKey
from net.broker import EmbeddedBroker

GOAL_GROWTH = 0.10  # RSS may grow at most this share after the warm-up
PREFIX = "soak/"


def rss_mb(pid: int) -> float | None:
    """Resident set size of ``pid`` in MiB, or None once it has exited."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def growth(samples: list[tuple[float, float]], warmup: float) -> dict[str, float]:
    """RSS at the end of the warm-up, the peak after it, and the growth ratio between them."""
    if not samples:
        return {"after_warmup_mb": float("nan"), "peak_mb": float("nan"), "growth": float("nan")}
    end = samples[-1][0]
    after = [rss for t, rss in samples if t >= warmup * end] or [samples[-1][1]]
    base = after[0]
    peak = max(after)
    return {"after_warmup_mb": round(base, 1), "peak_mb": round(peak, 1), "growth": round(peak / base - 1.0, 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default="open_pit_hazards")
    ap.add_argument("--hours", type=float, default=48.0)
    ap.add_argument("--trucks", type=int, default=60)
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--every", type=float, default=5.0, help="wall seconds between samples")
    ap.add_argument("--warmup", type=float, default=0.2, help="share of the wall time taken as warm-up")
    ap.add_argument("--json", type=Path, default=Path("bench-soak.json"))
    args = ap.parse_args()

    key = SiteKey.generate()
    env = {**os.environ, ENV_VAR: key._secret.hex()}
    site = _site_of(args.scenario)
    with tempfile.TemporaryDirectory(prefix="minefleet-soak-") as tmp, EmbeddedBroker() as broker:
        out = Path(tmp) / "run"
        cloud = subprocess.Popen([sys.executable, "-m", "minefleet.cli", "cloud", "--broker", broker.url_for("cloud"),
                                  "--site", site, "--prefix", PREFIX], env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        fleet = subprocess.Popen([sys.executable, "-m", "minefleet.cli", "run", args.scenario, "--headless",
                                  "--quiet", "--transport", "mqtt", "--broker", broker.url_for("fleet"), "--no-cloud",
                                  "--prefix", PREFIX, "--hours", str(args.hours), "--model", args.model,
                                  "--set", f"fleet.count={args.trucks}", "--out", str(out)],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        started = time.monotonic()
        samples: dict[str, list[tuple[float, float]]] = {"fleet": [], "cloud": []}
        while fleet.poll() is None:
            for name, proc in (("fleet", fleet), ("cloud", cloud)):
                mb = rss_mb(proc.pid)
                if mb is not None:
                    samples[name].append((time.monotonic() - started, mb))
            time.sleep(args.every)
        wall = time.monotonic() - started
        _, fleet_err = fleet.communicate()
        _, cloud_err = cloud.communicate(timeout=120)
        if fleet.returncode != 0 or cloud.returncode != 0:
            sys.exit(f"soak failed: fleet exit {fleet.returncode}: {fleet_err.decode().strip()[-500:]}; "
                     f"cloud exit {cloud.returncode}: {cloud_err.decode().strip()[-500:]}")
        summary = json.loads((out / "summary.json").read_text())
    result = {"scenario": args.scenario, "hours": args.hours, "trucks": args.trucks, "model": args.model,
              "broker": broker.kind, "wall_s": round(wall, 1), "sim_speed_x": round(args.hours * 3600 / wall, 1),
              "tonnes": summary["tonnes"], "samples": {k: len(v) for k, v in samples.items()},
              **{name: growth(s, args.warmup) for name, s in samples.items()}}
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"soak: {args.scenario}, {args.trucks} trucks, {args.hours:g} h with {args.model} perception over "
          f"{broker.kind}, cloud in its own process: {wall:,.0f} s wall ({result['sim_speed_x']:,.0f}x), "
          f"{summary['tonnes']:,.0f} t")
    for name in ("fleet", "cloud"):
        g = result[name]
        verdict = "ok" if g["growth"] < GOAL_GROWTH else "ABOVE GOAL"
        print(f"  {name:5s} RSS after warm-up {g['after_warmup_mb']:8.1f} MiB, peak after {g['peak_mb']:8.1f} MiB, "
              f"growth {100 * g['growth']:+.1f} % (goal < {100 * GOAL_GROWTH:.0f} %: {verdict})")
    print(f"figures in {args.json}")


def _site_of(scenario: str) -> str:
    """The site id the scenario's map declares: the cloud process needs it to find the run's topics."""
    from minefleet.assemble import load_site
    from minefleet.scenario import load_scenario

    scn = load_scenario(scenario)
    return load_site(str(scn.map_path), scn.classes()).mine.site


if __name__ == "__main__":
    main()
