"""The ``minefleet`` command. A user's mistake exits 2 with one line naming the file, key and problem."""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
import time
from pathlib import Path

from cloud.planners import PLANNERS, PlannerConfigError
from edge.accel import DeviceError, GraphError
from edge.contract import ModelError
from fleet.errors import InputError
from fleet.trace import TraceRecorder
from minefleet import __version__
from minefleet.assemble import build_run
from minefleet.headless import Terminated, run_headless
from minefleet.live import live, replay
from minefleet.models_compare import DEFAULT_SCENARIO, DEFAULT_SEEDS, ZOO, compare_models
from minefleet.models_compare import NAME as COMPARE_NAME
from minefleet.openmines import import_openmines
from minefleet.overrides import load_overridden
from minefleet.paths import data_dir
from minefleet.rundir import check_out, write_run
from minefleet.sweep import run_sweep
from minefleet.sweep.execute import EXECUTORS
from minefleet.sweep.plot import plot_results
from minefleet.validate import validate_file
from minefleet.wiring import serve_cloud
from net.auth import ENV_VAR, KEY_BYTES, SiteKey, SiteKeyError
from net.broker_url import PASSWORD_ENV, BrokerPasswordError, resolve
from net.journal import JournalError
from net.mqtt import MqttError
from net.sync import PEER_TIMEOUT_S, SyncError


def _bench(argv: list[str]) -> int:
    """``python -m bench``, under the command users already have. The benchmarks live beside the package in the
    source tree (they time peers and write scratch runs), so an installed wheel says where to find them."""
    try:
        from bench.__main__ import main as bench_main
    except ImportError:
        print("minefleet: error: bench: the benchmarks come with minefleet's source tree; from a checkout, "
              "pip install -e . and run minefleet bench (or python -m bench) there", file=sys.stderr)
        return 2
    return bench_main(argv, prog="minefleet bench")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        return _bench(argv[1:])
    parser = argparse.ArgumentParser(prog="minefleet", description=__doc__)
    parser.add_argument("--version", action="version", version=f"minefleet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate a scenario and write a run directory")
    run.add_argument("scenario", help="scenario TOML path, or the name of a shipped scenario (e.g. open_pit)")
    run.add_argument("--headless", action="store_true", help="no window: run as fast as possible")
    run.add_argument("--hours", type=float, help="shift length [h] (overrides the scenario)")
    run.add_argument("--seed", type=int, help="random seed (overrides the scenario)")
    run.add_argument("--out", type=Path, help="run directory (default: runs/<scenario>-seed<seed>)")
    run.add_argument("--model", help="perception model for every truck: zoo name, ONNX path, oracle or blind")
    run.add_argument("--device", help="emulated chip on every truck (overrides [edge] device): ascend-310, "
                                      "ascend-310b, ascend-310p, host, none or a profile TOML path")
    run.add_argument("--planner", help="dispatch planner (overrides [cloud] planner): nearest, min_wait, lp_flow, "
                                       "fixed")
    run.add_argument("--link", help="radio profile (overrides [link] profile): 5g-urllc, 5g-embb, lte, ideal, "
                                    "or a profile TOML path")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="override a scenario key by its dotted name, e.g. fleet.count=60 or cloud.planner=lp_flow "
                          "(repeatable; the value is TOML, a bare word a string)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    _view_options(run)
    run.add_argument("--transport", choices=("inproc", "mqtt"), default="inproc",
                     help="in-process router (default) or MQTT through a broker")
    run.add_argument("--broker", help="mqtt://[user@]host:port or mqtts://... of an external broker (default: an "
                                      "embedded one)")
    _password_option(run)
    run.add_argument("--ca-file", type=Path, help="PEM file of the CA that signed an mqtts:// broker's certificate "
                                                 "(default: the system's CAs)")
    run.add_argument("--no-cloud", action="store_true",
                     help="the cloud tier runs elsewhere (minefleet cloud on the same broker)")
    run.add_argument("--prefix", default=None, help="topic prefix shared with an external cloud (default: none "
                                                     "with --no-cloud, a random one otherwise)")
    run.add_argument("--key-file", type=Path, help=f"with --no-cloud: file of the site key (hex) the cloud signs "
                                                   f"orders with (default: ${ENV_VAR})")
    _peer_timeout(run)

    sweep = sub.add_parser("sweep", help="headless runs of a scenario over a grid of values and seeds, on every core "
                                         "or a Ray cluster, then tables of their KPIs")
    sweep.add_argument("sweep", type=Path, help="sweep file (TOML): [sweep] scenario and seeds, [grid], [[cases]]")
    sweep.add_argument("--out", type=Path, help="output folder (default: runs/<sweep file's name>); a sweep run "
                                                "again into it makes only the runs not yet complete")
    sweep.add_argument("--runs-dir", type=Path, help="folder of the run directories (default: OUT/runs)")
    _executor_options(sweep)

    plot = sub.add_parser("plot", help="one KPI of a sweep's results.csv against a swept key, as a PNG")
    plot.add_argument("results", type=Path, help="a sweep's results.csv")
    plot.add_argument("--x", required=True, help="column on the x axis, e.g. fleet.count")
    plot.add_argument("--y", required=True, help="KPI column, e.g. tonnes_per_hour")
    plot.add_argument("--series", help="column whose values get a line each, e.g. cloud.planner")
    plot.add_argument("--out", type=Path, help="PNG path (default: <y>_vs_<x>.png beside results.csv)")
    plot.add_argument("--knee", type=float, metavar="SHARE",
                      help="mark and print each series' knee: the first x where one more unit of x adds less than "
                           "SHARE x the mean y per unit there (e.g. 0.5 with --x fleet.count: the next truck adds "
                           "under half an average truck's t/h)")

    cloud = sub.add_parser("cloud", help="run the cloud dispatch tier as its own process for one fleet run")
    cloud.add_argument("--broker", required=True, help="mqtt://[user@]host:port or mqtts://...")
    _password_option(cloud)
    cloud.add_argument("--ca-file", type=Path, help="PEM file of the CA of an mqtts:// broker")
    cloud.add_argument("--site", required=True, help="site id of the map (e.g. open-pit-coal)")
    cloud.add_argument("--planner", default=None, help="dispatch planner (default: the one the fleet's scenario "
                                                       "names, with its options, from the site layout)")
    cloud.add_argument("--prefix", default="", help="topic prefix (as given to the fleet run)")
    cloud.add_argument("--key-file", type=Path, help=f"file of the site key (hex) orders are signed with "
                                                     f"(default: ${ENV_VAR})")
    cloud.add_argument("--journal", type=Path, help="file recording what the cloud is delivered; a cloud started "
                                                    "again with the same file after a crash rebuilds its state from "
                                                    "it and rejoins the run (a new run needs a new file)")
    _peer_timeout(cloud)

    demo = sub.add_parser("demo", help="the live map view on the open-pit mine with obstacles, over the embedded "
                                       "MQTT broker: nothing to set up")
    demo.add_argument("--scenario", default="open_pit_hazards")
    _view_options(demo)

    rep = sub.add_parser("replay", help="play a recorded run directory in the map view")
    rep.add_argument("run_dir", type=Path)
    rep.add_argument("--screenshot", type=Path, help="save a PNG when the window closes")
    rep.add_argument("--max-wall", type=float, help="close after this many wall seconds")

    val = sub.add_parser("validate", help="check a map (.geojson) or scenario (.toml) and say what is wrong")
    val.add_argument("file")

    imp = sub.add_parser("import", help="translate a mine from another tool's format into minefleet's own files")
    isub = imp.add_subparsers(dest="import_format", required=True)
    om = isub.add_parser("openmines", help="an OpenMines scenario JSON (sites, shovels, dumpers, distance matrices, "
                                           "truck types) -> a matrix map, a scenario and truck classes")
    om.add_argument("file", type=Path, help="the OpenMines scenario file (.json)")
    om.add_argument("--out", type=Path, required=True,
                    help="directory to write into (new, empty, or written by an earlier import)")
    om.add_argument("--no-failures", action="store_true",
                    help="leave OpenMines' built-in truck breakdowns and shovel maintenance out of the scenario")

    models = sub.add_parser("models", help="perception models: emulated cost on a device, available providers, "
                                           "the model swap experiment")
    msub = models.add_subparsers(dest="models_command", required=True)
    prof = msub.add_parser("profile", help="per-node emulated cost breakdown of a model on a device")
    prof.add_argument("model", help="zoo name (tiny, small, large, small-int8) or an ONNX path")
    prof.add_argument("--device", default="ascend-310", help="edge/devices/<name>.toml or a profile path")
    prof.add_argument("--batch", type=int, default=1)
    msub.add_parser("providers", help="onnxruntime execution providers present on this machine")
    comp = msub.add_parser("compare", help="the model swap experiment: models x chips x dust levels over seeds, as a "
                                           "sweep, then a table per cell (emulated latency, recall, safety events, "
                                           "t/h) and the t/h vs safety-events frontier")
    comp.add_argument("--models", nargs="+", metavar="MODEL",
                      help=f"zoo names, oracle, blind or ONNX paths, each checked against the contract before any "
                           f"run (default: {' '.join(ZOO)})")
    comp.add_argument("--devices", nargs="+", metavar="DEVICE",
                      help="emulated chips: ascend-310, ascend-310b, ascend-310p, ascend-910c, host or profile TOML "
                           "paths (default: the scenario's)")
    comp.add_argument("--dust", nargs="+", type=float, metavar="LEVEL",
                      help="dust levels 0..1 (hazards.dust; default: the scenario's)")
    comp.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help="seeds 0..N-1 per cell (default: %(default)s)")
    comp.add_argument("--scenario", default=DEFAULT_SCENARIO, help="shipped name or path (default: %(default)s)")
    comp.add_argument("--hours", type=float, help="every run's shift [h] (default: the scenario's)")
    comp.add_argument("--out", type=Path, help=f"folder of the tables and frontier.png (default: runs/{COMPARE_NAME}); "
                                               "run again into it, only the runs not yet complete are made")
    comp.add_argument("--runs-dir", type=Path, help="folder of the run directories (default: OUT/runs)")
    _executor_options(comp)

    # Listed for --help; its options are python -m bench's own, so main hands them over before parsing.
    sub.add_parser("bench", help="every benchmark, each figure beside its floor or peer measured in the same run "
                                 "(python -m bench: --quick, --only NAME ..., --json FILE; from a source checkout)")

    args = parser.parse_args(argv)
    in_main = threading.current_thread() is threading.main_thread()  # only there may a handler be set
    previous = signal.signal(signal.SIGTERM, _terminated) if in_main else None
    try:
        if args.command == "run":
            return _run(args)
        if args.command == "sweep":
            return run_sweep(args.sweep, args.out, runs_dir=args.runs_dir, executor=args.executor,
                             workers=args.workers, address=args.address, quiet=args.quiet, dry_run=args.dry_run)
        if args.command == "plot":
            drawn = plot_results(args.results, args.x, args.y, args.series, args.out, knee=args.knee)
            for knee in drawn.knees:
                print(knee.describe(args.x, args.y, args.knee))
            print(f"plot written to {drawn.path}")
            return 0
        if args.command == "cloud":
            return _cloud(args)
        if args.command == "models":
            return _models(args)
        if args.command == "demo":
            args.headless, args.hours, args.seed, args.out, args.model = False, None, None, None, None
            args.device, args.ca_file, args.link, args.planner, args.set = None, None, None, None, []
            args.transport, args.broker, args.no_cloud, args.prefix, args.quiet = "mqtt", None, False, None, True
            args.key_file, args.peer_timeout, args.broker_password_file = None, PEER_TIMEOUT_S, None
            return _run(args)
        if args.command == "replay":
            return replay(args.run_dir, args.screenshot, args.max_wall)
        if args.command == "import":
            return _import(args)
        return _validate(args)
    except (InputError, ModelError) as exc:
        print(f"minefleet: error: {exc}", file=sys.stderr)
        return 2
    except (DeviceError, GraphError) as exc:
        print(f"minefleet: error: {exc}", file=sys.stderr)
        return 2
    except PlannerConfigError as exc:  # an option only the planner itself can check (pangu's model file)
        print(f"minefleet: error: planner option '{exc.key}': {exc.problem}", file=sys.stderr)
        return 2
    except (MqttError, SyncError) as exc:
        partial = getattr(exc, "partial", None)
        kept = f"; the shift so far is in {partial} (marked interrupted)" if partial is not None else ""
        print(f"minefleet: error: messaging: {exc}{kept}", file=sys.stderr)
        return 3
    except (KeyboardInterrupt, Terminated) as exc:
        signum = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
        partial = getattr(exc, "partial", None)
        kept = f"; the shift so far is in {partial} (marked interrupted)" if partial is not None else ""
        print(f"minefleet: stopped by {signal.Signals(signum).name}{kept}", file=sys.stderr)
        return 128 + signum
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM ends a command as Ctrl-C does: the work so far is kept where it can be (a run directory marked
    interrupted), temp folders are removed, and the exit status is 143."""
    raise Terminated


def _password_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--broker-password-file", type=Path, help=f"file whose first line is the --broker user's password "
                                                             f"(default: ${PASSWORD_ENV}; not in the URL, where "
                                                             f"the process list shows it)")


def _peer_timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument("--peer-timeout", type=float, default=PEER_TIMEOUT_S, metavar="SECONDS",
                   help="over MQTT: how long the broker or the other tier may be out of reach before the run ends, "
                        f"keeping the shift so far (default: {PEER_TIMEOUT_S:g} s)")


def _check_peer_timeout(value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise InputError("--peer-timeout", "", f"must be a positive number of seconds, got {value:g}")
    return value


def _executor_options(p: argparse.ArgumentParser) -> None:
    """Where and how a sweep's runs are made: shared by ``sweep`` and ``models compare``."""
    p.add_argument("--workers", type=int, help="runs at once (default: every core)")
    p.add_argument("--executor", choices=EXECUTORS, default="local",
                   help="local processes (default) or a Ray cluster (pip install 'minefleet[cluster]')")
    p.add_argument("--address", help="Ray cluster: auto (the one running here) or ray://host:port "
                                     "(default: start a local Ray)")
    p.add_argument("--dry-run", action="store_true", help="check every input, count the runs, run nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _view_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--screenshot", type=Path, help="save the window as PNG (with --after: at that sim time)")
    p.add_argument("--after", type=float, help="sim seconds after which to save --screenshot and close")
    p.add_argument("--max-wall", type=float, help="close the window after this many wall seconds")
    p.add_argument("--speed", type=int, default=8, help="sim seconds per wall second: 1, 2, 4 ... 64")


def _validate(args: argparse.Namespace) -> int:
    for line in validate_file(args.file):
        print(line)
    return 0


def _import(args: argparse.Namespace) -> int:
    for line in import_openmines(args.file, args.out, failures=not args.no_failures):
        print(line)
    return 0


def _run(args: argparse.Namespace) -> int:
    scn = load_overridden(args.scenario, args.set).with_overrides(hours=args.hours, seed=args.seed,
                                                                  model=args.model, device=args.device,
                                                                  link=args.link, planner=args.planner)
    out = args.out or Path("runs") / f"{scn.name}-seed{scn.seed}"
    if args.headless or args.out is not None:
        check_out(out)  # before simulating: a refused --out must not cost a shift
    if args.transport == "inproc" and (args.broker or args.no_cloud or args.ca_file or args.broker_password_file):
        raise InputError("--broker/--no-cloud/--ca-file/--broker-password-file", "", "need --transport mqtt")
    if args.key_file is not None and not args.no_cloud:
        raise InputError("--key-file", "", "needs --no-cloud (a cloud in this process gets a fresh key per run)")
    ca_file = _broker_options(args)
    key = _site_key(args.key_file) if args.no_cloud else None
    if args.no_cloud and args.prefix is None:
        args.prefix = ""
    wiring = {"transport": args.transport, "broker": args.broker, "cloud_in_process": not args.no_cloud,
              "prefix": args.prefix, "ca_certs": ca_file, "key": key,
              "peer_timeout_s": _check_peer_timeout(args.peer_timeout)}
    if not args.headless:
        run = build_run(scn, **wiring)
        built = time.perf_counter()
        trace = TraceRecorder(scn.trace_period_s)
        run.sim.observers.append(trace)
        try:
            status = live(run, args.screenshot, args.after, args.max_wall, args.speed)
        finally:
            run.close()
        if args.out is not None:
            write_run(run, args.out, trace, {"live": True, "wall_s": round(time.perf_counter() - built, 3)})
            print(f"run written to {args.out}")
        return status
    timing = run_headless(scn, out, quiet=args.quiet, **wiring)
    summary = json.loads((out / "summary.json").read_text())
    print(f"{scn.name} seed {scn.seed}: {summary['trucks']} trucks, {summary['shift_hours']:g} h -> "
          f"{summary['tonnes']:,.0f} t ({summary['tonnes_per_hour']:,.0f} t/h), "
          f"{summary['loads']} loads, cycle {summary['cycle_time_s']['mean'] / 60:.1f} min, "
          f"shovel queue {summary['queue_time_shovel_mean_s'] / 60:.1f} min, "
          f"{summary['lp_bound']['share']:.0%} of the LP bound; "
          f"{timing['sim_speed_x']:,.0f}x real time")
    if summary["tonnes"] == 0:
        d = summary["dispatch"]
        causes = {"link holds": summary.get("link_holds", 0), "order time-outs": d["order_timeouts"],
                  "orders refused": d["orders_rejected"], "breakdowns": summary["failures"]["truck_breakdowns"],
                  "shovel outages": summary["failures"]["unit_outages"]}
        said = ", ".join(f"{n} {k}" for k, n in causes.items() if n) or "no hold, time-out or failure: is the shift "\
                                                                            "shorter than one haul cycle?"
        print(f"warning: the shift hauled 0 t ({said})", file=sys.stderr)
    d = summary["dispatch"]
    dropped = {"messages the fleet dropped": d.get("messages_rejected", 0),
               "messages the cloud dropped": d.get("cloud_messages_rejected", 0),
               "requests the cloud could not answer": d.get("cloud_requests_unanswered", 0),
               "orders refused as not the cloud's": sum(d.get("orders_refused", {}).values()),
               "e-stops refused as not the cloud's": sum(d.get("estops_refused", {}).values())}
    if any(dropped.values()):
        print("rejected: " + ", ".join(f"{n} {k}" for k, n in dropped.items() if n) + " (dispatch in summary.json)",
              file=sys.stderr)
    if summary.get("link_holds"):
        link = summary.get("link") or {}
        print(f"link: {summary['link_holds']} holds for lost contact, {link.get('outage_truck_s', 0):,.0f} "
              "truck-seconds out of coverage (link_holds, link.outage_truck_s in summary.json)")
    print(f"run written to {out}")
    return 0


def _models(args: argparse.Namespace) -> int:
    if args.models_command == "compare":
        return compare_models(args.models, args.devices, args.dust, seeds=args.seeds, scenario=args.scenario,
                              hours=args.hours, out=args.out, runs_dir=args.runs_dir, executor=args.executor,
                              workers=args.workers, address=args.address, quiet=args.quiet, dry_run=args.dry_run)
    if args.models_command == "providers":
        from edge.accel import providers

        present = providers()
        print("onnxruntime execution providers present: " + ", ".join(present))
        for name, ep in (("CUDA", "CUDAExecutionProvider"), ("CANN", "CANNExecutionProvider")):
            print(f"  {name}: {'present' if ep in present else 'not present (inference runs on the CPU)'}")
        return 0
    if args.batch < 1:
        raise InputError("--batch", "", f"must be a whole number >= 1, got {args.batch}")
    path = Path(args.model)
    if path.suffix != ".onnx":
        path = data_dir("assets") / "models" / f"{args.model}.onnx"
    if not path.is_file():
        raise ModelError(path, "no such model (zoo names: tiny, small, large, small-int8; or an ONNX path)")
    # Any ONNX graph can be timed (a camera detector, a timing-only background graph), contract or not.
    from edge.accel import profile_table

    print(profile_table(path, args.device, batch=args.batch))
    return 0


def _broker_options(args: argparse.Namespace) -> str | None:
    """Check --broker, its password and --ca-file before anything starts (a user's typo is a one-line error, not
    a traceback); ``args.broker`` becomes the URL to connect with, the password in it (``net.broker_url``)."""
    if args.broker is None:
        if args.broker_password_file is not None:
            raise InputError("--broker-password-file", "", "needs --broker (the embedded broker draws its own)")
    else:
        try:
            args.broker, on_command_line = resolve(args.broker, args.broker_password_file)
        except BrokerPasswordError as exc:
            raise InputError("--broker-password-file" if args.broker_password_file else "--broker", "",
                             str(exc)) from None
        except ValueError as exc:
            raise InputError("--broker", "", str(exc)) from None
        if on_command_line:
            print(f"warning: the broker password in --broker can be read by any local user in the process list; "
                  f"give it in ${PASSWORD_ENV} or --broker-password-file instead", file=sys.stderr)
    ca_file = args.ca_file
    if ca_file is not None and not ca_file.is_file():
        raise InputError("--ca-file", "", f"no such file {str(ca_file)!r}")
    return str(ca_file) if ca_file is not None else None


def _site_key(key_file: Path | None) -> SiteKey:
    """The site key shared by a fleet and a cloud in separate processes: ``--key-file``, else the environment.
    Its errors never quote key material."""
    try:
        key = SiteKey.from_file(key_file) if key_file is not None else SiteKey.from_env()
    except SiteKeyError as exc:
        raise InputError("site key", "", str(exc)) from None
    if key is None:
        raise InputError("site key", "", f"none given: set ${ENV_VAR} to {2 * KEY_BYTES} hex digits (e.g. from "
                                         "python -c 'import secrets; print(secrets.token_hex(32))') or pass "
                                         "--key-file, the same for the fleet and the cloud")
    return key


def _cloud(args: argparse.Namespace) -> int:
    ca_file = _broker_options(args)
    if args.planner is not None and args.planner not in PLANNERS:
        raise InputError("--planner", "", f"unknown planner {args.planner!r} (known: {', '.join(sorted(PLANNERS))})")
    key = _site_key(args.key_file)
    try:
        cloud, stats = serve_cloud(args.broker, args.site, args.planner, key, prefix=args.prefix, ca_certs=ca_file,
                            journal=args.journal, peer_timeout_s=_check_peer_timeout(args.peer_timeout))
    except JournalError as exc:
        raise InputError("--journal", "", str(exc)) from None
    planner = cloud.planner_stats() or {}
    fell_back = f", {sum(planner['fallbacks'].values())} of them by the fallback planner" if "fallbacks" in planner \
        else ""
    if stats.replayed:
        print(f"cloud rebuilt from journal {args.journal}: {stats.replayed} barriers")
    forged = sum(stats.refused.values()) + cloud.transport.unauthentic
    refused = f", {forged} forged or misdirected control messages refused" if forged else ""
    print(f"cloud served {cloud.orders} orders{fell_back} ({cloud.rejected} malformed messages dropped{refused})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
