"""Message bodies: good ones pass, each bad field is refused with its name."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from net.envelope import MAX_DEPTH, SHOW_CHARS, Envelope, EnvelopeError, show, too_deep
from net.schemas import MAX_ITEMS, MAX_TOPIC, decode, expected_kind, telemetry, telemetry_checked, validate
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


# -- bounded on receipt: nesting, sizes, and error messages that stay short -----------------------------------

def _nested(levels: int, leaf: Any = 1.0) -> Any:
    """``levels`` lists around ``leaf``, built without recursion."""
    for _ in range(levels):
        leaf = [leaf]
    return leaf


def _telemetry_with(extra: Any) -> bytes:
    return Envelope("telemetry", "T1", 1, 0.0, dict(GOOD["telemetry"], extra=extra), t_deliver=0.0).to_json()


def test_nesting_is_limited_on_receipt_at_max_depth():
    topic = Topics("a").telemetry("T1")
    decode(topic, _telemetry_with(_nested(MAX_DEPTH - 2)))  # envelope, body, then lists: MAX_DEPTH levels
    with pytest.raises(EnvelopeError, match=f"nested deeper than {MAX_DEPTH} levels"):
        decode(topic, _telemetry_with(_nested(MAX_DEPTH - 1)))


def test_a_message_nested_1000_deep_is_refused_not_a_crash():
    raw = _telemetry_with(0.0).replace(b'"extra":0.0', b'"x":' + b"[" * 1000 + b"]" * 1000)
    assert len(raw) < 2200
    with pytest.raises(EnvelopeError, match="nested deeper"):
        decode(Topics("a").telemetry("T1"), raw)


def test_the_deepest_real_message_is_well_inside_the_limit():
    """The site layout as the fleet writes it (fleet.sitelayout): units with figures per truck class."""
    unit = {"id": "S1a", "bucket_t": 40.0, "fill_factor": 0.9, "cycle_s": 30.0, "spot_s": 30.0, "sides": 2,
            "dig_tph": 4000.0, "by_class": {"cat-797f": {"passes": 4, "payload_t": 360.0, "load_s": 150.0}}}
    body = copy.deepcopy(GOOD["layout"])
    body["facilities"][0].update(units=[unit], service_s_by_class={"cat-797f": 150.0})
    body["routes"][0]["for"] = [["cat-797f", True]]
    env = Envelope("layout", "site", 1, 0.0, body, t_deliver=0.0)
    assert decode(Topics("a").layout, env.to_json()) == env
    assert not too_deep(env.to_dict(), 8) and too_deep(env.to_dict(), 7)  # 8 levels: MAX_DEPTH leaves twice that
    assert MAX_DEPTH >= 2 * 8


@pytest.mark.parametrize("value, shown", [
    (_nested(100_000), "a list of 1 items"),  # repr of it would recurse 100,000 deep
    ({"a": _nested(5000)}, "an object of 1 fields"),
    (10**5000, "an integer of 16610 bits"),  # repr refuses ints this long
    ("x" * 100_000, repr("x" * SHOW_CHARS)[:-1] + "...'"),
    ([1.0, "a", None], "[1.0, 'a', None]"),
    (float("nan"), "nan"),
], ids=["deep-list", "deep-object", "huge-int", "long-str", "short-list", "nan"])
def test_error_messages_quote_any_value_briefly(value, shown):
    assert show(value) == shown
    with pytest.raises(EnvelopeError) as err:
        validate("telemetry", dict(GOOD["telemetry"], v=value))
    assert len(str(err.value)) < 200 and shown in str(err.value)


@pytest.mark.parametrize("kind, body, field", [
    ("sync", {"t": 1.0, "n": 1, "after": 0, "to": "c", "deliver": [["t" * (MAX_TOPIC + 1), "T1", 1]]},
     r"sync.deliver\[0\]"),
    ("sync", {"t": 1.0, "n": 1, "after": 0, "to": "c", "deliver": [["t", "s" * 65, 1]]}, r"sync.deliver\[0\]"),
    ("sync", {"t": 1.0, "n": 1, "after": 0, "to": "c", "deliver": [["t", "T1", -1]]}, r"sync.deliver\[0\]"),
    ("sync", {"t": 1.0, "n": 1, "after": 0, "to": "c", "deliver": [["t", "T1", 1]] * (MAX_ITEMS + 1)}, "sync.deliver"),
    ("ack", {"t": 1.0, "n": 1, "published": ["t" * (MAX_TOPIC + 1)], "error": None}, r"ack.published\[0\]"),
    ("hello", {"id": "c", "filters": [], "quiet": []}, "hello.session: missing"),
    ("hello", {"id": "c", "session": "s", "filters": ["f" * (MAX_TOPIC + 1)], "quiet": []}, r"hello.filters\[0\]"),
    ("claim", {"session": 3}, "claim.session"),
    ("layout", dict(GOOD["layout"], planner={"name": "nearest", "options": {}, "seed": -1}), "layout.planner.seed"),
    ("layout", dict(GOOD["layout"], planner={"name": "nearest", "options": [], "seed": 1}), "layout.planner.options"),
    ("layout", dict(GOOD["layout"], routes=[dict(GOOD["layout"]["routes"][0], time_s={})]),
     r"layout.routes\[0\].time_s: must give"),
    ("layout", dict(GOOD["layout"], routes=[dict(GOOD["layout"]["routes"][0], time_s={"c" * 65: [1.0, 2.0]})]),
     r"layout.routes\[0\].time_s: class"),
])
def test_sizes_are_limited_where_a_body_names_topics_senders_and_classes(kind, body, field):
    with pytest.raises(EnvelopeError, match=field):
        validate(kind, body)


def test_barrier_topics_carry_their_kinds():
    topics = Topics("a", prefix="p/")
    assert [expected_kind(f"{topics.root}/sim/{name}") for name in ("sync", "ack", "stop", "claim", "hello/c")] == [
        "sync", "ack", "stop", "claim", "hello"]
