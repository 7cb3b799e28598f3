"""Wall-time cost of carrying a shift's messages over a real broker instead of the in-process router.

    python -m bench.transport_cost [--hours 1] [--trucks 30] [--brokers amqtt mosquitto]

Runs the ``open_pit_5g`` scenario (5g-urllc link, 1 Hz telemetry, dispatch over the radio) once in process and
once per embedded broker with the cloud in process on its own MQTT client, the fleet leading the time barrier
(``net.sync``). Prints wall seconds, simulated-time speed-up, messages per wall second through the broker and
the cost ratio mqtt / inproc, and checks that every transport gave the same ``summary.json`` (a benchmark whose
runs disagree measures nothing). mosquitto is measured when installed (Debian: ``apt-get install mosquitto``).
The brokers here let anonymous clients in, as ``build_run`` hands one broker URL to both the fleet and the
cloud, where a run's own embedded broker gives each its account; the cost of the password and ACL checks is
in ``bench.mqtt_throughput``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

from fleet.kpi import summarize
from minefleet.assemble import Site, build_run, load_site
from minefleet.scenario import Scenario, load_scenario
from net.broker import EmbeddedBroker, find_mosquitto


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=1.0, help="simulated shift length [h]")
    parser.add_argument("--trucks", type=int, default=30)
    parser.add_argument("--brokers", nargs="+", default=["amqtt", "mosquitto"])
    args = parser.parse_args()
    scn = load_scenario("open_pit_5g").with_overrides(hours=args.hours).resized(args.trucks)
    site = load_site(str(scn.map_path), scn.classes())
    sim_s = args.hours * 3600.0
    print(f"host: {platform.processor() or platform.machine()}, Python {platform.python_version()}; "
          f"{scn.name}, {args.trucks} trucks, {args.hours:g} h simulated, link {scn.link_profile}")
    print(f"{'transport':<16} {'wall s':>8} {'x real time':>12} {'fleet msgs/wall s':>18} {'cost vs inproc':>15}"
          f"  same summary")
    base_wall, reference, sent = shift(scn, site, None)
    print(f"{'inproc':<16} {base_wall:>8.1f} {sim_s / base_wall:>12,.0f} {sent / base_wall:>18,.0f} {1.0:>15.2f}  -")
    for kind in args.brokers:
        if kind == "mosquitto" and find_mosquitto() is None:
            print(f"{'mqtt ' + kind:<16} not installed (apt-get install mosquitto)")
            continue
        with EmbeddedBroker(kind, secure=False) as broker:
            wall, summary, sent = shift(scn, site, broker.url)
        print(f"{'mqtt ' + kind:<16} {wall:>8.1f} {sim_s / wall:>12,.0f} {sent / wall:>18,.0f} "
              f"{wall / base_wall:>15.2f}  {'yes' if summary == reference else 'NO'}")


if __name__ == "__main__":
    main()
