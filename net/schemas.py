"""What the body of each message kind must hold: types, ranges and sizes, checked on receipt.

``validate(kind, body)`` raises ``EnvelopeError`` naming the field; receivers count such a message and drop it.
Fields beyond those listed are allowed (a newer sender may add some) up to ``MAX_FIELDS``. ``decode(topic,
payload)`` is the whole receiving path of a transport: envelope (its size and nesting are bounded there), kind
expected on that topic, body. Every list and string a body names has a bound, and an error quotes a received
value only through ``net.envelope.show``, which is short and never recursive, whatever the value.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from net.envelope import MAX_NAME, Envelope, EnvelopeError, show

MAX_FIELDS = 32  # [-] keys in one body or list item
MAX_ID = 64  # [chars] an id: truck, facility, route, class, material
MAX_COORD_M = 1e6  # [m] positions in the mine's local frame
MAX_SPEED_MPS = 100.0  # [m/s]
MAX_PAYLOAD_T = 1000.0  # [t]
MAX_TIME_S = 1e9  # [s] simulation times
MAX_ITEMS = 10_000  # list lengths (layout routes, barrier key lists)
MAX_TOPIC = 256  # [chars] a topic or topic filter named in a body (prefix, site and truck id included)
TRUCK_STATES = ("WAIT_ORDER", "TRAVEL_EMPTY", "QUEUE_LOAD", "SPOT", "LOADING", "TRAVEL_LOADED", "QUEUE_DUMP",
                "DUMPING", "HOLD", "ESTOP", "DOWN")  # docs/architecture.md, "Truck states"
_STATES = frozenset(TRUCK_STATES)
EVENTS = ("loaded", "dumped", "ready", "hold", "estop", "resume", "down", "up", "arrive")
EQUIPMENT_STATES = ("down", "up")
FACILITY_KINDS = ("shovel", "dump", "crusher", "park")


def _obj(doc: Any, where: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise EnvelopeError(f"{where}: must be an object")
    if len(doc) > MAX_FIELDS:
        raise EnvelopeError(f"{where}: {len(doc)} fields, at most {MAX_FIELDS}")
    return doc


def _get(doc: dict[str, Any], key: str, where: str) -> Any:
    if key not in doc:
        raise EnvelopeError(f"{where}.{key}: missing")
    return doc[key]


def _num(doc: dict[str, Any], key: str, where: str, lo: float, hi: float) -> float:
    v = _get(doc, key, where)
    # The ranges are finite, so the comparison also refuses NaN and infinities (and compares an int of any size).
    if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
        raise EnvelopeError(f"{where}.{key}: must be a number in [{lo:g}, {hi:g}], got {_show(v)}")
    return float(v)


def _int(doc: dict[str, Any], key: str, where: str, lo: int, hi: int) -> int:
    v = _get(doc, key, where)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise EnvelopeError(f"{where}.{key}: must be an integer in [{lo}, {hi}], got {_show(v)}")
    return v


def _str(doc: dict[str, Any], key: str, where: str, choices: tuple[str, ...] = (), optional: bool = False,
         max_len: int = MAX_ID) -> str | None:
    return _sval(_get(doc, key, where), f"{where}.{key}", choices, optional, max_len)


def _sval(v: Any, where: str, choices: tuple[str, ...] = (), optional: bool = False,
          max_len: int = MAX_ID) -> str | None:
    if v is None and optional:
        return None
    if not isinstance(v, str) or not v or len(v) > max_len:
        raise EnvelopeError(f"{where}: must be a string of 1-{max_len} characters"
                            f"{' or null' if optional else ''}, got {_show(v)}")
    if choices and v not in choices:
        raise EnvelopeError(f"{where}: {_show(v)} is not one of {', '.join(choices)}")
    return v


def _list(doc: dict[str, Any], key: str, where: str, max_len: int = MAX_ITEMS) -> list[Any]:
    v = _get(doc, key, where)
    if not isinstance(v, list) or len(v) > max_len:
        raise EnvelopeError(f"{where}.{key}: must be a list of at most {max_len} items, got {_show(v)}")
    return v


_show = show  # every value quoted in an error is short and never recursed into (net.envelope.show)


def telemetry(body: dict[str, Any]) -> None:
    # Fast path for the most frequent message (every truck, every second): floats in range and a known state
    # pass at once; anything else (ints, a missing or wrong field) takes the checks below, which name the fault.
    x, y, v, payload, state = body.get("x"), body.get("y"), body.get("v"), body.get("payload_t"), body.get("state")
    if (type(state) is str and state in _STATES
            and type(x) is float and type(y) is float and type(v) is float and type(payload) is float
            and -MAX_COORD_M <= x <= MAX_COORD_M and -MAX_COORD_M <= y <= MAX_COORD_M
            and 0.0 <= v <= MAX_SPEED_MPS and 0.0 <= payload <= MAX_PAYLOAD_T):
        return
    telemetry_checked(body)


def telemetry_checked(body: dict[str, Any]) -> None:
    """Every telemetry check, naming the first field that fails (``telemetry`` without its fast path)."""
    w = "telemetry"
    _num(body, "x", w, -MAX_COORD_M, MAX_COORD_M)
    _num(body, "y", w, -MAX_COORD_M, MAX_COORD_M)
    _num(body, "v", w, 0.0, MAX_SPEED_MPS)
    _str(body, "state", w, TRUCK_STATES)
    _num(body, "payload_t", w, 0.0, MAX_PAYLOAD_T)


def event(body: dict[str, Any]) -> None:
    w = "event"
    _str(body, "event", w, EVENTS)
    _str(body, "at", w, optional=True)
    _num(body, "payload_t", w, 0.0, MAX_PAYLOAD_T)
    _str(body, "material", w, optional=True)
    _str(body, "truck_class", w)
    _int(body, "request", w, 0, 2**53)


def order(body: dict[str, Any]) -> None:
    w = "order"
    _str(body, "dest", w)
    _str(body, "route", w, max_len=2 * MAX_ID + 8)
    _int(body, "request", w, 0, 2**53)
    if "unit" in body:
        _str(body, "unit", w, optional=True)


def estop(body: dict[str, Any]) -> None:
    w = "estop"
    for k, truck in enumerate(_list(body, "trucks", w, MAX_ITEMS)):
        _sval(truck, f"{w}.trucks[{k}]")
    if not isinstance(_get(body, "engage", w), bool):
        raise EnvelopeError(f"{w}.engage: must be true or false, got {_show(body['engage'])}")
    _str(body, "reason", w)


def equipment(body: dict[str, Any]) -> None:
    w = "equipment"
    _str(body, "facility", w)
    _str(body, "unit", w)
    _str(body, "state", w, EQUIPMENT_STATES)
    _str(body, "reason", w)
    _int(body, "units_up", w, 0, 1000)


def layout(body: dict[str, Any]) -> None:
    w = "layout"
    _str(body, "site", w)
    for k, f in enumerate(_list(body, "facilities", w)):
        fw = f"layout.facilities[{k}]"
        f = _obj(f, fw)
        _str(f, "id", fw)
        _str(f, "kind", fw, FACILITY_KINDS)
        _num(f, "x", fw, -MAX_COORD_M, MAX_COORD_M)
        _num(f, "y", fw, -MAX_COORD_M, MAX_COORD_M)
        if "bays" in f:
            _int(f, "bays", fw, 1, 1000)
        if "service_s" in f:
            _num(f, "service_s", fw, 0.0, MAX_TIME_S)
        if "material" in f:
            _str(f, "material", fw, optional=True)
        if "accepts" in f:
            for j, m in enumerate(_list(f, "accepts", fw, 64)):
                _sval(m, f"{fw}.accepts[{j}]")
    for k, r in enumerate(_list(body, "routes", w)):
        rw = f"layout.routes[{k}]"
        r = _obj(r, rw)
        _str(r, "id", rw, max_len=2 * MAX_ID + 8)
        _str(r, "from", rw)
        _str(r, "to", rw)
        _num(r, "length_m", rw, 0.0, MAX_COORD_M)
        times = _obj(_get(r, "time_s", rw), f"{rw}.time_s")
        if not times:  # a planner reads a route's time for some class: one with none cannot be planned on
            raise EnvelopeError(f"{rw}.time_s: must give [empty, loaded] seconds for at least one truck class")
        for cls, pair in times.items():
            if len(cls) > MAX_ID:
                raise EnvelopeError(f"{rw}.time_s: class {_show(cls)} longer than {MAX_ID} characters")
            if not isinstance(pair, list) or len(pair) != 2:
                raise EnvelopeError(f"{rw}.time_s.{cls}: must be [empty, loaded] seconds, got {_show(pair)}")
            _num({"empty": pair[0], "loaded": pair[1]}, "empty", f"{rw}.time_s.{cls}", 0.0, MAX_TIME_S)
            _num({"empty": pair[0], "loaded": pair[1]}, "loaded", f"{rw}.time_s.{cls}", 0.0, MAX_TIME_S)
        if "for" in r:
            for j, item in enumerate(_list(r, "for", rw, 256)):
                if (not isinstance(item, list) or len(item) != 2 or not isinstance(item[1], bool)
                        or _sval(item[0], f"{rw}.for[{j}]") is None):
                    raise EnvelopeError(f"{rw}.for[{j}]: must be [truck class, loaded], got {_show(item)}")
    if "planner" in body:  # the planner a cloud of its own makes (cloud.planners.PlannerSpec)
        spec = _obj(body["planner"], "layout.planner")
        _str(spec, "name", "layout.planner")
        _obj(_get(spec, "options", "layout.planner"), "layout.planner.options")
        _int(spec, "seed", "layout.planner", 0, 2**64 - 1)


# -- the barrier between a leader and its followers (net.sync) ---------------------------------------

def _is_name(v: Any, max_len: int) -> bool:
    """A non-empty string of at most ``max_len`` characters (a topic, a filter, a sender)."""
    return isinstance(v, str) and 0 < len(v) <= max_len


def sync(body: dict[str, Any]) -> None:
    w = "sync"
    _num(body, "t", w, 0.0, MAX_TIME_S)
    _int(body, "n", w, 0, 2**53)
    _int(body, "after", w, 0, 2**53)
    _str(body, "to", w)
    for k, key in enumerate(_list(body, "deliver", w)):
        if (not isinstance(key, list) or len(key) != 3 or not _is_name(key[0], MAX_TOPIC)
                or not _is_name(key[1], MAX_NAME) or isinstance(key[2], bool) or not isinstance(key[2], int)
                or key[2] < 0):
            raise EnvelopeError(f"sync.deliver[{k}]: must be [topic, src, seq], got {_show(key)}")


def ack(body: dict[str, Any]) -> None:
    w = "ack"
    _num(body, "t", w, 0.0, MAX_TIME_S)
    _int(body, "n", w, 0, 2**53)
    for k, topic in enumerate(_list(body, "published", w)):
        if not _is_name(topic, MAX_TOPIC):
            raise EnvelopeError(f"ack.published[{k}]: must be a topic, got {_show(topic)}")
    _str(body, "error", w, optional=True, max_len=2000)


def hello(body: dict[str, Any]) -> None:
    w = "hello"
    _str(body, "id", w)
    _str(body, "session", w)
    for key in ("filters", "quiet"):
        for k, f in enumerate(_list(body, key, w, 256)):
            if not _is_name(f, MAX_TOPIC):
                raise EnvelopeError(f"hello.{key}[{k}]: must be a topic filter, got {_show(f)}")
    answered = body.get("answered", {})
    if not isinstance(answered, dict) or len(answered) > 256:
        raise EnvelopeError(f"hello.answered: must be an object of at most 256 filters, got {_show(answered)}")
    for f, kinds in answered.items():
        if not _is_name(f, MAX_TOPIC) or not isinstance(kinds, list) or len(kinds) > 64 \
                or not all(_is_name(k, MAX_NAME) for k in kinds):
            raise EnvelopeError(f"hello.answered[{_show(f)}]: must be a list of event names, got {_show(kinds)}")


def claim(body: dict[str, Any]) -> None:
    _str(body, "session", "claim")


def stop(body: dict[str, Any]) -> None:
    w = "stop"
    _num(body, "t", w, 0.0, MAX_TIME_S)
    _int(body, "n", w, 0, 2**53)
    _str(body, "to", w)


VALIDATORS: dict[str, Callable[[dict[str, Any]], None]] = {
    "telemetry": telemetry, "event": event, "order": order, "estop": estop, "layout": layout, "equipment": equipment,
    "sync": sync, "ack": ack, "hello": hello, "stop": stop, "claim": claim,
}


def validate(kind: str, body: Any) -> None:
    """Check a body of a known kind; raise ``EnvelopeError`` naming the field. Unknown kinds are refused."""
    check = VALIDATORS.get(kind)
    if check is None:
        raise EnvelopeError(f"unknown message kind {_show(kind)}")
    check(_obj(body, kind))


@lru_cache(maxsize=4096)
def expected_kind(topic: str) -> str | None:
    """The kind a topic carries (docs/architecture.md, "Messages"), or None for a topic this contract does not fix."""
    parts = topic.split("/")
    if len(parts) >= 3 and parts[-3] == "truck" and parts[-1] in ("telemetry", "event"):
        return parts[-1]
    if len(parts) >= 2 and parts[-2] == "dispatch":
        return "order"
    if topic.endswith("/site/layout"):
        return "layout"
    if topic.endswith("/site/equipment"):
        return "equipment"
    if topic.endswith("/fleet/estop"):
        return "estop"
    if len(parts) >= 2 and parts[-2] == "sim" and parts[-1] in ("sync", "ack", "stop", "claim"):
        return parts[-1]
    if len(parts) >= 3 and parts[-3] == "sim" and parts[-2] == "hello":
        return "hello"
    return None


def decode(topic: str, payload: bytes) -> Envelope:
    """Envelope from a received payload, checked against its topic and its kind's schema."""
    env = Envelope.from_json(payload)
    want = expected_kind(topic)
    if want is not None and env.kind != want:
        raise EnvelopeError(f"kind {_show(env.kind)} on a {want} topic")
    if env.kind in VALIDATORS:
        validate(env.kind, env.body)
    return env
