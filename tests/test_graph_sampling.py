"""subgraph_sampling: properties on generated graphs and Batches (valid relabelled subgraph,
attributes aligned, per-graph size bounds, every graph keeps a node), khop within num_hops
of a root and equal to PyG's k_hop_subgraph, random_node's kept share."""

from __future__ import annotations

import networkx as nx
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest, chisquare
from torch_geometric.data import Batch, Data
from torch_geometric.utils import k_hop_subgraph

import augkit
from augkit.plugins.graph import functional as F

from .graph_strategies import (
    assert_aligned,
    assert_same,
    assert_unchanged,
    assert_valid,
    graphs,
    graphs_or_batches,
    snapshot,
)

ALPHA = 1e-3
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
METHODS = ["random_walk", "khop", "random_node"]


def _sizes(data) -> torch.Tensor:
    if isinstance(data, Batch):
        return data.ptr[1:] - data.ptr[:-1]
    return torch.tensor([data.num_nodes])


def _graph_ids(data) -> torch.Tensor:
    return data.batch if isinstance(data, Batch) else torch.zeros(data.num_nodes, dtype=torch.long)


@settings(max_examples=12)
@given(graphs_or_batches(ids=True), st.sampled_from(METHODS),
       st.sampled_from([0.1, 0.5, 1.0]), st.integers(1, 4), st.integers(0, 3),
       st.integers(0, 2**31))
def test_sampling_properties(data, method, ratio, walk_length, num_hops, seed):
    snap = snapshot(data)
    t = augkit.make("subgraph_sampling", method=method, ratio=ratio, walk_length=walk_length,
                    num_hops=num_hops)
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid(out, graphs=data.num_graphs if isinstance(data, Batch) else None)
    assert_aligned(out, data)
    # Induced: every input edge between two kept nodes is kept.
    kept = torch.zeros(data.num_nodes, dtype=torch.bool)
    kept[out.node_id] = True
    inside = kept[data.edge_index[0]] & kept[data.edge_index[1]]
    assert int(inside.sum()) == out.edge_index.size(1)
    # Per graph: at least one node (if it had any), at most the target size.
    before = _sizes(data)
    after = _sizes(out)
    target = torch.clamp(torch.floor(before.double() * ratio + 0.5).long(), min=1)
    target = torch.where(before > 0, torch.minimum(target, before), 0)
    assert bool((after <= target).all())
    assert bool(((after >= 1) | (before == 0)).all())
    if method == "random_node":
        assert torch.equal(after, target)
    again = t(data, generator=seed)
    assert_same(out, again)


@settings(max_examples=12)
@given(graphs(ids=True, max_nodes=80), st.integers(0, 3), st.integers(0, 2**31))
def test_khop_nodes_are_within_num_hops_of_a_root(data, num_hops, seed):
    out = augkit.make("subgraph_sampling", method="khop", ratio=1.0,
                      num_hops=num_hops)(data, generator=seed)
    if data.num_nodes == 0:
        assert out.num_nodes == 0
        return
    g = nx.DiGraph()
    g.add_nodes_from(range(data.num_nodes))
    g.add_edges_from(data.edge_index.t().tolist())
    kept = set(out.node_id.tolist())
    # Some kept node (the root) reaches every kept node within num_hops, and with ratio=1 the
    # kept set is exactly its num_hops neighbourhood.
    ok = [r for r in kept
          if set(nx.single_source_shortest_path_length(g, r, cutoff=num_hops)) == kept]
    assert ok


@settings(max_examples=12)
@given(graphs(max_nodes=80), st.sampled_from([0.1, 0.5, 1.0]), st.integers(0, 3),
       st.integers(0, 2**31))
def test_khop_of_one_graph_equals_the_batched_path(data, ratio, num_hops, seed):
    """A single graph takes a shortcut (root and cap as Python integers, no ranking when the
    ball fits): the same nodes as the general path, which runs when the graph sits in a
    batch beside an empty graph (that graph draws nothing and ranks nothing)."""
    n = data.num_nodes
    if n == 0:
        return
    one = F.sample_subgraph_nodes(data.edge_index, n, "khop", ratio, seed, num_hops=num_hops)
    many = F.sample_subgraph_nodes(data.edge_index, n, "khop", ratio, seed, num_hops=num_hops,
                                   batch=torch.zeros(n, dtype=torch.long),
                                   ptr=torch.tensor([0, n, n]))
    assert torch.equal(one, many)


@given(graphs(max_nodes=80), st.integers(0, 3), st.integers(0, 2**31))
def test_khop_distance_matches_pyg(data, num_hops, seed):
    n = data.num_nodes
    if n == 0:
        return
    root = seed % n
    dist = F.khop_distance_edges(data.edge_index, n, torch.tensor([root]), num_hops)
    subset, *_ = k_hop_subgraph(root, num_hops, data.edge_index, num_nodes=n,
                                flow="target_to_source")
    assert torch.equal(torch.sort(subset).values, (dist >= 0).nonzero().view(-1))
    # The CPU (numba) distances are the torch path's (what CUDA runs), also from several roots.
    roots = torch.unique(torch.tensor([root, (7 * seed + 3) % n, (seed // 7) % n]))
    assert torch.equal(F.khop_distance_edges(data.edge_index, n, roots, num_hops),
                       F.khop_distance_edges(data.edge_index, n, roots, num_hops,
                                             backend="torch"))


@settings(max_examples=30)
@given(graphs_or_batches(), st.integers(1, 9), st.integers(0, 2**40))
def test_random_walk_numba_equals_torch(data, walk_length, seed):
    """The CPU walk kernel moves every walker as the torch ops do (the same counter-based
    draw per walker and step), from one root per graph and from many roots."""
    n = data.num_nodes
    rowptr, col = F.csr(data.edge_index, n)
    for roots in (torch.tensor([seed % max(n, 1)]) if n else torch.zeros(0, dtype=torch.long),
                  torch.unique(torch.randint(0, max(n, 1), (min(n, 12),),
                                             generator=torch.Generator().manual_seed(seed)))):
        got = F.random_walk_steps(rowptr, col, roots, walk_length, seed)
        want = F.random_walk_steps(rowptr, col, roots, walk_length, seed, backend="torch")
        assert torch.equal(got, want)


@settings(max_examples=40, deadline=None)
@given(graphs_or_batches(), st.sampled_from(["random_walk", "khop", "random_node"]),
       st.sampled_from([0.2, 0.5, 1.0]), st.integers(0, 2**40))
def test_sampling_kernels_equal_the_torch_ops(data, method, ratio, seed):
    """The CPU helpers in numba (target sizes, roots, the ranking, the relabelling) give the
    nodes, edges and attributes the torch ops give (what CUDA runs): the whole transform is
    run twice, the second time with numba disabled (no kernel runs)."""
    t = augkit.make("subgraph_sampling", method=method, ratio=ratio, walk_length=3)
    got = t(data, generator=seed)
    with F.numba_disabled():
        want = t(data, generator=seed)
    assert_same(got, want)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 300), st.integers(1, 5), st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_smallest_per_group_is_a_stable_sort_and_a_rank(m, groups, key_range, seed):
    """The ranking kernel keeps, per group, the cap smallest keys with equal keys taken in
    position order: what a stable argsort by key and a rank within the group below the cap
    keep. Few distinct keys, so ties at the cut are the rule; caps from 0 past the size."""
    import numpy as np

    from augkit.plugins.graph.kernels import sampling as K

    rng = np.random.default_rng(seed)
    key = rng.integers(0, key_range, m).astype(np.int64)
    group = rng.integers(0, groups, m).astype(np.int64)
    cap = rng.integers(0, m // groups + 3, groups).astype(np.int64)
    keep = np.zeros(m, np.bool_)
    K.smallest_per_group(key, group, cap, keep)
    want = np.zeros(m, np.bool_)
    for g in range(groups):
        members = np.flatnonzero(group == g)  # increasing positions
        order = members[np.argsort(key[members], kind="stable")]
        want[order[: cap[g]]] = True
    assert np.array_equal(keep, want)


def test_random_walk_on_a_path_follows_edges():
    # A directed path 0 -> 1 -> ... -> 9: the walk from the root moves one node per step.
    ei = torch.stack([torch.arange(9), torch.arange(1, 10)])
    rowptr, col = F.csr(ei, 10)
    steps = F.random_walk_steps(rowptr, col, torch.tensor([2]), 4, seed=0)
    assert steps.tolist() == [-1, -1, 0, 1, 2, 3, 4, -1, -1, -1]


def test_random_walk_keeps_connected_nodes():
    # Two disjoint cliques: a walk never leaves the clique of its root.
    a = [(i, j) for i in range(5) for j in range(5) if i != j]
    b = [(i + 5, j + 5) for i, j in a]
    data = Data(x=torch.arange(10).view(-1, 1), edge_index=torch.tensor(a + b).t())
    sizes = set()
    for seed in range(20):
        out = augkit.make("subgraph_sampling", method="random_walk", ratio=0.3,
                          walk_length=4)(data, generator=seed)
        # ceil(3 / 5) = 1 root; a 4-step walk on K5 visits 2 to 5 nodes, the first 3 kept.
        k = out.num_nodes
        sizes.add(k)
        ids = out.x.view(-1)
        assert 2 <= k <= 3 and bool((ids < 5).all() | (ids >= 5).all())
        assert out.edge_index.size(1) == k * (k - 1)  # induced: a clique, both directions
    assert 3 in sizes


def test_random_node_keeps_about_ratio_of_each_node():
    n, ratio, trials = 50, 0.3, 400
    data = Data(x=torch.arange(n).float().view(-1, 1), edge_index=torch.empty(2, 0,
                dtype=torch.long))
    t = augkit.make("subgraph_sampling", method="random_node", ratio=ratio)
    counts = torch.zeros(n)
    for s in range(trials):
        out = t(data, generator=s)
        assert out.num_nodes == 15
        counts[out.x.view(-1).long()] += 1
    # Every node is kept with probability 15/50, independently across seeds.
    for c in (counts.min(), counts.max()):
        assert binomtest(int(c), trials, 0.3).pvalue > ALPHA / n


def test_khop_root_is_uniform_in_every_graph_of_a_batch():
    # num_hops=0 keeps only the root; on a Batch each graph draws its own.
    sizes, trials = (7, 3, 11), 330
    parts = [Data(x=torch.arange(k).float().view(-1, 1),
                  edge_index=torch.empty(2, 0, dtype=torch.long)) for k in sizes]
    batch = Batch.from_data_list(parts)
    t = augkit.make("subgraph_sampling", method="khop", num_hops=0)
    counts = [torch.zeros(k) for k in sizes]
    for s in range(trials):
        out = t(batch, generator=s)
        assert (out.ptr[1:] - out.ptr[:-1]).tolist() == [1, 1, 1]
        for g, node in enumerate(out.x.view(-1).long().tolist()):
            counts[g][node] += 1
    for k, c in zip(sizes, counts, strict=True):
        assert chisquare(c.numpy()).pvalue > ALPHA, (k, c.tolist())


def test_batch_keeps_every_graph_and_graph_attributes():
    parts = [Data(x=torch.randn(k, 2), edge_index=torch.empty(2, 0, dtype=torch.long),
                  y=torch.tensor([k])) for k in (1, 4, 0, 9)]
    batch = Batch.from_data_list(parts)
    for method in METHODS:
        out = augkit.make("subgraph_sampling", method=method, ratio=0.01)(batch, generator=0)
        assert (out.ptr[1:] - out.ptr[:-1]).tolist() == [1, 1, 0, 1]
        assert torch.equal(out.y, batch.y)
        assert len(out.to_data_list()) == 4


def test_ratio_one_random_node_is_identity():
    data = Data(x=torch.randn(7, 3), edge_index=torch.tensor([[0, 1, 2, 6], [1, 2, 0, 6]]),
                edge_attr=torch.randn(4, 2))
    out = augkit.make("subgraph_sampling", method="random_node", ratio=1.0)(data, generator=0)
    assert_same(out, data)


@cuda
@pytest.mark.cuda
@pytest.mark.parametrize("method", METHODS)
def test_cuda_same_nodes_as_cpu(method):
    g = torch.Generator().manual_seed(0)
    ei = torch.randint(0, 500, (2, 3000), generator=g)
    data = Data(x=torch.randn(500, 4), edge_index=ei)
    t = augkit.make("subgraph_sampling", method=method, ratio=0.4)
    a = t(data, generator=1)
    b = t(data.to("cuda"), generator=1)
    assert b.x.is_cuda
    assert torch.equal(a.x, b.x.cpu()) and torch.equal(a.edge_index, b.edge_index.cpu())
