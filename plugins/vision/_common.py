"""What the vision transforms share: input checks and tv_tensors / tuple handling."""

from __future__ import annotations

from typing import Any

import torch

from augkit.errors import InputError
from augkit.plugins.vision import functional as VF


def check_image(label: str, data: Any) -> None:
    """Raise InputError naming the transform when ``data`` is not an image or image batch."""
    try:
        VF.count_images(data)
    except InputError as exc:
        raise InputError(f"{label}: {exc}") from None


def split_batch(label: str, data: Any) -> tuple[torch.Tensor, Any]:
    """``(images, labels)`` of a batch-level transform; a list (default_collate's output) is
    accepted as well as a tuple."""
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise InputError(
            f"{label}: got {type(data).__name__}; allowed: a pair (images, labels), e.g. "
            f"{label}(images, labels) or the (images, labels) batch a DataLoader yields"
        )
    images, labels = data
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if hasattr(images, "shape") else type(images).__name__
        raise InputError(f"{label}: images {shape}; allowed: a torch NCHW tensor")
    if images.shape[0] < 1:
        raise InputError(f"{label}: an empty batch; allowed: at least one image")
    return images, labels
