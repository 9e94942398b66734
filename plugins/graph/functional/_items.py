"""Per-graph draws for the self-supervised views: one salt per graph, so every graph of a
Batch draws exactly what it draws alone with its own seed."""

from __future__ import annotations

import torch

from augkit._counter import M64, MASK63, derive_seed, mix64_torch
from augkit.plugins.graph.kernels.streams import STREAM_GRAPH_SEED


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def graph_salts(seeds: torch.Tensor, stream: int) -> torch.Tensor:
    """``derive_seed(seed, stream)`` of every graph's seed, as int64 on ``seeds``' device: the
    salt :func:`draw63` adds to a key (``augkit._counter.hash63`` of that stream seed)."""
    vals = [_signed(derive_seed(int(s), int(stream)) & M64) for s in seeds.tolist()]
    return torch.tensor(vals, dtype=torch.long, device=seeds.device)


def draw63(salts: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Non-negative 63-bit draws ``mix64(key + salt) & MASK63``, one salt per key."""
    return mix64_torch(keys.long() + salts) & MASK63


def graph_seeds(seed: int, num_graphs: int) -> torch.Tensor:
    """The seeds of a Batch's graphs when one seed covers the whole Batch: graph ``g`` draws
    with ``derive_seed(seed, STREAM_GRAPH_SEED, g)``."""
    return torch.tensor([derive_seed(int(seed), STREAM_GRAPH_SEED, g) for g in range(num_graphs)],
                        dtype=torch.long)
