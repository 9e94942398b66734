"""mixup and cutmix: batch-level, on (images, labels), labels returned soft."""

from __future__ import annotations

from typing import Any

import torch

from augkit.params import Boolean, Integer, Nullable, Number, Param
from augkit.plugins.vision import functional as VF
from augkit.plugins.vision._common import named, split_batch, target_labels, with_labels
from augkit.random import uniform
from augkit.transform import Transform

#: alpha's upper bound: Beta(alpha, alpha) is then 0.5 within about 1e-3, what any larger
#: (or an infinite, whose draws are NaN) alpha would mean.
MAX_ALPHA = 1e6


def _alpha(default: float) -> Param:
    return Param(Number(0.0, MAX_ALPHA, low_open=True), default,
                 "Beta(alpha, alpha) of lambda; at most 1e6 (lambda is then 0.5 within 1e-3)")


_COMMON = {
    "num_classes": Param(Nullable(Integer(1, None)), None,
                         "number of classes; needed when labels are integer class ids"),
    "per_sample_lambda": Param(Boolean(), False,
                               "draw lambda per image (true) or once per batch (false)"),
}


class _Mix(Transform):
    """Shared by mixup and cutmix: partners are a random permutation of the batch (torchvision
    pairs by ``roll(1)``, which needs a shuffled loader); labels come back as soft labels
    ``(B, num_classes)``, also when the apply probability skips the batch, so the loss always
    sees one label format. An empty batch gives an empty batch and ``(0, num_classes)`` labels,
    as torchvision v2 MixUp and CutMix do.

    The labels may also come in a target dict, ``(images, {"labels": labels, ...})``: its
    labels are mixed, its other entries passed through as the same objects (v2's rule); a
    dict holding boxes, masks or keypoints is refused."""

    kinds = ("image",)
    levels = ("batch",)

    def check_input(self, data: Any) -> None:
        self._unpack(data)

    def _unpack(self, data: Any) -> tuple[torch.Tensor, Any, Any]:
        """``(images, labels, key)``: key is where the labels sit in a target dict, else None."""
        images, target = split_batch(self.label(), data)
        labels, key = target_labels(self.label(), target)
        return images, labels, key

    def _pack(self, data: Any, images: torch.Tensor, soft: torch.Tensor, key: Any) -> Any:
        return type(data)((images, with_labels(data[1], key, soft)))

    def _lambdas(self, n: int, generator: torch.Generator) -> torch.Tensor:
        lam = VF.sample_beta(generator, self.alpha, n if self.per_sample_lambda else 1)
        return lam if self.per_sample_lambda else lam.expand(n)

    def _soft_only(self, data: Any) -> Any:
        images, labels, key = self._unpack(data)
        with named(self.label()):
            soft = VF.to_soft_labels(labels, self.num_classes, images.shape[0])
        return self._pack(data, images, soft, key)

    def forward(self, data: Any, generator: Any) -> tuple[Any, dict[str, Any]]:
        self.check_input(data)
        prob = self.apply_probability
        if prob < 1.0 and uniform(generator) >= prob:
            return self._soft_only(data), {"applied": False}
        params = self._draw(data, generator)
        return self.apply(data, params), {"applied": True, **params}

    def replay(self, data: Any, params: dict[str, Any]) -> Any:
        if not params.get("applied", True):
            return self._soft_only(data)
        return super().replay(data, params)


class MixUp(_Mix):
    """mixup (Zhang et al. 2018): ``lam * x + (1 - lam) * x[perm]``, lam ~ Beta(alpha, alpha)
    drawn from the given generator (once per batch, or per image with ``per_sample_lambda``).

    >>> import torch, augkit
    >>> mix = augkit.make("mixup", alpha=0.2, num_classes=3)
    >>> x, y = mix(torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 2, 0]), generator=0)
    >>> y.shape, bool(torch.allclose(y.sum(1), torch.ones(4)))
    (torch.Size([4, 3]), True)
    """

    name = "mixup"
    params = {
        "alpha": _alpha(0.2),
        **_COMMON,
    }

    def make_params(self, data: Any, generator: torch.Generator) -> dict[str, Any]:
        n = data[0].shape[0]
        perm = torch.randperm(n, generator=generator)
        return {"perm": perm, "lam": self._lambdas(n, generator)}

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        images, labels, key = self._unpack(data)
        with named(self.label()):
            out, soft = VF.mixup(images, labels, params["perm"], params["lam"], self.num_classes)
        return self._pack(data, out, soft, key)


class CutMix(_Mix):
    """CutMix (Yun et al. 2019): image i gets the box of its partner ``perm[i]``; box side
    ``sqrt(1 - lam)`` of the image, centre uniform per image, clipped at the border; the label
    weight is the exact kept area after clipping. lam ~ Beta(alpha, alpha), once per batch (each
    image still gets its own box position) or per image with ``per_sample_lambda``. Images of
    height or width 0 raise ``InputError`` (the box is a fraction of an area there is not; as
    torchvision v2 CutMix, which fails on them).
    """

    name = "cutmix"
    params = {
        "alpha": _alpha(1.0),
        **_COMMON,
    }

    def check_input(self, data: Any) -> None:
        images, _, _ = self._unpack(data)
        with named(self.label()):
            VF.check_area(images.shape)

    def make_params(self, data: Any, generator: torch.Generator) -> dict[str, Any]:
        images = data[0]
        n, h, w = images.shape[0], images.shape[-2], images.shape[-1]
        perm = torch.randperm(n, generator=generator)
        boxes, lam = VF.sample_cutmix_boxes(generator, self._lambdas(n, generator), h, w)
        return {"perm": perm, "boxes": boxes, "lam": lam}

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        images, labels, key = self._unpack(data)
        with named(self.label()):
            out, soft = VF.cutmix(images, labels, params["perm"], params["boxes"],
                                  self.num_classes)
        return self._pack(data, out, soft, key)
