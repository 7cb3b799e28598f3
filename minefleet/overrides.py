"""Dotted-key overrides of a scenario (``minefleet run --set fleet.count=60``, a sweep's grid and cases).

An override is set in the scenario file's own TOML document before the scenario is read from it, not on the
``Scenario`` afterwards: every check the scenario format makes (an unknown key, a wrong type, a value out of range,
a missing map) then applies to an override as it does to the file, and nothing here repeats one of them. A refusal
names the dotted key as the user wrote it.

Keys: tables and keys joined by dots (``fleet.count``, ``cloud.planner``, ``edge.model``); a whole number steps into
an array of tables (``fleet.groups.1.count``). A missing table is created, so ``edge.model=tiny`` gives a scenario
without ``[edge]`` one. Values are TOML values (``60``, ``0.5``, ``true``, ``"x"``, ``[1, 2]``, ``{name = "x"}``);
on a command line, a bare word that is not TOML is taken as a string (``cloud.planner=lp_flow``). An override
replaces the value it names whole: ``cloud.planner=lp_flow`` drops the options of a ``[cloud.planner]`` table.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fleet.errors import InputError
from fleet.fields import read_toml
from minefleet.paths import resolve
from minefleet.scenario import Scenario, load_scenario

# As typed on a command line (``key=value``), or a key with its value already read from TOML (a sweep file).
Override = str | tuple[str, Any]

_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_KEYED = re.compile(r"(unknown key |missing required )?'([^']+)'\s*(.*)")


class OverrideError(InputError):
    """An override the scenario refuses; ``key`` as the user wrote it, so a sweep can point at its own file."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        self.key = key
        super().__init__(source, f"--set {key}", problem)


def load_overridden(scenario: str | Path, overrides: Iterable[Override] = ()) -> Scenario:
    """The scenario ``scenario`` (a shipped name or a path) with ``overrides`` applied in order, fully checked.

    A problem an override causes is an ``OverrideError`` naming its key; a problem of the file itself is the
    scenario loader's own error, unchanged.
    """
    path = resolve(str(scenario), "scenarios", ".toml")
    pairs = [_pair(str(path), o) for o in overrides]
    if not pairs:
        return load_scenario(path)
    raw = read_toml(path, "scenario")
    doc = copy.deepcopy(raw)
    for key, value in pairs:
        _set(doc, key, value, str(path))
    try:
        return load_scenario(path, doc)
    except InputError as exc:
        blamed = _blame(exc, str(path), [k for k, _ in pairs])
        if blamed is not None:
            raise blamed from None
        load_scenario(path, raw)  # the file's own mistake: say it as a run without overrides would
        # The overrides together make the scenario wrong, or name another file that is (a truck class).
        said = ": ".join(p for p in (exc.where, exc.problem) if p) if exc.source == str(path) else str(exc)
        raise OverrideError(str(path), ", ".join(k for k, _ in pairs), said) from None


def _pair(source: str, override: Override) -> tuple[str, Any]:
    """``(key, value)``; text is split at its first ``=`` and its value read as TOML, else taken as a string."""
    if not isinstance(override, str):
        key, value = override
        return _checked_key(source, key.strip()), value
    key, eq, text = override.partition("=")
    key = key.strip()
    if not eq:
        raise OverrideError(source, key or override, "expected KEY=VALUE, e.g. fleet.count=60")
    return _checked_key(source, key), _value(text.strip())


def _checked_key(source: str, key: str) -> str:
    if not all(_SEGMENT.fullmatch(s) for s in key.split(".")):
        raise OverrideError(source, key, "not a dotted key (tables and keys joined by dots, e.g. fleet.count)")
    return key


def _value(text: str) -> Any:
    """A TOML value; anything else (a bare word such as ``lp_flow``) is the string as typed."""
    try:
        parsed = tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        return text
    return parsed["v"] if list(parsed) == ["v"] else text


def _set(doc: dict[str, Any], key: str, value: Any, source: str) -> None:
    """Set ``key`` in ``doc``, creating missing tables; stepping through a value that is not a table is refused."""
    parts = key.split(".")
    node: Any = doc
    for depth, part in enumerate(parts):
        here = ".".join(parts[: depth + 1])
        last = depth == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise OverrideError(source, key, f"{'.'.join(parts[:depth])} is an array of {len(node)}: "
                                                 f"{here} is not in it")
            index: int | str = int(part)
        elif isinstance(node, dict):
            index = part
            if not last and part not in node:
                if parts[depth + 1].isdigit():
                    raise OverrideError(source, key, f"the scenario has no array {here} to index")
                node[part] = {}
        else:
            raise OverrideError(source, key, f"{'.'.join(parts[:depth])} is a value, not a table")
        if last:
            node[index] = value
        else:
            node = node[index]


def _blame(exc: InputError, source: str, keys: list[str]) -> OverrideError | None:
    """The loader's refusal said against the override it concerns, if it concerns one."""
    if exc.source != source:
        return None  # another file's problem (a truck class, a device profile): not a scenario key
    path, kind, problem = _dotted(exc.where, exc.problem)
    key = max((k for k in keys if path == k or path.startswith(k + ".") or k.startswith(path + ".")),
              key=len, default=None)
    if key is None:
        return None
    if kind == "unknown key":
        problem = kind if path == key else f"{kind} '{path}'"
    elif kind == "missing required":
        problem = f"{kind} '{path}'"
    elif path.startswith(key + "."):  # a key inside a table the override set
        problem = f"'{path}' {problem}"
    return OverrideError(source, key, problem)


def _dotted(where: str, problem: str) -> tuple[str, str, str]:
    """What an error of the scenario loader says as (dotted key, kind, rest): ``[fleet]`` + ``'count' must be a
    whole number`` -> (``fleet.count``, "", "must be a whole number"); kind is "unknown key", "missing required"
    or ""."""
    groups = re.fullmatch(r"\[\[([\w.-]+)\]\] #(\d+)", where)
    if groups:
        table = f"{groups[1]}.{int(groups[2]) - 1}"
    else:
        table = re.sub(r"\[(\d+)\]", r".\1", where)
        table = re.sub(r"^\[([\w.-]+)\]\s*", r"\1.", table).rstrip(".")
    keyed = _KEYED.fullmatch(problem)
    if keyed is None:
        return table, "", problem
    return (f"{table}.{keyed[2]}" if table else keyed[2]), (keyed[1] or "").strip(), keyed[3]
