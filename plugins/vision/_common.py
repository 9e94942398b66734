"""What the vision transforms share: input checks and tv_tensors / tuple handling."""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch

from augkit.errors import InputError
from augkit.plugins.vision import functional as VF


@contextmanager
def named(label: str) -> Iterator[None]:
    """An ``InputError`` raised inside (by a kernel of ``functional``) names the transform."""
    try:
        yield
    except InputError as exc:
        raise InputError(f"{label}: {exc}") from None


def check_image(label: str, data: Any) -> None:
    """Raise InputError naming the transform when ``data`` is not an image or image batch."""
    with named(label):
        VF.count_images(data)


def split_batch(label: str, data: Any) -> tuple[torch.Tensor, Any]:
    """``(images, labels)`` of a batch-level transform; a list (default_collate's output) is
    accepted as well as a tuple. An empty batch is valid (it gives an empty batch, as in
    torchvision v2); boolean or complex images are not."""
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise InputError(
            f"{label}: got {type(data).__name__}; allowed: a pair (images, labels), e.g. "
            f"{label}(images, labels) or the (images, labels) batch a DataLoader yields"
        )
    images, labels = data
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if hasattr(images, "shape") else type(images).__name__
        raise InputError(f"{label}: images {shape}; allowed: a torch NCHW tensor")
    check_image(label, images)
    return images, labels


def target_labels(label: str, target: Any) -> tuple[Any, Any]:
    """``(labels, key)`` of a batch's target: a labels tensor as it is (key None), or the entry of a
    dict found as torchvision v2 MixUp / CutMix find it (a key ``labels`` in any case, else the
    first key containing ``label``). A dict holding boxes, masks or keypoints is refused: they
    cannot be mixed (v2 refuses them too)."""
    if isinstance(target, tuple | list) and target and isinstance(target[0], Mapping):
        raise InputError(f"{label}: got a {type(target).__name__} of per-image target dicts; "
                         "allowed: labels, or one dict whose 'labels' hold the whole batch's "
                         "(class ids (N,) or soft labels (N, num_classes))")
    if not isinstance(target, Mapping):
        return target, None
    tv = sys.modules.get("torchvision.tv_tensors")
    if tv is not None:
        for key, value in target.items():
            if isinstance(value, tv.BoundingBoxes | tv.Mask | tv.KeyPoints):
                raise InputError(
                    f"{label}: target[{key!r}] is a tv_tensors.{type(value).__name__}; allowed: "
                    "a target dict of labels (class ids (N,) or soft labels (N, num_classes)) "
                    "and entries passed through; boxes, masks and keypoints cannot be mixed"
                )
    keys = [k for k in target if isinstance(k, str)]
    key = next((k for k in keys if k.lower() == "labels"), None)
    if key is None:
        key = next((k for k in keys if "label" in k.lower()), None)
    if key is None:
        raise InputError(f"{label}: target dict with keys {sorted(map(str, target))}; allowed: "
                         "a dict with a 'labels' entry (class ids (N,) or soft labels "
                         "(N, num_classes))")
    return target[key], key


def with_labels(target: Any, key: Any, labels: Any) -> Any:
    """``target`` with its labels replaced: the labels themselves, or a shallow copy of the dict
    (same type, other entries the same objects) with the new entry."""
    if key is None:
        return labels
    out = copy.copy(target)
    out[key] = labels
    return out
