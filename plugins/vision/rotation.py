"""rotation_pretext: RotNet's pretext task, a right-angle rotation and its class."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from augkit.params import Boolean, Choice, Custom, ListOf, Param
from augkit.plugins.vision import functional as VF
from augkit.plugins.vision._common import named
from augkit.plugins.vision._pretext import Pretext, _is_batch, as_targets


def _distinct(value: Any) -> tuple[int, ...]:
    angles = ListOf(Choice(*VF.RIGHT_ANGLES), 1, 4).check(value)
    if len(set(angles)) != len(angles):
        raise ValueError(value)
    return angles


class RotationPretext(Pretext):
    """RotNet (Gidaris et al. 2018): each image is rotated counterclockwise by an angle drawn
    uniformly from ``angles`` (exactly, by moving pixels: ``torch.rot90`` / ``np.rot90``) and
    comes back as ``(view, label)``, ``label`` the angle's index in ``angles`` (0..3 for the
    default ``[0, 90, 180, 270]``). A batch draws one angle per image.

    ``all: true`` returns every rotation of each image instead, with labels ``0..len(angles)-1``:
    an image gives ``(views (K, ...), labels (K,))``, a batch of N gives ``(views (N*K, ...),
    labels (N*K,))``, image by image, RotNet's training batch. It draws nothing and changes
    the number of images, so in a policy it is the last step of its stage.

    Output structure (samples, the batch stage, targets' types): see
    :mod:`augkit.plugins.vision._pretext`. Non-square images in one batch are refused when
    some would turn by 90 degrees and others not (two shapes).

    >>> import torch, augkit
    >>> view, label = augkit.make("rotation_pretext")(torch.rand(3, 8, 8), generator=0)
    >>> view.shape, label.dtype
    (torch.Size([3, 8, 8]), torch.int64)
    """

    name = "rotation_pretext"
    params = {
        "angles": Param(
            Custom(_distinct, "a list of 1 to 4 distinct angles from 0, 90, 180, 270",
                   {"type": "array", "items": {"enum": list(VF.RIGHT_ANGLES)},
                    "minItems": 1, "maxItems": 4, "uniqueItems": True}),
            (0, 90, 180, 270),
            "angles drawn from (degrees, counterclockwise); the label is the angle's index"),
        "all": Param(Boolean(), False,
                     "return every rotation of each image with its label (RotNet's batch)"),
    }

    def draw(self, n: int, height: int, width: int, generator: torch.Generator) -> dict:
        if self.all:
            return {}
        index = torch.randint(len(self.angles), (n,), generator=generator)
        return {"label": index.numpy()}

    def apply_image(self, image: Any, params: dict[str, Any]) -> Any:
        turns = [a // 90 for a in self.angles]
        with named(self.label()):
            if self.all:
                views = VF.rotations_of(image, turns)
                n = VF.count_images(image)
                labels = np.tile(np.arange(len(turns), dtype=np.int64), n)
                return views, as_targets(labels, image, True)
            labels = np.asarray(params["label"], dtype=np.int64)
            k = np.asarray(turns, dtype=np.int64)[labels]
            if not _is_batch(image):
                return VF.rot90(image, int(k[0])), as_targets(labels, image, False)
            if isinstance(image, torch.Tensor) and image.ndim > 4:
                flat = VF.rot90_each(image.reshape(-1, *image.shape[-3:]), k)
                view = flat.reshape(*image.shape[:-2], *flat.shape[-2:])
                return view, as_targets(labels.reshape(image.shape[:-3]), image, True)
            return VF.rot90_each(image, k), as_targets(labels, image, True)

    def forward_items(self, batch: Any, generators: Any, active: Any = None) -> Any:
        if self.all:
            # Draws nothing: every image, all its rotations.
            self.check_input(batch)
            return self.apply_image(batch, {})
        return super().forward_items(batch, generators, active)
