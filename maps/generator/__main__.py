"""Command line of the generator (run from the repository root).

    python -m maps.generator shipped [--check]            # rebuild maps/*.geojson (--check: only compare)
    python -m maps.generator random --seed S --count N --out DIR   # random mines S .. S+N-1

Every map is loaded by the simulator's own loader before it is written, and one summary line is printed per map.
A map the loader refuses exits with status 2 and the loader's message.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from fleet.errors import InputError
from maps.generator.check import check_map
from maps.generator.features import dumps_map
from maps.generator.random_mines import random_mine
from maps.generator.shipped import MAPS_DIR, shipped_maps


def _shipped(check_only: bool) -> int:
    """Build, load and write (or only compare) the three shipped maps."""
    texts = {}
    for stem, doc in shipped_maps().items():
        path = MAPS_DIR / f"{stem}.geojson"
        print(check_map(doc, f"maps/{path.name}").line())
        texts[path] = dumps_map(doc)
    if check_only:
        stale = [p.name for p, text in texts.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
        if stale:
            print(f"differs from the generator: {', '.join(stale)}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in texts.items():  # written only once all three have loaded
        path.write_text(text, encoding="utf-8")
    return 0


def _random(seed: int, count: int, out: Path) -> int:
    """Build, load and write random mines seed .. seed+count-1 into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    for s in range(seed, seed + count):
        doc = random_mine(s)
        path = out / f"{doc['minefleet']['site']}.geojson"
        summary = check_map(doc, str(path))
        path.write_text(dumps_map(doc), encoding="utf-8")
        print(summary.line())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The exit status: 0 done, 1 a shipped file differs (--check), 2 a map the loader refuses."""
    parser = argparse.ArgumentParser(prog="python -m maps.generator", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    shipped = sub.add_parser("shipped", help="rebuild the shipped maps in maps/")
    shipped.add_argument("--check", action="store_true", help="write nothing; exit 1 if a shipped file differs")
    rnd = sub.add_parser("random", help="write generated mines")
    rnd.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    rnd.add_argument("--count", type=int, default=1, help="how many mines, seeds S .. S+N-1 (default 1)")
    rnd.add_argument("--out", type=Path, required=True, help="folder for <site>.geojson files")
    args = parser.parse_args(argv)
    if args.command == "random" and (args.count < 1 or args.seed < 0):
        parser.error("--count must be at least 1 and --seed at least 0")
    try:
        return _shipped(args.check) if args.command == "shipped" else _random(args.seed, args.count, args.out)
    except InputError as e:
        print(f"maps.generator: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
