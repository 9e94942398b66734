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

The work runs in ``map_batches`` tasks (``batch_size`` rows each; ``num_gpus`` is passed
through for GPU workers, and the items are moved to ``device`` when given). The dataset stage
(``fit_resample``) and the batch stage (mixup, cutmix: whole-batch draws, applied at load
time by ``AugmentedDataset.loader``) are not run here.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from augkit.errors import InputError, ParamError
from augkit.ray._engine import check_dataset, ordered_blocks, preserved_order

VIEW_LAYOUTS = ("columns", "rows")
_INDEX = "__augkit_index"


def graph_to_bytes(graph: Any) -> bytes:
    """A PyG ``Data`` (or any torch-serialisable item) as bytes, for a Ray Data column. Its
    tensors are saved compact: a graph sliced out of a dataset (a view) would otherwise
    carry the dataset's whole storage along."""
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

    return torch.load(io.BytesIO(data), weights_only=False)


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
    index = id_column
    if index is None:
        dataset, index = _numbered(dataset), _INDEX
    task = _Augment(policy, int(epoch), index, columns, views, device)
    kwargs: dict[str, Any] = {}
    if num_gpus:
        kwargs["num_gpus"] = num_gpus
    with preserved_order():
        out = dataset.map_batches(task, batch_format="numpy", batch_size=batch_size,
                                  zero_copy_batch=False, **kwargs)
    if id_column is None:
        out = out.drop_columns([_INDEX])
    return out


def _numbered(dataset: Any) -> Any:
    """The dataset with an int64 column of row positions (dataset order)."""
    import ray

    blocks = ordered_blocks(dataset)
    sizes = ray.get([_num_rows.remote(b) for b in blocks])
    starts = np.concatenate([[0], np.cumsum(sizes)])
    return ray.data.from_arrow_refs([_with_index.remote(b, int(s))
                                     for b, s in zip(blocks, starts[:-1], strict=True)])


def _remote(fn: Any) -> Any:
    import ray

    return ray.remote(fn)


def _num_rows_fn(block: Any) -> int:
    return block.num_rows


def _with_index_fn(block: Any, start: int) -> Any:
    import pyarrow as pa

    return block.append_column(_INDEX, pa.array(np.arange(start, start + block.num_rows)))


_num_rows = _remote(_num_rows_fn)
_with_index = _remote(_with_index_fn)


class _Augment:
    """The map_batches function: each row through ``policy.run_sample`` under its index."""

    def __init__(self, policy: Any, epoch: int, index: str, columns: list[str], views: str,
                 device: str | None) -> None:
        self.policy, self.epoch, self.index = policy, epoch, index
        self.columns, self.views, self.device = columns, views, device

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        policy = self.policy
        root = policy.root
        ids = np.asarray(batch[self.index])
        if ids.dtype.kind not in "iu":
            raise InputError(f"augment: id column {self.index!r} holds {ids.dtype}; allowed: "
                             "integers (each row's item index)")
        items, write = self._reader(batch)
        results = [policy.run_sample(items(r), root, self.epoch, int(i))
                   for r, i in enumerate(ids)]
        n_views = policy.views
        if not n_views:
            return {**batch, **write(results)}
        if self.views == "columns":
            out = dict(batch)
            for v in range(n_views):
                for name, col in write([res[v] for res in results]).items():
                    out[f"{name}_view{v}"] = col
            for name in self.columns:
                out.pop(name)
            return out
        # views="rows": row r becomes rows r*n .. r*n+n-1.
        out = {name: np.repeat(col, n_views, axis=0) if col.dtype != object
               else _object_array([x for x in col for _ in range(n_views)])
               for name, col in batch.items() if name not in self.columns}
        out.update(write([res[v] for res in results for v in range(n_views)]))
        out["view"] = np.tile(np.arange(n_views), len(ids))
        return out

    def _reader(self, batch: dict[str, np.ndarray]) -> tuple[Any, Any]:
        import torch

        device = self.device
        if len(self.columns) > 1:  # a table row
            X = np.column_stack([batch[c] for c in self.columns])
            Xt = torch.from_numpy(np.ascontiguousarray(X))

            def write_table(results: list[Any]) -> dict[str, np.ndarray]:
                stacked = np.stack([_to_numpy(r) for r in results]).astype(X.dtype)
                return {c: stacked[:, j] for j, c in enumerate(self.columns)}

            return (lambda r: _on(Xt[r], device)), write_table
        name = self.columns[0]
        col = batch[name]
        if col.dtype == object and len(col) and isinstance(col[0], bytes | bytearray):
            def write_graphs(results: list[Any]) -> dict[str, np.ndarray]:
                return {name: _object_array([graph_to_bytes(_on(g, "cpu")) for g in results])}

            return (lambda r: _on(graph_from_bytes(col[r]), device)), write_graphs

        def write_arrays(results: list[Any]) -> dict[str, np.ndarray]:
            arrays = [_to_numpy(a) for a in results]
            if len({(a.shape, a.dtype) for a in arrays}) == 1:
                return {name: np.stack(arrays)}
            return {name: _object_array(arrays)}

        return (lambda r: _on(torch.from_numpy(np.array(col[r])), device)), write_arrays


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
