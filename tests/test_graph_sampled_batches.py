"""node_dropout, edge_dropout and subgraph_sampling on NeighborLoader / LinkNeighborLoader
mini-batches: seeds kept and first, n_id/e_id aligned with the full graph, num_sampled_*
recounted per hop, link seeds' endpoints kept, input unchanged, same seed same output.

PyG's own loaders need pyg-lib or torch-sparse to sample; where neither is installed the
batches come from ``neighbor_batch``/``link_batch`` below, which sample hop by hop as PyG's
sampler does and carry the same attributes, and the real-loader test is skipped."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from torch_geometric.data import Data

import augkit
from augkit.errors import InputError

from .pyg_loaders import sampler_backend_missing

TRANSFORMS = [("node_dropout", {"p": 0.5}), ("node_dropout", {"p": 0.9}),
              ("edge_dropout", {"p": 0.5}), ("subgraph_sampling", {"method": "khop"}),
              ("subgraph_sampling", {"method": "random_walk", "ratio": 0.3}),
              ("subgraph_sampling", {"method": "random_node", "ratio": 0.2})]


def random_graph(n: int, m: int, seed: int) -> Data:
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, m), generator=g)
    return Data(x=torch.randn(n, 3, generator=g), y=torch.randint(0, 2, (n,), generator=g),
                edge_index=ei, edge_attr=torch.randn(m, 2, generator=g))


def neighbor_batch(data: Data, seeds: list[int], num_neighbors: list[int], seed: int,
                   label_index: torch.Tensor | None = None) -> Data:
    """A NeighborLoader-style batch (flow source_to_target): seeds first, then each hop's new
    nodes; each hop's edges (sampled in-edges of the previous hop) after the previous hop's."""
    g = torch.Generator().manual_seed(seed)
    row, col = data.edge_index
    n_id, pos = list(seeds), {v: i for i, v in enumerate(seeds)}
    rows, cols, eids, nsn, nse = [], [], [], [len(seeds)], []
    frontier = list(seeds)
    for k in num_neighbors:
        new, count = [], 0
        for v in frontier:
            inc = (col == v).nonzero().view(-1)
            pick = inc[torch.randperm(inc.numel(), generator=g)[:k]]
            for e in pick.tolist():
                u = int(row[e])
                if u not in pos:
                    pos[u] = len(n_id)
                    n_id.append(u)
                    new.append(u)
                rows.append(pos[u])
                cols.append(pos[v])
                eids.append(e)
                count += 1
        nsn.append(len(new))
        nse.append(count)
        frontier = new
    n_id_t, e_id = torch.tensor(n_id), torch.tensor(eids, dtype=torch.long)
    out = Data(x=data.x[n_id_t], y=data.y[n_id_t],
               edge_index=torch.tensor([rows, cols], dtype=torch.long).view(2, -1),
               edge_attr=data.edge_attr[e_id], n_id=n_id_t, e_id=e_id,
               num_sampled_nodes=nsn, num_sampled_edges=nse)
    if label_index is None:
        out.input_id = torch.tensor(seeds)
        out.batch_size = len(seeds)
    else:
        out.edge_label_index = torch.tensor([[pos[int(v)] for v in label_index[0]],
                                             [pos[int(v)] for v in label_index[1]]])
        out.edge_label = torch.ones(label_index.size(1))
        out.input_id = torch.arange(label_index.size(1))
    return out


def link_batch(data: Data, edges: list[int], num_neighbors: list[int], seed: int) -> Data:
    """A LinkNeighborLoader-style batch: the label edges' endpoints are the seeds."""
    label = data.edge_index[:, edges]
    seeds = list(dict.fromkeys(label.t().reshape(-1).tolist()))
    return neighbor_batch(data, seeds, num_neighbors, seed, label_index=label)


def check_batch(out: Data, batch: Data, data: Data) -> None:
    """Seeds first, n_id/e_id aligned with ``data``, per-hop counts consistent."""
    bs = getattr(batch, "batch_size", None)
    if bs is not None:
        assert out.batch_size == bs
        assert torch.equal(out.n_id[:bs], batch.n_id[:bs])
        assert torch.equal(out.input_id, batch.input_id)
    assert torch.equal(out.x, data.x[out.n_id])
    assert torch.equal(out.y, data.y[out.n_id])
    assert torch.equal(out.edge_attr, data.edge_attr[out.e_id])
    # Every edge maps back through n_id to the original edge e_id names.
    assert torch.equal(out.n_id[out.edge_index], data.edge_index[:, out.e_id])
    assert set(out.n_id.tolist()) <= set(batch.n_id.tolist())
    assert set(out.e_id.tolist()) <= set(batch.e_id.tolist())
    # A loader sampling through torch-sparse sets no per-hop counts: none appear then.
    assert ("num_sampled_nodes" in out) == ("num_sampled_nodes" in batch)
    if "num_sampled_nodes" in batch:
        check_hops(out, batch)
    if hasattr(batch, "edge_label_index"):
        assert torch.equal(out.n_id[out.edge_label_index], batch.n_id[batch.edge_label_index])
        assert ("edge_label" in out) == ("edge_label" in batch)
        if "edge_label" in batch:
            assert torch.equal(out.edge_label, batch.edge_label)


def check_hops(out: Data, batch: Data) -> None:
    """The per-hop counts add up, the seeds' hop is whole and every kept node keeps its hop."""
    assert sum(out.num_sampled_nodes) == out.num_nodes
    assert sum(out.num_sampled_edges) == out.num_edges
    assert out.num_sampled_nodes[0] == batch.num_sampled_nodes[0]
    hop_of = {}
    start = 0
    for h, c in enumerate(batch.num_sampled_nodes):
        for v in batch.n_id[start:start + c].tolist():
            hop_of[v] = h
        start += c
    start = 0
    for h, c in enumerate(out.num_sampled_nodes):
        assert all(hop_of[v] == h for v in out.n_id[start:start + c].tolist())
        start += c


GRAPH = random_graph(60, 300, 0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 59), min_size=4, max_size=16, unique=True),
       st.sampled_from(TRANSFORMS), st.integers(0, 2**31), st.booleans())
def test_sampled_batches_keep_seeds_and_bookkeeping(seeds, transform, seed, link):
    name, kw = transform
    batch = (link_batch(GRAPH, list(range(len(seeds))), [5, 3], seed) if link
             else neighbor_batch(GRAPH, seeds, [5, 3], seed))
    before = copy.deepcopy(batch)
    t = augkit.make(name, **kw)
    out = t(batch, generator=seed)
    check_batch(out, batch, GRAPH)
    for key in before.keys():  # nothing the user passed in is changed
        a, b = before[key], batch[key]
        assert torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b
    again = t(batch, generator=seed)
    for key in out.keys():
        a, b = out[key], again[key]
        assert torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b


def test_seeds_stay_first_over_200_draws():
    batch = neighbor_batch(GRAPH, [3, 7, 11, 19, 23, 31, 42, 55], [5, 3], 1)
    bs = batch.batch_size
    for p in (0.3, 0.9):
        t = augkit.make("node_dropout", p=p)
        for s in range(200):
            out = t(batch, generator=s)
            assert torch.equal(out.n_id[:bs], batch.n_id[:bs])
            assert sum(out.num_sampled_nodes) == out.num_nodes


def test_non_seed_nodes_drop_at_rate_p():
    batch = neighbor_batch(random_graph(400, 4000, 2), list(range(10)), [10, 10], 2)
    others = batch.num_nodes - batch.batch_size
    t = augkit.make("node_dropout", p=0.4)
    dropped = sum(batch.num_nodes - t(batch, generator=s).num_nodes for s in range(20))
    assert binomtest(dropped, 20 * others, 0.4).pvalue > 1e-3


def test_edge_dropout_recounts_num_sampled_edges_per_hop():
    batch = neighbor_batch(GRAPH, [0, 1, 2, 3], [5, 3], 3)
    out = augkit.make("edge_dropout", p=0.5)(batch, generator=4)
    kept = set(out.e_id.tolist())
    start, want = 0, []
    for c in batch.num_sampled_edges:
        want.append(sum(e in kept for e in batch.e_id[start:start + c].tolist()))
        start += c
    assert out.num_sampled_edges == want
    assert out.num_sampled_nodes == batch.num_sampled_nodes


def test_inconsistent_counts_are_removed_and_bad_batch_size_refused():
    batch = neighbor_batch(GRAPH, [0, 1, 2, 3], [5, 3], 5)
    batch.num_sampled_nodes = [1, 1]
    out = augkit.make("node_dropout", p=0.5)(batch, generator=0)
    assert "num_sampled_nodes" not in out
    batch.batch_size = batch.num_nodes + 1
    with pytest.raises(InputError, match="batch_size"):
        augkit.make("node_dropout", p=0.5)(batch, generator=0)


def test_real_neighbor_loaders():
    from torch_geometric.loader import LinkNeighborLoader, NeighborLoader

    data = random_graph(80, 400, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            batches = list(NeighborLoader(data, num_neighbors=[5, 3], batch_size=8))[:3]
            batches += list(LinkNeighborLoader(data, num_neighbors=[5, 3], batch_size=6,
                                               edge_label_index=data.edge_index))[:3]
        except ImportError as err:
            sampler_backend_missing(err)
    for batch in batches:
        for name, kw in TRANSFORMS:
            check_batch(augkit.make(name, **kw)(batch, generator=0), batch, data)


def test_trim_to_layer_works_on_the_recounted_batch():
    from torch_geometric.utils import trim_to_layer

    batch = neighbor_batch(GRAPH, [0, 5, 9, 14], [5, 3], 7)
    out = augkit.make("node_dropout", p=0.5)(batch, generator=8)
    x, ei = out.x, out.edge_index
    for layer in range(len(out.num_sampled_edges)):
        x, ei, _ = trim_to_layer(layer, out.num_sampled_nodes, out.num_sampled_edges, x, ei)
        # What is left is the batch's own first hops: ids in range, seeds still first.
        assert ei.numel() == 0 or int(ei.max()) < x.size(0)
        assert torch.equal(x[:out.batch_size], batch.x[:batch.batch_size])
    assert x.size(0) == out.num_sampled_nodes[0] + out.num_sampled_nodes[1]
    assert ei.size(1) == out.num_sampled_edges[0]


@pytest.mark.parametrize("link", [False, True])
def test_p_one_keeps_exactly_the_seeds(link):
    batch = (link_batch(GRAPH, [0, 1, 2], [5, 3], 9) if link
             else neighbor_batch(GRAPH, [4, 8, 15, 16, 23], [5, 3], 9))
    seeds = batch.num_sampled_nodes[0]
    out = augkit.make("node_dropout", p=1.0)(batch, generator=0)
    assert out.num_nodes == seeds and out.num_sampled_nodes == [seeds, 0, 0]
    assert torch.equal(out.n_id, batch.n_id[:seeds])
    check_batch(out, batch, GRAPH)
    more = augkit.make("node_dropout", p=1.0, min_nodes=seeds + 3)(batch, generator=0)
    assert more.num_nodes >= seeds + 3
    check_batch(more, batch, GRAPH)


def test_triplet_link_seeds_are_kept_and_relabelled():
    batch = neighbor_batch(GRAPH, [2, 6, 10, 30, 41], [5, 3], 11)
    del batch.batch_size, batch.input_id  # a triplet batch: its seeds are index vectors
    batch.num_sampled_nodes = [1, batch.num_sampled_nodes[1] + 4, batch.num_sampled_nodes[2]]
    batch.src_index, batch.dst_pos_index = torch.tensor([0, 1]), torch.tensor([2, 3])
    batch.dst_neg_index = torch.tensor([[4, 1], [0, 2]])
    for s in range(30):
        out = augkit.make("node_dropout", p=0.9)(batch, generator=s)
        for key in ("src_index", "dst_pos_index", "dst_neg_index"):
            assert torch.equal(out.n_id[out[key]], batch.n_id[batch[key]])
        assert torch.equal(out.n_id[:5], batch.n_id[:5])
        assert sum(out.num_sampled_nodes) == out.num_nodes
