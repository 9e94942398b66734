"""Pipeline overhead: the per-call cost of a Compose of cheap transforms on a tiny image,
augkit against albumentations ``Compose`` and torchvision v2 ``Compose`` of the same shape.

The transforms do (almost) nothing, so what is timed is the machinery around them: drawing
each transform's parameters, deciding whether it applies, dispatching, collecting replayable
parameters. Goal: augkit's per-call overhead no larger than albumentations'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from augkit.benchmarks.case import Anchor, Case
from augkit.compose import Compose
from augkit.transform import Transform

SUITE = "pipeline"
GOAL = "per-call overhead ≤ albumentations' (ratio vs albumentations ≥ 1)"
_HW = 32  # a tiny image: the work per transform stays negligible next to the overhead


class _Noop(Transform):
    """Returns its input: the cost of a call is all overhead."""

    name = "bench.noop"
    kinds = ("image",)

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        return data


class _HFlip(Transform):
    """Flips an HWC numpy image left-right into a new array with ``cv2.flip``, the kernel
    albumentations' ``HorizontalFlip`` calls (albucore.hflip), so that the two pipelines
    differ only in their machinery (numpy's reversed-stride copy is slower on small images
    and would be counted against augkit)."""

    name = "bench.hflip"
    kinds = ("image",)

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        import cv2

        return cv2.flip(data, 1)


def _setup() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (_HW, _HW, 3), dtype=np.uint8)
    g = torch.Generator()
    g.manual_seed(0)
    return {"img": img, "tensor": torch.from_numpy(img).permute(2, 0, 1).contiguous(), "g": g,
            "index": 0}


def _cached(state: dict[str, Any], key: str, build: Callable[[], Any]) -> Any:
    # Anchor pipelines are built on their first (warm-up) call, so a missing library only
    # skips its anchor instead of failing the case's setup.
    obj = state.get(key)
    if obj is None:
        obj = state[key] = build()
    return obj


def _anchors(n: int, kind: str) -> list[Anchor]:
    def alb_build() -> Any:
        import albumentations as A

        if kind == "noop":
            return A.Compose([A.NoOp(p=1.0) for _ in range(n)], seed=0)
        return A.Compose([A.HorizontalFlip(p=0.5) for _ in range(n)], seed=0)

    def tv_build() -> Any:
        from torchvision.transforms import v2

        if kind == "noop":
            return v2.Compose([v2.Identity() for _ in range(n)])
        return v2.Compose([v2.RandomHorizontalFlip(p=0.5) for _ in range(n)])

    def alb(state: dict[str, Any]) -> Any:
        return _cached(state, "alb", alb_build)(image=state["img"])["image"]

    def tv(state: dict[str, Any]) -> Any:
        return _cached(state, "tv", tv_build)(state["tensor"])

    what = "NoOp(p=1)" if kind == "noop" else "HorizontalFlip(p=0.5)"
    tv_what = "Identity()" if kind == "noop" else "RandomHorizontalFlip(p=0.5)"
    return [
        Anchor(f"albumentations Compose of {n} {what}", alb, requires=("albumentations",),
               goal_ratio=1.0),
        Anchor(f"torchvision v2 Compose of {n} {tv_what}", tv, requires=("torchvision",),
               note="works on a CHW uint8 tensor (its native type) of the same image"),
    ]


def _compose_case(n: int, kind: str) -> Case:
    cls = _Noop if kind == "noop" else _HFlip
    p = 1.0 if kind == "noop" else 0.5

    def setup() -> dict[str, Any]:
        state = _setup()
        state["aug"] = Compose([cls(p=p) for _ in range(n)])
        return state

    def run(state: dict[str, Any]) -> Any:
        return state["aug"](state["img"], generator=state["g"])

    return Case(
        suite=SUITE, name=f"compose/{kind}", transforms=("compose",), size=n,
        size_unit="transforms", items=1, unit="calls/s", setup=setup, run=run,
        anchors=_anchors(n, kind), goal=GOAL, requires=("cv2",) if kind == "hflip" else (),
        note=(f"a {_HW}x{_HW}x3 uint8 image; augkit gets one torch.Generator for the whole "
              "run, as albumentations' Compose(seed=0) keeps one generator"),
    )


def _policy_case(n: int) -> Case:
    def setup() -> dict[str, Any]:
        from augkit.policy import Policy

        state = _setup()
        state["policy"] = Policy(sample=[_HFlip(p=0.5) for _ in range(n)], seed=0)
        return state

    def run(state: dict[str, Any]) -> Any:
        state["index"] += 1
        return state["policy"](state["img"], index=state["index"])

    return Case(
        suite=SUITE, name="policy/hflip", transforms=("compose",), size=n,
        size_unit="transforms", items=1, unit="calls/s", setup=setup, run=run,
        anchors=_anchors(n, "hflip"), goal=GOAL, requires=("cv2",),
        note=("policy(image, index=i): every call derives its own stream from (seed, epoch, "
              "index), so any item replays alone in any loader worker; the anchors draw from "
              "one generator held by the pipeline"),
    )


def cases(quick: bool, device: str) -> Iterator[Case]:
    if device != "cpu":  # per-call overhead is CPU work whatever the device of the data
        return
    sizes = (10,) if quick else (1, 10, 30)
    for kind in ("noop", "hflip"):
        for n in sizes:
            yield _compose_case(n, kind)
    for n in sizes:
        yield _policy_case(n)
