"""An MQTT broker that starts with no setup: Debian's mosquitto when installed, else amqtt (pure Python).

``with EmbeddedBroker() as broker: ... broker.url`` gives ``mqtt://127.0.0.1:<free port>``; the broker listens
on loopback only and is stopped when the block ends, by the process that started it.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

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


class EmbeddedBroker:
    """A loopback broker for one run or test. ``kind``: "auto" (mosquitto if present), "mosquitto" or "amqtt"."""

    def __init__(self, kind: str = "auto") -> None:
        if kind not in ("auto", "mosquitto", "amqtt"):
            raise ValueError(f"broker kind must be auto, mosquitto or amqtt, got {kind!r}")
        self.requested = kind
        self.kind = ""
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker: Any = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedBroker:
        exe = find_mosquitto() if self.requested in ("auto", "mosquitto") else None
        if self.requested == "mosquitto" and exe is None:
            raise RuntimeError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        if exe is not None:
            self._start_mosquitto(exe)
        else:
            self._start_amqtt()
        return self

    def _start_mosquitto(self, exe: str) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="minefleet-mosquitto-")
        conf = Path(self._tmp.name) / "mosquitto.conf"
        for _ in range(3):  # another process may take the free port before mosquitto binds it
            self.port = free_port()
            # max_queued_messages 0: the default of 1000 silently drops QoS 1 messages for a slow subscriber.
            conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
                            "set_tcp_nodelay true\npersistence false\nlog_dest none\n", encoding="utf-8")
            self._proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)
            if wait_listening(self.port, time.monotonic() + START_TIMEOUT_S, self._proc):
                self.kind = "mosquitto"
                return
            self._stop_process()
        raise RuntimeError(f"mosquitto ({exe}) did not start listening on 127.0.0.1")

    def _start_amqtt(self) -> None:
        from amqtt.broker import Broker  # imported here: amqtt is only needed without mosquitto

        logging.getLogger("amqtt").setLevel(logging.ERROR)  # its protocol warnings are not ours to act on
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        async def boot() -> None:
            # Only the anonymous-auth plugin: some plugin must authenticate, and the logging and $SYS plugins
            # of the default configuration cost about a third of the throughput.
            cfg = {"listeners": {"default": {"type": "tcp", "bind": "127.0.0.1:0"}},
                   "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}}
            self._broker = Broker(cfg)
            await self._broker.start()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(boot())
            except BaseException as exc:  # handed to the starting thread, which raises it
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="amqtt-broker", daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT_S) or failure:
            raise RuntimeError(f"amqtt broker did not start: {failure[0] if failure else 'timed out'}")
        server = self._broker._servers["default"]
        self.port = int(server.instance.sockets[0].getsockname()[1])
        self.kind = "amqtt"

    def _stop_process(self) -> None:
        if self._proc is not None:
            stop_process(self._proc)
            self._proc = None

    def stop(self) -> None:
        self._stop_process()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        if self._loop is not None and self._broker is not None:
            fut = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
            try:
                fut.result(timeout=10)
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                if self._thread is not None:
                    self._thread.join(timeout=10)
                self._loop.close()
                self._loop = self._broker = self._thread = None

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
