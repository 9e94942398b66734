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


# ---- samples with targets (torchvision v2's rules) -----------------------------------------

tv = pytest.importorskip("torchvision.tv_tensors")
v2 = pytest.importorskip("torchvision.transforms.v2")


def _image(seed: int = 0, dtype: torch.dtype = torch.uint8, size=(3, 24, 32)) -> torch.Tensor:
    x = torch.rand(size, generator=torch.Generator().manual_seed(seed))
    return (x * 255).round().to(dtype) if dtype == torch.uint8 else x.to(dtype)


def _target(seed: int = 0, size=(24, 32)) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {
        "boxes": tv.BoundingBoxes([[1, 2, 10, 12], [5, 5, 20, 15]], format="XYXY",
                                  canvas_size=size),
        "masks": tv.Mask(torch.randint(0, 3, (2, *size), generator=g, dtype=torch.uint8)),
        "labels": torch.tensor([1, 2]),
    }


def test_blur_passes_a_mask_through():
    mask = tv.Mask(torch.randint(0, 3, (1, 16, 16), dtype=torch.uint8,
                                 generator=torch.Generator().manual_seed(0)))
    blur = augkit.make("gaussian_blur", sigma=[2.0, 3.0])
    assert blur(mask, generator=0) is mask
    image, out_mask = blur(tv.Image(_image()), mask, generator=0)
    assert out_mask is mask and set(out_mask.unique().tolist()) == {0, 1, 2}
    assert isinstance(image, tv.Image)


@pytest.mark.parametrize("image_type", ["image", "plain"])
def test_v2_compose_blur_and_erasing_with_boxes_and_masks(image_type):
    image = tv.Image(_image()) if image_type == "image" else _image()
    target = _target()
    before = {k: v.clone() for k, v in target.items()}
    blur = augkit.make("gaussian_blur", sigma=[1.0, 2.0])
    erasing = augkit.make("random_erasing", scale=[0.2, 0.3])
    out_image, out_target = v2.Compose([blur, erasing])(image, target)
    assert type(out_image) is type(image) and out_image.shape == image.shape
    assert not torch.equal(out_image, image)
    assert out_target.keys() == target.keys() and out_target is not target
    for key, value in target.items():
        assert out_target[key] is value and torch.equal(value, before[key])
    assert out_target["boxes"].canvas_size == (24, 32)


def test_v2_compose_with_v2_transforms_and_a_list_sample():
    sample = [tv.Image(_image(1)), _target(1), "id-7"]
    out = v2.Compose([v2.RandomHorizontalFlip(p=1.0), augkit.make("gaussian_blur"),
                      augkit.make("random_erasing")])(sample)
    assert isinstance(out, list) and out[2] == "id-7"
    assert isinstance(out[1]["boxes"], tv.BoundingBoxes) and isinstance(out[1]["masks"], tv.Mask)
    # v2's flip moved the boxes; augkit left them where the flip put them.
    flipped = v2.RandomHorizontalFlip(p=1.0)(sample[1]["boxes"])
    assert torch.equal(out[1]["boxes"], flipped)


@pytest.mark.parametrize("name", ["gaussian_blur", "random_erasing"])
def test_image_leaves_get_the_draw_of_the_image_alone(name):
    t = augkit.make(name)
    image = tv.Image(_image(2))
    (got, target), params = t(image, _target(), generator=5, return_params=True)
    alone, params_alone = t(image, generator=5, return_params=True)
    assert torch.equal(got, alone) and params.keys() == params_alone.keys()
    assert torch.equal(t.replay((image, target), params)[0], alone)


@pytest.mark.parametrize("name", ["gaussian_blur", "random_erasing"])
def test_numpy_and_pil_images_in_a_sample(name):
    import numpy as np
    from PIL import Image

    t = augkit.make(name)
    array = _image(6).permute(1, 2, 0).numpy().copy()
    mask = np.zeros(array.shape[:2], np.uint8)
    out, out_mask = t(array, {"mask": mask}, generator=3)
    assert out_mask["mask"] is mask and np.array_equal(out, t(array, generator=3))
    picture = Image.fromarray(array)
    out_picture, out_array = t(picture, array, generator=3)  # PIL is the image: array passes
    assert out_array is array
    assert np.array_equal(np.asarray(out_picture), np.asarray(t(picture, generator=3)))


def test_every_image_of_a_sample_shares_the_draw():
    erasing = augkit.make("random_erasing", scale=[0.2, 0.4], value="random")
    a, b = tv.Image(_image(3)), tv.Image(_image(4, torch.float32))
    out_a, out_b = erasing((a, b), generator=1)
    assert torch.equal(out_a, erasing(a, generator=1))
    assert torch.equal(out_b, erasing(b, generator=1))


def test_a_video_gets_one_draw_for_all_frames():
    video = tv.Video(torch.stack([_image(i) for i in range(4)]))
    for t in (augkit.make("gaussian_blur", sigma=[0.5, 3.0]), augkit.make("random_erasing")):
        out, params = t(video, generator=2, return_params=True)
        assert isinstance(out, tv.Video)
        frames = [t.apply(video[i].as_subclass(torch.Tensor), {k: v for k, v in params.items()
                                                              if k != "applied"})
                  for i in range(4)]
        assert torch.equal(out.as_subclass(torch.Tensor), torch.stack(frames))


def test_sample_errors_name_what_is_allowed():
    from augkit.errors import InputError

    erasing = augkit.make("random_erasing")
    with pytest.raises(InputError, match=r"^random_erasing: images of sizes .*; allowed: one "):
        erasing(tv.Image(_image()), tv.Image(_image(size=(3, 8, 8))), generator=0)
    with pytest.raises(InputError, match=r"^gaussian_blur: got tuple holding no image; allowed"):
        augkit.make("gaussian_blur")(3, "x", generator=0)
    with pytest.raises(InputError, match=r"^gaussian_blur: got str; allowed"):
        augkit.make("gaussian_blur")("x", generator=0)
    with pytest.raises(InputError, match=r"^gaussian_blur: image tensor of dtype torch.bool"):
        augkit.make("gaussian_blur")(tv.Image(torch.ones(3, 4, 4, dtype=torch.bool)),
                                     _target(), generator=0)


def test_a_sample_of_only_targets_passes_through():
    target = {k: v for k, v in _target().items() if k != "labels"}
    for name in ("gaussian_blur", "random_erasing"):
        assert augkit.make(name)(target, generator=0) is target
        assert augkit.make(name)(target["boxes"], generator=0) is target["boxes"]
        assert augkit.make(name)(target["masks"], generator=0) is target["masks"]


def test_without_a_tv_image_the_first_plain_tensor_is_the_image():
    from augkit.errors import InputError

    # As v2: labels first in a sample without tv_tensors.Image are taken for the image.
    with pytest.raises(InputError, match=r"^gaussian_blur: image tensor of shape \(2,\).*"
                                         r"first plain tensor"):
        augkit.make("gaussian_blur")(_target(), generator=0)
    image, other = _image(1), _image(2)
    out_image, out_other = augkit.make("gaussian_blur")(image, other, generator=0)
    assert out_other is other and torch.equal(out_image, augkit.make("gaussian_blur")(
        image, generator=0))


def test_skipped_by_the_apply_probability_gives_the_sample_back():
    sample = (tv.Image(_image()), _target())
    out, params = augkit.make("gaussian_blur", p=0.0)(*sample, generator=0, return_params=True)
    assert out is sample or (out[0] is sample[0] and out[1] is sample[1])
    assert params == {"applied": False}


def test_a_policy_sample_stage_takes_detection_samples():
    from pathlib import Path

    policy = augkit.load_policy(Path(__file__).resolve().parents[1] / "examples" / "policies"
                                / "vision.yaml")
    image, target = tv.Image(_image(5)), _target()
    for index in range(4):
        out_image, out_target = policy((image, target), generator=3, index=index)
        assert torch.equal(out_image, policy(image, generator=3, index=index))
        assert all(out_target[k] is v for k, v in target.items())


def test_samples_keep_gradients():
    image = tv.Image(torch.rand(3, 16, 16, requires_grad=True))
    out, _ = v2.Compose([augkit.make("gaussian_blur"), augkit.make("random_erasing")])(
        image, _target(size=(16, 16)))
    assert out.requires_grad


# ---- any structure: property tests ---------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch.utils._pytree import tree_flatten, tree_unflatten  # noqa: E402

_IMAGE = "<image>"  # marks where the strategy puts an image (replaced before the call)
_SIZE = (8, 10)


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _targets(plain_tensors: bool) -> st.SearchStrategy:
    leaves = [
        st.integers(-3, 3), st.text(max_size=3), st.none(),
        st.integers(0, 99).map(lambda s: tv.Mask(torch.randint(0, 3, (1, *_SIZE),
                                                               generator=_seeded(s)))),
        st.integers(0, 99).map(lambda s: tv.BoundingBoxes(
            torch.randint(0, 8, (2, 4), generator=_seeded(s)), format="XYWH",
            canvas_size=_SIZE)),
        st.integers(0, 99).map(lambda s: tv.KeyPoints(
            torch.rand(3, 2, generator=_seeded(s)) * 8, canvas_size=_SIZE)),
        st.just(_IMAGE),
    ]
    if plain_tensors:
        leaves.append(st.integers(0, 99).map(lambda s: torch.randint(0, 5, (3,),
                                                                     generator=_seeded(s))))
    return st.recursive(
        st.one_of(leaves),
        lambda kids: st.one_of(st.lists(kids, max_size=3), st.tuples(kids, kids),
                               st.dictionaries(st.sampled_from("abcd"), kids, max_size=3)),
        max_leaves=8,
    )


@st.composite
def samples(draw):
    """(sample, positions of the leaves the transform should change): ``explicit`` images are
    tv_tensors.Image (every one transformed; plain tensors are targets), else plain tensors
    (only the first transformed, as v2's rule)."""
    explicit = draw(st.booleans())
    tree = draw(_targets(plain_tensors=explicit))
    leaves, spec = tree_flatten(tree)
    while leaves.count(_IMAGE) < (1 if explicit else 2):
        # Plain images: at least two, so that one is a plain tensor v2 passes through.
        tree = (_IMAGE, tree) if draw(st.booleans()) else [tree, _IMAGE]
        leaves, spec = tree_flatten(tree)
    marks = [i for i, x in enumerate(leaves) if isinstance(x, str) and x == _IMAGE]
    for i in marks:
        dtype = draw(st.sampled_from([torch.uint8, torch.float32]))
        x = _image(draw(st.integers(0, 99)), dtype, (3, *_SIZE))
        leaves[i] = tv.Image(x) if explicit else x
    return tree_unflatten(leaves, spec), marks if explicit else marks[:1]


def _same_leaf(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return type(a) is type(b) and a.dtype == b.dtype and torch.equal(a, b)
    return a == b


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sample=samples(), seed=st.integers(0, 2**32),
       choice=st.sampled_from([("gaussian_blur", {}), ("random_erasing", {}),
                               ("random_erasing", {"value": "random", "scale": [0.2, 0.5]}),
                               ("random_erasing", {"value": "mean", "count": 2})]))
def test_any_structure_is_walked_as_v2_does(sample, seed, choice):
    data, changed = sample
    name, params = choice
    t = augkit.make(name, **params)
    leaves, spec = tree_flatten(data)
    before = [x.clone() if isinstance(x, torch.Tensor) else x for x in leaves]
    out = t(data, generator=seed)
    out_leaves, out_spec = tree_flatten(out)
    assert out_spec == spec
    for i, (x, y) in enumerate(zip(leaves, out_leaves, strict=True)):
        if i in changed:
            alone = t(x, generator=seed)
            assert type(y) is type(x) and _same_leaf(y, alone)
        else:
            assert y is x
    assert all(_same_leaf(x, b) for x, b in zip(leaves, before, strict=True))  # input kept
    again = tree_flatten(t(data, generator=seed))[0]
    assert all(_same_leaf(a, b) for a, b in zip(out_leaves, again, strict=True))


# ---- mixup and cutmix with a target dict ---------------------------------------------------


@pytest.mark.parametrize("name", ["mixup", "cutmix"])
@pytest.mark.parametrize("soft", [False, True])
def test_mixing_a_target_dict_mixes_its_labels(name, soft):
    from collections import OrderedDict

    images = torch.rand(6, 3, 8, 8, generator=_seeded(0))
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    if soft:
        labels = torch.nn.functional.one_hot(labels, 3).float()
    ids = torch.arange(6)
    target = OrderedDict(image_id=ids, labels=labels, source="train")
    t = augkit.make(name, num_classes=3)
    (out, out_target), params = t(images, target, generator=4, return_params=True)
    want_images, want_labels = t(images, labels, generator=4)
    assert torch.equal(out, want_images) and torch.equal(out_target["labels"], want_labels)
    assert type(out_target) is OrderedDict and list(out_target) == list(target)
    assert out_target["image_id"] is ids and out_target["source"] == "train"
    assert target["labels"] is labels  # the caller's dict is not changed
    assert torch.equal(t.replay((images, target), params)[1]["labels"], want_labels)
    skipped = augkit.make(name, num_classes=3, p=0.0)(images, target, generator=4)
    assert skipped[1]["labels"].shape == (6, 3) and skipped[1]["image_id"] is ids


@pytest.mark.parametrize("name", ["mixup", "cutmix"])
def test_mixing_refuses_boxes_masks_and_detection_batches(name):
    from augkit.errors import InputError

    t = augkit.make(name, num_classes=3)
    images = torch.rand(2, 3, 24, 32)
    target = {"labels": torch.tensor([0, 1]), "boxes": _target()["boxes"]}
    with pytest.raises(InputError, match=rf"^{name}: target\['boxes'\] is a "
                                         r"tv_tensors.BoundingBoxes; allowed: .*labels"):
        t(images, target, generator=0)
    with pytest.raises(InputError, match=rf"^{name}: target\['masks'\] is a tv_tensors.Mask"):
        t(images, {"labels": torch.tensor([0, 1]), "masks": _target()["masks"]}, generator=0)
    with pytest.raises(InputError, match=rf"^{name}: target dict with keys \['ids'\]; allowed"):
        t(images, {"ids": torch.tensor([0, 1])}, generator=0)
    with pytest.raises(InputError, match=rf"^{name}: got a list of per-image target dicts"):
        t(images, [{"labels": torch.tensor([0])}, {"labels": torch.tensor([1])}], generator=0)
