"""``pangu``: dispatch by a pre-trained model, served in the cloud, with ``lp_flow`` as its fallback.

Each decision is encoded as the entity tokens of contract ``dispatch-tokens/1`` (``cloud.pangu.tokens``), the
model scores every token in onnxruntime on the host, and the truck goes to the best-scoring facility the mask
allows. The decision is not free: its time is emulated for the cloud's accelerator (an Ascend 910C by default)
with the same ONNX cost model as the trucks' chips (``edge.accel.model_cost``), and the order leaves the cloud that
much later (``Order.delay_s``). Because the model's input shapes are fixed by the contract, that time is one
constant per model and device, worked out once when the planner is made.

The model is never the only answer: ``lp_flow`` runs beside it (it is also the source of the
``lp_*`` features), and answers instead when

- ``budget_miss``: the emulated decision time exceeds the budget; the cloud waited the budget, then fell back;
- ``invalid``: the model failed, or its scores are not finite, not ``[1, MAX_TOKENS]``, or best on a token the
  mask rules out;
- ``too_large``: the layout has more facilities than the model has tokens (the model is not run).

Whatever is chosen is committed to ``lp_flow`` (``Experts.commit``), so its targets and slots follow the trucks
as really sent and material targets (``coal_tph``, ``coal_share``, ``crusher_tph``) keep holding.

A model is checked when the planner is made (file, ONNX, contract metadata, inputs and outputs, cost on the device):
a scenario naming an unusable one is refused before the run with one line naming the file and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from cloud.layout import Layout
from cloud.pangu import tokens as tok  # as a module: tokens imports cloud.planners, which imports this module
from cloud.planners.base import Order, PlannerConfigError, Request, order_for
from cloud.planners.lp_flow import LpFlowOptions, LpFlowPlanner
from cloud.twin import FleetTwin

# The folder holding the ``cloud`` package: the repository root in a source tree, site-packages when installed.
_ROOT = Path(__file__).resolve().parent.parent.parent
FALLBACK_REASONS = ("budget_miss", "invalid", "too_large")


def shipped_assets(root: Path = _ROOT) -> Path:
    """The shipped ``assets`` folder, found from beside the ``cloud`` package: an installed wheel keeps it at
    ``minefleet/_data/assets``, a source tree at ``assets``. The cloud may run as its own process and never
    imports ``minefleet``, so it cannot ask ``minefleet.paths``; the order of the look-up is the same."""
    for candidate in (root / "minefleet" / "_data" / "assets", root / "assets"):
        if candidate.is_dir():
            return candidate
    return root / "assets"  # absent: the model check then names the file it looked for


def model_path(model: str) -> Path:
    """A bare name (no folder, not ending .onnx) is a shipped model, ``assets/models/<name>.onnx``; anything else a path
    (a relative one is taken from the working directory of the process that runs the cloud)."""
    p = Path(model)
    if p.suffix != ".onnx" and len(p.parts) == 1:
        return shipped_assets() / "models" / f"{model}.onnx"
    return p


@dataclass(frozen=True)
class PanguOptions:
    model: str = "pangu"  # a shipped model's name (assets/models/<name>.onnx), or a path to an ONNX file
    device: str = "ascend-910c"  # the cloud's accelerator its decision time is emulated on (edge/devices/<name>.toml)
    # [ms] emulated decision time allowed before lp_flow answers instead. An assumption, not a measured or published
    # figure: an order a few ms late still reaches the truck on the same 0.1 s tick or the next.
    budget_ms: float = 5.0
    # lp_flow's material targets, for the lp_flow kept beside the model (features, commits and the fallback)
    coal_tph: float = LpFlowOptions.coal_tph
    coal_share: float = LpFlowOptions.coal_share
    crusher_tph: float = LpFlowOptions.crusher_tph


def _first_line(exc: BaseException, limit: int = 160) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:limit]


def _check_shape(path: Path, what: str, shape: list[Any], tail: tuple[int, ...]) -> None:
    """Rank and fixed dims of an input or output: ``[N, *tail]``, N symbolic or 1 (one decision per call)."""
    want = f"[N, {', '.join(map(str, tail))}]"
    if len(shape) != len(tail) + 1:
        raise PlannerConfigError("model", f"{path}: {what} must be {want}, got {shape}")
    if isinstance(shape[0], int) and shape[0] != 1:
        raise PlannerConfigError("model", f"{path}: {what} has a fixed batch of {shape[0]}; it must be 1 or symbolic")
    for got, need in zip(shape[1:], tail, strict=True):
        if got != need:
            raise PlannerConfigError("model", f"{path}: {what} shape {shape} does not match {want} (dims after the "
                                              "batch must be fixed)")


def load_session(path: Path) -> Any:
    """An onnxruntime session for a model file that keeps the ``dispatch-tokens/1`` contract, else
    ``PlannerConfigError("model", ...)`` naming the file and the first problem found."""
    import onnx
    import onnxruntime as ort

    if not path.is_file():
        raise PlannerConfigError("model", f"{path}: no such model file")
    try:
        proto = onnx.load(str(path))
    except Exception as exc:  # onnx raises protobuf and decode errors of several types
        raise PlannerConfigError("model", f"{path}: not a loadable ONNX model ({_first_line(exc)})") from None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1  # one decision at a time; its result does not depend on threads
    opts.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(proto.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime has its own exception types for every kind of unusable graph
        raise PlannerConfigError("model", f"{path}: not a loadable ONNX model (onnxruntime: {_first_line(exc)})") \
            from None
    meta = {p.key: p.value for p in proto.metadata_props}
    if meta.get("contract") != tok.CONTRACT:
        got = repr(meta["contract"]) if "contract" in meta else "missing"
        raise PlannerConfigError("model", f"{path}: metadata contract is {got}, expected {tok.CONTRACT!r}")
    if meta.get("max_tokens") != str(tok.MAX_TOKENS):
        raise PlannerConfigError("model", f"{path}: metadata max_tokens is {meta.get('max_tokens')!r}, "
                                          f"{tok.CONTRACT} has {tok.MAX_TOKENS}")
    if "features" not in meta:
        raise PlannerConfigError("model", f"{path}: metadata has no 'features' (the {tok.CONTRACT} feature list)")
    features = tuple(meta["features"].split(","))
    if features != tok.FEATURES:
        k = next((i for i, (a, b) in enumerate(zip(features, tok.FEATURES, strict=False)) if a != b),
                 min(len(features), len(tok.FEATURES)))
        got = repr(features[k]) if k < len(features) else "nothing"
        want = repr(tok.FEATURES[k]) if k < len(tok.FEATURES) else "nothing"
        raise PlannerConfigError("model", f"{path}: metadata features differ from {tok.CONTRACT}: feature {k} is "
                                          f"{got}, expected {want}")
    inputs = {i.name: i for i in session.get_inputs()}
    if set(inputs) != {"tokens", "mask"}:
        raise PlannerConfigError("model", f"{path}: inputs must be 'tokens' and 'mask', got {sorted(inputs)}")
    for name, tail in (("tokens", (tok.MAX_TOKENS, len(tok.FEATURES))), ("mask", (tok.MAX_TOKENS,))):
        if inputs[name].type != "tensor(float)":
            raise PlannerConfigError("model", f"{path}: input {name!r} must be float32, got {inputs[name].type}")
        _check_shape(path, f"input {name!r}", inputs[name].shape, tail)
    outputs = {o.name: o for o in session.get_outputs()}
    if "scores" not in outputs:
        raise PlannerConfigError("model", f"{path}: it has no output 'scores' (outputs: {sorted(outputs)})")
    return session


class PanguPlanner:
    """The model's pick where it answers in time with a destination the truck may take; lp_flow's otherwise.

    ``Order.delay_s`` of each order: the emulated decision time when the model answered (``invalid`` included: it
    answered, wrongly), the budget on a ``budget_miss`` (the cloud waited that long before falling back), 0 for
    ``too_large`` (the model never ran).
    """

    name = "pangu"
    Options = PanguOptions

    def __init__(self, options: PanguOptions | None = None, rng: np.random.Generator | None = None) -> None:
        from edge.accel import DeviceError, GraphError, model_cost  # here: only a pangu cloud needs the cost model

        self.options = options or PanguOptions()
        if not self.options.budget_ms > 0:
            raise PlannerConfigError("budget_ms", f"must be > 0, got {self.options.budget_ms}")
        self.path = model_path(self.options.model)
        self.session = load_session(self.path)
        try:
            cost = model_cost(self.path, self.options.device, batch=1)
        except DeviceError as exc:
            raise PlannerConfigError("device", _first_line(exc, 240)) from None
        except GraphError as exc:
            raise PlannerConfigError("model", f"{self.path}: cannot be costed ({_first_line(exc)})") from None
        self.latency_s = cost.latency_s  # [s] emulated, per decision: constant, the contract fixes every shape
        self.budget_s = self.options.budget_ms * 1e-3
        o = self.options
        self.lp = LpFlowPlanner(LpFlowOptions(coal_tph=o.coal_tph, coal_share=o.coal_share,
                                              crusher_tph=o.crusher_tph))
        self.experts = tok.Experts(self.lp)
        self.encoder = tok.Encoder()
        self.decisions = 0  # requests answered (by the model or the fallback)
        self.model_decisions = 0  # answered by the model
        self.agree = 0  # of the model's answers, those equal to lp_flow's pick
        self.fallbacks = dict.fromkeys(FALLBACK_REASONS, 0)

    def plan(self, request: Request, twin: FleetTwin, layout: Layout) -> Order:
        """``PlanningError`` (nowhere to send the truck) passes to the cloud, as from every planner."""
        try:
            tokens = self.encoder.encode(request, twin, layout, self.experts)
        except tok.TokenError:
            self.decisions += 1
            self.fallbacks["too_large"] += 1
            return self.lp.plan(request, twin, layout)
        dest, reason, delay_s = self._decide(tokens.x, tokens.mask, tokens.dests)
        self.decisions += 1
        if reason is None:
            self.model_decisions += 1
            self.agree += dest == tokens.picks["lp_flow"]
        else:
            self.fallbacks[reason] += 1
            dest = tokens.picks["lp_flow"]
        self.experts.commit(request, dest, tokens, twin, layout)
        return replace(order_for(request, dest, layout), delay_s=delay_s)

    def _decide(self, x: np.ndarray, mask: np.ndarray, dests: list[str | None]) -> tuple[str, str | None, float]:
        """(the model's destination, None, delay) or ("", fallback reason, delay)."""
        if self.latency_s > self.budget_s:
            return "", "budget_miss", self.budget_s  # its answer would come too late: not worth running
        try:
            scores = self.session.run(["scores"], {"tokens": x[None], "mask": mask[None]})[0]
        except Exception:  # a graph that loads but fails on real input: the cloud must keep answering
            return "", "invalid", self.latency_s
        scores = np.asarray(scores)
        if scores.shape != (1, tok.MAX_TOKENS) or not np.isfinite(scores).all():
            return "", "invalid", self.latency_s
        k = int(np.argmax(scores[0]))
        dest = dests[k]
        if mask[k] <= 0 or dest is None:
            return "", "invalid", self.latency_s
        return dest, None, self.latency_s

    def stats(self) -> dict[str, Any]:
        """Simulated figures only (deterministic, fit for ``summary.json``): ``emulated_decision_ms`` is the
        decision time emulated on ``device``, never a host measurement. ``decisions`` counts every request answered,
        ``model_decisions`` those the model answered; ``fallback_rate`` is the share of ``decisions`` lp_flow answered
        instead; ``agree_lp_flow`` the share of the model's answers equal to lp_flow's pick (None before any)."""
        n = self.decisions
        falls = sum(self.fallbacks.values())
        return {"model": self.path.name, "device": self.options.device, "budget_ms": self.options.budget_ms,
                "emulated_decision_ms": round(self.latency_s * 1e3, 6), "decisions": n,
                "model_decisions": self.model_decisions, "fallbacks": dict(self.fallbacks),
                "fallback_rate": round(falls / n, 4) if n else 0.0,
                "agree_lp_flow": round(self.agree / self.model_decisions, 4) if self.model_decisions else None}
