"""Samples as torchvision v2 transforms take them: any structure (tuples, lists, dicts, nested)
walked with torch's pytree, as ``v2.Transform.forward`` walks it, with the image leaves
transformed and every other leaf passed through as the same object.

The image leaves follow v2's rule: every ``tv_tensors.Image``, ``tv_tensors.Video`` and PIL
image; when the sample holds none of them, only its first plain tensor (or numpy array, which
v2 leaves alone but augkit's kernels take) is the image. ``Mask``, ``BoundingBoxes``,
``KeyPoints``, labels, strings and numbers are never touched. A transform is drawn once per
call: every image leaf of the sample gets the same parameters (as v2 does).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch.utils._pytree import TreeSpec, tree_flatten, tree_unflatten

from augkit.errors import InputError
from augkit.plugins.vision._common import check_image
from augkit.plugins.vision.functional._images import _is_pil
from augkit.random import as_torch, uniform


def _tv_tensors() -> Any:
    # A tv_tensor exists only once torchvision is imported: no import on the plain path.
    return sys.modules.get("torchvision.tv_tensors")


def is_image(data: Any) -> bool:
    """The input is one image or image batch (a plain tensor, a ``tv_tensors.Image``, a numpy
    array or a PIL image): the transform's own path, no walk."""
    kind = type(data)
    if kind is torch.Tensor or kind is np.ndarray:
        return True
    if isinstance(data, torch.Tensor):
        tv = _tv_tensors()
        return tv is None or not isinstance(data, tv.TVTensor) or isinstance(data, tv.Image)
    return isinstance(data, np.ndarray) or _is_pil(data)


@dataclass
class Sample:
    """A structure's leaves (depth-first, as ``tree_flatten`` orders them), its spec, and
    the positions of its image leaves."""

    leaves: list[Any]
    spec: TreeSpec
    images: list[int]

    def image_leaves(self) -> list[Any]:
        return [self.leaves[i] for i in self.images]

    def join(self, fn: Callable[[Any], Any]) -> Any:
        """The same structure, each image leaf replaced by ``fn(leaf)``, the others as they are."""
        leaves = list(self.leaves)
        for i in self.images:
            leaves[i] = fn(leaves[i])
        return tree_unflatten(leaves, self.spec)


def split_sample(label: str, data: Any) -> Sample:
    """Flatten ``data`` and find its image leaves (v2's rule); raise InputError naming the
    transform when an image leaf is not an image, or when nothing in ``data`` is an image or a
    tv_tensor (a sample of only masks or boxes passes through, as in v2)."""
    leaves, spec = tree_flatten(data)
    tv = _tv_tensors()
    explicit = [i for i, x in enumerate(leaves) if _explicit_image(x, tv)]
    if explicit:
        images = explicit
    else:
        first = next((i for i, x in enumerate(leaves) if _plain_array(x, tv)), None)
        images = [] if first is None else [first]
    if not images and not (tv is not None and any(isinstance(x, tv.TVTensor) for x in leaves)):
        if spec.is_leaf():
            check_image(label, data)  # the image checks' own message
        raise InputError(
            f"{label}: got {type(data).__name__} holding no image; allowed: an image (numpy "
            "HWC, torch CHW/NCHW, tv_tensors.Image, PIL) or a tuple, list or dict holding one, "
            "as torchvision v2 takes (image, target)"
        )
    if explicit or spec.is_leaf():
        for i in images:
            check_image(label, leaves[i])
    elif images:
        try:
            check_image(label, leaves[images[0]])
        except InputError as exc:
            raise InputError(f"{exc} (the sample's image is its first plain tensor or array, "
                             "as torchvision v2 picks it without a tv_tensors.Image)") from None
    return Sample(leaves, spec, images)


def _explicit_image(x: Any, tv: Any) -> bool:
    if tv is not None and isinstance(x, tv.Image | tv.Video):
        return True
    return _is_pil(x)


def _plain_array(x: Any, tv: Any) -> bool:
    if isinstance(x, torch.Tensor):
        return tv is None or not isinstance(x, tv.TVTensor)
    return isinstance(x, np.ndarray)


class SampleTransform(Protocol):
    """What a vision transform provides to act on samples."""

    def label(self) -> str: ...

    @property
    def apply_probability(self) -> float: ...

    def sample_params(self, images: list[Any], generator: torch.Generator) -> dict[str, Any]:
        ...

    def apply_image(self, image: Any, params: dict[str, Any]) -> Any: ...


class SampleDispatch:
    """The one dispatch point of a vision transform that takes samples: an image (see
    :func:`is_image`) takes the transform's own path, any other structure is walked here.
    Put it before ``Transform`` in the bases; the transform provides what
    :class:`SampleTransform` lists."""

    def check_input(self, data: Any) -> None:
        if is_image(data):
            check_image(self.label(), data)
        else:
            split_sample(self.label(), data)

    def forward(self, data: Any, generator: Any) -> tuple[Any, dict[str, Any]]:
        if is_image(data):
            return super().forward(data, generator)
        return forward_sample(self, data, generator)


def forward_sample(t: SampleTransform, data: Any, generator: Any) -> tuple[Any, dict[str, Any]]:
    """``Transform.forward`` on a structure: one walk, the apply decision and one draw for the
    whole sample, every image leaf transformed with the same parameters."""
    sample = split_sample(t.label(), data)
    prob = t.apply_probability
    if prob < 1.0 and uniform(generator) >= prob:
        return data, {"applied": False}
    if not sample.images:
        return data, {"applied": True}
    # The generator make_params would be handed (Transform._draw's rule).
    draws = generator if getattr(t, "counter_draws", False) else as_torch(generator)
    params = t.sample_params(sample.image_leaves(), draws)
    return sample.join(lambda image: t.apply_image(image, params)), {"applied": True, **params}


def apply_sample(t: SampleTransform, data: Any, params: dict[str, Any]) -> Any:
    """``apply`` (a replay) on a structure with the parameters ``forward_sample`` drew."""
    sample = split_sample(t.label(), data)
    if not sample.images or not params:
        return data
    return sample.join(lambda image: t.apply_image(image, params))
