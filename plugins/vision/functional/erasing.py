"""Random erasing: boxes drawn per image, filled with zeros, channel means or noise."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from augkit._memory import copy_output
from augkit._threads import parallel_ranges
from augkit.errors import InputError
from augkit.plugins.vision.functional._images import (
    _box_mask,
    _cast_back,
    _check_image,
    _dtype_max,
    _has_no_pixels,
    _numpy_view,
    _pil_roundtrip,
    _rewrap,
    _unchanged_copy,
    count_images,
)

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


def _erase_tensor_loop(x: torch.Tensor, b: np.ndarray, value: str, seed: Any,
                       chosen: Sequence[int] | None = None) -> torch.Tensor:
    # CPU: a clone, then one slice fill per box; writes only the erased pixels, which beats
    # any whole-batch mask on the CPU. ``seed`` is one seed for the batch, or one per image
    # (each image then drawn as alone); ``chosen``: the images whose means a fill needs.
    shape = x.shape
    out = copy_output(x.reshape(-1, *shape[-3:]))
    means = _means(out, chosen) if value == "mean" else None
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
    per_image = not isinstance(seed, int | np.integer)
    g = torch.Generator().manual_seed(int(seed)) if value == "random" and not per_image else None
    last = -1
    for i, _box, t, l, h, w in boxes:
        if per_image and value == "random" and i != last:
            g, last = torch.Generator().manual_seed(int(seed[i])), i
        region = out[i, :, t : t + h, l : l + w]
        if value == "zero":
            region.zero_()
        elif value == "mean":
            region.copy_(means[i].view(c, 1, 1).expand(c, h, w))
        else:
            region.copy_(_random_fill((c, h, w), out.dtype, g, out.device))
    return out.reshape(shape)


def _means(x4: torch.Tensor, chosen: Sequence[int] | None) -> torch.Tensor:
    """Each image's channel means; with ``chosen``, reduced image by image (a reduction's
    order may follow the batch's shape, and each image must get what it gets alone)."""
    if chosen is None:
        return _channel_means(x4)
    out = torch.zeros(x4.shape[:2], dtype=x4.dtype, device=x4.device)
    for i in chosen:
        out[i] = _channel_means(x4[i : i + 1])[0]
    return out


def _nonempty(b: np.ndarray) -> list[tuple[int, ...]]:
    """(image, box, top, left, h, w) of every non-empty box."""
    idx = np.argwhere((b[..., 2] > 0) & (b[..., 3] > 0))
    sel = b[idx[:, 0], idx[:, 1]]
    return [tuple(r) for r in np.concatenate([idx, sel], 1).tolist()]




def _erase_tensor_masked(x: torch.Tensor, b: np.ndarray, value: str, seed: Any,
                         chosen: Sequence[int] | None = None) -> torch.Tensor:
    # Accelerators: one mask for the whole batch, no Python loop over images (but one noise
    # draw per image when each image has its own seed).
    shape = x.shape
    x4 = x.reshape(-1, *shape[-3:])
    n, c, h, w = x4.shape
    mask = _box_mask(b, h, w, x.device)
    if value == "zero":
        out = x4.masked_fill(mask, 0)
    elif value == "mean":
        out = torch.where(mask, _means(x4, chosen).view(n, c, 1, 1), x4)
    else:
        full = mask.expand(n, c, h, w)
        if isinstance(seed, int | np.integer):
            g = torch.Generator(device=x.device).manual_seed(int(seed))
            noise = _random_fill((int(full.sum()),), x4.dtype, g, x.device)
        else:
            sizes = full.sum((1, 2, 3)).tolist()
            noise = torch.cat([_random_fill(
                (int(k),), x4.dtype, torch.Generator(device=x.device).manual_seed(int(seed[i])),
                x.device) for i, k in enumerate(sizes)]) if n else x4.new_empty(0)
        out = x4.masked_scatter(full, noise)
    return out.reshape(shape)


def erase_some(images: torch.Tensor, boxes: Sequence[Any], value: str = "zero",
               seeds: Sequence[int] | None = None) -> torch.Tensor:
    """Erase image ``i`` of an NCHW batch with ``boxes[i]`` (``(count, 4)`` or
    ``(1, count, 4)``) and, for ``random``, its own ``seeds[i]``; images whose boxes are None
    stay as they are. Image by image the bits :func:`erase` gives the image alone."""
    _check_image(images)
    if value not in ("zero", "mean", "random"):
        raise InputError(f"value: got {value!r}; allowed: zero, mean, random")
    if images.ndim != 4 or len(boxes) != images.shape[0]:
        raise InputError(f"erase_some: images {tuple(images.shape)} with {len(boxes)} box "
                         "sets; allowed: NCHW images and one box set (or None) per image")
    if value == "random" and (seeds is None or len(seeds) != len(boxes)):
        raise InputError("erase_some: value random needs one seed per image")
    chosen = [i for i, bx in enumerate(boxes) if bx is not None]
    if not chosen or _has_no_pixels(images):
        return _rewrap(images.clone(), images)
    sets = [np.asarray(boxes[i].cpu() if isinstance(boxes[i], torch.Tensor) else boxes[i],
                       dtype=np.int64).reshape(-1, 4) for i in chosen]
    count = max(len(s) for s in sets)
    # Images left as they are get empty boxes (height and width 0), which erase nothing.
    b = np.zeros((images.shape[0], count, 4), dtype=np.int64)
    for i, s in zip(chosen, sets, strict=True):
        b[i, : len(s)] = s
    seed_list = [0] * len(boxes) if seeds is None else [
        0 if s is None else int(s) for s in seeds]
    if images.device.type == "cpu":
        out = _erase_tensor_loop(images, b, value, seed_list, chosen)
    else:
        out = _erase_tensor_masked(images, b, value, seed_list, chosen)
    return _rewrap(out, images)
