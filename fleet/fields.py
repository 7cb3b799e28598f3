"""Typed reads of user-supplied mappings (GeoJSON properties, TOML tables) with errors that name the key."""

from __future__ import annotations

import difflib
import json
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fleet.errors import InputError

_MISSING = object()
NEAR_CUTOFF = 0.75  # difflib similarity from which an unknown key is offered as a typo of a known one


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """A user's TOML file as a dict; any failure is an ``InputError`` naming the file and, for bad TOML, where."""
    src = str(path)
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(src, "", f"{what} file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(src, "", f"invalid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(src, "", f"cannot read {what} ({exc})") from None


def read_json(path: str | Path, what: str) -> Any:
    """A user's JSON file; any failure is an ``InputError`` naming the file and, for bad JSON, where."""
    src = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(src, "", f"{what} file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(src, "", f"cannot read {what} file ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(src, "", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


class Fields:
    """Reads typed values from one mapping and reports problems against ``source`` and ``where``."""

    def __init__(self, data: Mapping[str, Any], source: str, where: str) -> None:
        self.data = data
        self.source = source
        self.where = where
        self.used: set[str] = set()

    def error(self, key: str, problem: str) -> InputError:
        return InputError(self.source, self.where, f"'{key}' {problem}")

    def _get(self, key: str, default: Any) -> Any:
        self.used.add(key)
        if key in self.data and self.data[key] is not None:
            return self.data[key]
        if default is _MISSING:
            raise InputError(self.source, self.where, f"missing required '{key}'{self._near(key, self.data)}")
        return default

    def _near(self, key: str, names: Any) -> str:
        """The hint ``, unknown key 'x', did you mean 'key'?`` for the unread name ``x`` among ``names`` nearest
        ``key``, else "": a typo is named beside what it was meant to be, never only as a missing key."""
        near = difflib.get_close_matches(key, [n for n in names if n not in self.used], 1, NEAR_CUTOFF)
        return f", unknown key '{near[0]}', did you mean '{key}'?" if near else ""

    def number(self, key: str, default: Any = _MISSING, *, min: float | None = None,
               max: float | None = None, positive: bool = False) -> float:
        """A finite real number; ``positive`` means strictly > 0."""
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"must be a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise self.error(key, f"must be finite, got {value!r}")
        if positive and value <= 0:
            raise self.error(key, f"must be > 0, got {value:g}")
        if min is not None and value < min:
            raise self.error(key, f"must be >= {min:g}, got {value:g}")
        if max is not None and value > max:
            raise self.error(key, f"must be <= {max:g}, got {value:g}")
        return value

    def integer(self, key: str, default: Any = _MISSING, *, min: int | None = None,
                max: int | None = None) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not (isinstance(value, int) or
                                           (isinstance(value, float) and value.is_integer())):
            raise self.error(key, f"must be a whole number, got {value!r}")
        value = int(value)
        if min is not None and value < min:
            raise self.error(key, f"must be >= {min}, got {value}")
        if max is not None and value > max:
            raise self.error(key, f"must be <= {max}, got {value}")
        return value

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def string(self, key: str, default: Any = _MISSING, *, choices: tuple[str, ...] | None = None) -> str:
        value = self._get(key, default)
        if not isinstance(value, str) or not value:
            raise self.error(key, f"must be a non-empty string, got {value!r}")
        if choices is not None and value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def strings(self, key: str, default: Any = _MISSING) -> tuple[str, ...]:
        value = self._get(key, default)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
            raise self.error(key, f"must be a list of strings, got {value!r}")
        return tuple(value)

    def table(self, key: str) -> Fields:
        """A nested table (missing => empty), read with the same error context."""
        value = self._get(key, {})
        if not isinstance(value, Mapping):
            raise self.error(key, f"must be a table, got {value!r}")
        return Fields(value, self.source, f"{self.where}.{key}" if self.where else f"[{key}]")

    def reject_unknown(self) -> None:
        """Refuse keys nobody read: a misspelt option must not silently fall back to a default."""
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            near = difflib.get_close_matches(unknown[0], sorted(self.used), 1, NEAR_CUTOFF)
            hint = f", did you mean '{near[0]}'?" if near else ""
            raise InputError(self.source, self.where, f"unknown key '{unknown[0]}'{hint}")
