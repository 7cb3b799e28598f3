"""The twin takes a period's telemetry batch as it takes the single messages: the same columns whether its rows
run in the senders' order (slices) or not (gathers), older messages ignored; the cloud's compiled range check
passes clean batches and leaves faulty rows to the row-by-row checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cloud.service import CloudService
from cloud.twin import FleetTwin
from net.batch import TelemetryBatch, TelemetryPeriods
from net.inproc import InProcRouter
from net.topics import Topics

TRUCKS = ["T1", "T2", "T3", "T4", "T5"]
STATES = ["TRAVEL_EMPTY", "LOADING", "QUEUE_DUMP", "HOLD", "DOWN"]


def columns(twin: FleetTwin) -> list[tuple]:
    return [(v.t_seen, v.x, v.y, v.speed_mps, v.payload_t, v.state) for v in (twin.truck(t) for t in TRUCKS)]


def periods(seed: int = 3):
    rng = np.random.default_rng(seed)
    for t in (1.0, 2.0, 2.0, 1.5, 3.0, 4.0):  # a repeat and an older period among them
        n = len(TRUCKS)
        yield (t, rng.uniform(-1e3, 1e3, n).round(2), rng.uniform(-1e3, 1e3, n).round(2), rng.uniform(0, 15, n),
               [STATES[k] for k in rng.integers(0, len(STATES), n)], rng.uniform(0, 200, n))


@pytest.mark.parametrize("met_in", ["order", "reverse"])
def test_a_batch_lands_as_its_single_messages(met_in):
    single, batched = FleetTwin(), FleetTwin()
    for tid in (TRUCKS if met_in == "order" else TRUCKS[::-1]):
        batched.truck(tid)  # rows in the senders' order (slices) or reversed (gathers)
        single.truck(tid)
    for k, (t, x, y, v, state, payload) in enumerate(periods()):
        if k == 4:  # one truck's newer message overtakes this period's for it
            for twin in (single, batched):
                twin.on_telemetry("T3", 3.5, {"x": 1.0, "y": 2.0, "v": 3.0, "state": "HOLD", "payload_t": 4.0})
        for i, tid in enumerate(TRUCKS):
            single.on_telemetry(tid, t, {"x": float(x[i]), "y": float(y[i]), "v": float(v[i]), "state": state[i],
                                         "payload_t": float(payload[i])})
        batched.on_telemetry_batch(TRUCKS, t, x, y, v, state, payload)
        assert columns(batched) == columns(single)
    assert batched.truck("T3").t_seen == 4.0 and batched.truck("T1").t_seen == 4.0


def test_the_cloud_keeps_the_good_rows_of_a_faulty_batch():
    router = InProcRouter()
    cloud = CloudService(router, Topics("mine/test"), planner=None)
    n = len(TRUCKS)
    x = np.arange(n, dtype=float)
    v = np.ones(n)
    v[1] = math.nan  # not a speed
    x[3] = 2e6  # off the map
    state = ["TRAVEL_EMPTY"] * n
    state[4] = "FLYING"  # no such state
    cloud._on_telemetry_batch(TelemetryBatch(1.0, 1.0, list(TRUCKS), [1] * n, x, np.zeros(n), v, state, np.zeros(n)))
    assert cloud.rejected == 3
    seen = {tid: view.t_seen for tid, view in cloud.twin.trucks.items()}
    assert seen["T1"] == 1.0 and seen["T3"] == 1.0
    assert all(seen.get(tid, -1.0) == -1.0 for tid in ("T2", "T4", "T5"))
    clean = TelemetryBatch(2.0, 2.0, list(TRUCKS), [2] * n, np.zeros(n), np.zeros(n), np.ones(n), ["LOADING"] * n,
                           np.zeros(n))
    cloud._on_telemetry_batch(clean)
    assert cloud.rejected == 3 and all(cloud.twin.truck(t).state == "LOADING" for t in TRUCKS)


def cloud_twin(telemetry_of, prime) -> tuple[list[tuple], int]:
    """The twin's columns and the messages rejected after ``prime(cloud)`` and then ``telemetry_of(cloud)``."""
    cloud = CloudService(InProcRouter(), Topics("mine/test"), planner=None)
    prime(cloud)
    telemetry_of(cloud)
    return columns(cloud.twin), cloud.rejected


@pytest.mark.parametrize("fault", ["none", "nan_speed", "off_map", "payload", "state", "newer"])
def test_several_periods_land_as_their_batches_one_by_one(fault):
    """Clean periods are checked in one pass and only the newest written; a faulty row anywhere, or a truck that has
    sent something newer, and the periods go in one at a time: the same twin, the same rejections either way."""
    rng = np.random.default_rng(5)
    m, n = 4, len(TRUCKS)
    x, y = rng.uniform(-1e3, 1e3, (m, n)).round(2), rng.uniform(-1e3, 1e3, (m, n)).round(2)
    v = rng.uniform(0, 15, (m, n))
    payload = rng.uniform(0, 200, n)
    state = [STATES[k] for k in rng.integers(0, len(STATES), n)]
    if fault == "nan_speed":
        v[2, 1] = math.nan
    elif fault == "off_map":
        x[1, 3] = 2e6
    elif fault == "payload":
        payload[0] = -1.0
    elif fault == "state":
        state[4] = "FLYING"
    times = [10.0, 11.0, 12.0, 13.0]
    periods = TelemetryPeriods(times, times, list(TRUCKS), np.arange(1, n + 1, dtype=np.int64), x, y, v, state,
                               payload)

    def prime(cloud: CloudService) -> None:
        for tid in TRUCKS:
            cloud.twin.truck(tid)
        if fault == "newer":  # T2 has reported at 12.5: its periods at 10-12 are older, only 13 lands
            cloud.twin.on_telemetry("T2", 12.5, {"x": 1.0, "y": 2.0, "v": 3.0, "state": "HOLD", "payload_t": 4.0})

    def one_by_one(cloud: CloudService) -> None:
        for j in range(m):
            cloud._on_telemetry_batch(periods.period(j))

    together = cloud_twin(lambda cloud: cloud._on_telemetry_periods(periods), prime)
    assert repr(together) == repr(cloud_twin(one_by_one, prime))  # repr: NaN (no message yet) equals itself
    cols, rejected = together
    assert rejected == {"none": 0, "nan_speed": 1, "off_map": 1, "payload": 4, "state": 4, "newer": 0}[fault]
    if fault in ("none", "newer"):
        assert [c[0] for c in cols] == [13.0] * n and cols[1][1] == x[3, 1]
