"""A coarser kinematic tick for dispatch-only studies: what the README promises of ``dt_s = 0.5`` holds.

Why: the tick is the run's resolution. Dispatch studies without perception or a radio link may trade it for speed
(``README.md``, "How a truck moves"), and the promise is that the shift's KPIs stay within 1 % of the default
0.1 s tick. Runs that need fine ticks refuse a coarse one (``minefleet.scenario``, tested in
``test_bad_input_matrix``).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from fleet.kpi import summarize
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario

HOURS = 4.0


def kpis(name: str, dt: float) -> dict[str, float]:
    scn = replace(load_scenario(name).with_overrides(hours=HOURS), dt_s=dt)
    run = build_run(scn)
    run.sim.run(HOURS * 3600.0)
    s = summarize(run.sim)
    run.close()
    return {"tonnes": s["tonnes"], "loads": s["loads"], "cycle_s": s["cycle_time_s"]["mean"],
            "ticks": run.sim.ticks}


@pytest.mark.parametrize("name", ["open_pit", "open_pit_crusher", "open_pit_mixed"])
def test_half_second_ticks_keep_a_dispatch_shift_within_one_percent(name):
    fine, coarse = kpis(name, 0.1), kpis(name, 0.5)
    assert coarse["ticks"] * 5 == fine["ticks"] == round(HOURS * 36_000)
    for key in ("tonnes", "loads", "cycle_s"):
        assert coarse[key] == pytest.approx(fine[key], rel=0.01), (key, fine, coarse)
    assert fine["loads"] >= 200  # a busy shift: a difference of a few loads would show
