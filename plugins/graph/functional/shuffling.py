"""Node shuffling: a uniformly random permutation of the nodes of every graph on its own (PyG's
``shuffle_node(x, batch)``), drawn from counter hashes so each graph's permutation depends on
its own seed and size only."""

from __future__ import annotations

import numpy as np
import torch

from augkit.plugins.graph._backend import HAVE_NUMBA, numba_on, use_numba
from augkit.plugins.graph.functional._common import one_graph_ptr, segments
from augkit.plugins.graph.functional._items import draw63, graph_salts, single_graph
from augkit.plugins.graph.kernels.streams import STREAM_SHUFFLE

if HAVE_NUMBA:
    from augkit.plugins.graph.kernels import shuffling as _kernels


def shuffle_perm_items(ptr: torch.Tensor, seeds: torch.Tensor,
                       applied: torch.Tensor) -> torch.Tensor:
    """``perm`` over all nodes of a Batch (``ptr``: node offsets) such that ``x[perm]`` moves
    every graph's rows among themselves: graph ``g`` is permuted by the ranks of its nodes'
    63-bit draws under ``seeds[g]`` (node ``i`` of the graph draws key ``i``), and left as it
    is where ``applied[g]`` is false. Ties (probability below ``n**2 / 2**63``) keep node order.

    >>> perm = shuffle_perm_items(torch.tensor([0, 3, 5]), torch.tensor([1, 2]),
    ...                           torch.tensor([True, False]))
    >>> sorted(perm[:3].tolist()), perm[3:].tolist()
    ([0, 1, 2], [3, 4])
    """
    dev = ptr.device
    k = ptr.numel() - 1
    bits = max(int(k).bit_length(), 1)
    if use_numba("auto", ptr):
        # One pass per graph, the torch ops' permutation: small graphs pay no op overheads.
        offsets = ptr.long().numpy()
        perm = np.empty(int(offsets[-1]), dtype=np.int64)
        _kernels.shuffle_perm(offsets, seeds.cpu().numpy(), applied.cpu().numpy(), bits, perm)
        return torch.from_numpy(perm)
    counts = ptr[1:] - ptr[:-1]
    graph = torch.repeat_interleave(torch.arange(k, device=dev), counts)
    local, _, _ = segments(graph, k)
    salts = graph_salts(seeds.cpu(), STREAM_SHUFFLE).to(dev)
    draw = draw63(salts.index_select(0, graph), local)
    draw = torch.where(applied.to(dev).index_select(0, graph), draw, local)
    # Sort by (graph, draw): the graph id is the high key, the draw's top bits the low key.
    key = (graph << (63 - bits)) | (draw >> bits)
    return torch.sort(key, stable=True).indices


def shuffle_perm(num_nodes: int, seed: int,
                 device: torch.device | str | None = None) -> torch.Tensor:
    """The permutation of one graph of ``num_nodes`` nodes drawn with ``seed``: what
    :func:`shuffle_perm_items` gives a Batch of that graph alone (PyG's ``shuffle_node(x)``
    without ``batch``), on ``device`` (default CPU).

    >>> perm = shuffle_perm(4, 7)
    >>> sorted(perm.tolist())
    [0, 1, 2, 3]
    >>> torch.equal(perm, shuffle_perm_items(torch.tensor([0, 4]), torch.tensor([7]),
    ...                                      torch.tensor([True])))
    True
    """
    dev = torch.device("cpu" if device is None else device)
    if numba_on(dev):  # one graph: its offsets and seed go to the kernel without tensors
        perm = np.empty(num_nodes, dtype=np.int64)
        # shift 1: the bits shuffle_perm_items keeps for the graph id of a one-graph Batch.
        _kernels.shuffle_perm(np.array([0, num_nodes], dtype=np.int64),
                              np.array([seed], dtype=np.int64), np.ones(1, dtype=np.bool_),
                              1, perm)
        return torch.from_numpy(perm)
    return shuffle_perm_items(one_graph_ptr(num_nodes, dev), *single_graph(seed, dev))
