"""patch_mask: exactly round(ratio * L) patches masked per image, masked patches filled and
the others untouched, kept-only shapes and tokens (MAE's patchify), uniform patch choice."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import augkit
from augkit.errors import InputError, ParamError
from augkit.plugins.vision import functional as VF


@st.composite
def cases(draw):
    patch = draw(st.integers(1, 4))
    gh, gw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n, c = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    x = torch.randint(1, 256, (n, c, gh * patch, gw * patch), dtype=torch.uint8,
                      generator=torch.Generator().manual_seed(seed))
    ratio = draw(st.floats(0, 1))
    return x, patch, ratio


def _pixel_mask(mask, patch, h, w):
    gh, gw = h // patch, w // patch
    return mask.reshape(-1, gh, gw).repeat_interleave(patch, 1).repeat_interleave(patch, 2)


@given(cases(), st.integers(0, 2**31))
def test_exact_count_and_filled_patches(case, seed):
    x, patch, ratio = case
    before = x.clone()
    view, mask = augkit.make("patch_mask", patch=patch, ratio=ratio, value=7)(x, generator=seed)
    assert torch.equal(x, before)
    n, _, h, w = x.shape
    L = (h // patch) * (w // patch)
    assert mask.dtype == torch.bool and mask.shape == (n, L)
    assert mask.sum(1).tolist() == [round(ratio * L)] * n
    pixels = _pixel_mask(mask, patch, h, w)[:, None].expand_as(x)
    assert (view[pixels] == 7).all()
    assert torch.equal(view[~pixels], x[~pixels])


@pytest.mark.parametrize("layout", ["chw", "channels_last", "two_leading_dims"])
def test_fill_is_the_same_for_every_layout_of_the_pixels(layout):
    """One image, a channels_last batch and a batch with two leading dims fill the patches a
    contiguous NCHW batch fills (the patch grid is a view of any of them)."""
    x = torch.rand(4, 3, 6, 8, generator=torch.Generator().manual_seed(3))
    mask = torch.rand(4, 12, generator=torch.Generator().manual_seed(4)) < 0.5
    want = torch.where(_pixel_mask(mask, 2, 6, 8)[:, None], torch.tensor(-1.0), x)
    if layout == "chw":
        got = VF.fill_patches(x[1], mask[1], 2, -1.0)
        assert torch.equal(got, want[1])
        return
    if layout == "channels_last":
        y = x.contiguous(memory_format=torch.channels_last)
        assert torch.equal(VF.fill_patches(y, mask, 2, -1.0), want)
        return
    got = VF.fill_patches(x.view(2, 2, 3, 6, 8), mask, 2, -1.0)
    assert torch.equal(got, want.view(2, 2, 3, 6, 8))


@pytest.mark.parametrize("layout", ["chw", "nchw", "two_leading_dims", "nhwc", "hwc", "hw"])
def test_kept_patches_are_the_unmasked_tokens_of_every_layout(layout):
    """The kept patches, picked from the patch axes, are the rows of the patchified image
    that the mask keeps, whatever the layout of the pixels."""
    g = np.random.default_rng(5)
    shapes = {"chw": (3, 8, 12), "nchw": (4, 3, 8, 12), "two_leading_dims": (2, 2, 3, 8, 12),
              "nhwc": (4, 8, 12, 3), "hwc": (8, 12, 3), "hw": (8, 12)}
    x = g.random(shapes[layout]).astype(np.float32)
    if layout in ("chw", "nchw", "two_leading_dims"):
        x = torch.from_numpy(x)
    tokens = VF.patchify(x, 4)
    flat = np.asarray(tokens).reshape(-1, 6, tokens.shape[-1])
    mask = np.ones((flat.shape[0], 6), dtype=bool)
    for row in mask:
        row[g.choice(6, 2, replace=False)] = False
    got = np.asarray(VF.kept_patches(x, mask if flat.shape[0] > 1 else mask[0], 4))
    want = np.stack([f[~m] for f, m in zip(flat, mask, strict=True)])
    assert np.array_equal(got.reshape(want.shape), want)
    assert got.shape == (*tokens.shape[:-2], 2, tokens.shape[-1])


def test_a_large_filled_batch_is_a_new_tensor_the_next_call_leaves_alone():
    """Large outputs come from recycled memory: one still held is never handed out again, and
    the input is never written."""
    x = torch.rand(8, 3, 256, 352, generator=torch.Generator().manual_seed(0))
    before = x.clone()
    t = augkit.make("patch_mask", patch=16, value=-1.0)
    first, mask = t(x, generator=0)
    kept = first.clone()
    second, _ = t(x, generator=1)
    assert torch.equal(first, kept) and not torch.equal(first, second)
    assert torch.equal(x, before)
    assert (first.view(8, 3, 16, 16, 22, 16).transpose(3, 4)[
        mask.view(8, 1, 16, 22).expand(8, 3, 16, 22)] == -1).all()


def _mae_patchify(imgs, p):
    # MAE's models_mae.patchify, verbatim but for the names.
    h = w = imgs.shape[2] // p
    x = imgs.reshape(imgs.shape[0], imgs.shape[1], h, p, w, p)
    x = torch.einsum("nchpwq->nhwpqc", x)
    return x.reshape(imgs.shape[0], h * w, p**2 * imgs.shape[1])


@given(cases(), st.integers(0, 2**31))
def test_kept_patches_are_the_unmasked_tokens(case, seed):
    x, patch, ratio = case
    t = augkit.make("patch_mask", patch=patch, ratio=ratio, output="kept")
    tokens, mask = t(x, generator=seed)
    n, c, h, w = x.shape
    L = (h // patch) * (w // patch)
    keep = L - round(ratio * L)
    assert tokens.shape == (n, keep, patch * patch * c)
    every = VF.patchify(x, patch)
    for i in range(n):
        assert torch.equal(tokens[i], every[i][~mask[i]])
    if h == w:
        assert torch.equal(every, _mae_patchify(x, patch))
    # numpy NHWC gives the same tokens and masks from the same seed.
    np_tokens, np_mask = t(x.permute(0, 2, 3, 1).numpy().copy(), generator=seed)
    np.testing.assert_array_equal(np_mask, mask.numpy())
    np.testing.assert_array_equal(np_tokens, tokens.numpy())


def test_masked_positions_are_uniform():
    n = 2000
    _, mask = augkit.make("patch_mask", patch=1, ratio=0.25)(torch.zeros(n, 1, 4, 4),
                                                              generator=3)
    counts = mask.sum(0).numpy()
    assert stats.chisquare(counts).pvalue > 1e-3, counts
    # Per image the draws differ: not one mask for the whole batch.
    assert len({tuple(row) for row in mask.tolist()}) > n // 2


def test_batch_stage_equals_each_image_alone():
    x = torch.rand(5, 3, 8, 8)
    text = "seed: 1\n{}: [{{patch_mask: {{patch: 4, ratio: 0.5}}}}]"
    views, masks = augkit.load_policy(text.format("batch")).apply_batch(x, indices=range(5))
    alone = augkit.load_policy(text.format("sample"))
    for i in range(5):
        view, mask = alone(x[i], index=i)
        assert torch.equal(view, views[i]) and torch.equal(mask, masks[i])


def test_gradient_flows_to_the_kept_pixels():
    x = torch.rand(1, 2, 4, 4, requires_grad=True)
    view, mask = augkit.make("patch_mask", patch=2, ratio=0.5)(x, generator=0)
    view.sum().backward()
    pixels = _pixel_mask(mask, 2, 4, 4)[:, None].expand_as(x)
    assert torch.equal(x.grad, (~pixels).float())


def test_refusals():
    t = augkit.make("patch_mask", patch=4)
    with pytest.raises(InputError, match="patch_mask: image of 6x8 with patch 4"):
        t(torch.rand(3, 6, 8))
    with pytest.raises(InputError, match="fill value 300"):
        augkit.make("patch_mask", patch=2, value=300)(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ParamError, match="ratio"):
        augkit.make("patch_mask", ratio=1.5)


def test_masks_pass_through_a_sample():
    tv = pytest.importorskip("torchvision.tv_tensors")
    seg = tv.Mask(torch.zeros(8, 8))
    (view, mask), out = augkit.make("patch_mask", patch=4)((tv.Image(torch.rand(3, 8, 8)), seg),
                                                           generator=0)
    assert out is seg and mask.shape == (4,) and isinstance(view, tv.Image)
