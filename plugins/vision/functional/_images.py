"""The image kinds the kernels take (numpy HWC/NHWC, torch CHW/NCHW, PIL) and the helpers
every operation shares: input checks, counts and sizes, per-image parameters."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from augkit.errors import InputError

_CV2_TORCH_DTYPES = (torch.uint8, torch.int16, torch.float32, torch.float64)


# ---- input types ---------------------------------------------------------------------------


def _is_pil(x: Any) -> bool:
    return type(x).__module__.startswith("PIL.") and hasattr(x, "getbands")


def _check_image(x: Any) -> None:
    if isinstance(x, torch.Tensor):
        if x.ndim < 3:
            raise InputError(
                f"image tensor of shape {tuple(x.shape)}; allowed: CHW or NCHW (..., C, H, W)"
            )
        if x.dtype == torch.bool or x.is_complex():
            raise InputError(f"image tensor of dtype {x.dtype}; allowed: uint8 or float")
        return
    if isinstance(x, np.ndarray):
        if x.ndim not in (2, 3, 4):
            raise InputError(
                f"numpy image of shape {x.shape}; allowed: HW, HWC or NHWC (uint8 or float32)"
            )
        if x.dtype.kind not in "uif":
            raise InputError(f"numpy image of dtype {x.dtype}; allowed: uint8 or float32")
        return
    if _is_pil(x):
        return
    raise InputError(
        f"got {type(x).__name__}; allowed: a numpy HWC image, a torch CHW/NCHW tensor, "
        "a tv_tensors.Image or a PIL image"
    )


def count_images(x: Any) -> int:
    """How many images ``x`` holds: 1 for HWC / CHW / PIL, N for NCHW or NHWC."""
    _check_image(x)
    if isinstance(x, torch.Tensor):
        return math.prod(x.shape[:-3])
    if isinstance(x, np.ndarray):
        return x.shape[0] if x.ndim == 4 else 1
    return 1


def image_size(x: Any) -> tuple[int, int]:
    """(height, width) of an image or batch."""
    _check_image(x)
    if isinstance(x, torch.Tensor):
        return int(x.shape[-2]), int(x.shape[-1])
    if isinstance(x, np.ndarray):
        return (x.shape[1], x.shape[2]) if x.ndim == 4 else (x.shape[0], x.shape[1])
    return x.size[1], x.size[0]


def _has_no_pixels(x: Any) -> bool:
    """True for an empty batch, or images of height, width or channels 0."""
    if isinstance(x, torch.Tensor):
        return x.numel() == 0
    if isinstance(x, np.ndarray):
        return x.size == 0
    return x.size[0] * x.size[1] == 0


def _unchanged_copy(x: Any) -> Any:
    """What an image without pixels becomes: itself, as a new object (as torchvision v2)."""
    if isinstance(x, torch.Tensor):
        return _rewrap(x.clone(), x)
    return x.copy()


def _rewrap(out: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Keep a tv_tensors.Image an Image (torch ops on it return plain tensors)."""
    if type(like) is not torch.Tensor and type(like).__module__.startswith("torchvision"):
        from torchvision import tv_tensors

        return tv_tensors.wrap(out, like=like)
    return out


def _per_image(values: Any, n: int, name: str) -> torch.Tensor:
    if n == 1 and isinstance(values, float | int):
        return torch.tensor([float(values)], dtype=torch.float64)
    t = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    if t.numel() == 1 and n != 1:
        t = t.expand(n)
    if t.numel() != n:
        raise InputError(f"{name}: got {t.numel()} values for {n} images; allowed: 1 or {n}")
    return t


def _dtype_max(dtype: torch.dtype) -> float:
    return float(torch.iinfo(dtype).max) if not dtype.is_floating_point else 1.0


def _pil_roundtrip(image: Any, fn: Any) -> Any:
    from PIL import Image

    return Image.fromarray(fn(np.asarray(image)))


def _cast_back(y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    if dtype.is_floating_point:
        return y.to(dtype)
    info = torch.iinfo(dtype)
    return y.round().clamp_(info.min, info.max).to(dtype)



def _numpy_view(t: torch.Tensor) -> np.ndarray | None:
    """A numpy view sharing ``t``'s memory (CPU, no autograd, a numpy dtype), else None."""
    if t.device.type != "cpu" or t.requires_grad or t.dtype in (torch.bfloat16, torch.bool):
        return None
    try:
        return t.numpy()
    except (TypeError, RuntimeError):
        return None


def _box_mask(b: Any, h: int, w: int, device: torch.device) -> torch.Tensor:
    """(n, 1, H, W) boolean mask of the union of each image's boxes, built by broadcasting."""
    b = torch.as_tensor(b, dtype=torch.int64).to(device)
    rows = torch.arange(h, device=device).view(1, 1, h, 1)
    cols = torch.arange(w, device=device).view(1, 1, 1, w)
    top, left, bh, bw = (v[..., None, None] for v in b.unbind(-1))
    inside = (rows >= top) & (rows < top + bh) & (cols >= left) & (cols < left + bw)
    return inside.any(1, keepdim=True)
