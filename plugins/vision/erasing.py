"""random_erasing: erase one (or ``count``) random boxes per image."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from augkit.errors import InputError
from augkit.params import Choice, Integer, Interval, Number, Param
from augkit.plugins.vision import functional as VF
from augkit.plugins.vision._common import named
from augkit.plugins.vision._sample import SampleDispatch, apply_sample, is_image
from augkit.random import as_torch, draw_seed
from augkit.transform import Transform

#: ratio's upper bound: a box a million times taller than wide never fits an image; an
#: infinite ratio has no log-uniform law.
MAX_RATIO = 1e6


class RandomErasing(SampleDispatch, Transform):
    """Random erasing (Zhong et al. 2017) with boxes drawn per image.

    Box sampling follows torchvision ``RandomErasing``: area ~ U(scale) of the image, aspect
    ratio h/w log-uniform in ``ratio``, up to 10 attempts until the box fits, else the image is
    left as it is (albumentations 2.0.8 ``Erasing`` instead derives a single draw that always
    fits and reads ``ratio`` as w/h). Each of ``count`` boxes is drawn on its own.

    ``value``: ``zero``; ``mean`` (the image's own per-channel mean); ``random`` (per-pixel
    uniform over [0, 255] for uint8, [0, 1) for float, as albumentations' ``fill="random"``;
    torchvision's ``value="random"`` draws N(0, 1), which suits normalised tensors only).
    Numpy images are filled exactly as albumentations' ``cutout`` fills them. An image without
    pixels (an empty batch, or height or width 0) comes back as it is, a copy, as torchvision
    v2 returns it.

    A sample such as ``(image, {"boxes": ..., "masks": ...})`` follows torchvision v2's rules:
    the same boxes are erased in every image leaf (which must share one height and width);
    ``Mask``, ``BoundingBoxes``, ``KeyPoints``, labels and every other leaf come back as the
    same objects, unerased (v2 ``RandomErasing`` passes them through too).
    """

    name = "random_erasing"
    kinds = ("image",)
    levels = ("sample", "batch")
    params = {
        "scale": Param(Interval(Number(0.0, 1.0, low_open=True)), (0.02, 0.33),
                       "range of the erased area, as a fraction of the image"),
        "ratio": Param(Interval(Number(0.0, MAX_RATIO, low_open=True)), (0.3, 3.3),
                       "range of the box's aspect ratio h / w (log-uniform); at most 1e6"),
        "value": Param(Choice("zero", "random", "mean"), "zero",
                       "what fills the box: zero, random (per pixel) or the image's mean"),
        "count": Param(Integer(1, 64), 1, "boxes per image, each drawn independently"),
    }

    def make_params(self, data: Any, generator: torch.Generator) -> dict[str, Any]:
        n = VF.count_images(data)
        h, w = VF.image_size(data)
        boxes = VF.sample_erasing_boxes(generator, n, h, w, self.scale, self.ratio, self.count)
        params: dict[str, Any] = {"boxes": boxes}
        if self.value == "random":
            params["seed"] = draw_seed(generator)
        return params

    def sample_params(self, images: list[Any], generator: torch.Generator) -> dict[str, Any]:
        """One image's boxes (and seed) for every image of a sample: the draw one image alone
        makes."""
        sizes = {VF.image_size(image) for image in images}
        if len(sizes) > 1:
            raise InputError(f"{self.label()}: images of sizes {sorted(sizes)} in one sample; "
                             "allowed: one height and width for every image (the boxes are "
                             "drawn once per sample, as in torchvision v2)")
        h, w = sizes.pop()
        boxes = VF.sample_erasing_boxes(generator, 1, h, w, self.scale, self.ratio, self.count)
        params: dict[str, Any] = {"boxes": boxes}
        if self.value == "random":
            params["seed"] = draw_seed(generator)
        return params

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        if not is_image(data):
            return apply_sample(self, data, params)
        return VF.erase(data, params["boxes"], self.value, params.get("seed", 0))

    def apply_image(self, image: Any, params: dict[str, Any]) -> Any:
        boxes = params["boxes"]
        n = VF.count_images(image)
        if boxes.shape[0] != n:
            # A batch leaf (a video's frames) gets the sample's boxes in each of its images.
            boxes = boxes.reshape(-1, boxes.shape[-2], 4)[:1].expand(n, -1, -1)
        return VF.erase(image, boxes, self.value, params.get("seed", 0))

    def item_params(self, batch: Any, index: int, generator: Any) -> dict[str, Any]:
        # Boxes need only the image's size: no need to take the item out.
        if not isinstance(batch, torch.Tensor | np.ndarray) or batch.ndim != 4:
            return super().item_params(batch, index, generator)
        h, w = VF.image_size(batch)
        generator = as_torch(generator)  # what make_params is handed (it draws with torch)
        boxes = VF.sample_erasing_boxes(generator, 1, h, w, self.scale, self.ratio, self.count)
        params: dict[str, Any] = {"boxes": boxes}
        if self.value == "random":
            params["seed"] = draw_seed(generator)
        return params

    def apply_items(self, batch: Any, params: Sequence[dict[str, Any] | None]) -> Any:
        """One call for the whole NCHW batch (each image its own boxes and, for ``random``,
        its own seed; the images without parameters left as they are); other batches take
        the items path."""
        if not isinstance(batch, torch.Tensor) or batch.ndim != 4:
            return super().apply_items(batch, params)
        boxes = [None if p is None else p["boxes"] for p in params]
        seeds = [None if p is None else p.get("seed", 0) for p in params]
        with named(self.label()):
            return VF.erase_some(batch, boxes, self.value, seeds)
