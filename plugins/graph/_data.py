"""PyG Data/Batch plumbing shared by the graph transforms: which attributes are node- or
edge-level, filtering edges, keeping nodes, and keeping a Batch's ``batch``/``ptr`` and its
private slice bookkeeping right so ``to_data_list()`` still works.

Nothing here changes its input: results are shallow copies with new tensors where something
changed (PyG's own transforms share tensors with the dataset: pyg#9505).
"""

from __future__ import annotations

import copy
import functools
import inspect
import re
from typing import Any

import numpy as np
import torch
from torch.utils.weak import WeakIdKeyDictionary

from augkit._memory import HUGE_OUTPUT_BYTES, empty_array
from augkit._threads import parallel_ranges
from augkit.errors import InputError

_STRUCTURAL = {"edge_index", "batch", "ptr", "num_nodes", "adj_t"}


@functools.cache
def _pyg_classes() -> tuple[type, type]:
    """PyG's ``(Data, Batch)``, imported once (an import statement per call cost ~1 us, and
    a small graph's transform asks several times)."""
    from torch_geometric.data import Batch, Data

    return Data, Batch


def check_graph(data: Any, owner: str) -> None:
    if not isinstance(data, _pyg_classes()[0]):
        raise InputError(
            f"{owner}: got {type(data).__name__}; allowed: a torch_geometric Data or Batch "
            "(networkx graphs convert with augkit.plugins.graph.from_networkx)"
        )
    ei = data.edge_index
    if ei is not None and (ei.dim() != 2 or ei.size(0) != 2 or ei.dtype != torch.long):
        raise InputError(
            f"{owner}: edge_index has shape {tuple(ei.shape)} and dtype {ei.dtype}; "
            "allowed: a LongTensor of shape [2, num_edges]"
        )
    if ei is not None and ei.numel():
        _check_node_ids(ei, num_nodes(data), owner)


# edge_index tensors whose ids were found in range, with the state they were checked in:
# a large graph augmented every epoch pays the pass over its edges once.
_IDS_CHECKED: WeakIdKeyDictionary = WeakIdKeyDictionary()
_CACHE_CHECK_EDGES = 1 << 15


def _check_node_ids(ei: torch.Tensor, n: int, owner: str) -> None:
    """Every node id in ``edge_index`` is in ``0..n-1``: the kernels index node arrays with
    them unchecked, so an id past the end read or wrote outside an array (a crash, or
    garbage in the output) instead of this error."""
    big = ei.size(1) >= _CACHE_CHECK_EDGES
    if big:
        stamp = (ei._version, ei.data_ptr(), tuple(ei.shape), ei.stride(), n)
        if _IDS_CHECKED.get(ei) == stamp:
            return
    from augkit.plugins.graph.functional import node_id_range

    lo, hi = node_id_range(ei)
    if lo < 0 or hi >= n:
        bad = lo if lo < 0 else hi
        raise InputError(
            f"{owner}: edge_index holds node id {bad}, outside 0..{n - 1} (the graph has {n} "
            "nodes by PyG's count: x, num_nodes, ...); allowed: ids in [0, num_nodes)"
        )
    if big:
        _IDS_CHECKED[ei] = stamp


def is_batch(data: Any) -> bool:
    return isinstance(data, _pyg_classes()[1])


# PyG's storage infers the node count from the first of these it holds (storage.N_KEYS).
_N_KEYS = frozenset({"x", "feat", "pos", "batch", "node_type", "n_id", "tf"})


@functools.lru_cache(maxsize=64)
def _plain_node_count(cls: type, store_cls: type) -> bool:
    """Whether ``cls`` counts nodes as PyG's Data does (one GlobalStorage, no override of
    ``num_nodes``, ``node_stores`` or ``__cat_dim__``), so :func:`num_nodes` may read the
    storage's dict the way PyG's property does."""
    from torch_geometric.data import Data
    from torch_geometric.data.storage import GlobalStorage

    return (cls.num_nodes is Data.num_nodes and cls.node_stores is Data.node_stores
            and cls.__cat_dim__ is Data.__cat_dim__
            and store_cls.num_nodes is GlobalStorage.num_nodes)


def num_nodes(data: Any) -> int:
    """``data.num_nodes`` (0 when PyG cannot tell). PyG's property walks the storage through
    several layers (~10 us, and a transform asks more than once); for plain Data and Batch
    objects its first two rules (an explicit ``num_nodes``, else the first node-level tensor
    among N_KEYS, concatenated along dim 0) are read off the storage's dict here, and
    anything else is left to PyG."""
    store = data.__dict__.get("_store")
    mapping = getattr(store, "_mapping", None)
    if type(mapping) is dict and _plain_node_count(type(data), type(store)):
        n = mapping.get("num_nodes")
        if n is not None:
            return int(n)
        for key, value in mapping.items():
            if key in _N_KEYS:
                if isinstance(value, torch.Tensor):
                    return int(value.size(0))
                break  # an array or another kind: PyG's own rules below
    n = data.num_nodes
    return int(n) if n is not None else 0


def edge_index_of(data: Any) -> torch.Tensor:
    ei = data.edge_index
    if ei is None:
        dev = device_of(data)
        return torch.empty(2, 0, dtype=torch.long, device=dev)
    return ei


def device_of(data: Any) -> torch.device:
    for _, value in data:
        if isinstance(value, torch.Tensor):
            return value.device
    return torch.device("cpu")


def _attributes(data: Any) -> Any:
    """``(key, value)`` of every attribute: the storage's own dict when there is one (a Data
    or Batch has one GlobalStorage), which skips the view objects ``iter(data)`` builds."""
    mapping = getattr(getattr(data, "_store", None), "_mapping", None)
    return mapping.items() if isinstance(mapping, dict) else iter(data)


def node_keys(data: Any) -> list[str]:
    """Node-level attributes (x, y, pos, masks, custom ones), by PyG's size rule."""
    n = num_nodes(data)
    out = []
    for key, value in _attributes(data):
        if key in _STRUCTURAL or not isinstance(value, torch.Tensor) or value.dim() == 0:
            continue
        if key in ("x", "pos") or (data.is_node_attr(key) and value.size(data.__cat_dim__(
                key, value)) == n):
            out.append(key)
    return out


def edge_keys(data: Any) -> list[str]:
    """Edge-level attributes (edge_attr, edge_weight, custom ones), by PyG's size rule."""
    out = []
    for key, value in _attributes(data):
        if key in _STRUCTURAL or not isinstance(value, torch.Tensor) or value.dim() == 0:
            continue
        if data.is_edge_attr(key):
            out.append(key)
    return out


def batch_vector(data: Any) -> torch.Tensor:
    """Graph id of every node (zeros for a single Data)."""
    n = num_nodes(data)
    b = getattr(data, "batch", None) if is_batch(data) else None
    if b is None:
        return torch.zeros(n, dtype=torch.long, device=device_of(data))
    return b


def num_graphs(data: Any) -> int:
    return int(data.num_graphs) if is_batch(data) else 1


def ptr_of(data: Any) -> torch.Tensor:
    """Node offsets of the graphs, length num_graphs + 1."""
    if is_batch(data) and getattr(data, "ptr", None) is not None:
        return data.ptr
    n = num_nodes(data)
    return torch.tensor([0, n], dtype=torch.long, device=device_of(data))


def edge_graph(data: Any) -> torch.Tensor:
    """Graph id of every edge."""
    ei = edge_index_of(data)
    if not is_batch(data):
        return torch.zeros(ei.size(1), dtype=torch.long, device=ei.device)
    return batch_vector(data)[ei[0]]


def _counts_to_slices(counts: torch.Tensor) -> torch.Tensor:
    out = torch.zeros(counts.numel() + 1, dtype=torch.long)
    out[1:] = torch.cumsum(counts.cpu(), 0)
    return out


def shallow_copy(data: Any) -> Any:
    """``copy.copy`` without the storage's attribute-kind cache: the copy's sizes change, and
    a shared cache would both carry stale answers and let the copy write into the input."""
    out = copy.copy(data)
    out._store.__dict__.pop("_cached_attr", None)
    return out


@functools.lru_cache(maxsize=256)
def _plain_key(cls: type, key: str) -> bool:
    """Whether ``out.key = value`` on a ``cls`` only stores the value in the storage's dict:
    PyG's own Data/Batch ``__setattr__``, no private key, no property setter of that name on
    the storage, and on the class none or PyG's own typed-attribute setter (``x``,
    ``edge_index``, ``edge_attr``, ``y``, ...: ``self._store.<key> = value``)."""
    from torch_geometric.data import Data
    from torch_geometric.data.storage import GlobalStorage

    if key[:1] == "_" or cls.__setattr__ is not Data.__setattr__:
        return False
    k = re.escape(key)
    return (_trivial_setter(getattr(cls, key, None), Data, rf"self\._store\.{k} = \w+")
            and _trivial_setter(getattr(GlobalStorage, key, None), GlobalStorage,
                                rf"self\[['\"]{k}['\"]\] = \w+"))


def _trivial_setter(prop: Any, owner: type, line: str) -> bool:
    """True when ``prop`` has no setter, or is ``owner``'s own (PyG's typed attributes:
    ``Data.x``, ``EdgeStorage.edge_index``, ...) with a setter whose body is one line
    matching ``line`` (``self._store.<key> = value`` on Data, ``self[key] = value`` on the
    storage), read from PyG's source, so a PyG release whose setter does more falls back."""
    if getattr(prop, "fset", None) is None:
        return True
    if not any(vars(c).get(prop.fget.__name__) is prop for c in owner.__mro__):
        return False
    try:
        lines = inspect.getsource(prop.fset).splitlines()
    except (OSError, TypeError):
        return False
    body = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith(("@", "def "))]
    return len(body) == 1 and re.fullmatch(line, body[0]) is not None


def set_attr(out: Any, key: str, value: Any) -> None:
    """``out[key] = value`` straight into the storage's dict where that is all PyG's setters
    would do (they first look the key up on the class and the storage: ~3 us a write, several
    writes per call, a tenth of augmenting a small graph); anything else goes through them."""
    store = out.__dict__.get("_store")
    mapping = getattr(store, "_mapping", None)
    if (value is not None and type(mapping) is dict and _plain_key(type(out), key)
            and "_cached_attr" not in store.__dict__):
        mapping[key] = value
    else:
        setattr(out, key, value)


def _fix_batch_bookkeeping(
    out: Any,
    keys: list[str],
    counts: torch.Tensor,
    node_counts: torch.Tensor | None,
    node_keys_: list[str] = (),  # type: ignore[assignment]
) -> None:
    """Keep a Batch's ``_slice_dict``/``_inc_dict`` (and ``_num_nodes``) consistent after
    keeping a subset of edges (``counts`` per graph) and, when ``node_counts`` is given, of
    nodes (``node_keys_`` are the node-level attributes whose slices change)."""
    if not hasattr(out, "_slice_dict"):
        return
    slices = dict(out._slice_dict)
    incs = dict(out._inc_dict)
    new = _counts_to_slices(counts)
    for key in keys:
        if key in slices:
            slices[key] = new
    if node_counts is not None:
        node_slices = _counts_to_slices(node_counts)
        if "edge_index" in incs:
            incs["edge_index"] = node_slices[:-1]
        for key in [*node_keys_, "batch"]:
            if key in slices:
                slices[key] = node_slices
        if "_num_nodes" in out._store.__dict__:
            out._store._num_nodes = [int(c) for c in node_counts.tolist()]
    out._slice_dict = slices
    out._inc_dict = incs


def _select(data: Any, key: str, value: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    dim = data.__cat_dim__(key, value)
    return gather(value, dim if dim is not None else 0, index)


def gather(value: torch.Tensor, dim: int, index: torch.Tensor) -> torch.Tensor:
    """``value.index_select(dim, index)``. For a plain CPU tensor through numpy's ``take``:
    the rows of node and edge attributes are narrow (a few features), and there torch's
    index_select measured 2.5-3x slower (1e4..1e6 rows of 4 floats, one thread). Tensor
    subclasses, autograd and dtypes numpy lacks keep index_select, and so do outputs where
    index_select measured faster here: small ones (its fixed cost is ~1.5 us against numpy's
    ~5 us with the conversions: several attributes per call on a small graph) and, below the
    recycled size, 1-D tensors and rows of 64 bytes or more (numpy wins for narrow rows)."""
    if (type(value) is torch.Tensor and value.device.type == "cpu"
            and index.device.type == "cpu" and not value.requires_grad
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
            # Large: into augkit._memory's recycled buffers, over torch's threads along dim 0
            # (numpy's take releases the GIL); range-checked here because numpy buffers the
            # whole result when out= meets its own checking (mode="raise").
            size = arr.shape[dim]
            shape = (*arr.shape[:dim], rows, *arr.shape[dim + 1:])
            out = empty_array(shape, arr.dtype)

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
            return torch.from_numpy(out)
    return value.index_select(dim, index)


_SMALL_GATHER_BYTES = 64 << 10


def _index_select_faster(value: torch.Tensor, dim: int, index: torch.Tensor) -> bool:
    if dim != 0 or index.dtype != torch.long:
        return False
    row_bytes = value.element_size() * (value.numel() // max(1, value.size(0)))
    out_bytes = row_bytes * index.numel()
    return out_bytes < _SMALL_GATHER_BYTES or (
        out_bytes < HUGE_OUTPUT_BYTES and (value.dim() == 1 or row_bytes >= 64))


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
    ``batch``, ``ptr`` and the slice bookkeeping are rebuilt. The kernels' fast path: no
    boolean-mask indexing, one ``index_select`` per attribute."""
    if nkeys is None:  # only needed when nodes go
        nkeys = node_keys(data) if node_idx is not None else []
    ekeys = edge_keys(data) if ekeys is None else ekeys
    out = shallow_copy(data)
    if data.edge_index is not None:
        set_attr(out, "edge_index", edge_index)
    for key in ekeys:
        set_attr(out, key, _select(data, key, data[key], edge_idx))
    batched = is_batch(data)
    if node_idx is not None:
        for key in nkeys:
            set_attr(out, key, _select(data, key, data[key], node_idx))
        if "num_nodes" in data or not nkeys:
            out.num_nodes = int(node_idx.numel())
    if batched:
        k = num_graphs(data)
        old_batch = batch_vector(data)
        if node_idx is not None:
            new_batch = old_batch.index_select(0, node_idx)
            out.batch = new_batch
            if node_counts is None:
                node_counts = torch.bincount(new_batch, minlength=k)
            ptr = torch.zeros(k + 1, dtype=torch.long, device=new_batch.device)
            torch.cumsum(node_counts.to(ptr.device), 0, out=ptr[1:])
            out.ptr = ptr
        if edge_counts is None:
            src = edge_index_of(data)[0].index_select(0, edge_idx)
            edge_counts = torch.bincount(old_batch.index_select(0, src), minlength=k)
        _fix_batch_bookkeeping(out, ["edge_index", *ekeys], edge_counts,
                               node_counts if node_idx is not None else None, nkeys)
    return out


def filter_edges(data: Any, mask: torch.Tensor) -> Any:
    """A copy of ``data`` keeping the edges where ``mask`` is true, with every edge-level
    attribute (edge_attr, edge_weight, custom ones) following."""
    ei = edge_index_of(data)
    idx = mask.to(ei.device).nonzero().view(-1)
    return take(data, ei.index_select(1, idx), idx)


def keep_nodes(data: Any, mask: torch.Tensor, edge_mask: torch.Tensor | None = None) -> Any:
    """A copy of ``data`` with only the nodes where ``mask`` is true: node ids relabelled to
    0..n'-1, edges touching a removed node dropped (and, if given, those where ``edge_mask`` is
    false), every node- and edge-level attribute compacted, ``batch``/``ptr`` rebuilt."""
    ei = edge_index_of(data)
    dev = ei.device
    mask = mask.to(dev)
    from augkit.plugins.graph.functional import induced_edges, relabel_mask

    new_id, kept = relabel_mask(mask)
    if edge_mask is None:
        out, eidx = induced_edges(ei, new_id)
        return take(data, out.to(dev), eidx.to(dev), kept)
    emask = mask[ei[0]] & mask[ei[1]] & edge_mask.to(dev)
    eidx = emask.nonzero().view(-1)
    return take(data, new_id[ei.index_select(1, eidx)], eidx, kept)


def is_undirected(edge_index: torch.Tensor, n: int) -> bool:
    """True when every edge (u, v) has its reverse (v, u) (multiplicity ignored)."""
    if edge_index.numel() == 0:
        return True
    u, v = edge_index
    key = u * n + v
    rev = v * n + u
    s = torch.unique(key)
    return bool(torch.isin(rev, s).all())
