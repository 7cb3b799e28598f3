"""Message authentication: only the site's cloud may command a truck, only the run's peers may drive its barrier.

Anyone who can publish on the broker can write to a truck's dispatch or e-stop topic, or to the time barrier's
control topics, so a receiver acts on such a message only if it carries a valid HMAC-SHA256 over its topic,
header and body under the site key, comes from a sender allowed on that topic (``cloud`` for orders and
e-stops), is not a replay of one already accepted, and is not delivered before it was sent. The key itself
never leaves this module's objects: it is in no repr, log line, error message, summary or run directory.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

import orjson

from net.envelope import Envelope

KEY_BYTES = 32
ENV_VAR = "MINEFLEET_SITE_KEY"
CLOUD_SRC = "cloud"
REASONS = ("unsigned", "forged", "replayed", "out_of_window", "wrong_sender")
MAX_SKEW_S = 0.0  # [s] t_deliver - t_sent a signed message may carry: its sender stamps both at once
REPLAY_WINDOW = 4096  # seqs below the highest accepted minus this are refused outright; within it, once each


class SiteKeyError(ValueError):
    """A site key that cannot be read; the message says how to provide one and never holds key material."""


class SiteKey:
    """The secret the cloud signs orders with and the trucks check them with: 32 random bytes."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if not isinstance(secret, bytes) or len(secret) != KEY_BYTES:
            raise SiteKeyError(f"a site key is {KEY_BYTES} bytes ({2 * KEY_BYTES} hex digits)")
        self._secret = secret

    @classmethod
    def generate(cls) -> SiteKey:
        """A fresh key from the OS's CSPRNG: one per run whose cloud is in this process."""
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_hex(cls, text: str, where: str) -> SiteKey:
        """``where`` names the source in the error, which never quotes the text (it may be a near-miss key)."""
        try:
            raw = bytes.fromhex(text.strip())
        except ValueError:
            raise SiteKeyError(f"{where}: not hex ({2 * KEY_BYTES} hex digits expected)") from None
        if len(raw) != KEY_BYTES:
            raise SiteKeyError(f"{where}: {len(raw)} bytes, a site key is {KEY_BYTES} ({2 * KEY_BYTES} hex digits)")
        return cls(raw)

    @classmethod
    def from_env(cls, var: str = ENV_VAR) -> SiteKey | None:
        """The key in ``$MINEFLEET_SITE_KEY`` (hex), or None when it is unset or empty."""
        text = os.environ.get(var, "")
        return cls.from_hex(text, f"${var}") if text.strip() else None

    @classmethod
    def from_file(cls, path: str | Path) -> SiteKey:
        """The key in a file of hex digits (surrounding whitespace ignored)."""
        try:
            text = Path(path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise SiteKeyError(f"key file {str(path)!r}: cannot be read ({type(exc).__name__})") from None
        return cls.from_hex(text, f"key file {str(path)!r}")

    def mac(self, data: bytes) -> str:
        return hmac.new(self._secret, data, hashlib.sha256).hexdigest()

    def __repr__(self) -> str:
        return "SiteKey(<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a SiteKey is not pickled: it must not reach a file")


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number it holds, so both sides encode the same body the same way."""
    item = getattr(value, "item", None)
    if item is None:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")
    return item()


def canonical(topic: str, env: Envelope) -> bytes:
    """The bytes signed: topic, kind, src, seq, both times and the body, as compact JSON with sorted keys. Floats
    are written in their shortest exact form, which survives the wire's JSON, so sender and receiver build the
    same bytes. orjson takes a tenth of the standard encoder's time (a barrier's sync names up to 300 messages,
    signed by one side and checked by the other); like ``Envelope.to_json``, a document with a null in it is
    checked again by the strict encoder, so a NaN or an infinity is refused rather than signed as null, and an
    integer beyond 64 bits is refused (``TypeError``) as it cannot be a genuine message's."""
    doc = [topic, env.kind, env.src, env.seq, env.t_sent, env.t_deliver, env.body]
    data = orjson.dumps(doc, default=_plain, option=orjson.OPT_SORT_KEYS)
    if b"null" in data:
        json.dumps(doc, allow_nan=False, default=_plain)
    return data


def sign(key: SiteKey, topic: str, env: Envelope) -> str:
    """Hex HMAC-SHA256 of the envelope as published on ``topic``."""
    return key.mac(canonical(topic, env))


def authenticate(key: SiteKey, topic: str, env: Envelope, senders: frozenset[str]) -> str | None:
    """None when ``env`` is signed under ``key`` for ``topic`` by one of ``senders`` and stamped to be delivered
    when it was sent; otherwise the reason to refuse it (one of ``REASONS`` but "replayed", which needs memory).

    Commands and control messages are stamped ``t_deliver = t_sent`` by their sender: the radio's delay is added
    by the receiving truck from its own link, after this check. A command claiming any other delivery time
    (before it was sent, or held back to land later than sent) is out of window."""
    if not env.sig:
        return "unsigned"
    try:
        want = sign(key, topic, env)
    except (TypeError, ValueError):  # a body the canonical encoder refuses cannot carry a valid signature
        return "forged"
    if not hmac.compare_digest(want, env.sig):
        return "forged"
    if env.src not in senders:  # signed with the site key but by another party: a truck never commands
        return "wrong_sender"
    if not 0.0 <= env.t_deliver - env.t_sent <= MAX_SKEW_S:
        return "out_of_window"
    return None


class Verifier:
    """Checks commands on receipt; ``check`` returns None to obey, or the reason for refusing.

    Replay: a message is accepted once per (sender, kind), and only while its seq is within ``REPLAY_WINDOW`` of
    the highest seq accepted of that pair. A strictly increasing rule would refuse genuine orders that overtake
    each other (a planner whose decision time varies sends a later order sooner), which would change the
    simulated figures.
    """

    def __init__(self, key: SiteKey, senders: tuple[str, ...] = (CLOUD_SRC,)) -> None:
        self._key = key
        self._senders = frozenset(senders)
        self._top: dict[tuple[str, str], int] = {}
        self._seen: dict[tuple[str, str], set[int]] = {}

    def check(self, topic: str, env: Envelope) -> str | None:
        refused = authenticate(self._key, topic, env, self._senders)
        if refused is not None:
            return refused
        who = (env.src, env.kind)
        top = self._top.get(who, -1)
        seen = self._seen.setdefault(who, set())
        if env.seq <= top - REPLAY_WINDOW or env.seq in seen:
            return "replayed"
        seen.add(env.seq)
        if env.seq > top:
            self._top[who] = env.seq
            if len(seen) > 2 * REPLAY_WINDOW:
                floor = env.seq - REPLAY_WINDOW
                self._seen[who] = {s for s in seen if s > floor}
        return None
