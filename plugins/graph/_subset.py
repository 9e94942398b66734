"""Checking a PyG graph and selecting its nodes and edges: ``check_graph`` (with the node-id
check), ``gather``, ``take`` and ``keep_nodes``. PyG is reached only through the adapter
:mod:`._pyg`; node ids and relabelling come from the functional API.

Nothing here changes its input: results are shallow copies with new tensors where something
changed (PyG's own transforms share tensors with the dataset: pyg#9505).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from augkit._memory import HUGE_OUTPUT_BYTES, empty_array
from augkit._threads import parallel_ranges, workers_for
from augkit.errors import InputError
from augkit.plugins.graph import _pyg
from augkit.plugins.graph import functional as F
from augkit.plugins.graph._layouts import check_layout, slice_lists
from augkit.plugins.graph.functional._common import one_graph_ptr


def check_graph(data: Any, owner: str, *, node_ids: bool = True) -> None:
    """An InputError naming ``owner`` unless ``data`` is a PyG Data/Batch the kernels can
    index safely: ``edge_index`` a ``[2, num_edges]`` LongTensor of node ids in
    ``0..num_nodes-1`` (the ids scanned only with ``node_ids``, for a caller that indexes
    with them); ``x``/``pos`` one row per node and ``edge_attr``/``edge_weight`` one row per
    edge; on a Batch, ``ptr`` non-decreasing from 0 to num_nodes with one entry per graph
    plus one, and ``batch`` the graph of every node as ``ptr`` says. Checked on every call,
    nothing cached: a write that torch does not see would make a cached answer stale."""
    if not isinstance(data, _pyg.data_class()):
        raise InputError(
            f"{owner}: got {type(data).__name__}; allowed: a torch_geometric Data or Batch "
            "(networkx graphs convert with augkit.plugins.graph.from_networkx)"
        )
    check_layout(data, owner)  # an adj_t graph: refused, augkit rewrites edge_index only
    mapping = _pyg.plain_mapping(data)
    if mapping is not None:  # a plain Data: its dict read once, the same checks and errors
        _check_plain(data, mapping, owner, node_ids)
        return
    ei = data.edge_index
    if ei is not None:
        _check_edge_index(ei, owner)
    for key in ("x", "pos"):
        value = _pyg.get(data, key)
        if isinstance(value, torch.Tensor) and value.dim() == 0:
            raise InputError(f"{owner}: {key} is a 0-d tensor; allowed: one row per node")
    n = _pyg.num_nodes(data)
    _check_rows(data, n, ei.size(1) if ei is not None else 0, owner)
    if node_ids and ei is not None and ei.numel():
        _check_node_ids(ei, n, owner)
    if _pyg.is_batch(data):
        _check_batch(data, n, owner)


def _check_plain(data: Any, mapping: dict, owner: str, node_ids: bool) -> None:
    """:func:`check_graph` of a plain Data from its storage's dict (no Batch checks)."""
    ei = mapping.get("edge_index")
    if ei is not None:
        _check_edge_index(ei, owner)
    get = mapping.get
    for key in ("x", "pos"):
        value = get(key)
        if isinstance(value, torch.Tensor) and value.dim() == 0:
            raise InputError(f"{owner}: {key} is a 0-d tensor; allowed: one row per node")
    n = _pyg.num_nodes(data)
    e = ei.size(1) if ei is not None else 0
    for key, what, source in _ROWS:
        value = get(key)
        if value is not None and isinstance(value, torch.Tensor) and value.dim() \
                and value.size(0) != (n if what == "node" else e):
            _check_row_count(key, value, n if what == "node" else e, what, source, owner)
    if node_ids and ei is not None and ei.numel():
        _check_node_ids(ei, n, owner)


def _check_edge_index(ei: Any, owner: str) -> None:
    if not isinstance(ei, torch.Tensor) or ei.dim() != 2 or ei.size(0) != 2 \
            or ei.dtype != torch.long:
        what = (f"shape {tuple(ei.shape)} and dtype {ei.dtype}" if isinstance(ei, torch.Tensor)
                else f"a {type(ei).__name__}")
        raise InputError(
            f"{owner}: edge_index has {what}; allowed: a LongTensor of shape [2, num_edges]"
        )


_ROWS = (("x", "node", "num_nodes"), ("pos", "node", "num_nodes"),
         ("edge_attr", "edge", "edge_index"), ("edge_weight", "edge", "edge_index"))


def _check_row_count(key: str, value: Any, rows: int, what: str, source: str,
                     owner: str) -> None:
    if isinstance(value, torch.Tensor) and value.dim() and value.size(0) != rows:
        raise InputError(
            f"{owner}: {key} has {value.size(0)} rows but the graph has {rows} {what}s "
            f"(by its {source}); allowed: one row of {key} per {what}"
        )


def _check_rows(data: Any, n: int, e: int, owner: str) -> None:
    """The attributes every kernel reads by row: one row per node or per edge."""
    for key, what, source in _ROWS:
        value = _pyg.get(data, key)
        if value is not None:
            _check_row_count(key, value, n if what == "node" else e, what, source, owner)


def _check_node_ids(ei: torch.Tensor, n: int, owner: str) -> None:
    """Every node id in ``edge_index`` is in ``0..n-1``: the kernels index node arrays with
    them unchecked, so an id past the end would read or write outside an array."""
    lo, hi = F.node_id_range(ei)
    if lo < 0 or hi >= n:
        bad = lo if lo < 0 else hi
        raise InputError(
            f"{owner}: edge_index holds node id {bad}, outside 0..{n - 1} (the graph has {n} "
            "nodes by PyG's count: x, num_nodes, ...); allowed: ids in [0, num_nodes)"
        )


def _check_batch(data: Any, n: int, owner: str) -> None:
    """``ptr`` and ``batch`` of a Batch, which the kernels index per-graph and per-node arrays
    with: ``ptr`` in O(num_graphs), ``batch`` in one pass over the nodes."""
    k = _pyg.num_graphs(data)
    ptr, batch = _pyg.get(data, "ptr"), _pyg.get(data, "batch")
    if ptr is None or batch is None:
        if k != 1:
            missing = "ptr" if ptr is None else "batch"
            raise InputError(f"{owner}: got a Batch of {k} graphs without {missing}; allowed: "
                             "a Batch with batch and ptr (Batch.from_data_list sets both)")
        if batch is None:
            return
        ptr = one_graph_ptr(n, batch.device)
    _check_vector(ptr, "ptr", k + 1, owner)
    if int(ptr[0]) != 0 or int(ptr[-1]) != n:
        raise InputError(f"{owner}: ptr runs from {int(ptr[0])} to {int(ptr[-1])}; allowed: "
                         f"node offsets from 0 to num_nodes={n}")
    if k > 1:
        drop = (ptr[1:] < ptr[:-1]).nonzero()
        if drop.numel():
            g = int(drop[0, 0])
            raise InputError(f"{owner}: ptr decreases at graph {g} ({int(ptr[g])} then "
                             f"{int(ptr[g + 1])}); allowed: non-decreasing node offsets")
    _check_vector(batch, "batch", n, owner)
    i = F.batch_mismatch(batch, ptr) if n else -1
    if i >= 0:
        g = int(torch.searchsorted(ptr, ptr.new_tensor([i]), right=True)[0]) - 1
        raise InputError(f"{owner}: batch[{i}] is {int(batch[i])} but ptr puts node {i} in "
                         f"graph {g}; allowed: graph ids 0..{k - 1}, sorted, as ptr says")


def _check_vector(value: Any, key: str, size: int, owner: str) -> None:
    if not isinstance(value, torch.Tensor) or value.dtype != torch.long or value.dim() != 1 \
            or value.numel() != size:
        what = (f"shape {tuple(value.shape)} and dtype {value.dtype}"
                if isinstance(value, torch.Tensor) else f"a {type(value).__name__}")
        raise InputError(f"{owner}: {key} has {what}; allowed: a LongTensor of shape [{size}]")


_SMALL_GATHER_BYTES = 64 << 10


def _index_select_faster(value: torch.Tensor, dim: int, index: torch.Tensor) -> bool:
    if dim != 0 or index.dtype != torch.long:
        return False
    rows = index.numel()
    row_elements = value.numel() // max(1, value.size(0))
    out_bytes = value.element_size() * row_elements * rows
    if out_bytes < _SMALL_GATHER_BYTES:
        return True
    if out_bytes >= HUGE_OUTPUT_BYTES:
        return False
    # Wide rows: torch's gather wins only by its threads, so only where augkit's own loops
    # would split the work too (never on one thread, as in a DataLoader worker).
    return value.dim() == 1 or (value.element_size() * row_elements >= 64
                                and workers_for(rows, row_elements) > 1)


def gather(value: torch.Tensor, dim: int, index: torch.Tensor) -> torch.Tensor:
    """``value.index_select(dim, index)``. A plain CPU tensor goes through numpy's ``take``,
    faster on the narrow rows of node and edge attributes (graph suite, case
    ``node_dropout/compact``) and on wide rows too few to split over threads (all of them on
    one thread); tensor subclasses, autograd, dtypes numpy lacks, and the outputs where
    index_select is the faster one (small ones, 1-D, and wide rows that augkit's own loops
    would split over threads, below the recycled size) keep index_select.

    Example:
        >>> gather(torch.tensor([[1, 2], [3, 4], [5, 6]]), 0, torch.tensor([2, 0])).tolist()
        [[5, 6], [1, 2]]
    """
    # is_cpu: device.type == "cpu" without building a device object (small graphs, per call).
    if (type(value) is torch.Tensor and value.is_cpu and index.is_cpu and not value.requires_grad
            and not _index_select_faster(value, dim, index)):
        try:
            arr = value.numpy()
        except (TypeError, RuntimeError):  # bfloat16 and other dtypes numpy lacks
            pass
        else:
            idx = index.numpy()
            rows = idx.shape[0]
            if arr.nbytes // max(1, arr.shape[dim]) * rows < HUGE_OUTPUT_BYTES:
                return torch.from_numpy(np.take(arr, idx, axis=dim))
            return torch.from_numpy(_take_into_recycled(arr, dim, idx))
    return value.index_select(dim, index)


def _take_into_recycled(arr: np.ndarray, dim: int, idx: np.ndarray) -> np.ndarray:
    """``np.take`` into augkit._memory's recycled buffers, over torch's threads along dim 0
    (numpy's take releases the GIL); range-checked here because numpy buffers the whole
    result when ``out=`` meets its own checking (``mode="raise"``)."""
    rows = idx.shape[0]
    size = arr.shape[dim]
    out = empty_array((*arr.shape[:dim], rows, *arr.shape[dim + 1:]), arr.dtype)

    def run(lo: int, hi: int) -> None:
        part = idx[lo:hi]
        if hi > lo and (int(part.min()) < 0 or int(part.max()) >= size):
            raise IndexError(f"gather: index out of range for size {size}")
        if dim == 0:
            np.take(arr, part, axis=0, out=out[lo:hi], mode="wrap")
        else:
            np.take(arr, part, axis=dim, out=out, mode="wrap")

    if dim == 0:
        parallel_ranges(run, rows, max(1, out.size // max(1, rows)))
    else:
        run(0, rows)
    return out


def _select(data: Any, key: str, value: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    dim = data.__cat_dim__(key, value)
    return gather(value, dim if dim is not None else 0, index)


def take(
    data: Any,
    edge_index: torch.Tensor,
    edge_idx: torch.Tensor,
    node_idx: torch.Tensor | None = None,
    *,
    edge_counts: torch.Tensor | None = None,
    node_counts: torch.Tensor | None = None,
    nkeys: list[str] | None = None,
    ekeys: list[str] | None = None,
) -> Any:
    """A copy of ``data`` whose edges are ``edge_index`` (already relabelled) with the
    edge-level attributes of old edges ``edge_idx``, and, when ``node_idx`` is given, only the
    old nodes ``node_idx`` (in order) with their node-level attributes. On a Batch,
    ``edge_counts``/``node_counts`` are the kept edges/nodes per graph (computed if None);
    ``batch``, ``ptr`` and the slice bookkeeping are rebuilt. One gather per attribute, no
    boolean-mask indexing."""
    if nkeys is None:  # only needed when nodes go
        nkeys = _pyg.node_keys(data) if node_idx is not None else []
    ekeys = _pyg.edge_keys(data) if ekeys is None else ekeys
    mapping = _pyg.plain_mapping(data)
    if mapping is not None and node_idx is None:  # a plain Data losing edges only
        out = _pyg.shallow_copy(data)
        if mapping.get("edge_index") is not None:
            _pyg.set_attr(out, "edge_index", edge_index)
        for key in ekeys:
            _pyg.set_attr(out, key, _select(data, key, mapping[key], edge_idx))
        slice_lists(data, out, edge_idx, None)  # list attributes, as PyG's subgraph slices
        return out
    out = _pyg.shallow_copy(data)
    if data.edge_index is not None:
        _pyg.set_attr(out, "edge_index", edge_index)
    for key in ekeys:
        _pyg.set_attr(out, key, _select(data, key, data[key], edge_idx))
    if node_idx is not None:
        for key in nkeys:
            _pyg.set_attr(out, key, _select(data, key, data[key], node_idx))
        if "num_nodes" in data or not nkeys:
            out.num_nodes = int(node_idx.numel())
    if _pyg.is_batch(data):
        k = _pyg.num_graphs(data)
        old_batch = _pyg.batch_vector(data)
        if node_idx is not None:
            new_batch = old_batch.index_select(0, node_idx)
            out.batch = new_batch
            if node_counts is None:
                node_counts = torch.bincount(new_batch, minlength=k)
            ptr = torch.zeros(k + 1, dtype=torch.long, device=new_batch.device)
            torch.cumsum(node_counts.to(ptr.device), 0, out=ptr[1:])
            out.ptr = ptr
        if edge_counts is None:
            src = _pyg.edge_index_of(data)[0].index_select(0, edge_idx)
            edge_counts = torch.bincount(old_batch.index_select(0, src), minlength=k)
        _pyg.fix_batch_bookkeeping(out, ["edge_index", *ekeys], edge_counts,
                                   node_counts if node_idx is not None else None, nkeys)
    slice_lists(data, out, edge_idx, node_idx)  # list attributes, as PyG's subgraph slices
    return out


def keep_nodes(data: Any, mask: torch.Tensor) -> Any:
    """A copy of ``data`` with only the nodes where ``mask`` is true: node ids relabelled to
    0..n'-1, edges touching a removed node dropped, every node- and edge-level attribute
    compacted, ``batch``/``ptr`` rebuilt."""
    ei = _pyg.edge_index_of(data)
    dev = ei.device
    new_id, kept = F.relabel_mask(mask.to(dev))
    out, eidx = F.induced_edges(ei, new_id)
    return take(data, out.to(dev), eidx.to(dev), kept)
