"""net/client.py: paho's client reading its socket in chunks, and skipping the filter walk when it has no filters.

Packets come from ``Qos0Frames`` (the bytes a fleet writes) through a stand-in socket, and paho's own reader
parses them: every message arrives once, in order, whatever the chunk boundaries, from a single read step.
"""

from __future__ import annotations

import threading
import time

import pytest
from paho.mqtt.client import PINGREQ, PUBLISH, MQTTMessageInfo
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


class SendSocket:
    """A non-blocking socket that takes at most ``take`` bytes a call (``None``: all), recording what it took and
    from which thread; ``full`` makes it refuse everything, as a socket whose buffer is full (``refuse_every``: every
    n-th call). Like a real one, it
    lets other threads run during the call (before it takes the bytes)."""

    def __init__(self, take: int | None = None, refuse_every: int = 0) -> None:
        self.take, self.full = take, False
        self.refuse_every, self.calls = refuse_every, 0  # refuse every n-th call, as a buffer filling and draining
        self.sent = bytearray()
        self.threads: set[int] = set()

    def send(self, buf: bytes) -> int:
        time.sleep(0)  # the system call releases the interpreter lock
        self.calls += 1
        if self.full or (self.refuse_every and self.calls % self.refuse_every == 0):
            raise BlockingIOError()
        self.threads.add(threading.get_ident())
        n = len(buf) if self.take is None else min(self.take, len(buf))
        self.sent += bytes(buf[:n])
        return n

    def close(self) -> None:
        pass


class Waker:
    """paho's wake-up socket: counts the times its network thread would be woken."""

    def __init__(self) -> None:
        self.wakes = 0

    def send(self, data: bytes) -> int:
        self.wakes += 1
        return len(data)

    def close(self) -> None:
        pass


def writing_client(sock: SendSocket) -> tuple[BufferedClient, Waker]:
    """A client as ``loop_start`` leaves it: a network thread (here one that never runs) and its wake-up socket."""
    c = BufferedClient(CallbackAPIVersion.VERSION2, client_id="test")
    c._sock = sock
    c._thread = threading.Thread(target=lambda: None)
    waker = Waker()
    c._sockpairW = waker
    return c, waker


def publish_packets(n: int) -> list[bytes]:
    out = []
    for k in range(n):
        frames = Qos0Frames()
        frames.add(f"site/t/T{k}/telemetry", str(k).encode() * (k % 50 + 1))
        out.append(frames.take()[0])
    return out


def test_a_publish_from_the_simulation_thread_is_written_by_it_without_waking_paho():
    sock = SendSocket()
    c, waker = writing_client(sock)
    sent = publish_packets(3)
    for packet in sent:
        c._packet_queue(PUBLISH, packet, 0, 0, MQTTMessageInfo(0))
    assert bytes(sock.sent) == b"".join(sent)
    assert sock.threads == {threading.get_ident()}
    assert waker.wakes == 0 and not c._out_packet


def test_what_the_socket_cannot_take_waits_for_paho_s_thread_and_the_order_holds():
    sock = SendSocket(take=7)
    c, waker = writing_client(sock)
    sent = publish_packets(5)
    sock.full = True  # the first finds the socket full: queued whole, paho woken
    c._packet_queue(PUBLISH, sent[0], 0, 0, MQTTMessageInfo(0))
    assert sock.sent == b"" and len(c._out_packet) == 1 and waker.wakes == 1
    sock.full = False
    for packet in sent[1:]:  # each write takes 7 bytes a call until all that is queued is out
        c._packet_queue(PUBLISH, packet, 0, 0, MQTTMessageInfo(0))
    assert bytes(sock.sent) == b"".join(sent)


def test_a_connection_closed_under_the_writer_leaves_the_packet_to_paho_s_thread():
    c, waker = writing_client(SendSocket())
    c._sock = None  # paho's thread lost the connection and closed the socket
    packet = publish_packets(1)[0]
    assert c._packet_queue(PUBLISH, packet, 0, 0, MQTTMessageInfo(0)) == MQTTErrorCode.MQTT_ERR_SUCCESS
    assert len(c._out_packet) == 1 and waker.wakes == 1  # kept for after the reconnection, as paho keeps it


def test_packets_queued_on_paho_s_thread_or_other_than_publish_are_left_to_it():
    sock = SendSocket()
    c, waker = writing_client(sock)
    c._packet_queue(PINGREQ, b"\xc0\x00", 0, 0)
    assert sock.sent == b"" and waker.wakes == 1
    c._packet_write()
    assert sock.sent == b"\xc0\x00"
    c._thread = threading.current_thread()  # as if this were paho's network thread
    packet = publish_packets(1)[0]
    c._packet_queue(PUBLISH, packet, 0, 0, MQTTMessageInfo(0))
    assert sock.sent == b"\xc0\x00" and waker.wakes == 2


def test_two_writing_threads_never_cut_or_reorder_packets():
    """The simulation thread queues and writes while paho's thread writes whatever is queued, as it does when woken:
    the bytes on the wire are the packets whole, in the order they were queued."""
    sock = SendSocket(take=5, refuse_every=3)
    c, _ = writing_client(sock)
    sent = publish_packets(400)
    done = threading.Event()

    def paho_thread() -> None:
        while not done.is_set() or c._out_packet:
            c._packet_write()

    network = threading.Thread(target=paho_thread)
    c._thread = network
    network.start()
    for packet in sent:
        c._packet_queue(PUBLISH, packet, 0, 0, MQTTMessageInfo(0))
    done.set()
    network.join(10.0)
    assert bytes(sock.sent) == b"".join(sent)
