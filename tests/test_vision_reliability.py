"""Malformed input to the vision transforms: a correct output or an augkit error, never another
exception or a changed input; parameters that are not finite are refused on construction."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import augkit
from augkit.errors import AugkitError, InputError, ParamError
from augkit.plugins.vision import functional as VF

EMPTY_SHAPES = [(0, 3, 8, 8), (2, 3, 0, 8), (2, 3, 8, 0), (3, 0, 8), (0, 3, 0, 0), (2, 0, 8, 8)]
EMPTY_NUMPY = [(0, 8, 8, 3), (0, 8, 3), (8, 0, 3), (8, 0), (2, 0, 8, 3)]


@pytest.mark.parametrize("name", ["gaussian_blur", "random_erasing"])
@pytest.mark.parametrize("image", [torch.rand(s) for s in EMPTY_SHAPES]
                         + [np.zeros(s, np.uint8) for s in EMPTY_NUMPY],
                         ids=[f"torch{s}" for s in EMPTY_SHAPES]
                         + [f"numpy{s}" for s in EMPTY_NUMPY])
def test_an_image_without_pixels_comes_back_as_it_is(name, image):
    # torchvision v2: an empty batch, or an image of height or width 0, comes back unchanged.
    out = augkit.make(name)(image, generator=0)
    assert type(out) is type(image) and out.shape == image.shape and out.dtype == image.dtype
    assert out is not image


@pytest.mark.parametrize("name", ["mixup", "cutmix"])
def test_mixing_an_empty_batch_gives_an_empty_batch(name):
    # As torchvision v2 MixUp / CutMix: no images in, no images and (0, num_classes) labels out.
    images, labels = augkit.make(name, num_classes=4)(
        torch.rand(0, 3, 8, 8), torch.zeros(0, dtype=torch.long), generator=0)
    assert images.shape == (0, 3, 8, 8) and labels.shape == (0, 4)
    assert labels.dtype == torch.float32


@pytest.mark.parametrize("shape", [(2, 3, 0, 8), (2, 3, 8, 0)])
def test_cutmix_refuses_images_without_area(shape):
    with pytest.raises(InputError, match=rf"^cutmix: got images of shape {re_shape(shape)}; "
                                         r"allowed: height and width >= 1"):
        augkit.make("cutmix", num_classes=2)(torch.rand(shape), torch.tensor([0, 1]),
                                             generator=0)


def re_shape(shape):
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


@pytest.mark.parametrize("name", ["mixup", "cutmix"])
def test_boolean_images_are_refused_by_mixing(name):
    with pytest.raises(InputError, match=rf"^{name}: .*dtype torch.bool; allowed"):
        augkit.make(name, num_classes=2)(torch.ones(2, 1, 4, 4, dtype=torch.bool),
                                         torch.tensor([0, 1]), generator=0)


@pytest.mark.parametrize("name", ["mixup", "cutmix"])
def test_label_errors_name_the_transform(name):
    with pytest.raises(InputError, match=rf"^{name}: labels of shape \(3,\)"):
        augkit.make(name, num_classes=2)(torch.rand(2, 1, 4, 4), torch.tensor([0, 1, 1]),
                                         generator=0)


@pytest.mark.parametrize(("name", "params"), [
    ("mixup", {"alpha": math.inf}),
    ("cutmix", {"alpha": math.inf}),
    ("mixup", {"alpha": math.nan}),
    ("gaussian_blur", {"sigma": math.inf}),
    ("gaussian_blur", {"sigma": [1.0, math.inf]}),
    ("gaussian_blur", {"sigma": 1e9}),
    ("random_erasing", {"ratio": [0.3, math.inf]}),
    ("random_erasing", {"scale": [0.1, math.nan]}),
])
def test_parameters_that_are_not_finite_are_refused(name, params):
    key = next(iter(params))
    with pytest.raises(ParamError, match=rf"^{name}\.{key}: got .*; allowed: .*"):
        augkit.make(name, **params)


@pytest.mark.parametrize("sigma", [math.inf, math.nan, 1e9, 0.0, -1.0])
def test_functional_blur_refuses_sigma_it_cannot_size(sigma):
    for image in (np.zeros((8, 8, 3), np.uint8), torch.rand(2, 3, 8, 8)):
        with pytest.raises(InputError, match=r"^sigma: got .*; allowed: a number in \(0, 1000\]"):
            VF.gaussian_blur(image, sigma)


# ---- generated malformed images -----------------------------------------------------------

NUMPY_DTYPES = [np.uint8, np.uint16, np.int8, np.int32, np.int64, np.float16, np.float32,
                np.float64, np.bool_]
TORCH_DTYPES = [torch.uint8, torch.int8, torch.int32, torch.int64, torch.float16,
                torch.bfloat16, torch.float32, torch.float64, torch.bool]


@st.composite
def images(draw, batch=False):
    as_torch = batch or draw(st.booleans())
    ndim = 4 if batch else draw(st.integers(1, 5))
    sizes = [draw(st.sampled_from([0, 1, 2, 5, 9])) for _ in range(ndim)]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.random(sizes) * 255
    if as_torch:
        t = torch.from_numpy(x).to(draw(st.sampled_from(TORCH_DTYPES)))
        if ndim >= 2 and draw(st.booleans()):
            t = t.transpose(-1, -2)  # not contiguous
        return t
    a = x.astype(draw(st.sampled_from(NUMPY_DTYPES)))
    if ndim >= 1 and draw(st.booleans()):
        a = a[..., ::-1]  # not contiguous
    return a


def _copy(x):
    return x.clone() if isinstance(x, torch.Tensor) else x.copy()


def _same(a, b):
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and torch.equal(a, b)
    return a.dtype == b.dtype and np.array_equal(a, b)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(image=images(), name=st.sampled_from(["gaussian_blur", "random_erasing"]),
       value=st.sampled_from(["zero", "mean", "random"]))
def test_malformed_images_give_an_output_or_an_augkit_error(image, name, value):
    before = _copy(image)
    t = augkit.make(name, **({"value": value} if name == "random_erasing" else {}))
    try:
        out = t(image, generator=0)
    except AugkitError:
        pass
    else:
        assert type(out) is type(image)
        assert out.shape == image.shape and out.dtype == image.dtype
    assert _same(image, before)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(images=images(batch=True), name=st.sampled_from(["mixup", "cutmix"]),
       labels=st.sampled_from(["ids", "soft", "short", "negative", "list", "none"]),
       per_sample=st.booleans())
def test_malformed_batches_give_an_output_or_an_augkit_error(images, name, labels, per_sample):
    n = images.shape[0]
    y = {"ids": torch.arange(n) % 3, "soft": torch.rand(n, 3), "short": torch.zeros(n + 1),
         "negative": -torch.ones(n, dtype=torch.long), "list": [i % 3 for i in range(n)],
         "none": None}[labels]
    before = (_copy(images), _copy(y) if isinstance(y, torch.Tensor) else y)
    t = augkit.make(name, num_classes=3, per_sample_lambda=per_sample)
    try:
        out, soft = t(images, y, generator=0)
    except AugkitError:
        pass
    else:
        assert out.shape == images.shape and out.dtype == images.dtype
        assert soft.shape == (n, 3) and soft.dtype.is_floating_point
    assert _same(images, before[0])
    if isinstance(y, torch.Tensor):
        assert _same(y, before[1])


def test_random_fill_of_int64_images():
    # torch.randint's bound is an int64: iinfo(int64).max + 1 overflowed it.
    image = torch.zeros(2, 3, 16, 16, dtype=torch.int64)
    out = augkit.make("random_erasing", value="random", scale=[0.2, 0.3])(image, generator=0)
    assert out.dtype == torch.int64 and bool((out >= 0).all()) and bool((out != 0).any())
