"""Edge and node dropout, the edges a node set induces, node-id ranges and relabelling.

Every random decision is a counter-based hash of ``(seed, key)`` (``augkit._counter``): the
key of an edge is its position, or its pair key ``min(u, v) * num_nodes + max(u, v)`` when
the graph is undirected, so both directions of a pair get the same draw in whatever order
they are stored, without a sort; the key of a node is its (global) index. A drop rate ``p``
drops a key when its 24-bit hash is below ``ceil(p * 2**24)``: exactly probability ``p`` up
to 2**-24. The same seed gives the same result on the CPU and on CUDA, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from augkit._counter import hash_bits24, salt_of, threshold24
from augkit._memory import empty_array
from augkit._threads import parallel_ranges, workers_for
from augkit.plugins.graph._backend import HAVE_NUMBA, use_numba
from augkit.plugins.graph.functional._common import (
    _GOLDEN_I64,
    _num_nodes_of,
    _rows,
    _take,
    _u64,
    item_salts,
    one_graph_ptr,
    salted_bits24,
    segments,
)
from augkit.plugins.graph.functional.undirected import pair_keys
from augkit.plugins.graph.kernels.streams import SYMMETRY_SEED

if HAVE_NUMBA:
    from augkit.plugins.graph.kernels import common as _common_kernels
    from augkit.plugins.graph.kernels import dropout as _kernels

# Below this many edges a dropout runs as one numba call (a second dispatch costs more than
# the threads save); above it the outputs are allocated by numpy (augkit._memory: huge
# pages, recycled) and the edge list is split over threads: numba's own allocation faults
# per 4 KiB page (bench graph/edge_dropout, the largest graph).
_FUSED_MAX_EDGES = 1 << 18
# From here (edges out of cache) torch's aminmax over its threads beats the single pass;
# the check runs on every call (bench graph/edge_dropout at 1e5-1e6 edges).
_ID_RANGE_NUMBA_MAX = 1 << 18
_SYMMETRY_SALT = _u64(salt_of(SYMMETRY_SEED))


# ---- edges ----------------------------------------------------------------------------------


def edge_keep_mask(
    edge_index: torch.Tensor,
    p: float,
    seed: int,
    *,
    undirected: bool = False,
    num_nodes: int | None = None,
    backend: str = "auto",
) -> torch.Tensor:
    r"""The edges :func:`dropout_edge` keeps, as a boolean mask of shape ``[num_edges]``.

    Args:
        edge_index (LongTensor): ``[2, num_edges]``.
        p (float): drop rate in ``[0, 1]``.
        seed (int): the draw; the same seed gives the same mask on any device.
        undirected (bool): decide per unordered pair ``{u, v}``, so both stored directions
            (and every duplicate of the pair) are kept or dropped together.
        num_nodes (int, optional): defaults to ``edge_index.max() + 1``.
        backend (str): ``"auto"``, ``"torch"`` or ``"numba"`` (see ``_backend``).

    Example:
        >>> ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> mask = edge_keep_mask(ei, 0.5, seed=3, undirected=True)
        >>> bool(mask[0] == mask[1]) and bool(mask[2] == mask[3])
        True
    """
    numba = use_numba(backend, edge_index)
    n = _num_nodes_of(edge_index, num_nodes)
    if numba:
        keep = np.empty(edge_index.size(1), dtype=np.bool_)
        _kernels.edge_keep(*_rows(edge_index), n, _u64(salt_of(seed)), threshold24(p),
                           undirected, keep)
        return torch.from_numpy(keep)
    return _edge_keep_mask_torch(edge_index, p, seed, undirected, n)


def _edge_keep_mask_torch(edge_index: torch.Tensor, p: float, seed: int, undirected: bool,
                          n: int) -> torch.Tensor:
    keys = (pair_keys(edge_index[0], edge_index[1], n) if undirected
            else torch.arange(edge_index.size(1), device=edge_index.device))
    return hash_bits24(seed, keys) >= threshold24(p)


def dropout_edge(
    edge_index: torch.Tensor,
    p: float,
    seed: int,
    *,
    undirected: bool = False,
    num_nodes: int | None = None,
    backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Drops each edge with probability ``p``; with ``undirected=True`` each unordered pair.

    Unlike PyG's ``dropout_edge(force_undirected=True)``, pairs stored as ``row > col`` are
    kept as often as the others, self-loops are not doubled, and the kept edges stay in their
    stored order. Returns ``(edge_index, edge_id)``: the kept edges and their positions in the
    input, ready for ``edge_attr.index_select(0, edge_id)``.

    Example:
        >>> ei = torch.tensor([[0, 1, 1, 2, 2], [1, 0, 2, 1, 2]])
        >>> out, eid = dropout_edge(ei, 0.0, seed=0, undirected=True)
        >>> torch.equal(out, ei), eid.tolist()
        (True, [0, 1, 2, 3, 4])
        >>> out, eid = dropout_edge(ei, 1.0, seed=0)
        >>> out.shape
        torch.Size([2, 0])
    """
    numba = use_numba(backend, edge_index)
    n = _num_nodes_of(edge_index, num_nodes)
    if numba:
        return _dropout_edge_numba(edge_index, p, seed, undirected, n)
    mask = _edge_keep_mask_torch(edge_index, p, seed, undirected, n)
    idx = mask.nonzero().view(-1)
    return edge_index.index_select(1, idx), idx


def dropout_edge_auto(
    edge_index: torch.Tensor, p: float, seed: int, num_nodes: int,
) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``dropout_edge(..., undirected=is_symmetric(edge_index), num_nodes=num_nodes)`` in one
    numba call for a small CPU edge list; None where that path does not apply (no numba, off
    the CPU, or large enough for the chunked kernels), for the caller to run the two steps."""
    if edge_index.size(1) >= _FUSED_MAX_EDGES or not use_numba("auto", edge_index):
        return None
    src, dst = _rows(edge_index)
    out, idx, _ = _kernels.dropout_edge_auto(src, dst, int(num_nodes), _u64(salt_of(seed)),
                                             threshold24(p), _SYMMETRY_SALT)
    return torch.from_numpy(out), torch.from_numpy(idx)


def _dropout_edge_numba(edge_index: torch.Tensor, p: float, seed: int, undirected: bool,
                        n: int) -> tuple[torch.Tensor, torch.Tensor]:
    src, dst = _rows(edge_index)
    salt, thresh = _u64(salt_of(seed)), threshold24(p)
    if src.shape[0] < _FUSED_MAX_EDGES:
        out, idx = _kernels.dropout_edge(src, dst, n, salt, thresh, undirected)
    else:
        out, idx = _chunked_keep_and_compact(
            src, dst, lambda s_, d_, keep, lo: _kernels.edge_keep(
                s_, d_, n, salt, thresh, undirected, keep, lo),
            np.empty(0, np.int64))
    return torch.from_numpy(out), torch.from_numpy(idx)


def _chunked_keep_and_compact(
    src: np.ndarray, dst: np.ndarray, keep_fn: Callable[..., int], new_id: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The kept edges (relabelled through ``new_id`` unless it is empty) and their positions,
    over contiguous chunks of the edge list on torch's threads (the numba kernels release
    the GIL): ``keep_fn(src_chunk, dst_chunk, keep_chunk, chunk_start)`` marks a chunk's
    kept edges and returns their count; each chunk then writes its kept edges at its offset.
    Outputs (and the mask) are recycled buffers (augkit._memory)."""
    compact = _common_kernels.compact_edges
    e = src.shape[0]
    keep = empty_array((e,), np.bool_)
    chunks = workers_for(e, 1)
    if chunks == 1:  # small graphs: no thread hand-off, no closures
        k = int(keep_fn(src, dst, keep, 0))
        out = empty_array((2, k), np.int64)
        idx = empty_array((k,), np.int64)
        compact(src, dst, keep, new_id, out, idx, 0)
        return out, idx
    bounds = [e * j // chunks for j in range(chunks + 1)]
    counts = [0] * chunks

    def mark(lo: int, hi: int) -> None:
        for c in range(lo, hi):
            a, b = bounds[c], bounds[c + 1]
            counts[c] = int(keep_fn(src[a:b], dst[a:b], keep[a:b], a))

    parallel_ranges(mark, chunks, e // chunks)
    offsets = [0]
    for c in counts:
        offsets.append(offsets[-1] + c)
    out = empty_array((2, offsets[-1]), np.int64)
    idx = empty_array((offsets[-1],), np.int64)

    def write(lo: int, hi: int) -> None:
        for c in range(lo, hi):
            a, b = bounds[c], bounds[c + 1]
            o0, o1 = offsets[c], offsets[c + 1]
            compact(src[a:b], dst[a:b], keep[a:b], new_id, out[:, o0:o1], idx[o0:o1], a)

    parallel_ranges(write, chunks, e // chunks)
    return out, idx


# ---- nodes ----------------------------------------------------------------------------------


def node_keep_ids(
    ptr: torch.Tensor,
    p: float,
    seed: int,
    *,
    min_nodes: int = 1,
    backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Which nodes survive a node dropout of rate ``p`` on graphs with node offsets ``ptr``.

    Each graph ``g`` (nodes ``ptr[g]..ptr[g+1]-1``) keeps at least
    ``min(min_nodes, its size)`` nodes: when the draw would drop too many, the nodes with the
    largest draws are kept, which is a uniformly random choice among the graph's nodes.
    Returns ``(new_id, counts)``: the new index of every node (``-1`` when dropped) and the
    kept nodes per graph. ``ptr`` is trusted (non-decreasing from 0), as everywhere in the
    functional API.

    Example:
        >>> new_id, counts = node_keep_ids(torch.tensor([0, 3, 5]), 1.0, seed=0, min_nodes=1)
        >>> counts.tolist(), int((new_id >= 0).sum())
        ([1, 1], 2)
    """
    numba = use_numba(backend, ptr)
    n = int(ptr[-1]) if ptr.numel() else 0
    thresh = threshold24(p)
    if numba:
        new_id = np.empty(n, dtype=np.int64)
        counts = np.empty(ptr.numel() - 1, dtype=np.int64)
        _kernels.node_keep(ptr.contiguous().numpy(), _u64(salt_of(seed)), thresh,
                           int(min_nodes), new_id, counts)
        return torch.from_numpy(new_id), torch.from_numpy(counts)
    dev = ptr.device
    k = ptr.numel() - 1
    sizes = ptr[1:] - ptr[:-1]
    gid = torch.repeat_interleave(torch.arange(k, device=dev), sizes)
    h = hash_bits24(seed, torch.arange(n, device=dev))
    keep = h >= thresh
    counts = torch.zeros(k, dtype=torch.long, device=dev).index_add_(0, gid, keep.long())
    need = torch.clamp(sizes, max=int(min_nodes))
    short = counts < need
    if bool(short.any()):
        # Rank nodes inside their graph by decreasing draw (ties by index): stable sorts.
        order = torch.sort(-h, stable=True).indices
        order = order[torch.sort(gid[order], stable=True).indices]
        rank = torch.empty(n, dtype=torch.long, device=dev)
        rank[order] = torch.arange(n, device=dev) - ptr[gid[order]]
        keep |= short[gid] & (rank < need[gid])
        counts = torch.where(short, need, counts)
    new_id = torch.cumsum(keep.long(), 0) - 1
    new_id = torch.where(keep, new_id, torch.full_like(new_id, -1))
    return new_id, counts


def dropout_node(
    edge_index: torch.Tensor,
    p: float,
    seed: int,
    *,
    num_nodes: int | None = None,
    ptr: torch.Tensor | None = None,
    min_nodes: int = 1,
    backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Drops each node with probability ``p``, with its edges, and relabels the rest.

    ``ptr`` (node offsets of the graphs of a Batch, default one graph) lets every graph keep
    at least ``min_nodes`` nodes. Returns ``(edge_index, node_id, edge_id, counts)``: the
    relabelled edges, the kept nodes and edges (positions in the input, for
    ``x.index_select(0, node_id)``) and the kept nodes per graph.

    Example:
        >>> ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
        >>> out, nid, eid, counts = dropout_node(ei, 0.0, seed=0, num_nodes=3)
        >>> torch.equal(out, ei), nid.tolist(), counts.tolist()
        (True, [0, 1, 2], [3])
        >>> out, nid, eid, counts = dropout_node(ei, 1.0, seed=0, num_nodes=3)
        >>> out.shape, nid.numel()
        (torch.Size([2, 0]), 1)
    """
    tensors = (edge_index,) if ptr is None else (edge_index, ptr)
    numba = use_numba(backend, *tensors)
    n = _num_nodes_of(edge_index, num_nodes)
    dev = edge_index.device
    if numba and edge_index.is_contiguous() and edge_index.size(1) < _FUSED_MAX_EDGES:
        # One call: the separate steps' dispatches and conversions dominate a small graph.
        src, dst = _rows(edge_index)
        ptr_np = np.array([0, n], np.int64) if ptr is None else ptr.contiguous().numpy()
        out, nid, idx, counts = _kernels.dropout_node(ptr_np, src, dst, _u64(salt_of(seed)),
                                                      threshold24(p), int(min_nodes))
        return (torch.from_numpy(out), torch.from_numpy(nid), torch.from_numpy(idx),
                torch.from_numpy(counts))
    if ptr is None:
        ptr = one_graph_ptr(n, dev)
    new_id, counts = node_keep_ids(ptr, p, seed, min_nodes=min_nodes, backend=backend)
    out, idx = induced_edges(edge_index, new_id, backend=backend)
    return out, (new_id >= 0).nonzero().view(-1), idx, counts


def induced_edges(
    edge_index: torch.Tensor, new_id: torch.Tensor, *, backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """The edges whose two ends are kept (``new_id >= 0``), relabelled through ``new_id``,
    and their positions in ``edge_index``. With numba one fused pass over the edges instead
    of two gathers, a mask, a nonzero and an index_select.

    >>> induced_edges(torch.tensor([[0, 1, 2], [1, 2, 0]]), torch.tensor([0, -1, 1]))
    (tensor([[1],
            [0]]), tensor([2]))
    """
    if use_numba(backend, edge_index, new_id):
        return _induced_edges_numba(edge_index, new_id)
    keep = (new_id[edge_index[0]] >= 0) & (new_id[edge_index[1]] >= 0)
    idx = keep.nonzero().view(-1)
    return new_id[edge_index.index_select(1, idx)], idx


def _induced_edges_numba(edge_index: torch.Tensor, new_id: torch.Tensor,
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    src, dst = _rows(edge_index.contiguous())
    nid = np.ascontiguousarray(new_id.numpy(), dtype=np.int64)
    if src.shape[0] < _FUSED_MAX_EDGES:
        out, idx = _kernels.induced_edges(src, dst, nid)
    else:
        out, idx = _chunked_keep_and_compact(
            src, dst, lambda s_, d_, keep, lo: _kernels.node_edges_keep(s_, d_, nid, keep), nid)
    return torch.from_numpy(out), torch.from_numpy(idx)


def node_id_range(edge_index: torch.Tensor, *, backend: str = "auto") -> tuple[int, int]:
    """The smallest and largest node id of a non-empty ``edge_index``.

    >>> node_id_range(torch.tensor([[0, 4], [2, 1]]))
    (0, 4)
    """
    if use_numba(backend, edge_index) and edge_index.size(1) < _ID_RANGE_NUMBA_MAX:
        lo, hi = _common_kernels.id_range(edge_index.numpy())
        return int(lo), int(hi)
    lo, hi = torch.aminmax(edge_index)
    return int(lo), int(hi)


def batch_mismatch(batch: torch.Tensor, ptr: torch.Tensor, *, backend: str = "auto") -> int:
    """The first node whose id in ``batch`` is not the graph that ``ptr`` (node offsets,
    already checked: non-decreasing from 0 to ``batch.numel()``) puts it in, or -1 when
    ``batch`` is exactly the graph id of every node.

    >>> batch_mismatch(torch.tensor([0, 0, 1]), torch.tensor([0, 2, 3]))
    -1
    >>> batch_mismatch(torch.tensor([0, 1, 1]), torch.tensor([0, 2, 3]))
    1
    """
    if use_numba(backend, batch, ptr):
        return int(_common_kernels.batch_mismatch(batch.contiguous().numpy(),
                                                  ptr.contiguous().numpy()))
    sizes = ptr[1:] - ptr[:-1]
    expected = torch.repeat_interleave(torch.arange(sizes.numel(), device=batch.device),
                                       sizes.to(batch.device), output_size=batch.numel())
    bad = (batch != expected).nonzero()
    return int(bad[0, 0]) if bad.numel() else -1


def relabel_mask(mask: torch.Tensor, *, backend: str = "auto",
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(new_id, kept)`` for a boolean node mask: the new index of every node (``-1`` where
    ``mask`` is false) and the kept nodes in order.

    >>> relabel_mask(torch.tensor([True, False, True]))
    (tensor([ 0, -1,  1]), tensor([0, 2]))
    """
    if use_numba(backend, mask) and mask.dtype == torch.bool:
        # One pass instead of full, nonzero, arange and a scatter.
        new_id = torch.empty(mask.numel(), dtype=torch.long)
        kept = _common_kernels.relabel_mask(mask.contiguous().numpy(), new_id.numpy())
        return new_id, torch.from_numpy(kept)
    dev = mask.device
    new_id = torch.full((mask.numel(),), -1, dtype=torch.long, device=dev)
    kept = mask.nonzero().view(-1)
    new_id[kept] = torch.arange(kept.numel(), device=dev)
    return new_id, kept


# ---- per-graph seeds: every graph of a Batch as if alone ------------------------------------


def symmetric_graphs(edge_index: torch.Tensor, ptr: torch.Tensor, edge_graph: torch.Tensor,
                     ) -> torch.Tensor:
    """:func:`is_symmetric` of every graph's own edges (node ids local to the graph), as a
    boolean per graph: the same two wrapping sums, one per graph.

    >>> ei = torch.tensor([[0, 1, 2], [1, 0, 3]])
    >>> symmetric_graphs(ei, torch.tensor([0, 2, 4]), torch.tensor([0, 0, 1])).tolist()
    [True, False]
    """
    k = ptr.numel() - 1
    start = _take(ptr, edge_graph)
    u, v = edge_index[0] - start, edge_index[1] - start
    salt = salt_of(SYMMETRY_SEED)
    a = salted_bits24(((u * _GOLDEN_I64) ^ v) + salt) * (v + 1)
    b = salted_bits24(((v * _GOLDEN_I64) ^ u) + salt) * (u + 1)
    zero = torch.zeros(k, dtype=torch.long, device=edge_index.device)
    return zero.index_add(0, edge_graph, a) == zero.index_add(0, edge_graph, b)


def edge_keep_items(
    edge_index: torch.Tensor,
    ptr: torch.Tensor,
    edge_graph: torch.Tensor,
    p: float,
    seeds: torch.Tensor,
    applied: torch.Tensor,
    *,
    undirected: bool | str = False,
) -> torch.Tensor:
    r"""The keep mask of :func:`edge_keep_mask` on every graph of a Batch at once, each graph
    with its own seed and keys local to it (edge position inside the graph, pair key from its
    local node ids and its own node count), so graph ``g`` keeps what it keeps alone with
    ``seeds[g]``. Graphs whose ``applied`` is false keep every edge.

    Args:
        edge_index (LongTensor): ``[2, num_edges]``, the edges of each graph together, graph
            by graph (as a Batch stores them).
        ptr (LongTensor): node offsets of the graphs.
        edge_graph (LongTensor): the graph of every edge.
        seeds (LongTensor), applied (BoolTensor): one per graph, on the edges' device.
        undirected: ``True``, ``False`` or ``"auto"`` (:func:`is_symmetric` per graph).

    Example:
        >>> ei = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
        >>> keep = edge_keep_items(ei, torch.tensor([0, 2, 4]), torch.tensor([0, 0, 1, 1]),
        ...                        0.5, torch.tensor([3, 3]), torch.tensor([True, True]),
        ...                        undirected=True)
        >>> torch.equal(keep[:2], keep[2:])
        True
    """
    k = ptr.numel() - 1
    local, _, _ = segments(edge_graph, k)
    salts = item_salts(seeds)
    keys = local
    if undirected is True or undirected == "auto":
        start = _take(ptr, edge_graph)
        n_g = _take(ptr[1:] - ptr[:-1], edge_graph)
        lu, lv = edge_index[0] - start, edge_index[1] - start
        pairs = torch.minimum(lu, lv) * n_g + torch.maximum(lu, lv)  # pair_keys, per graph
        if undirected == "auto":
            und = _take(symmetric_graphs(edge_index, ptr, edge_graph), edge_graph)
            keys = torch.where(und, pairs, local)
        else:
            keys = pairs
    keep = salted_bits24(keys + _take(salts, edge_graph)) >= threshold24(p)
    return keep | ~_take(applied, edge_graph)


def dropout_edge_items(
    edge_index: torch.Tensor,
    batch: torch.Tensor,
    ptr: torch.Tensor,
    p: float,
    seeds: torch.Tensor,
    applied: torch.Tensor,
    *,
    undirected: bool | str = False,
    backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    r""":func:`edge_keep_items` on a Batch's edges, then the kept edges: returns
    ``(edge_index, edge_id, counts)``, the kept edges, their positions in the input and the
    kept edges per graph. With numba one call, for the many small graphs of a Batch whose
    separate tensor ops cost more than the work.

    Example:
        >>> ei = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
        >>> out, eid, counts = dropout_edge_items(
        ...     ei, torch.tensor([0, 0, 1, 1]), torch.tensor([0, 2, 4]), 1.0,
        ...     torch.tensor([3, 3]), torch.tensor([True, False]), undirected=True)
        >>> eid.tolist(), counts.tolist()
        ([2, 3], [0, 2])
    """
    if use_numba(backend, edge_index, batch, ptr, seeds, applied):
        src, dst = _rows(edge_index.contiguous())
        salts = item_salts(seeds).numpy().view(np.uint64)
        mode = 2 if undirected == "auto" else int(bool(undirected))
        out, idx, counts = _kernels.dropout_edge_items(
            src, dst, batch.contiguous().numpy(), ptr.contiguous().numpy(), salts,
            applied.contiguous().numpy(), threshold24(p), mode, _SYMMETRY_SALT)
        return torch.from_numpy(out), torch.from_numpy(idx), torch.from_numpy(counts)
    k = ptr.numel() - 1
    edge_graph = batch.index_select(0, edge_index[0])
    keep = edge_keep_items(edge_index, ptr, edge_graph, p, seeds, applied,
                           undirected=undirected)
    eid = keep.nonzero().view(-1)
    counts = torch.zeros(k, dtype=torch.long, device=edge_index.device).index_add_(
        0, edge_graph, keep.long())
    return edge_index.index_select(1, eid), eid, counts


def node_keep_items(
    ptr: torch.Tensor,
    p: float,
    seeds: torch.Tensor,
    applied: torch.Tensor,
    *,
    min_nodes: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    r""":func:`node_keep_ids` on every graph of ``ptr`` at once, graph ``g`` drawing with
    ``seeds[g]`` and its local node indices as keys, so it keeps what it keeps alone; graphs
    whose ``applied`` is false keep every node. Returns ``(new_id, counts)``.

    Example:
        >>> new_id, counts = node_keep_items(torch.tensor([0, 3, 5]), 1.0,
        ...                                  torch.tensor([0, 0]), torch.tensor([True, False]))
        >>> counts.tolist()
        [1, 2]
    """
    if use_numba("auto", ptr, seeds, applied):
        # One pass, and no repeat_interleave: its CPU loop is split over torch's threads
        # even for a few graphs, and waking them costs more than the whole dropout.
        ptr_np = ptr.contiguous().numpy()
        new_id_np = np.empty(int(ptr_np[-1]) if ptr_np.shape[0] else 0, np.int64)
        counts_np = np.empty(max(ptr_np.shape[0] - 1, 0), np.int64)
        _kernels.node_keep_items(ptr_np, item_salts(seeds).numpy().view(np.uint64),
                                 applied.contiguous().numpy(), threshold24(p), int(min_nodes),
                                 new_id_np, counts_np)
        return torch.from_numpy(new_id_np), torch.from_numpy(counts_np)
    dev = ptr.device
    k = ptr.numel() - 1
    sizes = ptr[1:] - ptr[:-1]
    total = int(ptr[-1]) if ptr.numel() else 0
    gid = torch.repeat_interleave(torch.arange(k, device=dev), sizes, output_size=total)
    local = torch.arange(total, device=dev) - _take(ptr, gid)
    h = salted_bits24(local + _take(item_salts(seeds), gid))
    keep = (h >= threshold24(p)) | ~_take(applied, gid)
    counts = torch.zeros(k, dtype=torch.long, device=dev).index_add_(0, gid, keep.long())
    need = torch.where(applied, torch.clamp(sizes, max=int(min_nodes)), 0)
    short = counts < need
    if bool(short.any()):
        # Rank nodes inside their graph by decreasing draw, ties by index (a stable sort of
        # graph-major keys): the nodes alone would be ranked the same.
        order = torch.sort(gid * (1 << 25) + ((1 << 24) - 1 - h), stable=True).indices
        rank = torch.empty(total, dtype=torch.long, device=dev)
        rank[order] = torch.arange(total, device=dev) - _take(ptr, _take(gid, order))
        keep |= _take(short, gid) & (rank < _take(need, gid))
        counts = torch.where(short, need, counts)
    new_id = torch.cumsum(keep.long(), 0) - 1
    new_id = torch.where(keep, new_id, torch.full_like(new_id, -1))
    return new_id, counts
