"""An MQTT broker that starts with no setup: Debian's mosquitto when installed, else amqtt (pure Python), each in
a process of its own.

``with EmbeddedBroker() as broker: ... broker.url_for("fleet")`` gives ``mqtt://fleet:<password>@127.0.0.1:<free
port>``. The broker listens on loopback only, refuses anonymous clients and applies the role ACLs of
``net.broker_acl``: a password per account is drawn at start, and the password and ACL files live in a private
temporary folder (0700, files 0600) that is removed, with the broker, when the block ends. ``broker.url`` carries no
credentials: it is what a client without an account knows, and what may be shown.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from net import broker_acl

START_TIMEOUT_S = 10.0  # [s]
MOSQUITTO_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def find_mosquitto() -> str | None:
    """Path of a mosquitto executable (PATH first, then Debian's /usr/sbin, often not on a user's PATH)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((p for p in MOSQUITTO_PATHS if Path(p).is_file()), None)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (a broker started on it may still lose a race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, deadline: float, proc: subprocess.Popen[bytes] | None = None) -> bool:
    """True once 127.0.0.1:``port`` accepts connections; False at ``deadline`` or when ``proc`` has exited."""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.02)
    return False


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600 from creation): password files, ACLs."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


class EmbeddedBroker:
    """A loopback broker for one run or test. ``kind``: "auto" (mosquitto if present), "mosquitto" or "amqtt".

    ``trucks``: ids that get an account of their own (the per-truck role), besides ``fleet`` and ``cloud``.
    ``secure=False`` lets anyone in and publish anything, as brokers do out of the box: only for tests of
    transport behaviour that no role may perform (a client reading back its own publications, one subscriber
    to every topic); a run always uses the secure default.
    """

    def __init__(self, kind: str = "auto", secure: bool = True, trucks: Iterable[str] = ()) -> None:
        if kind not in ("auto", "mosquitto", "amqtt"):
            raise ValueError(f"broker kind must be auto, mosquitto or amqtt, got {kind!r}")
        self.trucks = tuple(trucks)
        for truck in self.trucks:
            broker_acl.check_truck_id(truck)
        self.requested = kind
        self.secure = secure
        self.kind = ""
        self.port = 0
        self._passwords: dict[str, str] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._reaper: weakref.finalize | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._argv: list[str] = []  # the broker's command line, kept for ``revive``

    def __repr__(self) -> str:  # never the passwords
        return f"EmbeddedBroker(kind={self.kind or self.requested!r}, port={self.port}, secure={self.secure})"

    @property
    def url(self) -> str:
        """The broker's address without credentials (a secure broker refuses it)."""
        return f"mqtt://127.0.0.1:{self.port}"

    def url_for(self, account: str) -> str:
        """``mqtt://<account>:<password>@127.0.0.1:<port>`` for "fleet", "cloud" or one of ``trucks``."""
        password = self._passwords.get(account)
        if password is None:
            known = ", ".join(self._passwords) or "none: the broker is not started"
            raise ValueError(f"the embedded broker has no account {account!r} (accounts: {known})")
        return f"mqtt://{account}:{password}@127.0.0.1:{self.port}"

    def start(self) -> EmbeddedBroker:
        self._passwords = {account: broker_acl.new_password() for account in (*broker_acl.ROLES, *self.trucks)}
        exe = find_mosquitto() if self.requested in ("auto", "mosquitto") else None
        if self.requested == "mosquitto" and exe is None:
            raise RuntimeError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        self._tmp = tempfile.TemporaryDirectory(prefix="minefleet-broker-")  # 0700: only this user enters
        try:
            if exe is not None:
                self._start_mosquitto(exe, Path(self._tmp.name))
            else:
                self._start_amqtt(Path(self._tmp.name))
        except BaseException:
            self.stop()
            raise
        return self

    def _start_mosquitto(self, exe: str, folder: Path) -> None:
        conf = folder / "mosquitto.conf"
        if self.secure:
            write_private(folder / "passwd", "".join(broker_acl.mosquitto_password_line(account, password) + "\n"
                                                     for account, password in self._passwords.items()))
            write_private(folder / "acl", broker_acl.mosquitto_acl())
            access = f"allow_anonymous false\npassword_file {folder / 'passwd'}\nacl_file {folder / 'acl'}\n"
        else:
            access = "allow_anonymous true\n"
        for _ in range(3):  # another process may take the free port before mosquitto binds it
            self.port = free_port()
            # max_queued_messages 0: the default of 1000 silently drops QoS 1 messages for a slow subscriber.
            # "user": started as root, mosquitto would switch to user mosquitto, which cannot read this folder.
            write_private(conf, f"user {getpass.getuser()}\nlistener {self.port} 127.0.0.1\n{access}"
                                "max_queued_messages 0\nset_tcp_nodelay true\npersistence false\nlog_dest none\n")
            self._argv = [exe, "-c", str(conf)]
            if self._spawn():
                self.kind = "mosquitto"
                return
        raise RuntimeError(f"mosquitto ({exe}) did not start listening on 127.0.0.1")

    def _start_amqtt(self, folder: Path) -> None:
        """amqtt in a process of its own (``python -m net.broker``): in this process its Python work per message
        shared one interpreter lock with the simulation and its clients, and took half of a run's time with it."""
        # Only the authentication and topic plugins: the logging and $SYS plugins of the default configuration
        # cost about a third of the throughput.
        if self.secure:
            passwd = folder / "passwd"
            write_private(passwd, "".join(broker_acl.amqtt_password_line(account, password) + "\n"
                                          for account, password in self._passwords.items()))
            plugins = broker_acl.amqtt_plugins(str(passwd), self.trucks)
        else:
            plugins = {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}
        conf, log = folder / "amqtt.json", folder / "amqtt.log"
        for _ in range(3):  # another process may take the free port before amqtt binds it
            self.port = free_port()
            write_private(conf, json.dumps({"listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
                                            "plugins": plugins, "secure": self.secure}))
            self._argv = [sys.executable, "-m", __name__, str(conf)]
            if self._spawn(log, watch=True):
                self.kind = "amqtt"
                return
        reason = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] if log.exists() else []
        raise RuntimeError(f"amqtt broker did not start: {reason[0] if reason else 'timed out'}")

    def _spawn(self, log: Path | None = None, watch: bool = False) -> bool:
        """Start the broker process of ``_argv``; True once it listens (it is then stopped with this object).
        ``log``: a private file for its errors. ``watch``: it gets a pipe from this process as its stdin, whose
        end tells it this process is gone (``serve_amqtt``), so not even a crash leaves it listening."""
        err = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) if log is not None else subprocess.DEVNULL
        stdin = subprocess.PIPE if watch else subprocess.DEVNULL
        try:
            self._proc = subprocess.Popen(self._argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=err)
        finally:
            if log is not None:
                os.close(err)
        # A process that ends without stop() (say, closing a client raised first) must not leave the broker
        # listening: it is stopped when this object is collected or at the latest at exit.
        if self._reaper is not None:
            self._reaper.detach()
        self._reaper = weakref.finalize(self, stop_process, self._proc)
        if wait_listening(self.port, time.monotonic() + START_TIMEOUT_S, self._proc):
            return True
        self._stop_process()
        return False

    def _stop_process(self) -> None:
        if self._reaper is not None:
            self._reaper.detach()
            self._reaper = None
        if self._proc is not None:
            stop_process(self._proc)
            self._proc = None

    def kill(self) -> None:
        """Kill the broker process at once, as a crash would, keeping its port, accounts and files for ``revive``:
        for fault tests and benches."""
        if self._proc is None:
            raise RuntimeError("the broker is not started")
        self._proc.kill()
        self._proc.wait()

    def revive(self) -> None:
        """Start a killed broker again on the same port with the same accounts, as a restarted one: without the
        sessions, subscriptions and retained messages it had (no persistence)."""
        if self._proc is None or self._proc.poll() is None:
            raise RuntimeError("only a killed broker can be revived")
        if not self._spawn(watch=self.kind == "amqtt"):
            raise RuntimeError(f"{self.kind} did not listen again on 127.0.0.1:{self.port}")

    def stop(self) -> None:
        self._stop_process()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_process(proc: subprocess.Popen) -> None:
    """Terminate a broker process, and kill it if it does not exit within 5 s."""
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def serve_amqtt(conf: Path) -> None:
    """The amqtt broker process (``python -m net.broker CONF``) of ``EmbeddedBroker``, until it is terminated or
    its stdin ends (the process that started it is gone)."""
    from amqtt.broker import Broker  # imported here: amqtt is only needed without mosquitto

    class AclBroker(Broker):
        """amqtt's broker asking the topic ACL plugin directly. amqtt 0.12.1 runs every plugin check as a task of
        its own, and with a topic plugin loaded it then now and then held the last QoS 1 message of a burst until
        the next message came (in 4 of 18 bursts of 2,000 messages on loopback; in none of 30 when asked
        directly): a run's time barrier waiting for that message would stall."""

        async def _topic_filtering(self, session: Any, topic: str, action: Any) -> bool:
            acl = self.plugins_manager.get_plugin(broker_acl.AmqttTopicAcl.__name__)
            return acl is None or bool(await acl.topic_filtering(session=session, topic=topic, action=action))

    logging.getLogger("amqtt").setLevel(logging.ERROR)  # its protocol warnings are not ours to act on
    cfg = json.loads(conf.read_text(encoding="utf-8"))
    secure = cfg.pop("secure")

    async def serve() -> None:
        broker = AclBroker(cfg)
        if secure and broker.plugins_manager.get_plugin(broker_acl.AmqttTopicAcl.__name__) is None:
            raise RuntimeError("amqtt did not load the topic ACL plugin")
        await broker.start()
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)

    asyncio.run(serve())


if __name__ == "__main__":
    serve_amqtt(Path(sys.argv[1]))
