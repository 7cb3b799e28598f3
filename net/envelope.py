"""The message envelope every topic carries (docs/architecture.md, "Messages"), with validation on receipt.

Simulation times travel inside the envelope: ``t_sent`` when the sender published and ``t_deliver`` when
the link model says it arrives, so delivery is decided in simulation time whatever the transport.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from typing import Any

import orjson

VERSION = 1
MAX_SIG = 128  # characters of a signature: HMAC-SHA256 in hex is 64
MAX_BYTES = 64 * 1024  # [B] larger payloads are refused: no truck or cloud message comes near this
MAX_NAME = 64  # [chars] of 'kind' and 'src': a truck id (net.schemas.MAX_ID), "cloud", "site", a follower id
# [levels] of objects and lists, the envelope itself being 1. The deepest real message is the site layout at 8
# (envelope > body > facilities > facility > units > unit > by_class > class), measured on every shipped
# scenario; twice that leaves room for a newer sender. Checked before anything walks the document recursively.
MAX_DEPTH = 16
SHOW_CHARS = 40  # [chars] of a received value quoted in an error message


class EnvelopeError(ValueError):
    """A received payload that is not a valid envelope; receivers count and drop it."""


@dataclass(slots=True)
class Envelope:
    kind: str
    src: str
    seq: int
    t_sent: float  # [s] simulation time
    body: dict[str, Any] = field(default_factory=dict)
    t_deliver: float = math.nan  # [s] simulation time the link releases it; NaN until the link decides
    v: int = VERSION
    sig: str | None = None  # hex HMAC of an order (net.auth); other kinds leave it out, so their bytes are unchanged
    # [B] size of the payload it was decoded from (0 if built here): what holding it costs a receiver, which
    # bounds its queues by it (net.mqtt.Receiver). Not part of the message, so not compared.
    wire_bytes: int = field(default=0, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        doc = {"v": self.v, "kind": self.kind, "src": self.src, "seq": self.seq, "t_sent": self.t_sent,
               "t_deliver": self.t_deliver, "body": self.body}
        if self.sig is not None:
            doc["sig"] = self.sig
        return doc

    def to_json(self) -> bytes:
        """Compact UTF-8 JSON. orjson writes NaN and infinities as null, so a payload with a null in it is
        checked again by the strict encoder, which refuses them (JSON has no such numbers)."""
        doc = self.to_dict()
        data = orjson.dumps(doc, default=_plain)
        if b"null" in data:
            _STRICT.encode(doc)
        return data

    @classmethod
    def from_json(cls, data: bytes) -> Envelope:
        if len(data) > MAX_BYTES:
            raise EnvelopeError(f"payload of {len(data)} B exceeds {MAX_BYTES} B")
        try:
            doc = orjson.loads(data)  # refuses invalid UTF-8, NaN/Infinity literals and nesting beyond 1024
        except orjson.JSONDecodeError as exc:
            raise EnvelopeError(f"not UTF-8 JSON: {exc}") from None
        # Fewer brackets than levels allowed cannot nest too deep: the walk is for large messages only.
        if data.count(b"[") + data.count(b"{") > MAX_DEPTH and too_deep(doc, MAX_DEPTH):
            raise EnvelopeError(f"nested deeper than {MAX_DEPTH} levels")
        env = cls.from_dict(doc)
        env.wire_bytes = len(data)
        return env

    @classmethod
    def from_dict(cls, doc: Any) -> Envelope:
        """An envelope from a decoded JSON object; ``EnvelopeError`` names the first field that is wrong."""
        if type(doc) is dict and doc.get("v") == VERSION:
            # Fast path for what senders write (floats for times): a subset of what the checks below accept, so
            # the result is the same; anything else takes the checks, which name the fault.
            kind, src, seq, body = doc.get("kind"), doc.get("src"), doc.get("seq"), doc.get("body")
            t_sent, t_deliver, sig = doc.get("t_sent"), doc.get("t_deliver"), doc.get("sig")
            if (type(kind) is str and 0 < len(kind) <= MAX_NAME and type(src) is str and 0 < len(src) <= MAX_NAME
                    and type(seq) is int and seq >= 0
                    and type(body) is dict and type(t_sent) is float and type(t_deliver) is float
                    and 0.0 <= t_sent <= t_deliver < math.inf
                    and (sig is None or (type(sig) is str and len(sig) <= MAX_SIG))):
                return cls(kind, src, seq, t_sent, body, t_deliver, sig=sig)
        return cls._checked(doc)

    @classmethod
    def _checked(cls, doc: Any) -> Envelope:
        if not isinstance(doc, dict):
            raise EnvelopeError("envelope must be a JSON object")
        if doc.get("v") != VERSION:
            raise EnvelopeError(f"unsupported envelope version {show(doc.get('v'))}")
        kind, src, seq, body = doc.get("kind"), doc.get("src"), doc.get("seq"), doc.get("body")
        for key, name in (("kind", kind), ("src", src)):
            if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME:
                raise EnvelopeError(f"'{key}' must be a string of 1-{MAX_NAME} characters, got {show(name)}")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            raise EnvelopeError("'seq' must be a non-negative integer")
        if not isinstance(body, dict):
            raise EnvelopeError("'body' must be an object")
        times = []
        for key in ("t_sent", "t_deliver"):
            t = doc.get(key)
            # a comparison, not math.isfinite: that raises on an int too large for a float
            if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t <= sys.float_info.max:
                raise EnvelopeError(f"'{key}' must be a finite non-negative number")
            times.append(float(t))
        if times[1] < times[0]:
            raise EnvelopeError("'t_deliver' is before 't_sent'")
        sig = doc.get("sig")
        if sig is not None and (not isinstance(sig, str) or len(sig) > MAX_SIG):
            raise EnvelopeError(f"'sig' must be a string of at most {MAX_SIG} characters")
        return cls(kind=kind, src=src, seq=seq, t_sent=times[0], body=body, t_deliver=times[1], sig=sig)


def too_deep(doc: Any, limit: int) -> bool:
    """Whether objects and lists nest deeper than ``limit`` levels; level by level, never recursive, so a
    document nested a thousand deep costs a loop, not the interpreter's stack."""
    level, depth = [doc], 0
    while level:
        depth += 1
        if depth > limit:
            return True
        deeper: list[Any] = []
        for item in level:
            if item:  # an empty one ends here: its level is counted already
                deeper += [c for c in (item.values() if type(item) is dict else item) if type(c) in _CONTAINERS]
        level = deeper
    return False


def show(value: Any) -> str:
    """A received value as quoted in an error message: short whatever it is. Containers are described, not
    printed (``repr`` of a deeply nested one recurses), and strings are cut before ``repr`` sees them."""
    if value is None or type(value) is bool or type(value) is float:
        return repr(value)
    if type(value) is int:
        return repr(value) if value.bit_length() <= 64 else f"an integer of {value.bit_length()} bits"
    if type(value) is str:
        text = repr(value[:SHOW_CHARS])
        return text if len(value) <= SHOW_CHARS else text[:-1] + "..." + text[-1]
    if type(value) is list and len(value) <= 4 and all(v is None or type(v) in _SCALARS for v in value):
        return "[" + ", ".join(show(v) for v in value) + "]"  # short and flat: small, and the clearest
    if type(value) is list:
        return f"a list of {len(value)} items"
    if type(value) is dict:
        return f"an object of {len(value)} fields"
    return f"a {type(value).__name__}"


_SCALARS = (bool, int, float, str)
_CONTAINERS = frozenset((dict, list))  # what JSON nests


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (the standard encoder takes float64, orjson does not)."""
    item = getattr(value, "item", None)
    if item is None:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")
    return item()


# orjson encodes and decodes a message in about a tenth of the standard library's time, which is most of the
# transport's own cost per message; the strict standard encoder only re-checks payloads that hold a null.
_STRICT = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
