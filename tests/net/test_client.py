"""net/client.py: paho's client reading its socket in chunks, and skipping the filter walk when it has no filters.

Packets come from ``Qos0Frames`` (the bytes a fleet writes) through a stand-in socket, and paho's own reader
parses them: every message arrives once, in order, whatever the chunk boundaries, from a single read step.
"""

from __future__ import annotations

import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

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


# -- QoS 0 messages parsed in one pass (``on_qos0``) ---------------------------------------------------------


def publish_qos1(topic: str, payload: bytes, mid: int) -> bytes:
    """A QoS 1 PUBLISH packet, which paho must read and acknowledge itself."""
    body = len(topic).to_bytes(2, "big") + topic.encode() + mid.to_bytes(2, "big") + payload
    return bytes([0x32, len(body)]) + body  # bodies under 128 bytes here


def fast_client_on(sock: ChunkSocket) -> tuple[BufferedClient, list[tuple[str, bytes, bool, bool]], list[int]]:
    """A client whose QoS 0 messages take the one-pass path; both paths append to one list, as a transport's."""
    c = BufferedClient(CallbackAPIVersion.VERSION2, client_id="test")
    got: list[tuple[str, bytes, bool, bool]] = []
    passes: list[int] = []
    c.on_message = lambda client, userdata, msg: got.append((msg.topic, msg.payload, bool(msg.retain), msg.qos > 0))
    c.on_qos0 = lambda batch: (got.extend(batch), passes.append(len(batch)))
    c._sock = sock
    c._packet_queue = lambda *args, **kwargs: MQTTErrorCode.MQTT_ERR_SUCCESS  # acknowledgements: to the broker
    return c, got, passes


def mixed(n: int) -> tuple[bytes, list[tuple[str, bytes, bool, bool]]]:
    """QoS 0 packets (some retained) with a QoS 1 packet every 9th, as a cloud receives telemetry and orders."""
    data, sent = b"", []
    for k in range(n):
        topic = f"site/t/T{k % 7}/telemetry"
        payload = (b"y" * (k * 13 % 90)) + str(k).encode()
        if k % 9 == 4:
            data += publish_qos1(topic, payload, k + 1)
            sent.append((topic, payload, False, True))
        else:
            retain = k % 11 == 0
            frames = Qos0Frames()
            frames.add(topic, payload)
            frame, _ = frames.take()
            data += (bytes([frame[0] | 1]) + frame[1:]) if retain else frame
            sent.append((topic, payload, retain, False))
    return data, sent


@pytest.mark.parametrize("cut", [1, 3, 7, 64, 1000, 10**6])
def test_one_pass_keeps_every_message_and_the_order_with_paho_s_packets_between(cut):
    data, sent = mixed(400)
    sock = ChunkSocket([data[a:a + cut] for a in range(0, len(data), cut)])
    c, got, passes = fast_client_on(sock)
    while sock.chunks:
        c.loop_read()
    assert got == sent
    assert c.buffered() == 0
    if cut >= 1000:
        assert sum(passes) > 300  # most QoS 0 messages took the one-pass path
    else:
        assert sum(passes) < len(sent)


def test_one_pass_leaves_a_cut_packet_and_odd_topics_to_paho():
    data, sent = packets(4)
    bad = bytes([0x30, 6, 0, 2, 0xFF, 0xFE]) + b"zz"  # a topic that is not UTF-8
    sock = ChunkSocket([data + bad + data[:-3]])
    c, got, passes = fast_client_on(sock)
    seen: list[bytes] = []
    c.on_message = lambda client, userdata, msg: seen.append(msg._topic)
    c.loop_read()
    # paho reads the first packet (it fills the chunk), one pass takes three, paho the odd topic, one pass three
    # more; paho holds the cut packet, whose rest comes with the next read.
    assert [m[:2] for m in got] == sent[1:] + sent[:3] and passes == [3, 3]
    assert seen == [sent[0][0].encode(), b"\xff\xfe"]
    assert c._in_packet["command"] != 0
    sock.chunks.append(data[-3:])
    c.loop_read()
    assert seen[-1] == sent[3][0].encode() and len(got) == 6


def test_one_pass_is_off_while_per_filter_callbacks_exist():
    data, _ = packets(14)
    c, got, passes = fast_client_on(ChunkSocket([data]))
    filtered: list[str] = []
    c.message_callback_add("site/t/T3/#", lambda client, userdata, msg: filtered.append(msg.topic))
    c.loop_read()
    assert filtered == ["site/t/T3/telemetry"] * 2 and len(got) == 12 and passes == []
