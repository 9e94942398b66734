"""The loader of an ``AugmentedDataset``: a torch DataLoader that carries each item's dataset
index to its batch, so the batch stage draws per item whatever the workers.

- Items are loaded as ``(index, item)`` (the sample stage runs in ``__getitem__``, in the
  worker) and collated by :func:`_collate`, which splits the indices off, collates the items
  (into PyG's Batch for graphs, torch's ``default_collate`` otherwise) and runs the batch
  stage in the worker, or leaves it to the main process when the loader has a ``device``.
- Every callable handed to the DataLoader is a module-level class or a ``functools.partial``
  of a module function, so it pickles for workers started with ``spawn``.

torch_geometric is never imported here unless the items are PyG objects (PyG is then loaded).
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import torch
from torch.utils.data import DataLoader, default_collate

from augkit._graph_collate import collate_graphs
from augkit.errors import AugkitError, did_you_mean

# Keyword arguments the loader owns, with why and what to use instead.
REFUSED = {
    "collate_fn": "the loader collates (PyG's Collater for graphs, torch's default_collate "
                  "otherwise), then runs the batch stage; for a collate of your own, torch's "
                  "DataLoader takes collate_fn=augkit.data.collate(policy, base_collate)",
    "batch_sampler": "the loader batches by batch_size, with sampler= and drop_last=",
    "dataset": "the loader's dataset is the AugmentedDataset it was made from",
}
GRAPH_KEYWORDS = ("follow_batch", "exclude_keys")


def _dataloader_keywords() -> tuple[str, ...]:
    params = inspect.signature(DataLoader.__init__).parameters
    own = {"self", "batch_size", "shuffle", "num_workers", "generator", *REFUSED}
    return tuple(sorted(p for p in params if p not in own))


def is_pyg(item: Any) -> bool:
    """Whether ``item`` is a PyG object (``Data``, ``HeteroData``, a ``Batch``)."""
    # Such an object exists only once PyG is loaded: other items never import it.
    module = sys.modules.get("torch_geometric.data.data")
    base = getattr(module, "BaseData", None)
    return base is not None and isinstance(item, base)


def holds_graph(item: Any) -> bool:
    """Whether ``item`` is a PyG object or a tuple, list or mapping holding one (the views of
    a graph)."""
    if is_pyg(item):
        return True
    if isinstance(item, tuple | list):
        return any(holds_graph(x) for x in item)
    if isinstance(item, Mapping):
        return any(holds_graph(x) for x in item.values())
    return False


class _Indexed(torch.utils.data.Dataset):
    """Item i of ``dataset`` as ``(i, item)``: the index travels with its item to the batch."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[int, Any]:
        return int(index), self.dataset[index]


class BatchStage:
    """A policy's batch stage under a root, at the epoch held in a shared tensor.

    Holds the policy and the epoch only (not the dataset), so a collate function holding it
    does not carry a second copy of the dataset to every spawned worker.
    """

    def __init__(self, policy: Any, root: int, epoch: torch.Tensor,
                 follow_batch: list[str] | None = None) -> None:
        self.policy, self.root, self.epoch = policy, root, epoch
        self.follow_batch = follow_batch

    def __call__(self, batch: Any, indices: list[int]) -> Any:
        if not self.policy.batch:
            return batch
        out = self.policy.run_batch(batch, self.root, int(self.epoch[0]), indices)
        if self.follow_batch and is_pyg(out):
            # The batch stage rejoins the graphs without follow_batch: collate them again.
            from torch_geometric.data import Batch

            out = Batch.from_data_list(out.to_data_list(), follow_batch=self.follow_batch)
        return out


def collate_items(items: list[Any], follow_batch: list[str] | None = None,
                  exclude_keys: list[str] | None = None) -> Any:
    """The batch of ``items`` as PyG's DataLoader (graphs) or torch's (anything else) makes
    it."""
    if items and is_pyg(items[0]):
        return collate_graphs(items, follow_batch, exclude_keys)
    if items and holds_graph(items[0]):
        from torch_geometric.loader.dataloader import Collater

        return Collater(items, follow_batch, exclude_keys)(items)
    return default_collate(items)


def _collate(stage: BatchStage | None, follow_batch: list[str] | None,
             exclude_keys: list[str] | None, samples: list[tuple[int, Any]],
             ) -> tuple[list[int], Any]:
    indices = [index for index, _ in samples]
    batch = collate_items([item for _, item in samples], follow_batch, exclude_keys)
    if stage is not None:
        batch = stage(batch, indices)
    return indices, batch


def to_device(batch: Any, device: torch.device, non_blocking: bool = False) -> Any:
    """``batch`` on ``device``: a tensor or PyG Batch moved whole, a tuple, list or mapping
    element by element; anything else (strings, numbers) as it is."""
    if isinstance(batch, torch.Tensor) or is_pyg(batch):
        return batch.to(device, non_blocking=non_blocking)
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return type(batch)(*(to_device(x, device, non_blocking) for x in batch))
    if isinstance(batch, tuple | list):
        return type(batch)(to_device(x, device, non_blocking) for x in batch)
    if isinstance(batch, Mapping):
        return {k: to_device(v, device, non_blocking) for k, v in batch.items()}
    return batch


def _as_generator(generator: Any) -> torch.Generator | None:
    if generator is None or isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, int) and not isinstance(generator, bool):
        return torch.Generator().manual_seed(generator)
    raise AugkitError(f"loader: generator: got {type(generator).__name__}; allowed: None, an "
                      "int seed or a torch.Generator (it orders the items when shuffle=True)")


def _check_keywords(kwargs: dict[str, Any], shuffle: bool, num_workers: int) -> None:
    allowed = _dataloader_keywords()
    for key in kwargs:
        if key in REFUSED:
            raise AugkitError(f"loader: got {key}=: {REFUSED[key]}; allowed keywords: "
                              f"{', '.join((*allowed, *GRAPH_KEYWORDS))}")
        if key not in allowed and key not in GRAPH_KEYWORDS:
            names = (*allowed, *GRAPH_KEYWORDS)
            raise AugkitError(f"loader: unknown keyword {key!r}{did_you_mean(key, names, n=1)}"
                              f"; allowed: {', '.join(names)}")
    if kwargs.get("timeout") and not num_workers:
        raise AugkitError("loader: got timeout= with num_workers=0; allowed: a timeout with "
                          "workers (it bounds the wait for a worker's batch)")
    if shuffle and kwargs.get("sampler") is not None:
        raise AugkitError("loader: got shuffle=True and sampler=; allowed: one of them (a "
                          "sampler decides the order itself)")


class AugmentedLoader:
    """Batches of an ``AugmentedDataset``, made by :meth:`AugmentedDataset.loader`.

    Iterate it once per epoch (``len()`` batches); ``set_epoch(e)`` sets the dataset's epoch
    and the sampler's, when it has one (``DistributedSampler``). ``dataloader`` is the torch
    DataLoader underneath.
    """

    def __init__(self, dataset: Any, batch_size: int, *, shuffle: bool = False,
                 num_workers: int = 0, device: str | torch.device | None = None,
                 generator: torch.Generator | int | None = None, **kwargs: Any) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise AugkitError(f"loader: batch_size: got {batch_size!r}; allowed: a positive "
                              "integer (the batch stage needs batches)")
        _check_keywords(kwargs, shuffle, num_workers)
        if dataset.policy.views and dataset.policy.batch:
            # A batch of views is a list of batches, one per view, not a batch of items.
            raise AugkitError("loader: got a policy with views and a batch stage; allowed: "
                              "views with the steps inside them, in the sample stage, or a "
                              "batch stage without views")
        follow_batch = kwargs.pop("follow_batch", None)
        exclude_keys = kwargs.pop("exclude_keys", None)
        self.dataset = dataset
        self.device = None if device is None else torch.device(device)
        self._stage = BatchStage(dataset.policy, dataset._root, dataset._epoch, follow_batch)
        self._non_blocking = bool(kwargs.get("pin_memory", False))
        # Without a device the batch stage runs in the worker that collates.
        in_worker = self._stage if self.device is None else None
        self.dataloader = DataLoader(
            _Indexed(dataset), batch_size, shuffle=shuffle, num_workers=num_workers,
            generator=_as_generator(generator),
            collate_fn=functools.partial(_collate, in_worker, follow_batch, exclude_keys),
            **kwargs,
        )

    def __len__(self) -> int:
        return len(self.dataloader)

    def __iter__(self) -> Iterator[Any]:
        for indices, batch in self.dataloader:
            if self.device is not None:
                batch = self._stage(to_device(batch, self.device, self._non_blocking), indices)
            yield batch

    def set_epoch(self, epoch: int) -> None:
        self.dataset.set_epoch(epoch)
        sampler_set_epoch = getattr(self.dataloader.sampler, "set_epoch", None)
        if callable(sampler_set_epoch):
            sampler_set_epoch(epoch)

    def __repr__(self) -> str:
        return (f"AugmentedLoader(batch_size={self.dataloader.batch_size}, "
                f"num_workers={self.dataloader.num_workers}, device={self.device})")
