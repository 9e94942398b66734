"""HeteroData: ``edge_rewiring`` with method random, relation by relation
(``F.rewire_random_bipartite`` between two node types), and ``subgraph_sampling`` with khop
and random walks keeping a share of every node type (``F.sample_typed_subgraph_nodes``):
invariants on generated graphs, agreement with the homogeneous transform on one type, and
the distributions."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest, chisquare
from torch_geometric.data import Data, HeteroData

import augkit
from augkit.errors import InputError
from augkit.plugins.graph import functional as F
from augkit.plugins.graph import hetero
from augkit.random import derive_seed

from .hetero_strategies import (
    assert_aligned_hetero,
    assert_same_hetero,
    assert_unchanged,
    assert_valid_hetero,
    hetero_graphs,
    pairs_mirrored,
    reverse_relations,
    snapshot,
)
from .test_graph_hetero import _toy

ALPHA = 1e-3  # fixed seeds: a failure means the distribution is wrong, not bad luck
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def _pairs(ei: torch.Tensor) -> list[tuple[int, int]]:
    return list(zip(ei[0].tolist(), ei[1].tolist(), strict=True))


# ---- rewire_random_bipartite ----------------------------------------------------------------


@st.composite
def bipartite(draw):
    ns, nd = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    e = draw(st.integers(0, 2 * ns * nd))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31)))
    ei = torch.stack([torch.randint(0, ns, (e,), generator=g),
                      torch.randint(0, nd, (e,), generator=g)])
    return ei, ns, nd


@SETTINGS
@given(bipartite(), st.sampled_from([0.0, 0.2, 0.6, 1.0]), st.integers(0, 2**62))
def test_bipartite_rewiring_moves_picked_pairs_to_distinct_free_pairs(graph, ratio, seed):
    ei, ns, nd = graph
    before = ei.clone()
    out, moved = F.rewire_random_bipartite(ei, ns, nd, ratio, seed)
    assert torch.equal(ei, before)
    assert out.shape == ei.shape and out.dtype == torch.long
    if ei.numel():
        assert int(out[0].min()) >= 0 and int(out[0].max()) < ns
        assert int(out[1].min()) >= 0 and int(out[1].max()) < nd
    assert torch.equal(out[:, ~moved], ei[:, ~moved])
    old = set(_pairs(ei))
    new_of: dict[tuple[int, int], set[tuple[int, int]]] = {}
    for a, b, m in zip(_pairs(ei), _pairs(out), moved.tolist(), strict=True):
        if m:
            assert b not in old  # a free pair of the input
            new_of.setdefault(a, set()).add(b)
    # Every stored copy of a pair moves together, and two pairs never land on one place.
    assert all(len(v) == 1 for v in new_of.values())
    targets = [next(iter(v)) for v in new_of.values()]
    assert len(set(targets)) == len(targets)
    for a in new_of:
        assert all(m for p, m in zip(_pairs(ei), moved.tolist(), strict=True) if p == a)
    if ratio == 0.0:
        assert not bool(moved.any())
    if ratio == 1.0:  # every pair is picked: as many move as there is room for
        assert len(new_of) == min(len(old), ns * nd - len(old))
    again, _ = F.rewire_random_bipartite(ei, ns, nd, ratio, seed)
    assert torch.equal(out, again)


@pytest.mark.parametrize("seed", [0, 1])
def test_bipartite_rewiring_pick_rate(seed):
    """A sparse relation: each distinct pair is picked with probability ratio, and all find
    room, so the moved pairs are a binomial count."""
    g = torch.Generator().manual_seed(seed)
    ei = torch.stack([torch.randint(0, 400, (3000,), generator=g),
                      torch.randint(0, 300, (3000,), generator=g)])
    _, moved = F.rewire_random_bipartite(ei, 400, 300, 0.3, derive_seed(seed, 5))
    units = {p for p in _pairs(ei)}
    picked = {p for p, m in zip(_pairs(ei), moved.tolist(), strict=True) if m}
    assert binomtest(len(picked), len(units), 0.3).pvalue > ALPHA


@pytest.mark.parametrize("ns, nd, edges", [
    (3, 4, [(0, 0), (1, 2), (2, 3)]),  # few free pairs: dealt out
    (9, 7, [(0, 0)]),  # many free pairs: drawn by rejection
])
def test_bipartite_rewiring_lands_uniformly_on_the_free_pairs(ns, nd, edges):
    ei = torch.tensor(edges).t().contiguous()
    free = [(a, b) for a in range(ns) for b in range(nd) if (a, b) not in edges]
    counts: Counter = Counter()
    draws = 0
    for seed in range(3000):
        out, moved = F.rewire_random_bipartite(ei, ns, nd, 1.0, derive_seed(seed, 11))
        for j in moved.nonzero().view(-1).tolist():
            counts[(int(out[0, j]), int(out[1, j]))] += 1
            draws += 1
    assert set(counts) <= set(free)
    assert chisquare([counts[p] for p in free]).pvalue > ALPHA


# ---- edge_rewiring, method random, on HeteroData --------------------------------------------


@SETTINGS
@given(hetero_graphs(), st.sampled_from([0.0, 0.3, 1.0]), st.integers(0, 2**31))
def test_random_rewiring_per_relation_properties(data, ratio, seed):
    snap = snapshot(data)
    t = augkit.make("edge_rewiring", method="random", ratio=ratio)
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid_hetero(out)  # ends stay below their own types' node counts
    for nt in data.node_types:
        assert out[nt].x is data[nt].x
    for et in data.edge_types:
        ei, new = data[et].edge_index, out[et].edge_index
        assert new.shape == ei.shape, et
        for key, value in data[et].items():  # edges keep their positions and attributes
            if key != "edge_index":
                assert out[et][key] is value
        old = set(_pairs(ei))
        for a, b in zip(_pairs(ei), _pairs(new), strict=True):
            if a != b:  # moved to a free pair, never a self-loop
                assert b not in old, et
                assert et[0] != et[2] or b[0] != b[1], et
        if et[0] == et[2] and pairs_mirrored(ei, ei):  # a symmetric relation stays so
            assert pairs_mirrored(new, new), et
    for fwd, rev in reverse_relations(data):
        if pairs_mirrored(data[fwd].edge_index, data[rev].edge_index):
            assert pairs_mirrored(out[fwd].edge_index, out[rev].edge_index), (fwd, rev)
    if ratio == 0.0:
        assert_same_hetero(out, data)
    assert_same_hetero(out, t(data, generator=seed))


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("seed", [0, 5, 2**40])
def test_random_rewiring_one_type_equals_the_homogeneous_transform(symmetric, seed):
    g = torch.Generator().manual_seed(seed % 1000)
    ei = torch.randint(0, 40, (2, 120), generator=g)
    if symmetric:
        ei = torch.cat([ei, ei.flip(0)], 1)
    h = HeteroData()
    h["a"].x = torch.randn(40, 2, generator=g)
    h["a", "r", "a"].edge_index = ei
    t = augkit.make("edge_rewiring", method="random", ratio=0.5)
    out = t.apply(h, {"seed": seed})
    want = t.apply(Data(x=h["a"].x, edge_index=ei), {"seed": hetero.type_seed(seed, "a__r__a")})
    assert torch.equal(out["a", "r", "a"].edge_index, want.edge_index)
    assert not torch.equal(want.edge_index, ei)


def test_random_rewiring_moves_every_relation_and_keeps_pairs():
    data = _toy()
    out = augkit.make("edge_rewiring", method="random", ratio=0.5)(data, generator=4)
    for et in data.edge_types:
        moved = (out[et].edge_index != data[et].edge_index).any(0).float().mean()
        assert 0.2 < float(moved) < 0.8, et
    assert pairs_mirrored(out["user", "buys", "item"].edge_index,
                          out["item", "rev_buys", "user"].edge_index)
    for et in (("user", "knows", "user"), ("item", "near", "item")):
        assert pairs_mirrored(out[et].edge_index, out[et].edge_index)
    rev = ("item", "rev_buys", "user")  # no longer the transposed edges: rewired on its own
    data[rev].edge_index = data[rev].edge_index[:, 1:]
    data[rev].edge_attr = data[rev].edge_attr[1:]
    out = augkit.make("edge_rewiring", method="random", ratio=0.5)(data, generator=4)
    for et in (("user", "buys", "item"), rev):
        moved = (out[et].edge_index != data[et].edge_index).any(0).float().mean()
        assert 0.2 < float(moved) < 0.8, et


@pytest.mark.parametrize("seed", [0, 1])
def test_random_rewiring_rate_per_relation(seed):
    """Between two types each distinct pair moves with probability ratio (a sparse relation,
    so every picked pair finds room)."""
    g = torch.Generator().manual_seed(seed)
    data = HeteroData()
    data["a"].x = torch.randn(500, 1, generator=g)
    data["b"].x = torch.randn(400, 1, generator=g)
    data["a", "x", "b"].edge_index = torch.stack([torch.randint(0, 500, (3000,), generator=g),
                                                  torch.randint(0, 400, (3000,), generator=g)])
    out = augkit.make("edge_rewiring", method="random", ratio=0.25)(data, generator=seed)
    ei, new = data["a", "x", "b"].edge_index, out["a", "x", "b"].edge_index
    units = set(_pairs(ei))
    moved = {a for a, b in zip(_pairs(ei), _pairs(new), strict=True) if a != b}
    assert binomtest(len(moved), len(units), 0.25).pvalue > ALPHA


# ---- subgraph_sampling: khop / random_walk with a share per node type -----------------------


@SETTINGS
@given(hetero_graphs(), st.sampled_from(["random_walk", "khop"]),
       st.sampled_from([0.2, 0.5, 1.0]), st.sampled_from([0.3, 1.0]), st.integers(0, 2**31))
def test_walks_and_hops_keep_a_share_of_every_type(data, method, r0, rest, seed):
    snap = snapshot(data)
    ratio = {data.node_types[0]: r0, "*": rest}
    t = augkit.make("subgraph_sampling", method=method, ratio=ratio, num_hops=2,
                    walk_length=3)
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid_hetero(out)
    assert_aligned_hetero(out, data)
    for nt in data.node_types:
        n, r = data[nt].num_nodes, (r0 if nt == data.node_types[0] else rest)
        assert out[nt].num_nodes <= (min(n, max(1, int(r * n + 0.5))) if n else 0), nt
    for et in data.edge_types:  # the induced subgraph
        old = data[et].edge_index
        keep = (torch.isin(data[et[0]].node_id[old[0]], out[et[0]].node_id)
                & torch.isin(data[et[2]].node_id[old[1]], out[et[2]].node_id))
        assert torch.equal(out[et].edge_id, data[et].edge_id[keep]), et
    assert_same_hetero(out, t(data, generator=seed))


@pytest.mark.parametrize("method", ["random_walk", "khop"])
@pytest.mark.parametrize("ratio", [0.3, 0.75])
@pytest.mark.parametrize("seed", [0, 9, 2**40])
def test_typed_sampling_with_one_type_equals_the_homogeneous_sampler(method, ratio, seed):
    g = torch.Generator().manual_seed(seed % 1000)
    ei = torch.randint(0, 60, (2, 150), generator=g)
    typed = F.sample_typed_subgraph_nodes(ei, torch.tensor([0, 60]), method, [ratio], seed,
                                          walk_length=4, num_hops=3)
    want = F.sample_subgraph_nodes(ei, 60, method, ratio, seed, walk_length=4, num_hops=3)
    assert torch.equal(typed, want)
    for backend in ("torch", "numba"):
        again = F.sample_typed_subgraph_nodes(ei, torch.tensor([0, 60]), method, [ratio],
                                              seed, walk_length=4, num_hops=3,
                                              backend=backend)
        assert torch.equal(again, want), backend


@SETTINGS
@given(st.lists(st.integers(0, 12), min_size=1, max_size=4), st.data(),
       st.sampled_from(["random_walk", "khop"]), st.integers(0, 2**62))
def test_typed_sampling_caps_every_type_and_keeps_a_root(sizes, data, method, seed):
    n = sum(sizes)
    ratios = [data.draw(st.sampled_from([0.1, 0.5, 1.0])) for _ in sizes]
    e = data.draw(st.integers(0, 3 * n)) if n else 0
    g = torch.Generator().manual_seed(seed % 2**31)
    ei = torch.randint(0, max(n, 1), (2, e), generator=g)
    ptr = torch.tensor([0, *torch.tensor(sizes).cumsum(0).tolist()])
    walk, hops = data.draw(st.integers(1, 5)), data.draw(st.integers(0, 3))
    keep = F.sample_typed_subgraph_nodes(ei, ptr, method, ratios, seed, walk_length=walk,
                                         num_hops=hops, backend="torch")
    assert keep.shape == (n,) and keep.dtype == torch.bool
    for t, (size, r) in enumerate(zip(sizes, ratios, strict=True)):
        cap = min(size, max(1, int(r * size + 0.5))) if size else 0
        assert int(keep[ptr[t]:ptr[t + 1]].sum()) <= cap
    assert n == 0 or bool(keep.any())
    numba = F.sample_typed_subgraph_nodes(ei, ptr, method, ratios, seed, walk_length=walk,
                                          num_hops=hops, backend="numba")
    assert torch.equal(keep, numba)


def test_typed_sampling_backends_agree_across_types():
    g = torch.Generator().manual_seed(3)
    ei = torch.randint(0, 90, (2, 300), generator=g)
    ptr = torch.tensor([0, 30, 30, 90])
    for method in ("random_walk", "khop"):
        for seed in range(20):
            a = F.sample_typed_subgraph_nodes(ei, ptr, method, [0.2, 0.5, 0.6], seed,
                                              backend="torch")
            b = F.sample_typed_subgraph_nodes(ei, ptr, method, [0.2, 0.5, 0.6], seed,
                                              backend="numba")
            assert torch.equal(a, b), (method, seed)


def test_khop_per_type_ratio_caps_each_type():
    data = _toy()
    out = augkit.make("subgraph_sampling", method="khop", num_hops=50,
                      ratio={"user": 0.25, "item": 1.0})(data, generator=0)
    assert out["user"].num_nodes == 10 and out["item"].num_nodes == 30
    out = augkit.make("subgraph_sampling", method="random_walk", walk_length=200,
                      ratio={"user": 0.5, "item": 0.1})(data, generator=0)
    assert 1 <= out["user"].num_nodes <= 20 and out["item"].num_nodes <= 3
    with pytest.raises(InputError, match="'shop', which the graph does not have"):
        augkit.make("subgraph_sampling", method="khop", ratio={"shop": 0.5})(data,
                                                                           generator=0)


def test_khop_keeps_the_nearest_nodes_of_each_type_uniformly_among_ties():
    """A star from user 0 to ten items: when the root is the user, the items (all at hop 1)
    compete for three places, each kept with the same chance."""
    data = HeteroData()
    data["user"].x = torch.zeros(1, 1)
    data["item"].x = torch.zeros(10, 1)
    data["item"].node_id = torch.arange(10)
    star = torch.stack([torch.zeros(10, dtype=torch.long), torch.arange(10)])
    data["user", "buys", "item"].edge_index = star
    data["item", "rev_buys", "user"].edge_index = star.flip(0)
    t = augkit.make("subgraph_sampling", method="khop", num_hops=1,
                    ratio={"user": 1.0, "item": 0.3})
    counts = torch.zeros(10, dtype=torch.long)
    for seed in range(4000):
        out = t(data, generator=seed)
        assert out["item"].num_nodes <= 3
        if out["item"].num_nodes == 3:  # the user was the root
            assert out["user"].num_nodes == 1
            counts[out["item"].node_id] += 1
    assert int(counts.sum()) > 600
    assert chisquare(counts.tolist()).pvalue > ALPHA
