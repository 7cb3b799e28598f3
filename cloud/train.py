"""Pre-train the ``pangu`` dispatch model on generated mines, or adapt it to one mine (needs the ``train`` and
``gym`` extras: torch and gymnasium).

    python -m cloud.train [--mines 60] [--hours 3] [--rounds 2] [--seed 0]     # pre-train, write assets/models/pangu.*
    python -m cloud.train --finetune MAP [--scenario open_pit] [--trucks N]   # adapt to one mine

Pre-training, the Pangu pattern's first half: one model over many mines. Each of ``--mines`` generated mines
(``maps.generator.random_mine``, open pits and strip mines; none of the shipped maps) is run with a seeded fleet
size through the ``minefleet/Dispatch-v0`` environment. On each mine every reference planner (``lp_flow``,
``min_wait``, ``fixed``) drives one shift; the one that hauls most is that mine's teacher, and every decision seen
in the three shifts is labelled with the teacher's pick (imitation of the best planner per decision). Then
``--rounds`` of DAgger: the model itself drives a shift on every mine, the states it reaches are labelled by the
teacher, added to the data, and the model is fitted again. Everything is seeded from ``--seed``; the same command
gives the same weights on the same machine.

Adaptation (``--finetune``), the second half: the pre-trained weights, a teacher found on the user's mine from a
few shifts (seeds kept apart from the ones used to judge it), DAgger on that mine alone, a few minutes on a CPU.
Writes ``pangu-<map>.onnx`` (or ``--out``) with its card. The planner takes it with
``[cloud.planner] name = "pangu"`` and ``model = "pangu-<map>"``.

This is offline tooling: it drives the simulator (through ``minefleet``'s environment) to make data. The cloud
service and the planners never import it. See docs/architecture.md, "Cloud".
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cloud.pangu.tokens import FEATURES, MAX_TOKENS

EXPERTS = ("lp_flow", "min_wait", "fixed")
ASSETS = Path(__file__).resolve().parent.parent / "assets" / "models"
TEACHER_MARGIN = 0.01  # another planner teaches a mine only when it hauls this much more than lp_flow (seed noise)
TRUCKS_PER_POINT = (2.0, 6.0)  # fleet sizes drawn per mine: from below to past saturation (assumption)


@dataclass(frozen=True)
class Episode:
    """One shift to run: on which map, with how many trucks, which seed, who drives."""

    map_path: str | None  # None: the scenario's own map
    scenario: str
    trucks: int | None
    hours: float
    seed: int
    driver: str  # an expert's name, or "model"


def run_episode(ep: Episode, weights: dict | None = None) -> dict[str, Any]:
    """Drive one shift; the decisions seen (tokens, mask, each reference planner's token) and the shift's t/h."""
    import torch

    from minefleet.dispatch_env import DispatchEnv

    torch.set_num_threads(1)
    model = None
    if ep.driver == "model":
        model = _net(weights)
        model.eval()
    env = DispatchEnv(ep.scenario, map_path=ep.map_path, trucks=ep.trucks, hours=ep.hours)
    xs, masks, labels = [], [], []
    try:
        obs, info = env.reset(seed=ep.seed)
        done = False
        while not done:
            xs.append(obs["tokens"].copy())
            masks.append(obs["mask"].copy())
            labels.append([info["expert"][e] for e in EXPERTS])
            if model is None:
                action = info["expert"][ep.driver]
            else:
                with torch.no_grad():
                    scores = model(torch.from_numpy(obs["tokens"][None]), torch.from_numpy(obs["mask"][None]))
                action = int(scores[0].argmax())
            obs, _, done, _, info = env.step(action)
        tph = float(env.summary()["tonnes_per_hour"])
    finally:
        env.close()
    return {"episode": ep, "tph": tph, "x": np.array(xs, np.float32).reshape(-1, MAX_TOKENS, len(FEATURES)),
            "mask": np.array(masks, np.float32).reshape(-1, MAX_TOKENS),
            "label": np.array(labels, np.int64).reshape(-1, len(EXPERTS))}


def _net(checkpoint: dict) -> Any:
    """The network a checkpoint (``{"config": ..., "state": ...}``) describes."""
    from cloud.pangu.net import NetConfig, PanguNet

    model = PanguNet(NetConfig(**checkpoint["config"]))
    model.load_state_dict(checkpoint["state"])
    return model


def _checkpoint(model: Any) -> dict:
    return {"config": asdict(model.config), "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}


def _map_files(count: int, seed: int, out: Path) -> list[Path]:
    """Generated mines ``seed .. seed+count-1``, each checked by the real map loader, written under ``out``."""
    from maps.generator.check import check_map
    from maps.generator.features import dumps_map
    from maps.generator.random_mines import random_mine

    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for s in range(seed, seed + count):
        doc = random_mine(s)
        path = out / f"{doc['minefleet']['site']}.geojson"
        if not path.is_file():
            check_map(doc, str(path))
            path.write_text(dumps_map(doc), encoding="utf-8")
        paths.append(path)
    return paths


def _load_points(map_path: Path) -> int:
    from fleet.mapfile import load_map

    return len(load_map(str(map_path)).load_points())


def _cache_file(ep: Episode, cache: Path) -> Path:
    key = f"{Path(ep.map_path).stem if ep.map_path else ep.scenario}-{ep.trucks}-{ep.hours:g}h-s{ep.seed}-{ep.driver}"
    return cache / f"{ep.scenario}" / f"{key}.npz"


def _pool_map(jobs: list[Episode], weights: dict | None, workers: int, label: str,
              cache: Path | None = None) -> list[dict[str, Any]]:
    """Run the shifts on ``workers`` processes. With ``cache``, a reference planner's shift (no weights: it does
    not change between trainings) is kept there and read back instead of run again."""
    started = time.perf_counter()
    out: list[dict[str, Any] | None] = [None] * len(jobs)
    if cache is not None and weights is None:
        for k, ep in enumerate(jobs):
            path = _cache_file(ep, cache)
            if path.is_file():
                with np.load(path) as z:
                    out[k] = {"episode": ep, "tph": float(z["tph"]), **{n: z[n] for n in ("x", "mask", "label")}}
    todo = [k for k, r in enumerate(out) if r is None]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for k, result in zip(todo, pool.map(run_episode, [jobs[k] for k in todo], [weights] * len(todo)), strict=True):
            out[k] = result
            if cache is not None and weights is None:
                path = _cache_file(jobs[k], cache)
                path.parent.mkdir(parents=True, exist_ok=True)
                np.savez_compressed(path, tph=result["tph"], x=result["x"], mask=result["mask"], label=result["label"])
    print(f"{label}: {len(jobs)} shifts ({len(jobs) - len(todo)} from the cache), "
          f"{sum(len(r['label']) for r in out)} decisions, {time.perf_counter() - started:.0f} s", flush=True)
    return out


def _stack(results: list[dict[str, Any]], best: dict[tuple[str | None, int | None], str]
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every decision of ``results``, labelled with the pick of its site's teacher."""
    keep = [r for r in results if len(r["label"])]
    labels = [r["label"][:, EXPERTS.index(best[(r["episode"].map_path, r["episode"].trucks)])] for r in keep]
    return (np.concatenate([r["x"] for r in keep]), np.concatenate([r["mask"] for r in keep]),
            np.concatenate(labels))


@dataclass
class Curriculum:
    """The mines (map, trucks) and the settings of one training: what the card records."""

    scenario: str
    hours: float
    rounds: int
    epochs: int
    seed: int
    workers: int
    work: str  # where generated mines and the reference planners' shifts are kept


def _card_curriculum(cur: Curriculum) -> dict[str, Any]:
    """The settings a card records (not where the work files were kept: that is the machine's business)."""
    return {k: v for k, v in asdict(cur).items() if k != "work"}


def teachers(sites: list[tuple[str | None, int | None]], cur: Curriculum, seeds: list[int]
             ) -> tuple[dict[tuple[str | None, int | None], str], list[dict[str, Any]]]:
    """Each site's best reference planner over ``seeds``, and the reference planners' shifts."""
    jobs = [Episode(m, cur.scenario, n, cur.hours, s, e) for m, n in sites for e in EXPERTS for s in seeds]
    results = _pool_map(jobs, None, cur.workers, "reference planners", Path(cur.work) / "episodes")
    best: dict[tuple[str | None, int | None], str] = {}
    for m, n in sites:
        tph = {e: np.mean([r["tph"] for r in results if r["episode"].map_path == m and r["episode"].trucks == n
                           and r["episode"].driver == e]) for e in EXPERTS}
        rival = max(EXPERTS, key=lambda e: tph[e])
        best[(m, n)] = rival if tph[rival] > tph["lp_flow"] * (1 + TEACHER_MARGIN) else "lp_flow"
    return best, results


def train(sites: list[tuple[str | None, int | None]], cur: Curriculum, model: Any, seeds: list[int],
          lr: float) -> tuple[Any, dict[str, Any]]:
    """Imitation of each site's best planner, then DAgger rounds on the sites; the card's figures."""
    from cloud.pangu.fit import fit

    best, expert_shifts = teachers(sites, cur, seeds)
    data = [_stack(expert_shifts, best)]
    # what the teachers hauled on the sites (mean over sites of their shifts): the figure DAgger's model is held to
    teacher_tph = float(np.mean([r["tph"] for r in expert_shifts
                                 if r["episode"].driver == best[(r["episode"].map_path, r["episode"].trucks)]]))
    rounds = []
    imitation = fit(model, *data[0], weights=None, epochs=cur.epochs, lr=lr, batch=256, seed=cur.seed)
    print(f"imitation: {imitation}", flush=True)
    for k in range(cur.rounds):
        jobs = [Episode(m, cur.scenario, n, cur.hours, seeds[0] + 1000 * (k + 1), "model") for m, n in sites]
        results = _pool_map(jobs, _checkpoint(model), cur.workers, f"DAgger round {k + 1}")
        data.append(_stack(results, best))
        x, mask, label = (np.concatenate(parts) for parts in zip(*data, strict=True))
        metrics = fit(model, x, mask, label, weights=None, epochs=max(cur.epochs // 2, 1), lr=lr, batch=256,
                      seed=cur.seed + k + 1)
        rounds.append({"round": k + 1, "model_tph_mean": float(np.mean([r["tph"] for r in results])),
                       "teacher_tph_mean": teacher_tph, "decisions": len(label), **metrics})
        print(f"DAgger round {k + 1}: {rounds[-1]}", flush=True)
    teacher_counts = {e: sum(1 for v in best.values() if v == e) for e in EXPERTS}
    return model, {"teachers": teacher_counts, "rounds": rounds, "imitation": imitation}


def pretrain(args: argparse.Namespace) -> int:
    from cloud.pangu.export import export_onnx
    from cloud.pangu.net import NetConfig, make_net

    rng = np.random.default_rng(args.seed)
    maps = _map_files(args.mines, args.seed, Path(args.work) / "mines")
    sites = []
    for path in maps:
        points = _load_points(path)
        sites.append((str(path), round(points * rng.uniform(*TRUCKS_PER_POINT)) + 1))
    cur = Curriculum(args.scenario, args.hours, args.rounds, args.epochs, args.seed, args.workers, args.work)
    import torch

    model = make_net(NetConfig(), seed=args.seed)
    model, figures = train(sites, cur, model, [args.seed], lr=args.lr)
    card = {"name": "pangu", "contract": "dispatch-tokens/1", "trained_on": {
        "mines": len(sites), "generator": f"maps.generator random, seeds {args.seed}..{args.seed + args.mines - 1}",
        "trucks": [n for _, n in sites], "shifts_h": args.hours, "truck_class": "scenario's (cat-797f)"},
        "curriculum": _card_curriculum(cur), **figures,
        "command": f"python -m cloud.train --mines {args.mines} --hours {args.hours:g} --rounds {args.rounds} "
                   f"--epochs {args.epochs} --seed {args.seed}"}
    out = Path(args.out) if args.out else ASSETS / "pangu.onnx"
    export_onnx(model, out, card)
    torch.save(_checkpoint(model), out.with_suffix(".pt"))
    print(f"wrote {out} and its card", flush=True)
    return 0


def finetune(args: argparse.Namespace) -> int:
    import torch

    from cloud.pangu.export import export_onnx

    base = Path(args.base) if args.base else ASSETS / "pangu.pt"
    if not base.is_file():
        print(f"cloud.train: {base}: no pre-trained weights (run python -m cloud.train first)", file=sys.stderr)
        return 2
    from fleet.errors import InputError
    from minefleet.dispatch_env import scenario_for
    from minefleet.paths import resolve

    # MAP is a scenario (shipped name or .toml path: its own map and fleet) or a map (shipped name or .geojson path:
    # run with --scenario's settings); a name that is both is the scenario
    as_scenario = resolve(args.finetune, "scenarios", ".toml")
    map_file = resolve(args.finetune, "maps", ".geojson")
    if as_scenario.is_file() and as_scenario.suffix == ".toml":
        map_path, scenario = None, args.finetune
    else:
        map_path, scenario = (str(map_file), args.scenario) if map_file.is_file() else (None, args.finetune)
    try:
        scn = scenario_for(scenario, map_path, args.trucks)  # a bad map or scenario is refused before training
    except InputError as exc:
        print(f"cloud.train: {exc}", file=sys.stderr)
        return 2
    model = _net(torch.load(base, weights_only=True))
    cur = Curriculum(scenario, args.hours, args.rounds, args.epochs, args.seed, args.workers, args.work)
    seeds = [1000 + args.seed + k for k in range(args.finetune_seeds)]  # kept apart from evaluation seeds 0..99
    model, figures = train([(map_path, args.trucks)], cur, model, seeds, lr=args.lr / 3)
    stem = Path(args.finetune).stem
    out = Path(args.out) if args.out else ASSETS / f"pangu-{stem}.onnx"
    card = {"name": out.stem, "contract": "dispatch-tokens/1", "adapted_from": base.name,
            "adapted_to": {"map": Path(scn.map_path).name, "scenario": scenario, "trucks": scn.truck_count,
                           "seeds": seeds, "shifts_h": args.hours},
            "curriculum": _card_curriculum(cur), **figures,
            "command": f"python -m cloud.train --finetune {args.finetune}"
                       + (f" --scenario {args.scenario}" if map_path else "")
                       + (f" --trucks {args.trucks}" if args.trucks else "")}
    export_onnx(model, out, card)
    print(f"wrote {out} and its card", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cloud.train", description=__doc__.splitlines()[0])
    parser.add_argument("--mines", type=int, default=60, help="generated mines to pre-train on (default 60)")
    parser.add_argument("--hours", type=float, default=3.0, help="shift length of each training episode")
    parser.add_argument("--rounds", type=int, default=2, help="DAgger rounds after imitation")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scenario", default="open_pit", help="settings every episode runs with (default open_pit)")
    parser.add_argument("--work", default="runs/pangu-train", help="where generated mines are written")
    parser.add_argument("--out", help="ONNX file to write (default: assets/models/pangu.onnx, or pangu-<map>.onnx)")
    parser.add_argument("--finetune", metavar="MAP", help="adapt the pre-trained model to this map (name or path)")
    parser.add_argument("--trucks", type=int, help="with --finetune: the fleet size (default: the scenario's)")
    parser.add_argument("--finetune-seeds", type=int, default=2, help="with --finetune: shifts per planner")
    parser.add_argument("--base", help="with --finetune: pre-trained weights (default assets/models/pangu.pt)")
    args = parser.parse_args(argv)
    return finetune(args) if args.finetune else pretrain(args)


if __name__ == "__main__":
    raise SystemExit(main())
