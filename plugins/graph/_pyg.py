"""The one place the graph plugin talks to PyG's ``Data``/``Batch``: node counts, attributes,
node/edge keys, batch vector and ``ptr``, a shallow copy, attribute writes and a Batch's slice
bookkeeping. Nothing here imports the functional API or the kernels.

Two paths, the same results. The default one reads and writes the storage's dict for plain
Data and Batch objects, where PyG's properties and setters would only walk several layers to
the same dict (a small graph asks more than once per call); :func:`public_api` switches every
read and write to PyG's public API (``data.num_nodes``, ``iter(data)``, ``setattr``,
``copy.copy``), which the tests use to check the fast path against it. The batch bookkeeping
has no public spelling in PyG and stays the one private write on both paths.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import re
import weakref
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import torch

from augkit.plugins.graph.functional._common import one_graph_ptr

_STRUCTURAL = frozenset({"edge_index", "batch", "ptr", "num_nodes", "adj_t"})
# PyG's storage infers the node count from the first of these it holds (storage.N_KEYS).
_N_KEYS = frozenset({"x", "feat", "pos", "batch", "node_type", "n_id", "tf"})

_public = False


@contextlib.contextmanager
def public_api(enabled: bool = True) -> Iterator[None]:
    """Within the block, every function here goes through PyG's public API only."""
    global _public
    before, _public = _public, enabled
    try:
        yield
    finally:
        _public = before


def using_public_api() -> bool:
    return _public


class _PyG(NamedTuple):
    data: type
    batch: type
    storage: type
    # (name, id(property)) of PyG's own properties, on Data and on its storage, whose
    # setter only stores the value.
    data_store_only: frozenset[tuple[str, int]]
    storage_store_only: frozenset[tuple[str, int]]
    kinds: tuple[Any, Any, Any]  # the storage's attribute-kind cache keys: edge, node, other


@functools.cache
def _probe() -> _PyG:
    """PyG's classes, imported once, and which of their property setters only store the
    value, read from PyG's source so a release whose setter does more falls back."""
    from torch_geometric.data import Batch, Data
    from torch_geometric.data.storage import AttrType, GlobalStorage

    return _PyG(Data, Batch, GlobalStorage,
                frozenset(_store_only_setters(Data, r"self\._store\.{key} = \w+")),
                frozenset(_store_only_setters(GlobalStorage, r"self\[['\"]{key}['\"]\] = \w+")),
                (AttrType.EDGE, AttrType.NODE, AttrType.OTHER))


def _store_only_setters(owner: type, pattern: str) -> Iterable[tuple[str, int]]:
    """``(name, id)`` of every property in ``owner``'s classes whose setter body is one line
    matching ``pattern`` (``{key}`` standing for the property's name)."""
    for cls in owner.__mro__:
        for name, prop in vars(cls).items():
            if getattr(prop, "fset", None) is None:
                continue
            try:
                lines = inspect.getsource(prop.fset).splitlines()
            except (OSError, TypeError):
                continue
            body = [ln.strip() for ln in lines
                    if ln.strip() and not ln.strip().startswith(("@", "def "))]
            line = pattern.format(key=re.escape(name))
            if len(body) == 1 and re.fullmatch(line, body[0]) is not None:
                yield name, id(prop)


def data_class() -> type:
    return _probe().data


def is_batch(data: Any) -> bool:
    return isinstance(data, _probe().batch)


@functools.lru_cache(maxsize=64)
def _counts_as_pyg(cls: type) -> bool:
    """Whether ``cls`` counts nodes as PyG's Data does (no override of ``num_nodes``,
    ``node_stores`` or ``__cat_dim__``), so :func:`num_nodes` may read the storage's dict the
    way PyG's property does."""
    data = _probe().data
    return (cls.num_nodes is data.num_nodes and cls.node_stores is data.node_stores
            and cls.__cat_dim__ is data.__cat_dim__)


def _mapping(data: Any) -> dict | None:
    """The storage's dict of a plain PyG-counted Data or Batch on the fast path, else None."""
    if _public:
        return None
    store = data.__dict__.get("_store")
    if type(store) is not _probe().storage:
        return None
    # Read off the instance dict: the storage's own attribute lookup is a slower path.
    mapping = store.__dict__.get("_mapping")
    return mapping if type(mapping) is dict else None


def plain_mapping(data: Any) -> dict | None:
    """The storage's dict of a plain PyG ``Data`` (not a Batch, nor a subclass) on the fast
    path, whose ``edge_index`` and attributes are exactly the dict's entries; else None."""
    pyg = _probe()
    if _public or type(data) is not pyg.data:
        return None
    store = data.__dict__.get("_store")
    if type(store) is not pyg.storage:
        return None
    mapping = store.__dict__.get("_mapping")
    return mapping if type(mapping) is dict else None


def num_nodes(data: Any) -> int:
    """``data.num_nodes`` (0 when PyG cannot tell). On the fast path PyG's first two rules (an
    explicit ``num_nodes``, else the first node-level tensor among N_KEYS, along dim 0) are
    read off the storage's dict; anything else is left to PyG."""
    n = known_num_nodes(data)
    if n is not None:
        return n
    n = data.num_nodes
    return int(n) if n is not None else 0


def known_num_nodes(data: Any) -> int | None:
    """:func:`num_nodes` where the fast path reads it off the storage's dict, else None (PyG
    would have to infer it, perhaps from ``edge_index``)."""
    mapping = _mapping(data)
    if mapping is not None and _counts_as_pyg(type(data)):
        n = mapping.get("num_nodes")
        if n is not None:
            return int(n)
        for key, value in mapping.items():
            if key in _N_KEYS:
                if isinstance(value, torch.Tensor):
                    return int(value.size(0))
                break  # an array or another kind: PyG's own rules
    return None


def get(data: Any, key: str) -> Any:
    """``data.key``, or None when the graph has no such attribute."""
    mapping = _mapping(data)
    if mapping is not None:
        return mapping.get(key)
    return getattr(data, key, None)


def attributes(data: Any) -> Iterable[tuple[str, Any]]:
    """``(key, value)`` of every attribute: the storage's dict on the fast path, which skips
    the view objects ``iter(data)`` builds."""
    mapping = _mapping(data)
    return mapping.items() if mapping is not None else iter(data)


def _tensor_attributes(data: Any) -> Iterator[tuple[str, torch.Tensor]]:
    for key, value in attributes(data):
        if key not in _STRUCTURAL and isinstance(value, torch.Tensor) and value.dim():
            yield key, value


def node_keys(data: Any) -> list[str]:
    """Node-level attributes (x, y, pos, masks, custom ones), by PyG's size rule."""
    n = num_nodes(data)
    keys = [key for key, value in _tensor_attributes(data)
            if key in ("x", "pos") or (data.is_node_attr(key)
                                       and value.size(data.__cat_dim__(key, value)) == n)]
    return _split_like(data, keys, "x", "ptr")


def edge_keys(data: Any) -> list[str]:
    """Edge-level attributes (edge_attr, edge_weight, custom ones), by PyG's size rule. On a
    plain Data the keys the storage has already sorted come from its kind cache (the lookup
    its ``is_edge_attr`` starts with), the others from ``is_edge_attr``."""
    cached = None
    if plain_mapping(data) is not None:
        cached = data._store.__dict__.get("_cached_attr")
    if not cached:
        keys = [key for key, _ in _tensor_attributes(data) if data.is_edge_attr(key)]
    else:
        edge, node, other = (cached.get(kind, ()) for kind in _probe().kinds)
        is_edge = data._store.is_edge_attr
        keys = [key for key, _ in _tensor_attributes(data)
                if key in edge or (key not in node and key not in other and is_edge(key))]
    return _split_like(data, keys, "edge_index", None)


def _split_like(data: Any, keys: list[str], ref_key: str, ref_attr: str | None) -> list[str]:
    """On a Batch, the ``keys`` whose slices over the graphs are those of ``ref_key`` (or of
    the ``ref_attr`` offsets): PyG's size rule alone takes a graph-level attribute such as
    ``y`` for a node or edge one when the Batch holds as many graphs as nodes or edges,
    where every graph alone says otherwise."""
    slices = getattr(data, "_slice_dict", None) if is_batch(data) else None
    if not slices or not keys:
        return keys
    ref = slices.get(ref_key)
    if ref is None and ref_attr is not None:
        ref = get(data, ref_attr)
    if ref is None:
        return keys
    ref = ref.cpu()
    return [key for key in keys if key not in slices or torch.equal(slices[key].cpu(), ref)]


def device_of(data: Any) -> torch.device:
    for _, value in attributes(data):
        if isinstance(value, torch.Tensor):
            return value.device
    return torch.device("cpu")


def edge_index_of(data: Any) -> torch.Tensor:
    """``data.edge_index``, or an empty ``[2, 0]`` one when the graph has none."""
    ei = data.edge_index
    if ei is None:
        return torch.empty(2, 0, dtype=torch.long, device=device_of(data))
    return ei


def batch_vector(data: Any) -> torch.Tensor:
    """Graph id of every node (zeros for a single Data)."""
    b = getattr(data, "batch", None) if is_batch(data) else None
    if b is None:
        return torch.zeros(num_nodes(data), dtype=torch.long, device=device_of(data))
    return b


def num_graphs(data: Any) -> int:
    return int(data.num_graphs) if is_batch(data) else 1


def ptr_of(data: Any) -> torch.Tensor:
    """Node offsets of the graphs, length num_graphs + 1."""
    if is_batch(data) and getattr(data, "ptr", None) is not None:
        return data.ptr
    return one_graph_ptr(num_nodes(data), device_of(data))


def shallow_copy(data: Any) -> Any:
    """A new Data/Batch sharing the tensors of ``data`` (``copy.copy``), without the storage's
    attribute-kind cache: the copy's sizes change, and a shared cache would both carry stale
    answers and let the copy write into the input."""
    mapping = plain_mapping(data)
    if mapping is not None:
        return _copy_plain(data, mapping)
    out = copy.copy(data)
    if not _public:
        out._store.__dict__.pop("_cached_attr", None)
    return out


def _copy_plain(data: Any, mapping: dict) -> Any:
    """What PyG's ``Data.__copy__`` and its storage's ``__copy__`` build for a plain Data (a
    new Data and storage, the same instance attributes, a copy of the dict, the storage's
    weak reference to its new parent), less their copy-protocol lookups per call."""
    pyg = _probe()
    out = pyg.data.__new__(pyg.data)
    out.__dict__.update(data.__dict__)
    store = pyg.storage.__new__(pyg.storage)
    attrs = store.__dict__
    attrs.update(data.__dict__["_store"].__dict__)
    attrs.pop("_cached_attr", None)
    attrs["_mapping"] = mapping.copy()
    attrs["_parent"] = weakref.ref(out)
    out.__dict__["_store"] = store
    return out


@functools.lru_cache(maxsize=256)
def plain_key(cls: type, key: str) -> bool:
    """Whether ``out.key = value`` on a ``cls`` only stores the value in the storage's dict:
    PyG's own ``__setattr__``, no private key, and on the class and the storage either no
    property setter of that name or PyG's own one that only stores the value."""
    pyg = _probe()
    if key[:1] == "_" or cls.__setattr__ is not pyg.data.__setattr__:
        return False
    return all(getattr(prop, "fset", None) is None or (key, id(prop)) in known
               for prop, known in ((getattr(cls, key, None), pyg.data_store_only),
                                   (getattr(pyg.storage, key, None), pyg.storage_store_only)))


def set_attr(out: Any, key: str, value: Any) -> None:
    """``out.key = value``: on the fast path straight into the storage's dict where that is all
    PyG's setters would do (they first look the key up on the class and the storage, several
    writes per call); anything else goes through them."""
    mapping = _mapping(out)
    if (value is not None and mapping is not None and plain_key(type(out), key)
            and "_cached_attr" not in out._store.__dict__):
        mapping[key] = value
    else:
        setattr(out, key, value)


def _counts_to_slices(counts: torch.Tensor) -> torch.Tensor:
    out = torch.zeros(counts.numel() + 1, dtype=torch.long)
    out[1:] = torch.cumsum(counts.cpu(), 0)
    return out


def fix_batch_bookkeeping(
    out: Any,
    keys: list[str],
    counts: torch.Tensor,
    node_counts: torch.Tensor | None,
    node_keys_: Iterable[str] = (),
) -> None:
    """Keep a Batch's ``_slice_dict``/``_inc_dict`` (and ``_num_nodes``) consistent after
    keeping a subset of edges (``counts`` per graph) and, when ``node_counts`` is given, of
    nodes (``node_keys_`` are the node-level attributes whose slices change).

    PyG has no public way to update them (``Batch.from_data_list`` assigns them, and
    ``to_data_list`` reads them): the one private write of the plugin, on both paths.
    """
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
