"""MAE-style patch masking: a grid of square patches, an exact count of them masked per image."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from augkit._memory import empty_output_like
from augkit.errors import InputError
from augkit.plugins.vision.functional._images import _check_image, _is_pil, _rewrap, image_size


def patch_grid(height: int, width: int, patch: int) -> tuple[int, int]:
    """(rows, columns) of ``patch`` x ``patch`` patches; the sides must be multiples of it."""
    if height % patch or width % patch or height == 0 or width == 0:
        raise InputError(f"image of {height}x{width} with patch {patch}; allowed: a height and "
                         f"width that are positive multiples of the patch size")
    return height // patch, width // patch


def masked_count(patches: int, ratio: float) -> int:
    """How many of ``patches`` are masked: ``round(ratio * patches)`` (Python's round, half to
    even; MAE keeps ``int(patches * (1 - ratio))``, the same count wherever ``ratio *
    patches`` is a whole number)."""
    return round(ratio * patches)


def sample_patch_masks(generator: torch.Generator, n: int, patches: int,
                       ratio: float) -> np.ndarray:
    """``(n, patches)`` boolean masks, True = masked, exactly :func:`masked_count` per row: as
    MAE, per image uniform noise per patch, the patches of lowest noise kept."""
    noise = torch.rand(n, patches, generator=generator)
    order = torch.argsort(noise, dim=1, stable=True).numpy()
    keep = patches - masked_count(patches, ratio)
    mask = np.ones((n, patches), dtype=bool)
    np.put_along_axis(mask, order[:, :keep], False, axis=1)
    return mask


def _check_value(value: float, dtype: Any) -> None:
    integer = not (dtype.is_floating_point if isinstance(dtype, torch.dtype)
                   else np.issubdtype(dtype, np.floating))
    if integer:
        info = torch.iinfo(dtype) if isinstance(dtype, torch.dtype) else np.iinfo(dtype)
        if not float(value).is_integer() or not info.min <= value <= info.max:
            raise InputError(f"fill value {value} for {dtype} images; allowed: an integer in "
                             f"[{info.min}, {info.max}]")


def _masks_of(mask: Any, n: int, patches: int) -> np.ndarray:
    mask = np.asarray(mask, dtype=bool).reshape(-1, patches)
    if mask.shape[0] != n:
        raise InputError(f"got {mask.shape[0]} patch masks for {n} images; allowed: one per "
                         "image")
    return mask


def fill_patches(image: Any, mask: Any, patch: int, value: float = 0.0) -> Any:
    """``image`` with its masked patches set to ``value``: ``mask`` is ``(L,)`` for one image,
    ``(N, L)`` for a batch, patches numbered row by row. Differentiable for tensors."""
    _check_image(image)
    if _is_pil(image):
        from PIL import Image

        return Image.fromarray(fill_patches(np.asarray(image), mask, patch, value))
    h, w = image_size(image)
    gh, gw = patch_grid(h, w, patch)
    _check_value(value, image.dtype)
    if isinstance(image, torch.Tensor):
        n = int(np.prod(image.shape[:-3]))
        m = torch.from_numpy(_masks_of(mask, n, gh * gw)).to(image.device)
        pixels = m.view(-1, gh, 1, gw, 1).expand(-1, gh, patch, gw, patch).reshape(-1, 1, h, w)
        pixels = pixels.reshape(*image.shape[:-3], 1, h, w)
        fill = torch.tensor(value, dtype=image.dtype, device=image.device)
        if image.requires_grad:  # out= takes no autograd
            return _rewrap(torch.where(pixels, fill, image), image)
        # A large batch into recycled memory: first touching a fresh output costs more than
        # the select itself.
        out = empty_output_like(image)
        return _rewrap(torch.where(pixels, fill, image, out=out), image)
    batch = image.ndim == 4
    x = image if batch else image[None]
    m = _masks_of(mask, x.shape[0], gh * gw)
    pixels = np.repeat(np.repeat(m.reshape(-1, gh, gw), patch, 1), patch, 2)
    pixels = pixels.reshape(pixels.shape + (1,) * (x.ndim - 3))
    out = np.where(pixels, np.asarray(value, dtype=image.dtype), x)
    return out if batch else out[0]


def _patch_axes(image: Any, patch: int) -> tuple[Any, tuple[int, ...]]:
    """A view ``(..., rows, columns, patch, patch, C)`` of the patches of a CHW / NCHW tensor
    or an HW / HWC / NHWC array (nothing copied), and the leading shape ``...``."""
    _check_image(image)
    if _is_pil(image):
        image = np.asarray(image)
    h, w = image_size(image)
    gh, gw = patch_grid(h, w, patch)
    if isinstance(image, torch.Tensor):
        lead = tuple(image.shape[:-3])
        x = image.reshape(*lead, image.shape[-3], gh, patch, gw, patch)
        x = x.movedim(-5, -1)  # (..., gh, p, gw, p, c)
        return x.transpose(-4, -3), lead  # (..., gh, gw, p, p, c)
    x = image[..., None] if image.ndim == 2 else image
    lead = tuple(x.shape[:-3])
    x = x.reshape(*lead, gh, patch, gw, patch, x.shape[-1])
    return x.swapaxes(-4, -3), lead


def patchify(image: Any, patch: int) -> Any:
    """``(..., L, patch * patch * C)`` patches, row by row, each flattened as MAE's
    ``patchify`` does (rows, then columns, then channels): from CHW / NCHW tensors and HWC /
    NHWC arrays alike."""
    x, lead = _patch_axes(image, patch)
    gh, gw, _, _, c = x.shape[-5:]
    return x.reshape(*lead, gh * gw, patch * patch * c)


def kept_patches(image: Any, mask: Any, patch: int) -> Any:
    """The patches ``mask`` keeps, in patch order: ``(L_keep, patch * patch * C)`` for one
    image, ``(N, L_keep, ...)`` for a batch (every image keeps the same count). Only the kept
    patches are read: they are picked from the patch axes, not from all patches patchified."""
    x, lead = _patch_axes(image, patch)
    gh, gw, _, _, c = x.shape[-5:]
    grid = x.reshape(-1, gh, gw, patch, patch, c)
    n, patches, dim = grid.shape[0], gh * gw, patch * patch * c
    m = _masks_of(mask, n, patches)
    keep = (~m).sum(1)
    if len(set(keep.tolist())) > 1:
        raise InputError(f"masks keeping {sorted(set(keep.tolist()))} patches; allowed: one "
                         "count for every image (kept patches stack)")
    index = np.flatnonzero(~m).reshape(n, -1) % patches
    image_of = np.arange(n)[:, None]
    if isinstance(grid, torch.Tensor):
        index, image_of = (torch.from_numpy(a).to(grid.device) for a in (index, image_of))
    out = grid[image_of, index // gw, index % gw]  # (n, kept, patch, patch, c)
    return out.reshape(*lead, -1, dim)
