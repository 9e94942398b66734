"""Self-supervised image views: images/s of rotation_pretext, patch_mask and jigsaw beside
what a user would write instead: ``torch.rot90`` image by image or kornia's
``RandomRotation90`` (an affine warp), MAE's masking in plain torch, a jigsaw by slicing.

Sizes: float32 NCHW batches of 256 images of 224x224 (quick: 16 of 64x64); patches of 16,
a 3x3 jigsaw grid. Every contender draws its own per-image parameters each call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from augkit.benchmarks.case import Anchor, Case

SUITE = "ssl_vision"
PATCH = 16
GRID = 3


def _sizes(quick: bool) -> tuple[int, int]:
    return (16, 64) if quick else (256, 224)


def _setup(n: int, side: int, device: str, name: str, **params: Any) -> Any:
    def setup() -> dict[str, Any]:
        import augkit

        g = torch.Generator().manual_seed(0)
        x = torch.rand((n, 3, side, side), generator=g).to(device)
        return {"x": x, "buf": torch.empty_like(x), "g": torch.Generator().manual_seed(1),
                "t": augkit.make(name, **params)}

    return setup


def _floor(state: dict[str, Any]) -> Any:
    return state["buf"].copy_(state["x"])


def _augkit(state: dict[str, Any]) -> Any:
    return state["t"](state["x"], generator=state["g"])


# ---- anchors ---------------------------------------------------------------------------


def rot90_loop(state: dict[str, Any]) -> Any:
    x = state["x"]
    k = torch.randint(4, (x.shape[0],), generator=state["g"])
    views = torch.stack([torch.rot90(img, int(turns), (-2, -1))
                         for img, turns in zip(x, k.tolist(), strict=True)])
    return views, k.to(x.device)


def kornia_rotation90(state: dict[str, Any]) -> Any:
    t = state.get("kornia")
    if t is None:
        import kornia.augmentation as K

        t = state["kornia"] = K.RandomRotation90(times=(0, 3), p=1.0)
    return t(state["x"])


def mae_fill(state: dict[str, Any]) -> Any:
    """MAE's random_masking (noise, argsort, the lowest kept), the mask turned into pixels."""
    x = state["x"]
    n, _, h, w = x.shape
    gh, gw = h // PATCH, w // PATCH
    L = gh * gw
    keep = int(L * (1 - 0.75))
    noise = torch.rand(n, L, generator=state["g"]).to(x.device)
    ids = torch.argsort(noise, dim=1)
    mask = torch.ones(n, L, dtype=torch.bool, device=x.device)
    mask.scatter_(1, ids[:, :keep], False)
    pixels = mask.view(n, 1, gh, 1, gw, 1).expand(n, 1, gh, PATCH, gw, PATCH).reshape(n, 1, h, w)
    return torch.where(pixels, torch.zeros((), device=x.device), x), mask


def mae_kept(state: dict[str, Any]) -> Any:
    """MAE's patchify and random_masking as models_mae.py writes them."""
    x = state["x"]
    n, c, h, w = x.shape
    gh = h // PATCH
    t = x.reshape(n, c, gh, PATCH, gh, PATCH)
    t = torch.einsum("nchpwq->nhwpqc", t).reshape(n, gh * gh, PATCH * PATCH * c)
    L = gh * gh
    keep = int(L * (1 - 0.75))
    noise = torch.rand(n, L, generator=state["g"]).to(x.device)
    ids = torch.argsort(noise, dim=1)
    ids_keep = ids[:, :keep]
    kept = torch.gather(t, 1, ids_keep.unsqueeze(-1).expand(-1, -1, t.shape[-1]))
    mask = torch.ones(n, L, device=x.device)
    mask[:, :keep] = 0
    return kept, torch.gather(mask, 1, torch.argsort(ids, dim=1))


def jigsaw_slices(state: dict[str, Any]) -> Any:
    """Per image: cut the tiles by slicing, concatenate them in a drawn permutation's order."""
    x = state["x"]
    perms = state["t"].permutation_set
    n, _, h, w = x.shape
    ch, cw = h // GRID, w // GRID
    index = torch.randint(len(perms), (n,), generator=state["g"]).tolist()
    out = []
    for img, k in zip(x, index, strict=True):
        tiles = [img[:, r * ch:(r + 1) * ch, c * cw:(c + 1) * cw]
                 for r in range(GRID) for c in range(GRID)]
        order = [tiles[j] for j in perms[k]]
        rows = [torch.cat(order[r * GRID:(r + 1) * GRID], -1) for r in range(GRID)]
        out.append(torch.cat(rows, -2))
    return torch.stack(out), torch.tensor(index, device=x.device)


# ---- cases -----------------------------------------------------------------------------


def cases(quick: bool, device: str) -> Iterable[Case]:
    """rotation_pretext, patch_mask (filled and kept-only) and jigsaw on one float batch."""
    n, side = _sizes(quick)
    common = {"size": n, "size_unit": "images", "items": n, "unit": "images/s",
              "device": device, "floor": _floor, "suite": SUITE}
    yield Case(
        name="rotation_pretext/torch-batch", transforms=("rotation_pretext",),
        setup=_setup(n, side, device, "rotation_pretext"), run=_augkit,
        anchors=[
            Anchor("torch.rot90 per image", rot90_loop, goal_ratio=1.0),
            Anchor("kornia RandomRotation90", kornia_rotation90, ("kornia",), goal_ratio=1.0,
                   note="an affine warp (interpolates), no label returned"),
        ],
        goal=">= 1x both", note="float32 NCHW; one angle per image, labels returned",
        **common)
    yield Case(
        name="patch_mask/fill", transforms=("patch_mask",),
        setup=_setup(n, side, device, "patch_mask", patch=PATCH), run=_augkit,
        anchors=[Anchor("MAE masking in plain torch", mae_fill, goal_ratio=1.0)],
        goal=">= 1x", note="16x16 patches, ratio 0.75, masked patches set to 0", **common)
    yield Case(
        name="patch_mask/kept", transforms=("patch_mask",),
        setup=_setup(n, side, device, "patch_mask", patch=PATCH, output="kept"), run=_augkit,
        anchors=[Anchor("MAE patchify + random_masking", mae_kept, goal_ratio=1.0)],
        goal=">= 1x", note="16x16 patches, ratio 0.75, kept tokens only", **common)
    yield Case(
        name="jigsaw/torch-batch", transforms=("jigsaw",),
        setup=_setup(n, side, device, "jigsaw", grid=GRID), run=_augkit,
        anchors=[Anchor("tile slicing per image", jigsaw_slices, goal_ratio=1.0)],
        goal=">= 1x", note="3x3 grid, 100 permutations, no gap", **common)
