"""Wall-time cost of carrying a shift's messages over a real broker instead of the in-process router.

    python -m bench.transport_cost [--hours 1] [--trucks 30] [--brokers amqtt mosquitto] [--quick]

Runs the ``open_pit_5g`` scenario (5g-urllc link, 1 Hz telemetry, dispatch over the radio) once in process and
once per embedded broker, the fleet leading the time barrier (``net.sync``), in two layouts:

- *cloud in the fleet's process*, on its own MQTT client: one interpreter (one GIL) does the fleet's, the
  cloud's and both clients' work; timed around ``sim.run`` and ``close`` in this process;
- *cloud in its own process*, as a site deploys it: ``minefleet cloud`` and ``minefleet run --no-cloud`` beside
  the run's own broker, each tier on its account (passwords and ACLs on), against ``minefleet run`` in process in
  a fresh process of its own; each timed by the run itself (``timing.json``'s ``run_wall_s``: ``sim.run`` and
  ``close``, without start-up or writing the run directory).
 Signing is on in every run, as in any run: ``build_run`` makes a site key, every order, e-stop and
barrier message carries its HMAC-SHA256 and is checked on receipt. Prints wall seconds, simulated-time speed-up,
messages per wall second through the broker and the cost ratio mqtt / inproc beside its ceiling, all measured in
this run, and checks that every transport gave the same ``summary.json`` (a benchmark whose runs disagree measures
nothing; with the cloud in its own process, all but the counts only an in-process cloud reports). mosquitto is
measured when installed (Debian: ``apt-get install mosquitto``). In the first layout the brokers let anonymous
clients in, as ``build_run`` hands one broker URL to both the fleet and the cloud; the second has the accounts a
run's own embedded broker gives each tier.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fleet.kpi import summarize
from minefleet.assemble import Site, build_run, load_site
from minefleet.rundir import fleet_side
from minefleet.scenario import Scenario, load_scenario
from net.auth import ENV_VAR, SiteKey
from net.broker import EmbeddedBroker, find_mosquitto
from net.broker_url import for_child

SCENARIO = "open_pit_5g"
HOURS, TRUCKS = 1.0, 30  # the shift the ceilings are set for
QUICK_HOURS = 0.25  # [h] a quick run: its three shifts take well under a minute on a shared 2-core host
BROKERS = ("amqtt", "mosquitto")
# wall time over each broker / in process, at most (the project's performance targets for a 1 h 30-truck shift)
CEILING = {"mosquitto": 1.5, "amqtt": 3.0}
SIGNED = "orders, e-stops and barrier messages signed (HMAC-SHA256) and checked on receipt"
PREFIX = "bench/"  # topic prefix of the runs with the cloud in its own process
CLOUD_EXIT_S = 120.0  # [s] for the cloud process to end once its run has told it to stop


def shift(scn: Scenario, site: Site, broker_url: str | None) -> tuple[float, str, int]:
    """(wall seconds, summary JSON, messages published by the fleet) of one shift."""
    run = build_run(scn, site, transport="inproc" if broker_url is None else "mqtt", broker=broker_url)
    started = time.perf_counter()
    run.sim.run(scn.hours * 3600.0)
    run.close()
    wall = time.perf_counter() - started
    out = summarize(run.sim)
    out["link"] = run.link.stats()
    return wall, json.dumps(out, sort_keys=True), run.sim.comms.sent


def _cli_run(scn: Scenario, trucks: int, hours: float, out: Path, env: dict[str, str],
             broker_url: str | None = None) -> tuple[float, dict[str, Any]]:
    """``minefleet run`` in a fresh process (beside a cloud process when ``broker_url`` is given): its own timing
    of the shift (``run_wall_s``) and its summary."""
    cmd = [sys.executable, "-m", "minefleet.cli", "run", str(scn.path), "--headless", "--quiet", "--hours",
           str(hours), "--set", f"fleet.count={trucks}", "--out", str(out)]
    if broker_url is not None:
        broker_url, env = for_child(broker_url, env)
        cmd += ["--transport", "mqtt", "--broker", broker_url, "--no-cloud", "--prefix", PREFIX]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"minefleet run exited {done.returncode}: {done.stderr.strip()[-500:]}")
    timing = json.loads((out / "timing.json").read_text(encoding="utf-8"))
    return float(timing["run_wall_s"]), json.loads((out / "summary.json").read_text(encoding="utf-8"))


def split_shifts(scn: Scenario, site: Site, trucks: int, hours: float,
                 brokers: tuple[str, ...]) -> dict[str, Any]:
    """The shift in process and, per broker, with the cloud in its own process (see the module docstring)."""
    key = SiteKey.generate()
    env = {**os.environ, ENV_VAR: key._secret.hex()}
    with tempfile.TemporaryDirectory(prefix="minefleet-bench-") as tmp:
        base_wall, reference = _cli_run(scn, trucks, hours, Path(tmp) / "inproc", env)
        out: dict[str, Any] = {"inproc": {"wall_s": round(base_wall, 3)}}
        for kind in brokers:
            if kind == "mosquitto" and find_mosquitto() is None:
                out[kind] = {"installed": False}
                continue
            with EmbeddedBroker(kind) as broker:
                cloud_url, cloud_env = for_child(broker.url_for("cloud"), env)
                cloud = subprocess.Popen([sys.executable, "-m", "minefleet.cli", "cloud", "--broker", cloud_url,
                                          "--site", site.mine.site, "--prefix", PREFIX],
                                         env=cloud_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                try:
                    wall, summary = _cli_run(scn, trucks, hours, Path(tmp) / kind, env, broker.url_for("fleet"))
                    _, cloud_err = cloud.communicate(timeout=CLOUD_EXIT_S)
                finally:
                    if cloud.poll() is None:
                        cloud.kill()
                        cloud.wait()
                if cloud.returncode != 0:
                    raise RuntimeError(f"minefleet cloud exited {cloud.returncode}: {cloud_err.strip()[-500:]}")
            out[kind] = {"installed": True, "wall_s": round(wall, 3), "ratio": round(wall / base_wall, 3),
                         "ceiling": CEILING.get(kind), "same_summary": summary == fleet_side(reference)}
    return out


def run(quick: bool = False, hours: float | None = None, trucks: int = TRUCKS,
        brokers: tuple[str, ...] = BROKERS) -> dict[str, Any]:
    """Every transport's wall time and its ratio to the in-process run of the same shift, measured in this call,
    in both layouts (``cloud_process``: the cloud in its own process). A broker that is not installed is reported
    as such (``"installed": false``)."""
    hours = (QUICK_HOURS if quick else HOURS) if hours is None else hours
    scn = load_scenario(SCENARIO).with_overrides(hours=hours).resized(trucks)
    site = load_site(str(scn.map_path), scn.classes())
    sim_s = hours * 3600.0
    base_wall, reference, sent = shift(scn, site, None)
    out: dict[str, Any] = {
        "host": f"{platform.processor() or platform.machine()}, Python {platform.python_version()}",
        "scenario": scn.name, "trucks": trucks, "hours": hours, "link": scn.link_profile, "signed": SIGNED,
        "fleet_messages": sent,
        "inproc": {"wall_s": round(base_wall, 3), "x_real_time": round(sim_s / base_wall, 1)},
    }
    for kind in brokers:
        if kind == "mosquitto" and find_mosquitto() is None:
            out[kind] = {"installed": False}
            continue
        with EmbeddedBroker(kind, secure=False) as broker:
            wall, summary, _ = shift(scn, site, broker.url)
        out[kind] = {"installed": True, "wall_s": round(wall, 3), "x_real_time": round(sim_s / wall, 1),
                     "msgs_per_wall_s": round(sent / wall), "ratio": round(wall / base_wall, 3),
                     "ceiling": CEILING.get(kind), "same_summary": summary == reference}
    out["cloud_process"] = split_shifts(scn, site, trucks, hours, brokers)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=None, help=f"simulated shift length [h] (default {HOURS:g}, "
                                                                 f"--quick {QUICK_HOURS:g})")
    parser.add_argument("--trucks", type=int, default=TRUCKS)
    parser.add_argument("--brokers", nargs="+", default=list(BROKERS), choices=BROKERS)
    parser.add_argument("--quick", action="store_true", help="a shorter shift")
    args = parser.parse_args()
    res = run(args.quick, args.hours, args.trucks, tuple(args.brokers))
    print(f"host: {res['host']}; {res['scenario']}, {res['trucks']} trucks, {res['hours']:g} h simulated, "
          f"link {res['link']}; {res['signed']}")
    print(f"{'transport':<16} {'wall s':>8} {'x real time':>12} {'fleet msgs/wall s':>18} {'cost vs inproc':>15}"
          f" {'ceiling':>8}  same summary")
    base = res["inproc"]
    print(f"{'inproc':<16} {base['wall_s']:>8.1f} {base['x_real_time']:>12,.0f} "
          f"{res['fleet_messages'] / base['wall_s']:>18,.0f} {1.0:>15.2f} {'-':>8}  -")
    _print_rows(res, args.brokers)
    split = res["cloud_process"]
    print(f"cloud in its own process (minefleet cloud + minefleet run --no-cloud, per-tier accounts): in process "
          f"{split['inproc']['wall_s']:.1f} s")
    _print_rows(split, args.brokers)


def _print_rows(results: dict[str, Any], brokers: list[str]) -> None:
    """One line per broker of one layout (the speed columns where the layout measured them)."""
    for kind in brokers:
        r = results[kind]
        if not r["installed"]:
            print(f"{'mqtt ' + kind:<16} not installed (apt-get install mosquitto)")
            continue
        speed = (f"{r['x_real_time']:>12,.0f} {r['msgs_per_wall_s']:>18,}" if "x_real_time" in r
                 else f"{'':>12} {'':>18}")
        print(f"{'mqtt ' + kind:<16} {r['wall_s']:>8.1f} {speed} {r['ratio']:>15.2f} {r['ceiling']:>8.1f}  "
              f"{'yes' if r['same_summary'] else 'NO'}")


if __name__ == "__main__":
    main()
