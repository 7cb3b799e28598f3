"""Wall-time cost of carrying a shift's messages over a real broker instead of the in-process router.

    python -m bench.transport_cost [--hours 1] [--trucks 30] [--brokers amqtt mosquitto] [--quick]

Runs the ``open_pit_5g`` scenario (5g-urllc link, 1 Hz telemetry, dispatch over the radio) once in process and
once per embedded broker with the cloud in process on its own MQTT client, the fleet leading the time barrier
(``net.sync``). Signing is on in every run, as in any run: ``build_run`` makes a site key, every order, e-stop and
barrier message carries its HMAC-SHA256 and is checked on receipt. Prints wall seconds, simulated-time speed-up,
messages per wall second through the broker and the cost ratio mqtt / inproc beside its ceiling, all measured in
this run, and checks that every transport gave the same ``summary.json`` (a benchmark whose runs disagree measures
nothing). mosquitto is measured when installed (Debian: ``apt-get install mosquitto``). The brokers here let
anonymous clients in, as ``build_run`` hands one broker URL to both the fleet and the cloud, where a run's own
embedded broker gives each its account; the cost of the password and ACL checks is in ``bench.mqtt_throughput``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from typing import Any

from fleet.kpi import summarize
from minefleet.assemble import Site, build_run, load_site
from minefleet.scenario import Scenario, load_scenario
from net.broker import EmbeddedBroker, find_mosquitto

SCENARIO = "open_pit_5g"
HOURS, TRUCKS = 1.0, 30  # the shift the ceilings are set for
QUICK_HOURS = 0.25  # [h] a quick run: its three shifts take well under a minute on a shared 2-core host
BROKERS = ("amqtt", "mosquitto")
# wall time over each broker / in process, at most (the project's performance targets for a 1 h 30-truck shift)
CEILING = {"mosquitto": 1.5, "amqtt": 3.0}
SIGNED = "orders, e-stops and barrier messages signed (HMAC-SHA256) and checked on receipt"


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


def run(quick: bool = False, hours: float | None = None, trucks: int = TRUCKS,
        brokers: tuple[str, ...] = BROKERS) -> dict[str, Any]:
    """Every transport's wall time and its ratio to the in-process run of the same shift, measured in this call.
    A broker that is not installed is reported as such (``"installed": false``)."""
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
    for kind in args.brokers:
        r = res[kind]
        if not r["installed"]:
            print(f"{'mqtt ' + kind:<16} not installed (apt-get install mosquitto)")
            continue
        print(f"{'mqtt ' + kind:<16} {r['wall_s']:>8.1f} {r['x_real_time']:>12,.0f} {r['msgs_per_wall_s']:>18,} "
              f"{r['ratio']:>15.2f} {r['ceiling']:>8.1f}  {'yes' if r['same_summary'] else 'NO'}")


if __name__ == "__main__":
    main()
