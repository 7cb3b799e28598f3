"""Ticks run back to back in the compiled kernel are the same ticks as one at a time (fleet/engine.py,
``Simulation.run``): identical results, and the engine really does batch them."""

from __future__ import annotations

import json

import pytest
from conftest import REPO

from fleet.engine import Simulation
from fleet.kpi import summarize
from fleet.trace import TraceRecorder
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario


def shift(name: str, hours: float) -> tuple[str, list[float], int]:
    """Summary, trace sample times and how many ``step`` calls a shift took."""
    scn = load_scenario(REPO / "scenarios" / f"{name}.toml").with_overrides(hours=hours)
    run = build_run(scn)
    trace = TraceRecorder(scn.trace_period_s)
    run.sim.observers.append(trace)
    steps = 0
    step = run.sim.step

    def counted(ticks: int = 1) -> int:
        nonlocal steps
        steps += 1
        return step(ticks)

    run.sim.step = counted
    run.sim.run(hours * 3600.0)
    return json.dumps(summarize(run.sim), sort_keys=True, default=str), list(trace.t), steps


@pytest.mark.parametrize("name", ["open_pit", "open_pit_crusher"])
def test_batched_ticks_change_nothing(name, monkeypatch):
    batched, times, steps = shift(name, 0.5)
    ticks = round(0.5 * 3600.0 / 0.1)
    assert steps < ticks / 2  # most ticks ran in batches
    monkeypatch.setattr(Simulation, "_quiet_ticks", lambda self, most, report_t: 1)
    one_by_one, times_1, steps_1 = shift(name, 0.5)
    assert steps_1 == ticks
    assert one_by_one == batched and times_1 == times


def test_an_observer_without_next_due_sees_every_tick():
    scn = load_scenario(REPO / "scenarios" / "open_pit.toml").with_overrides(hours=0.05)
    run = build_run(scn)
    seen: list[float] = []
    run.sim.observers.append(lambda sim: seen.append(sim.t))
    run.sim.run(0.05 * 3600.0)
    assert len(seen) == round(0.05 * 3600.0 / 0.1) and seen[-1] == pytest.approx(180.0)
