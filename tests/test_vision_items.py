"""gaussian_blur and random_erasing on the items of an NCHW batch: the one-call apply_items
gives, image by image, the bits of the per-item reference path (Transform.apply_items, which
applies each image alone), with the images without parameters left as they are."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import augkit
from augkit.plugins.vision import functional as VF
from augkit.plugins.vision.functional import erasing as erasing_kernels
from augkit.transform import Transform

CASES = [
    ("gaussian_blur", {}),
    ("gaussian_blur", {"sigma": [0.2, 6.0]}),
    ("gaussian_blur", {"kernel_size": 5}),
    ("random_erasing", {}),
    ("random_erasing", {"value": "mean", "count": 3}),
    ("random_erasing", {"value": "random", "count": 2}),
    ("random_erasing", {"value": "random", "scale": [0.3, 0.9]}),
]
DTYPES = [torch.uint8, torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int16]


def _batch(n: int, dtype: torch.dtype, seed: int, device: str = "cpu",
           size: tuple[int, int, int] = (3, 19, 26)) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, *size, generator=g, dtype=torch.float64)
    x = (x * 255).round() if not dtype.is_floating_point else x
    return x.to(dtype).to(device)


def _params(t: Transform, batch: torch.Tensor, seed: int, skip: float = 0.35) -> list:
    """Per-item parameters as the batch stage draws them, with random Nones (items left)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(batch.shape[0]):
        g = torch.Generator().manual_seed(seed * 1000 + i)
        out.append(None if rng.random() < skip else t.item_params(batch, i, g))
    return out


def _same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype or a.device != b.device:
        return False
    if a.dtype.is_floating_point:
        width = {2: torch.int16, 4: torch.int32, 8: torch.int64}[a.element_size()]
        return torch.equal(a.contiguous().view(width), b.contiguous().view(width))
    return torch.equal(a, b)


def _check(t: Transform, batch: torch.Tensor, params: list) -> None:
    before = batch.clone()
    got = t.apply_items(batch, params)
    want = Transform.apply_items(t, batch, params)
    assert _same_bits(got, want)
    assert _same_bits(batch, before)  # the input is not changed
    assert got.data_ptr() != batch.data_ptr()
    for i, p in enumerate(params):
        if p is None:
            assert _same_bits(got[i], batch[i])


@pytest.mark.parametrize("name,kwargs", CASES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_call_gives_each_image_what_it_gets_alone(name, kwargs, dtype, seed):
    t = augkit.make(name, **kwargs)
    batch = _batch(11, dtype, seed)
    _check(t, batch, _params(t, batch, seed))


@pytest.mark.parametrize("name,kwargs", CASES)
def test_all_items_or_none(name, kwargs):
    t = augkit.make(name, **kwargs)
    batch = _batch(6, torch.float32, 3)
    _check(t, batch, _params(t, batch, 3, skip=0.0))
    _check(t, batch, [None] * 6)


@pytest.mark.parametrize("name,kwargs", CASES)
def test_one_channel_many_channels_and_a_non_contiguous_batch(name, kwargs):
    t = augkit.make(name, **kwargs)
    for size in [(1, 9, 7), (5, 12, 12)]:
        batch = _batch(7, torch.float32, 4, size=size)
        _check(t, batch, _params(t, batch, 4))
    wide = _batch(7, torch.uint8, 5, size=(3, 14, 10)).contiguous(
        memory_format=torch.channels_last)
    _check(t, wide, _params(t, wide, 5))


@pytest.mark.parametrize("name,kwargs", CASES)
def test_images_without_pixels_come_back_as_they_are(name, kwargs):
    t = augkit.make(name, **kwargs)
    for batch in [torch.zeros(3, 3, 0, 5), torch.zeros(0, 3, 8, 8)]:
        params = [t.item_params(batch, i, torch.Generator().manual_seed(i))
                  for i in range(batch.shape[0])]
        got = t.apply_items(batch, params)
        assert got.shape == batch.shape and torch.equal(got, batch) and got is not batch


@pytest.mark.parametrize("name,kwargs", CASES)
def test_item_params_are_make_params_on_the_item(name, kwargs):
    t = augkit.make(name, **kwargs)
    for batch in [_batch(4, torch.float32, 6),
                  np.zeros((4, 10, 12, 3), np.uint8)]:
        for i in range(4):
            got = t.item_params(batch, i, torch.Generator().manual_seed(i))
            want = t.make_params(batch[i], torch.Generator().manual_seed(i))
            assert got.keys() == want.keys()
            for key in got:
                assert np.array_equal(np.asarray(got[key]), np.asarray(want[key]))


@pytest.mark.parametrize("name,kwargs", CASES)
def test_numpy_and_five_dim_batches_keep_the_items_path(name, kwargs):
    t = augkit.make(name, **kwargs)
    nhwc = (np.random.default_rng(0).random((5, 12, 9, 3)) * 255).astype(np.uint8)
    params = _params(t, nhwc, 7)
    assert np.array_equal(t.apply_items(nhwc, params), Transform.apply_items(t, nhwc, params))
    clips = _batch(6, torch.float32, 8).reshape(3, 2, 3, 19, 26)
    params = _params(t, clips, 8)
    assert _same_bits(t.apply_items(clips, params), Transform.apply_items(t, clips, params))


def test_the_accelerator_kernels_give_each_image_its_own_bits_on_the_cpu():
    # The grouped convolution and the masked erasing run on accelerators; on the CPU they are
    # reached directly, so their per-item logic is checked without a device.
    x = _batch(9, torch.float32, 9)
    sigmas = [0.6, None, 1.3, 2.9, 0.7, None, 2.95, 0.2, 1.31]
    got = torch.stack([x[i] if s is None else VF.gaussian_blur(x[i], s)
                       for i, s in enumerate(sigmas)])
    half = torch.float16
    xh = x.to(half)
    want = torch.stack([xh[i] if s is None else VF.gaussian_blur(xh[i], s)
                        for i, s in enumerate(sigmas)])
    assert _same_bits(VF.gaussian_blur_some(xh, sigmas), want)
    assert _same_bits(VF.gaussian_blur_some(x, sigmas), got)
    g = torch.Generator().manual_seed(0)
    boxes = VF.sample_erasing_boxes(g, 9, 19, 26, count=2).numpy()
    seeds = list(range(100, 109))
    for value in ("zero", "mean", "random"):
        got = erasing_kernels._erase_tensor_masked(x, boxes, value, seeds, list(range(9)))
        want = torch.cat([erasing_kernels._erase_tensor_masked(
            x[i : i + 1], boxes[i : i + 1], value, seeds[i]) for i in range(9)])
        assert _same_bits(got, want), value


def test_kernels_refuse_a_wrong_count():
    x = _batch(3, torch.float32, 0)
    with pytest.raises(augkit.errors.InputError, match="one sigma"):
        VF.gaussian_blur_some(x, [1.0, None])
    with pytest.raises(augkit.errors.InputError, match="one box set"):
        VF.erase_some(x, [None])
    with pytest.raises(augkit.errors.InputError, match="one seed per image"):
        VF.erase_some(x, [None, None, None], "random")


@pytest.mark.parametrize("name,kwargs", CASES)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float16])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_one_call_gives_each_image_what_it_gets_alone(name, kwargs, dtype, seed):
    t = augkit.make(name, **kwargs)
    batch = _batch(13, dtype, seed, device="cuda")
    params = _params(t, batch, seed)
    got = t.apply_items(batch, params)
    assert got.is_cuda
    _check(t, batch, params)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_batch_stage_gives_the_sample_stage_bits():
    policy = augkit.load_policy("batch:\n  - gaussian_blur\n  - random_erasing: {value: random}\n")
    sample = augkit.load_policy("sample:\n  - gaussian_blur\n  - random_erasing: {value: random}\n")
    x = _batch(16, torch.float32, 3, device="cuda")
    out = policy.apply_batch(x, indices=list(range(16)), epoch=2)
    for i in range(16):
        assert _same_bits(out[i], sample(x[i], index=i, epoch=2))
