"""Vision transforms: the contract (shape/dtype/device kept, input untouched, replay, seeds),
per-image parameters, mixup/cutmix labels and the Beta law of lambda."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import augkit
from augkit.errors import InputError, ParamError, PolicyError

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
DEVICES = ["cpu", pytest.param("cuda", marks=[CUDA, pytest.mark.cuda])]
IMAGE_TRANSFORMS = [
    ("gaussian_blur", {}),
    ("gaussian_blur", {"kernel_size": 5, "p": 0.5}),
    ("random_erasing", {"value": "random", "count": 3}),
    ("random_erasing", {"value": "mean"}),
]


def _batch(shape, dtype, device="cpu", seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8)
    return (x.to(dtype) / 255 if dtype.is_floating_point else x).to(device)


def test_registered_with_kinds_and_levels():
    names = augkit.list_transforms()
    for name in ("gaussian_blur", "random_erasing", "mixup", "cutmix"):
        assert name in names
        cls = type(augkit.make(name))
        assert cls.kinds == ("image",)
    assert type(augkit.make("gaussian_blur")).levels == ("sample", "batch")
    assert type(augkit.make("random_erasing")).levels == ("sample", "batch")
    assert type(augkit.make("mixup")).levels == ("batch",)
    assert type(augkit.make("cutmix")).levels == ("batch",)


def test_package_import_is_light():
    code = (
        "import sys, augkit.plugins.vision, augkit.plugins.vision.manifest;"
        "heavy = [m for m in ('cv2', 'albumentations', 'torchvision', 'kornia') "
        "if m in sys.modules]; print(heavy); assert not heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def test_parameter_validation():
    with pytest.raises(ParamError, match="kernel_size"):
        augkit.make("gaussian_blur", kernel_size=4)
    with pytest.raises(ParamError, match="sigma"):
        augkit.make("gaussian_blur", sigma=[0.0, 1.0])
    with pytest.raises(ParamError, match="value"):
        augkit.make("random_erasing", value="noise")
    with pytest.raises(ParamError, match="alpha"):
        augkit.make("mixup", alpha=0)
    policy = "augkit: 1\nsample:\n  - mixup: {alpha: 0.2}\n"
    with pytest.raises(PolicyError, match="batch"):
        augkit.load_policy(policy)


@pytest.mark.parametrize("name,params", IMAGE_TRANSFORMS)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("shape", [(3, 20, 26), (5, 3, 20, 26), (4, 1, 17, 9), (2, 4, 16, 16)])
def test_tensor_shape_dtype_device_kept_input_untouched(name, params, device, dtype, shape):
    t = augkit.make(name, **params)
    x = _batch(shape, dtype, device)
    before = x.clone()
    out, p = t(x, generator=0, return_params=True)
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device
    assert torch.equal(x, before)
    if dtype.is_floating_point:
        assert float(out.min()) >= -1e-6 and float(out.max()) <= 1 + 1e-6
    assert torch.equal(t.replay(x, p), out)
    assert torch.equal(t(x, generator=0), out)  # same seed, same output


@pytest.mark.parametrize("name,params", IMAGE_TRANSFORMS)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("shape", [(20, 26, 3), (20, 26), (20, 26, 1), (20, 26, 4), (3, 20, 26, 3)])
def test_numpy_shape_dtype_kept_input_untouched(name, params, dtype, shape):
    t = augkit.make(name, **params)
    rng = np.random.default_rng(0)
    img = (rng.integers(0, 256, shape).astype(np.uint8) if dtype == np.uint8
           else rng.random(shape, dtype=np.float32))
    before = img.copy()
    out, p = t(img, generator=1, return_params=True)
    assert out.shape == img.shape and out.dtype == img.dtype
    assert np.array_equal(img, before)
    assert np.array_equal(t.replay(img, p), out)
    assert not np.array_equal(out, img)


def test_parameters_drawn_per_image_in_a_batch():
    x = _batch((16, 3, 40, 40), torch.float32)
    _, p = augkit.make("gaussian_blur")(x, generator=0, return_params=True)
    assert p["sigma"].shape == (16,) and len(set(p["sigma"].tolist())) == 16
    _, p = augkit.make("random_erasing")(x, generator=0, return_params=True)
    assert p["boxes"].shape == (16, 1, 4) and len({tuple(b) for b in p["boxes"][:, 0].tolist()}) > 8


def test_batch_image_equals_single_image_with_its_parameters():
    x = _batch((4, 3, 24, 30), torch.uint8)
    blur = augkit.make("gaussian_blur")
    out, p = blur(x, generator=3, return_params=True)
    for i in range(4):
        single = blur.replay(x[i], {"sigma": float(p["sigma"][i])})
        assert torch.equal(out[i], single)


def test_constant_image_unchanged_by_blur_transform():
    x = torch.full((8, 3, 33, 31), 91, dtype=torch.uint8)
    assert torch.equal(augkit.make("gaussian_blur", sigma=[0.5, 3.0])(x, generator=0), x)
    img = np.full((33, 31, 3), 0.25, np.float32)
    np.testing.assert_allclose(augkit.make("gaussian_blur")(img, generator=0), img, atol=1e-6)


@settings(max_examples=30)
@given(seed=st.integers(0, 2**40), lo=st.floats(0.01, 0.4), span=st.floats(0.0, 0.5))
def test_erased_area_within_scale_and_box_inside(seed, lo, span):
    h, w = 48, 64
    scale = (lo, min(1.0, lo + span))
    x = torch.ones(6, 2, h, w)
    out, p = augkit.make("random_erasing", scale=list(scale))(x, generator=seed,
                                                              return_params=True)
    erased = (out == 0).all(1).sum((-2, -1))
    for i, (top, left, bh, bw) in enumerate(p["boxes"][:, 0].tolist()):
        assert 0 <= top and top + bh <= h and 0 <= left and left + bw <= w
        assert int(erased[i]) == bh * bw
        if bh:
            assert (bh - 0.5) * (bw - 0.5) <= scale[1] * h * w + 1e-9
            assert (bh + 0.5) * (bw + 0.5) >= scale[0] * h * w - 1e-9


def test_uint8_never_wraps_and_random_fill_in_range():
    x = torch.full((8, 3, 32, 32), 250, dtype=torch.uint8)
    out = augkit.make("random_erasing", value="random", scale=[0.3, 0.5])(x, generator=0)
    assert out.dtype == torch.uint8 and int(out.min()) >= 0 and int(out.max()) <= 255
    assert (out != 250).any()


def test_mean_fill_is_the_image_mean():
    x = torch.zeros(2, 3, 10, 10)
    x[0, 0] = 1.0
    x[1, 2] = 0.5
    out, p = augkit.make("random_erasing", value="mean", scale=[0.2, 0.3])(
        x, generator=2, return_params=True)
    for i in range(2):
        top, left, bh, bw = p["boxes"][i, 0].tolist()
        region = out[i, :, top:top + bh, left:left + bw]
        assert torch.allclose(region, x[i].mean((-2, -1)).view(3, 1, 1).expand_as(region))


def test_tv_tensor_image_and_pil_kept():
    tv_tensors = pytest.importorskip("torchvision.tv_tensors")
    img = tv_tensors.Image(_batch((3, 20, 20), torch.uint8))
    for name in ("gaussian_blur", "random_erasing"):
        out = augkit.make(name)(img, generator=0)
        assert isinstance(out, tv_tensors.Image) and out.shape == img.shape
    pil = pytest.importorskip("PIL.Image")
    picture = pil.fromarray(np.random.default_rng(0).integers(0, 256, (20, 24, 3), np.uint8))
    out = augkit.make("gaussian_blur")(picture, generator=0)
    assert isinstance(out, pil.Image) and out.size == picture.size and out.mode == "RGB"


def test_input_errors_name_what_is_allowed():
    with pytest.raises(InputError, match="gaussian_blur.*allowed"):
        augkit.make("gaussian_blur")([1, 2, 3])
    with pytest.raises(InputError, match="CHW or NCHW"):
        augkit.make("random_erasing")(torch.zeros(5, 5))
    with pytest.raises(InputError, match=r"mixup.*\(images, labels\)"):
        augkit.make("mixup")(torch.zeros(2, 3, 4, 4))
    with pytest.raises(InputError, match="num_classes"):
        augkit.make("cutmix")(torch.zeros(2, 3, 4, 4), torch.tensor([0, 1]))


# ---- mixup / cutmix ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mixup", "cutmix"])
@pytest.mark.parametrize("per_sample", [False, True])
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_mix_soft_labels_sum_to_one_and_contract(name, per_sample, device, dtype):
    t = augkit.make(name, num_classes=5, per_sample_lambda=per_sample)
    x = _batch((12, 3, 16, 20), dtype, device)
    y = torch.randint(0, 5, (12,), generator=torch.Generator().manual_seed(0)).to(device)
    before = x.clone()
    (out, soft), p = t(x, y, generator=4, return_params=True)
    assert out.shape == x.shape and out.dtype == dtype and out.device == x.device
    assert soft.shape == (12, 5) and soft.device == x.device and soft.dtype == torch.float32
    torch.testing.assert_close(soft.sum(1), torch.ones(12, device=device))
    assert torch.equal(x, before)
    assert sorted(p["perm"].tolist()) == list(range(12))
    again = t.replay((x, y), p)
    assert torch.equal(again[0], out) and torch.equal(again[1], soft)


def test_soft_labels_pass_through_and_list_batches():
    t = augkit.make("mixup", alpha=1.0)
    x = torch.rand(6, 3, 8, 8)
    y = torch.softmax(torch.randn(6, 4), 1)
    out = t([x, y], generator=0)
    assert isinstance(out, list) and out[1].shape == (6, 4)
    torch.testing.assert_close(out[1].sum(1), torch.ones(6))


def test_partners_are_a_permutation_not_a_roll():
    t = augkit.make("mixup", num_classes=2)
    x, y = torch.rand(32, 1, 2, 2), torch.zeros(32, dtype=torch.long)
    perms = [t.make_params((x, y), torch.Generator().manual_seed(s))["perm"] for s in range(5)]
    rolls = [torch.roll(torch.arange(32), k) for k in range(32)]
    assert all(not any(torch.equal(pm, r) for r in rolls) for pm in perms)
    assert len({tuple(pm.tolist()) for pm in perms}) == 5


def test_mixup_images_and_labels_agree():
    # Image i is lam * x_i + (1 - lam) * x_perm(i) and its label carries the same weights.
    t = augkit.make("mixup", alpha=0.4, num_classes=8, per_sample_lambda=True)
    x = torch.arange(8, dtype=torch.float64).view(8, 1, 1, 1).expand(8, 2, 3, 3).clone()
    y = torch.arange(8)
    (out, soft), p = t(x, y, generator=1, return_params=True)
    for i in range(8):
        lam, j = float(p["lam"][i]), int(p["perm"][i])
        assert float(out[i, 0, 0, 0]) == pytest.approx(lam * i + (1 - lam) * j)
        if j != i:
            assert float(soft[i, i]) == pytest.approx(lam, abs=1e-6)  # float32 labels
            assert float(soft[i, j]) == pytest.approx(1 - lam, abs=1e-6)


def test_cutmix_label_weight_is_exact_pasted_area():
    t = augkit.make("cutmix", alpha=1.0, num_classes=10)
    n, h, w = 10, 23, 31
    x = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 3, h, w).clone()
    y = torch.arange(n)
    for seed in range(5):
        (out, soft), p = t(x, y, generator=seed, return_params=True)
        for i in range(n):
            j = int(p["perm"][i])
            if j == i:
                assert torch.equal(out[i], x[i]) and float(soft[i, i]) == 1.0
                continue
            pasted = int((out[i, 0] == j).sum())
            assert float(soft[i, j]) == pytest.approx(pasted / (h * w))
            assert float(soft[i, i]) == pytest.approx(1 - pasted / (h * w))


@pytest.mark.parametrize("alpha", [0.2, 1.0, 2.5])
def test_lambda_follows_beta(alpha):
    stats = pytest.importorskip("scipy.stats")
    t = augkit.make("mixup", alpha=alpha, num_classes=2, per_sample_lambda=True)
    x, y = torch.zeros(4000, 1, 1, 1), torch.zeros(4000, dtype=torch.long)
    lam = t.make_params((x, y), torch.Generator().manual_seed(0))["lam"].numpy()
    assert stats.kstest(lam, stats.beta(alpha, alpha).cdf).pvalue > 0.01
    # and not Uniform(0, 1), kornia's law (for alpha != 1)
    if alpha != 1.0:
        assert stats.kstest(lam, stats.uniform().cdf).pvalue < 1e-6
    # one lambda per batch without per_sample_lambda
    t1 = augkit.make("mixup", alpha=alpha, num_classes=2)
    assert len(set(t1.make_params((x, y), torch.Generator())["lam"].tolist())) == 1


def test_mix_skipped_by_p_still_returns_soft_labels():
    t = augkit.make("cutmix", num_classes=3, p=0.0)
    x, y = torch.rand(4, 3, 8, 8), torch.tensor([0, 1, 2, 0])
    (out, soft), p = t(x, y, generator=0, return_params=True)
    assert p == {"applied": False} and out is x
    assert torch.equal(soft, torch.nn.functional.one_hot(y, 3).float())
    assert torch.equal(t.replay((x, y), p)[1], soft)


def test_mix_in_a_policy_batch_stage():
    policy = augkit.load_policy(
        "augkit: 1\nseed: 3\nbatch:\n  - one_of:\n      transforms:\n"
        "        - mixup: {alpha: 0.2, num_classes: 4}\n        - cutmix: {num_classes: 4}\n"
    )
    x, y = torch.rand(8, 3, 12, 12), torch.randint(0, 4, (8,))
    a = policy.apply_batch((x, y), generator=0)
    b = policy.apply_batch((x, y), generator=0)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert a[1].shape == (8, 4)
