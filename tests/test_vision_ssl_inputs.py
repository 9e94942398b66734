"""The pretext transforms on every image kind: numpy NHWC batches equal torch NCHW ones from
the same draws, PIL images come back as PIL views, a list batch gives a list of pairs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import augkit

PRETEXT = [
    ("rotation_pretext", {}),
    ("patch_mask", {"patch": 2}),
    ("patch_mask", {"patch": 2, "output": "kept"}),
    ("jigsaw", {"grid": 2, "permutations": 6, "gap": 1}),
]


@pytest.mark.parametrize(("name", "params"), PRETEXT)
def test_numpy_batch_equals_torch_batch(name, params):
    x = torch.randint(0, 256, (7, 3, 8, 8), dtype=torch.uint8,
                      generator=torch.Generator().manual_seed(0))
    t = augkit.make(name, **params)
    view, target = t(x, generator=5)
    np_view, np_target = t(x.permute(0, 2, 3, 1).numpy().copy(), generator=5)
    assert isinstance(np_target, np.ndarray) and len(np_target) == 7
    np.testing.assert_array_equal(np_target, target.numpy())
    expected = view.numpy() if view.ndim == 3 else view.permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(np_view, expected)
    assert view.dtype == x.dtype


@pytest.mark.parametrize(("name", "params"), [p for p in PRETEXT if p[1].get("output") != "kept"])
def test_pil_image_gives_a_pil_view(name, params):
    image = pytest.importorskip("PIL.Image")
    array = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    t = augkit.make(name, **params)
    view, target = t(image.fromarray(array), generator=2)
    same, same_target = t(array, generator=2)
    assert isinstance(view, image.Image)
    np.testing.assert_array_equal(np.asarray(view), same)
    np.testing.assert_array_equal(target, same_target)


@pytest.mark.parametrize(("name", "params"), PRETEXT)
def test_list_batch_in_the_batch_stage_gives_pairs(name, params):
    images = [torch.rand(3, 8, 8), torch.rand(3, 4, 4)]
    policy = augkit.Policy(batch=[augkit.make(name, **params)])
    out = policy.apply_batch(images, generator=0)
    assert isinstance(out, list) and len(out) == 2
    for (view, target), image in zip(out, images, strict=True):
        assert isinstance(view, torch.Tensor) and isinstance(target, torch.Tensor)
        if name == "rotation_pretext":
            assert view.shape == image.shape
