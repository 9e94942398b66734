"""Where a step stands changes where it runs, not what it does: a policy with its steps in
``sample``, the same steps in ``batch``, and any split between the two give each item the same
bits for the same (seed, epoch, index); the batch stage decides per item (containers, apply
probabilities, drawn parameters). Here with small table transforms over the rows of a 2-D
tensor; the graph and image transforms have their own files."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from augkit import Policy
from augkit.compose import Compose, OneOf, RandomApply, SomeOf, Views
from augkit.errors import AugkitError, PolicyError
from augkit.params import Number, Param
from augkit.random import draw_seed
from augkit.transform import Transform

from .conftest import Shift


class RowNoise(Transform):
    """Adds N(0, sigma) noise to one row (a per-item table transform, sample or batch)."""

    name = "tests.row_noise"
    kinds = ("table",)
    levels = ("sample", "batch")
    params = {"sigma": Param(Number(0.0, 10.0), 1.0, "noise scale")}

    def make_params(self, data: Any, generator: Any) -> dict[str, Any]:
        return {"noise": torch.randn(data.shape, generator=generator, dtype=torch.float64)}

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        return data + (self.sigma * params["noise"]).to(data.dtype)


class SeedNoise(Transform):
    """Adds noise from a drawn seed (a seed-only transform: the batch stage draws every
    item's decision and seed in one pass)."""

    name = "tests.seed_noise"
    kinds = ("table",)
    levels = ("sample", "batch")
    counter_draws = True
    seed_only = True

    def make_params(self, data: Any, generator: Any) -> dict[str, Any]:
        return {"seed": draw_seed(generator)}

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        g = torch.Generator().manual_seed(params["seed"])
        return data + torch.rand(data.shape, generator=g, dtype=torch.float64).to(data.dtype)


class RowMean(Transform):
    """Replaces every row by the batch mean (a batch-only toy: it needs the whole batch)."""

    name = "tests.row_mean"
    kinds = ("table",)
    levels = ("batch",)

    def make_params(self, data: Any, generator: Any) -> dict[str, Any]:
        return {"w": float(torch.rand((), generator=generator, dtype=torch.float64))}

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        return data * params["w"] + data.mean(0, keepdim=True) * (1 - params["w"])


def _leaf(draw: Any) -> Transform:
    p = draw(st.sampled_from([1.0, 0.5, 0.2]))
    kind = draw(st.integers(0, 2))
    if kind == 2:
        return SeedNoise(p=p)
    if kind == 1:
        return RowNoise(sigma=draw(st.sampled_from([0.5, 1.0])), p=p)
    return Shift(amount=(-1.0, 1.0), mode=draw(st.sampled_from(["add", "sub"])), p=p)


@st.composite
def steps(draw: Any, depth: int = 2) -> Transform:
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return _leaf(draw)
    kids = [draw(steps(depth=depth - 1)) for _ in range(draw(st.integers(1, 3)))]
    kind = draw(st.sampled_from(["compose", "one_of", "some_of", "random_apply"]))
    if kind == "compose":
        return Compose(kids)
    if kind == "one_of":
        return OneOf(kids, weights=[draw(st.integers(1, 3)) for _ in kids])
    if kind == "some_of":
        return SomeOf(kids, n=draw(st.integers(0, len(kids))))
    return RandomApply(kids, p=draw(st.sampled_from([0.3, 0.7])))


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(policy_steps=st.lists(steps(), min_size=1, max_size=4), split=st.integers(0, 4),
       seed=st.integers(0, 2**31), epoch=st.integers(0, 3),
       rows=st.integers(1, 12), first=st.integers(0, 10**6))
def test_sample_batch_and_split_placements_give_the_same_items(policy_steps, split, seed,
                                                               epoch, rows, first):
    split = min(split, len(policy_steps))
    table = torch.randn(rows, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    indices = list(range(first, first + rows))
    sample_only = Policy(sample=policy_steps, seed=seed)
    batch_only = Policy(batch=policy_steps, seed=seed)
    mixed = Policy(sample=policy_steps[:split], batch=policy_steps[split:], seed=seed)
    want = torch.stack([sample_only(row, index=i, epoch=epoch)
                        for row, i in zip(table, indices, strict=True)])
    before = table.clone()
    got = batch_only.apply_batch(table, indices=indices, epoch=epoch)
    assert torch.equal(table, before)
    assert torch.equal(got, want)
    halfway = torch.stack([mixed(row, index=i, epoch=epoch)
                           for row, i in zip(table, indices, strict=True)])
    assert torch.equal(mixed.apply_batch(halfway, indices=indices, epoch=epoch), want)


def test_two_equal_steps_draw_independently():
    policy = Policy(batch=[RowNoise(sigma=1.0), RowNoise(sigma=1.0)], seed=0)
    once = Policy(batch=[RowNoise(sigma=1.0)], seed=0)
    zeros = torch.zeros(1024, 4, dtype=torch.float64)
    twice = policy.apply_batch(zeros, indices=range(1024))
    first = once.apply_batch(zeros, indices=range(1024))
    # The second step's noise is the difference: as large as the first's, and unrelated.
    second = twice - first
    assert not torch.equal(second, first)
    assert abs(float(torch.corrcoef(torch.stack([first.flatten(), second.flatten()]))[0, 1])) < 0.1


def test_items_are_keyed_by_index_not_by_place_in_the_batch():
    policy = Policy(batch=[RowNoise()], seed=4)
    zeros = torch.zeros(6, 2, dtype=torch.float64)
    a = policy.apply_batch(zeros, indices=[10, 11, 12, 13, 14, 15])
    b = policy.apply_batch(zeros[:3], indices=[13, 14, 15])
    assert torch.equal(a[3:], b)
    assert not torch.equal(a[:3], b)
    assert not torch.equal(a, policy.apply_batch(zeros, indices=range(10, 16), epoch=1))


def test_apply_probability_and_choices_are_drawn_per_item():
    """one_of over 256 rows takes both branches in one batch (once per batch would not)."""
    policy = Policy(batch=[OneOf([Shift(amount=(1.0, 1.0)), Shift(amount=(-1.0, -1.0))])],
                    seed=0)
    out = policy.apply_batch(torch.zeros(256, 1), indices=range(256))
    plus = int((out == 1).sum())
    assert 0 < plus < 256 and plus + int((out == -1).sum()) == 256
    applied = Policy(batch=[Shift(amount=(1.0, 1.0), p=0.5)], seed=0).apply_batch(
        torch.zeros(256, 1), indices=range(256))
    assert 0 < int((applied == 1).sum()) < 256


def test_batch_only_steps_see_the_whole_batch_and_are_keyed_by_the_indices():
    table = torch.randn(8, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    policy = Policy(batch=[RowNoise(sigma=0.1), RowMean()], seed=2)
    a = policy.apply_batch(table, indices=range(8))
    assert torch.equal(a, policy.apply_batch(table, indices=range(8)))
    noisy = Policy(batch=[RowNoise(sigma=0.1)], seed=2).apply_batch(table, indices=range(8))
    w = (a - noisy.mean(0, keepdim=True)) / (noisy - noisy.mean(0, keepdim=True))
    assert torch.allclose(w, w[0, 0].expand_as(w))  # one weight for the whole batch
    assert not torch.equal(a, policy.apply_batch(table, indices=range(1, 9)))


def test_pairs_give_the_inputs_to_per_item_steps_and_the_pair_to_batch_only_ones():
    x, y = torch.zeros(5, 2, dtype=torch.float64), torch.arange(5)
    policy = Policy(batch=[RowNoise()], seed=1)
    out_x, out_y = policy.apply_batch((x, y), indices=range(5))
    assert torch.equal(out_x, policy.apply_batch(x, indices=range(5))) and out_y is y


def test_without_indices_items_are_numbered_under_the_generator_or_the_process():
    zeros = torch.zeros(4, 2, dtype=torch.float64)
    policy = Policy(batch=[RowNoise()], seed=0)
    assert torch.equal(policy.apply_batch(zeros, generator=3),
                       policy.apply_batch(zeros, generator=3))
    assert not torch.equal(policy.apply_batch(zeros, generator=3),
                           policy.apply_batch(zeros, generator=4))
    # Neither: the process stream, a new root per call.
    assert not torch.equal(policy.apply_batch(zeros), policy.apply_batch(zeros))


@pytest.mark.parametrize("indices", [[0, 1], [0, 1, 2, 3.5], ["a", "b", "c", "d"]])
def test_indices_must_give_one_integer_per_item(indices):
    with pytest.raises(AugkitError, match="allowed: one integer dataset index per item"):
        Policy(batch=[RowNoise()]).apply_batch(torch.zeros(4, 2), indices=indices)


def test_what_a_batch_stage_cannot_run_is_a_clear_error():
    with pytest.raises(AugkitError, match="views in the sample stage"):
        Policy(batch=[Views([RowNoise()], n=2)]).apply_batch(torch.zeros(3, 2), indices=[0, 1, 2])
    with pytest.raises(PolicyError, match="mixes batch-only transforms"):
        Policy(batch=[OneOf([RowNoise(), RowMean()])]).apply_batch(torch.zeros(3, 2),
                                                                   indices=[0, 1, 2])
