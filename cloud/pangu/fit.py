"""Imitation training of the ``pangu`` network on recorded decisions: the tokens of each decision and the token
that was chosen (by a reference planner, or by whatever did best in a rollout).

Why a plain cross-entropy over the masked scores: the planner picks the argmax of the scores over the tokens the
truck may be sent to, so the loss is the log-probability of the chosen token among exactly those tokens (masked
tokens sit at -1e4 and drop out of the softmax). Per-decision weights let a caller count some decisions more
(the costly ones, or a planner's departures from its reference).

Why it is reproducible: the held-out split and the batch order come from ``numpy.random.default_rng(seed)``, the
torch RNG is seeded and the thread count is fixed, so the same seed, data and starting weights give the same
weights on the same CPU (``cloud.pangu.net.make_net`` makes the starting weights a function of a seed too).
Training only: imports torch (the ``train`` extra).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from cloud.pangu.tokens import FEATURES, MAX_TOKENS

HELDOUT_SHARE = 0.1  # the last 10 % of a seeded permutation of the decisions is held out
THREADS = 1  # default intra-op threads while training (see ``fit``)


def _check(x: np.ndarray, mask: np.ndarray, target: np.ndarray | None = None) -> None:
    if x.ndim != 3 or x.shape[1:] != (MAX_TOKENS, len(FEATURES)):
        raise ValueError(f"x must be [M, {MAX_TOKENS}, {len(FEATURES)}], got {list(x.shape)}")
    if mask.shape != x.shape[:2]:
        raise ValueError(f"mask must be [M, {MAX_TOKENS}] like x, got {list(mask.shape)}")
    if target is not None:
        if target.shape != x.shape[:1]:
            raise ValueError(f"target must be [M], got {list(target.shape)}")
        if target.min(initial=0) < 0 or target.max(initial=0) >= MAX_TOKENS:
            raise ValueError(f"target tokens must be in 0..{MAX_TOKENS - 1}")
        bad = np.flatnonzero(mask[np.arange(len(target)), target] <= 0)
        if len(bad):
            raise ValueError(f"{len(bad)} targets are masked-out tokens (first: decision {bad[0]})")


def _scores(model: nn.Module, x: np.ndarray, mask: np.ndarray, batch: int) -> np.ndarray:
    """Model scores [M, T] in batches, without gradients."""
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(model(torch.from_numpy(x[i:i + batch]), torch.from_numpy(mask[i:i + batch])).numpy())
    return np.concatenate(out) if out else np.zeros((0, MAX_TOKENS), np.float32)


def predict(model: nn.Module, x: np.ndarray, mask: np.ndarray, batch: int = 1024) -> np.ndarray:
    """The chosen token of each decision: argmax of the scores over the tokens with mask 1 (int64 [M])."""
    x, mask = np.ascontiguousarray(x, np.float32), np.ascontiguousarray(mask, np.float32)
    _check(x, mask)
    was_training = model.training
    model.eval()
    try:
        scores = _scores(model, x, mask, batch)
    finally:
        model.train(was_training)
    return np.where(mask > 0, scores, -np.inf).argmax(axis=1)


def fit(model: nn.Module, x: np.ndarray, mask: np.ndarray, target: np.ndarray, weights: np.ndarray | None = None,
        epochs: int = 10, lr: float = 1e-3, batch: int = 256, seed: int = 0, threads: int = THREADS) -> dict:
    """Train ``model`` in place to pick ``target`` (token index per decision) among the masked tokens.

    x float32 [M, T, D], mask float32 [M, T], target int [M], weights float [M] or None (all 1). Returns
    ``{"epochs", "train_loss" (weighted mean cross-entropy of the last epoch), "heldout_accuracy" (share of
    held-out decisions whose argmax is the target; None when fewer than 2 decisions), "decisions" (M)}``.

    ``threads``: torch's intra-op threads while training (restored afterwards). Weights are reproducible for a
    given thread count. Use 1 when other processes share the cores (parallel trainings, pytest-xdist): with
    more threads than free cores the many small kernels of this network wait on descheduled threads at every
    barrier, which was measured 40-80x slower than one thread."""
    x, mask = np.ascontiguousarray(x, np.float32), np.ascontiguousarray(mask, np.float32)
    target = np.asarray(target, np.int64)
    _check(x, mask, target)
    w = np.ones(len(x), np.float32) if weights is None else np.asarray(weights, np.float32)
    if w.shape != target.shape or (w < 0).any() or not np.isfinite(w).all():
        raise ValueError("weights must be [M], finite and non-negative")
    if epochs < 1 or batch < 1:
        raise ValueError("epochs and batch must be >= 1")
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _train(model, x, mask, target, w, epochs, lr, batch, seed)
    finally:
        torch.set_num_threads(previous_threads)


def _train(model: nn.Module, x: np.ndarray, mask: np.ndarray, target: np.ndarray, w: np.ndarray, epochs: int,
           lr: float, batch: int, seed: int) -> dict:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    n_held = min(max(round(len(x) * HELDOUT_SHARE), 1), len(x) - 1) if len(x) >= 2 else 0
    train_idx, held_idx = order[:len(x) - n_held], order[len(x) - n_held:]
    if not len(train_idx):
        raise ValueError("no decisions to train on")
    # Padding tokens (all zero, beyond the last facility of every decision) are never attended to and never
    # chosen, so training drops them: a mine of 12 facilities then costs a fifth of the full 64 tokens.
    used = int(np.flatnonzero(np.abs(x).sum(axis=(0, 2)) > 0).max(initial=0)) + 1
    xt, mt = torch.from_numpy(np.ascontiguousarray(x[:, :used])), torch.from_numpy(np.ascontiguousarray(mask[:, :used]))
    tt, wt = torch.from_numpy(target), torch.from_numpy(w)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    loss_epoch = float("nan")
    for _ in range(epochs):
        total, weight_sum = 0.0, 0.0
        perm = rng.permutation(train_idx)
        for i in range(0, len(perm), batch):
            idx = torch.from_numpy(perm[i:i + batch])
            scores = model(xt[idx], mt[idx])
            per = nn.functional.cross_entropy(scores, tt[idx], reduction="none")
            wb = wt[idx]
            wsum = float(wb.sum())
            if wsum <= 0:
                continue
            loss = (per * wb).sum() / wsum
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * wsum
            weight_sum += wsum
        loss_epoch = total / weight_sum if weight_sum else float("nan")
    model.eval()
    acc = None
    if len(held_idx):
        acc = float((predict(model, x[held_idx], mask[held_idx]) == target[held_idx]).mean())
    return {"epochs": epochs, "train_loss": loss_epoch, "heldout_accuracy": acc, "decisions": len(x)}
