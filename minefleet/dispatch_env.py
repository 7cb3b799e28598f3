"""``minefleet/Dispatch-v0``: the fleet's dispatch decisions as a Gymnasium environment.

Each step is one dispatch decision of the cloud: the observation is the decision's entity tokens (the same
``dispatch-tokens/1`` the ``pangu`` planner feeds its model, ``cloud.pangu.tokens``), the action is the token of
the destination, the reward is the tonnes tipped until the next decision (in kilotonnes) less a penalty per safety
event (collisions, near misses, e-stops of the trucks' perception, where the scenario has it). An episode is one
shift of a scenario, or of any mine map (a generated one, say) run with that scenario's settings.

Why a thread: the simulation asks the cloud from deep inside a tick, and a Gymnasium environment is stepped from
outside. The shift runs in a worker thread whose dispatch planner hands each decision to ``step`` and waits for
the action; the two strictly take turns, so an episode is as deterministic as a plain run: the same seed and the
same actions give the same shift. An action that is no destination for this truck (mask 0) is answered with
``lp_flow``'s pick, flagged in ``info`` and counted. ``info["expert"]`` carries the token each reference planner
(``lp_flow``, ``min_wait``, ``fixed``) would pick: the labels imitation learning and DAgger need.

    import gymnasium as gym
    import minefleet.dispatch_env  # registers the id
    env = gym.make("minefleet/Dispatch-v0", scenario="open_pit", hours=1.0)

Needs ``gymnasium`` (the ``gym`` extra). See docs/architecture.md, "Cloud".
"""

from __future__ import annotations

import queue
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from cloud.layout import Layout
from cloud.pangu.tokens import CLIP, FEATURES, MAX_TOKENS, Encoder, Experts, Tokens, facilities_of
from cloud.planners import planner_options
from cloud.planners.base import Order, Request, order_for
from cloud.planners.lp_flow import LpFlowPlanner
from cloud.twin import FleetTwin
from minefleet.assemble import Run, build_run
from minefleet.scenario import Scenario, load_scenario

ENV_ID = "minefleet/Dispatch-v0"
KILOTONNE = 1000.0  # [t] reward unit
EXPERTS = ("lp_flow", "min_wait", "fixed")


class _Abort(BaseException):
    """Raised inside the shift's thread to end it when the environment is reset or closed mid-episode."""


class _HandOff:
    """The planner the shift's cloud uses: each decision goes to the environment, the action comes back."""

    name = "gym"

    def __init__(self, lp: LpFlowPlanner) -> None:
        self.experts = Experts(lp)
        self.encoder = Encoder()
        self.to_env: queue.Queue = queue.Queue(maxsize=1)
        self.to_sim: queue.Queue = queue.Queue(maxsize=1)
        self.invalid = 0

    def plan(self, request: Request, twin: FleetTwin, layout: Layout) -> Order:
        tokens = self.encoder.encode(request, twin, layout, self.experts)
        self.to_env.put(("decide", tokens))
        action = self.to_sim.get()
        if action is None:
            raise _Abort
        dest = tokens.dests[action] if tokens.mask[action] > 0 else None
        if dest is None:
            self.invalid += 1
            dest = tokens.picks["lp_flow"]
        self.experts.commit(request, dest, tokens, twin, layout)
        return order_for(request, dest, layout)


def scenario_for(scenario: str | Scenario, map_path: str | Path | None = None, trucks: int | None = None,
                 hours: float | None = None, seed: int | None = None) -> Scenario:
    """A scenario's settings, optionally on another map (its fleet's start moved to that map's first park) and
    with another fleet size or shift length."""
    scn = load_scenario(scenario) if isinstance(scenario, str) else scenario
    if map_path is not None:
        scn = replace(scn, map_path=Path(map_path), start=None, events=(),
                      groups=tuple(replace(g, start=None) for g in scn.groups))
    if trucks is not None:
        scn = scn.resized(trucks)
    return scn.with_overrides(hours=hours, seed=seed)


class DispatchEnv(gym.Env):
    """One shift; a step per dispatch decision. See the module docstring."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(self, scenario: str | Scenario = "open_pit", map_path: str | None = None, trucks: int | None = None,
                 hours: float = 1.0, safety_penalty: float = 1.0, lp_options: dict[str, Any] | None = None) -> None:
        self.base = scenario_for(scenario, map_path, trucks, hours)
        self.hours = float(hours)
        self.safety_penalty = float(safety_penalty)
        self.lp_options = planner_options("lp_flow", dict(lp_options or {}))
        self.observation_space = spaces.Dict({
            "tokens": spaces.Box(-CLIP, CLIP, (MAX_TOKENS, len(FEATURES)), np.float32),
            "mask": spaces.Box(0.0, 1.0, (MAX_TOKENS,), np.float32),
        })
        self.action_space = spaces.Discrete(MAX_TOKENS)
        self.run: Run | None = None
        self._hand: _HandOff | None = None
        self._thread: threading.Thread | None = None
        self._tokens: Tokens | None = None
        self._credited = (0.0, 0)

    # -- the shift's thread ---------------------------------------------------------------------------

    def _shift(self, run: Run, hand: _HandOff) -> None:
        try:
            run.sim.run(self.hours * 3600.0)
        except _Abort:
            return
        except BaseException as exc:  # handed to the caller of step(), never lost in the thread
            hand.to_env.put(("error", exc))
            return
        hand.to_env.put(("done", None))

    def _next(self) -> tuple[dict[str, np.ndarray], bool]:
        kind, payload = self._hand.to_env.get()
        if kind == "error":
            self._thread = None
            raise payload
        if kind == "done":
            self._thread.join()
            self._thread, self._tokens = None, None
            return self._empty(), True
        self._tokens = payload
        return {"tokens": payload.x, "mask": payload.mask}, False

    def _empty(self) -> dict[str, np.ndarray]:
        return {"tokens": np.zeros((MAX_TOKENS, len(FEATURES)), np.float32),
                "mask": np.zeros(MAX_TOKENS, np.float32)}

    def _info(self) -> dict[str, Any]:
        sim = self.run.sim
        info: dict[str, Any] = {"t": sim.t, "tonnes": float(sim.tonnes.sum()), "invalid": self._hand.invalid}
        if self._tokens is not None:
            info["dests"] = list(self._tokens.dests)
            info["expert"] = {name: self._tokens.index(self._tokens.picks[name]) for name in EXPERTS}
        return info

    def _safety_events(self) -> int:
        onboard = self.run.sim.onboard
        if onboard is None:
            return 0
        return int(sum(onboard.collisions.values()) + onboard.near_misses + onboard.estops)

    def _reward(self) -> float:
        tonnes, events = float(self.run.sim.tonnes.sum()), self._safety_events()
        reward = (tonnes - self._credited[0]) / KILOTONNE - self.safety_penalty * (events - self._credited[1])
        self._credited = (tonnes, events)
        return reward

    # -- the Gymnasium API ----------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """A new shift. ``seed`` is the scenario's seed (None: drawn from the environment's own generator);
        ``options`` may give ``map_path`` and ``trucks`` for this episode."""
        super().reset(seed=seed)
        self._stop()
        options = options or {}
        run_seed = seed if seed is not None else int(self.np_random.integers(2**31))
        scn = scenario_for(self.base, options.get("map_path"), options.get("trucks"), seed=run_seed)
        scn = replace(scn, planner="lp_flow", planner_options={})
        self.run = build_run(scn)
        facilities_of(Layout(self.run.sim.layout_body()))  # a layout too large for the tokens fails here
        self._hand = _HandOff(LpFlowPlanner(self.lp_options))
        self.run.cloud.planner = self._hand
        self._credited = (0.0, 0)
        self._thread = threading.Thread(target=self._shift, args=(self.run, self._hand), daemon=True,
                                        name="minefleet-dispatch-env")
        self._thread.start()
        obs, done = self._next()
        if done:
            raise RuntimeError(f"the shift of {scn.map_path.name} ended before any dispatch decision")
        return obs, self._info()

    def step(self, action: int) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        if self._thread is None:
            raise RuntimeError("step() after the episode ended: call reset()")
        action = int(action)
        if not 0 <= action < MAX_TOKENS:
            raise ValueError(f"action {action} is outside 0..{MAX_TOKENS - 1}")
        self._hand.to_sim.put(action)
        obs, done = self._next()
        return obs, self._reward(), done, False, self._info()

    def summary(self) -> dict[str, Any]:
        """The finished shift's KPIs (as in a run's summary.json)."""
        from fleet.kpi import summarize

        return summarize(self.run.sim)

    def _stop(self) -> None:
        if self._thread is not None:
            self._hand.to_sim.put(None)
            self._thread.join()
            self._thread = None
        if self.run is not None:
            self.run.close()
            self.run = None

    def close(self) -> None:
        self._stop()


def register() -> None:
    """Register ``minefleet/Dispatch-v0`` with Gymnasium (once)."""
    if ENV_ID not in gym.registry:
        gym.register(id=ENV_ID, entry_point="minefleet.dispatch_env:DispatchEnv")


register()
