"""A cloud tier of its own on a broker, served from a thread as ``minefleet cloud`` would serve it, and the check
that a run beside it hauled exactly what the in-process run hauled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from minefleet.rundir import fleet_side
from minefleet.wiring import serve_cloud
from net.auth import ENV_VAR, SiteKey
from net.broker_url import for_child


class CloudThread:
    """``with CloudThread(url, site, key, prefix) as cloud: ...``; ``cloud.result`` is ``serve_cloud``'s (cloud,
    stats), or the exception that ended it (a run beside it then fails too: this names why)."""

    def __init__(self, url: str, site: str, key: SiteKey, prefix: str, peer_timeout_s: float) -> None:
        self.result: Any = None
        self._thread = threading.Thread(target=self._serve, args=(url, site, key, prefix, peer_timeout_s),
                                        daemon=True)

    def _serve(self, url: str, site: str, key: SiteKey, prefix: str, peer_timeout_s: float) -> None:
        try:
            self.result = serve_cloud(url, site, None, key, prefix=prefix, peer_timeout_s=peer_timeout_s)
        except Exception as exc:
            self.result = exc

    def __enter__(self) -> CloudThread:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(timeout=60)


def same_shift(summary: Path, reference: Path) -> bool:
    """The run's summary equals the in-process run's, but for the counts only an in-process cloud can report."""
    return json.loads(summary.read_text()) == fleet_side(json.loads(reference.read_text()))


def cloud_process(broker_url: str, site: str, planner: str, prefix: str) -> tuple[subprocess.Popen[str], SiteKey]:
    """``minefleet cloud`` in a second process, with a fresh site key handed over in the environment as an operator
    would set it; the key for the fleet's side."""
    hex_key = os.urandom(32).hex()
    url, env = for_child(broker_url, {**os.environ, ENV_VAR: hex_key})
    proc = subprocess.Popen([sys.executable, "-m", "minefleet.cli", "cloud", "--broker", url, "--site", site,
                             "--planner", planner, "--prefix", prefix], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    return proc, SiteKey.from_hex(hex_key, "test")
