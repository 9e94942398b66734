"""The self-supervised graph views: edge_adding, node_shuffling and feature_dropout.
Properties of every output (hypothesis) and the distributions of their draws."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest, chisquare
from torch_geometric.data import Batch, Data

import augkit
from augkit.errors import InputError

from .graph_strategies import (
    assert_unchanged,
    assert_valid,
    edge_level,
    graphs_or_batches,
    snapshot,
)

ALPHA = 1e-3
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def _parts(data):
    return data.to_data_list() if isinstance(data, Batch) else [data]


def _pairs(ei: torch.Tensor, undirected: bool) -> list[tuple[int, int]]:
    out = []
    for u, v in ei.t().tolist():
        out.append((min(u, v), max(u, v)) if undirected else (u, v))
    return out


def _symmetric(ei: torch.Tensor) -> bool:
    pairs = sorted(map(tuple, ei.t().tolist()))
    return pairs == sorted((v, u) for u, v in pairs)


# ---- edge_adding ------------------------------------------------------------------------


@SETTINGS
@given(data=graphs_or_batches(max_nodes=20, edge_attr=True),
       p=st.sampled_from([0.0, 0.2, 0.5, 1.0]), undirected=st.sampled_from([True, False]),
       self_loops=st.booleans(), seed=st.integers(0, 2**31))
def test_edge_adding_properties(data, p, undirected, self_loops, seed):
    """Per graph: exactly min(round(p E), free pairs) new edges (pairs when undirected),
    after the graph's own edges, inside the graph, no self-loop unless asked, no duplicate of
    an existing or another new edge; an undirected graph stays undirected; the input is
    unchanged and the same seed gives the same output."""
    if undirected:
        items = []
        for g in _parts(data):
            g = g.clone()
            ei = g.edge_index
            g.edge_index = torch.cat([ei, ei.flip(0)], 1)
            for key in edge_level(g):
                g[key] = torch.cat([g[key], g[key]])
            items.append(g)
        data = Batch.from_data_list(items) if isinstance(data, Batch) else items[0]
    snap = snapshot(data)
    t = augkit.make("edge_adding", p=p, undirected=undirected, self_loops=self_loops)
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid(out)
    again = t(data, generator=seed)
    assert torch.equal(again.edge_index, out.edge_index)
    for before, after in zip(_parts(data), _parts(out), strict=True):
        n, e = before.num_nodes, before.edge_index.size(1)
        old = before.edge_index
        assert torch.equal(after.edge_index[:, :e], old)  # the graph's edges first, as they were
        assert torch.equal(after.edge_attr[:e], before.edge_attr)
        new = after.edge_index[:, e:]
        assert bool((after.edge_attr[e:] == 0).all())
        assert bool((new >= 0).all()) and bool((new < max(n, 1)).all())  # inside the graph
        if not self_loops:
            assert bool((new[0] != new[1]).all())
        existing = set(_pairs(old, undirected))
        added = _pairs(new, undirected)
        distinct = set(added)
        assert not distinct & existing
        allowed_loops = n if self_loops else 0
        if undirected:
            assert _symmetric(after.edge_index)
            loops = sum(u == v for u, v in added)
            assert len(added) == 2 * len(distinct) - loops  # every pair in both directions
            free = n * (n - 1) // 2 + allowed_loops - len(
                {q for q in existing if self_loops or q[0] != q[1]})
            want = round(p * e / 2)
        else:
            assert len(added) == len(distinct)
            free = n * (n - 1) + allowed_loops - len(
                {q for q in existing if self_loops or q[0] != q[1]})
            want = round(p * e)
        assert len(distinct) == min(want, free)


def test_edge_adding_no_edge_between_graphs_of_a_batch():
    """A Batch of many one-edge graphs at p = 1: every new edge joins two nodes of one graph
    (PyG's add_random_edge joins graphs)."""
    g = Data(edge_index=torch.tensor([[0], [1]]), num_nodes=4)
    batch = Batch.from_data_list([g] * 50)
    out = augkit.make("edge_adding", p=1.0, undirected=False)(batch, generator=0)
    src, dst = out.edge_index
    assert torch.equal(out.batch[src], out.batch[dst])
    assert out.edge_index.size(1) == 100
    assert out.to_data_list()[7].edge_index.size(1) == 2


def test_edge_adding_uniform_over_free_pairs():
    """One new directed edge per call on a 4-node graph with 3 edges: uniform over the 9 free
    ordered pairs (chi-square)."""
    g = Data(edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]), num_nodes=4)
    t = augkit.make("edge_adding", p=0.34, undirected=False)  # round(0.34 * 3) = 1
    counts: dict[tuple[int, int], int] = {}
    for seed in range(4500):
        u, v = t(g, generator=seed).edge_index[:, 3].tolist()
        counts[(u, v)] = counts.get((u, v), 0) + 1
    free = {(u, v) for u in range(4) for v in range(4) if u != v} - {(0, 1), (1, 2), (2, 3)}
    assert set(counts) == free
    assert chisquare(list(counts.values())).pvalue > ALPHA


def test_edge_adding_undirected_with_loops_uniform():
    """Undirected with self-loops: the 10 unordered pairs of a 4-node edgeless-but-one graph,
    loops included, equally likely."""
    g = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=4)
    t = augkit.make("edge_adding", p=1.0, undirected=True, self_loops=True)
    counts: dict[tuple[int, int], int] = {}
    for seed in range(4500):
        u, v = t(g, generator=seed).edge_index[:, 2].tolist()
        key = (min(u, v), max(u, v))
        counts[key] = counts.get(key, 0) + 1
    assert len(counts) == 9  # 4 loops + 6 pairs - the existing one
    assert chisquare(list(counts.values())).pvalue > ALPHA


def test_edge_adding_mean_fill_and_duplicates():
    g = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), edge_attr=torch.tensor([[1.0], [3.0]]),
             num_nodes=2)
    out = augkit.make("edge_adding", p=1.0, undirected=False, duplicates=True,
                      edge_fill="mean")(g, generator=1)
    assert out.edge_index.size(1) == 4  # duplicates allowed: 2 more on a full graph
    assert out.edge_attr[2:].view(-1).tolist() == [2.0, 2.0]
    full = augkit.make("edge_adding", p=1.0, undirected=False)(g, generator=1)
    assert full.edge_index.size(1) == 2  # no room without duplicates


# ---- node_shuffling ---------------------------------------------------------------------


@SETTINGS
@given(data=graphs_or_batches(max_nodes=20, x=True), seed=st.integers(0, 2**31))
def test_node_shuffling_permutes_within_each_graph(data, seed):
    data = data.clone()
    data.x = torch.arange(data.num_nodes, dtype=torch.float).view(-1, 1)  # rows name nodes
    snap = snapshot(data)
    t = augkit.make("node_shuffling")
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid(out)
    assert torch.equal(out.edge_index, data.edge_index)
    for before, after in zip(_parts(data), _parts(out), strict=True):
        assert sorted(after.x.view(-1).tolist()) == sorted(before.x.view(-1).tolist())
    assert torch.equal(t(data, generator=seed).x, out.x)


def test_node_shuffling_uniform_over_permutations():
    g = Data(x=torch.arange(3.0).view(3, 1), edge_index=torch.empty(2, 0, dtype=torch.long))
    t = augkit.make("node_shuffling")
    counts = dict.fromkeys(itertools.permutations(range(3)), 0)
    for seed in range(3000):
        counts[tuple(int(v) for v in t(g, generator=seed).x.view(-1))] += 1
    assert chisquare(list(counts.values())).pvalue > ALPHA


def test_node_shuffling_differs_between_graphs_of_a_batch():
    g = Data(x=torch.arange(8.0).view(8, 1), edge_index=torch.empty(2, 0, dtype=torch.long))
    out = augkit.make("node_shuffling")(Batch.from_data_list([g] * 4), generator=3)
    rows = {tuple(p.x.view(-1).tolist()) for p in out.to_data_list()}
    assert len(rows) == 4


# ---- feature_dropout --------------------------------------------------------------------


@SETTINGS
@given(data=graphs_or_batches(max_nodes=20, x=True, edge_attr=True),
       p=st.sampled_from([0.0, 0.3, 0.9, 1.0]), target=st.sampled_from(["x", "edge_attr"]),
       seed=st.integers(0, 2**31))
def test_feature_dropout_zero_or_rescaled(data, p, target, seed):
    data = data.clone()
    data[target] = data[target].abs() + 1.0
    snap = snapshot(data)
    out = augkit.make("feature_dropout", p=p, target=target)(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid(out)
    before, after = data[target], out[target]
    assert after.shape == before.shape and after.dtype == before.dtype
    kept = after != 0
    if p == 1.0:
        assert not bool(kept.any())
    else:
        torch.testing.assert_close(after[kept], before[kept] / (1 - p))
    if p == 0.0:
        assert bool(kept.all())


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_feature_dropout_rate_and_mean(p):
    """The dropped share is p (binomial test) and the mean is kept (PyTorch's rescaling)."""
    x = torch.ones(400, 50)
    out = augkit.make("feature_dropout", p=p)(Data(x=x, num_nodes=400), generator=11).x
    dropped = int((out == 0).sum())
    assert binomtest(dropped, x.numel(), p).pvalue > ALPHA
    se = math.sqrt(p / (1 - p) / x.numel())
    assert abs(float(out.mean()) - 1.0) < 5 * se


# ---- bad input --------------------------------------------------------------------------


def test_feature_dropout_refuses_integer_features():
    g = Data(x=torch.ones(3, 2, dtype=torch.long), edge_index=torch.tensor([[0], [1]]))
    with pytest.raises(InputError, match="allowed: a floating tensor"):
        augkit.make("feature_dropout")(g, generator=0)


def test_node_shuffling_refuses_a_graph_without_x():
    g = Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2)
    with pytest.raises(InputError, match="one row per node"):
        augkit.make("node_shuffling")(g, generator=0)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=graphs_or_batches(max_nodes=20, x=True), p=st.sampled_from([0.0, 0.3, 0.7, 1.0]),
       dtype=st.sampled_from([torch.float32, torch.float64]), seed=st.integers(0, 2**31))
def test_feature_dropout_kernel_equals_torch_ops(data, p, dtype, seed):
    """The numba pass gives the torch ops' values bit for bit (what CUDA runs)."""
    from augkit.plugins.graph.functional import numba_disabled

    data = data.clone()
    data.x = (torch.randn(data.num_nodes, 3, dtype=torch.float64) * 3).to(dtype)
    t = augkit.make("feature_dropout", p=p)
    got = t(data, generator=seed).x
    with numba_disabled():
        want = t(data, generator=seed).x
    assert torch.equal(got, want)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=graphs_or_batches(max_nodes=40, x=True), seed=st.integers(0, 2**31),
       applied=st.lists(st.booleans(), min_size=8, max_size=8))
def test_node_shuffling_kernel_equals_torch_ops(data, seed, applied):
    """The numba pass gives the torch ops' permutation (what CUDA runs), graph by graph."""
    from augkit.plugins.graph.functional import numba_disabled
    from augkit.plugins.graph.functional.shuffling import shuffle_perm_items

    t = augkit.make("node_shuffling")
    got = t(data, generator=seed).x
    with numba_disabled():
        want = t(data, generator=seed).x
    assert torch.equal(got, want)
    k = data.num_graphs if isinstance(data, Batch) else 1
    ptr = data.ptr if isinstance(data, Batch) else torch.tensor([0, data.num_nodes])
    seeds = torch.arange(seed, seed + k)
    on = torch.tensor(applied[:k])
    kernel = shuffle_perm_items(ptr, seeds, on)
    with numba_disabled():
        assert torch.equal(kernel, shuffle_perm_items(ptr, seeds, on))


def test_node_shuffling_kernel_equals_torch_ops_on_large_graphs():
    from augkit.plugins.graph.functional import numba_disabled
    from augkit.plugins.graph.functional.shuffling import shuffle_perm_items

    ptr = torch.tensor([0, 0, 1, 3, 1003, 6003, 6010])
    seeds, on = torch.arange(6) * 7 + 1, torch.tensor([True, True, True, True, True, False])
    kernel = shuffle_perm_items(ptr, seeds, on)
    with numba_disabled():
        assert torch.equal(kernel, shuffle_perm_items(ptr, seeds, on))
    assert torch.equal(kernel[6003:], torch.arange(6003, 6010))


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(n=st.integers(0, 3000), seed=st.integers(0, 2**63 - 1))
def test_shuffle_perm_of_one_graph_equals_a_batch_of_that_graph(n, seed):
    """``shuffle_perm`` (what a Data and every node type of a HeteroData run) gives what
    ``shuffle_perm_items`` gives a Batch of that graph alone, with the kernel and with the
    torch ops."""
    from augkit.plugins.graph.functional import numba_disabled, shuffle_perm, shuffle_perm_items

    want = shuffle_perm_items(torch.tensor([0, n]), torch.tensor([seed]), torch.tensor([True]))
    assert torch.equal(shuffle_perm(n, seed), want)
    with numba_disabled():
        assert torch.equal(shuffle_perm(n, seed, "cpu"), want)


def test_node_shuffling_kernel_orders_nodes_whose_leading_bits_tie_by_the_whole_draw():
    """A word holds only the leading 63 - 20 bits of a 2**20-node graph's keys: under seed 50
    nodes 33965 and 157989 share those bits but the later node's key is the smaller, so only
    the comparison of whole keys puts it first, as the torch sort does."""
    from augkit.plugins.graph.functional import numba_disabled
    from augkit.plugins.graph.functional._items import draw63, graph_salts
    from augkit.plugins.graph.functional.shuffling import shuffle_perm_items
    from augkit.plugins.graph.kernels.streams import STREAM_SHUFFLE

    n, seed, a, b = 1 << 20, 50, 33965, 157989
    key = draw63(graph_salts(torch.tensor([seed]), STREAM_SHUFFLE).expand(2),
                 torch.tensor([a, b])) >> 1
    assert key[0] >> 19 == key[1] >> 19 and key[0] > key[1]  # the case this test is about
    ptr, seeds, on = torch.tensor([0, n]), torch.tensor([seed]), torch.tensor([True])
    kernel = shuffle_perm_items(ptr, seeds, on)
    with numba_disabled():
        assert torch.equal(kernel, shuffle_perm_items(ptr, seeds, on))
    rank = torch.empty(n, dtype=torch.long)
    rank[kernel] = torch.arange(n)
    assert rank[b] == rank[a] - 1


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=graphs_or_batches(max_nodes=12), p=st.sampled_from([0.0, 0.25, 0.5, 1.0, 3.0]),
       self_loops=st.booleans(), duplicates=st.booleans(), seed=st.integers(0, 2**31),
       undirected=st.lists(st.booleans(), min_size=8, max_size=8),
       applied=st.lists(st.booleans(), min_size=8, max_size=8))
def test_edge_adding_kernel_equals_torch_ops(data, p, self_loops, duplicates, seed, undirected,
                                             applied):
    """The numba pass keeps the torch rounds' candidates (what CUDA runs), graph by graph:
    the same new edges in the same order, the same counts, over small and full graphs, rates
    whose rounding is a tie, and graphs skipped or mixed directed and undirected."""
    from augkit.plugins.graph.functional import numba_disabled
    from augkit.plugins.graph.functional.adding import add_edge_items

    k = data.num_graphs if isinstance(data, Batch) else 1
    ptr = data.ptr if isinstance(data, Batch) else torch.tensor([0, data.num_nodes])
    args = (data.edge_index, ptr, p, torch.arange(seed, seed + k), torch.tensor(applied[:k]),
            torch.tensor(undirected[:k]))
    kw = {"self_loops": self_loops, "duplicates": duplicates}
    got = add_edge_items(*args, **kw)
    with numba_disabled():
        want = add_edge_items(*args, **kw)
    for a, b in zip(got, want, strict=True):
        assert torch.equal(a, b)
