"""edge_dropout and node_dropout: properties on generated graphs and Batches, statistics of
the drop rate, agreement of the numba and torch kernels, and the cases PyG gets wrong."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from torch_geometric.data import Batch, Data

import augkit
from augkit.errors import InputError
from augkit.plugins.graph import functional as F

from .graph_strategies import (
    assert_aligned,
    assert_same,
    assert_unchanged,
    assert_valid,
    batches,
    edge_pairs,
    graphs,
    graphs_or_batches,
    is_undirected,
    snapshot,
)

ALPHA = 1e-3  # fixed seeds: a failure means the rate is wrong, not bad luck
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _ba_like(n: int, m: int, seed: int) -> torch.Tensor:
    """An undirected multigraph with both directions stored, row > col first (fast, torch)."""
    g = torch.Generator().manual_seed(seed)
    u = torch.randint(0, n, (n * m,), generator=g)
    v = torch.randint(0, n, (n * m,), generator=g)
    keep = u != v
    u, v = torch.maximum(u[keep], v[keep]), torch.minimum(u[keep], v[keep])
    return torch.cat([torch.stack([u, v]), torch.stack([v, u])], 1)


# ---- edge_dropout -------------------------------------------------------------------------


@given(graphs_or_batches(ids=True), st.sampled_from([0.0, 0.3, 0.7, 1.0]),
       st.sampled_from(["auto", True, False]), st.integers(0, 2**31))
def test_edge_dropout_properties(data, p, undirected, seed):
    snap = snapshot(data)
    t = augkit.make("edge_dropout", p=p, undirected=undirected)
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid(out, graphs=data.num_graphs if isinstance(data, Batch) else None)
    assert_aligned(out, data)
    # A subset of the stored edges, each at most once, nodes untouched.
    assert out.edge_id.unique().numel() == out.edge_id.numel()
    assert out.num_nodes == data.num_nodes
    if p == 0.0:
        assert_same(out, data)
    if p == 1.0:
        assert out.edge_index.size(1) == 0
    assert_same(out, t(data, generator=seed))


@given(graphs_or_batches(directed=False, ids=True), st.sampled_from([0.2, 0.5, 0.9]),
       st.sampled_from(["auto", True]), st.integers(0, 2**31))
def test_edge_dropout_keeps_undirected_graphs_undirected(data, p, undirected, seed):
    out = augkit.make("edge_dropout", p=p, undirected=undirected)(data, generator=seed)
    assert is_undirected(out.edge_index)
    # Decisions per unordered pair: every stored copy of a kept pair is kept.
    kept = {frozenset(e) for e in edge_pairs(out.edge_index)}
    want = [i for i, e in enumerate(data.edge_index.t().tolist()) if frozenset(e) in kept]
    assert sorted(out.edge_id.tolist()) == want


def test_edge_dropout_pyg_loses_row_gt_col_and_doubles_self_loops():
    from torch_geometric.utils import dropout_edge

    # One direction per pair, stored row > col, plus two self-loops.
    ei = torch.tensor([[1, 2, 3, 3, 4, 0, 2], [0, 0, 1, 2, 3, 0, 2]])
    with torch.random.fork_rng():
        torch.manual_seed(0)
        pyg, _ = dropout_edge(ei, p=0.1, force_undirected=True)
    # PyG keeps only row <= col before mirroring: every real edge is gone, loops are doubled.
    assert not (pyg[0] != pyg[1]).any()
    loops = pyg[0].tolist()
    assert loops and all(loops.count(v) == 2 for v in loops)
    data = Data(edge_index=ei, num_nodes=5)
    out = augkit.make("edge_dropout", p=0.1, undirected=True)(data, generator=0)
    assert int((out.edge_index[0] != out.edge_index[1]).sum()) >= 3
    assert int((out.edge_index[0] == out.edge_index[1]).sum()) <= 2  # never doubled


def test_edge_dropout_rates_match_p():
    ei = _ba_like(4000, 5, seed=1)
    n = 4000
    for p in (0.1, 0.5):
        # Directed: every stored edge on its own.
        keep = F.edge_keep_mask(ei, p, seed=7, num_nodes=n)
        e = ei.size(1)
        assert binomtest(int((~keep).sum()), e, p).pvalue > ALPHA
        # Undirected: count unordered pairs (each stored twice here).
        keep = F.edge_keep_mask(ei, p, seed=7, undirected=True, num_nodes=n)
        half = ei[0] > ei[1]
        dropped_pairs = int((~keep[half]).sum())
        # Distinct pairs: duplicates share one decision, so count unique keys.
        keys = torch.minimum(ei[0], ei[1]) * n + torch.maximum(ei[0], ei[1])
        uniq, inv = torch.unique(keys, return_inverse=True)
        pair_keep = torch.zeros(uniq.numel(), dtype=torch.bool).scatter_(0, inv, keep)
        assert binomtest(int((~pair_keep).sum()), uniq.numel(), p).pvalue > ALPHA
        assert dropped_pairs > 0


def test_edge_dropout_auto_detects_direction():
    ei = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])  # a directed cycle
    assert not F.is_symmetric(ei) and not F.is_symmetric(ei, backend="torch")
    sym = torch.cat([ei, ei.flip(0)], 1)[:, torch.randperm(8, generator=torch.Generator()
                                                          .manual_seed(0))]
    assert F.is_symmetric(sym) and F.is_symmetric(sym, backend="torch")
    t = augkit.make("edge_dropout", p=0.5)
    for seed in range(20):
        assert is_undirected(t(Data(edge_index=sym, num_nodes=4), generator=seed).edge_index)


@settings(max_examples=30)
@given(graphs(directed=False), st.sampled_from([0.0, 0.4]), st.booleans(), st.integers(0, 99))
def test_edge_kernels_numba_and_torch_agree(data, p, undirected, seed):
    # The torch path is what runs on CUDA: same decisions bit for bit.
    a = F.dropout_edge(data.edge_index, p, seed, undirected=undirected, num_nodes=data.num_nodes)
    b = F.dropout_edge(data.edge_index, p, seed, undirected=undirected,
                       num_nodes=data.num_nodes, backend="torch")
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert F.is_symmetric(data.edge_index) == F.is_symmetric(data.edge_index, backend="torch")


@settings(max_examples=40)
@given(graphs(directed=True) | graphs(directed=False), st.sampled_from([0.0, 0.4, 1.0]),
       st.integers(0, 99))
def test_fused_auto_dropout_equals_its_two_steps(data, p, seed):
    # The small-graph path of undirected=auto: one kernel, the same edges as the two calls.
    from augkit.plugins.graph.functional.dropout import dropout_edge_auto

    ei, n = data.edge_index, data.num_nodes
    fused = dropout_edge_auto(ei, p, seed, n)
    undirected = F.is_symmetric(ei, backend="torch")
    out, eid = F.dropout_edge(ei, p, seed, undirected=undirected, num_nodes=n, backend="torch")
    assert fused is not None
    assert torch.equal(fused[0], out) and torch.equal(fused[1], eid)
    with F.numba_disabled():
        assert dropout_edge_auto(ei, p, seed, n) is None


# ---- node_dropout -------------------------------------------------------------------------


@given(graphs_or_batches(ids=True), st.sampled_from([0.0, 0.3, 0.8, 1.0]),
       st.sampled_from([0, 1, 3]), st.integers(0, 2**31))
def test_node_dropout_properties(data, p, min_nodes, seed):
    snap = snapshot(data)
    t = augkit.make("node_dropout", p=p, min_nodes=min_nodes)
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    batched = isinstance(data, Batch)
    assert_valid(out, graphs=data.num_graphs if batched else None)
    assert_aligned(out, data)
    # Induced subgraph: exactly the edges whose two ends survived are kept.
    kept_nodes = set(out.node_id.tolist())
    want = [i for i, (u, v) in enumerate(data.node_id[data.edge_index].t().tolist())
            if u in kept_nodes and v in kept_nodes]
    assert out.edge_id.tolist() == want
    # Every graph keeps at least min(min_nodes, its size) nodes.
    sizes = (data.ptr[1:] - data.ptr[:-1]) if batched else torch.tensor([data.num_nodes])
    after = (out.ptr[1:] - out.ptr[:-1]) if batched else torch.tensor([out.num_nodes])
    assert bool((after >= torch.clamp(sizes, max=min_nodes)).all())
    assert bool((after <= sizes).all())
    if batched and not bool((sizes == 1).all()) and data.num_graphs != data.num_edges:
        # (When every graph has exactly one node, a per-graph tensor has the size of a node
        # attribute and PyG's size rule, which augkit follows, calls it node-level; when the
        # Batch has as many edges as graphs, it calls it edge-level.)
        assert torch.equal(out.graph_y, data.graph_y)
    if p == 0.0:
        assert_same(out, data)
    if p == 1.0:
        assert torch.equal(after, torch.clamp(sizes, max=min_nodes))
    assert_same(out, t(data, generator=seed))


@settings(max_examples=30)
@given(batches(min_nodes=0, max_nodes=30), st.sampled_from([0.5, 1.0]),
       st.sampled_from([1, 2, 5]), st.integers(0, 99))
def test_node_kernels_numba_and_torch_agree(data, p, min_nodes, seed):
    ptr = data.ptr
    a = F.dropout_node(data.edge_index, p, seed, num_nodes=data.num_nodes, ptr=ptr,
                       min_nodes=min_nodes)
    b = F.dropout_node(data.edge_index, p, seed, num_nodes=data.num_nodes, ptr=ptr,
                       min_nodes=min_nodes, backend="torch")
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)
    # One graph, no ptr (the fused kernel builds its own [0, n]).
    a = F.dropout_node(data.edge_index, p, seed, num_nodes=data.num_nodes, min_nodes=min_nodes)
    b = F.dropout_node(data.edge_index, p, seed, num_nodes=data.num_nodes, min_nodes=min_nodes,
                       backend="torch")
    for x, y in zip(a, b, strict=True):
        assert torch.equal(x, y)


def test_node_dropout_rate_matches_p():
    for p in (0.1, 0.6):
        new_id, _ = F.node_keep_ids(torch.tensor([0, 30000]), p, seed=11, min_nodes=0)
        assert binomtest(int((new_id < 0).sum()), 30000, p).pvalue > ALPHA


def test_node_dropout_min_nodes_pick_is_random():
    # p=1 keeps exactly one node per graph: over seeds, every node of a graph gets picked.
    ptr = torch.tensor([0, 4, 9])
    picked = set()
    for seed in range(200):
        new_id, counts = F.node_keep_ids(ptr, 1.0, seed)
        assert counts.tolist() == [1, 1]
        picked |= set((new_id >= 0).nonzero().view(-1).tolist())
    assert picked == set(range(9))


def test_node_dropout_batch_to_data_list_and_num_nodes_without_x():
    graphs_ = [Data(edge_index=torch.tensor([[0, 1], [1, 2]]), num_nodes=n) for n in (3, 5, 4)]
    batch = Batch.from_data_list(graphs_)
    out = augkit.make("node_dropout", p=0.5)(batch, generator=3)
    parts = out.to_data_list()
    assert [d.num_nodes for d in parts] == (out.ptr[1:] - out.ptr[:-1]).tolist()
    assert sum(d.num_nodes for d in parts) == out.num_nodes


def test_graph_transforms_reject_non_graphs():
    for name in ("edge_dropout", "node_dropout"):
        with pytest.raises(InputError, match="allowed"):
            augkit.make(name)(torch.zeros(3, 3))
    bad = Data(edge_index=torch.zeros(3, 2, dtype=torch.long), num_nodes=3)
    with pytest.raises(InputError, match="edge_index"):
        augkit.make("edge_dropout")(bad)


def test_params_validate_and_apply_p_is_separate():
    from augkit.errors import ParamError

    with pytest.raises(ParamError):
        augkit.make("edge_dropout", p=1.5)
    with pytest.raises(ParamError):
        augkit.make("edge_dropout", undirected="yes")
    t = augkit.make("node_dropout", p=0.5, apply_p=0.0)
    data = Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2)
    assert t(data, generator=0) is data


def test_empty_and_edgeless_graphs():
    for data in (Data(edge_index=torch.zeros(2, 0, dtype=torch.long), num_nodes=0),
                 Data(x=torch.randn(4, 2), edge_index=torch.zeros(2, 0, dtype=torch.long)),
                 Data(x=torch.randn(3, 2))):
        for name in ("edge_dropout", "node_dropout"):
            out = augkit.make(name, p=0.5)(data, generator=0)
            assert out.num_nodes <= data.num_nodes


@cuda
@pytest.mark.cuda
def test_cuda_matches_cpu():
    ei = _ba_like(500, 3, seed=0)
    data = Data(x=torch.randn(500, 4), edge_index=ei, edge_attr=torch.randn(ei.size(1), 2))
    for name, kw in (("edge_dropout", {"p": 0.3}), ("edge_dropout", {"p": 0.3,
                     "undirected": False}), ("node_dropout", {"p": 0.3})):
        t = augkit.make(name, **kw)
        cpu = t(data, generator=5)
        gpu = t(data.cuda(), generator=5)
        assert gpu.edge_index.is_cuda
        assert torch.equal(cpu.edge_index, gpu.edge_index.cpu())
        assert torch.equal(cpu.x, gpu.x.cpu())
        assert torch.equal(cpu.edge_attr, gpu.edge_attr.cpu())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.long, torch.bool,
                                   torch.bfloat16])
@pytest.mark.parametrize("dim", [0, 1])
def test_attribute_gather_equals_index_select(dtype, dim):
    """Attributes are compacted through numpy's take on the CPU; the result must be what
    index_select gives (values, dtype, shape) for every dtype, including the ones numpy
    lacks (bfloat16 keeps index_select), and the input must stay as it was."""
    from augkit.plugins.graph._subset import gather

    g = torch.Generator().manual_seed(0)
    value = (torch.randn(7, 5, generator=g) * 3).to(dtype)
    before = value.clone()
    index = torch.tensor([4, 0, 0, 2], dtype=torch.long)
    got = gather(value, dim, index)
    assert got.dtype == dtype and torch.equal(got, value.index_select(dim, index))
    assert torch.equal(value, before)
    assert gather(value, dim, index[:0]).shape == value.index_select(dim, index[:0]).shape


@pytest.mark.parametrize(("rows", "width", "threads", "by_numpy"), [
    (100, 16, 2, False),  # a small output: index_select
    (20_000, 1, 2, False),  # 1-D: index_select
    (20_000, 16, 1, True),  # wide rows on one thread (a DataLoader worker): numpy's take
    (20_000, 16, 2, True),  # wide rows, too few for augkit's threads: numpy's take
    (20_000, 64, 2, False),  # wide rows worth two threads: index_select on torch's threads
    (20_000, 4, 2, True),  # narrow rows: numpy's take
])
def test_attribute_gather_routes_give_index_select(monkeypatch, rows, width, threads,
                                                   by_numpy):
    """Every route of the CPU gather (index_select or numpy's take, by output size, row
    width and torch's thread count) gives index_select's values and leaves the input as it
    was; an out-of-range index is an IndexError on each."""
    import numpy as np

    from augkit.plugins.graph import _subset

    takes, real_take = [], np.take
    monkeypatch.setattr(_subset.np, "take", lambda *a, **k: takes.append(1) or real_take(*a, **k))
    g = torch.Generator().manual_seed(rows + width)
    value = torch.randn(rows, width, generator=g).squeeze(1)
    before = value.clone()
    index = torch.randint(0, rows, (rows,), generator=g)
    threads_before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        got = _subset.gather(value, 0, index)
        assert bool(takes) == by_numpy
        assert torch.equal(got, value.index_select(0, index))
        assert torch.equal(value, before)
        with pytest.raises(IndexError):
            _subset.gather(value, 0, torch.full((rows,), rows, dtype=torch.long))
    finally:
        torch.set_num_threads(threads_before)


@pytest.mark.parametrize("dim", [0, 1])
def test_large_attribute_gather_into_recycled_memory(dim):
    """From 8 MiB on, gathered attributes are written into augkit._memory's recycled
    buffers: same values as index_select, new memory each time while the last result is
    held, and an out-of-range index is still an error."""
    from augkit._memory import HUGE_OUTPUT_BYTES
    from augkit.plugins.graph._subset import gather

    rows = HUGE_OUTPUT_BYTES // 32 + 11
    value = torch.arange(rows * 8, dtype=torch.float32).view(rows, 8)
    value = value if dim == 0 else value.t().contiguous()
    index = torch.randperm(rows, generator=torch.Generator().manual_seed(0))
    first = gather(value, dim, index)
    second = gather(value, dim, index.flip(0))
    assert torch.equal(first, value.index_select(dim, index))
    assert torch.equal(second, value.index_select(dim, index.flip(0)))
    assert first.data_ptr() != second.data_ptr()
    with pytest.raises(IndexError):
        gather(value, dim, torch.tensor([0, value.size(dim)]).repeat(rows))


@pytest.mark.parametrize("chunks", [None, 1, 3])
@pytest.mark.parametrize("undirected", [False, True])
def test_edge_and_node_kernels_of_a_large_graph_equal_the_torch_path(monkeypatch, chunks,
                                                                     undirected):
    """Above 2**18 edges the numba path splits the edge list into chunks (one per thread)
    and writes into recycled buffers: the same edges and edge ids as the torch path, for
    any chunk count (a directed edge's draw is keyed by its global position), twice."""
    if chunks is not None:
        monkeypatch.setattr(F.dropout, "workers_for", lambda n, item: chunks)
    g = torch.Generator().manual_seed(0)
    n = 50_000
    ei = torch.randint(0, n, (2, (1 << 18) + 1234), generator=g)
    want = F.dropout_edge(ei, 0.3, 7, undirected=undirected, num_nodes=n, backend="torch")
    new_id = torch.where(torch.rand(n, generator=g) < 0.7, 0, -1)
    new_id[new_id >= 0] = torch.arange(int((new_id >= 0).sum()))
    want_nodes = F.induced_edges(ei, new_id, backend="torch")
    for _ in range(2):
        got = F.dropout_edge(ei, 0.3, 7, undirected=undirected, num_nodes=n)
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
        got = F.induced_edges(ei, new_id)
        assert torch.equal(got[0], want_nodes[0]) and torch.equal(got[1], want_nodes[1])
