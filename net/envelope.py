"""The message envelope every topic carries (docs/architecture.md, "Messages"), with validation on receipt.

Simulation times travel inside the envelope: ``t_sent`` when the sender published and ``t_deliver`` when
the link model says it arrives, so delivery is decided in simulation time whatever the transport.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import orjson

VERSION = 1
MAX_SIG = 128  # characters of a signature: HMAC-SHA256 in hex is 64
MAX_BYTES = 64 * 1024  # [B] larger payloads are refused: no truck or cloud message comes near this


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
        return cls.from_dict(doc)

    @classmethod
    def from_dict(cls, doc: Any) -> Envelope:
        """An envelope from a decoded JSON object; ``EnvelopeError`` names the first field that is wrong."""
        if type(doc) is dict and doc.get("v") == VERSION:
            # Fast path for what senders write (floats for times): a subset of what the checks below accept, so
            # the result is the same; anything else takes the checks, which name the fault.
            kind, src, seq, body = doc.get("kind"), doc.get("src"), doc.get("seq"), doc.get("body")
            t_sent, t_deliver, sig = doc.get("t_sent"), doc.get("t_deliver"), doc.get("sig")
            if (type(kind) is str and kind and type(src) is str and src and type(seq) is int and seq >= 0
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
            raise EnvelopeError(f"unsupported envelope version {doc.get('v')!r}")
        kind, src, seq, body = doc.get("kind"), doc.get("src"), doc.get("seq"), doc.get("body")
        if not isinstance(kind, str) or not kind or not isinstance(src, str) or not src:
            raise EnvelopeError("'kind' and 'src' must be non-empty strings")
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            raise EnvelopeError("'seq' must be a non-negative integer")
        if not isinstance(body, dict):
            raise EnvelopeError("'body' must be an object")
        times = []
        for key in ("t_sent", "t_deliver"):
            t = doc.get(key)
            if isinstance(t, bool) or not isinstance(t, int | float) or not math.isfinite(t) or t < 0:
                raise EnvelopeError(f"'{key}' must be a finite non-negative number")
            times.append(float(t))
        if times[1] < times[0]:
            raise EnvelopeError("'t_deliver' is before 't_sent'")
        sig = doc.get("sig")
        if sig is not None and (not isinstance(sig, str) or len(sig) > MAX_SIG):
            raise EnvelopeError(f"'sig' must be a string of at most {MAX_SIG} characters")
        return cls(kind=kind, src=src, seq=seq, t_sent=times[0], body=body, t_deliver=times[1], sig=sig)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds (the standard encoder takes float64, orjson does not)."""
    item = getattr(value, "item", None)
    if item is None:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")
    return item()


# orjson encodes and decodes a message in about a tenth of the standard library's time, which is most of the
# transport's own cost per message; the strict standard encoder only re-checks payloads that hold a null.
_STRICT = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
