"""Torch data loading: ``AugmentedDataset``, its ``loader`` and ``collate``.

``AugmentedDataset`` augments item i of epoch e from its own stream, so the augmented dataset
is bit for bit the same whatever the number of DataLoader workers, with or without persistent
workers, and whatever the number of distributed ranks: the stream depends on the item, never
on which process happens to load it. ``AugmentedDataset.loader`` batches it and runs the batch
stage per item too (each item's dataset index travels with it), so its batches are the same
whatever the workers. ``collate`` runs a policy's batch stage as a DataLoader's collate step.
A policy passed straight as ``transform=`` needs no ``worker_init_fn``: it finds its DataLoader
worker and distributed rank itself (``augkit.random.process_stream``).

torch_geometric (the graph extra) is never imported here: an item is recognised as a graph
only when PyG is already loaded.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import torch
from torch.utils.data import default_collate

from augkit._balance import BalancedDataset, ClassBalancedSampler
from augkit._loader import AugmentedLoader, holds_graph
from augkit.errors import AugkitError
from augkit.policy import Policy, load_policy
from augkit.random import policy_root, stage_stream
from augkit.transform import Transform

__all__ = ["AugmentedDataset", "AugmentedLoader", "BalancedDataset", "ClassBalancedSampler",
           "collate"]


def _as_policy(policy: Any) -> Policy:
    if isinstance(policy, Policy):
        return policy
    if isinstance(policy, Transform):
        return Policy(sample=[policy])
    return load_policy(policy)


def _is_table(dataset: Any) -> bool:
    return (isinstance(dataset, tuple | list) and len(dataset) == 2
            and all(hasattr(a, "shape") for a in dataset))


def _is_graph(item: Any) -> bool:
    # A PyG object exists only once torch_geometric.data is imported: image and table items
    # (in every DataLoader worker) never pay for importing PyG.
    module = sys.modules.get("torch_geometric.data")
    data_cls = getattr(module, "Data", None)
    return data_cls is not None and isinstance(item, data_cls)


class AugmentedDataset(torch.utils.data.Dataset):
    """Wrap ``dataset`` so each item goes through the policy's sample stage.

    - ``dataset``: a map-style dataset (PyG, torchvision, any ``__getitem__``/``__len__``), or a
      table ``(X, y)`` of arrays/tensors (items are then ``(X[i], y[i])``).
    - The ``dataset`` stage runs once, here: ``fit_resample`` on a table, or on the single
      graph of a one-graph (node classification) dataset.
    - Items that are ``(input, target)`` pairs (torchvision, tables) have only the input
      augmented; a PyG ``Data`` is augmented whole. With ``views: n`` the input becomes a
      tuple of n views.
    - ``set_epoch(e)`` changes the streams; it reaches worker processes too (the epoch lives in
      shared memory), also with ``persistent_workers=True``.
    """

    def __init__(self, dataset: Any, policy: Any, seed: int | None = None) -> None:
        self.policy = _as_policy(policy)
        self.seed = self.policy.seed if seed is None else int(seed)
        self._root = policy_root(self.seed)
        self._epoch = torch.zeros(1, dtype=torch.long).share_memory_()
        self.base = self._run_dataset_stage(dataset)

    def _run_dataset_stage(self, dataset: Any) -> Any:
        if _is_table(dataset):
            X, y = dataset
            if self.policy.dataset:
                g = stage_stream(self.seed, "dataset")
                X, y = self.policy.fit_resample(X, y, generator=g)
            return _TableItems(X, y)
        if not self.policy.dataset:
            return dataset
        if len(dataset) != 1:
            raise AugkitError(
                f"the dataset stage needs a table (X, y) or a one-graph dataset; got a dataset "
                f"of {len(dataset)} items. For graph classification use augkit.balance("
                "dataset, policy=...) to add minority graphs"
            )
        stage = self.policy.stage("dataset")
        return [stage(dataset[0], generator=stage_stream(self.seed, "dataset"))]

    # -- epochs --

    @property
    def epoch(self) -> int:
        # Read through a numpy view of the shared tensor, cheaper than indexing it (read once
        # per item). The view is rebuilt after pickling (spawned workers); forked workers
        # inherit it over the same shared memory.
        view = self.__dict__.get("_epoch_view")
        if view is None:
            view = self._epoch_view = self._epoch.numpy()
        return int(view[0])

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_epoch_view", None)
        return state

    def set_epoch(self, epoch: int) -> None:
        self._epoch[0] = int(epoch)

    # -- items --

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> Any:
        item = self.base[index]
        # The item streams of policy(item, index=index, epoch=epoch), under this seed.
        policy, epoch = self.policy, self.epoch
        if not policy.sample and not policy.views:
            return item
        if _is_graph(item) or not isinstance(item, tuple | list):
            return policy.run_sample(item, self._root, epoch, int(index))
        head, *rest = item
        return (policy.run_sample(head, self._root, epoch, int(index)), *rest)

    # -- the batch stage --

    def apply_batch(self, batch: Any, indices: Any) -> Any:
        """The batch stage of the current epoch on a batch of the items ``indices`` (their
        dataset indices, one per item): each item comes out as it would with the batch
        steps in the sample stage, whatever the workers and batch size."""
        if not self.policy.batch:
            return batch
        return self.policy.run_batch(batch, self._root, self.epoch, indices)

    def collate_fn(self, base_collate: Callable | None = None) -> Callable:
        """A collate function that applies the batch stage in the worker that collates.

        The items' dataset indices do not reach a collate function, so its draws follow the
        worker's stream: reproducible for a seeded loader and fixed ``num_workers``. For
        batches that are the same whatever the workers, use :meth:`loader`.
        """
        return collate(self.policy, base_collate)

    def loader(self, batch_size: int, *, shuffle: bool = False, num_workers: int = 0,
               device: str | torch.device | None = None,
               generator: torch.Generator | int | None = None, **kwargs: Any,
               ) -> AugmentedLoader:
        """Batches of this dataset with the batch stage applied, item i of epoch e as the
        policy with every step in ``sample`` would give it, whatever ``num_workers``.

        - Collation: the Batch PyG's ``Collater`` (what ``torch_geometric.loader.DataLoader``
          uses) makes, for PyG items (``augkit._graph_collate``); torch's ``default_collate``
          otherwise; ``follow_batch=`` and ``exclude_keys=`` go to PyG's.
        - The sample stage runs in the workers, as ``__getitem__`` does. The batch stage runs
          in the worker that collates, or, with ``device``, in the main process on the batch
          moved to ``device`` (GPU augmentation of the whole batch).
        - ``shuffle=True`` orders the items with ``generator`` (a ``torch.Generator`` or an int
          seed), so the order replays.
        - Other keywords go to torch's DataLoader (``pin_memory``, ``persistent_workers``,
          ``drop_last``, ``prefetch_factor``, ``sampler``, ...). Refused, with an AugkitError:
          ``collate_fn`` (the loader collates), ``batch_sampler`` (use ``sampler=`` with
          ``batch_size`` and ``drop_last``), ``shuffle=True`` with a ``sampler``.

        The result iterates once per epoch, has a ``len()`` and a ``set_epoch``.

        >>> import torch, augkit
        >>> from augkit.data import AugmentedDataset
        >>> X, y = torch.randn(10, 3), torch.arange(10) % 2
        >>> data = AugmentedDataset((X, y), augkit.Policy(batch=[augkit.make("diffusion_noise")]))
        >>> loader = data.loader(4, shuffle=True, generator=0)
        >>> [tuple(x.shape) for x, y in loader]
        [(4, 3), (4, 3), (2, 3)]
        """
        return AugmentedLoader(self, batch_size, shuffle=shuffle, num_workers=num_workers,
                               device=device, generator=generator, **kwargs)


class _TableItems:
    """Rows of a table as (x_i, y_i) items."""

    def __init__(self, X: Any, y: Any) -> None:
        if len(X) != len(y):
            raise AugkitError(f"table: X has {len(X)} rows and y {len(y)}; allowed: the same")
        self.X, self.y = X, y

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        return self.X[index], self.y[index]


def _collate_and_apply(stage: Any, base_collate: Callable[[list], Any], samples: list) -> Any:
    if base_collate is default_collate and samples and holds_graph(samples[0]):
        # torch's default_collate would fail on Data items deep inside torch.
        raise AugkitError(
            "collate: got PyG graphs, which torch's default_collate cannot batch; allowed: "
            "AugmentedDataset(dataset, policy).loader(batch_size, ...) (PyG's collation, then "
            "the batch stage per item), or collate(policy, Batch.from_data_list)"
        )
    batch = base_collate(samples)
    return stage.apply_batch(batch)


def collate(policy_or_transform: Any, base_collate: Callable[[list], Any] | None = None,
            ) -> Callable[[list], Any]:
    """A ``collate_fn`` that collates with ``base_collate`` (torch's ``default_collate`` when
    None), then applies the batch stage: ``policy.apply_batch`` for a Policy, the transform
    itself for a Transform (mixup, cutmix, or a container of batch-level transforms).

    A Transform is wrapped in a one-step Policy (seed 0) so it draws from the same per-process
    stream a Policy does: each DataLoader worker gets its own stream, and a loader seeded with
    ``generator=`` replays the same batches. The result is a ``functools.partial`` of module
    functions, so it pickles for workers started with ``spawn``.

    >>> import torch, augkit
    >>> from augkit.data import collate
    >>> fn = collate(augkit.make("mixup", num_classes=2))
    >>> images, labels = fn([(torch.rand(3, 4, 4), 0), (torch.rand(3, 4, 4), 1)])
    >>> tuple(labels.shape)
    (2, 2)
    """
    if isinstance(policy_or_transform, Policy):
        stage = policy_or_transform
    elif isinstance(policy_or_transform, Transform):
        stage = Policy(batch=[policy_or_transform])
    else:
        raise AugkitError(
            f"collate: got {type(policy_or_transform).__name__}; allowed: an augkit Policy or "
            "Transform"
        )
    if base_collate is None:
        base_collate = default_collate
    return functools.partial(_collate_and_apply, stage, base_collate)
