"""QoS 0 MQTT PUBLISH packets framed by hand, so a period's telemetry reaches paho as one write.

A fleet publishes every truck's telemetry each second; through paho one message at a time, each costs a wake-up
of paho's network thread (a thread switch) and paho's own per-message work. ``Qos0Frames`` builds the packets
(MQTT 3.1.1 sec. 3.3: fixed header, remaining length, topic; no packet id at QoS 0) into one buffer that the
transport hands to paho in order with everything else (net/mqtt.py, ``hand_over``). docs/architecture.md,
"Messages".
"""

from __future__ import annotations

import time

from net.receiver import TOPIC_CACHE

PUBLISH = 0x30  # a PUBLISH packet's type, with no DUP, QoS 0 and no RETAIN
FRAME_EVERY = 512  # messages framed at most before they are handed over
FRAME_BYTES = 128 * 1024  # [B] framed at most
FRAME_HOLD_S = 0.05  # [s] host time a framed message waits at most while the simulation runs (hand_over)


class Qos0Frames:
    """Framed QoS 0 PUBLISH packets waiting for their hand-over."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.count = 0
        self.since = 0.0  # host monotonic time of the oldest waiting one
        self._headers: dict[str, bytes] = {}

    def add(self, topic: str, payload: bytes) -> bool:
        """Frame one message; True when the buffer is full and should be handed over now."""
        header = self._headers.get(topic)
        if header is None:
            if len(self._headers) >= TOPIC_CACHE:
                self._headers.clear()
            header = self._headers[topic] = topic_header(topic)
        buf = self._buffer
        if not self.count:
            self.since = time.monotonic()
        buf.append(PUBLISH)
        size = len(header) + len(payload)
        if size < 128:
            buf.append(size)
        else:
            buf += remaining_length(size)
        buf += header
        buf += payload
        self.count += 1
        return self.count >= FRAME_EVERY or len(buf) >= FRAME_BYTES

    def take(self) -> tuple[bytes, int]:
        """The framed packets as one write, and how many messages they are; the buffer is empty after."""
        out, n = bytes(self._buffer), self.count
        self._buffer, self.count = bytearray(), 0
        return out, n


def remaining_length(n: int) -> bytes:
    """MQTT's remaining length (sec. 2.2.3): 7 bits a byte, least significant first."""
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | 0x80 if n else digit)
        if not n:
            return bytes(out)


def topic_header(topic: str) -> bytes:
    """A QoS 0 PUBLISH's variable header: the topic name as a length-prefixed UTF-8 string (sec. 3.3.2), checked
    as paho checks the topics it publishes to."""
    name = topic.encode()
    if not name or len(name) > 0xFFFF or any(c in topic for c in "+#\0"):
        raise ValueError(f"cannot publish to topic {topic[:80]!r}")
    return len(name).to_bytes(2, "big") + name
