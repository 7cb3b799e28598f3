"""Ticks run back to back in the compiled kernel are the same ticks as one at a time (fleet/engine.py,
``Simulation.run``), and telemetry taken inside the kernel is the same as telemetry events fired one by one
(fleet/telemetry.py): identical results, and the engine really does batch them."""

from __future__ import annotations

import json

import pytest
from conftest import REPO

from bench.peer_openmines import imported_scenario
from cloud.service import CloudService
from fleet.engine import Simulation
from fleet.kpi import summarize
from fleet.trace import TraceRecorder
from minefleet.assemble import build_run
from minefleet.scenario import load_scenario


def counting_steps(sim: Simulation) -> list[int]:
    """Count ``sim.step`` calls from now on: the count is the one element of the list returned."""
    count = [0]
    step = sim.step

    def counted(ticks: int = 1) -> int:
        count[0] += 1
        return step(ticks)

    sim.step = counted
    return count


def shift(name: str, hours: float) -> tuple[str, list[float], int]:
    """Summary, trace sample times and how many ``step`` calls a shift took."""
    scn = load_scenario(REPO / "scenarios" / f"{name}.toml").with_overrides(hours=hours)
    run = build_run(scn)
    trace = TraceRecorder(scn.trace_period_s)
    run.sim.observers.append(trace)
    steps = counting_steps(run.sim)
    run.sim.run(hours * 3600.0)
    return json.dumps(summarize(run.sim), sort_keys=True, default=str), list(trace.t), steps[0]


@pytest.mark.parametrize("name", ["open_pit", "open_pit_crusher", "strip_mine"])  # strip_mine: single lanes
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


def test_telemetry_taken_in_the_kernel_changes_nothing(monkeypatch, tmp_path):
    """The peer benchmark's mine (ideal link, telemetry every second): with the reports taken in the kernel, the
    same summary, event log, messages and cloud twin as with every telemetry event fired on its own, in a
    quarter of the kernel calls; the periods of one call reach the cloud in one hand-over, mostly whole."""
    scn = imported_scenario(tmp_path)
    received: list[tuple] = []  # every telemetry batch the cloud takes, in order, a period's part at a time
    whole = [0]  # hand-overs of several periods at once
    on_batch, on_periods = CloudService._on_telemetry_batch, CloudService._on_telemetry_periods

    def seen_batch(batch):
        received.append((batch.t_sent, batch.t_deliver, batch.src, batch.seq, batch.x.tolist(), batch.y.tolist(),
                         batch.v.tolist(), batch.state, batch.payload_t.tolist()))

    def record(self, batch):
        seen_batch(batch)
        on_batch(self, batch)

    def record_periods(self, periods):
        whole[0] += 1
        for j in range(periods.periods):
            seen_batch(periods.period(j))
        on_periods(self, periods)

    monkeypatch.setattr(CloudService, "_on_telemetry_batch", record)
    monkeypatch.setattr(CloudService, "_on_telemetry_periods", record_periods)

    def shift_of(in_kernel: bool):
        received.clear()
        whole[0] = 0
        run = build_run(scn)
        run.sim.reports_in_kernel = in_kernel
        calls = counting_steps(run.sim)
        run.sim.run(1800.0)
        twin = run.wiring.cloud.twin
        seen = [(v.t_seen, v.x, v.y, v.speed_mps, v.state, v.payload_t) for v in twin.trucks.values()]
        out = (json.dumps(summarize(run.sim), sort_keys=True, default=str), list(run.sim.log), seen,
               run.sim.comms.transport.delivered, run.sim.comms.sent, list(received))
        run.close()
        return out, calls[0], whole[0]

    taken, calls_taken, whole_taken = shift_of(True)
    fired, calls_fired, whole_fired = shift_of(False)
    assert len(taken[-1]) >= 1800  # a report a second (a batch is cut where another message falls within it)
    assert taken == fired
    assert calls_taken < calls_fired / 2
    assert whole_taken >= 200 and whole_fired == 0
