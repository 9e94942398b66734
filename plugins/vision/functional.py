"""Pure image kernels: one public function per operation, one private kernel per input type
(the torchvision v2 ``functional`` habit). No hidden state: the random parts (sigmas, boxes,
lambdas, partners) are drawn by the ``sample_*`` helpers from an explicit generator and passed
in, so every kernel is deterministic given its arguments.

Inputs:

- numpy ``HWC`` or ``HW`` (uint8 or float32, the albumentations convention), or ``NHWC``;
- torch ``CHW`` / ``NCHW`` (any leading dims), float or uint8, any device, ``tv_tensors.Image``;
- ``PIL.Image`` (converted through numpy and back).

Backends: numpy images go through OpenCV with exactly the kernel albumentations 2.0.8 builds, so
results equal albumentations' for the same parameters. CPU tensors also go through OpenCV, one
call per contiguous (H, W) plane: each call is a fused C kernel, faster than a batched torch
convolution (bench vision/gaussian_blur/torch-batch). Other devices use batched torch ops (a
grouped convolution with one kernel per image, boxes as broadcast masks), with no Python loop
over the images.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from augkit._memory import HUGE_OUTPUT_BYTES, copy_output, empty_output_like
from augkit._threads import parallel_ranges
from augkit.errors import InputError

__all__ = [
    "check_area",
    "count_images",
    "cutmix",
    "erase",
    "gaussian_blur",
    "gaussian_kernel1d",
    "image_size",
    "kernel_size_for",
    "mixup",
    "sample_beta",
    "sample_cutmix_boxes",
    "sample_erasing_boxes",
    "to_soft_labels",
]

# dtypes OpenCV filters natively (others use the torch path)
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
    0) comes back as it is, a copy, as torchvision v2 returns it. ``sigma`` in (0, 1000]
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


def _pil_roundtrip(image: Any, fn: Any) -> Any:
    from PIL import Image

    return Image.fromarray(fn(np.asarray(image)))


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
    if x.device.type == "cpu" and x.dtype in _CV2_TORCH_DTYPES:
        out = _blur_cv2_planes(x4, sig, kernel_size)
    else:
        out = _blur_conv(x4, sig, kernel_size)
    return out.reshape(shape)


def _blur_cv2_planes(x4: torch.Tensor, sig: torch.Tensor, kernel_size: int | None) -> torch.Tensor:
    # One OpenCV call per (image, channel) plane, written straight into the output: a Python
    # loop, but each call is a fused C kernel, faster on the CPU than any batched torch conv.
    # OpenCV releases the GIL and does not split a small plane over threads itself, so the
    # images are shared out over torch's thread count (what a batched torch op would use).
    import cv2

    src = x4.detach().contiguous().numpy()
    out = empty_output_like(x4)
    dst = out.numpy()
    n, c = src.shape[:2]
    kernels: dict[float, np.ndarray] = {}
    per_image = []
    for s in sig.tolist():
        k = kernels.get(s)
        if k is None:
            k = kernels[s] = gaussian_kernel1d(s, kernel_size)
        per_image.append(k)

    def run(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            k = per_image[i]
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


def _cast_back(y: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    if dtype.is_floating_point:
        return y.to(dtype)
    info = torch.iinfo(dtype)
    return y.round().clamp_(info.min, info.max).to(dtype)


# ---- random erasing ------------------------------------------------------------------------


def sample_erasing_boxes(
    generator: torch.Generator,
    n: int,
    height: int,
    width: int,
    scale: tuple[float, float] = (0.02, 0.33),
    ratio: tuple[float, float] = (0.3, 3.3),
    count: int = 1,
    attempts: int = 10,
) -> torch.Tensor:
    """Boxes ``(n, count, 4)`` as int64 ``[top, left, height, width]``, drawn per image.

    torchvision ``RandomErasing`` semantics (Zhong et al. 2017): area ~ U(scale) * H * W,
    log(ratio) ~ U(log ratio) with ratio = h / w, ``h = round(sqrt(area * ratio))``,
    ``w = round(sqrt(area / ratio))``; a draw is accepted when ``h < H`` and ``w < W``; the
    first of ``attempts`` (10) accepted draws is kept, and when none is, the box is empty
    (height = width = 0: nothing erased), as torchvision returns the image unchanged. The
    position is uniform over every place the box fits. Every number comes from one draw of
    ``generator``.
    """
    # One generator call for everything, then numpy: a handful of numpy ops costs far less
    # than torch's per-op overhead on one image (bench vision/random_erasing/numpy).
    u = torch.rand((n, count, 2 * attempts + 2), generator=generator, dtype=torch.float64)
    u = u.numpy()
    if n * count <= 8:
        small = _erasing_boxes_small(u, height, width, scale, ratio, attempts)
        return torch.from_numpy(np.array(small, dtype=np.int64).reshape(n, count, 4))
    area = height * width * (scale[0] + (scale[1] - scale[0]) * u[..., :attempts])
    lo, hi = math.log(ratio[0]), math.log(ratio[1])
    aspect = np.exp(lo + (hi - lo) * u[..., attempts : 2 * attempts])
    h = np.rint(np.sqrt(area * aspect)).astype(np.int64)
    w = np.rint(np.sqrt(area / aspect)).astype(np.int64)
    ok = (h < height) & (w < width)
    # First accepted attempt per box (plain fancy indexing: take_along_axis is slow here).
    rows = np.arange(n * count)
    first = ok.reshape(-1, attempts).argmax(-1)
    found = ok.reshape(-1, attempts)[rows, first]
    h = np.where(found, h.reshape(-1, attempts)[rows, first], 0).reshape(n, count)
    w = np.where(found, w.reshape(-1, attempts)[rows, first], 0).reshape(n, count)
    top = np.minimum(np.floor(u[..., -2] * (height - h + 1)).astype(np.int64), height - h)
    left = np.minimum(np.floor(u[..., -1] * (width - w + 1)).astype(np.int64), width - w)
    return torch.from_numpy(np.stack([top, left, h, w], -1))


def _erasing_boxes_small(u: np.ndarray, height: int, width: int, scale: tuple[float, float],
                         ratio: tuple[float, float], attempts: int) -> list[list[int]]:
    """The same rule on a few boxes in plain Python: numpy's per-call overhead on tiny arrays
    would cost more than albumentations' whole per-image budget."""
    lo, hi = math.log(ratio[0]), math.log(ratio[1])
    out = []
    for row in u.reshape(-1, u.shape[-1]).tolist():
        h = w = 0
        for k in range(attempts):
            area = height * width * (scale[0] + (scale[1] - scale[0]) * row[k])
            aspect = math.exp(lo + (hi - lo) * row[attempts + k])
            bh, bw = round(math.sqrt(area * aspect)), round(math.sqrt(area / aspect))
            if bh < height and bw < width:
                h, w = bh, bw
                break
        top = min(math.floor(row[-2] * (height - h + 1)), height - h)
        left = min(math.floor(row[-1] * (width - w + 1)), width - w)
        out.append([top, left, h, w])
    return out


def erase(image: Any, boxes: Any, value: str = "zero", seed: int = 0) -> Any:
    """Fill ``boxes`` (``(n, count, 4)`` ``[top, left, height, width]``, or ``(count, 4)`` for
    one image) with ``value``: ``"zero"``, ``"mean"`` (each image's per-channel mean, before
    erasing) or ``"random"`` (a value per pixel, uniform over [0, 255] for uint8 and [0, 1) for
    float, as albumentations' ``fill="random"``; drawn from ``seed``, reproducible per device).

    The numpy kernel is albumentations' ``cutout`` (same holes, same random stream) written out
    so no albumentations import is needed; results are equal, which the tests check. An image
    without pixels comes back as it is (a copy): there is nothing to erase.
    """
    _check_image(image)
    if value not in ("zero", "mean", "random"):
        raise InputError(f"value: got {value!r}; allowed: zero, mean, random")
    b = np.asarray(boxes.cpu() if isinstance(boxes, torch.Tensor) else boxes, dtype=np.int64)
    n = count_images(image)
    if b.ndim == 2:
        b = b[None]
    if b.ndim != 3 or b.shape[0] != n or b.shape[2] != 4:
        raise InputError(f"boxes: shape {tuple(b.shape)}; allowed: ({n}, count, 4)")
    if _has_no_pixels(image):
        return _unchanged_copy(image)
    if isinstance(image, torch.Tensor):
        if image.device.type == "cpu":
            out = _erase_tensor_loop(image, b, value, seed)
        else:
            out = _erase_tensor_masked(image, b, value, seed)
        return _rewrap(out, image)
    if isinstance(image, np.ndarray):
        return _erase_numpy(image, b, value, seed)
    return _pil_roundtrip(image, lambda a: _erase_numpy(a, b, value, seed))


def _holes(b: np.ndarray) -> list[tuple[int, int, int, int]]:
    """[top, left, h, w] -> albumentations holes (x1, y1, x2, y2), empty boxes left out."""
    return [(l, t, l + w, t + h) for t, l, h, w in b.tolist() if h > 0 and w > 0]


def _fill_mean(img: np.ndarray) -> Any:
    mean = img.reshape(-1, 1 if img.ndim == 2 else img.shape[2]).mean(0, dtype=np.float64)
    if img.dtype.kind in "iu":
        mean = np.rint(mean)  # albumentations would truncate: round to the nearest level
    return tuple(float(v) for v in mean) if img.ndim == 3 else float(mean[0])


def _erase_numpy(img: np.ndarray, b: np.ndarray, value: str, seed: int) -> np.ndarray:
    if img.ndim == 4:
        return np.stack([_erase_numpy(img[i], b[i : i + 1], value, seed + i)
                         for i in range(img.shape[0])])
    return _erase_hwc(img, _holes(b[0]), value, seed)


def _erase_hwc(img: np.ndarray, holes: list[tuple[int, int, int, int]], value: str,
               seed: int) -> np.ndarray:
    """One HW / HWC image, holes as albumentations' (x1, y1, x2, y2): its ``cutout``."""
    out = img.copy()
    if value == "random":
        rng = np.random.default_rng(seed)
        for x1, y1, x2, y2 in holes:
            shape = (y2 - y1, x2 - x1, *img.shape[2:])
            if img.dtype.kind in "iu":
                fill = rng.integers(0, np.iinfo(img.dtype).max + 1, size=shape, dtype=img.dtype)
            else:
                fill = rng.uniform(0, 1.0, size=shape).astype(img.dtype)
            out[y1:y2, x1:x2] = fill
        return out
    fill = 0 if value == "zero" else np.array(_fill_mean(img), dtype=img.dtype)
    for x1, y1, x2, y2 in holes:
        out[y1:y2, x1:x2] = fill
    return out


def _channel_means(x4: torch.Tensor) -> torch.Tensor:
    mean = x4.mean((-2, -1), dtype=torch.float64 if x4.device.type == "cpu" else torch.float32)
    return _cast_back(mean.round() if not x4.dtype.is_floating_point else mean, x4.dtype)


def _random_fill(shape: tuple[int, ...], dtype: torch.dtype, g: torch.Generator,
                 device: torch.device) -> torch.Tensor:
    if dtype.is_floating_point:
        return torch.rand(shape, generator=g, device=device, dtype=dtype)
    # randint's exclusive bound is an int64 itself: for int64 images it stops one short of max.
    top = min(int(_dtype_max(dtype)) + 1, torch.iinfo(torch.int64).max)
    return torch.randint(0, top, shape, generator=g, device=device, dtype=dtype)


def _erase_tensor_loop(x: torch.Tensor, b: np.ndarray, value: str, seed: int) -> torch.Tensor:
    # CPU: a clone, then one slice fill per box; writes only the erased pixels, which beats
    # any whole-batch mask on the CPU.
    shape = x.shape
    out = copy_output(x.reshape(-1, *shape[-3:]))
    means = _channel_means(out) if value == "mean" else None
    boxes = _nonempty(b)
    c = out.shape[1]
    arr = _numpy_view(out)
    if arr is not None and value != "random":
        # numpy fills: a torch op per box opens a thread team per box (a barrier each, slow
        # when the cores are busy); numpy fills with no team, spread over parallel_ranges.
        fill = means.numpy()[:, :, None, None] if means is not None else None

        def run(lo: int, hi: int) -> None:
            for i, _box, t, l, h, w in boxes[lo:hi]:
                arr[i, :, t : t + h, l : l + w] = 0 if fill is None else fill[i]

        parallel_ranges(run, len(boxes), c * out.shape[2] * out.shape[3])
        return out.reshape(shape)
    g = torch.Generator().manual_seed(int(seed)) if value == "random" else None
    for i, _box, t, l, h, w in boxes:
        region = out[i, :, t : t + h, l : l + w]
        if value == "zero":
            region.zero_()
        elif value == "mean":
            region.copy_(means[i].view(c, 1, 1).expand(c, h, w))
        else:
            region.copy_(_random_fill((c, h, w), out.dtype, g, out.device))
    return out.reshape(shape)


def _numpy_view(t: torch.Tensor) -> np.ndarray | None:
    """A numpy view sharing ``t``'s memory (CPU, no autograd, a numpy dtype), else None."""
    if t.device.type != "cpu" or t.requires_grad or t.dtype in (torch.bfloat16, torch.bool):
        return None
    try:
        return t.numpy()
    except (TypeError, RuntimeError):
        return None


def _nonempty(b: np.ndarray) -> list[tuple[int, ...]]:
    """(image, box, top, left, h, w) of every non-empty box."""
    idx = np.argwhere((b[..., 2] > 0) & (b[..., 3] > 0))
    sel = b[idx[:, 0], idx[:, 1]]
    return [tuple(r) for r in np.concatenate([idx, sel], 1).tolist()]


def _box_mask(b: Any, h: int, w: int, device: torch.device) -> torch.Tensor:
    """(n, 1, H, W) boolean mask of the union of each image's boxes, built by broadcasting."""
    b = torch.as_tensor(b, dtype=torch.int64).to(device)
    rows = torch.arange(h, device=device).view(1, 1, h, 1)
    cols = torch.arange(w, device=device).view(1, 1, 1, w)
    top, left, bh, bw = (v[..., None, None] for v in b.unbind(-1))
    inside = (rows >= top) & (rows < top + bh) & (cols >= left) & (cols < left + bw)
    return inside.any(1, keepdim=True)


def _erase_tensor_masked(x: torch.Tensor, b: np.ndarray, value: str, seed: int) -> torch.Tensor:
    # Accelerators: one mask for the whole batch, no Python loop over images.
    shape = x.shape
    x4 = x.reshape(-1, *shape[-3:])
    n, c, h, w = x4.shape
    mask = _box_mask(b, h, w, x.device)
    if value == "zero":
        out = x4.masked_fill(mask, 0)
    elif value == "mean":
        out = torch.where(mask, _channel_means(x4).view(n, c, 1, 1), x4)
    else:
        full = mask.expand(n, c, h, w)
        g = torch.Generator(device=x.device).manual_seed(int(seed))
        noise = _random_fill((int(full.sum()),), x4.dtype, g, x.device)
        out = x4.masked_scatter(full, noise)
    return out.reshape(shape)


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
