"""Broker addresses, and the broker password kept off the command line.

``mqtt://[user[:password]@]host[:port]`` or ``mqtts://...``. A password written into ``--broker`` is in the
process's command line, which every local user can read (``ps``, ``/proc/<pid>/cmdline``). So ``minefleet run``
and ``minefleet cloud`` take the URL with the user name alone and the password from a file
(``--broker-password-file``, readable by its owner only) or from ``$MINEFLEET_BROKER_PASSWORD``; ``resolve``
puts it into the URL in memory. A password in the URL itself still works, and the command says where it shows.
Every message that names a broker uses ``redact``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

PASSWORD_ENV = "MINEFLEET_BROKER_PASSWORD"


class BrokerPasswordError(ValueError):
    """The broker password could not be taken as given; the message names the source, never the password."""


def redact(url: str) -> str:
    """``url`` with its password shown as ``***``: broker URLs go into error messages, logs and reports."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))


@dataclass(frozen=True)
class BrokerUrl:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        """``mqtt://[user:password@]host[:port]`` (default port 1883) or ``mqtts://...`` (TLS, default 8883)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"broker URL must look like mqtt://host:port or mqtts://host:port, got {redact(url)!r}")
        tls = parts.scheme == "mqtts"
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise ValueError(f"broker URL {redact(url)!r} has a bad port") from None
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(parts.hostname, port, tls, user, password)


def split_password(url: str) -> tuple[str, str | None]:
    """``url`` without its password, and the password (None if it had none): for handing a broker account to
    another process, the URL on its command line and the password in ``PASSWORD_ENV``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{userinfo.partition(':')[0]}@{hostport}")), unquote(parts.password)


def resolve(url: str, password_file: Path | None = None,
            environ: Mapping[str, str] = os.environ) -> tuple[str, bool]:
    """The URL to connect with, and whether its password was on the command line (in ``url`` itself).

    The password comes from ``password_file`` (its first line), else ``$MINEFLEET_BROKER_PASSWORD`` when set and
    not empty, else the URL. Given twice, or given without a user name to go with it, is an error: which one was
    meant is not guessed."""
    parsed = BrokerUrl.parse(url)
    if password_file is not None:
        source = f"broker password file {str(password_file)!r}"
        try:
            lines = Path(password_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise BrokerPasswordError(f"{source}: cannot be read ({type(exc).__name__})") from None
        password = lines[0].strip() if lines else ""
        if not password:
            raise BrokerPasswordError(f"{source}: empty")
    elif environ.get(PASSWORD_ENV, ""):
        source, password = f"${PASSWORD_ENV}", environ[PASSWORD_ENV]
    else:
        return url, parsed.password is not None
    if parsed.password is not None:
        raise BrokerPasswordError(f"the broker password is given twice, in the URL and in the {source}: give it once")
    if parsed.username is None:
        raise BrokerPasswordError(f"a password is given in the {source} but the broker URL names no user: "
                                  f"mqtt[s]://user@host:port")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.netloc.rpartition('@')[0]}:{quote(password, safe='')}@"
                                            f"{parts.netloc.rpartition('@')[2]}")), False


def for_child(url: str, env: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """A broker account handed to a child process: the URL for its command line, without the password, and its
    environment with the password in ``PASSWORD_ENV`` (removed when the URL has none)."""
    bare, password = split_password(url)
    child = {k: v for k, v in env.items() if k != PASSWORD_ENV}
    if password is not None:
        child[PASSWORD_ENV] = password
    return bare, child
