"""paho-mqtt's client with two per-message costs taken out of its network thread.

A cloud receives every truck's telemetry each second, and paho's network thread (which holds the interpreter
lock while it works) reads each packet's fixed header one byte per ``recv`` call and, for every message, walks its
tree of per-filter callbacks even when none is registered; profiled, those two were most of that thread's work.
``BufferedClient`` reads the socket in chunks and serves paho's small reads from them, and skips the walk while no
per-filter callback exists. Everything else is paho's own. docs/architecture.md, "Messages".

Both rest on paho 2.x internals (``_sock_recv``, ``_on_message_filtered``); where those are missing the client
is plain paho (``FAST_PATHS``).
"""

from __future__ import annotations

from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.matcher import MQTTMatcher

READ_CHUNK = 64 * 1024  # [B] read from the socket at once
FAST_PATHS = hasattr(mqtt.Client, "_sock_recv") and hasattr(MQTTMatcher, "iter_match")


class _Filters(MQTTMatcher):
    """paho's per-filter callbacks; with none registered, matching a topic is an empty answer, not a tree walk."""

    def iter_match(self, topic: str) -> Any:
        if not self._root._children:
            return iter(())
        return super().iter_match(topic)


class BufferedClient(mqtt.Client):
    """``paho.mqtt.client.Client`` reading its socket ``READ_CHUNK`` bytes at a time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._chunk = b""  # bytes read from the socket and not yet handed to paho
        self._at = 0
        self._chunk_sock: Any = None  # the socket they came from (a reconnection starts afresh)
        if FAST_PATHS and isinstance(getattr(self, "_on_message_filtered", None), MQTTMatcher):
            self._on_message_filtered = _Filters()

    def _sock_recv(self, bufsize: int) -> bytes:
        if not FAST_PATHS:
            return super()._sock_recv(bufsize)
        if self._at >= len(self._chunk) or self._chunk_sock is not self._sock:
            data = super()._sock_recv(READ_CHUNK)  # BlockingIOError when nothing waits, b"" when closed
            if not data:
                return data
            self._chunk, self._at, self._chunk_sock = data, 0, self._sock
        end = self._at + bufsize
        out = self._chunk[self._at:end]
        self._at = min(end, len(self._chunk))
        return out

    def buffered(self) -> int:
        """Bytes read from the socket that paho has not taken yet."""
        return len(self._chunk) - self._at if self._chunk_sock is self._sock else 0

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        """paho's read step, repeated while read bytes wait in the chunk: the socket no longer signals them, so
        they would otherwise sit until the next packet arrives."""
        rc = super().loop_read(max_packets)
        while rc == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS and self._sock is not None and self.buffered():
            rc = super().loop_read(max_packets)
        return rc
