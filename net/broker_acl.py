"""Who may publish and read which topics on the broker: one table, rendered for mosquitto and for amqtt.

Three kinds of account (docs/architecture.md, "Messages" for the topics):

- ``fleet``: the fleet process's one client for all trucks. Publishes the trucks' telemetry, events and
  perception, the site's layout and equipment, and leads the time barrier (``sim/sync``, ``sim/stop``); reads
  orders, e-stops, the cloud's status and the followers' ``sim/ack`` and ``sim/hello/+``. It also writes and
  reads the retained ``sim/claim`` by which a leader holds its topic prefix against a second run.
- ``cloud``: the dispatch server. The only account that may publish orders (``dispatch/+``) and e-stops; also
  its status, ``sim/ack`` and its ``sim/hello``. Reads what the trucks and the site publish and the barrier.
- a truck's own client, whose user name is its truck id: publishes only on its own ``truck/<id>/...`` topics
  and reads only its own orders and the fleet e-stop (a mosquitto ``pattern`` with ``%u``).

Every rule is built from ``net.topics.Topics`` with ``+`` for the site, once without a prefix and once with a
one-level run prefix (``mf-1a2b3c4d/``), so the table follows the topic layout instead of restating it. A role
can read none of the topics it writes: a stolen fleet password cannot forge orders, a stolen truck password
cannot speak for another truck, and no account reads back what it sends (but the leader its own claim, and
the cloud the e-stop, which every account may read).

The shipped ``deploy/mosquitto/minefleet.acl`` is ``mosquitto_acl()`` verbatim (a test keeps them equal).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from amqtt.plugins.topic_checking import TopicAccessControlListPlugin
from pwdlib.hashers.argon2 import Argon2Hasher

from net.sync import sim_topic
from net.topics import Topics

FLEET, CLOUD = "fleet", "cloud"
ROLES = (FLEET, CLOUD)
READ, WRITE = "read", "write"
USER_PLACEHOLDER = "%u"  # mosquitto substitutes the client's user name here in a ``pattern`` rule
LAYOUTS = (Topics("+"), Topics("+", prefix="+/"))  # topics without a run prefix and with a one-level one
TRUCK_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # a user name that is one topic level and needs no URL escaping
PASSWORD_BYTES = 24  # random bytes per generated password (192 bits: no dictionary or brute force reaches it)
# mosquitto 2's "$7$" hash: PBKDF2-HMAC-SHA512 with a 12-byte salt and 101 rounds, mosquitto_passwd's defaults
# (mosquitto 2.0 source, src/password_mosq.h: pw_sha512_pbkdf2 = 7, SALT_LEN 12, PW_DEFAULT_ITERATIONS 101).
# Few rounds suffice here: the passwords are random, and every connection pays for the rounds.
MOSQUITTO_PBKDF2_ROUNDS = 101
MOSQUITTO_SALT_BYTES = 12
# amqtt's password file takes Argon2 (pwdlib); the cheapest settings, for the same reason as above.
AMQTT_ARGON2 = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}

Rule = tuple[str, str]  # (READ or WRITE, topic filter)


def _fleet(t: Topics) -> list[Rule]:
    return [(WRITE, t.telemetry("+")), (WRITE, t.event("+")), (WRITE, t.perception("+")), (WRITE, t.layout),
            (WRITE, t.equipment), (WRITE, sim_topic(t, "sync")), (WRITE, sim_topic(t, "stop")),
            (WRITE, sim_topic(t, "claim")),
            (READ, t.dispatch("+")), (READ, t.estop), (READ, t.cloud_status), (READ, sim_topic(t, "ack")),
            (READ, sim_topic(t, "hello/+")), (READ, sim_topic(t, "claim"))]


def _cloud(t: Topics) -> list[Rule]:
    return [(WRITE, t.dispatch("+")), (WRITE, t.estop), (WRITE, t.cloud_status), (WRITE, sim_topic(t, "ack")),
            (WRITE, sim_topic(t, "hello/+")),
            (READ, t.telemetry("+")), (READ, t.event("+")), (READ, t.perception("+")), (READ, t.layout),
            (READ, t.equipment), (READ, sim_topic(t, "sync")), (READ, sim_topic(t, "stop")),
            (READ, t.estop)]  # what mosquitto's truck pattern for the e-stop gives every account anyway


def _truck(t: Topics, truck: str) -> list[Rule]:
    return [(WRITE, t.telemetry(truck)), (WRITE, t.event(truck)), (WRITE, t.perception(truck)),
            (READ, t.dispatch(truck)), (READ, t.estop)]


def role_rules(role: str) -> list[Rule]:
    """The rules of ``fleet``, ``cloud`` or a truck id, for both topic layouts."""
    if role in ROLES:
        return [rule for t in LAYOUTS for rule in (_fleet(t) if role == FLEET else _cloud(t))]
    check_truck_id(role)
    return [rule for t in LAYOUTS for rule in _truck(t, role)]


def check_truck_id(truck: str) -> None:
    """A truck's user name must be one topic level, URL-safe, and not a role's name (it would get both)."""
    if truck in ROLES or not TRUCK_ID.fullmatch(truck):
        raise ValueError(f"a truck account needs an id of letters, digits, '_', '.' or '-' (not "
                         f"{' or '.join(ROLES)}), got {truck!r}")


def mosquitto_acl() -> str:
    """The acl_file text: trucks by ``pattern`` (any user name), then the two roles."""
    lines = ["# minefleet: who may publish (write) and read which topics. Generated by net/broker_acl.py",
             "# (mosquitto_acl); change the rules there and regenerate this file as README.md says.",
             "# Topics are [<run prefix>/]mine/<site>/...; every rule is given for both forms.",
             "",
             "# A truck's own client, user name = its truck id: its own topics, its orders, the e-stop.",
             "# Patterns apply to every user: every account may read the e-stop (a broadcast), and the %u",
             "# rules give the fleet and cloud users the topics of trucks called fleet or cloud, which no",
             "# truck account may be called."]
    lines += [f"pattern {access} {topic}" for access, topic in truck_pattern_rules()]
    for role in ROLES:
        lines += ["", f"user {role}", *(f"topic {access} {topic}" for access, topic in role_rules(role))]
    return "\n".join(lines) + "\n"


def truck_pattern_rules() -> list[Rule]:
    """The truck rules with mosquitto's ``%u`` where the truck id goes."""
    return [rule for t in LAYOUTS for rule in _truck(t, USER_PLACEHOLDER)]


def amqtt_acl(trucks: Iterable[str]) -> dict[str, dict[str, list[str]]]:
    """``publish_acl``, ``subscribe_acl`` and ``receive_acl`` for amqtt's topic ACL plugin: user name to
    filters. amqtt has no ``%u`` patterns, so each truck account is listed by name."""
    acl: dict[str, dict[str, list[str]]] = {"publish_acl": {}, "subscribe_acl": {}, "receive_acl": {}}
    for user in (*ROLES, *trucks):
        rules = role_rules(user)
        acl["publish_acl"][user] = [topic for access, topic in rules if access == WRITE]
        reads = [topic for access, topic in rules if access == READ]
        acl["subscribe_acl"][user] = acl["receive_acl"][user] = reads
    return acl


def new_password() -> str:
    """A random password, URL-safe (it goes into ``mqtt://user:password@host`` unescaped)."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def mosquitto_password_line(user: str, password: str, salt: bytes | None = None) -> str:
    """One line of a mosquitto 2 password_file: ``user:$7$rounds$salt$hash``, base64 salt and hash."""
    salt = secrets.token_bytes(MOSQUITTO_SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, MOSQUITTO_PBKDF2_ROUNDS)
    return f"{user}:$7${MOSQUITTO_PBKDF2_ROUNDS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def amqtt_password_line(user: str, password: str) -> str:
    """One line of amqtt's password file (``FileAuthPlugin``): ``user:<argon2 hash>``."""
    return f"{user}:{Argon2Hasher(**AMQTT_ARGON2).hash(password)}"


class AmqttTopicAcl(TopicAccessControlListPlugin):
    """amqtt's own topic ACL plugin, with a configuration that declares every list its code checks.

    amqtt 0.12.1's plugin checks ``publish-acl``, ``subscribe-acl`` and ``receive-acl``, but its ``Config``
    declares only ``publish_acl`` and the deprecated ``acl``, so in a ``plugins`` configuration the receive
    check (the one that stops a broad subscription from seeing other roles' topics) could not be set.
    """

    @dataclass
    class Config:
        publish_acl: dict[str, list[str]] = field(default_factory=dict)
        subscribe_acl: dict[str, list[str]] = field(default_factory=dict)
        receive_acl: dict[str, list[str]] = field(default_factory=dict)


def amqtt_plugins(password_file: str, trucks: Iterable[str]) -> dict[str, Any]:
    """The ``plugins`` section of an amqtt broker that accepts only the accounts in ``password_file``."""
    return {"amqtt.plugins.authentication.FileAuthPlugin": {"password_file": password_file},
            f"{__name__}.{AmqttTopicAcl.__name__}": amqtt_acl(trucks)}
