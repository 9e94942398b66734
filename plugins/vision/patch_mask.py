"""patch_mask: MAE's random patch masking, the view with its boolean patch mask."""

from __future__ import annotations

from typing import Any

import torch

from augkit.params import Choice, Integer, Number, Param, Probability
from augkit.plugins.vision import functional as VF
from augkit.plugins.vision._common import named
from augkit.plugins.vision._pretext import Pretext, _is_batch, as_targets

#: The largest fill value's magnitude (a float image may hold any scale).
MAX_VALUE = 1e6


class PatchMask(Pretext):
    """Masked autoencoders (He et al. 2022): the image is cut into ``patch`` x ``patch``
    patches (height and width must be multiples of ``patch``), and exactly
    ``round(ratio * L)`` of its ``L`` patches are masked, drawn per image as MAE draws them
    (uniform noise per patch, the lowest kept). Returns ``(view, mask)``, ``mask`` boolean
    ``(L,)`` per image (``(N, L)`` for a batch), True where masked, patches numbered row by
    row.

    ``output: fill`` gives the image with its masked patches set to ``value`` (cast to the
    image's dtype: an integer in range for uint8); ``output: kept`` gives the kept patches
    only, ``(L_keep, patch * patch * C)`` per image in patch order, each flattened as MAE's
    ``patchify`` (rows, columns, channels), whatever the image layout: the mask says where
    each goes back (``~mask`` in order).

    Output structure (samples, the batch stage, targets' types): see
    :mod:`augkit.plugins.vision._pretext`. A sample's masks, boxes and keypoints pass through
    (nothing moves).

    >>> import torch, augkit
    >>> view, mask = augkit.make("patch_mask", patch=4)(torch.rand(3, 8, 8), generator=0)
    >>> mask.shape, int(mask.sum())
    (torch.Size([4]), 3)
    """

    name = "patch_mask"
    geometric = False
    params = {
        "patch": Param(Integer(1, 4096), 16, "side of the square patches, in pixels"),
        "ratio": Param(Probability(), 0.75, "fraction of the patches masked (rounded)"),
        "output": Param(Choice("fill", "kept"), "fill",
                        "fill: the image with masked patches set to value; kept: the kept "
                        "patches only"),
        "value": Param(Number(-MAX_VALUE, MAX_VALUE), 0.0,
                       "what masked patches are filled with (output: fill)"),
    }

    def draw(self, n: int, height: int, width: int, generator: torch.Generator) -> dict:
        with named(self.label()):
            rows, cols = VF.patch_grid(height, width, self.patch)
        return {"mask": VF.sample_patch_masks(generator, n, rows * cols, self.ratio)}

    def apply_image(self, image: Any, params: dict[str, Any]) -> Any:
        mask = params["mask"]
        with named(self.label()):
            if self.output == "fill":
                view = VF.fill_patches(image, mask, self.patch, self.value)
            else:
                view = VF.kept_patches(image, mask, self.patch)
        batch = _is_batch(image)
        if batch and isinstance(image, torch.Tensor):
            mask = mask.reshape(*image.shape[:-3], mask.shape[-1])
        return view, as_targets(mask, image, batch)
