"""The items of a collated batch, for the batch stage, which takes every random decision per
item: how many a batch holds, one of them, and a batch split into its items and joined again.

- a PyG ``Batch`` (anything with ``to_data_list`` and ``num_graphs``): its graphs;
- a torch tensor or numpy array: its rows along the first dimension (the images of an NCHW or
  NHWC batch, the rows of a table);
- a list: its elements.

A batch stage given ``(images, labels)`` runs its per-item steps on the images and its
batch-only steps (mixup, cutmix) on the pair: :func:`item_part` and :func:`with_item_part`.

torch_geometric is never imported here: a PyG batch is known by its methods.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from augkit.errors import InputError


def is_graph_batch(batch: Any) -> bool:
    """Whether ``batch`` is a PyG Batch (known by its methods: PyG is not imported)."""
    return hasattr(batch, "to_data_list") and hasattr(batch, "num_graphs")


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "ndim") and hasattr(value, "__getitem__")


def is_pair(batch: Any) -> bool:
    """``(inputs, labels)``: two arrays of one length, the labels 1-D (class ids) or 2-D (soft
    labels), as torch's ``default_collate`` gives for ``(image, label)`` items."""
    if not isinstance(batch, tuple | list) or len(batch) != 2:
        return False
    inputs, labels = batch
    return (_is_array(inputs) and inputs.ndim >= 2 and _is_array(labels)
            and 1 <= labels.ndim <= 2 and len(labels) == len(inputs))


def item_part(batch: Any) -> Any:
    """What per-item steps act on: the inputs of a pair, else the batch itself."""
    return batch[0] if is_pair(batch) else batch


def with_item_part(batch: Any, part: Any) -> Any:
    """``batch`` with its per-item part replaced by ``part`` (the labels of a pair kept)."""
    if is_pair(batch):
        return type(batch)((part, batch[1])) if isinstance(batch, tuple) else [part, batch[1]]
    return part


def count_items(batch: Any) -> int:
    """How many items the batch stage decides for."""
    if is_graph_batch(batch):
        return int(batch.num_graphs)
    if hasattr(batch, "edge_index") or hasattr(batch, "num_nodes"):
        return 1  # a single PyG Data: one graph
    if _is_array(batch):
        if batch.ndim == 0:
            raise InputError("batch stage: got a 0-d array; allowed: a batch whose first "
                             "dimension counts its items")
        return int(batch.shape[0])
    if isinstance(batch, list):
        return len(batch)
    raise InputError(f"batch stage: got {type(batch).__name__}; allowed: a PyG Batch, an "
                     "image or table batch (tensor or array), a list of items, or "
                     "(inputs, labels)")


def item_of(batch: Any, index: int) -> Any:
    """Item ``index`` of ``batch``, as the sample stage would see it."""
    if is_graph_batch(batch):
        return batch.get_example(index)
    if hasattr(batch, "edge_index") or hasattr(batch, "num_nodes"):
        return batch
    return batch[index]


def split_items(batch: Any) -> list[Any]:
    """The items of ``batch``, each as the sample stage would see it."""
    if is_graph_batch(batch):
        return batch.to_data_list()
    if hasattr(batch, "edge_index") or hasattr(batch, "num_nodes"):
        return [batch]
    if _is_array(batch) or isinstance(batch, list):
        return [batch[i] for i in range(count_items(batch))]
    count_items(batch)  # raises the error that names what is allowed
    return []


def join_items(items: Sequence[Any], like: Any) -> Any:
    """The batch of ``items``, of the same kind as ``like`` (what :func:`split_items` split)."""
    if is_graph_batch(like):
        # PyG's own Batch: from_data_list on a DataBatch would make a new, unpicklable class.
        return sys.modules["torch_geometric.data"].Batch.from_data_list(list(items))
    if hasattr(like, "edge_index") or hasattr(like, "num_nodes"):
        return items[0]
    if isinstance(like, list):
        return list(items)
    if hasattr(like, "new_empty"):  # torch
        import torch

        return torch.stack(list(items)) if items else like.clone()
    import numpy as np

    return np.stack(list(items)) if items else like.copy()
