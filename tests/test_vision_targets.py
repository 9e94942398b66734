"""Detection and segmentation samples: the vision transforms follow torchvision v2's rules
for tv_tensors and nested structures, blur keeps gradients, mixing takes a target dict."""

from __future__ import annotations

import pytest
import torch

import augkit
from augkit.plugins.vision import functional as VF

# ---- gradients through the blur ------------------------------------------------------------


@pytest.mark.parametrize("kernel_size", [None, 5])
def test_blur_is_differentiable_gradcheck(kernel_size):
    x = torch.rand(1, 2, 6, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: VF.gaussian_blur(t, 1.3, kernel_size), (x,))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(3, 17, 23), (2, 3, 5, 40), (1, 1, 1, 7)])
@pytest.mark.parametrize("sigma", [0.3, 1.7, 6.0])
def test_blur_with_gradients_equals_the_fast_path(dtype, shape, sigma):
    x = torch.rand(shape, dtype=dtype, generator=torch.Generator().manual_seed(3))
    fast = VF.gaussian_blur(x, sigma)
    tracked = VF.gaussian_blur(x.clone().requires_grad_(), sigma)
    assert tracked.requires_grad and not fast.requires_grad
    tol = 1e-6 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(tracked.detach(), fast, atol=tol, rtol=0)


def test_the_blur_transform_keeps_gradients():
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    out = augkit.make("gaussian_blur", sigma=[0.5, 2.0])(x, generator=0)
    assert out.requires_grad
    out.sum().backward()
    # A normalised kernel: a pixel further than its radius (at most 7) from the border
    # reaches the output with total weight 1.
    torch.testing.assert_close(x.grad[..., 7:-7, 7:-7], torch.ones(2, 3, 18, 18))
    some = VF.gaussian_blur_some(x, [1.0, None])
    assert some.requires_grad


def test_blur_without_grad_mode_takes_the_fast_path():
    x = torch.rand(3, 8, 8, requires_grad=True)
    with torch.no_grad():
        assert not VF.gaussian_blur(x, 1.0).requires_grad
