"""QoS 0 PUBLISH packets framed by hand (net/frames.py), byte for byte as MQTT 3.1.1 writes them."""

from __future__ import annotations

import pytest

from net.frames import FRAME_EVERY, PUBLISH, Qos0Frames, remaining_length, topic_header


@pytest.mark.parametrize("n, encoded", [(0, b"\x00"), (127, b"\x7f"), (128, b"\x80\x01"), (16383, b"\xff\x7f"),
                                        (16384, b"\x80\x80\x01"), (2097151, b"\xff\xff\x7f")])
def test_remaining_length_is_the_specs_variable_byte_integer(n, encoded):
    assert remaining_length(n) == encoded  # MQTT 3.1.1 sec. 2.2.3, table 2.4


def test_a_packet_is_header_length_topic_payload():
    frames = Qos0Frames()
    frames.add("mine/a/truck/T1/telemetry", b"{}")
    frames.add("t", b"x" * 200)
    out, n = frames.take()
    topic = b"mine/a/truck/T1/telemetry"
    first = bytes([PUBLISH, 2 + len(topic) + 2]) + len(topic).to_bytes(2, "big") + topic + b"{}"
    second = bytes([PUBLISH]) + remaining_length(3 + 200) + b"\x00\x01t" + b"x" * 200
    assert n == 2 and out == first + second
    assert frames.take() == (b"", 0)


def test_full_after_frame_every_messages():
    frames = Qos0Frames()
    full = [frames.add("t", b"") for _ in range(FRAME_EVERY)]
    assert full == [False] * (FRAME_EVERY - 1) + [True]


@pytest.mark.parametrize("topic", ["", "a/+/b", "a/#", "a\0b"])
def test_topics_paho_would_refuse_are_refused(topic):
    with pytest.raises(ValueError):
        topic_header(topic)
