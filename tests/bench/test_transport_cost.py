"""The transport benchmark's second layout: a shift beside a cloud process of its own, compared whole."""

from __future__ import annotations

from bench.transport_cost import SCENARIO, split_shifts
from minefleet.assemble import load_site
from minefleet.rundir import CLOUD_COUNTS, fleet_side
from minefleet.scenario import load_scenario


def test_fleet_side_drops_only_what_an_in_process_cloud_reports() -> None:
    summary = {"tonnes": 5.0, "dispatch": {"orders": 3, **dict.fromkeys(CLOUD_COUNTS, 0)}}
    assert fleet_side(summary) == {"tonnes": 5.0, "dispatch": {"orders": 3}}
    assert summary["dispatch"]["cloud_messages_rejected"] == 0  # the caller's summary is left as it was
    assert fleet_side({"tonnes": 1.0}) == {"tonnes": 1.0}


def test_a_shift_beside_its_own_cloud_process_hauls_what_the_in_process_shift_hauls() -> None:
    scn = load_scenario(SCENARIO)
    site = load_site(str(scn.map_path), scn.classes())
    res = split_shifts(scn, site, trucks=4, hours=0.05, brokers=("amqtt",))
    assert res["inproc"]["wall_s"] > 0.0
    amqtt = res["amqtt"]
    assert amqtt["installed"] and amqtt["same_summary"] and amqtt["ratio"] > 0.0
