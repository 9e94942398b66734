"""Gaussian blur: exactly the kernel albumentations 2.0.8 builds, through OpenCV for numpy
images and CPU tensors (one call per contiguous plane), a grouped convolution elsewhere and
for tensors autograd tracks (the same values, differentiable)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from augkit._memory import empty_output_like
from augkit._threads import parallel_ranges
from augkit.errors import InputError
from augkit.plugins.vision.functional._images import (
    _CV2_TORCH_DTYPES,
    _cast_back,
    _check_image,
    _has_no_pixels,
    _per_image,
    _pil_roundtrip,
    _rewrap,
    _unchanged_copy,
)

# ---- gaussian blur -------------------------------------------------------------------------


#: The largest sigma the blur takes: its automatic kernel has 7001 taps, far beyond any image's
#: need; a larger (or infinite) sigma would size a kernel without bound.
MAX_SIGMA = 1000.0
#: The largest kernel size: the automatic size of ``MAX_SIGMA``.
MAX_KERNEL_SIZE = 7001


def _check_blur_args(sigma: Any, kernel_size: int | None) -> None:
    if isinstance(sigma, float | int) and not isinstance(sigma, bool):
        bad = None if 0.0 < sigma <= MAX_SIGMA else sigma
    else:
        try:
            t = torch.as_tensor(sigma, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError):
            raise InputError(f"sigma: got {type(sigma).__name__}; allowed: a number in (0, "
                             f"{MAX_SIGMA:g}], or one per image") from None
        ok = (t > 0) & (t <= MAX_SIGMA)
        bad = None if bool(ok.all()) else float(t.reshape(-1)[~ok.reshape(-1)][0])
    if bad is not None:
        raise InputError(f"sigma: got {bad}; allowed: a number in (0, {MAX_SIGMA:g}]")
    if kernel_size is not None and not (
            isinstance(kernel_size, int | np.integer) and 0 <= kernel_size <= MAX_KERNEL_SIZE):
        raise InputError(f"kernel_size: got {kernel_size!r}; allowed: None (automatic) or an "
                         f"odd integer in [1, {MAX_KERNEL_SIZE}]")


def kernel_size_for(sigma: float) -> int:
    """albumentations 2.0.8's automatic kernel size (PIL's rule): ``int(sigma * 3.5) * 2 + 1``."""
    return int(sigma * 3.5) * 2 + 1


def gaussian_kernel1d(sigma: float, kernel_size: int | None = None) -> np.ndarray:
    """The float64 1-D kernel albumentations 2.0.8 ``create_gaussian_kernel_1d`` builds: taps at
    integer offsets ``-(k//2) .. k//2``, ``exp(-x**2 / (2 sigma**2))``, normalised to sum 1."""
    size = kernel_size_for(sigma) if not kernel_size else int(kernel_size)
    size = size + 1 if size % 2 == 0 else size
    x = _OFFSETS.get(size)
    if x is None:
        x = _OFFSETS[size] = np.arange(-(size // 2), size // 2 + 1, dtype=np.int64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


# Tap offsets per kernel size: built once (read-only), as this runs once per image.
_OFFSETS: dict[int, np.ndarray] = {}


def gaussian_blur(image: Any, sigma: Any, kernel_size: int | None = None) -> Any:
    """Blur each image with its own ``sigma`` (a float, or one value per image of a batch).

    ``kernel_size`` None follows albumentations' automatic rule per image; an odd integer fixes
    it. Shape, dtype and device are kept; the input is not changed; integers are rounded and
    saturated (uint8 never wraps). An image without pixels (an empty batch, height or width
    0) comes back as it is, a copy, as torchvision v2 returns it. A float tensor that requires
    grad (with grad mode on) is blurred differentiably, to the same values. ``sigma`` in (0, 1000]
    (``MAX_SIGMA``), else ``InputError``.

    >>> import numpy as np
    >>> img = np.full((8, 8, 3), 100, np.uint8)
    >>> bool((gaussian_blur(img, 1.5) == 100).all())
    True
    """
    _check_image(image)
    _check_blur_args(sigma, kernel_size)
    if _has_no_pixels(image):
        return _unchanged_copy(image)
    if isinstance(image, torch.Tensor):
        return _rewrap(_blur_tensor(image, sigma, kernel_size), image)
    if isinstance(image, np.ndarray):
        return _blur_numpy(image, sigma, kernel_size)
    return _pil_roundtrip(image, lambda a: _blur_numpy(a, sigma, kernel_size))




def _cv2_blur_plane(src: np.ndarray, k: np.ndarray, dst: np.ndarray | None = None) -> np.ndarray:
    import cv2

    # The exact call albumentations' separable_convolve makes (default BORDER_REFLECT_101).
    if dst is None:
        return cv2.sepFilter2D(src, -1, kernelX=k, kernelY=k)
    return cv2.sepFilter2D(src, -1, kernelX=k, kernelY=k, dst=dst)


def _blur_hwc(img: np.ndarray, sigma: float, kernel_size: int | None) -> np.ndarray:
    k = gaussian_kernel1d(sigma, kernel_size)
    if img.ndim == 2:
        return _cv2_blur_plane(img, k)
    channels = img.shape[2]
    if channels <= 4:
        out = _cv2_blur_plane(img, k)
        return out.reshape(img.shape)  # OpenCV drops a trailing channel of size 1
    # OpenCV filters at most 4 interleaved channels: one plane at a time.
    out = np.empty_like(img)
    for c in range(channels):
        out[:, :, c] = _cv2_blur_plane(np.ascontiguousarray(img[:, :, c]), k)
    return out


def _blur_numpy(img: np.ndarray, sigma: Any, kernel_size: int | None) -> np.ndarray:
    if img.dtype.kind in "iu" and img.dtype not in (np.uint8, np.uint16, np.int16):
        raise InputError(f"numpy image of dtype {img.dtype}; allowed: uint8, uint16 or float")
    src = img if img.dtype != np.float16 else img.astype(np.float32)
    if img.ndim == 4:
        sig = _per_image(sigma, img.shape[0], "sigma")
        out = np.stack([_blur_hwc(src[i], float(sig[i]), kernel_size)
                        for i in range(img.shape[0])])
    else:
        s = sigma if isinstance(sigma, float) else float(_per_image(sigma, 1, "sigma")[0])
        out = _blur_hwc(src, s, kernel_size)
    return out.astype(img.dtype, copy=False)


def _blur_tensor(x: torch.Tensor, sigma: Any, kernel_size: int | None) -> torch.Tensor:
    shape = x.shape
    x4 = x.reshape(-1, *shape[-3:])
    sig = _per_image(sigma, x4.shape[0], "sigma")
    if _opencv_ok(x):
        out = _blur_cv2_planes(x4, sig, kernel_size)
    else:
        out = _blur_conv(x4, sig, kernel_size)
    return out.reshape(shape)


def _opencv_ok(x: torch.Tensor) -> bool:
    """OpenCV's fast path: a CPU tensor of an OpenCV dtype that autograd does not track (OpenCV
    works on a detached numpy view; a tracked input takes the differentiable convolution)."""
    return (x.device.type == "cpu" and x.dtype in _CV2_TORCH_DTYPES
            and not (x.requires_grad and torch.is_grad_enabled()))


def _blur_cv2_planes(x4: torch.Tensor, sig: Any, kernel_size: int | None) -> torch.Tensor:
    # One OpenCV call per (image, channel) plane, written straight into the output: a Python
    # loop, but each call is a fused C kernel, faster on the CPU than any batched torch conv.
    # OpenCV releases the GIL and does not split a small plane over threads itself, so the
    # images are shared out over torch's thread count (what a batched torch op would use).
    # A sigma of None leaves its image as it is (copied).
    import cv2

    src = x4.detach().contiguous().numpy()
    out = empty_output_like(x4)
    dst = out.numpy()
    n, c = src.shape[:2]
    kernels: dict[float, np.ndarray] = {}
    per_image: list[np.ndarray | None] = []
    for s in (sig.tolist() if isinstance(sig, torch.Tensor) else sig):
        if s is None:
            per_image.append(None)
            continue
        k = kernels.get(s)
        if k is None:
            k = kernels[s] = gaussian_kernel1d(s, kernel_size)
        per_image.append(k)

    def run(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            k = per_image[i]
            if k is None:
                dst[i] = src[i]
                continue
            for ch in range(c):
                cv2.sepFilter2D(src[i, ch], -1, kernelX=k, kernelY=k, dst=dst[i, ch])

    parallel_ranges(run, n, src[0].size)
    return out


def _reflect101_index(n: int, pad: int, device: torch.device) -> torch.Tensor:
    """Indices of a reflect-101 padded axis (OpenCV's default border), valid for any pad."""
    i = torch.arange(-pad, n + pad, device=device)
    if n == 1:
        return torch.zeros_like(i)
    period = 2 * (n - 1)
    i = torch.remainder(i, period)
    return torch.where(i >= n, period - i, i)


def _blur_conv(x4: torch.Tensor, sig: torch.Tensor, kernel_size: int | None) -> torch.Tensor:
    """Batched separable blur, one kernel per image: a grouped conv over (image, channel)."""
    n, c, h, w = x4.shape
    if n == 0:
        return x4.clone()
    # Half sizes as kernel_size_for gives them (int() of a positive float is its floor),
    # computed for the whole batch at once.
    if kernel_size:
        half = torch.full_like(sig, float(int(kernel_size) // 2))
    else:
        half = torch.floor(sig * 3.5)
    r = int(half.max())
    big = 2 * r + 1
    # Kernels in float64 as albumentations builds them, zero outside each image's own size.
    offs = torch.arange(-r, r + 1, dtype=torch.float64)
    k = torch.exp(-0.5 * (offs[None, :] / sig[:, None]) ** 2)
    k = torch.where(offs[None, :].abs() <= half[:, None], k, torch.zeros(()))
    k = k / k.sum(1, keepdim=True)
    work = x4.dtype if x4.dtype in (torch.float32, torch.float64) else torch.float32
    if x4.device.type == "cuda" and x4.dtype in (torch.float16, torch.bfloat16):
        work = x4.dtype
    k = k.to(device=x4.device, dtype=work).repeat_interleave(c, 0)  # (n*c, big)
    xf = x4.to(work).reshape(1, n * c, h, w)
    xf = xf.index_select(3, _reflect101_index(w, r, x4.device))
    xf = F.conv2d(xf, k.view(n * c, 1, 1, big), groups=n * c)
    xf = xf.index_select(2, _reflect101_index(h, r, x4.device))
    xf = F.conv2d(xf, k.view(n * c, 1, big, 1), groups=n * c)
    return _cast_back(xf.reshape(n, c, h, w), x4.dtype)



def gaussian_blur_some(images: torch.Tensor, sigmas: Sequence[float | None],
                       kernel_size: int | None = None) -> torch.Tensor:
    """Blur image ``i`` of an NCHW batch with ``sigmas[i]`` and leave the images whose sigma is
    None as they are: image by image the bits :func:`gaussian_blur` gives the image alone.

    CPU tensors of an OpenCV dtype: one pass over the planes (OpenCV's call per plane is the
    one a lone image makes, the others copied). Elsewhere one grouped convolution per kernel
    size: a lone image's convolution is as wide as its own kernel, so images of one size run
    together and each gets the same taps, in the same order, as alone.
    """
    _check_image(images)
    if images.ndim != 4 or len(sigmas) != images.shape[0]:
        raise InputError(f"gaussian_blur_some: images {tuple(images.shape)} with "
                         f"{len(sigmas)} sigmas; allowed: NCHW images and one sigma (or None) "
                         "per image")
    chosen = [i for i, s in enumerate(sigmas) if s is not None]
    _check_blur_args([sigmas[i] for i in chosen], kernel_size)
    if not chosen or _has_no_pixels(images):
        return _rewrap(images.clone(), images)
    if _opencv_ok(images):
        out = _blur_cv2_planes(images, sigmas, kernel_size)
    else:
        out = images.clone()
        groups: dict[int, list[int]] = {}
        for i in chosen:
            half = int(kernel_size) // 2 if kernel_size else kernel_size_for(sigmas[i]) // 2
            groups.setdefault(half, []).append(i)
        for rows in groups.values():
            idx = torch.tensor(rows, device=images.device)
            sig = torch.tensor([sigmas[i] for i in rows], dtype=torch.float64)
            out.index_copy_(0, idx, _blur_conv(images.index_select(0, idx), sig, kernel_size))
    return _rewrap(out, images)
