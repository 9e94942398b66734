"""rotation_pretext: exact and invertible rotations, the label names the angle, ``all: true``
gives every rotation, uniform angle draws, the output structure in samples and batches."""

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

ANGLES = st.lists(st.sampled_from([0, 90, 180, 270]), min_size=1, max_size=4, unique=True)


@st.composite
def images(draw, square=False):
    h = draw(st.integers(1, 7))
    w = h if square else draw(st.integers(1, 7))
    c = draw(st.integers(1, 3))
    n = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**16))
    x = torch.randint(0, 256, (n, c, h, w), generator=torch.Generator().manual_seed(seed),
                      dtype=torch.uint8)
    return x


@given(images(square=True), ANGLES, st.integers(0, 2**31))
def test_batch_exact_and_invertible(x, angles, seed):
    before = x.clone()
    view, label = augkit.make("rotation_pretext", angles=angles)(x, generator=seed)
    assert torch.equal(x, before)  # the input is untouched
    assert label.dtype == torch.int64 and label.shape == (x.shape[0],)
    for i in range(x.shape[0]):
        angle = angles[int(label[i])]
        assert torch.equal(view[i], torch.rot90(x[i], angle // 90, (-2, -1)))
        # Turning back by the same angle gives the image, pixel for pixel.
        assert torch.equal(torch.rot90(view[i], -(angle // 90), (-2, -1)), x[i])


@given(images(), ANGLES, st.integers(0, 2**31))
def test_numpy_one_image_matches_torch(x, angles, seed):
    t = augkit.make("rotation_pretext", angles=angles)
    hwc = x[0].permute(1, 2, 0).numpy().copy()
    view, label = t(hwc, generator=seed)
    tview, tlabel = t(x[0], generator=seed)
    assert isinstance(label, np.integer) and int(label) == int(tlabel)
    np.testing.assert_array_equal(view, tview.permute(1, 2, 0).numpy())
    k = angles[int(label)] // 90
    np.testing.assert_array_equal(np.rot90(view, -k, (0, 1)), hwc)


@given(images(square=True), ANGLES)
def test_all_gives_every_rotation_with_its_label(x, angles):
    views, labels = augkit.make("rotation_pretext", angles=angles, all=True)(x)
    k = len(angles)
    assert views.shape == (x.shape[0] * k, *x.shape[1:])
    assert labels.tolist() == list(range(k)) * x.shape[0]
    for j in range(views.shape[0]):
        i, a = divmod(j, k)
        assert torch.equal(views[j], torch.rot90(x[i], angles[a] // 90, (-2, -1)))


def test_all_on_one_non_square_image_of_one_parity():
    x = np.arange(2 * 3 * 1, dtype=np.float32).reshape(2, 3, 1)
    views, labels = augkit.make("rotation_pretext", angles=[0, 180], all=True)(x)
    assert views.shape == (2, 2, 3, 1) and labels.tolist() == [0, 1]
    with pytest.raises(InputError, match="two shapes"):
        augkit.make("rotation_pretext", all=True)(x)


def test_angle_frequencies_are_uniform():
    n = 4000
    x = torch.zeros(n, 1, 2, 2)
    _, label = augkit.make("rotation_pretext")(x, generator=7)
    counts = np.bincount(label.numpy(), minlength=4)
    assert stats.chisquare(counts).pvalue > 1e-3, counts
    # The test can fail: a sampler that never draws the last angle is caught.
    assert stats.chisquare(np.bincount((label.numpy() % 3), minlength=4)).pvalue < 1e-3


def test_batch_draws_equal_each_image_alone_in_a_policy():
    x = torch.rand(6, 3, 5, 5)
    policy = augkit.load_policy("seed: 3\nbatch: [rotation_pretext]")
    views, labels = policy.apply_batch(x, indices=list(range(6)))
    alone = augkit.load_policy("seed: 3\nsample: [rotation_pretext]")
    for i in range(6):
        view, label = alone(x[i], index=i)
        assert torch.equal(view, views[i]) and int(label) == int(labels[i])


def test_pair_batch_keeps_the_dataset_labels_beside_the_pair():
    x, y = torch.rand(4, 3, 5, 5), torch.tensor([5, 6, 7, 8])
    policy = augkit.load_policy("batch: [rotation_pretext]")
    (views, targets), labels = policy.apply_batch((x, y), generator=0)
    assert labels is y and views.shape == x.shape and targets.shape == (4,)


def test_sample_keeps_its_structure_and_a_later_step_passes_the_target():
    x = torch.rand(3, 6, 6)
    policy = augkit.load_policy("sample: [rotation_pretext, gaussian_blur]")
    (view, target), label = policy((x, 9), index=0)
    assert label == 9 and target.ndim == 0 and view.shape == x.shape
    d = augkit.make("rotation_pretext")({"image": x, "label": 1}, generator=0)
    assert d["label"] == 1 and torch.equal(
        d["image"][0], torch.rot90(x, [0, 90, 180, 270][int(d["image"][1])] // 90, (-2, -1)))


def test_replay_and_gradient():
    x = torch.rand(2, 3, 4, 4, requires_grad=True)
    t = augkit.make("rotation_pretext")
    (view, label), params = t(x, generator=1, return_params=True)
    replayed, again = t.replay(x, params)
    assert torch.equal(view, replayed) and torch.equal(label, again)
    view.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))


def test_refusals():
    with pytest.raises(ParamError, match="distinct angles"):
        augkit.make("rotation_pretext", angles=[0, 0])
    with pytest.raises(ParamError, match="distinct angles"):
        augkit.make("rotation_pretext", angles=[45])
    with pytest.raises(ParamError, match="allowed: 1"):
        augkit.make("rotation_pretext", p=0.5)
    with pytest.raises(InputError, match="two shapes"):
        VF.rot90_each(torch.zeros(2, 1, 2, 3), [0, 1])
    with pytest.raises(InputError, match="rotation_pretext"):
        augkit.make("rotation_pretext")("not an image")
    policy = augkit.load_policy("batch: [{random_apply: {transforms: [rotation_pretext]}}]")
    with pytest.raises(InputError, match="every image"):
        policy.apply_batch(torch.rand(64, 1, 2, 2), generator=0)


def test_sample_with_geometric_targets_is_refused():
    tv = pytest.importorskip("torchvision.tv_tensors")
    sample = (tv.Image(torch.rand(3, 4, 4)), tv.Mask(torch.zeros(4, 4)))
    with pytest.raises(InputError, match="Mask"):
        augkit.make("rotation_pretext")(sample, generator=0)


def test_yaml_round_trip():
    t = augkit.make("rotation_pretext", angles=[0, 180])
    policy = augkit.load_policy(augkit.Policy(sample=[t]).to_yaml())
    assert policy.sample[0] == t
