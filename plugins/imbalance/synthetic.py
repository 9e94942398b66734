"""A generated imbalanced graph for demos, tests and benchmarks: a stochastic block model with
two block probabilities (planted partition), drawn in O(E) with numpy (PyG's
``stochastic_blockmodel_graph`` draws a dense block matrix and uses global torch RNG)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch


def imbalanced_sbm(
    num_nodes: int,
    avg_degree: float = 10.0,
    class_fractions: Sequence[float] = (0.8, 0.15, 0.05),
    *,
    p_within: float = 0.8,
    num_features: int = 16,
    separation: float = 1.0,
    train_fraction: float = 0.2,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> Any:
    """A PyG ``Data``: ``num_nodes`` nodes in classes of the given fractions, about
    ``num_nodes * avg_degree`` directed edges stored in both directions (undirected; a few
    duplicate pairs and self-loops are possible, as in a multigraph SBM draw); each edge
    stays inside its class with probability ``p_within``. ``x`` is float32: a class centre
    ``separation * one_hot(class)`` padded with zeros, plus standard normal noise. Random
    ``train_mask`` / ``val_mask`` / ``test_mask`` split the nodes.
    """
    from torch_geometric.data import Data

    rng = np.random.default_rng(seed)
    fractions = np.asarray(class_fractions, dtype=np.float64)
    sizes = np.floor(fractions / fractions.sum() * num_nodes).astype(np.int64)
    sizes[0] += num_nodes - sizes.sum()
    y = np.repeat(np.arange(len(sizes)), sizes)
    start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pairs = int(num_nodes * avg_degree) // 2
    src = rng.integers(0, num_nodes, pairs)
    inside = rng.random(pairs) < p_within
    block = y[src]
    within = start[block] + (rng.random(pairs) * sizes[block]).astype(np.int64)
    dst = np.where(inside, within, rng.integers(0, num_nodes, pairs))
    edge_index = np.stack([np.concatenate([src, dst]), np.concatenate([dst, src])])
    x = rng.standard_normal((num_nodes, num_features), dtype=np.float32)
    classes = min(len(sizes), num_features)
    x[:, :classes] += separation * np.eye(len(sizes), dtype=np.float32)[y][:, :classes]
    r = rng.random(num_nodes)
    train = r < train_fraction
    val = (r >= train_fraction) & (r < train_fraction + val_fraction)
    return Data(
        x=torch.from_numpy(x),
        y=torch.from_numpy(y),
        edge_index=torch.from_numpy(edge_index),
        train_mask=torch.from_numpy(train),
        val_mask=torch.from_numpy(val),
        test_mask=torch.from_numpy(~train & ~val),
    )
