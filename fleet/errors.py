"""One error type for a user's bad input, so the CLI can print one clear line instead of a traceback."""

from __future__ import annotations


class InputError(ValueError):
    """A file a user wrote is wrong.

    The message names the file, the feature id or key inside it, and the problem, e.g.
    ``maps/x.geojson: road R7: dangling end at (120.0, 40.0) touches no other road or facility``.
    """

    def __init__(self, source: str, where: str, problem: str) -> None:
        self.source = str(source)
        self.where = where
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [self.source, self.where, self.problem]
        return ": ".join(p for p in parts if p)
