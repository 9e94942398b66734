"""The batch stage takes every decision per item: an image policy gives item i of epoch e the
same bits whether its steps stand in ``sample`` (one image at a time), in ``batch`` (the whole
NCHW batch) or split between the two; within one batch the per-item decisions follow the
declared probabilities and weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from augkit.plugins.vision import MixUp
from augkit.policy import load_policy
from augkit.random import batch_stream

# ---- policies of blur, erasing and containers ------------------------------------------------

_probability = st.sampled_from([0.0, 0.3, 0.5, 1.0])


@st.composite
def _interval(draw, low: float, high: float) -> list[float]:
    a, b = draw(st.floats(low, high)), draw(st.floats(low, high))
    return sorted([a, b])


@st.composite
def _leaf(draw) -> dict:
    if draw(st.booleans()):
        params = {"sigma": draw(_interval(0.1, 4.0)), "p": draw(_probability)}
        if draw(st.booleans()):
            params["kernel_size"] = draw(st.sampled_from([1, 3, 7]))
        return {"gaussian_blur": params}
    return {"random_erasing": {
        "scale": draw(_interval(0.02, 0.6)),
        "value": draw(st.sampled_from(["zero", "mean", "random"])),
        "count": draw(st.integers(1, 3)),
        "p": draw(_probability),
    }}


def _container(children: st.SearchStrategy) -> st.SearchStrategy:
    @st.composite
    def build(draw) -> dict:
        kids = draw(st.lists(children, min_size=1, max_size=3))
        name = draw(st.sampled_from(["one_of", "random_apply", "some_of", "compose"]))
        params: dict = {"transforms": kids}
        if name == "one_of" and draw(st.booleans()):
            params["weights"] = draw(st.lists(st.sampled_from([0.0, 1.0, 3.0]),
                                              min_size=len(kids), max_size=len(kids)))
            if not sum(params["weights"]):
                params["weights"][0] = 1.0
        if name == "some_of":
            params["replace"] = draw(st.booleans())
            top = 3 if params["replace"] else len(kids)
            params["n"] = draw(st.integers(0, top))
        if name != "compose" or draw(st.booleans()):
            params["p"] = draw(_probability)
        return {name: params}

    return build()


steps = st.lists(st.recursive(_leaf(), _container, max_leaves=5), min_size=1, max_size=4)


def _images(n: int, dtype: torch.dtype, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, 11, 13, generator=g)
    return (x * 255).round().to(torch.uint8) if dtype == torch.uint8 else x.to(dtype)


def _same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.dtype.is_floating_point:
        width = {4: torch.int32, 8: torch.int64}[a.element_size()]
        return a.shape == b.shape and torch.equal(a.contiguous().view(width),
                                                  b.contiguous().view(width))
    return a.dtype == b.dtype and torch.equal(a, b)


@given(steps=steps, split=st.integers(0, 4), n=st.integers(1, 9),
       dtype=st.sampled_from([torch.uint8, torch.float32]),
       seed=st.integers(0, 2**64 - 1), epoch=st.integers(0, 3), first=st.integers(0, 1000),
       data_seed=st.integers(0, 50))
def test_a_step_gives_each_item_the_same_bits_in_either_stage(steps, split, n, dtype, seed,
                                                              epoch, first, data_seed):
    split = min(split, len(steps))
    images = _images(n, dtype, data_seed)
    indices = list(range(first, first + 2 * n, 2))
    sample_only = load_policy({"seed": seed, "sample": steps})
    batch_only = load_policy({"seed": seed, "batch": steps})
    both = load_policy({"seed": seed, "sample": steps[:split], "batch": steps[split:]})
    want = [sample_only(images[k], index=i, epoch=epoch) for k, i in enumerate(indices)]
    before = images.clone()
    got_batch = batch_only.apply_batch(images, indices=indices, epoch=epoch)
    half = torch.stack([both(images[k], index=i, epoch=epoch) for k, i in enumerate(indices)])
    got_split = both.apply_batch(half, indices=torch.tensor(indices), epoch=epoch)
    assert _same_bits(images, before)
    for k in range(n):
        assert _same_bits(got_batch[k], want[k]), (k, steps)
        assert _same_bits(got_split[k], want[k]), (k, steps, split)


def test_a_mixed_stage_runs_the_per_item_steps_then_mixup_on_the_pair():
    text = ("seed: 5\nbatch:\n  - gaussian_blur: {p: 0.5}\n  - random_erasing: {value: random}\n"
            "  - mixup: {num_classes: 4, alpha: 0.4}\n")
    policy = load_policy(text)
    per_item = load_policy("seed: 5\nsample:\n  - gaussian_blur: {p: 0.5}\n"
                           "  - random_erasing: {value: random}\n")
    images, labels = _images(12, torch.float32, 1), torch.arange(12) % 4
    indices = list(range(100, 112))
    out, soft = policy.apply_batch((images, labels), indices=indices, epoch=3)
    items = torch.stack([per_item(images[k], index=i, epoch=3) for k, i in enumerate(indices)])
    mixup = MixUp(num_classes=4, alpha=0.4)
    want, want_soft = mixup.forward((items, labels), batch_stream(policy.root, 3, 2, indices))[0]
    assert _same_bits(out, want) and torch.equal(soft, want_soft)
    assert soft.shape == (12, 4)


# ---- per-item decisions within one batch -------------------------------------------------------

N = 256
ALPHA = 1e-3


def _ones(n: int = N) -> torch.Tensor:
    return torch.ones(n, 3, 8, 8)


#: A box of half the image, square: it always fits (h = w = 6 < 8), so an applied erasing
#: always shows.
BOX = {"scale": [0.5, 0.5], "ratio": [1.0, 1.0]}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_of_branch_counts_follow_its_weights(seed):
    weights = [1.0, 2.0, 5.0]
    policy = load_policy({"seed": seed, "batch": [{"one_of": {"weights": weights, "transforms": [
        {"random_erasing": {**BOX, "value": "zero"}},
        {"random_erasing": {**BOX, "value": "random"}},
        {"random_erasing": {**BOX, "value": "mean"}},  # the mean of ones: no visible change
    ]}}]})
    out = policy.apply_batch(_ones(), indices=range(N))
    flat = out.reshape(N, -1)
    zero = (flat == 0).any(1)
    noise = ((flat > 0) & (flat < 1)).any(1)
    assert not (zero & noise).any()
    counts = [int(zero.sum()), int(noise.sum()), int((~zero & ~noise).sum())]
    expected = np.array(weights) / sum(weights) * N
    assert stats.chisquare(counts, expected).pvalue > ALPHA, counts
    # Equal weights would be refused: the test tells the weights apart.
    assert stats.chisquare(counts, [N / 3] * 3).pvalue < ALPHA, counts


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_random_apply_rate_follows_p(seed, p):
    policy = load_policy({"seed": seed, "batch": [{"random_apply": {"p": p, "transforms": [
        {"random_erasing": {**BOX, "value": "zero"}}]}}]})
    out = policy.apply_batch(_ones(), indices=range(N), epoch=seed)
    applied = int((out.reshape(N, -1) == 0).any(1).sum())
    assert stats.binomtest(applied, N, p).pvalue > ALPHA, applied
    assert stats.binomtest(applied, N, min(p + 0.2, 0.95)).pvalue < ALPHA, applied


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("p", [0.2, 0.7])
def test_a_leaf_applies_to_each_item_with_its_p(seed, p):
    policy = load_policy({"seed": seed, "batch": [
        {"random_erasing": {**BOX, "value": "zero", "p": p}}]})
    out = policy.apply_batch(_ones(), indices=range(1000, 1000 + N))
    applied = int((out.reshape(N, -1) == 0).any(1).sum())
    assert stats.binomtest(applied, N, p).pvalue > ALPHA, applied
    assert 0 < applied < N  # decided per item, not once for the whole batch
