"""What the pretext transforms (rotation_pretext, jigsaw, patch_mask) share: each returns,
beside the view, what the model must predict, and this module fixes where that goes.

The rule: **the image becomes the pair ``(view, target)``, in place**.

- an image alone (numpy HWC, torch CHW, ``tv_tensors.Image``, PIL) gives ``(view, target)``;
- a batch (torch NCHW, numpy NHWC) gives ``(views, targets)``, one target per image, each
  image with its own draw;
- a sample (any structure, torchvision v2's rule for its image leaves) keeps its structure and
  every other leaf: ``(image, label)`` gives ``((view, target), label)``, a dict
  ``{"image": x, "label": y}`` gives ``{"image": (view, target), "label": y}``; one draw per
  sample, every image leaf of it turned into its pair with the same target;
- in a policy's batch stage, a bare image batch gives ``(views, targets)`` and an
  ``(images, labels)`` batch gives ``((views, targets), labels)``: exactly what
  ``default_collate`` makes of the sample stage's outputs, so a pretext step gives the same
  structure in either stage. Per-item steps after it in that stage take ``(views, targets)``
  as an ``(images, labels)`` batch (they act on the views); after
  ``((views, targets), labels)`` there is no such pair, so with an ``(images, labels)`` batch
  a pretext step is the last of its stage.

Targets are int64 (class indices) or bool (masks): a torch tensor on the image's device for
torch images, a numpy value for numpy and PIL images; all of them collate. A vision transform
after a pretext step takes the pair as a sample: it transforms the view (the pair's first
plain tensor) and passes the target through.

A pretext transform always applies (``p`` must be 1: a skipped image would have no target), so
it cannot be switched per item by ``random_apply`` or ``one_of`` in the batch stage either.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from augkit.errors import InputError, ParamError
from augkit.plugins.vision import functional as VF
from augkit.plugins.vision._common import check_image
from augkit.plugins.vision._sample import is_image, split_sample
from augkit.random import as_torch
from augkit.transform import Transform


def _is_batch(data: Any) -> bool:
    """An NCHW tensor or NHWC array: each image gets its own draw."""
    if isinstance(data, torch.Tensor):
        return data.ndim >= 4
    return isinstance(data, np.ndarray) and data.ndim == 4


def as_targets(values: np.ndarray, like: Any, batch: bool) -> Any:
    """Targets for ``like``'s images: a tensor on its device for torch, numpy otherwise; one
    per image of a batch (leading N), the value itself for one image."""
    values = np.asarray(values)
    out = values if batch else values[0]
    if isinstance(like, torch.Tensor):
        return torch.as_tensor(out).to(like.device)
    return out


class Pretext(Transform):
    """Base of the pretext transforms: put it first in the bases. A subclass provides
    ``draw(n, height, width, generator) -> {key: array with n rows}`` and
    ``apply_image(image, params) -> (view, target)``; ``geometric`` says whether a sample's
    masks, boxes and keypoints would have to move with the pixels (they are then refused)."""

    kinds = ("image",)
    levels = ("sample", "batch")
    geometric = True

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if self.apply_probability != 1.0:
            raise ParamError(
                f"{self.label()}.p: got {self.apply_probability}; allowed: 1 (a pretext "
                "transform always applies: an image it skipped would have no target)",
                param="p", value=self.apply_probability)

    # ---- draws ------------------------------------------------------------------------

    def draw(self, n: int, height: int, width: int, generator: torch.Generator) -> dict:
        raise NotImplementedError

    def make_params(self, data: Any, generator: torch.Generator) -> dict[str, Any]:
        h, w = VF.image_size(data)
        return self.draw(VF.count_images(data), h, w, generator)

    def sample_params(self, images: list[Any], generator: torch.Generator) -> dict[str, Any]:
        sizes = {VF.image_size(image) for image in images}
        if len(sizes) > 1:
            raise InputError(f"{self.label()}: images of sizes {sorted(sizes)} in one sample; "
                             "allowed: one height and width for every image of a sample (one "
                             "draw per sample)")
        h, w = sizes.pop()
        return self.draw(1, h, w, generator)

    # ---- inputs -----------------------------------------------------------------------

    def check_input(self, data: Any) -> None:
        if is_image(data):
            check_image(self.label(), data)
            return
        sample = split_sample(self.label(), data)
        tv = sys.modules.get("torchvision.tv_tensors")
        if self.geometric and tv is not None:
            for leaf in sample.leaves:
                if isinstance(leaf, tv.BoundingBoxes | tv.Mask | tv.KeyPoints):
                    raise InputError(
                        f"{self.label()}: the sample holds a tv_tensors.{type(leaf).__name__}; "
                        "allowed: images with labels or other plain leaves (boxes, masks and "
                        "keypoints would have to move with the pixels, which a pretext view "
                        "does not do)")

    # ---- the pipeline -----------------------------------------------------------------

    def forward(self, data: Any, generator: Any) -> tuple[Any, dict[str, Any]]:
        self.check_input(data)
        if is_image(data):
            params = self.make_params(data, as_torch(generator))
            return self.apply_image(data, params), {"applied": True, **params}
        sample = split_sample(self.label(), data)
        if not sample.images:
            raise InputError(f"{self.label()}: the sample holds no image to make a view of; "
                             "allowed: an image, or a structure holding one")
        params = self.sample_params(sample.image_leaves(), as_torch(generator))
        return self._apply_sample(data, params), {"applied": True, **params}

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        self.check_input(data)
        if is_image(data):
            return self.apply_image(data, params)
        return self._apply_sample(data, params)

    def _apply_sample(self, data: Any, params: dict[str, Any]) -> Any:
        sample = split_sample(self.label(), data)
        return sample.join(lambda image: self._one_draw(image, params))

    def _one_draw(self, image: Any, params: dict[str, Any]) -> Any:
        """A sample's image leaf: its draw (one row) spread over a batch leaf's images."""
        n = VF.count_images(image)
        if _is_batch(image):
            params = {k: np.repeat(np.asarray(v)[:1], n, axis=0) for k, v in params.items()}
        return self.apply_image(image, params)

    def apply_image(self, image: Any, params: dict[str, Any]) -> Any:
        raise NotImplementedError

    # ---- the batch stage --------------------------------------------------------------

    def forward_items(self, batch: Any, generators: Sequence[Any],
                      active: Sequence[bool] | None = None) -> Any:
        if active is not None and not all(active):
            raise InputError(
                f"{self.label()}: switched on for some images of a batch only (random_apply, "
                "one_of or some_of around it); allowed: a pretext step that runs on every "
                "image, as every image needs its target")
        return super().forward_items(batch, generators, active)

    def apply_items(self, batch: Any, params: Sequence[dict[str, Any] | None]) -> Any:
        """Every image of an NCHW / NHWC batch with its own draw, in one call; a list of
        images gives the list of their pairs."""
        if isinstance(batch, list):
            return [self.apply(item, p) for item, p in zip(batch, params, strict=True)]
        if not _is_batch(batch):
            raise InputError(f"{self.label()}: batch stage got {type(batch).__name__} of "
                             f"shape {getattr(batch, 'shape', '?')}; allowed: an NCHW tensor, "
                             "an NHWC array or a list of images")
        rows = [p for p in params if p is not None]
        stacked = {k: np.concatenate([np.asarray(p[k]) for p in rows]) for k in rows[0]}
        return self.apply_image(batch, stacked)
