"""net/client.py: paho's client reading its socket in chunks, and skipping the filter walk when it has no filters.

Packets come from ``Qos0Frames`` (the bytes a fleet writes) through a stand-in socket, and paho's own reader
parses them: every message arrives once, in order, whatever the chunk boundaries, from a single read step.
"""

from __future__ import annotations

import pytest
from paho.mqtt.enums import CallbackAPIVersion

from net.client import READ_CHUNK, BufferedClient
from net.frames import Qos0Frames


class ChunkSocket:
    """A non-blocking socket whose reads return at most the given chunks, one per call, then would block."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)
        self.reads: list[int] = []  # the size each recv asked for

    def recv(self, bufsize: int) -> bytes:
        self.reads.append(bufsize)
        if not self.chunks:
            raise BlockingIOError()
        chunk = self.chunks.pop(0)
        if len(chunk) > bufsize:
            self.chunks.insert(0, chunk[bufsize:])
            chunk = chunk[:bufsize]
        return chunk

    def pending(self) -> int:
        return 0

    def close(self) -> None:
        self.chunks = []


def packets(n: int) -> tuple[bytes, list[tuple[str, bytes]]]:
    frames = Qos0Frames()
    sent = []
    for k in range(n):
        topic, payload = f"site/t/T{k % 7}/telemetry", (b"x" * (k * 37 % 300)) + str(k).encode()
        frames.add(topic, payload)
        sent.append((topic, payload))
    data, count = frames.take()
    assert count == n
    return data, sent


def client_on(sock: ChunkSocket) -> tuple[BufferedClient, list[tuple[str, bytes]]]:
    c = BufferedClient(CallbackAPIVersion.VERSION2, client_id="test")
    got: list[tuple[str, bytes]] = []
    c.on_message = lambda client, userdata, msg: got.append((msg.topic, msg.payload))
    c._sock = sock  # what paho's connect would have set
    return c, got


@pytest.mark.parametrize("cut", [1, 2, 5, 64, 1000, 10**6])
def test_every_message_arrives_once_in_order_whatever_the_socket_hands_over_at_a_time(cut):
    """The socket hands over ``cut`` bytes a read; paho's loop reads again while the socket has data."""
    data, sent = packets(300)
    sock = ChunkSocket([data[a:a + cut] for a in range(0, len(data), cut)])
    c, got = client_on(sock)
    while sock.chunks:
        c.loop_read()
    assert got == sent
    assert c.buffered() == 0


def test_small_reads_are_served_from_one_socket_read():
    data, sent = packets(50)
    sock = ChunkSocket([data])
    c, got = client_on(sock)
    c.loop_read()
    assert got == sent
    assert sock.reads == [READ_CHUNK]  # one read took it all, where paho alone asks for single bytes


def test_a_packet_cut_across_reads_is_completed_by_the_next():
    data, sent = packets(3)
    sock = ChunkSocket([data[:-5]])
    c, got = client_on(sock)
    c.loop_read()
    assert got == sent[:2]
    sock.chunks.append(data[-5:])
    c.loop_read()
    assert got == sent


def test_a_new_socket_starts_afresh():
    data, sent = packets(2)
    c, got = client_on(ChunkSocket([data[:3]]))  # a connection lost part-way into a packet
    c.loop_read()
    c._reset_sockets()
    c._in_packet = {"command": 0, "have_remaining": 0, "remaining_count": [], "remaining_mult": 1,
                    "remaining_length": 0, "packet": bytearray(b""), "to_process": 0, "pos": 0}
    c._sock = ChunkSocket([data])
    c.loop_read()
    assert got == sent


def test_per_filter_callbacks_still_match():
    data, _ = packets(14)
    c, got = client_on(ChunkSocket([data]))
    filtered: list[str] = []
    c.message_callback_add("site/t/T3/#", lambda client, userdata, msg: filtered.append(msg.topic))
    c.loop_read()
    assert filtered == ["site/t/T3/telemetry"] * 2
    assert len(got) == 12  # the others go to on_message
