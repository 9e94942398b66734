"""gaussian_blur: a Gaussian blur with its own sigma per image."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from augkit.params import AnyOf, Choice, Custom, Interval, Number, Param
from augkit.plugins.vision import functional as VF
from augkit.plugins.vision._common import named
from augkit.plugins.vision._sample import SampleDispatch, apply_sample, is_image
from augkit.random import as_torch, uniform
from augkit.transform import Transform


def _odd_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value % 2 == 0 \
            or value > VF.MAX_KERNEL_SIZE:
        raise ValueError(value)
    return value


KERNEL_SIZE = AnyOf(
    Choice("auto"),
    Custom(_odd_size, f"an odd integer in [1, {VF.MAX_KERNEL_SIZE}]",
           {"type": "integer", "minimum": 1, "maximum": VF.MAX_KERNEL_SIZE}),
)


class GaussianBlur(SampleDispatch, Transform):
    """Gaussian blur, sigma ~ U(sigma) drawn per image (a batch gets one sigma per image, not
    one for the whole batch as torchvision v2 ``GaussianBlur`` does).

    ``kernel_size: auto`` sizes each kernel from its sigma exactly as albumentations 2.0.8
    (``int(sigma * 3.5) * 2 + 1``); numpy images give albumentations' result for the same
    sigma (same kernel, same OpenCV call, reflect-101 border).

    An image without pixels (an empty batch, or height or width 0) comes back as it is, a
    copy, as torchvision v2 returns it (albumentations' OpenCV call fails on it).

    A sample such as ``(image, {"boxes": ..., "masks": ...})`` follows torchvision v2's rules:
    its image leaves are blurred with one sigma for the call, ``Mask``, ``BoundingBoxes``,
    ``KeyPoints``, labels and every other leaf come back as the same objects. A float tensor
    that requires grad is blurred differentiably.

    >>> import numpy as np, augkit
    >>> blur = augkit.make("gaussian_blur", sigma=[1.0, 2.0])
    >>> blur(np.zeros((32, 32, 3), np.uint8), generator=0).shape
    (32, 32, 3)
    """

    name = "gaussian_blur"
    kinds = ("image",)
    levels = ("sample", "batch")
    params = {
        "sigma": Param(Interval(Number(0.0, VF.MAX_SIGMA, low_open=True)), (0.5, 3.0),
                       "range of the Gaussian's standard deviation, in pixels, drawn per "
                       "image; at most 1000 (a 7001-tap kernel)"),
        "kernel_size": Param(KERNEL_SIZE, "auto",
                             "auto (albumentations' rule from sigma) or a fixed odd size, at "
                             "most 7001"),
    }

    def make_params(self, data: Any, generator: torch.Generator) -> dict[str, Any]:
        n = VF.count_images(data)
        lo, hi = self.sigma
        if n == 1 and (not isinstance(data, torch.Tensor) or data.ndim == 3):
            # One image (the per-item hot path): a float, no tensor arithmetic.
            return {"sigma": lo + (hi - lo) * uniform(generator)}
        sigma = lo + (hi - lo) * torch.rand(n, generator=generator, dtype=torch.float64)
        return {"sigma": sigma}

    def sample_params(self, images: list[Any], generator: torch.Generator) -> dict[str, Any]:
        """One sigma for every image of a sample: the draw one image alone makes."""
        lo, hi = self.sigma
        return {"sigma": lo + (hi - lo) * uniform(generator)}

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        if not is_image(data):
            return apply_sample(self, data, params)
        return self.apply_image(data, params)

    def apply_image(self, image: Any, params: dict[str, Any]) -> Any:
        size = None if self.kernel_size == "auto" else int(self.kernel_size)
        return VF.gaussian_blur(image, params["sigma"], size)

    def item_params(self, batch: Any, index: int, generator: Any) -> dict[str, Any]:
        # The sigma of one image does not look at it: no need to take the item out.
        if _four_dims(batch):
            lo, hi = self.sigma
            return {"sigma": lo + (hi - lo) * uniform(as_torch(generator))}
        return super().item_params(batch, index, generator)

    def apply_items(self, batch: Any, params: Sequence[dict[str, Any] | None]) -> Any:
        """One call for the whole NCHW batch (each image blurred with its own sigma, the
        images without parameters left as they are); other batches take the items path."""
        if not isinstance(batch, torch.Tensor) or batch.ndim != 4:
            return super().apply_items(batch, params)
        size = None if self.kernel_size == "auto" else int(self.kernel_size)
        sigmas = [None if p is None else float(p["sigma"]) for p in params]
        with named(self.label()):
            return VF.gaussian_blur_some(batch, sigmas, size)


def _four_dims(batch: Any) -> bool:
    """An NCHW tensor or NHWC array: each item is one image (make_params' one-image case)."""
    return isinstance(batch, torch.Tensor | np.ndarray) and batch.ndim == 4
