"""Rotations by multiples of 90 degrees: exact (pixels move, none is interpolated)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from augkit._memory import empty_output_like
from augkit.errors import InputError
from augkit.plugins.vision.functional._images import _check_image, _is_pil, _rewrap

#: The angles a pretext rotation may take, in degrees (counterclockwise).
RIGHT_ANGLES = (0, 90, 180, 270)


def rot90(image: Any, quarter_turns: int) -> Any:
    """``image`` rotated counterclockwise by ``quarter_turns * 90`` degrees (as ``torch.rot90``
    on the (H, W) dims, ``np.rot90`` on a numpy image's H and W axes, torchvision's
    ``rotate(image, 90 * k, expand=True)``): a new image, differentiable for tensors."""
    _check_image(image)
    k = int(quarter_turns) % 4
    if isinstance(image, torch.Tensor):
        return _rewrap(torch.rot90(image, k, (-2, -1)), image)
    if isinstance(image, np.ndarray):
        axes = (1, 2) if image.ndim == 4 else (0, 1)
        return np.ascontiguousarray(np.rot90(image, k, axes))
    if _is_pil(image):
        from PIL import Image

        return Image.fromarray(np.ascontiguousarray(np.rot90(np.asarray(image), k, (0, 1))))
    raise InputError(f"got {type(image).__name__}; allowed: an image")  # _check_image refuses


def rot90_each(images: Any, quarter_turns: Sequence[int]) -> Any:
    """Image ``i`` of a batch (NCHW tensor, NHWC array) rotated by ``quarter_turns[i] * 90``
    degrees (tensors image by image into one output, arrays one ``np.rot90`` per distinct
    turn over the images that take it). Non-square images
    whose turns differ in parity would change shape differently: refused."""
    _check_image(images)
    turns = np.asarray(quarter_turns, dtype=np.int64) % 4
    n = images.shape[0]
    if turns.shape != (n,):
        raise InputError(f"got {turns.size} turns for {n} images; allowed: one per image")
    is_torch = isinstance(images, torch.Tensor)
    h, w = (images.shape[-2], images.shape[-1]) if is_torch else images.shape[1:3]
    odd = turns % 2 == 1
    if h != w and odd.any() and not odd.all():
        raise InputError(f"images of {h}x{w} in one batch, some turned by 90 or 270 degrees and "
                         "some by 0 or 180: they come out of two shapes; allowed: square images, "
                         "or angles of one parity ([0, 180] or [90, 270])")
    if (turns == turns[0]).all() if n else True:
        return rot90(images, int(turns[0]) if n else 0)
    if is_torch:
        # torch.rot90 is a flip (a fast copy) and a transposed view: copying that view
        # straight into the output is the one strided pass, image by image.
        out = empty_output_like(images, images.shape[:-2] + ((w, h) if odd[0] else (h, w)))
        for i, k in enumerate(turns.tolist()):
            out[i].copy_(torch.rot90(images[i], k, (-2, -1)))
        return _rewrap(out, images)
    shape = (n, w, h) + images.shape[3:] if odd[0] else images.shape
    out = np.empty(shape, images.dtype)
    for k in np.unique(turns).tolist():
        idx = np.flatnonzero(turns == k)
        out[idx] = np.rot90(images[idx], k, (1, 2))
    return out


def rotations_of(images: Any, quarter_turns: Sequence[int]) -> Any:
    """Every image turned by each of ``quarter_turns``, image by image (image 0's rotations,
    then image 1's): a CHW / HWC image gives ``(len(turns), ...)``, a batch of N gives
    ``(N * len(turns), ...)`` (RotNet's training batch). Non-square images with turns of both
    parities are refused (two shapes)."""
    _check_image(images)
    if _is_pil(images):
        images = np.asarray(images)
    is_torch = isinstance(images, torch.Tensor)
    single = images.ndim == 3 if is_torch else images.ndim in (2, 3)
    batch = images[None] if single else images
    if is_torch and batch.ndim > 4:
        batch = batch.reshape(-1, *batch.shape[-3:])
    turns = [int(k) % 4 for k in quarter_turns]
    h, w = (batch.shape[-2], batch.shape[-1]) if is_torch else batch.shape[1:3]
    if h != w and len({k % 2 for k in turns}) > 1:
        raise InputError(f"images of {h}x{w} turned by 90 or 270 degrees and by 0 or 180 come "
                         "out of two shapes; allowed: square images, or angles of one parity")
    views = [rot90(batch, k) for k in turns]
    if is_torch:
        return _rewrap(torch.stack(views, 1).flatten(0, 1), images)
    stacked = np.stack(views, 1)
    return stacked.reshape(-1, *stacked.shape[2:])

