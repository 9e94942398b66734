"""Mixup and cutmix: partners by a random permutation, lambda ~ Beta(alpha, alpha), soft
labels (cutmix weighted by the exact pasted area)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from augkit._memory import HUGE_OUTPUT_BYTES, copy_output, empty_output_like
from augkit._threads import parallel_ranges
from augkit.errors import InputError
from augkit.plugins.vision.functional._images import (
    _box_mask,
    _cast_back,
    _numpy_view,
    _rewrap,
)

# ---- mixup and cutmix ----------------------------------------------------------------------


def sample_beta(generator: torch.Generator, alpha: float, n: int) -> torch.Tensor:
    """``n`` draws of Beta(alpha, alpha) (float64), from ``generator`` only.

    ``torch.distributions.Beta`` samples from the global torch RNG, so the draw goes through a
    numpy generator seeded from ``generator`` instead.
    """
    from augkit.random import numpy_rng

    return torch.from_numpy(numpy_rng(generator).beta(alpha, alpha, size=n))


def sample_cutmix_boxes(
    generator: torch.Generator, lam: torch.Tensor, height: int, width: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """One box per image: ``(boxes (n, 4) int64 [y1, x1, y2, x2], lam_exact (n,) float64)``.

    torchvision's CutMix rule per image: centre uniform over the pixels, half sides
    ``int(0.5 * sqrt(1 - lam) * W)`` and ``... * H``, clipped to the image; the label weight is
    ``1 - pasted area / (H * W)``, the exact area after clipping.
    """
    check_area((height, width))
    n = lam.shape[0]
    cy = torch.randint(height, (n,), generator=generator)
    cx = torch.randint(width, (n,), generator=generator)
    r = 0.5 * torch.sqrt(1.0 - lam)
    hh = (r * height).long()
    hw = (r * width).long()
    y1 = (cy - hh).clamp(min=0)
    y2 = (cy + hh).clamp(max=height)
    x1 = (cx - hw).clamp(min=0)
    x2 = (cx + hw).clamp(max=width)
    exact = 1.0 - ((y2 - y1) * (x2 - x1)).double() / (height * width)
    return torch.stack([y1, x1, y2, x2], -1), exact


def check_area(shape: tuple[int, ...]) -> None:
    """``InputError`` unless images of ``shape`` (``(..., H, W)``) have height and width >= 1:
    CutMix's box and label weight are fractions of the image's area."""
    if shape[-2] < 1 or shape[-1] < 1:
        raise InputError(f"got images of shape {tuple(shape)}; allowed: height and width >= 1 "
                         "(the pasted box is a fraction of the image's area)")


def to_soft_labels(labels: torch.Tensor, num_classes: int | None, n: int) -> torch.Tensor:
    """Integer labels ``(n,)`` -> one-hot float32 ``(n, num_classes)``; soft labels ``(n, K)``
    (float) pass through."""
    if not isinstance(labels, torch.Tensor):
        try:
            labels = torch.as_tensor(np.asarray(labels))
        except (TypeError, ValueError, RuntimeError):
            raise InputError(f"labels of type {type(labels).__name__}; allowed: integer class "
                             f"ids ({n},) with num_classes, or float soft labels ({n}, "
                             "num_classes)") from None
    if labels.dtype.is_floating_point:
        if labels.ndim != 2 or labels.shape[0] != n:
            raise InputError(
                f"soft labels of shape {tuple(labels.shape)}; allowed: ({n}, num_classes)"
            )
        if num_classes is not None and labels.shape[1] != num_classes:
            raise InputError(
                f"soft labels have {labels.shape[1]} classes; num_classes is {num_classes}"
            )
        return labels
    if labels.dtype == torch.bool or labels.ndim != 1 or labels.shape[0] != n:
        raise InputError(
            f"labels of shape {tuple(labels.shape)} and dtype {labels.dtype}; allowed: integer "
            f"class ids ({n},) with num_classes, or float soft labels ({n}, num_classes)"
        )
    if num_classes is None:
        raise InputError("integer labels need num_classes (e.g. mixup: {num_classes: 10}); "
                         "allowed: set num_classes, or pass one-hot / soft float labels")
    if n and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise InputError(
            f"labels in [{int(labels.min())}, {int(labels.max())}]; allowed: 0 .. "
            f"{num_classes - 1} (num_classes={num_classes})"
        )
    return F.one_hot(labels.long(), num_classes).to(torch.float32)


def _mix_labels(soft: torch.Tensor, perm: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    lam = lam.to(device=soft.device, dtype=soft.dtype)
    lam = lam.view(-1, 1) if lam.ndim else lam
    return torch.lerp(soft[perm], soft, lam)


def mixup(
    images: torch.Tensor,
    labels: torch.Tensor,
    perm: torch.Tensor,
    lam: Any,
    num_classes: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``lam * x + (1 - lam) * x[perm]`` for images (NCHW) and labels (made soft). ``lam`` is a
    float or one value per image."""
    x = images
    n = x.shape[0]
    soft = to_soft_labels(labels, num_classes, n)
    perm = torch.as_tensor(perm, dtype=torch.int64).to(x.device)
    lam_t = torch.as_tensor(lam, dtype=torch.float64)
    work = x.dtype if x.dtype.is_floating_point else torch.float32
    weight = lam_t.to(device=x.device, dtype=work)
    if weight.ndim:
        weight = weight.view(-1, *([1] * (x.ndim - 1)))
    if _chunked_mix_ok(x):
        out = _mixup_chunked(x, perm, weight)
    else:
        # lerp(a, b, w) = a + w (b - a): one gather and one fused pass.
        mixed = torch.lerp(x[perm].to(work), x.to(work), weight)
        out = mixed if x.dtype.is_floating_point else _cast_back(mixed, x.dtype)
    return _rewrap(out, images), _mix_labels(soft, perm.to(soft.device), lam_t)


_MIX_CHUNK = 16  # images per lerp on the CPU: the partners' buffer stays a few MB


def _chunked_mix_ok(x: torch.Tensor) -> bool:
    return (x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64)
            and x.is_contiguous() and not x.requires_grad
            and x.numel() * x.element_size() >= HUGE_OUTPUT_BYTES)


def _mixup_chunked(x: torch.Tensor, perm: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``lerp(x[perm], x, weight)`` for a large CPU float batch, the same values: the output
    in recycled huge-page memory (``empty_output_like``) and the partners gathered a chunk at a
    time into one small buffer, instead of two fresh batch-sized tensors whose 4 KiB pages
    all fault (bench vision/mixup/torch-batch, against its copy floor)."""
    n = x.shape[0]
    out = empty_output_like(x)
    buf = x.new_empty((min(n, _MIX_CHUNK), *x.shape[1:]))
    per_image = weight.ndim > 0
    for lo in range(0, n, _MIX_CHUNK):
        hi = min(n, lo + _MIX_CHUNK)
        partners = torch.index_select(x, 0, perm[lo:hi], out=buf[:hi - lo])
        w = weight[lo:hi] if per_image else weight
        torch.lerp(partners, x[lo:hi], w, out=out[lo:hi])
    return out


def cutmix(
    images: torch.Tensor,
    labels: torch.Tensor,
    perm: torch.Tensor,
    boxes: torch.Tensor,
    num_classes: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Paste ``x[perm][i]``'s box ``boxes[i]`` (``[y1, x1, y2, x2]``) into image i; the label
    weight of image i is 1 - box area / image area (exact, after clipping)."""
    x = images
    n, _, h, w = x.shape
    check_area(x.shape)
    soft = to_soft_labels(labels, num_classes, n)
    perm = torch.as_tensor(perm, dtype=torch.int64)
    boxes = torch.as_tensor(boxes, dtype=torch.int64).cpu()
    area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).double()
    lam = 1.0 - area / (h * w)
    if x.device.type == "cpu":
        # One copy, then copy only the pasted regions: one full copy where torchvision makes
        # two (roll and clone), and cheaper than a whole-batch gather and mask.
        out = copy_output(x)
        partner, box_list = perm.tolist(), boxes.tolist()
        src, dst = _numpy_view(x), _numpy_view(out)
        if src is not None and dst is not None:
            # numpy slices, not a torch op per image: each torch copy opens a thread team and
            # waits at its barrier, which on a busy CPU costs far more than the copy itself.
            def run(lo: int, hi: int) -> None:
                for i in range(lo, hi):
                    y1, x1, y2, x2 = box_list[i]
                    if y2 > y1 and x2 > x1:
                        dst[i, :, y1:y2, x1:x2] = src[partner[i], :, y1:y2, x1:x2]

            parallel_ranges(run, n, math.prod(x.shape[1:]))
        else:
            for i, (y1, x1, y2, x2) in enumerate(box_list):
                if y2 > y1 and x2 > x1:
                    out[i, :, y1:y2, x1:x2] = x[partner[i], :, y1:y2, x1:x2]
    else:
        tl_hw = torch.stack(
            [boxes[:, 0], boxes[:, 1], boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], -1
        )
        mask = _box_mask(tl_hw[:, None, :], h, w, x.device)
        out = torch.where(mask, x[perm.to(x.device)], x)
    return _rewrap(out, images), _mix_labels(soft, perm.to(soft.device), lam)
