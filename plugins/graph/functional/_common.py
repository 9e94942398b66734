"""Tensor helpers and counter draws shared by the functional modules.

Every random draw is a counter-based hash of ``(seed, stream, key)`` (``augkit._counter``):
the same draw on the CPU and on CUDA, and the same for every stored copy of one key. Streams
are named in ``augkit.plugins.graph.kernels.streams``.
"""

from __future__ import annotations

import numpy as np
import torch

from augkit._counter import GOLDEN, M64, MASK63, derive_seed, hash63, mix64, mix64_torch
from augkit._memory import copy_output

_GOLDEN_I64 = GOLDEN - (M64 + 1)  # the golden increment as the int64 torch multiplies by


def hash64(seed: int, stream: int, keys: torch.Tensor) -> torch.Tensor:
    """Non-negative 63-bit integers, a pure function of ``(seed, stream, key)``: the same draw
    on CPU and CUDA, and the same draw for every stored copy of one key."""
    return hash63(derive_seed(int(seed), int(stream)), keys)


def _hash64_int(seed: int, stream: int, key: int) -> int:
    """:func:`hash64` of one key, in Python integers (the same bits: int64 arithmetic wraps
    as unsigned 64-bit arithmetic does)."""
    salt = derive_seed(int(seed), int(stream))
    return mix64((int(key) + salt) & M64) & MASK63


def _randint(seed: int, stream: int, keys: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """A uniform integer in ``[0, high)`` per key (``high >= 1``); the modulo bias of a 63-bit
    hash is below 2**-30 for any graph that fits in memory."""
    return hash64(seed, stream, keys) % high.clamp(min=1)


def _priority(seed: int, stream: int, keys: torch.Tensor) -> torch.Tensor:
    """A 40-bit random priority per key (ties between two keys have probability 2**-40)."""
    return hash64(seed, stream, keys) >> 23


def _take(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``x[idx]`` for a LongTensor index (``index_select``: on the CPU advanced indexing is
    much slower)."""
    return x.index_select(0, idx)


def _where(mask: torch.Tensor) -> torch.Tensor:
    """The positions where ``mask`` is true."""
    return mask.nonzero().view(-1)


def _rank_in_group(group: torch.Tensor, num_groups: int) -> torch.Tensor:
    """Position of every element inside its group, for ``group`` sorted ascending."""
    counts = torch.bincount(group, minlength=num_groups)
    start = torch.cumsum(counts, 0) - counts
    return torch.arange(group.numel(), device=group.device) - _take(start, group)


def _sorted(x: torch.Tensor) -> torch.Tensor:
    """``x`` sorted ascending; no sort when it already is (coalesced PyG graphs)."""
    if x.numel() < 2 or bool((x[1:] >= x[:-1]).all()):
        return x
    return torch.sort(x).values


def _argsorted(x: torch.Tensor) -> torch.Tensor:
    # Unstable on purpose: torch's stable sort of int64 is much slower on the CPU; the
    # unstable one is deterministic too.
    if x.numel() < 2 or bool((x[1:] >= x[:-1]).all()):
        return torch.arange(x.numel(), device=x.device)
    return torch.sort(x).indices


def _member(sorted_set: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """``queries[i] in sorted_set``; the queries are sorted first so the binary searches walk
    memory in order (random-order searches miss the caches on a large set)."""
    if sorted_set.numel() == 0 or queries.numel() == 0:
        return torch.zeros(queries.shape, dtype=torch.bool, device=queries.device)
    qs, qi = torch.sort(queries)
    pos = torch.searchsorted(sorted_set, qs).clamp(max=sorted_set.numel() - 1)
    return torch.empty_like(qs, dtype=torch.bool).index_copy_(0, qi, _take(sorted_set, pos) == qs)


def _first_of_equal(values: torch.Tensor) -> torch.Tensor:
    """True for the first (by position) of every group of equal values: a stable sort, so
    the CPU kernel, which takes proposals in order, picks the same one."""
    if values.numel() == 0:
        return torch.zeros(0, dtype=torch.bool, device=values.device)
    sv, si = torch.sort(values, stable=True)
    first = torch.ones_like(sv, dtype=torch.bool)
    first[1:] = sv[1:] != sv[:-1]
    return torch.empty_like(first).index_copy_(0, si, first)


def _merge_sorted(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Merge two sorted 1-D tensors in linear time (searchsorted over sorted queries)."""
    if b.numel() == 0:
        return a
    if a.numel() == 0:
        return b
    at = torch.searchsorted(b, a, right=False) + torch.arange(a.numel(), device=a.device)
    out = torch.empty(a.numel() + b.numel(), dtype=a.dtype, device=a.device)
    place = torch.ones(out.numel(), dtype=torch.bool, device=a.device)
    place.index_fill_(0, at, False)
    out.index_copy_(0, at, a)
    return out.masked_scatter_(place, b)


def one_graph_ptr(num_nodes: int, device: torch.device | str | None = None) -> torch.Tensor:
    """``[0, num_nodes]``: the node offsets of a single graph, on ``device`` (default CPU)."""
    # Through numpy: torch.tensor reads a Python list element by element, a cost per call.
    ptr = torch.from_numpy(np.array([0, num_nodes], dtype=np.int64))
    return ptr if device is None else ptr.to(device)


def _graph_info(
    batch: torch.Tensor | None, ptr: torch.Tensor | None, num_nodes: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    if batch is None:
        batch = torch.zeros(num_nodes, dtype=torch.long, device=device)
    if ptr is None:
        ptr = one_graph_ptr(num_nodes, device)
    return batch.to(device), ptr.to(device)



def _num_nodes_of(edge_index: torch.Tensor, num_nodes: int | None) -> int:
    """``num_nodes``, or ``edge_index.max() + 1`` (0 for no edges)."""
    if num_nodes is not None:
        return int(num_nodes)
    return int(edge_index.max()) + 1 if edge_index.numel() else 0


def _rows(edge_index: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The two rows of a CPU ``edge_index`` as numpy views (one ``numpy()`` call: indexing the
    tensor first makes a view object per row)."""
    arr = edge_index.numpy()
    return arr[0], arr[1]


def _u64(x: int) -> np.uint64:
    """A Python int (a salt or seed) as the uint64 the kernels take."""
    return np.uint64(int(x) & M64)


def _new_edge_index(edge_index: torch.Tensor) -> torch.Tensor:
    """A contiguous copy of ``edge_index`` in new memory (contiguous() of a non-contiguous
    one copies)."""
    return copy_output(edge_index) if edge_index.is_contiguous() else edge_index.contiguous()


# ---- per-graph seeds (the batch stage: one seed per graph of a Batch) ----------------------


def item_salts(seeds: torch.Tensor) -> torch.Tensor:
    """``augkit._counter.salt_of`` of every seed of an int64 tensor, on its device (int64
    multiplication wraps as the Python int's masked product)."""
    return seeds.long() * _GOLDEN_I64


def salted_bits24(salted_keys: torch.Tensor) -> torch.Tensor:
    """``hash_bits24`` of keys whose salt is already added (one salt per element)."""
    return (mix64_torch(salted_keys) >> 40) & ((1 << 24) - 1)


def segments(group: torch.Tensor, num_groups: int,
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(local, start, counts)`` for a sorted ``group`` id per element: every element's
    position inside its group, the first position of each group and each group's size."""
    counts = torch.bincount(group, minlength=num_groups)
    start = torch.cumsum(counts, 0) - counts
    local = torch.arange(group.numel(), device=group.device) - _take(start, group)
    return local, start, counts
