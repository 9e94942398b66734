"""Policies that could never run are refused at load time (``augkit validate``), each at its
step's path and line: a step after views, two data kinds in one stage, a per-item step after a
batch-only one (mixup, cutmix) in the batch stage, a container holding both kinds of step."""

from __future__ import annotations

import pytest
import torch

from augkit.cli import main
from augkit.errors import PolicyError
from augkit.policy import load_policy

MIXUP_THEN_BLUR = (
    "<string>:3: batch[1].gaussian_blur: gaussian_blur acts on each item, but mixup before it "
    "mixes items (an image becomes a blend of several, its label soft), so what it gets is no "
    "longer an item; allowed: per-item steps before the batch-only ones (mixup, cutmix last in "
    "the batch stage)"
)
MIXED_ONE_OF = (
    "<string>:2: batch[0].one_of.transforms[1].cutmix: one_of holds cutmix, which mixes whole "
    "batches, and random_erasing, which acts on each item, but a container runs its children "
    "on one input; allowed: batch-only and per-item transforms in separate containers (e.g. "
    "one_of: [mixup, cutmix] after the per-item steps)"
)


def _error(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        load_policy(text)
    return info.value


def test_a_per_item_step_after_mixup_is_refused_with_its_path_and_line():
    assert str(_error("batch:\n  - mixup\n  - gaussian_blur\n")) == MIXUP_THEN_BLUR


def test_a_container_of_both_kinds_is_refused_with_its_path_and_line():
    assert str(_error("batch:\n  - one_of: {transforms: [random_erasing, cutmix]}\n")) \
        == MIXED_ONE_OF


REFUSED = [
    # a step after views, in its stage or in a container
    ("sample:\n  - views: {transforms: [gaussian_blur]}\n  - random_erasing\n",
     "sample[1].random_erasing", 3, "after views"),
    ("sample:\n  - random_apply:\n      transforms:\n        - views: {transforms: [edge_dropout]}"
     "\n        - node_dropout\n", "sample[0].random_apply.transforms[1].node_dropout", 5,
     "after views"),
    # graph and image transforms in one stage
    ("batch:\n  - random_erasing\n  - edge_dropout\n", "batch[1].edge_dropout", 3,
     "one data kind"),
    ("sample:\n  - some_of: {n: 1, transforms: [gaussian_blur, node_dropout]}\n",
     "sample[0].some_of.transforms[1].node_dropout", 2, "one data kind"),
    # a per-item step after a batch-only one
    ("batch:\n  - gaussian_blur\n  - cutmix\n  - random_erasing\n", "batch[2].random_erasing", 4,
     "no longer an item"),
    ("batch:\n  - one_of: {transforms: [mixup, cutmix]}\n  - diffusion_noise\n",
     "batch[1].diffusion_noise", 3, "no longer an item"),
    ("batch:\n  - mixup\n  - compose:\n      transforms:\n        - random_apply: "
     "{transforms: [gaussian_blur]}\n", "batch[1].compose.transforms[0].random_apply"
     ".transforms[0].gaussian_blur", 5, "no longer an item"),
    # a container holding batch-only and per-item steps
    ("batch:\n  - compose: {transforms: [gaussian_blur, mixup]}\n",
     "batch[0].compose.transforms[1].mixup", 2, "separate containers"),
    ("batch:\n  - some_of:\n      n: 2\n      transforms:\n        - one_of: {transforms: "
     "[mixup, cutmix]}\n        - random_erasing\n",
     "batch[0].some_of.transforms[1].random_erasing", 6, "separate containers"),
    ("batch:\n  - random_apply:\n      transforms:\n        - one_of: {transforms: "
     "[gaussian_blur, mixup]}\n", "batch[0].random_apply.transforms[0].one_of.transforms[1]"
     ".mixup", 4, "separate containers"),
]


@pytest.mark.parametrize("text,path,line,words", REFUSED)
def test_stages_that_could_never_run_are_refused(text, path, line, words):
    err = _error(text)
    assert (err.path, err.line) == (path, line), str(err)
    assert words in str(err) and "; allowed: " in str(err)
    assert str(err).startswith(f"<string>:{line}: {path}: ")


LOADS = [
    "batch:\n  - gaussian_blur\n  - random_erasing\n  - mixup: {num_classes: 10}\n",
    "batch:\n  - one_of: {transforms: [gaussian_blur, random_erasing]}\n"
    "  - one_of: {transforms: [mixup, cutmix], weights: [1, 3]}\n  - cutmix\n",
    "sample:\n  - gaussian_blur\nbatch:\n  - random_apply: {transforms: [random_erasing]}\n"
    "  - compose: {transforms: [mixup, random_apply: {transforms: [cutmix]}]}\n",
    "sample:\n  - gaussian_blur\n  - views: {transforms: [random_erasing]}\n"
    "batch:\n  - mixup\n",
    "batch:\n  - edge_dropout\n  - some_of: {n: 2, transforms: [node_dropout, feature_masking]}\n",
]


@pytest.mark.parametrize("text", LOADS)
def test_valid_mixed_stages_load(text):
    load_policy(text)


def test_a_mixed_batch_stage_runs_per_item_steps_on_the_images_and_mixup_on_the_pair():
    policy = load_policy("batch:\n  - gaussian_blur\n  - random_erasing\n"
                         "  - mixup: {num_classes: 5}\n")
    images = torch.rand(6, 3, 12, 12)
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    out, soft = policy.apply_batch((images, labels), indices=range(10, 16), epoch=1)
    assert out.shape == images.shape and soft.shape == (6, 5)
    assert torch.allclose(soft.sum(1), torch.ones(6, dtype=soft.dtype))


def test_validate_prints_the_rule(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("batch:\n  - mixup\n  - gaussian_blur\n")
    good = tmp_path / "good.yaml"
    good.write_text("batch:\n  - gaussian_blur\n  - mixup\n")
    assert main(["validate", str(bad), str(good)]) == 2
    err = capsys.readouterr()
    assert f"augkit: error: {bad}:3: batch[1].gaussian_blur: gaussian_blur acts on each item" \
        in err.err
    assert f"{good}: ok" in err.out
