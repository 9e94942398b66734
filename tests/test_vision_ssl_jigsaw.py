"""jigsaw: the view's tiles are the image's tiles in the order the index names, the set is
deterministic from its seed and greedily maximally distant, saved in YAML, uniform draws."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import augkit
from augkit.errors import InputError, ParamError
from augkit.plugins.vision import functional as VF

SMALL = {"grid": 2, "permutations": 8}


def _tiles(x, grid, th, tw, ch, cw, offsets=None):
    """Tile j of a CHW image, row by row, cut at offsets[j] inside its cell."""
    out = []
    for j in range(grid * grid):
        r, c = divmod(j, grid)
        dy, dx = (0, 0) if offsets is None else offsets[j]
        out.append(x[..., r * ch + dy: r * ch + dy + th, c * cw + dx: c * cw + dx + tw])
    return out


@st.composite
def cases(draw):
    grid = draw(st.integers(2, 3))
    gap = draw(st.integers(0, 2))
    h = draw(st.integers(grid * (gap + 1), 12))
    w = draw(st.integers(grid * (gap + 1), 12))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    x = torch.randint(0, 256, (n, c, h, w), dtype=torch.uint8,
                      generator=torch.Generator().manual_seed(draw(st.integers(0, 999))))
    return x, grid, gap


@given(cases(), st.integers(0, 2**31))
def test_view_tiles_are_the_tiles_the_index_names(case, seed):
    x, grid, gap = case
    t = augkit.make("jigsaw", grid=grid, permutations=5, gap=gap, seed=seed % 7)
    before = x.clone()
    (view, index), params = t(x, generator=seed, return_params=True)
    assert torch.equal(x, before) and index.shape == (x.shape[0],)
    h, w = x.shape[-2:]
    ch, cw = h // grid, w // grid
    th, tw = ch - gap, cw - gap
    assert view.shape == (*x.shape[:2], grid * th, grid * tw)
    for i in range(x.shape[0]):
        perm = t.permutation(int(index[i]))
        assert sorted(perm.tolist()) == list(range(grid * grid))
        got = _tiles(view[i], grid, th, tw, th, tw)
        offsets = params["offsets"][i]
        assert ((0 <= offsets) & (offsets <= gap)).all()
        source = _tiles(x[i], grid, th, tw, ch, cw, offsets[np.argsort(perm)])
        for j in range(grid * grid):
            assert torch.equal(got[j], source[perm[j]])
    # numpy NHWC gives the same view from the same draws.
    np_view, np_index = t(x.permute(0, 2, 3, 1).numpy().copy(), generator=seed)
    np.testing.assert_array_equal(np_index, index.numpy())
    np.testing.assert_array_equal(np_view, view.permute(0, 2, 3, 1).numpy())


def _greedy_reference(tiles, count, first):
    """Greedy max-min Hamming selection in plain Python: ties go to the first candidate."""
    cands = list(itertools.permutations(range(tiles)))
    chosen = [cands[first]]
    while len(chosen) < count:
        best, pick = -1, None
        for p in cands:
            if p in chosen:
                continue
            d = min(sum(a != b for a, b in zip(p, q, strict=True)) for q in chosen)
            if d > best:
                best, pick = d, p
        chosen.append(pick)
    return chosen


@pytest.mark.parametrize("count", [2, 5, 12, 24])
def test_set_is_greedily_maximally_distant(count):
    perms = VF.maximal_permutations(2, count, seed=3)
    assert len({tuple(p) for p in perms}) == count
    # Each next permutation is as far from its nearest predecessor as any candidate is.
    every = np.array(list(itertools.permutations(range(4))))
    for k in range(1, count):
        nearest = (every[:, None, :] != perms[None, :k, :]).sum(-1).min(1)
        assert (perms[k] != perms[:k]).sum(-1).min() == nearest.max()
    reference = _greedy_reference(4, count, 0)
    for seed in range(5):
        perms = VF.maximal_permutations(2, count, seed)
        assert VF.min_hamming(perms) == VF.min_hamming(reference)


def test_default_set_is_deterministic_and_far_apart():
    a = augkit.make("jigsaw")
    assert a.permutation_set == augkit.make("jigsaw").permutation_set
    assert a.permutation_set != augkit.make("jigsaw", seed=1).permutation_set
    assert len(a.permutation_set) == 100
    # 100 random permutations of 9 tiles come as close as 2 or less; the greedy set keeps 6.
    rng = np.random.default_rng(0)
    random_set = np.array([rng.permutation(9) for _ in range(100)])
    assert VF.min_hamming(a.permutation_set) > VF.min_hamming(random_set)
    assert VF.min_hamming(a.permutation_set) >= 6


def test_set_is_saved_in_yaml_and_used_as_given():
    t = augkit.make("jigsaw", grid=2, permutations=6, seed=5)
    text = augkit.Policy(sample=[t]).to_yaml()
    assert "permutation_set" in text
    loaded = augkit.load_policy(text).sample[0]
    assert loaded == t
    x = torch.rand(3, 8, 8)
    assert torch.equal(loaded(x, generator=1)[0], t(x, generator=1)[0])
    given_set = [[3, 2, 1, 0], [0, 1, 2, 3]]
    u = augkit.make("jigsaw", grid=2, permutations=2, permutation_set=given_set)
    assert u.permutation(0).tolist() == [3, 2, 1, 0]


def test_index_frequencies_are_uniform():
    _, index = augkit.make("jigsaw", **SMALL)(torch.zeros(4000, 1, 4, 4), generator=2)
    counts = np.bincount(index.numpy(), minlength=8)
    assert stats.chisquare(counts).pvalue > 1e-3, counts


def test_batch_stage_equals_each_image_alone():
    x = torch.rand(5, 3, 8, 8)
    text = "seed: 4\n{}: [{{jigsaw: {{grid: 2, permutations: 8, gap: 1}}}}]"
    views, index = augkit.load_policy(text.format("batch")).apply_batch(x, indices=range(5))
    alone = augkit.load_policy(text.format("sample"))
    for i in range(5):
        view, k = alone(x[i], index=i)
        assert torch.equal(view, views[i]) and int(k) == int(index[i])


def test_refusals():
    with pytest.raises(ParamError, match="permutation_set"):
        augkit.make("jigsaw", grid=2, permutations=2, permutation_set=[[0, 1, 2, 3]] * 2)
    with pytest.raises(ParamError, match="permutation_set"):
        augkit.make("jigsaw", grid=2, permutations=1, permutation_set=[[0, 1, 2, 4]])
    with pytest.raises(ParamError, match="at most 24"):
        augkit.make("jigsaw", grid=2, permutations=25)
    with pytest.raises(InputError, match="jigsaw: image of 5x5 cut into a 3x3 grid with gap 1"):
        augkit.make("jigsaw", grid=3, permutations=4, gap=1)(torch.rand(1, 5, 5))


def test_gradient_reaches_every_pixel_a_tile_shows():
    x = torch.rand(2, 3, 7, 7, requires_grad=True)
    view, _ = augkit.make("jigsaw", grid=3, permutations=5)(x, generator=0)
    view.sum().backward()
    shown = torch.zeros_like(x)
    shown[..., :6, :6] = 1  # the last row and column lie past the last whole cell
    assert torch.equal(x.grad, shown)
