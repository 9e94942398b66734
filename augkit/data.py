"""Helpers for torch data loading.

``AugmentedDataset`` (defined in ``augkit.dataset``, re-exported here) augments item i of
epoch e from the stream (seed, e, i); ``collate`` runs a policy's batch stage as the loader's
collate step. A policy passed straight as ``transform=`` needs no ``worker_init_fn``: it finds
its DataLoader worker and distributed rank itself (``augkit.random.process_stream``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from augkit.dataset import AugmentedDataset

__all__ = ["AugmentedDataset", "collate"]


def _collate_and_apply(stage: Any, base_collate: Callable[[list], Any], samples: list) -> Any:
    return stage.apply_batch(base_collate(samples))


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
    from augkit.policy import Policy
    from augkit.transform import Transform

    if isinstance(policy_or_transform, Policy):
        stage = policy_or_transform
    elif isinstance(policy_or_transform, Transform):
        stage = Policy(batch=[policy_or_transform])
    else:
        from augkit.errors import AugkitError

        raise AugkitError(
            f"collate: got {type(policy_or_transform).__name__}; allowed: an augkit Policy or "
            "Transform"
        )
    if base_collate is None:
        from torch.utils.data import default_collate

        base_collate = default_collate
    return functools.partial(_collate_and_apply, stage, base_collate)
