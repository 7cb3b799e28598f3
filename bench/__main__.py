"""Every benchmark in one command: one table of figures beside their floors or peers, and a JSON file.

    python -m bench [--quick] [--only NAME ...] [--json bench-results.json]

Each module in ``BENCHMARKS`` is imported only when its turn comes (so a missing optional dependency of one
cannot stop the others) and its ``run(quick)`` called; it returns a dict with a list ``figures`` (the contract in
``bench.report``). A module that raises is recorded with a one-line error and the rest go on. A module whose
``run`` returns figures in its own keys (those that predate the contract) is read through an adapter here, so its
figures join the table all the same. ``soak`` (48 h) runs only when named with ``--only``.
Exit status: 0 when every module ran (whatever the verdicts), 1 when one failed, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.report import at_least, at_most, figure, host_info, table

DEFAULT_JSON = Path("bench-results.json")
Adapter = Callable[[dict[str, Any]], list[dict[str, Any]]]


def _transport_cost(res: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for layout, results in (("cloud in fleet", res), ("cloud on its own", res["cloud_process"])):
        base = results["inproc"]["wall_s"]
        for kind, r in results.items():
            if isinstance(r, dict) and r.get("installed"):
                ceiling = r.get("ceiling")
                out.append(figure(f"{kind} shift wall, {layout}", r["wall_s"], "s", baseline=base,
                                  baseline_name="inproc", ratio=r["ratio"],
                                  target=at_most(r["ratio"], ceiling, "x") if ceiling else None))
                out.append(figure(f"{kind} same summary, {layout}", float(r["same_summary"]), "bool"))
    return out


def _peer_openmines(res: dict[str, Any]) -> list[dict[str, Any]]:
    target = at_least(res["ratio"], res["target_ratio"], "x")
    return [figure("x real time vs OpenMines", res["minefleet"]["x_real_time"], "x",
                   baseline=res["openmines"]["x_real_time"], baseline_name="OpenMines", ratio=res["ratio"],
                   target=target)]


def _accel_validation(res: dict[str, Any]) -> list[dict[str, Any]]:
    return [figure(f"host profile within +-{res['tolerance']:.0%}, batch {b}", share, "share",
                   target=at_least(share, res["target_share"]))
            for b, share in res["share_within"].items()]


@dataclass(frozen=True)
class Benchmark:
    """One module of the suite: its name under ``bench``, whether a plain run includes it, and how to read
    figures from a ``run`` that returns none under ``figures``."""

    name: str
    default: bool = True
    adapter: Adapter | None = None


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("start_time"),
    Benchmark("sim_speed"),
    Benchmark("perception_speed"),
    Benchmark("scaling"),
    Benchmark("inference_cost"),
    Benchmark("view_fps"),
    Benchmark("decision_time"),
    Benchmark("planners"),
    Benchmark("pangu"),
    Benchmark("sweep_speed"),
    Benchmark("transport_cost", adapter=_transport_cost),
    Benchmark("mqtt_throughput"),
    Benchmark("accel_validation", adapter=_accel_validation),
    Benchmark("peer_openmines", adapter=_peer_openmines),
    Benchmark("tick_resolution"),
    Benchmark("soak", default=False),
)


def one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def run_one(bench: Benchmark, quick: bool, package: str = "bench") -> dict[str, Any]:
    """Import and run one module; its result with ``figures`` filled in, or ``{"error": one line}``."""
    started = time.perf_counter()
    try:
        module = importlib.import_module(f"{package}.{bench.name}")
        if not callable(getattr(module, "run", None)):
            raise AttributeError(f"bench.{bench.name} has no run(quick) function")
        res = module.run(quick)
        if not isinstance(res, dict):
            raise TypeError(f"run() returned {type(res).__name__}, not a dict")
        if "figures" not in res and "skipped" not in res:
            res = {**res, "figures": bench.adapter(res) if bench.adapter else []}
    except KeyboardInterrupt:
        raise
    except BaseException as err:  # SystemExit too: a module that gives up must not end the suite
        res = {"error": one_line(err)}
    res["wall_s"] = round(time.perf_counter() - started, 2)
    return res


def selected(only: list[str] | None) -> list[Benchmark]:
    """The benchmarks to run, in suite order; an unknown name is a usage error."""
    if not only:
        return [b for b in BENCHMARKS if b.default]
    known = {b.name for b in BENCHMARKS}
    unknown = [n for n in only if n not in known]
    if unknown:
        raise ValueError(f"--only: unknown benchmark {unknown[0]!r} (known: {', '.join(sorted(known))})")
    return [b for b in BENCHMARKS if b.name in only]


def _jsonable(x: Any) -> Any:
    """numpy scalars and arrays, paths and anything else ``json`` cannot write, as plain values."""
    if hasattr(x, "tolist"):
        return x.tolist()
    return str(x)


def run_suite(benches: list[Benchmark], quick: bool, json_path: Path | None,
              package: str = "bench") -> dict[str, Any]:
    """Run ``benches`` in order, print the table, write the JSON; the whole document."""
    host = host_info()
    started = dt.datetime.now(dt.UTC)
    print(f"minefleet benchmarks{' (quick)' if quick else ''}: {', '.join(b.name for b in benches)}")
    print(f"host: {host['cpu']}, {host['cores']} cores, Python {host['python']}, {host['platform']}, load average "
          f"{host['load_average']} (figures carry over between hosts only as ratios)")
    results: dict[str, dict[str, Any]] = {}
    for bench in benches:
        print(f"\n== bench.{bench.name}", flush=True)
        results[bench.name] = res = run_one(bench, quick, package)
        if "error" in res:
            print(f"bench.{bench.name} failed: {res['error']}", flush=True)
    doc = {"started_utc": started.isoformat(timespec="seconds"), "quick": quick, "host": host,
           "host_load_average_end": host_info()["load_average"], "modules": results}
    print()
    print("\n".join(table(results)))
    short = sum(1 for r in results.values() for f in r.get("figures", []) if f.get("ok") is False)
    failed = [n for n, r in results.items() if "error" in r]
    print(f"\n{short} figure(s) SHORT of target; {len(failed)} module(s) failed{': ' if failed else ''}"
          f"{', '.join(failed)}")
    if json_path is not None:
        json_path.write_text(json.dumps(doc, indent=1, default=_jsonable) + "\n", encoding="utf-8")
        print(f"figures written to {json_path}")
    return doc


def main(argv: list[str] | None = None, prog: str = "python -m bench") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="each module's reduced size (about a minute each)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these modules (soak only this way)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"results file (default {DEFAULT_JSON})")
    args = parser.parse_args(argv)
    try:
        benches = selected(args.only)
    except ValueError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    if not args.json.parent.is_dir():
        print(f"{prog}: error: --json: folder {args.json.parent} does not exist", file=sys.stderr)
        return 2
    doc = run_suite(benches, args.quick, args.json)
    return 1 if any("error" in r for r in doc["modules"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
