"""Offline augmentation on Ray Data: a policy's sample stage over every row of a dataset.

``augment(dataset, policy, epoch=e)`` gives row i what ``AugmentedDataset(items, policy)[i]``
gives item i in epoch e: the same item stream (the policy's seed, the epoch, the row's index),
so the result does not depend on blocks, batches or workers. The index of a row is its
position in the dataset (Ray Data's ``preserve_order`` on while it is numbered), or the
integer in ``id_column``.

What an item is, from ``columns`` (default: every column but ``id_column``):

- several columns: a table row, ``torch.tensor([row values])`` in the columns' common dtype
  (``AugmentedDataset((torch.as_tensor(X), y), policy)[i][0]``); written back column by column;
- one column of arrays (images, e.g. CHW float32): ``torch.from_numpy(image)``, written back
  as a numpy array;
- one column of bytes: a PyG graph serialised with :func:`graph_to_bytes`; written back the
  same way.

``views: n`` in the policy gives n results per row: with ``views="columns"`` (default) each
augmented column ``c`` becomes ``c_view0 .. c_view{n-1}``; with ``views="rows"`` each row
becomes n rows, with an int column ``view``. Columns not augmented are copied.

Where the work runs: with ``id_column``, in ``map_batches`` tasks, streaming. Without it, a
row's position needs the rows before it, so the dataset is executed first (its blocks in
order) and each block is augmented by one Ray task that numbers its rows from the block's
start; the result is built from those tasks' blocks. Either way the items go ``batch_size``
rows at a time (``None``: a whole block), ``num_gpus`` is passed through for GPU workers, and
the items are moved to ``device`` when given. Items of one shape
(table rows, images of one size) are stacked, and plain PyG ``Data`` graphs are collated into
one ``Batch``; each step runs once on the stack or Batch, every item drawing from its own
stream (the batch stage's per-item semantics: the same result as item by item). Other graphs
(HeteroData, Data subclasses, 0-d attributes) and images of several sizes go item by item.
Ray gives each task one CPU and torch one thread in it, so the workers share the cores
without oversubscribing them. The dataset stage (``fit_resample``) and the batch stage (mixup,
cutmix: whole-batch draws, applied at load time by ``AugmentedDataset.loader``) are not run
here.
"""

from __future__ import annotations

import functools
import io
import pickle
from typing import Any

import numpy as np

from augkit._items import is_graph_batch
from augkit.errors import InputError, ParamError
from augkit.random import ItemStreams, item_keys, item_prefix
from augkit.ray._engine import check_dataset, ordered_blocks, preserved_order

VIEW_LAYOUTS = ("columns", "rows")


_PLAIN = b"AKG1"  # graph_to_bytes' own layout; anything else is torch.save's


def graph_to_bytes(graph: Any) -> bytes:
    """A PyG ``Data`` (or any torch-serialisable item) as bytes, for a Ray Data column.

    A ``Data`` whose values are CPU tensors numpy can hold (and plain Python values), or one
    such tensor, is pickled as numpy arrays: far cheaper than ``torch.save`` both ways.
    Anything else (HeteroData, subclasses, other dtypes) goes through ``torch.save``. Tensors
    are saved compact either way: a graph sliced out of a dataset (a view) would otherwise
    carry the dataset's whole storage along."""
    plain = _plain_graph(graph)
    if plain is not None:
        return _PLAIN + pickle.dumps(plain, protocol=pickle.HIGHEST_PROTOCOL)
    import copy

    import torch

    if isinstance(graph, torch.Tensor):
        graph = graph.clone()
    elif hasattr(graph, "apply"):  # PyG Data / HeteroData: a shallow copy, compact tensors
        graph = copy.copy(graph).apply(lambda t: t.clone())
    buffer = io.BytesIO()
    torch.save(graph, buffer)
    return buffer.getvalue()


def graph_from_bytes(data: bytes) -> Any:
    """The item :func:`graph_to_bytes` serialised (trusted data only: it unpickles)."""
    import torch

    if bytes(data[:len(_PLAIN)]) != _PLAIN:
        return torch.load(io.BytesIO(data), weights_only=False)
    kind, tensors, values = pickle.loads(memoryview(data)[len(_PLAIN):])
    tensors = {k: torch.from_numpy(a) for k, a in tensors.items()}
    if kind == "tensor":
        return tensors[""]
    from torch_geometric.data import Data

    return Data(**values, **tensors)


def _plain_graph(graph: Any) -> tuple[str, dict, dict] | None:
    """``(kind, {key: numpy array}, {key: other value})`` of a plain ``Data`` or tensor, or
    None when the item needs ``torch.save``."""
    import torch

    if isinstance(graph, torch.Tensor):
        mapping, kind = {"": graph}, "tensor"
    elif type(graph).__name__ == "Data" and type(graph).__module__.startswith("torch_geometric"):
        mapping, kind = graph.to_dict(), "data"
    else:
        return None
    tensors, values = {}, {}
    for key, value in mapping.items():
        if isinstance(value, torch.Tensor):
            if (value.device.type != "cpu" or value.requires_grad or value.is_sparse
                    or value.dtype not in _numpy_dtypes()):
                return None
            tensors[key] = np.ascontiguousarray(value.numpy())
        elif value is None or isinstance(value, bool | int | float | str):
            values[key] = value
        else:
            return None
    return kind, tensors, values


@functools.cache
def _numpy_dtypes() -> frozenset:
    import torch

    return frozenset({torch.float16, torch.float32, torch.float64, torch.int8, torch.int16,
                      torch.int32, torch.int64, torch.uint8, torch.bool, torch.complex64,
                      torch.complex128})


def augment(dataset: Any, policy: Any, *, epoch: int = 0, id_column: str | None = None,
            columns: list[str] | str | None = None, views: str = "columns",
            batch_size: int = 256, num_gpus: float | None = None,
            device: str | None = None) -> Any:
    """The dataset with every row augmented by ``policy``'s sample stage (module docstring).

    ``policy``: an augkit Policy, a policy file or YAML text, or one Transform."""
    from augkit.data import _as_policy

    check_dataset(dataset, "augment")
    policy = _as_policy(policy)
    if views not in VIEW_LAYOUTS:
        raise ParamError(f"augment: views got {views!r}; allowed: " + ", ".join(VIEW_LAYOUTS),
                         param="views", value=views)
    if isinstance(epoch, bool) or not isinstance(epoch, int | np.integer) or epoch < 0:
        raise ParamError(f"augment: epoch got {epoch!r}; allowed: an integer >= 0",
                         param="epoch", value=epoch)
    names = list(dataset.schema().names)
    if id_column is not None and id_column not in names:
        raise InputError(f"augment: id_column {id_column!r} is not in the dataset; allowed: "
                         f"one of {names}")
    if columns is None:
        columns = [n for n in names if n != id_column]
    columns = [columns] if isinstance(columns, str) else list(columns)
    unknown = [c for c in columns if c not in names or c == id_column]
    if unknown or not columns:
        raise InputError(f"augment: columns got {columns!r}; allowed: a non-empty list of "
                         f"columns of the dataset other than the id column ({names})")
    if batch_size is not None and (isinstance(batch_size, bool)
                                   or not isinstance(batch_size, int | np.integer)
                                   or batch_size < 1):
        raise ParamError(f"augment: batch_size got {batch_size!r}; allowed: an integer >= 1, "
                         "or None (a whole block)", param="batch_size", value=batch_size)
    task = _Augment(policy, int(epoch), id_column, columns, views, device)
    options: dict[str, Any] = {"num_gpus": num_gpus} if num_gpus else {}
    if id_column is None:
        return _augment_by_position(dataset, task, batch_size, options)
    with preserved_order():
        return dataset.map_batches(task, batch_format="numpy", batch_size=batch_size,
                                   zero_copy_batch=False, **options)


def _augment_by_position(dataset: Any, task: _Augment, batch_size: int | None,
                         options: dict[str, Any]) -> Any:
    """``dataset`` augmented block by block, one Ray task per block, each row under its
    position: the block's start (the rows of the blocks before it) plus its row in the block.
    One task per block, not ``map_batches`` over a numbered copy: that copy would write every
    block to the object store once more before the work starts."""
    import ray

    blocks = ordered_blocks(dataset)
    sizes = ray.get([_num_rows.remote(b) for b in blocks])
    starts = np.concatenate([[0], np.cumsum(sizes)])
    refs = [_augment_block.options(**options).remote(block, int(start), task, batch_size)
            for block, start, size in zip(blocks, starts[:-1], sizes, strict=True) if size]
    if not refs:  # no rows: nothing to augment
        return dataset
    with preserved_order():  # the new dataset's own context: what derives from it keeps order
        return ray.data.from_arrow_refs(refs)


def _remote(fn: Any) -> Any:
    import ray

    return ray.remote(fn)


def _num_rows_fn(block: Any) -> int:
    return block.num_rows


def _augment_block_fn(block: Any, start: int, task: _Augment, batch_size: int | None) -> Any:
    """``block`` (an Arrow table whose first row is row ``start`` of the dataset) augmented
    ``batch_size`` rows at a time, as one Arrow table."""
    from ray.data.block import BlockAccessor

    rows = block.num_rows
    step = batch_size or rows
    parts = []
    for first in range(0, rows, step):
        last = min(rows, first + step)
        batch = BlockAccessor.for_block(block.slice(first, last - first)).to_batch_format(
            "numpy")
        # Arrow's buffers are read-only in the object store; the steps get arrays of their own.
        batch = {k: v if v.flags.writeable else v.copy() for k, v in batch.items()}
        parts.append(task.augment(batch, np.arange(start + first, start + last)))
    return BlockAccessor.batch_to_block(_concat_batches(parts))


def _concat_batches(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The rows of several numpy batches as one: a column whose parts differ in dtype or row
    shape (images of several sizes) becomes an object array of rows, so the block has one
    type per column."""
    if len(parts) == 1:
        return parts[0]
    out = {}
    for name in parts[0]:
        columns = [part[name] for part in parts]
        if len({(c.dtype, c.shape[1:]) for c in columns}) == 1 and columns[0].dtype != object:
            out[name] = np.concatenate(columns)
        else:
            out[name] = _object_array([row for c in columns for row in c])
    return out


_num_rows = _remote(_num_rows_fn)
_augment_block = _remote(_augment_block_fn)


class _Augment:
    """The map_batches function: the policy's sample stage on every row under its index.

    Items of one shape (table rows, images of one size) are stacked, plain Data graphs are
    collated, and each step runs once on the stack or Batch with every item's own stream
    (``forward_items``, the batch stage's per-item semantics: the same draws and output as the
    item alone); other items go one by one through ``policy.run_sample``."""

    def __init__(self, policy: Any, epoch: int, index: str | None, columns: list[str],
                 views: str, device: str | None) -> None:
        self.policy, self.epoch, self.index = policy, epoch, index
        self.columns, self.views, self.device = columns, views, device

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``map_batches``' call: each row's item index is in the id column."""
        ids = np.asarray(batch[self.index])
        if ids.dtype.kind not in "iu":
            raise InputError(f"augment: id column {self.index!r} holds {ids.dtype}; allowed: "
                             "integers (each row's item index)")
        return self.augment(batch, ids)

    def augment(self, batch: dict[str, np.ndarray], ids: np.ndarray) -> dict[str, np.ndarray]:
        """The batch with its rows augmented, row r as item ``ids[r]``."""
        items, write = self._reader(batch)
        per_view = self._run(items, ids.tolist())
        n_views = self.policy.views
        if not n_views:
            return {**batch, **write(per_view[0])}
        if self.views == "columns":
            out = dict(batch)
            for v, results in enumerate(per_view):
                for name, col in write(results).items():
                    out[f"{name}_view{v}"] = col
            for name in self.columns:
                out.pop(name)
            return out
        # views="rows": row r becomes rows r*n .. r*n+n-1.
        out = {name: np.repeat(col, n_views, axis=0) if col.dtype != object
               else _object_array([x for x in col for _ in range(n_views)])
               for name, col in batch.items() if name not in self.columns}
        if isinstance(per_view[0], list):
            out.update(write([res[r] for r in range(len(ids)) for res in per_view]))
        else:
            out.update(write(_interleave(per_view)))
        out["view"] = np.tile(np.arange(n_views), len(ids))
        return out

    def _run(self, items: Any, ids: list[int]) -> list[Any]:
        """The sample stage's results, one entry per view (one when the policy has none): a
        list of items, or a stack when ``items`` is one."""
        policy, epoch = self.policy, self.epoch
        root = policy.root
        n_views = policy.views
        if isinstance(items, list):
            results = [policy.run_sample(x, root, epoch, i) for x, i in zip(items, ids,
                                                                             strict=True)]
            if not n_views:
                return [results]
            return [[res[v] for res in results] for v in range(n_views)]
        out = []
        for view in range(n_views) if n_views else [None]:
            keys = (item_keys(root, epoch, ids) if view is None
                    else [item_prefix(root, epoch, i, view) for i in ids])
            steps = policy.sample if policy.view_policies is None else policy.view_policies[view]
            data = items
            for position, step in enumerate(steps):
                data = step.forward_items(data, ItemStreams(keys, position))
            out.append(_batch_to_bytes(data) if is_graph_batch(data) else data)
        return out

    def _reader(self, batch: dict[str, np.ndarray]) -> tuple[Any, Any]:
        """The batch's items (a stack, or a list) and the function writing results back."""
        import torch

        device = self.device
        if len(self.columns) > 1:  # table rows
            X = np.column_stack([batch[c] for c in self.columns])

            def write_table(results: Any) -> dict[str, np.ndarray]:
                stacked = _to_numpy(results).astype(X.dtype, copy=False)
                return {c: stacked[:, j] for j, c in enumerate(self.columns)}

            return _on(torch.from_numpy(np.ascontiguousarray(X)), device), write_table
        name = self.columns[0]
        col = batch[name]
        if col.dtype == object and len(col) and isinstance(col[0], bytes | bytearray):
            def write_graphs(results: list[Any]) -> dict[str, np.ndarray]:
                return {name: _object_array([g if isinstance(g, bytes)
                                             else graph_to_bytes(_on(g, "cpu"))
                                             for g in results])}

            batch = _graph_batch(col)
            if batch is not None:
                return _on(batch, device), write_graphs
            return [_on(graph_from_bytes(b), device) for b in col], write_graphs

        def write_arrays(results: Any) -> dict[str, np.ndarray]:
            if not isinstance(results, list):
                return {name: _to_numpy(results)}
            arrays = [_to_numpy(a) for a in results]
            if len({(a.shape, a.dtype) for a in arrays}) == 1:
                return {name: np.stack(arrays)}
            return {name: _object_array(arrays)}

        if col.dtype != object and col.ndim > 1:  # arrays of one shape: a stack
            return _on(torch.from_numpy(np.ascontiguousarray(col)), device), write_arrays
        return [_on(torch.from_numpy(np.array(x)), device) for x in col], write_arrays


def _graph_batch(column: np.ndarray) -> Any:
    """The Batch of the graphs :func:`graph_to_bytes` stored in ``column``, collated straight
    from their arrays, when each is a plain ``Data`` that splits back exactly (no 0-d tensor:
    ``to_data_list`` returns those with one dimension); else None."""
    import torch

    from augkit._graph_collate import collate_graph_mappings

    mappings = []
    for data in column:
        if bytes(data[:len(_PLAIN)]) != _PLAIN:
            return None
        kind, tensors, values = pickle.loads(memoryview(data)[len(_PLAIN):])
        if kind != "data" or any(a.ndim == 0 for a in tensors.values()):
            return None
        mappings.append({**values, **{k: torch.from_numpy(a) for k, a in tensors.items()}})
    return collate_graph_mappings(mappings)


def _batch_to_bytes(batch: Any) -> list[bytes]:
    """:func:`graph_to_bytes` of every graph of ``batch``, read off its slices where it can
    (``_graph_collate.split_graph_arrays``), through ``to_data_list`` otherwise."""
    from augkit._graph_collate import split_graph_arrays

    batch = _on(batch, "cpu")
    arrays = split_graph_arrays(batch)
    if arrays is None:
        return [graph_to_bytes(g) for g in batch.to_data_list()]
    return [_PLAIN + pickle.dumps(("data", graph, {}), protocol=pickle.HIGHEST_PROTOCOL)
            for graph in arrays]


def _interleave(per_view: list[Any]) -> Any:
    """Stacks of the views as one stack, item r's views at rows r*n .. r*n+n-1."""
    import torch

    return torch.stack(per_view, dim=1).flatten(0, 1)


def _on(item: Any, device: str | None) -> Any:
    return item if device is None else item.to(device)


def _to_numpy(a: Any) -> np.ndarray:
    if hasattr(a, "detach"):
        return a.detach().cpu().numpy()
    return np.asarray(a)


def _object_array(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
