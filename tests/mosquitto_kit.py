"""A site's own mosquitto, run as deploy/mosquitto/ tells: the broker outside minefleet that tests start, kill and
start again."""

from __future__ import annotations

import getpass
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from conftest import REPO

from net import broker_acl
from net.broker import find_mosquitto, free_port, stop_process, wait_listening

DEPLOY = REPO / "deploy" / "mosquitto"
NO_MOSQUITTO = "mosquitto is not installed (Debian: apt-get install mosquitto)"
WAIT_S = 10.0  # [s] host time allowed for mosquitto to listen on loopback


class ShippedMosquitto:
    """mosquitto with deploy/mosquitto/minefleet.conf, its listener moved to a free port and its files to
    ``folder``; the password file made as the README says, for the fleet, the cloud and truck T1."""

    def __init__(self, folder: Path, accounts: tuple[str, ...] = ("fleet", "cloud")) -> None:
        exe = find_mosquitto()
        if exe is None:
            pytest.skip(NO_MOSQUITTO)
        self.passwords = {a: broker_acl.new_password() for a in accounts}
        (folder / "passwd").write_text("".join(broker_acl.mosquitto_password_line(a, p) + "\n"
                                               for a, p in self.passwords.items()), encoding="utf-8")
        (folder / "minefleet.acl").write_text((DEPLOY / "minefleet.acl").read_text(encoding="utf-8"),
                                              encoding="utf-8")
        (folder / "data").mkdir()
        for f in ("passwd", "minefleet.acl"):
            os.chmod(folder / f, 0o600)
        shipped = (DEPLOY / "minefleet.conf").read_text(encoding="utf-8")
        for line in ("listener 1883 127.0.0.1", "allow_anonymous false", "max_queued_messages 0", "persistence true"):
            assert re.search(rf"^{line}$", shipped, re.M), f"minefleet.conf lacks {line!r}"
        self._proc: subprocess.Popen[bytes] | None = None
        for _ in range(3):  # another process may take the free port before mosquitto binds it
            self.port = free_port()
            conf = shipped
            for key, value in (("listener", f"{self.port} 127.0.0.1"), ("password_file", folder / "passwd"),
                               ("acl_file", folder / "minefleet.acl"), ("persistence_location", f"{folder}/data/")):
                conf, n = re.subn(rf"^{key} .*$", f"{key} {value}", conf, flags=re.M)
                assert n == 1, f"minefleet.conf should set {key} once"
            # Started as root, mosquitto would switch to user mosquitto, which cannot read this folder.
            (folder / "minefleet.conf").write_text(f"user {getpass.getuser()}\n{conf}", encoding="utf-8")
            self._command = [exe, "-c", str(folder / "minefleet.conf")]
            self._proc = subprocess.Popen(self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if wait_listening(self.port, time.monotonic() + WAIT_S, self._proc):
                return
            self.stop()
        raise RuntimeError("mosquitto did not start with the shipped minefleet.conf")

    def urls(self) -> dict[str, str]:
        base = f"mqtt://127.0.0.1:{self.port}"
        return {**{a: f"mqtt://{a}:{p}@127.0.0.1:{self.port}" for a, p in self.passwords.items()},
                "anonymous": base, "wrong-password": f"mqtt://cloud:wrong@127.0.0.1:{self.port}"}

    def kill(self) -> None:
        """SIGKILL, as a crash: no goodbye to the clients, nothing saved."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()

    def revive(self) -> None:
        self._proc = subprocess.Popen(self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_listening(self.port, time.monotonic() + WAIT_S, self._proc):
            raise RuntimeError("mosquitto did not start again with the shipped minefleet.conf")

    def stop(self) -> None:
        if self._proc is not None:
            stop_process(self._proc)
            self._proc = None
