"""minefleet/Dispatch-v0: the Gymnasium checker, parity with a plain lp_flow shift, invalid actions, determinism."""

from __future__ import annotations

import pytest

gym = pytest.importorskip("gymnasium")

from gymnasium.utils.env_checker import check_env  # noqa: E402

import minefleet.dispatch_env  # noqa: E402,F401  (registers the id)
from fleet.kpi import summarize  # noqa: E402
from minefleet.assemble import build_run  # noqa: E402
from minefleet.dispatch_env import DispatchEnv  # noqa: E402
from minefleet.scenario import load_scenario  # noqa: E402

HOURS = 0.75


def _drive(env: DispatchEnv, seed: int, choose) -> tuple[float, int, dict]:
    obs, info = env.reset(seed=seed)
    total, steps, done = 0.0, 0, False
    while not done:
        obs, reward, done, truncated, info = env.step(choose(obs, info))
        assert not truncated
        total += reward
        steps += 1
    return total, steps, info


def test_registered_and_passes_the_checker():
    env = gym.make("minefleet/Dispatch-v0", scenario="open_pit", hours=0.25)
    try:
        check_env(env.unwrapped)
        obs, info = env.reset(seed=1)
        assert env.observation_space.contains(obs)
        assert set(info["expert"]) == {"lp_flow", "min_wait", "fixed"}
        assert all(obs["mask"][k] == 1.0 for k in info["expert"].values())
    finally:
        env.close()


def test_following_lp_flow_is_a_plain_lp_flow_shift_and_rewards_add_up_to_the_tonnes():
    env = DispatchEnv("open_pit", hours=HOURS)
    try:
        total, steps, info = _drive(env, 7, lambda obs, info: info["expert"]["lp_flow"])
        got = env.summary()
    finally:
        env.close()
    scn = load_scenario("open_pit").with_overrides(hours=HOURS, seed=7, planner="lp_flow")
    run = build_run(scn)
    run.sim.run(HOURS * 3600)
    run.close()
    want = summarize(run.sim)
    assert got["tonnes"] == want["tonnes"] > 0
    assert steps > 30 and info["invalid"] == 0
    assert total == pytest.approx(got["tonnes"] / 1000.0)  # no perception here: no safety penalty


def test_an_invalid_action_is_lp_flows_pick_and_counted():
    env = DispatchEnv("open_pit", hours=0.5)
    try:
        _drive(env, 3, lambda obs, info: 0)  # token 0 is the requesting truck: never a destination
        assert env._hand.invalid > 0
        invalid_tonnes = env.summary()["tonnes"]
        _drive(env, 3, lambda obs, info: info["expert"]["lp_flow"])
        assert env.summary()["tonnes"] == invalid_tonnes
    finally:
        env.close()


def test_same_seed_same_actions_same_shift_and_reset_mid_episode():
    env = DispatchEnv("open_pit", hours=0.5)
    try:
        first = _drive(env, 5, lambda obs, info: info["expert"]["min_wait"])
        a = env.summary()
        env.reset(seed=5)
        env.step(1)  # abandoned mid-shift: the next reset must end that shift, not hang
        second = _drive(env, 5, lambda obs, info: info["expert"]["min_wait"])
        assert first[:2] == second[:2]
        assert env.summary() == a
        with pytest.raises(RuntimeError, match="reset"):
            env.step(0)
    finally:
        env.close()


def test_a_generated_mine_as_an_episode(tmp_path):
    from maps.generator.features import dumps_map
    from maps.generator.random_mines import random_mine

    path = tmp_path / "mine.geojson"
    path.write_text(dumps_map(random_mine(3)), encoding="utf-8")
    env = DispatchEnv("open_pit", hours=0.5)
    try:
        obs, _info = env.reset(seed=0, options={"map_path": str(path), "trucks": 6})
        assert env.run.sim.fleet.n == 6
        assert obs["mask"].sum() >= 1
    finally:
        env.close()
