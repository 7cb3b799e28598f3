"""paho-mqtt's client with its per-message costs taken out of its network thread.

A cloud receives every truck's telemetry each second, and paho's network thread (which holds the interpreter
lock while it works) reads each packet's fixed header one byte per ``recv`` call, builds a message object for
every packet and, for every message, walks its tree of per-filter callbacks even when none is registered.
``BufferedClient`` reads the socket in chunks and serves paho's small reads from them, and skips the walk while no
per-filter callback exists. With ``on_qos0`` set, the QoS 0 PUBLISH packets that wait whole in a chunk are
parsed here in one pass and handed over as one list of (topic, payload, retain, False): a QoS 0 message needs no answer,
so paho's state (acknowledgements, in-flight counts) is not concerned; about 1.5 us a message instead of paho's
9 (measured on a fleet's telemetry). Any other packet, a part of one, or a topic that is not UTF-8 stops the pass
and is paho's to read, so the order of everything received is kept.

On the sending side, a PUBLISH queued by a thread other than paho's is written by that thread at once, in queue
order, when the connection is plain TCP (``write_direct``): paho would instead wake its network thread, and the
caller then waited for the interpreter lock while that thread ran its loop to write the packet (70-120 us a
packet, measured on both tiers of a run over mosquitto, on the path of every barrier's answer). A write the socket
cannot take whole is left queued and paho's thread is woken to finish it, as before. TLS connections keep paho's
way: one SSL object must not be read and written by two threads at once. docs/architecture.md, "Messages".

All this rests on paho 2.x internals (``_sock_recv``, ``_in_packet``, ``_on_message_filtered``); where those are
missing the client is plain paho (``FAST_PATHS``).
"""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.matcher import MQTTMatcher

READ_CHUNK = 64 * 1024  # [B] read from the socket at once
FAST_PATHS = hasattr(mqtt.Client, "_sock_recv") and hasattr(MQTTMatcher, "iter_match")
FAST_WRITES = hasattr(mqtt.Client, "_packet_write")
WAKE_BYTE = getattr(mqtt, "sockpair_data", b"0")  # what paho writes to its wake-up socket
PUBLISH_QOS0_MASK, PUBLISH_QOS0 = 0xF6, 0x30  # fixed header: type 3 (PUBLISH), QoS bits 0; DUP, RETAIN any
Received = tuple[str, bytes, bool, bool]  # topic, payload, retain, QoS > 0 (False for these)
_CLOCK = getattr(mqtt, "time_func", time.monotonic)  # paho's clock for its keep-alive bookkeeping


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
        # Called from the network thread with the QoS 0 messages parsed in one pass, in arrival order; None: every
        # packet goes through paho and ``on_message``.
        self.on_qos0: Callable[[list[Received]], None] | None = None
        # Whoever writes (paho's thread or the caller's, ``_packet_queue``) holds this, so packets leave whole and
        # in the order they were queued.
        self._write_lock = threading.RLock()
        self.write_direct = FAST_WRITES and all(hasattr(self, name) for name in ("_out_packet", "_sockpairW",
                                                                                 "_thread"))
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

    def _packet_queue(self, command: int, packet: bytes | bytearray, mid: int, qos: int,
                      info: mqtt.MQTTMessageInfo | None = None) -> mqtt.MQTTErrorCode:
        """Queue a packet; a PUBLISH from a thread other than paho's is written here and now (see the module)."""
        if (not self.write_direct or command & 0xF0 != mqtt.PUBLISH or self._thread is None
                or threading.current_thread() is self._thread or isinstance(self._sock, ssl.SSLSocket)):
            return super()._packet_queue(command, packet, mid, qos, info)
        self._out_packet.append({"command": command, "mid": mid, "qos": qos, "pos": 0, "to_process": len(packet),
                                 "packet": packet, "info": info})
        rc = self._packet_write()  # a socket closed meanwhile by paho's thread: the packet stays queued (CONN_LOST)
        if rc != mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS or self._out_packet:
            # Not all written (the socket is full, or the connection failed): paho's thread finishes the write, or
            # finds the failure and reconnects, as with any packet it queues itself.
            self._wake()
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS

    def _packet_write(self) -> mqtt.MQTTErrorCode:
        with self._write_lock:
            return super()._packet_write()

    def _wake(self) -> None:
        """Break paho's network thread out of its wait, as paho does when it queues a packet."""
        waker = self._sockpairW
        if waker is not None:
            with contextlib.suppress(BlockingIOError):  # a byte already waits: it is awake anyway
                waker.send(WAKE_BYTE)

    def buffered(self) -> int:
        """Bytes read from the socket that paho has not taken yet."""
        return len(self._chunk) - self._at if self._chunk_sock is self._sock else 0

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        """paho's read step, repeated while read bytes wait in the chunk: the socket no longer signals them, so
        they would otherwise sit until the next packet arrives. Between paho's packets, the whole QoS 0 PUBLISH
        packets waiting in the chunk go to ``on_qos0`` in one pass."""
        rc = super().loop_read(max_packets)
        while rc == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS and self._sock is not None and self.buffered():
            if self._take_qos0() and not self.buffered():
                break
            rc = super().loop_read(max_packets)
        return rc

    def _take_qos0(self) -> int:
        """Parse the whole QoS 0 PUBLISH packets at the head of the chunk (paho being between packets) and hand
        them to ``on_qos0``; how many."""
        if self.on_qos0 is None or not FAST_PATHS or self._in_packet["command"] != 0 \
                or not isinstance(self._on_message_filtered, _Filters) or self._on_message_filtered._root._children:
            return 0
        buf, at = self._chunk, self._at
        end = len(buf)
        taken: list[Received] = []
        while at < end:
            first = buf[at]
            if first & PUBLISH_QOS0_MASK != PUBLISH_QOS0:
                break
            i, length, shift = at + 1, 0, 0
            while i < end and i - at <= 4:  # remaining length: at most four bytes of 7 bits
                byte = buf[i]
                length |= (byte & 127) << shift
                shift += 7
                i += 1
                if byte < 128:
                    break
            else:
                break  # cut off, or malformed: paho's to read (and to refuse)
            if i + length > end or length < 2:
                break
            topic_end = i + 2 + ((buf[i] << 8) | buf[i + 1])
            if topic_end > i + length:
                break
            try:
                topic = buf[i + 2:topic_end].decode("utf-8")
            except UnicodeDecodeError:
                break
            taken.append((topic, buf[topic_end:i + length], bool(first & 1), False))
            at = i + length
        if taken:
            self._at = at
            with self._msgtime_mutex:
                self._last_bytes_received = _CLOCK()
            self.on_qos0(taken)
        return len(taken)
