"""Vision suite: images/s of gaussian_blur, random_erasing, mixup and cutmix beside kornia,
torchvision v2 and albumentations doing the same work.

Sizes: 224x224x3 images, batch 256 (quick: 16 images of 64x64). Torch batches are float32
NCHW (kornia and torchvision's MixUp/CutMix take float images). Anchors use their per-batch or
per-image random parameters as shipped; kornia and torchvision blur with a fixed 13x13 kernel,
the size augkit's automatic rule gives at the mean sigma (1.75), so they do no more work than
augkit on average.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import torch

from augkit.benchmarks.case import Anchor, Case, device_goal

SUITE = "vision"
ANCHOR_KERNEL = 13


def _sizes(quick: bool) -> tuple[int, int]:
    return (16, 64) if quick else (256, 224)


def _torch_batch(n: int, side: int, device: str, dtype: torch.dtype = torch.float32,
                 ) -> dict[str, Any]:
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n, 3, side, side), generator=g, dtype=torch.uint8)
    x = (x.to(dtype) / 255.0 if dtype.is_floating_point else x).to(device)
    labels = torch.randint(0, 10, (n,), generator=g).to(device)
    return {"x": x, "labels": labels, "buf": torch.empty_like(x), "g": torch.Generator()}


def _numpy_images(n: int, side: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 256, (n, side, side, 3), dtype=np.uint8)
    return {"imgs": list(imgs), "buf": np.empty_like(imgs), "g": torch.Generator()}


def _copy_floor(state: dict[str, Any]) -> Any:
    if "x" in state:
        return state["buf"].copy_(state["x"])
    for i, img in enumerate(state["imgs"]):
        np.copyto(state["buf"][i], img)
    return state["buf"]


def _augkit(name: str, **params: Any) -> Any:
    import augkit

    return augkit.make(name, **params)


# ---- gaussian blur ------------------------------------------------------------------------


def _blur_cases(quick: bool, device: str) -> Iterable[Case]:
    n, side = _sizes(quick)

    def setup() -> dict[str, Any]:
        state = _torch_batch(n, side, device)
        state["blur"] = _augkit("gaussian_blur", sigma=[0.5, 3.0])
        return state

    def kornia_blur(state: dict[str, Any]) -> Any:
        t = state.get("kornia_blur")
        if t is None:
            import kornia.augmentation as K

            t = state["kornia_blur"] = K.RandomGaussianBlur(
                (ANCHOR_KERNEL, ANCHOR_KERNEL), (0.5, 3.0), p=1.0)
        return t(state["x"])

    def tv_blur(state: dict[str, Any]) -> Any:
        t = state.get("tv_blur")
        if t is None:
            from torchvision.transforms import v2

            t = state["tv_blur"] = v2.GaussianBlur(ANCHOR_KERNEL, sigma=(0.5, 3.0))
        return t(state["x"])

    yield Case(
        suite=SUITE, name="gaussian_blur/torch-batch", transforms=("gaussian_blur",),
        size=n, size_unit="images", items=n, unit="images/s", setup=setup,
        run=lambda s: s["blur"](s["x"], generator=s["g"]),
        anchors=[
            Anchor("kornia RandomGaussianBlur", kornia_blur, ("kornia",),
                   goal_ratio=device_goal(device, cpu=4.0, cuda=1.5),
                   note=f"fixed {ANCHOR_KERNEL}x{ANCHOR_KERNEL} kernel"),
            Anchor("torchvision v2 GaussianBlur", tv_blur, ("torchvision",),
                   goal_ratio=device_goal(device, cpu=4.0, cuda=1.0),
                   note="one sigma for the whole batch (vision#8484)"),
        ],
        device=device, floor=_copy_floor, min_rounds=11,
        goal=">= 4x both" if device == "cpu" else ">= 1.5x kornia, >= 1x torchvision",
        note="float32 NCHW; augkit: one sigma per image; CPU path is OpenCV per plane",
    )
    if device != "cpu":
        return

    def setup_np() -> dict[str, Any]:
        state = _numpy_images(n, side)
        state["blur"] = _augkit("gaussian_blur", sigma=[0.5, 3.0])
        return state

    def albu_blur(state: dict[str, Any]) -> Any:
        t = state.get("albu_blur")
        if t is None:
            import albumentations as A

            t = state["albu_blur"] = A.GaussianBlur(sigma_limit=(0.5, 3.0), p=1.0)
        return [t(image=img)["image"] for img in state["imgs"]]

    yield Case(
        suite=SUITE, name="gaussian_blur/numpy", transforms=("gaussian_blur",),
        size=n, size_unit="images", items=n, unit="images/s", setup=setup_np,
        run=lambda s: [s["blur"](img, generator=s["g"]) for img in s["imgs"]],
        anchors=[Anchor("albumentations GaussianBlur", albu_blur, ("albumentations",),
                        goal_ratio=device_goal(device, cpu=0.95))],
        device=device, floor=_copy_floor, note="HWC uint8, one image per call", min_rounds=15,
        goal=">= 0.95x albumentations",
    )


# ---- random erasing -----------------------------------------------------------------------


def _erasing_cases(quick: bool, device: str) -> Iterable[Case]:
    n, side = _sizes(quick)

    def setup() -> dict[str, Any]:
        state = _torch_batch(n, side, device)
        state["erase"] = _augkit("random_erasing")
        return state

    def kornia_erase(state: dict[str, Any]) -> Any:
        t = state.get("kornia_erase")
        if t is None:
            import kornia.augmentation as K

            t = state["kornia_erase"] = K.RandomErasing(
                scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0.0, p=1.0)
        return t(state["x"])

    yield Case(
        suite=SUITE, name="random_erasing/torch-batch", transforms=("random_erasing",),
        size=n, size_unit="images", items=n, unit="images/s", setup=setup,
        run=lambda s: s["erase"](s["x"], generator=s["g"]),
        anchors=[Anchor("kornia RandomErasing", kornia_erase, ("kornia",),
                        goal_ratio=device_goal(device, cpu=3.0, cuda=1.5))],
        device=device, floor=_copy_floor, note="float32 NCHW, one box per image",
        min_rounds=15, goal=">= 3x kornia" if device == "cpu" else ">= 1.5x kornia",
    )
    if device != "cpu":
        return

    def setup_np() -> dict[str, Any]:
        state = _numpy_images(n, side)
        state["erase"] = _augkit("random_erasing")
        return state

    def albu_erase(state: dict[str, Any]) -> Any:
        t = state.get("albu_erase")
        if t is None:
            import albumentations as A

            t = state["albu_erase"] = A.Erasing(scale=(0.02, 0.33), ratio=(0.3, 3.3), p=1.0)
        return [t(image=img)["image"] for img in state["imgs"]]

    yield Case(
        suite=SUITE, name="random_erasing/numpy", transforms=("random_erasing",),
        size=n, size_unit="images", items=n, unit="images/s", setup=setup_np,
        run=lambda s: [s["erase"](img, generator=s["g"]) for img in s["imgs"]],
        anchors=[Anchor("albumentations Erasing", albu_erase, ("albumentations",),
                        goal_ratio=device_goal(device, cpu=0.95))],
        device=device, floor=_copy_floor, note="HWC uint8, one image per call",
        goal=">= 0.95x albumentations",
    )


# ---- mixup and cutmix ---------------------------------------------------------------------


def _mix_cases(quick: bool, device: str) -> Iterable[Case]:
    n, side = _sizes(quick)
    for name, tv_name, alpha in (("mixup", "MixUp", 0.2), ("cutmix", "CutMix", 1.0)):

        def setup(name: str = name, alpha: float = alpha) -> dict[str, Any]:
            state = _torch_batch(n, side, device)
            state["mix"] = _augkit(name, alpha=alpha, num_classes=10)
            return state

        def tv_mix(state: dict[str, Any], tv_name: str = tv_name, alpha: float = alpha) -> Any:
            t = state.get("tv_mix")
            if t is None:
                from torchvision.transforms import v2

                t = state["tv_mix"] = getattr(v2, tv_name)(alpha=alpha, num_classes=10)
            return t(state["x"], state["labels"])

        yield Case(
            suite=SUITE, name=f"{name}/torch-batch", transforms=(name,),
            size=n, size_unit="images", items=n, unit="images/s", setup=setup,
            run=lambda s: s["mix"](s["x"], s["labels"], generator=s["g"]),
            anchors=[Anchor(f"torchvision v2 {tv_name}", tv_mix, ("torchvision",),
                            goal_ratio=device_goal(device, cpu=1.0, cuda=1.0),
                            note="pairs by roll(1), one lambda per batch")],
            device=device, floor=_copy_floor, min_rounds=15,
            goal=">= 1x torchvision, with per-image parameters",
            note="float32 NCHW, integer labels -> soft (B, 10); partners by permutation",
        )


def cases(quick: bool, device: str) -> Iterable[Case]:
    """Every case of the vision suite for ``device`` ("cpu" or "cuda")."""
    yield from _blur_cases(quick, device)
    yield from _erasing_cases(quick, device)
    yield from _mix_cases(quick, device)
