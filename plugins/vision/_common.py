"""What the vision transforms share: input checks and tv_tensors / tuple handling."""

from __future__ import annotations

from collections.abc import Iterator
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
