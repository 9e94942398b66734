"""Container semantics, measured: OneOf follows its weights, RandomApply its p, SomeOf picks
exactly n; nesting, replay and Views."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import augkit
from augkit import Compose, OneOf, RandomApply, SomeOf, Views
from augkit.compose import MAX_SOME_OF, MAX_VIEWS
from augkit.errors import ParamError

from .conftest import AddNoise, Shift, Tag

N = 4000


def _tags(container, n=N, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [container([], generator=g) for _ in range(n)]


def test_one_of_follows_weights():
    weights = [1.0, 2.0, 5.0]
    t = OneOf([Tag(id=0), Tag(id=1), Tag(id=2)], weights=weights)
    picks = _tags(t)
    assert all(len(p) == 1 for p in picks)
    counts = [sum(p == [i] for p in picks) for i in range(3)]
    expected = [N * w / sum(weights) for w in weights]
    # At this N a wrong weighting (e.g. uniform) gives chi2 in the hundreds.
    assert stats.chisquare(counts, expected).pvalue > 1e-3


def test_one_of_uniform_by_default_and_p():
    t = OneOf([Tag(id=0), Tag(id=1)], p=0.5)
    picks = _tags(t)
    empty = sum(p == [] for p in picks)
    assert stats.binomtest(empty, N, 0.5).pvalue > 1e-3
    ones = sum(p == [1] for p in picks)
    assert stats.binomtest(ones, N - empty, 0.5).pvalue > 1e-3


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_random_apply_probability(p):
    t = RandomApply([Tag(id=1), Tag(id=2)], p=p)
    picks = _tags(t)
    applied = sum(x == [1, 2] for x in picks)
    assert applied + sum(x == [] for x in picks) == N
    assert stats.binomtest(applied, N, p).pvalue > 1e-3


def test_random_apply_default_half():
    assert RandomApply(Tag(id=1)).p == 0.5


@pytest.mark.parametrize("n,replace", [(0, False), (1, False), (2, False), (3, False),
                                       (4, True)])
def test_some_of_applies_exactly_n(n, replace):
    t = SomeOf([Tag(id=i) for i in range(3)], n=n, replace=replace)
    picks = _tags(t, n=1500)
    assert all(len(x) == n for x in picks)
    if not replace:
        assert all(len(set(x)) == n for x in picks)
    if n == 1:
        counts = [sum(x == [i] for x in picks) for i in range(3)]
        assert stats.chisquare(counts).pvalue > 1e-3


def test_some_of_rejects_n_above_count():
    with pytest.raises(ParamError, match="some_of.n"):
        SomeOf([Tag(id=0)], n=2)


def test_one_of_weight_count_checked():
    with pytest.raises(ParamError, match="one weight per transform"):
        OneOf([Tag(id=0), Tag(id=1)], weights=[1.0])


def test_child_probability_respected():
    t = Compose([Tag(id=1, p=0.25)])
    picks = _tags(t)
    applied = sum(x == [1] for x in picks)
    assert stats.binomtest(applied, N, 0.25).pvalue > 1e-3


@given(seed=st.integers(0, 2**63 - 1), p=st.sampled_from([0.0, 0.3, 1.0]))
def test_a_lone_child_draws_from_the_generator_as_it_does_alone(seed, p):
    """A container of one child hands the call's generator on (a seed and a counter stream
    would cost it more), so Compose([t]) gives what t gives for every seed."""
    x = torch.arange(6.0)
    for child in (AddNoise(p=p), Shift(p=p)):
        assert torch.equal(Compose([child])(x, generator=seed), child(x, generator=seed))
    tag = Tag(id=1, p=p)
    assert Compose([tag])([], generator=seed) == tag([], generator=seed)


def test_nesting_and_replay():
    x = torch.zeros(5)
    t = Compose([OneOf([AddNoise(scale=1.0), Shift(amount=(1.0, 2.0))]),
                 RandomApply([SomeOf([AddNoise(), Shift()], n=2)], p=0.7)])
    for seed in range(20):
        out, params = t(x, generator=seed, return_params=True)
        assert torch.equal(t.replay(x, params), out)
    assert torch.equal(x, torch.zeros(5))


def test_same_seed_same_output_different_seed_different():
    x = torch.arange(10.0)
    t = Compose([AddNoise(scale=0.5), Shift()])
    a, b, c = t(x, generator=1), t(x, generator=1), t(x, generator=2)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert torch.equal(x, torch.arange(10.0))


def test_views_are_independent():
    x = torch.zeros(8)
    t = Views([AddNoise()], n=3)
    views = t(x, generator=0)
    assert isinstance(views, tuple) and len(views) == 3
    assert not torch.equal(views[0], views[1])
    assert torch.equal(x, torch.zeros(8))
    again, params = t(x, generator=0, return_params=True)
    assert all(torch.equal(a, b) for a, b in zip(again, t.replay(x, params), strict=True))


def test_views_not_applied_still_n():
    t = Views([AddNoise()], n=2, p=0.0)
    x = torch.ones(3)
    out = t(x, generator=0)
    assert len(out) == 2 and all(torch.equal(v, x) for v in out)


def test_public_names():
    for name in ["list_transforms", "make", "Compose", "OneOf", "SomeOf", "RandomApply",
                 "load_policy", "Policy", "AugkitError", "PolicyError"]:
        assert getattr(augkit, name) is not None


def test_apply_p_zero_is_identity():
    x = torch.arange(4.0)
    assert AddNoise(p=0.0)(x, generator=3) is x


def test_equality_compares_parameters_including_callables():
    """== holds for a callable parameter (which has no YAML form) and tells callables apart."""
    strategy = lambda y: {0: 10}  # noqa: E731
    a = augkit.make("smote", sampling_strategy=strategy)
    assert a == augkit.make("smote", sampling_strategy=strategy)
    assert a != augkit.make("smote", sampling_strategy=lambda y: {0: 10})
    assert Compose([a, Shift(mode="add")]) == Compose([a, Shift(mode="add")])
    assert Compose([a, Shift(mode="add")]) != Compose([a, Shift(mode="sub")])


@pytest.mark.parametrize("name,params", [
    ("views", {"n": 10**9}), ("some_of", {"n": 10**9, "replace": True}),
    ("views", {"n": MAX_VIEWS + 1}), ("some_of", {"n": MAX_SOME_OF + 1, "replace": True}),
])
def test_container_sizes_are_bounded(name, params):
    bound = MAX_VIEWS if name == "views" else MAX_SOME_OF
    with pytest.raises(ParamError, match=rf"^{name}\.n: got \d+; allowed: an integer in \[\d, "
                                         rf"{bound}\]"):
        augkit.make(name, transforms=[Tag(id=0)], **params)
    assert len(augkit.make(name, transforms=[Tag(id=0)], n=bound, replace=True)
               if name == "some_of" else augkit.make(name, transforms=[Tag(id=0)], n=bound)) == 1
    doc = {row["name"]: row["doc"] for row in augkit.registry.get(name).describe_params()}["n"]
    assert f"at most {bound}" in doc
