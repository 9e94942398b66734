"""Vision kernels: albumentations equality on numpy, torch backends agree, box sampling rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit.errors import InputError
from augkit.plugins.vision import functional as VF
from augkit.plugins.vision.functional import _images as VI
from augkit.plugins.vision.functional import blur as VB
from augkit.plugins.vision.functional import erasing as VE

A = pytest.importorskip("albumentations")
ABF = pytest.importorskip("albumentations.augmentations.blur.functional")


def _image(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == np.uint8:
        return rng.integers(0, 256, shape, dtype=np.uint8)
    return rng.random(shape, dtype=np.float32)


# ---- gaussian blur -------------------------------------------------------------------------


@pytest.mark.parametrize("sigma", [0.3, 0.5, 0.99, 1.0, 1.7, 2.2857, 3.0, 4.6])
@pytest.mark.parametrize("ksize", [None, 3, 9])
def test_kernel_matches_albumentations(sigma, ksize):
    ours = VF.gaussian_kernel1d(sigma, ksize)
    ref = ABF.create_gaussian_kernel_1d(sigma, ksize or 0)
    assert ours.shape == ref.shape
    assert np.array_equal(ours, ref)
    if ksize is None:
        assert ours.size == int(sigma * 3.5) * 2 + 1


@pytest.mark.parametrize(
    "shape", [(37, 53, 3), (37, 53), (37, 53, 1), (37, 53, 4), (37, 53, 6)]
)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_numpy_blur_equals_albumentations(shape, dtype):
    img = _image(shape, dtype)
    before = img.copy()
    albu = A.GaussianBlur(p=1.0)
    for sigma in (0.5, 1.3, 2.9):
        ours = VF.gaussian_blur(img, sigma)
        ref = albu.apply(img, kernel=ABF.create_gaussian_kernel_1d(sigma, 0))
        assert ours.shape == img.shape and ours.dtype == img.dtype
        if dtype == np.uint8:
            assert np.array_equal(ours, ref)
        else:  # albumentations clips float32 to [0, 1]: equal up to that rounding
            np.testing.assert_allclose(ours, ref, atol=1e-6)
    assert np.array_equal(img, before)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float64])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_tensor_backends_agree(dtype, channels):
    # The CPU (OpenCV per plane) and accelerator (grouped conv) paths give the same blur.
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (3, channels, 21, 34), generator=g, dtype=torch.uint8)
    x = x.to(dtype) / 255 if dtype.is_floating_point else x
    sig = torch.tensor([0.5, 1.6, 3.0], dtype=torch.float64)
    cv = VF.gaussian_blur(x, sig)
    conv = VB._blur_conv(x, sig, None)
    assert cv.dtype == conv.dtype == dtype
    if dtype == torch.uint8:
        assert (cv.int() - conv.int()).abs().max() <= 1  # fixed-point vs float rounding
    else:
        torch.testing.assert_close(cv, conv, atol=1e-5, rtol=0)
    # and each image equals the numpy (albumentations) result with its own sigma
    for i in range(3):
        hwc = x[i].permute(1, 2, 0).numpy()
        ref = VF.gaussian_blur(np.ascontiguousarray(hwc), float(sig[i]))
        got = cv[i].permute(1, 2, 0).numpy()
        if dtype == torch.uint8:
            np.testing.assert_array_equal(got, ref.reshape(hwc.shape))
        else:  # planar vs interleaved OpenCV: float sums in another order
            np.testing.assert_allclose(got, ref.reshape(hwc.shape), atol=1e-6, rtol=0)


def test_conv_path_reflects_like_opencv_on_tiny_images():
    # Kernel wider than the image: reflect-101 must keep repeating, as OpenCV does.
    x = torch.rand(2, 3, 4, 5, dtype=torch.float64)
    sig = torch.tensor([3.0, 2.5], dtype=torch.float64)
    torch.testing.assert_close(VB._blur_conv(x, sig, None), VF.gaussian_blur(x, sig))


@pytest.mark.parametrize("path", ["cv2", "conv"])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_constant_image_unchanged_by_blur(path, dtype):
    x = torch.full((4, 3, 19, 23), 173, dtype=dtype)
    sig = torch.tensor([0.5, 1.0, 2.0, 3.0], dtype=torch.float64)
    out = VF.gaussian_blur(x, sig) if path == "cv2" else VB._blur_conv(x, sig, None)
    if dtype == torch.uint8:
        assert torch.equal(out, x)
    else:
        torch.testing.assert_close(out, x, atol=1e-4, rtol=0)


def test_uint8_blur_saturates_not_wraps():
    x = torch.zeros(1, 1, 16, 16, dtype=torch.uint8)
    x[..., ::2, :] = 255
    for fn in (VF.gaussian_blur, lambda a, s: VB._blur_conv(a, s, None)):
        out = fn(x, torch.tensor([1.0], dtype=torch.float64))
        assert out.dtype == torch.uint8
        assert 100 < float(out.float().mean()) < 155  # a wrap would drag the mean down


def test_sigma_count_must_match_batch():
    with pytest.raises(InputError, match="sigma"):
        VF.gaussian_blur(torch.zeros(3, 1, 8, 8), [1.0, 2.0])


# ---- random erasing ------------------------------------------------------------------------


@settings(max_examples=40)
@given(
    h=st.integers(2, 300), w=st.integers(2, 300),
    s0=st.floats(0.01, 0.5), ds=st.floats(0.0, 0.5),
    r0=st.floats(0.2, 1.0), dr=st.floats(0.0, 4.0),
    n=st.sampled_from([1, 3, 20]), seed=st.integers(0, 2**31),
)
def test_boxes_inside_image_and_area_within_scale(h, w, s0, ds, r0, dr, n, seed):
    scale, ratio = (s0, min(1.0, s0 + ds)), (r0, r0 + dr)
    g = torch.Generator().manual_seed(seed)
    boxes = VF.sample_erasing_boxes(g, n, h, w, scale, ratio, count=2)
    assert boxes.shape == (n, 2, 4) and boxes.dtype == torch.int64
    top, left, bh, bw = boxes.unbind(-1)
    assert (top >= 0).all() and (left >= 0).all()
    assert (top + bh <= h).all() and (left + bw <= w).all()
    empty = (bh == 0) & (bw == 0)
    full = ~empty
    assert (bh[full] < h).all() and (bw[full] < w).all()  # torchvision's acceptance rule
    # h, w are roundings of sqrt(area * r), sqrt(area / r): area within scale up to rounding
    lo = (bh[full] + 0.5).double() * (bw[full] + 0.5).double() / (h * w)
    hi = (bh[full] - 0.5).clamp(min=0).double() * (bw[full] - 0.5).clamp(min=0).double() / (h * w)
    assert (lo >= scale[0] - 1e-12).all() and (hi <= scale[1] + 1e-12).all()
    # aspect h / w within ratio up to rounding
    r_hi = (bh[full] + 0.5).double() / (bw[full] - 0.5).clamp(min=1e-9).double()
    r_lo = (bh[full] - 0.5).double() / (bw[full] + 0.5).double()
    assert (r_hi >= ratio[0] - 1e-12).all() and (r_lo <= ratio[1] + 1e-12).all()


def test_small_and_vectorised_box_paths_agree():
    # The plain-Python path for a few boxes and the numpy path for a batch share one rule.
    u = torch.rand((400, 1, 22), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    small = VE._erasing_boxes_small(u.numpy(), 50, 70, (0.02, 0.6), (0.3, 3.3), 10)

    g = torch.Generator().manual_seed(3)
    batch = VF.sample_erasing_boxes(g, 400, 50, 70, (0.02, 0.6), (0.3, 3.3), count=1)
    assert batch.reshape(-1, 4).tolist() == small


def test_box_fallback_is_empty_when_nothing_fits():
    # scale 0.95..1 with extreme ratios never fits with h < H and w < W: nothing erased.
    g = torch.Generator().manual_seed(0)
    boxes = VF.sample_erasing_boxes(g, 50, 10, 10, (0.99, 1.0), (10.0, 20.0))
    assert (boxes[..., 2:] == 0).all()
    x = torch.rand(50, 3, 10, 10)
    assert torch.equal(VF.erase(x, boxes), x)


def test_erase_covers_exactly_the_box():
    x = torch.full((1, 2, 12, 15), 7.0)
    out = VF.erase(x, torch.tensor([[[2, 3, 4, 5]]]))
    expected = x.clone()
    expected[:, :, 2:6, 3:8] = 0
    assert torch.equal(out, expected)


@pytest.mark.parametrize("value", ["zero", "mean", "random"])
@pytest.mark.parametrize("shape", [(40, 50, 3), (40, 50), (40, 50, 1), (40, 50, 4)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_numpy_erase_equals_albumentations(value, shape, dtype):
    img = _image(shape, dtype, seed=1)
    before = img.copy()
    boxes = torch.tensor([[[5, 7, 20, 9], [30, 1, 6, 40]]])
    holes = np.array([[7, 5, 16, 25], [1, 30, 41, 36]], dtype=np.int32)
    ours = VF.erase(img, boxes, value, seed=123)
    if value == "mean":
        fill = VE._fill_mean(img)
    else:
        fill = 0 if value == "zero" else "random"
    ref = A.Erasing(fill=fill, p=1.0).apply(img, holes=holes, seed=123)
    assert ours.dtype == img.dtype and ours.shape == img.shape
    np.testing.assert_array_equal(ours, ref)
    assert np.array_equal(img, before)


@pytest.mark.parametrize("value", ["zero", "mean"])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_tensor_erase_loop_and_mask_paths_agree(value, dtype):
    g = torch.Generator().manual_seed(1)
    x = torch.randint(0, 256, (6, 3, 30, 40), generator=g, dtype=torch.uint8).to(dtype)
    boxes = VF.sample_erasing_boxes(g, 6, 30, 40, (0.1, 0.4), (0.3, 3.3), count=2)
    loop = VE._erase_tensor_loop(x, boxes.numpy(), value, 0)
    masked = VE._erase_tensor_masked(x, boxes.numpy(), value, 0)
    assert torch.equal(loop, masked)


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_random_fill_in_range_and_only_in_box(dtype):
    x = torch.full((2, 3, 30, 30), 0.5 if dtype.is_floating_point else 128).to(dtype)
    boxes = torch.tensor([[[0, 0, 10, 10]], [[5, 5, 20, 20]]])
    for fn in (VE._erase_tensor_loop, VE._erase_tensor_masked):
        out = fn(x, boxes.numpy(), "random", 9)
        mask = VI._box_mask(boxes, 30, 30, torch.device("cpu")).expand_as(x)
        assert torch.equal(out[~mask], x[~mask])
        inside = out[mask].double()
        top = 1.0 if dtype.is_floating_point else 255
        assert inside.min() >= 0 and inside.max() <= top and inside.std() > 0.1 * top


# ---- mixup / cutmix kernels ----------------------------------------------------------------


def test_soft_labels_validation():
    with pytest.raises(InputError, match="num_classes"):
        VF.to_soft_labels(torch.tensor([0, 1]), None, 2)
    with pytest.raises(InputError, match="0 .. 2"):
        VF.to_soft_labels(torch.tensor([0, 3]), 3, 2)
    soft = torch.tensor([[0.2, 0.8], [1.0, 0.0]])
    assert VF.to_soft_labels(soft, None, 2) is soft


def test_cutmix_box_rule_matches_torchvision():
    # torchvision's _CutMix: half sides int(0.5 * sqrt(1 - lam) * size) around the centre
    g = torch.Generator().manual_seed(5)
    lam = torch.tensor([0.3, 0.7, 0.99, 0.01], dtype=torch.float64)
    boxes, exact = VF.sample_cutmix_boxes(g, lam, 32, 48)
    g = torch.Generator().manual_seed(5)
    cy = torch.randint(32, (4,), generator=g)
    cx = torch.randint(48, (4,), generator=g)
    for i in range(4):
        r = 0.5 * math.sqrt(1 - float(lam[i]))
        hh, hw = int(r * 32), int(r * 48)
        expected = [max(int(cy[i]) - hh, 0), max(int(cx[i]) - hw, 0),
                    min(int(cy[i]) + hh, 32), min(int(cx[i]) + hw, 48)]
        assert boxes[i].tolist() == expected
        y1, x1, y2, x2 = expected
        assert float(exact[i]) == pytest.approx(1 - (y2 - y1) * (x2 - x1) / (32 * 48))


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float16])
def test_copy_output_of_a_large_batch(dtype):
    """Large CPU outputs go through a numpy allocation (huge pages): same values, dtype and
    shape as clone(), new memory, input untouched, and shareable with worker processes."""
    from augkit._memory import HUGE_OUTPUT_BYTES, copy_output

    n = HUGE_OUTPUT_BYTES // (3 * 64 * 64 * torch.empty(0, dtype=dtype).element_size()) + 1
    x = (torch.arange(n * 3 * 64 * 64) % 251).to(dtype).view(n, 3, 64, 64)
    before = x.clone()
    out = copy_output(x)
    assert out.dtype == dtype and out.shape == x.shape and out.is_contiguous()
    assert torch.equal(out, x) and out.data_ptr() != x.data_ptr()
    out.zero_()
    assert torch.equal(x, before)
    out.share_memory_()
    assert out.is_shared()
    # Small, non-contiguous (channels_last keeps its strides) and bfloat16 inputs: clone().
    cl = x.to(memory_format=torch.channels_last)
    assert copy_output(cl).stride() == cl.stride()
    small = x[:1]
    assert torch.equal(copy_output(small), small)
    bf = x[:2].to(torch.bfloat16)
    assert torch.equal(copy_output(bf), bf)


def test_erasing_a_large_cpu_batch_matches_the_clone_path(monkeypatch):
    """The numpy-allocated output must hold exactly what the clone() path gives."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 3, 128, 128, generator=g)  # 12.6 MB: above HUGE_OUTPUT_BYTES
    before = x.clone()
    boxes = VF.sample_erasing_boxes(torch.Generator().manual_seed(1), 64, 128, 128,
                                    (0.02, 0.33), (0.3, 3.3), 2)
    outs = {v: VF.erase(x, boxes, v, seed=5) for v in ("zero", "mean", "random")}
    monkeypatch.setattr(VE, "copy_output", lambda t: t.clone())
    for value, got in outs.items():
        assert torch.equal(got, VF.erase(x, boxes, value, seed=5)), value
        assert not torch.equal(got, x)
    assert torch.equal(x, before)


@pytest.mark.parametrize("per_sample", [False, True])
def test_mixup_of_a_large_cpu_batch_equals_the_whole_batch_lerp(per_sample):
    """Large CPU float batches are mixed a chunk of partners at a time into a huge-page
    output: the values must be exactly lerp(x[perm], x, lam) of the whole batch, in new
    memory, with the input untouched."""
    from augkit._memory import HUGE_OUTPUT_BYTES

    g = torch.Generator().manual_seed(3)
    n = HUGE_OUTPUT_BYTES // (3 * 64 * 64 * 4) + 21  # above the threshold, not whole chunks
    x = torch.rand(n, 3, 64, 64, generator=g)
    before = x.clone()
    labels = torch.randint(0, 10, (n,), generator=g)
    perm = torch.randperm(n, generator=g)
    lam = torch.rand(n, generator=g, dtype=torch.float64) if per_sample else 0.3
    out, soft = VF.mixup(x, labels, perm, lam, 10)
    w = torch.as_tensor(lam, dtype=torch.float64).float()
    w = w.view(-1, 1, 1, 1) if per_sample else w
    assert torch.equal(out, torch.lerp(x[perm], x, w))
    assert out.data_ptr() != x.data_ptr() and torch.equal(x, before)
    assert torch.allclose(soft.sum(1), torch.ones(n, dtype=soft.dtype))
