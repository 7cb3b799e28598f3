"""A follower's journal: what each barrier delivered and what its handlers published, so a restarted follower
rebuilds its state exactly (docs/architecture.md, "Faults").

A follower (the cloud) reacts only to the messages its leader names, in the order named, and its handlers are
deterministic; replaying the delivered messages through fresh handlers, with publishing muted, therefore brings
back the very state the killed process had, planner draws included. One JSON line per barrier, written before the
barrier is acknowledged: a process killed in between replays the barrier and acknowledges it again. A last line
cut short by the kill is ignored. The first line names the journal's format, site, topic prefix and follower, so a
journal is never confused with another file or another run's journal, and a file that is not a journal is never
written to.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from net.envelope import Envelope, EnvelopeError

FORMAT = "minefleet-follower-journal/1"


class JournalError(ValueError):
    """A journal that cannot be used for this follower; the message names the file and the reason."""


@dataclass
class Barrier:
    """One journaled barrier: its number, the messages delivered in order, the publications its handlers made."""

    n: int
    delivered: list[tuple[str, Envelope]]
    replies: list[tuple[str, bytes, int]] = field(default_factory=list)


class Journal:
    """Append-only barrier log of one follower of one run (``header``: site, prefix, follower id)."""

    def __init__(self, path: Path, header: dict[str, str]) -> None:
        self.path = Path(path)
        self.header = {"format": FORMAT, **header}
        self.last: Barrier | None = None  # the newest barrier replayed or recorded
        self.finished = False
        if self.path.exists():
            self._read()
        else:
            try:
                self._file: IO[bytes] = self.path.open("xb")
            except OSError as exc:
                raise JournalError(f"journal {self.path}: cannot be created ({exc.strerror or exc})") from None
            self._write(self.header)
            return
        if self.finished:
            raise JournalError(f"journal {self.path}: its run has ended; give a new journal path for a new run")
        try:
            self._file = self.path.open("ab")
        except OSError as exc:
            raise JournalError(f"journal {self.path}: cannot be appended to ({exc.strerror or exc})") from None

    def _read(self) -> None:
        """Check the header and whether the run ended; the barriers are read lazily by ``replay``."""
        try:
            with self.path.open("rb") as f:
                first = f.readline()
                last_line = b""
                for line in f:
                    if line.endswith(b"\n"):  # whatever follows the last newline was cut short by a kill
                        last_line = line
        except OSError as exc:
            raise JournalError(f"journal {self.path}: cannot be read ({exc.strerror or exc})") from None
        try:
            head = orjson.loads(first)
        except orjson.JSONDecodeError:
            head = None
        if not isinstance(head, dict) or head.get("format") != FORMAT:
            raise JournalError(f"journal {self.path}: not a minefleet journal; it is left as it is (give a new path)")
        if head != self.header:
            theirs = ", ".join(f"{k} {head.get(k)!r}" for k in self.header if head.get(k) != self.header[k])
            raise JournalError(f"journal {self.path}: it is another run's ({theirs})")
        self.finished = last_line.startswith(b'{"stop"')

    def replay(self) -> Iterator[Barrier]:
        """The barriers journaled by earlier processes of this follower, oldest first; ``last`` is the newest."""
        with self.path.open("rb") as f:
            f.readline()
            for k, line in enumerate(f, start=2):
                if not line.endswith(b"\n"):
                    break
                try:
                    barrier = self._parse(orjson.loads(line))
                except (orjson.JSONDecodeError, EnvelopeError, KeyError, TypeError, ValueError):
                    raise JournalError(f"journal {self.path}: line {k} is damaged") from None
                self.last = barrier
                yield barrier

    @staticmethod
    def _parse(doc: dict[str, Any]) -> Barrier:
        delivered = [(str(t), Envelope.from_dict(e)) for t, e in doc["d"]]
        replies = [(str(t), p.encode(), int(q)) for t, p, q in doc["r"]]
        return Barrier(int(doc["n"]), delivered, replies)

    def _write(self, doc: dict[str, Any]) -> None:
        self._file.write(orjson.dumps(doc) + b"\n")
        self._file.flush()  # in the OS's hands: a killed process loses nothing written

    def record(self, barrier: Barrier) -> None:
        self._write({"n": barrier.n, "d": [[t, e.to_dict()] for t, e in barrier.delivered],
                     "r": [[t, p.decode(), q] for t, p, q in barrier.replies]})
        self.last = barrier

    def close(self, finished: bool) -> None:
        if finished:
            self._write({"stop": True})
        self._file.close()
