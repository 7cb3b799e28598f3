"""The broker's accounts and ACLs: nobody gets in without a password, and no account gets a message through, or
reads one, that its role does not allow; the shipped mosquitto example enforces the same rules.

Rogue clients are plain paho clients (not ``MqttTransport``): one per account (the fleet's, the cloud's, a
truck's), one anonymous and one with a wrong password. Each publishes on every topic of the layout, with and
without a run prefix, while a subscriber per account listens on every topic and on wildcards. What arrives must
be exactly what the roles allow, written out below by hand (not taken from ``net.broker_acl``), so a wrong rule
fails here; that the allowed messages do arrive is the positive control. The mosquitto cases are skipped without
mosquitto; the amqtt ones always run.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from conftest import REPO
from mosquitto_kit import NO_MOSQUITTO, ShippedMosquitto
from paho.mqtt.enums import CallbackAPIVersion

from net import broker_acl
from net.broker import EmbeddedBroker, find_mosquitto
from net.mqtt import BrokerUrl, MqttError, MqttTransport
from net.sync import sim_topic
from net.topics import Topics, matches

DEPLOY = REPO / "deploy" / "mosquitto"
KINDS = ["amqtt", pytest.param("mosquitto", marks=pytest.mark.skipif(find_mosquitto() is None, reason=NO_MOSQUITTO))]
TRUCK = "T1"
ACCOUNTS = ("fleet", "cloud", TRUCK)
ROGUES = (*ACCOUNTS, "anonymous", "wrong-password")
WAIT_S = 10.0  # [s] host time allowed for connections, acknowledgements and deliveries on loopback
END = b"end"  # payload of the messages that close a round

# What each account may publish and read, by topic name (``topic_table``): the roles as the product defines them.
MAY_PUBLISH = {
    "fleet": {"telemetry T1", "event T1", "perception T1", "telemetry T2", "event T2", "perception T2", "layout",
              "equipment", "sim sync", "sim stop", "sim claim"},
    "cloud": {"dispatch T1", "dispatch T2", "estop", "cloud status", "sim ack", "sim hello"},
    TRUCK: {"telemetry T1", "event T1", "perception T1"},
}
MAY_READ = {
    "fleet": {"dispatch T1", "dispatch T2", "estop", "cloud status", "sim ack", "sim hello", "sim claim"},
    "cloud": {"telemetry T1", "event T1", "perception T1", "telemetry T2", "event T2", "perception T2", "layout",
              "equipment", "sim sync", "sim stop", "estop"},
    TRUCK: {"dispatch T1", "estop"},
}
SPY_FILTERS = ["#", "+/#", "mine/#", "+/mine/#", "mine/+/truck/+/+", "+/mine/+/dispatch/+"]
# mosquitto_passwd 2.0.11 (Debian), "mosquitto_passwd -c -b FILE u secretpw": salt and hash from its output.
MOSQUITTO_PASSWD_LINE = ("u:$7$101$St8frw59run6tWOM$qiJ+BE94Mc9f9MobM9UVe71dKJENkkl5R+yAcbefDzlXcdRgGVQ72dtfZIen/"
                         "OXREMiMdsGaL/900CFIGPb7VQ==")


def topic_table(prefix: str) -> dict[str, str]:
    """Every topic of the layout (two trucks, site "s"), by name."""
    t = Topics("s", prefix=prefix)
    table = {f"{kind} {truck}": getattr(t, kind)(truck) for kind in ("telemetry", "event", "perception")
             for truck in ("T1", "T2")}
    table |= {f"dispatch {truck}": t.dispatch(truck) for truck in ("T1", "T2")}
    table |= {"estop": t.estop, "cloud status": t.cloud_status, "layout": t.layout, "equipment": t.equipment,
              "sim hello": sim_topic(t, "hello/cloud")}
    table |= {f"sim {name}": sim_topic(t, name) for name in ("sync", "ack", "stop", "claim")}
    return table


PREFIXES = ("", "mf-1a2b3c4d/")
TOPICS = {topic: name for prefix in PREFIXES for name, topic in topic_table(prefix).items()}


class Client:
    """A plain paho client that records what it receives; ``refused`` is the broker's answer if it said no.

    A broker may answer a forbidden QoS 1 publication with a PUBACK or by closing the connection (MQTT 3.1.1
    section 3.3.5; mosquitto 2.0.11 closes it when ``max_queued_messages`` is 0), so a publisher connects again
    when it has been put out.
    """

    def __init__(self, url: str, client_id: str) -> None:
        self.url, self.client_id = BrokerUrl.parse(url), client_id
        self.got: set[tuple[str, bytes]] = set()
        self.refused: mqtt.ReasonCode | None = None
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._connect()

    def _connect(self) -> None:
        answered, self._lost = threading.Event(), threading.Event()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, reconnect_on_failure=False)
        if self.url.username is not None:
            self.c.username_pw_set(self.url.username, self.url.password)

        def on_connect(client, userdata, flags, reason_code, properties) -> None:
            self.refused = reason_code if reason_code.is_failure else None
            answered.set()

        self.c.on_connect = on_connect
        self.c.on_disconnect = lambda *a: self._lost.set()
        self.c.on_message = self._on_message
        self.c.on_subscribe = lambda *a: self._subscribed.set()
        self.c.connect(self.url.host, self.url.port)
        self.c.loop_start()
        assert answered.wait(WAIT_S), f"{self.client_id}: no CONNACK"

    def _on_message(self, client, userdata, msg) -> None:
        with self._lock:
            self.got.add((msg.topic, msg.payload))

    def subscribe(self, filters: list[str]) -> None:
        """One SUBSCRIBE for all filters; the broker may refuse some of them (that is the point)."""
        self._subscribed.clear()
        self.c.subscribe([(f, 1) for f in filters])
        assert self._subscribed.wait(WAIT_S), "no SUBACK"
        assert not self._lost.is_set(), f"{self.client_id} was disconnected for subscribing"

    def publish_all(self, topics: list[str], payload: bytes) -> None:
        """QoS 1 on each topic in turn, each acknowledged (or the connection closed) before the next: the broker
        has then dropped or routed it. A refused client tries each once, and nothing is sent."""
        for topic in topics:
            for _ in range(2):
                if self._lost.is_set() and self.refused is None:
                    self.close()
                    self._connect()
                info = self.c.publish(topic, payload, qos=1)
                if info.rc != mqtt.MQTT_ERR_NO_CONN:
                    break
                self._lost.set()  # closed under us: the broker drops a client after a denied publication
            if self.refused is not None:
                continue
            deadline = time.monotonic() + WAIT_S
            while not info.is_published() and not self._lost.is_set():
                assert time.monotonic() < deadline, f"{self.client_id}: no PUBACK for {topic}"
                time.sleep(0.001)

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def rogue_round(urls: dict[str, str]) -> None:
    """Every rogue publishes on every topic; every account's subscriber listens everywhere. What arrives must be
    exactly what the roles allow (``urls``: account or rogue name -> broker URL with its credentials)."""
    readers = {account: Client(urls[account], f"reader-{account}") for account in ACCOUNTS}
    rogues: dict[str, Client] = {}
    try:
        for reader in readers.values():
            reader.subscribe([*TOPICS, *SPY_FILTERS])
        rogues = {who: Client(urls[who], f"rogue-{who}") for who in ROGUES}
        assert {who for who, c in rogues.items() if c.refused is not None} == {"anonymous", "wrong-password"}
        for who, rogue in rogues.items():
            rogue.publish_all(list(TOPICS), who.encode())
        expected = {(reader, topic, who.encode()) for reader in ACCOUNTS for who in ACCOUNTS
                    for topic, name in TOPICS.items() if name in MAY_READ[reader] & MAY_PUBLISH[who]}
        # A closing message for each reader (the cloud, the fleet, the truck), once every rogue message is in.
        for sender, name in (("fleet", "layout"), ("cloud", "cloud status"), ("cloud", "dispatch T1")):
            rogues[sender].publish_all([topic_table("")[name]], END)

        def got() -> set[tuple[str, str, bytes]]:
            return {(reader, topic, payload) for reader, c in readers.items() for topic, payload in set(c.got)}

        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and not (expected <= got() and all(
                any(p == END for _, p in c.got) for c in readers.values())):
            time.sleep(0.02)
        arrived = {m for m in got() if m[2] != END}
        forbidden = arrived - expected
        assert not forbidden, f"{len(forbidden)} forbidden messages arrived, e.g. {sorted(forbidden)[:5]}"
        assert arrived == expected, f"allowed messages missing: {sorted(expected - arrived)[:5]}"
        assert ("fleet", topic_table("")["dispatch T1"], b"cloud") in arrived  # the cloud's orders get through
    finally:
        for c in (*readers.values(), *rogues.values()):
            c.close()


def embedded_urls(broker: EmbeddedBroker) -> dict[str, str]:
    return {**{a: broker.url_for(a) for a in ACCOUNTS}, "anonymous": broker.url,
            "wrong-password": broker.url.replace("mqtt://", "mqtt://fleet:not-the-password@")}


@pytest.fixture(scope="module", params=KINDS)
def broker(request: pytest.FixtureRequest) -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(request.param, trucks=[TRUCK]) as b:
        yield b


def test_the_hand_written_table_covers_every_topic_and_only_the_cloud_gives_orders():
    """Every topic is read by the fleet or the cloud, and by one only but the e-stop (every account's); and the
    code's rules agree that only the cloud may publish orders and e-stops."""
    assert MAY_READ["fleet"] | MAY_READ["cloud"] == set(topic_table(""))
    assert MAY_READ["fleet"] & MAY_READ["cloud"] == {"estop"}
    for account in ACCOUNTS:
        writes = [topic for access, topic in broker_acl.role_rules(account) if access == broker_acl.WRITE]
        for prefix in PREFIXES:
            t = Topics("s", prefix=prefix)
            for command in (t.dispatch("T1"), t.estop):
                assert any(matches(f, command) for f in writes) == (account == "cloud"), (account, command)


def test_the_shipped_acl_is_the_one_the_code_generates():
    assert (DEPLOY / "minefleet.acl").read_text(encoding="utf-8") == broker_acl.mosquitto_acl()


def test_password_lines_are_those_mosquitto_passwd_writes():
    salt = base64.b64decode(MOSQUITTO_PASSWD_LINE.split("$")[3])
    assert broker_acl.mosquitto_password_line("u", "secretpw", salt) == MOSQUITTO_PASSWD_LINE
    assert re.fullmatch(r"u:\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==",
                        broker_acl.mosquitto_password_line("u", broker_acl.new_password()))


def test_a_truck_account_must_be_a_plain_id_and_not_a_role():
    for bad in ("fleet", "cloud", "T/1", "T+", "", "x" * 65):
        with pytest.raises(ValueError, match="truck account"):
            EmbeddedBroker("amqtt", trucks=[bad])


def test_anonymous_and_wrong_passwords_are_refused_with_a_clear_error(broker):
    with pytest.raises(MqttError, match=r"refused the connection of anon: .*no user name and password"):
        MqttTransport(broker.url, "anon", timeout_s=WAIT_S)
    password = BrokerUrl.parse(broker.url_for("fleet")).password
    assert password is not None
    wrong = broker.url_for("fleet").replace(password, password[::-1])
    with pytest.raises(MqttError, match=r"mqtt://fleet:\*\*\*@127\.0\.0\.1:\d+ refused .*check the user name") as info:
        MqttTransport(wrong, "wrong", timeout_s=WAIT_S)
    assert password not in str(info.value) and password[::-1] not in str(info.value)
    with pytest.raises(MqttError, match="refused"):
        MqttTransport(broker.url_for(TRUCK).replace(f"//{TRUCK}:", "//T2:"), "other-truck", timeout_s=WAIT_S)


def test_passwords_stay_in_private_files_only(broker):
    secrets = [BrokerUrl.parse(broker.url_for(a)).password for a in ACCOUNTS]
    assert len(set(secrets)) == 3 and all(s and len(s) >= 32 for s in secrets)
    shown = f"{broker!r} {broker.url}"
    assert not any(s in shown for s in secrets)
    folder = Path(broker._tmp.name)
    files = list(folder.iterdir())
    assert any(f.name == "passwd" for f in files)
    assert {f.name: f.stat().st_mode & 0o777 for f in files} == dict.fromkeys((f.name for f in files), 0o600)
    assert folder.stat().st_mode & 0o077 == 0
    assert not any(s in f.read_text(encoding="utf-8") for f in files for s in secrets)  # hashes only
    with pytest.raises(ValueError, match="no account 'T9'") as info:
        broker.url_for("T9")
    assert not any(s in str(info.value) for s in secrets)


def test_rogue_clients_get_nothing_forbidden_through(broker):
    rogue_round(embedded_urls(broker))


@pytest.mark.skipif(find_mosquitto() is None, reason=NO_MOSQUITTO)
def test_the_shipped_mosquitto_example_enforces_the_same_rules(tmp_path):
    shipped = ShippedMosquitto(tmp_path, ACCOUNTS)
    try:
        with pytest.raises(MqttError, match="no user name and password"):
            MqttTransport(shipped.urls()["anonymous"], "anon", timeout_s=WAIT_S)
        rogue_round(shipped.urls())
    finally:
        shipped.stop()
