"""The Batch of a list of plain PyG ``Data`` graphs, as ``Batch.from_data_list`` makes it, for
the loader of many small graphs.

PyG's collate asks each graph, for each attribute, its ``__cat_dim__``, its ``__inc__`` and
its node count through the storage's generic lookups: for graphs of a few dozen nodes that
is most of a batch's time. For a list of plain ``Data`` (the class itself, so its
``__cat_dim__`` and ``__inc__`` are PyG's defaults) holding the same tensor attributes,
:func:`collate_graphs` applies those defaults once per attribute and concatenates: the same
Batch class, attributes, ``batch``/``ptr``, ``_slice_dict`` and ``_inc_dict``. Anything
else (subclasses, HeteroData, ``follow_batch``/``exclude_keys``, non-tensor attributes other
than ``num_nodes``, graphs whose node count PyG infers from ``edge_index``) goes to PyG's
own ``Batch.from_data_list``.

torch_geometric is imported only when called (the items are PyG objects by then).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

# PyG's storage.N_KEYS: the attributes whose first dimension counts the nodes.
_NODE_COUNT_KEYS = frozenset({"x", "feat", "pos", "batch", "node_type", "n_id", "tf"})
_INTEGER_DTYPES = frozenset({torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8})
# The keys NodeStorage.can_infer_num_nodes looks for (besides any key naming "node").
_INFER_KEYS = frozenset({"num_nodes", "x", "pos", "batch", "adj", "adj_t", "edge_index",
                         "face"})


def collate_graphs(items: list[Any], follow_batch: list[str] | None = None,
                   exclude_keys: list[str] | None = None) -> Any:
    """``Batch.from_data_list(items, follow_batch, exclude_keys)``, with the fast path the
    module docstring describes when it applies."""
    from torch_geometric.data import Batch

    if not follow_batch and not exclude_keys:
        out = _plain_batch(items)
        if out is not None:
            return out
    return Batch.from_data_list(items, follow_batch=follow_batch, exclude_keys=exclude_keys)


def _num_nodes(mapping: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    """PyG's ``NodeStorage.num_nodes`` where it needs no inference from edges: ``num_nodes``
    when set, else the rows of the first node-counting tensor; None otherwise."""
    if "num_nodes" in mapping:
        value = mapping["num_nodes"]
        return value if type(value) is int else None
    for key in keys:
        if key in _NODE_COUNT_KEYS:
            value = mapping[key]
            if type(value) is torch.Tensor and value.dim() > 0:
                return value.size(0)
            return None
    return None


def _plain_batch(items: list[Any]) -> Any:
    """The Batch of ``items`` when they are plain Data with the same tensor attributes, else
    None."""
    from torch_geometric.data import Data

    if not items:
        return None
    mappings = []
    for item in items:
        if type(item) is not Data:
            return None
        mappings.append(item.__dict__["_store"]._mapping)
    return collate_graph_mappings(mappings)


def collate_graph_mappings(mappings: list[dict[str, Any]]) -> Any:
    """The Batch :func:`collate_graphs` makes of plain ``Data`` graphs whose attributes are
    ``mappings`` (key -> value, as ``Data(**mapping)`` holds them), without building the
    graphs; None where that needs PyG's own collate (see the module docstring)."""
    from torch_geometric.data import Batch, Data
    from torch_geometric.utils import cumsum

    if not mappings:
        return None
    in_worker = torch.utils.data.get_worker_info() is not None
    keys = tuple(mappings[0])
    counts = []
    for mapping in mappings:
        if tuple(mapping) != keys:
            return None
        n = _num_nodes(mapping, keys)
        if n is None:
            return None
        counts.append(n)
    k = len(mappings)
    out = Batch(_base_cls=Data)
    store = out._store
    slice_dict: dict[str, torch.Tensor] = {}
    inc_dict: dict[str, torch.Tensor] = {}
    node_counts = torch.tensor(counts)
    zeros = torch.zeros(k, dtype=torch.long)
    for key in keys:
        values = [mapping[key] for mapping in mappings]
        if key == "num_nodes":
            store._num_nodes = values
            store.num_nodes = sum(values)
            continue
        if key == "ptr":
            continue
        if "batch" in key or not all(type(v) is torch.Tensor and v.layout == torch.strided
                                     for v in values):
            return None
        index = "index" in key or key == "face"  # Data.__cat_dim__ and __inc__: by node
        cat_dim = -1 if index else 0
        if values[0].dim() == 0:
            values = [v.unsqueeze(0) for v in values]
        sizes = torch.tensor([v.size(cat_dim) for v in values])
        try:
            value = torch.cat(values, dim=cat_dim, out=_shared_out(values, cat_dim)
                              if in_worker else None)
        except RuntimeError:
            return None  # PyG's collate raises its own error for what does not concatenate
        if value.device.type != "cpu":
            return None  # PyG puts batch and ptr on the attributes' device
        if index:
            if value.dtype not in _INTEGER_DTYPES:
                return None
            incs = cumsum(node_counts[:-1])
            if k > 1 and int(incs[-1]) != 0:
                # numpy's repeat: torch's repeat_interleave wakes its threads for any size.
                value += torch.from_numpy(np.repeat(incs.numpy(), sizes.numpy()))
        else:
            incs = zeros
        store[key] = value
        slice_dict[key] = cumsum(sizes)
        inc_dict[key] = incs
    if set(keys) & _INFER_KEYS or any("node" in key for key in keys):
        store.batch = torch.from_numpy(np.repeat(np.arange(k, dtype=np.int64), counts))
        store.ptr = cumsum(node_counts)
    out._num_graphs = k
    out._slice_dict = slice_dict
    out._inc_dict = inc_dict
    return out


def _shared_out(values: list[torch.Tensor], cat_dim: int) -> torch.Tensor:
    """Where a worker concatenates ``values``: shared memory, as PyG's collate does, so the
    batch reaches the main process without another copy."""
    elem = values[0]
    shape = list(elem.size())
    shape[cat_dim] = sum(v.size(cat_dim) for v in values)
    numel = 1
    for size in shape:
        numel *= size
    storage = elem.untyped_storage()._new_shared(numel * elem.element_size(), device=elem.device)
    return elem.new(storage).resize_(*shape)


def split_graph_arrays(batch: Any) -> list[dict[str, np.ndarray]] | None:
    """The graphs of a Batch built from plain ``Data`` as ``{key: numpy array}`` each, read off
    the Batch's slices and increments as ``Batch.to_data_list`` reads them (without building a
    Data per graph); None when an attribute is not a CPU tensor with slices (then use
    ``to_data_list``)."""
    slices, incs = getattr(batch, "_slice_dict", None), getattr(batch, "_inc_dict", None)
    if slices is None or incs is None:
        return None
    mapping = batch._store._mapping
    columns = []
    for key, value in mapping.items():
        if key in ("batch", "ptr"):
            continue
        if (key not in slices or type(value) is not torch.Tensor or value.dim() == 0
                or value.device.type != "cpu" or value.layout != torch.strided
                or value.requires_grad):
            return None
        cat_dim = batch.__cat_dim__(key, value)
        if cat_dim is None:
            return None
        try:
            array = value.numpy()
        except TypeError:  # a dtype numpy does not hold (bfloat16)
            return None
        inc = incs[key].numpy() if key in incs else None
        columns.append((key, np.moveaxis(array, cat_dim, 0), cat_dim,
                        slices[key].tolist(), inc if inc is not None and inc.any() else None))
    out: list[dict[str, np.ndarray]] = [{} for _ in range(int(batch.num_graphs))]
    for key, rows, cat_dim, bounds, inc in columns:
        for g, graph in enumerate(out):
            part = rows[bounds[g]:bounds[g + 1]]
            part = part - inc[g] if inc is not None else part.copy()
            graph[key] = np.ascontiguousarray(np.moveaxis(part, 0, cat_dim))
    return out
