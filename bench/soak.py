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
from typing import Any

from bench.report import below, figure
from net.auth import ENV_VAR, SiteKey
from net.broker import EmbeddedBroker
from net.broker_url import for_child

GOAL_GROWTH = 0.10  # RSS may grow at most this share after the warm-up
HOURS, QUICK_HOURS = 48.0, 2.0  # [h] simulated: the soak, and a quick look at the same
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


def soak(scenario: str = "open_pit_hazards", hours: float = HOURS, trucks: int = 60, model: str = "tiny",
         every: float = 5.0, warmup: float = 0.2) -> dict[str, Any]:
    """One soak shift (see the module docstring); its figures. Raises RuntimeError if either process fails."""
    key = SiteKey.generate()
    env = {**os.environ, ENV_VAR: key._secret.hex()}
    site = _site_of(scenario)
    with tempfile.TemporaryDirectory(prefix="minefleet-soak-") as tmp, EmbeddedBroker() as broker:
        out = Path(tmp) / "run"
        cloud_url, cloud_env = for_child(broker.url_for("cloud"), env)
        fleet_url, fleet_env = for_child(broker.url_for("fleet"), env)
        cloud = subprocess.Popen([sys.executable, "-m", "minefleet.cli", "cloud", "--broker", cloud_url,
                                  "--site", site, "--prefix", PREFIX], env=cloud_env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
        fleet = subprocess.Popen([sys.executable, "-m", "minefleet.cli", "run", scenario, "--headless",
                                  "--quiet", "--transport", "mqtt", "--broker", fleet_url, "--no-cloud",
                                  "--prefix", PREFIX, "--hours", str(hours), "--model", model,
                                  "--set", f"fleet.count={trucks}", "--out", str(out)],
                                 env=fleet_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        started = time.monotonic()
        samples: dict[str, list[tuple[float, float]]] = {"fleet": [], "cloud": []}
        while fleet.poll() is None:
            for name, proc in (("fleet", fleet), ("cloud", cloud)):
                mb = rss_mb(proc.pid)
                if mb is not None:
                    samples[name].append((time.monotonic() - started, mb))
            time.sleep(every)
        wall = time.monotonic() - started
        _, fleet_err = fleet.communicate()
        _, cloud_err = cloud.communicate(timeout=120)
        if fleet.returncode != 0 or cloud.returncode != 0:
            raise RuntimeError(f"soak failed: fleet exit {fleet.returncode}: {fleet_err.decode().strip()[-500:]}; "
                               f"cloud exit {cloud.returncode}: {cloud_err.decode().strip()[-500:]}")
        summary = json.loads((out / "summary.json").read_text())
    growths = {name: growth(s, warmup) for name, s in samples.items()}
    figures = []
    for name, g in growths.items():
        figures.append(figure(f"{name} RSS after warm-up", g["after_warmup_mb"], "MiB"))
        figures.append(figure(f"{name} RSS growth after warm-up", g["growth"], "share",
                              target=below(g["growth"], GOAL_GROWTH)))
    return {"scenario": scenario, "hours": hours, "trucks": trucks, "model": model, "broker": broker.kind,
            "wall_s": round(wall, 1), "sim_speed_x": round(hours * 3600 / wall, 1), "tonnes": summary["tonnes"],
            "samples": {k: len(v) for k, v in samples.items()}, **growths, "figures": figures}


def run(quick: bool = False) -> dict[str, Any]:
    """The soak at its defaults (48 h; ``quick``: 2 h), for ``python -m bench --only soak``."""
    return soak(hours=QUICK_HOURS if quick else HOURS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default="open_pit_hazards")
    ap.add_argument("--hours", type=float, default=HOURS)
    ap.add_argument("--trucks", type=int, default=60)
    ap.add_argument("--model", default="tiny")
    ap.add_argument("--every", type=float, default=5.0, help="wall seconds between samples")
    ap.add_argument("--warmup", type=float, default=0.2, help="share of the wall time taken as warm-up")
    ap.add_argument("--json", type=Path, default=Path("bench-soak.json"))
    args = ap.parse_args()
    try:
        result = soak(args.scenario, args.hours, args.trucks, args.model, args.every, args.warmup)
    except RuntimeError as err:
        sys.exit(str(err))
    args.json.write_text(json.dumps({k: v for k, v in result.items() if k != "figures"}, indent=2) + "\n")
    print(f"soak: {args.scenario}, {args.trucks} trucks, {args.hours:g} h with {args.model} perception over "
          f"{result['broker']}, cloud in its own process: {result['wall_s']:,.0f} s wall "
          f"({result['sim_speed_x']:,.0f}x), {result['tonnes']:,.0f} t")
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
