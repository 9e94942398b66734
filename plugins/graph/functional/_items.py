"""Per-graph draws for the self-supervised views: one salt per graph, so every graph of a
Batch draws exactly what it draws alone with its own seed."""

from __future__ import annotations

import numpy as np
import torch

from augkit._counter import MASK63, chain_prefix, derive_seeds, extend_seeds, mix64_torch
from augkit.plugins.graph.kernels.streams import STREAM_GRAPH_SEED


def graph_salts(seeds: torch.Tensor, stream: int) -> torch.Tensor:
    """``derive_seed(seed, stream)`` of every graph's seed, as int64 on ``seeds``' device: the
    salt :func:`draw63` adds to a key (``augkit._counter.hash63`` of that stream seed)."""
    salts = torch.from_numpy(derive_seeds(seeds.cpu().numpy(), stream))
    return salts if seeds.device.type == "cpu" else salts.to(seeds.device)


def draw63(salts: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Non-negative 63-bit draws ``mix64(key + salt) & MASK63``, one salt per key."""
    return mix64_torch(keys.long() + salts) & MASK63


def single_graph(seed: int, device: torch.device | str | None = None,
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``(seeds, applied)`` of one graph drawn with ``seed``."""
    return (torch.full((1,), int(seed), dtype=torch.long, device=device),
            torch.ones(1, dtype=torch.bool, device=device))


def graph_seeds(seed: int, num_graphs: int) -> torch.Tensor:
    """The seeds of a Batch's graphs when one seed covers the whole Batch: graph ``g`` draws
    with ``derive_seed(seed, STREAM_GRAPH_SEED, g)``."""
    prefix = chain_prefix((int(seed), STREAM_GRAPH_SEED), 3)
    return torch.from_numpy(extend_seeds(prefix, np.arange(num_graphs)))
