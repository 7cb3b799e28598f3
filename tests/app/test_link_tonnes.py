"""The radio reaches the tonnes only where coverage fails: same seed, 5g-urllc (n78) against lte (band 3).

With all six sites of the open-pit map on air, neither network loses contact long enough for a truck to hold, and
the shift hauls the same over both: tens of milliseconds of latency are lost in minutes of haul. With only the
crusher site on air (``scenarios/open_pit_one_site.toml``), the south wall hides it from the head of the south
ramp: n78 (more path loss, its power spread over 100 MHz) drops below the outage threshold there, the first
trucks hold, and the fleet queues behind them; band-3 LTE on the same mast keeps every truck in contact.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO

from fleet.kpi import summarize
from fleet.state import HOLD_LINK
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario

RIM_Z = 1200.0  # [m] crest of the open pit


def shift(scenario: str, profile: str) -> dict:
    """15 trucks, 1 h, seed 7 (the one-site scenario as shipped; the covered pit with its fleet cut to match)."""
    scn = load_scenario(REPO / "scenarios" / f"{scenario}.toml").with_overrides(hours=1.0, seed=7, link=profile)
    run = build_run(scn.resized(15))
    run.sim.run(3600.0)
    run.close()
    f = run.sim.fleet
    held = np.flatnonzero((f.hold_reason & HOLD_LINK) != 0)
    return {**summarize(run.sim), "link": run.link.stats(), "held_z": f.z[held],
            "held_out_of_coverage": bool(run.link.outage[held].all())}


@pytest.fixture(scope="module")
def runs() -> dict[tuple[str, str], dict]:
    return {(s, p): shift(s, p) for s in ("open_pit_5g", "open_pit_one_site") for p in ("5g-urllc", "lte")}


def test_a_covered_pit_hauls_the_same_over_5g_and_lte(runs):
    urllc, lte = runs["open_pit_5g", "5g-urllc"], runs["open_pit_5g", "lte"]
    assert urllc["link"]["uplink_latency_p99_ms"] < 2.0 < 30.0 < lte["link"]["uplink_latency_p99_ms"]
    assert urllc["link_holds"] == lte["link_holds"] == 0
    assert urllc["tonnes_per_hour"] == lte["tonnes_per_hour"] > 0


def test_with_one_site_n78_strands_trucks_at_the_ramp_head_and_lte_does_not(runs):
    urllc, lte = runs["open_pit_one_site", "5g-urllc"], runs["open_pit_one_site", "lte"]
    assert urllc["link_holds"] >= 1 and lte["link_holds"] == 0
    # The held trucks stand just below the crest, still out of coverage at the end of the shift.
    assert urllc["held_out_of_coverage"] and np.all((urllc["held_z"] < RIM_Z) & (urllc["held_z"] > RIM_Z - 30.0))
    assert urllc["link"]["outage_truck_s"] > 100 * max(lte["link"]["outage_truck_s"], 1.0)
    assert urllc["tonnes_per_hour"] < 0.5 * lte["tonnes_per_hour"]
    # LTE on the one site hauls what the covered pit hauls.
    assert lte["tonnes_per_hour"] == runs["open_pit_5g", "lte"]["tonnes_per_hour"]
