"""mqtts:// end to end: mosquitto with a TLS listener and a password file, both made at test time.

A throw-away CA, a second CA that signed nothing, and a server certificate for 127.0.0.1 come from the openssl
CLI (the ``cryptography`` package is not a dependency of the project). The tests check that a round trip works
over TLS with the credentials taken from the URL, and that the usual mistakes (a CA that did not sign the
broker's certificate, a wrong or missing password, mqtt:// for a TLS port, a CA file that is not there) fail
at once with an ``MqttError`` that names the broker, masks the password and says what is wrong, not with a
traceback from ssl or paho. They are skipped, saying why, without mosquitto, mosquitto_passwd or openssl.
"""

from __future__ import annotations

import getpass
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from net.broker import find_mosquitto, free_port, stop_process, wait_listening
from net.envelope import Envelope
from net.mqtt import MqttError, MqttTransport
from net.topics import Topics

USER, PASSWORD = "truck", "s3cret:pw"  # a ':' in the password must survive the URL (percent-encoded there)
URL_PASSWORD = "s3cret%3Apw"
EVENT = {"event": "ready", "at": "S1", "payload_t": 0.0, "material": None, "truck_class": "c", "request": 1}
FAIL_FAST_S = 5.0  # [s] a misconfiguration must be reported well before the connection timeout would run out

OPENSSL_CONF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = minefleet test
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


@dataclass(frozen=True)
class Pki:
    ca: Path  # signed the broker's certificate
    other_ca: Path  # a valid CA that did not
    cert: Path
    key: Path


def _openssl(exe: str, cwd: Path, *args: str) -> None:
    done = subprocess.run([exe, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:2])} failed: {done.stderr.strip()}")


def make_pki(folder: Path) -> Pki:
    """Two self-signed CAs and a server certificate for IP 127.0.0.1 from the first; EC keys, made in ms."""
    exe = shutil.which("openssl")
    if exe is None:
        pytest.skip("the openssl CLI is needed to make the test certificates (Debian: apt-get install openssl)")
    (folder / "openssl.cnf").write_text(OPENSSL_CONF, encoding="utf-8")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for name in ("ca", "other-ca"):
        _openssl(exe, folder, "req", "-x509", "-config", "openssl.cnf", "-extensions", "ca_ext", *key,
                 "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2", "-subj", f"/CN=minefleet {name}")
    _openssl(exe, folder, "req", "-new", "-config", "openssl.cnf", *key, "-keyout", "server.key",
             "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    _openssl(exe, folder, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-set_serial", "2", "-days", "2", "-extfile", "openssl.cnf", "-extensions", "server_ext",
             "-out", "server.crt")
    return Pki(folder / "ca.crt", folder / "other-ca.crt", folder / "server.crt", folder / "server.key")


class TlsMosquitto:
    """mosquitto on a free loopback port, TLS only, no anonymous clients, one user from a password file."""

    def __init__(self, pki: Pki, folder: Path) -> None:
        exe = find_mosquitto()
        if exe is None:
            pytest.skip("mosquitto is not installed (Debian: apt-get install mosquitto); no TLS broker to test")
        passwd = shutil.which("mosquitto_passwd") or next(
            (p for p in ("/usr/bin/mosquitto_passwd", "/usr/sbin/mosquitto_passwd") if Path(p).is_file()), None)
        if passwd is None:
            pytest.skip("mosquitto_passwd is not installed (it comes with Debian's mosquitto package)")
        subprocess.run([passwd, "-b", "-c", str(folder / "passwd"), USER, PASSWORD], check=True,
                       capture_output=True)
        self.log = folder / "mosquitto.log"
        conf = folder / "mosquitto.conf"
        self._proc: subprocess.Popen[bytes] | None = None
        for _ in range(3):  # another process may take the free port before mosquitto binds it
            self.port = free_port()
            # "user": started as root, mosquitto would switch to user mosquitto, which cannot read this folder.
            conf.write_text(
                f"user {getpass.getuser()}\nlistener {self.port} 127.0.0.1\ncafile {pki.ca}\ncertfile {pki.cert}\n"
                f"keyfile {pki.key}\nallow_anonymous false\npassword_file {folder / 'passwd'}\n"
                f"persistence false\nlog_dest file {self.log}\n", encoding="utf-8")
            self._proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)
            if wait_listening(self.port, time.monotonic() + 10.0, self._proc):
                return
            self.stop()
        log = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else "(no log)"
        raise RuntimeError(f"mosquitto with a TLS listener did not start; its log:\n{log}")

    def url(self, userinfo: str = f"{USER}:{URL_PASSWORD}@", scheme: str = "mqtts") -> str:
        return f"{scheme}://{userinfo}127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._proc is not None:
            stop_process(self._proc)
            self._proc = None


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def broker(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsMosquitto]:
    b = TlsMosquitto(pki, tmp_path_factory.mktemp("mosquitto"))
    try:
        yield b
    finally:
        b.stop()


def wait_received(tr: MqttTransport, n: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while tr.received < n and time.monotonic() < deadline:
        tr.pump(0.05)
    assert tr.received == n, tr.counts()


def connect_error(url: str, ca: Path | str | None) -> str:
    """The message of the MqttError that connecting raises; it must come well within the timeout."""
    started = time.monotonic()
    with pytest.raises(MqttError) as info:
        MqttTransport(url, "tls-wrong", timeout_s=10.0, ca_certs=None if ca is None else str(ca))
    assert time.monotonic() - started < FAIL_FAST_S, "the error waited for the timeout instead of naming the cause"
    text = str(info.value)
    assert PASSWORD not in text and URL_PASSWORD not in text, text
    return text


def test_round_trip_over_tls_with_credentials_from_the_url(broker: TlsMosquitto, pki: Pki) -> None:
    topics = Topics("s", prefix="tls/")
    url = broker.url()
    with MqttTransport(url, "tls-pub", ca_certs=str(pki.ca)) as pub, \
            MqttTransport(url, "tls-sub", ca_certs=str(pki.ca)) as sub:
        assert pub.url == f"mqtts://{USER}:***@127.0.0.1:{broker.port}"  # masked wherever it is shown
        got: list[tuple[str, int]] = []
        sub.subscribe(topics.event("+"), lambda topic, env: got.append((topic, env.seq)))
        pub.publish(topics.event("T2"), Envelope("event", "T2", 1, 0.0, EVENT, t_deliver=2.0), qos=1)
        pub.publish(topics.event("T1"), Envelope("event", "T1", 1, 0.0, EVENT, t_deliver=1.0), qos=0)
        pub.flush()  # the QoS 1 message was acknowledged through TLS
        wait_received(sub, 2)
        while sub.next_due() is not None:
            sub.deliver_next()
        assert got == [("tls/mine/s/truck/T1/event", 1), ("tls/mine/s/truck/T2/event", 1)]
        assert sub.counts() == {"received": 2, "accepted": 2, "rejected": 0, "duplicates": 0, "empty": 0,
                                "published": 0, "delivered": 2, "too_old": 0, "overflow": 0, "unauthentic": 0,
                                "stale": 0, "forgotten": 0}


def test_system_ca_store_is_used_without_a_ca_file(broker: TlsMosquitto, pki: Pki,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``ca_certs`` the system's CAs are used, and OpenSSL takes them from SSL_CERT_FILE if set: the
    way to reach a broker with a private CA from a program that does not pass a CA file."""
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca))
    with MqttTransport(broker.url(), "tls-env") as tr:
        tr.subscribe("tls/env/#", lambda topic, env: None)  # a round trip to the broker and back


def test_ca_that_did_not_sign_the_broker_is_a_clear_error(broker: TlsMosquitto, pki: Pki) -> None:
    text = connect_error(broker.url(), pki.other_ca)
    assert text.startswith(f"cannot connect to broker mqtts://{USER}:***@127.0.0.1:{broker.port}: "
                           "its TLS certificate was not accepted"), text
    assert str(pki.other_ca) in text, text  # which CA file was tried


def test_no_ca_file_for_a_private_ca_is_a_clear_error(broker: TlsMosquitto, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    text = connect_error(broker.url(), None)
    assert "its TLS certificate was not accepted" in text and "system's CAs" in text, text


def test_wrong_password_is_a_clear_error(broker: TlsMosquitto, pki: Pki) -> None:
    text = connect_error(broker.url(f"{USER}:not-it@"), pki.ca)
    assert "not-it" not in text, text
    assert text.startswith(f"broker mqtts://{USER}:***@127.0.0.1:{broker.port} refused the connection of "
                           "tls-wrong: "), text
    assert "check the user name and password" in text, text


def test_missing_credentials_are_a_clear_error(broker: TlsMosquitto, pki: Pki) -> None:
    text = connect_error(broker.url(""), pki.ca)
    assert "refused the connection" in text and "no user name and password were given" in text, text


def test_plain_mqtt_url_for_a_tls_port_is_a_clear_error(broker: TlsMosquitto) -> None:
    text = connect_error(broker.url(scheme="mqtt"), None)
    assert text.startswith(f"broker mqtt://{USER}:***@127.0.0.1:{broker.port} closed the connection"), text
    assert "use mqtts://" in text, text


def test_missing_ca_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"
    with pytest.raises(MqttError, match=r"cannot use CA file .*no-such-ca\.pem.* for broker mqtts://u:\*\*\*@"):
        MqttTransport("mqtts://u:pw@127.0.0.1:1", "tls-nofile", ca_certs=str(missing))
