"""The cloud tier: planning on the published layout, answering requests with orders over the transport."""

from __future__ import annotations

import pytest

from cloud.layout import Layout
from cloud.planners import PlannerConfigError, make_planner
from cloud.planners.base import PlanningError, Request
from cloud.service import CloudService
from cloud.twin import FleetTwin
from net.envelope import Envelope
from net.inproc import InProcRouter
from net.topics import Topics

LAYOUT = {
    "site": "t",
    "facilities": [
        {"id": "S1", "kind": "shovel", "x": 0, "y": 0, "material": "coal", "bays": 1, "service_s": 150},
        {"id": "S2", "kind": "shovel", "x": 0, "y": 0, "material": "coal", "bays": 1, "service_s": 150},
        {"id": "W1", "kind": "dump", "x": 0, "y": 0, "accepts": ["waste"], "bays": 2, "service_s": 60},
        {"id": "C1", "kind": "crusher", "x": 0, "y": 0, "accepts": ["coal"], "bays": 1, "service_s": 60},
    ],
    "routes": [
        {"id": "C1>S1", "from": "C1", "to": "S1", "length_m": 900, "time_s": {"k": [300, 400]}},
        {"id": "C1>S2", "from": "C1", "to": "S2", "length_m": 800, "time_s": {"k": [200, 300]}},
        {"id": "S1>C1", "from": "S1", "to": "C1", "length_m": 900, "time_s": {"k": [300, 400]}},
        {"id": "S1>W1", "from": "S1", "to": "W1", "length_m": 100, "time_s": {"k": [30, 40]}},
    ],
}


def request(at, payload=0.0, material=None):
    return Request(truck="T1", truck_class="k", at=at, payload_t=payload, material=material, t=0.0)


def test_nearest_sends_an_empty_truck_to_the_closest_shovel():
    order = make_planner("nearest").plan(request("C1"), FleetTwin(), Layout(LAYOUT))
    assert (order.dest, order.route) == ("S2", "C1>S2")


def test_nearest_sends_a_loaded_truck_only_where_its_material_is_accepted():
    """W1 is closer but takes waste only; coal goes to the crusher."""
    order = make_planner("nearest").plan(request("S1", 300.0, "coal"), FleetTwin(), Layout(LAYOUT))
    assert order.dest == "C1"


def test_no_route_is_a_planning_error():
    with pytest.raises(PlanningError, match="no route from W1"):
        make_planner("nearest").plan(request("W1"), FleetTwin(), Layout(LAYOUT))


def test_unknown_planner_is_named():
    with pytest.raises(PlannerConfigError, match="unknown planner 'psychic'"):
        make_planner("psychic")


def test_service_answers_a_request_and_counts_malformed_messages():
    router = InProcRouter()
    topics = Topics("t")
    cloud = CloudService(router, topics, make_planner("nearest"))
    router.publish(topics.layout, Envelope("layout", "site", 1, 0.0, LAYOUT, t_deliver=0.0), retain=True)
    orders = []
    router.subscribe(topics.dispatch("+"), lambda topic, e: orders.append((topic, e.body)))
    body = {"event": "dumped", "at": "C1", "payload_t": 0.0, "material": None, "truck_class": "k", "request": 4}
    router.publish(topics.event("T1"), Envelope("event", "T1", 1, 2.0, body, t_deliver=2.0), qos=1)
    router.publish(topics.event("T2"), Envelope("event", "T2", 1, 2.0, {"event": "dumped"}, t_deliver=2.0))
    router.publish(topics.telemetry("T3"), Envelope("telemetry", "T3", 1, 2.0, {"x": "?"}, t_deliver=2.0))
    while router.next_due() is not None:
        router.deliver_next()
    assert orders == [("mine/t/dispatch/T1", {"dest": "S2", "route": "C1>S2", "request": 4})]
    assert cloud.rejected == 2
    assert cloud.twin.trucks["T1"].dest == "S2"


def test_min_wait_avoids_a_shovel_with_trucks_already_committed():
    """S2 is 100 s closer, but three trucks already sent there (150 s each) make S1 finish sooner."""
    twin = FleetTwin()
    for t in ("A", "B", "C"):
        twin.on_order(t, "S2")
    order = make_planner("min_wait").plan(request("C1"), twin, Layout(LAYOUT))
    assert order.dest == "S1"
    assert make_planner("min_wait").plan(request("C1"), FleetTwin(), Layout(LAYOUT)).dest == "S2"
