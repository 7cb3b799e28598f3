"""Message bodies: good ones pass, each bad field is refused with its name."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from net.envelope import Envelope, EnvelopeError
from net.schemas import decode, expected_kind, telemetry, telemetry_checked, validate
from net.topics import Topics

GOOD = {
    "telemetry": {"x": 12.5, "y": -3.0, "v": 8.2, "state": "TRAVEL_LOADED", "payload_t": 363.0},
    "event": {"event": "loaded", "at": "S1", "payload_t": 363.0, "material": "coal", "truck_class": "cat-797f",
              "request": 4},
    "order": {"dest": "D1", "route": "S1>D1", "request": 4},
    "layout": {"site": "open-pit", "facilities": [
        {"id": "S1", "kind": "shovel", "x": 0.0, "y": 1.0, "bays": 1, "material": "coal", "service_s": 150.0},
        {"id": "D1", "kind": "dump", "x": 5.0, "y": 1.0, "bays": 2, "accepts": ["coal"], "service_s": 60.0}],
        "routes": [{"id": "S1>D1", "from": "S1", "to": "D1", "length_m": 2000.0,
                    "time_s": {"cat-797f": [150.0, 210.0]}}]},
}


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_good_bodies_pass(kind):
    validate(kind, copy.deepcopy(GOOD[kind]))


def test_empty_material_and_extra_fields_are_accepted():
    body = dict(GOOD["event"], material=None, at=None, hold_reason="dust")
    validate("event", body)


@pytest.mark.parametrize("kind, path, value, field", [
    ("telemetry", ["x"], float("inf"), "telemetry.x"),
    ("telemetry", ["v"], -1.0, "telemetry.v"),
    ("telemetry", ["state"], "FLYING", "telemetry.state"),
    ("telemetry", ["payload_t"], "full", "telemetry.payload_t"),
    ("telemetry", ["y"], True, "telemetry.y"),
    ("event", ["event"], "teleported", "event.event"),
    ("event", ["request"], -1, "event.request"),
    ("event", ["request"], 1.5, "event.request"),
    ("event", ["truck_class"], "", "event.truck_class"),
    ("event", ["material"], 7, "event.material"),
    ("event", ["at"], "x" * 65, "event.at"),
    ("order", ["dest"], None, "order.dest"),
    ("order", ["route"], 3, "order.route"),
    ("layout", ["site"], [], "layout.site"),
    ("layout", ["facilities", 0, "kind"], "mine", r"layout.facilities\[0\].kind"),
    ("layout", ["facilities", 1, "accepts"], ["coal", 3], r"layout.facilities\[1\].accepts\[1\]"),
    ("layout", ["facilities", 1, "bays"], 0, r"layout.facilities\[1\].bays"),
    ("layout", ["routes", 0, "length_m"], -2.0, r"layout.routes\[0\].length_m"),
    ("layout", ["routes", 0, "time_s"], {"c": [1.0]}, r"layout.routes\[0\].time_s.c"),
])
def test_each_bad_field_is_named(kind, path, value, field):
    body = copy.deepcopy(GOOD[kind])
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(EnvelopeError, match=field):
        validate(kind, body)


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_missing_fields_are_named(kind):
    for key in GOOD[kind]:
        body = {k: v for k, v in GOOD[kind].items() if k != key}
        with pytest.raises(EnvelopeError, match=f"{kind}.{key}: missing"):
            validate(kind, body)


def test_decode_checks_envelope_topic_and_body():
    topics = Topics("a", prefix="run1/")
    env = Envelope("telemetry", "T1", 1, 2.0, GOOD["telemetry"], t_deliver=2.5)
    assert decode(topics.telemetry("T1"), env.to_json()) == env
    with pytest.raises(EnvelopeError, match="kind 'telemetry' on a order topic"):
        decode(topics.dispatch("T1"), env.to_json())
    bad = Envelope("telemetry", "T1", 1, 2.0, {"x": 1}, t_deliver=2.5)
    with pytest.raises(EnvelopeError, match=r"telemetry\.y: missing"):
        decode(topics.telemetry("T1"), bad.to_json())
    with pytest.raises(EnvelopeError, match="unknown message kind"):
        validate("gossip", {})
    assert expected_kind(topics.layout) == "layout"
    assert expected_kind(topics.cloud_status) is None


# -- the fast paths accept exactly what the full checks accept ------------------------------------------------

_VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**7, 10**7), st.booleans(),
                    st.none(), st.sampled_from(["TRAVEL_LOADED", "HOLD", "FLYING", ""]),
                    st.lists(st.integers(), max_size=2))
_EDGES = st.sampled_from([0.0, -0.0, 1e6, -1e6, 1e6 + 1, 100.0, 100.5, 1000.0, 1000.001, -1e-9])


def _outcome(check, *args):
    try:
        return ("ok", check(*args))
    except EnvelopeError as exc:
        return ("refused", str(exc))


@settings(max_examples=600, deadline=None)
@given(st.fixed_dictionaries({}, optional={k: st.one_of(_VALUES, _EDGES)
                                           for k in ("x", "y", "v", "state", "payload_t")}))
def test_telemetry_fast_path_agrees_with_the_full_checks(body):
    assert _outcome(telemetry, body) == _outcome(telemetry_checked, body)


@settings(max_examples=600, deadline=None)
@given(st.fixed_dictionaries({}, optional={
    "v": st.sampled_from([1, 2, 1.0, True]), "kind": _VALUES, "src": _VALUES,
    "seq": st.one_of(_VALUES, st.integers(-3, 3)), "body": st.sampled_from([{}, [], None]),
    "t_sent": st.one_of(_VALUES, _EDGES), "t_deliver": st.one_of(_VALUES, _EDGES)}))
def test_envelope_fast_path_agrees_with_the_full_checks(doc):
    assert _outcome(Envelope.from_dict, doc) == _outcome(Envelope._checked, doc)
