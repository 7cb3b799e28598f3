"""The ``pangu`` dispatch network: a small transformer that scores every token of one decision.

Why a transformer over the token set: whether a facility is the right destination depends on the others (the
shortest finish only matters against the other finishes, a starved crusher against the dumps beside it), and
attention compares every token with every other without caring how many facilities a mine has or in what order.

Why it is written out by hand (Linear q/k/v, softmax, LayerNorm) rather than ``nn.TransformerEncoder``: the
exported graph has to stay plain MatMul / Add / Softmax / LayerNormalization that onnxruntime and the emulated
Ascend AI Core (``edge.accel``) both run, without the fused attention kernels and boolean masking the library
layers export to. For the same reason the masks are arithmetic: a token that must not be attended to gets a
-1e4 bias, a token that must not be chosen a -1e4 score; there is no ``Where``, comparison or boolean indexing.

Training only: torch is the optional ``train`` extra, so nothing the simulator or the runtime planner imports may
import this module. The runtime reads the exported ONNX file (contract in ``cloud.pangu.tokens``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from cloud.pangu.tokens import FEATURES, MAX_TOKENS

NEG = 1e4  # added below a token that must not be attended to or chosen: exp(-1e4) is 0 in float32


@dataclass(frozen=True)
class NetConfig:
    """Every size of the network; the defaults are the shipped model."""

    features: int = len(FEATURES)  # D, the width of a token
    tokens: int = MAX_TOKENS  # T, tokens per decision (fixed by the contract)
    d_model: int = 64  # width of the residual stream
    embed_hidden: int = 64  # hidden width of the token embedding MLP
    heads: int = 4
    layers: int = 2
    ff_hidden: int = 128  # hidden width of each layer's feed-forward block

    def __post_init__(self) -> None:
        if self.d_model % self.heads:
            raise ValueError(f"d_model {self.d_model} is not a multiple of heads {self.heads}")


class Attention(nn.Module):
    """Multi-head self-attention with an additive key bias (0 for a token that may be attended to, -1e4 else)."""

    def __init__(self, d_model: int, heads: int, tokens: int) -> None:
        super().__init__()
        self.heads, self.head_dim, self.tokens = heads, d_model // heads, tokens
        self.q = nn.Linear(d_model, d_model)
        self.k = nn.Linear(d_model, d_model)
        self.v = nn.Linear(d_model, d_model)
        self.out = nn.Linear(d_model, d_model)
        self.scale = 1.0 / math.sqrt(self.head_dim)

    def _tokens(self, h: torch.Tensor) -> int:
        """T: the contract's in an export (a constant Reshape shape), the batch's own in training (padding trimmed)."""
        return self.tokens if torch.onnx.is_in_onnx_export() else int(h.shape[1])

    def _split(self, h: torch.Tensor) -> torch.Tensor:
        """[N, T, d] -> [N, heads, T, head_dim]; -1 for the batch keeps the exported Reshape's shape constant."""
        return h.reshape(-1, self._tokens(h), self.heads, self.head_dim).transpose(1, 2)

    def forward(self, h: torch.Tensor, key_bias: torch.Tensor) -> torch.Tensor:
        """h [N, T, d], key_bias [N, 1, 1, T] -> [N, T, d]."""
        q, k, v = self._split(self.q(h)), self._split(self.k(h)), self._split(self.v(h))
        att = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * self.scale + key_bias, dim=-1)
        mixed = torch.matmul(att, v).transpose(1, 2).reshape(-1, self._tokens(h), self.heads * self.head_dim)
        return self.out(mixed)


class Block(nn.Module):
    """One pre-norm encoder layer: attention, then a ReLU feed-forward, each added to the residual stream."""

    def __init__(self, cfg: NetConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.attn = Attention(cfg.d_model, cfg.heads, cfg.tokens)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.ff = nn.Sequential(nn.Linear(cfg.d_model, cfg.ff_hidden), nn.ReLU(), nn.Linear(cfg.ff_hidden, cfg.d_model))

    def forward(self, h: torch.Tensor, key_bias: torch.Tensor) -> torch.Tensor:
        h = h + self.attn(self.norm1(h), key_bias)
        return h + self.ff(self.norm2(h))


class PanguNet(nn.Module):
    """tokens [N, T, D], mask [N, T] -> scores [N, T]; a token with mask 0 scores about -1e4.

    A token is attended to when it is present (any feature non-zero) or is token 0, the requester; padding rows
    are all zero and are never attended to. Presence is computed as arithmetic, min(sum |x| * 1e6 + e0, 1), so
    the graph needs no comparison op."""

    def __init__(self, config: NetConfig | None = None) -> None:
        super().__init__()
        cfg = self.config = config or NetConfig()
        self.embed = nn.Sequential(nn.Linear(cfg.features, cfg.embed_hidden), nn.ReLU(),
                                   nn.Linear(cfg.embed_hidden, cfg.d_model))
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.norm = nn.LayerNorm(cfg.d_model)
        self.score = nn.Linear(cfg.d_model, 1)
        first = torch.zeros(cfg.tokens)
        first[0] = 1.0
        self.register_buffer("first", first, persistent=False)

    def forward(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        first = self.first
        if not torch.onnx.is_in_onnx_export() and tokens.shape[1] != first.shape[0]:
            # training trims padding tokens (never attended to); an export is traced at the full width
            first = first[: tokens.shape[1]]
        present = torch.clamp(tokens.abs().sum(-1) * 1e6 + first, 0.0, 1.0)  # [N, T], 1 or 0
        key_bias = ((present - 1.0) * NEG).unsqueeze(1).unsqueeze(1)  # [N, 1, 1, T]
        h = self.embed(tokens)
        for block in self.blocks:
            h = block(h, key_bias)
        scores = self.score(self.norm(h)).squeeze(-1)
        return scores + (mask - 1.0) * NEG


def make_net(config: NetConfig | None = None, seed: int = 0) -> PanguNet:
    """A freshly initialised network whose weights depend only on ``seed`` (the global torch RNG is left as it
    was), so that a training run is reproducible from its seed."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return PanguNet(config)


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
