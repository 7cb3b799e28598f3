"""The ``pangu`` network, its training and its ONNX export (needs the ``train`` extra: torch)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402

from cloud.pangu.export import card_path, export_onnx, sample_inputs  # noqa: E402
from cloud.pangu.fit import fit, predict  # noqa: E402
from cloud.pangu.net import NetConfig, make_net  # noqa: E402
from cloud.pangu.tokens import CONTRACT, FEATURES, MAX_TOKENS  # noqa: E402
from edge.accel import model_cost  # noqa: E402

FINISH = FEATURES.index("finish")
SMALL = NetConfig(d_model=32, embed_hidden=32, ff_hidden=64)


def argmin_task(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decisions whose right token is the candidate that finishes first. As in the encoder, a facility that is
    not a candidate has finish 0, so the model has to use the mask to get it right. Finishes are distinct steps
    of 0.1, so no decision hinges on a near tie."""
    rng = np.random.default_rng(seed)
    d = len(FEATURES)
    x = np.zeros((n, MAX_TOKENS, d), np.float32)
    mask = np.zeros((n, MAX_TOKENS), np.float32)
    x[:, 0, FEATURES.index("requester")] = 1.0
    for i in range(n):
        k = int(rng.integers(3, 16))  # facility tokens 1..k
        kinds = rng.integers(1, 4, k)
        x[i, np.arange(1, k + 1), kinds] = 1.0
        cand = rng.random(k) < 0.6
        cand[rng.integers(k)] = True
        mask[i, 1:k + 1] = cand
        x[i, 1:k + 1, FEATURES.index("candidate")] = cand
        noise = [FEATURES.index(f) for f in ("service", "units_up", "committed", "backlog", "capacity")]
        x[i, 1:k + 1, noise] = rng.uniform(0.0, 2.0, (len(noise), k))
        x[i, 1:k + 1, FINISH] = np.where(cand, rng.choice(np.arange(2, 31) / 10, k, replace=False), 0.0)
    target = np.where(mask > 0, x[..., FINISH], np.inf).argmin(axis=1)
    return x, mask, target


@pytest.fixture(scope="module")
def trained():
    x, mask, target = argmin_task(1500, seed=11)
    model = make_net(SMALL, seed=3)
    metrics = fit(model, x, mask, target, None, epochs=4, lr=3e-3, batch=64, seed=5, threads=1)
    return model, metrics, (x, mask, target)


def test_fit_learns_the_masked_argmin(trained) -> None:
    model, metrics, _ = trained
    assert metrics["epochs"] == 4 and metrics["decisions"] == 1500
    assert metrics["heldout_accuracy"] >= 0.9, metrics
    x, mask, target = argmin_task(500, seed=12)  # fresh decisions
    picks = predict(model, x, mask)
    assert (picks == target).mean() >= 0.9
    with torch.no_grad():  # the raw scores alone, without predict's masking, never choose a masked token
        raw = model(torch.from_numpy(x), torch.from_numpy(mask)).numpy().argmax(axis=1)
    assert (mask[np.arange(len(raw)), raw] == 1).all()
    assert (mask[np.arange(len(picks)), picks] == 1).all()


def test_fit_rejects_a_masked_target() -> None:
    x, mask, target = argmin_task(20, seed=1)
    target[3] = MAX_TOKENS - 1  # always padding in this task
    with pytest.raises(ValueError, match="masked-out"):
        fit(make_net(SMALL), x, mask, target, epochs=1, threads=1)


def test_export_round_trip(trained, tmp_path) -> None:
    model = trained[0]
    path = tmp_path / "pangu.onnx"
    card = export_onnx(model, path, {"name": "pangu-test", "seed": 3})
    proto = onnx.load(str(path))
    meta = {p.key: p.value for p in proto.metadata_props}
    assert meta["contract"] == CONTRACT
    assert meta["max_tokens"] == str(MAX_TOKENS)
    assert meta["features"].split(",") == list(FEATURES)
    assert json.loads(meta["card"]) == {"name": "pangu-test", "seed": 3}
    assert [i.name for i in proto.graph.input] == ["tokens", "mask"]
    assert [o.name for o in proto.graph.output] == ["scores"]

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for n in (1, 5):  # the batch axis is dynamic
        x, mask = sample_inputs(n, seed=40 + n)
        (got,) = sess.run(["scores"], {"tokens": x, "mask": mask})
        with torch.no_grad():
            want = model(torch.from_numpy(x), torch.from_numpy(mask)).numpy()
        assert got.shape == (n, MAX_TOKENS)
        assert np.abs(got - want)[mask > 0].max() <= 1e-4
        assert (got[mask == 0] < -5e3).all()

    cost = model_cost(path, "ascend-910c")
    assert cost.latency_s > 0
    assert not [c.name for c in cost.nodes if c.unit == "AI_CPU"]  # every op runs on the AI Core
    written = json.loads(card_path(path).read_text())
    assert written == card
    assert written["emulated_910c_ms"] == pytest.approx(cost.latency_s * 1e3, abs=1e-4)


def test_same_seed_same_weights() -> None:
    """With the default (2) threads: the run whose reductions could differ. Few steps, so that it stays quick
    even when other processes hold the cores."""
    x, mask, target = argmin_task(160, seed=21)
    weights = np.random.default_rng(0).uniform(0.5, 1.5, len(x))
    states, metrics = [], []
    for _ in range(2):
        model = make_net(SMALL, seed=7)
        metrics.append(fit(model, x, mask, target, weights, epochs=2, lr=1e-3, batch=48, seed=9))
        states.append(model.state_dict())
    assert metrics[0] == metrics[1]
    assert states[0].keys() == states[1].keys()
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key
    other = make_net(SMALL, seed=7)
    fit(other, x, mask, target, weights, epochs=2, lr=1e-3, batch=48, seed=10, threads=1)
    assert not torch.equal(other.state_dict()["score.weight"], states[0]["score.weight"])


def test_padding_tokens_change_nothing() -> None:
    """Training trims the all-zero padding tokens; the scores of the tokens kept must be those of the full 64."""
    torch = pytest.importorskip("torch")
    model = make_net(NetConfig(), seed=3)
    model.eval()
    x, mask = sample_inputs(8, seed=4)
    x[:, 12:], mask[:, 12:] = 0.0, 0.0  # twelve tokens present, the rest padding
    with torch.no_grad():
        full = model(torch.from_numpy(x), torch.from_numpy(mask)).numpy()
        trimmed = model(torch.from_numpy(x[:, :12].copy()), torch.from_numpy(mask[:, :12].copy())).numpy()
    live = mask[:, :12] > 0
    np.testing.assert_allclose(trimmed[live], full[:, :12][live], rtol=1e-5, atol=1e-4)
