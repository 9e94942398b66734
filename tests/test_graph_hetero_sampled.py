"""node_dropout, subgraph_sampling and edge_dropout on HeteroData mini-batches of
NeighborLoader, LinkNeighborLoader and HGTLoader: per node type the seeds are kept and stay
first, n_id/e_id stay aligned with the full graph, num_sampled_nodes/num_sampled_edges are
recounted per hop, link seeds are relabelled, input unchanged, same seed same output.

PyG's loaders need pyg-lib or torch-sparse to sample; where neither is installed the batches
come from ``hetero_neighbor_batch`` below, which samples hop by hop as PyG's hetero neighbour
sampler does (flow source_to_target: each hop samples in-edges of the nodes the previous hop
added, per edge type) and sets the attributes ``NodeLoader``/``LinkLoader`` set, and the
real-loader test is skipped."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from torch_geometric.data import HeteroData

import augkit
from augkit.errors import InputError
from augkit.plugins.graph import hetero
from tests.hetero_strategies import hetero_graphs
from tests.pyg_loaders import sampler_backend_missing
from tests.test_graph_sampled_batches import GRAPH as HOMO_GRAPH
from tests.test_graph_sampled_batches import neighbor_batch

TRANSFORMS = [("node_dropout", {"p": 0.5}), ("node_dropout", {"p": 1.0}),
              ("node_dropout", {"p": {"*": 0.3, "v0": 0.9}}), ("edge_dropout", {"p": 0.5}),
              ("subgraph_sampling", {"method": "khop"}),
              ("subgraph_sampling", {"method": "random_walk", "ratio": 0.3}),
              ("subgraph_sampling", {"method": "khop", "ratio": {"*": 0.4}}),
              ("subgraph_sampling", {"method": "random_node", "ratio": 0.2})]


def hetero_neighbor_batch(data: HeteroData, seeds: dict[str, list[int]],
                          num_neighbors: list[int], seed: int) -> HeteroData:
    """A hetero NeighborLoader-style batch from ``seeds`` (node type -> node ids): per type
    the seeds first, then each hop's new nodes; per edge type each hop's edges after the
    previous hop's; n_id, e_id, num_sampled_nodes and num_sampled_edges on every store."""
    g = torch.Generator().manual_seed(seed)
    n_id = {nt: list(seeds.get(nt, [])) for nt in data.node_types}
    pos = {nt: {v: i for i, v in enumerate(ids)} for nt, ids in n_id.items()}
    rows = {et: [] for et in data.edge_types}
    cols = {et: [] for et in data.edge_types}
    eids = {et: [] for et in data.edge_types}
    nsn = {nt: [len(ids)] for nt, ids in n_id.items()}
    nse: dict[Any, list[int]] = {et: [] for et in data.edge_types}
    frontier = {nt: list(ids) for nt, ids in n_id.items()}
    for k in num_neighbors:
        new: dict[str, list[int]] = {nt: [] for nt in data.node_types}
        for et in data.edge_types:
            src, _, dst = et
            row, col = data[et].edge_index
            count = 0
            for v in frontier[dst]:
                inc = (col == v).nonzero().view(-1)
                for e in inc[torch.randperm(inc.numel(), generator=g)[:k]].tolist():
                    u = int(row[e])
                    if u not in pos[src]:
                        pos[src][u] = len(n_id[src])
                        n_id[src].append(u)
                        new[src].append(u)
                    rows[et].append(pos[src][u])
                    cols[et].append(pos[dst][v])
                    eids[et].append(e)
                    count += 1
            nse[et].append(count)
        for nt in data.node_types:
            nsn[nt].append(len(new[nt]))
        frontier = new
    out = HeteroData()
    for nt in data.node_types:
        ids = torch.tensor(n_id[nt], dtype=torch.long)
        store = data[nt]
        n = store.num_nodes
        for key, value in store.items():
            if isinstance(value, torch.Tensor) and value.dim() and value.size(0) == n:
                out[nt][key] = value[ids]
        out[nt].n_id = ids
        out[nt].num_sampled_nodes = nsn[nt]
    for et in data.edge_types:
        e_id = torch.tensor(eids[et], dtype=torch.long)
        store = data[et]
        for key, value in store.items():
            if key != "edge_index" and isinstance(value, torch.Tensor):
                out[et][key] = value[e_id]
        out[et].edge_index = torch.tensor([rows[et], cols[et]], dtype=torch.long).view(2, -1)
        out[et].e_id = e_id
        out[et].num_sampled_edges = nse[et]
    out._positions = pos  # for link batches below; removed before use
    return out


def node_batch(data, input_type, seeds, num_neighbors, seed, hgt=False):
    out = hetero_neighbor_batch(data, {input_type: seeds}, num_neighbors, seed)
    del out._positions
    out[input_type].input_id = torch.tensor(seeds, dtype=torch.long)
    out[input_type].batch_size = len(seeds)
    if hgt:  # HGTLoader: n_id, e_id, input_id and batch_size; no per-hop counts
        for store in (*out.node_stores, *out.edge_stores):
            store.pop("num_sampled_nodes", None)
            store.pop("num_sampled_edges", None)
    return out


def link_batch(data, edge_type, edges, num_neighbors, seed, triplet=False):
    src, _, dst = edge_type
    label = data[edge_type].edge_index[:, edges]
    seeds: dict[str, list[int]] = {src: list(dict.fromkeys(label[0].tolist()))}
    seeds.setdefault(dst, [])
    seeds[dst] = list(dict.fromkeys(seeds[dst] + label[1].tolist()))
    out = hetero_neighbor_batch(data, seeds, num_neighbors, seed)
    pos = out._positions
    del out._positions
    rows = torch.tensor([pos[src][int(v)] for v in label[0]], dtype=torch.long)
    cols = torch.tensor([pos[dst][int(v)] for v in label[1]], dtype=torch.long)
    out[edge_type].input_id = torch.tensor(edges, dtype=torch.long)
    if triplet:
        out[src].src_index = rows
        out[dst].dst_pos_index = cols
        out[dst].dst_neg_index = cols.flip(0).view(-1, 1)
    else:
        out[edge_type].edge_label_index = torch.stack([rows, cols])
        out[edge_type].edge_label = torch.ones(len(edges))
    return out


def _hops(counts, ids):
    hop_of, start = {}, 0
    for h, c in enumerate(counts):
        for v in ids[start:start + c]:
            hop_of[v] = h
        start += c
    return hop_of


def check_batch(out: HeteroData, batch: HeteroData, data: HeteroData, name: str) -> None:
    """Seeds first, n_id/e_id aligned with ``data``, per-hop counts consistent, per type."""
    for nt in data.node_types:
        o, b = out[nt], batch[nt]
        for key, value in data[nt].items():
            if isinstance(value, torch.Tensor) and value.size(0) == data[nt].num_nodes:
                assert torch.equal(o[key], value[o.n_id]), (nt, key)
        assert set(o.n_id.tolist()) <= set(b.n_id.tolist())
        assert o.num_nodes == o.n_id.numel()
        if "batch_size" in b:
            bs = b.batch_size
            assert o.batch_size == bs and torch.equal(o.input_id, b.input_id)
            assert torch.equal(o.n_id[:bs], b.n_id[:bs])
        if "num_sampled_nodes" in b:
            assert sum(o.num_sampled_nodes) == o.num_nodes
            first = b.num_sampled_nodes[0]
            assert o.num_sampled_nodes[0] == first
            assert torch.equal(o.n_id[:first], b.n_id[:first])  # the seeds, first
            hop_of = _hops(b.num_sampled_nodes, b.n_id.tolist())
            assert _hops(o.num_sampled_nodes, o.n_id.tolist()).items() <= hop_of.items()
        for key in ("src_index", "dst_pos_index", "dst_neg_index"):
            if key in b:
                assert torch.equal(o.n_id[o[key]], b.n_id[b[key]])
        if name == "edge_dropout":
            assert torch.equal(o.n_id, b.n_id)
    for et in data.edge_types:
        o, b, full = out[et], batch[et], data[et]
        for key, value in full.items():
            if key != "edge_index" and isinstance(value, torch.Tensor):
                assert torch.equal(o[key], value[o.e_id]), (et, key)
        for row, nt in ((0, et[0]), (1, et[2])):
            assert torch.equal(out[nt].n_id[o.edge_index[row]], full.edge_index[row][o.e_id])
        assert set(o.e_id.tolist()) <= set(b.e_id.tolist())
        if "num_sampled_edges" in b:
            assert sum(o.num_sampled_edges) == o.edge_index.size(1)
            hop_of = _hops(b.num_sampled_edges, b.e_id.tolist())
            assert _hops(o.num_sampled_edges, o.e_id.tolist()).items() <= hop_of.items()
        if name != "edge_dropout":  # an induced subgraph: every batch edge between kept nodes
            kept = [set(out[nt].n_id.tolist()) for nt in (et[0], et[2])]
            ends = [batch[et[0]].n_id[b.edge_index[0]], batch[et[2]].n_id[b.edge_index[1]]]
            inside = [e for j, e in enumerate(b.e_id.tolist())
                      if int(ends[0][j]) in kept[0] and int(ends[1][j]) in kept[1]]
            assert sorted(o.e_id.tolist()) == sorted(inside)
        if "edge_label_index" in b:
            for row, nt in ((0, et[0]), (1, et[2])):
                assert torch.equal(out[nt].n_id[o.edge_label_index[row]],
                                   batch[nt].n_id[b.edge_label_index[row]])
            for key in ("edge_label", "input_id"):  # a loader without labels sets none
                assert (key in o) == (key in b), key
                if key in b:
                    assert torch.equal(o[key], b[key]), key


def _tensors(data):
    return {(key, k): v for key, store in
            [*((nt, data[nt]) for nt in data.node_types),
             *((et, data[et]) for et in data.edge_types)]
            for k, v in store.items()}


def _same(a, b):
    ta, tb = _tensors(a), _tensors(b)
    assert ta.keys() == tb.keys()
    for key, v in ta.items():
        w = tb[key]
        assert torch.equal(v, w) if isinstance(v, torch.Tensor) else v == w, key


@st.composite
def sampled_batches(draw):
    data = draw(hetero_graphs())
    sizes = {nt: data[nt].num_nodes for nt in data.node_types}
    kind = draw(st.sampled_from(["node", "hgt", "link", "triplet"]))
    hops = draw(st.lists(st.integers(1, 4), min_size=1, max_size=3))
    seed = draw(st.integers(0, 2**31))
    if kind in ("node", "hgt"):
        nt = draw(st.sampled_from(data.node_types))
        assume(sizes[nt] > 0)
        seeds = draw(st.lists(st.integers(0, sizes[nt] - 1), min_size=1, max_size=6,
                              unique=True))
        return data, node_batch(data, nt, seeds, hops, seed, hgt=kind == "hgt")
    et = draw(st.sampled_from(data.edge_types))
    e = data[et].edge_index.size(1)
    assume(e > 0)
    edges = draw(st.lists(st.integers(0, e - 1), min_size=1, max_size=4, unique=True))
    return data, link_batch(data, et, edges, hops, seed, triplet=kind == "triplet")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                   HealthCheck.too_slow])
@given(case=sampled_batches(), transform=st.sampled_from(TRANSFORMS),
       seed=st.integers(0, 2**31))
def test_sampled_hetero_batches_keep_seeds_and_bookkeeping(case, transform, seed):
    data, batch = case
    name, kw = transform
    try:
        t = augkit.make(name, **kw)
        before = copy.deepcopy(batch)
        out = t(batch, generator=seed)
    except InputError as exc:  # p names v0, which the drawn graph may not have
        assert "v0" not in batch.node_types and "v0" in str(exc)
        return
    check_batch(out, batch, data, name)
    _same(before, batch)  # nothing the user passed in is changed
    _same(out, t(batch, generator=seed))


def _graph(seed=0, papers=120, authors=60):
    g = torch.Generator().manual_seed(seed)
    data = HeteroData()
    data["paper"].x = torch.randn(papers, 4, generator=g)
    data["paper"].y = torch.randint(0, 3, (papers,), generator=g)
    data["author"].x = torch.randn(authors, 2, generator=g)
    cites = torch.randint(0, papers, (2, 600), generator=g)
    writes = torch.stack([torch.randint(0, authors, (400,), generator=g),
                          torch.randint(0, papers, (400,), generator=g)])
    data["paper", "cites", "paper"].edge_index = cites
    data["author", "writes", "paper"].edge_index = writes
    data["author", "writes", "paper"].edge_attr = torch.randn(400, 3, generator=g)
    data["paper", "rev_writes", "author"].edge_index = writes.flip(0)
    return data


GRAPH = _graph()


def test_seeds_stay_first_over_200_draws():
    batch = node_batch(GRAPH, "paper", [3, 7, 11, 19, 23, 31, 42, 55], [4, 3], 1)
    for p in (0.3, 0.9):
        t = augkit.make("node_dropout", p=p)
        for s in range(100):
            out = t(batch, generator=s)
            assert torch.equal(out["paper"].n_id[:8], batch["paper"].n_id[:8])
            for nt in ("paper", "author"):
                assert sum(out[nt].num_sampled_nodes) == out[nt].num_nodes


def test_non_seed_nodes_drop_at_each_types_rate():
    graph = _graph(2, papers=400, authors=300)
    batch = node_batch(graph, "paper", list(range(10)), [8, 8], 2)
    t = augkit.make("node_dropout", p={"paper": 0.4, "author": 0.7})
    for nt, p, seeds in (("paper", 0.4, 10), ("author", 0.7, 0)):
        others = batch[nt].num_nodes - seeds
        outs = [t(batch, generator=s) for s in range(20)]  # a store needs its graph alive
        dropped = sum(batch[nt].num_nodes - out[nt].num_nodes for out in outs)
        assert binomtest(dropped, 20 * others, p).pvalue > 1e-3, nt


def test_edge_dropout_recounts_num_sampled_edges_per_hop_and_type():
    batch = node_batch(GRAPH, "paper", [0, 1, 2, 3], [5, 3], 3)
    out = augkit.make("edge_dropout", p=0.5, undirected=False)(batch, generator=4)
    for et in GRAPH.edge_types:
        kept = set(out[et].e_id.tolist())
        start, want = 0, []
        for c in batch[et].num_sampled_edges:
            want.append(sum(e in kept for e in batch[et].e_id[start:start + c].tolist()))
            start += c
        assert out[et].num_sampled_edges == want
    for nt in GRAPH.node_types:
        assert out[nt].num_sampled_nodes == batch[nt].num_sampled_nodes


def test_p_one_keeps_exactly_the_seeds_of_every_type():
    batch = link_batch(GRAPH, ("author", "writes", "paper"), [0, 1, 2], [4, 3], 9)
    out = augkit.make("node_dropout", p=1.0)(batch, generator=0)
    for nt in GRAPH.node_types:
        seeds = batch[nt].num_sampled_nodes[0]
        assert out[nt].num_nodes == seeds
        assert out[nt].num_sampled_nodes == [seeds, 0, 0]
    check_batch(out, batch, GRAPH, "node_dropout")


def test_inconsistent_counts_are_removed_and_bad_seeds_refused():
    batch = node_batch(GRAPH, "paper", [0, 1, 2, 3], [5, 3], 5)
    batch["author"].num_sampled_nodes = [1, 1]
    out = augkit.make("node_dropout", p=0.5)(batch, generator=0)
    assert "num_sampled_nodes" not in out["author"] and "num_sampled_nodes" in out["paper"]
    batch["paper"].batch_size = batch["paper"].num_nodes + 1
    with pytest.raises(InputError, match="batch_size of node type 'paper' is"):
        augkit.make("node_dropout", p=0.5)(batch, generator=0)
    link = link_batch(GRAPH, ("author", "writes", "paper"), [0, 1], [3], 5)
    link["author", "writes", "paper"].edge_label_index[0, 0] = 10_000
    with pytest.raises(InputError, match="edge_label_index of edge type "
                                         "'author__writes__paper' holds"):
        augkit.make("subgraph_sampling")(link, generator=0)


def test_trim_to_layer_works_on_the_recounted_batch():
    from torch_geometric.utils import trim_to_layer

    batch = node_batch(GRAPH, "paper", [0, 5, 9, 14], [5, 3], 7)
    out = augkit.make("node_dropout", p=0.5)(batch, generator=8)
    nsn, nse = out.collect("num_sampled_nodes"), out.collect("num_sampled_edges")
    x, ei = out.collect("x"), out.collect("edge_index")
    for layer in range(2):
        x, ei, _ = trim_to_layer(layer, nsn, nse, x, ei)
        for et, index in ei.items():  # what is left is in range, the seeds still first
            assert index.numel() == 0 or (int(index[0].max()) < x[et[0]].size(0)
                                          and int(index[1].max()) < x[et[2]].size(0))
        assert torch.equal(x["paper"][:4], batch["paper"].x[:4])
    assert x["paper"].size(0) == nsn["paper"][0] + nsn["paper"][1]
    for et in GRAPH.edge_types:
        assert ei[et].size(1) == nse[et][0]


def test_real_hetero_loaders():
    from torch_geometric.loader import HGTLoader, LinkNeighborLoader, NeighborLoader

    data = GRAPH
    et = ("author", "writes", "paper")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            batches = list(NeighborLoader(data, num_neighbors=[4, 3], batch_size=8,
                                          input_nodes="paper"))[:3]
            batches += list(HGTLoader(data, num_samples=[4, 3], batch_size=8,
                                      input_nodes="paper"))[:3]
            batches += list(LinkNeighborLoader(data, num_neighbors=[4, 3], batch_size=6,
                                               edge_label_index=(et, data[et].edge_index)))[:3]
        except ImportError as err:
            sampler_backend_missing(err)
    for batch in batches:
        for name, kw in TRANSFORMS:
            if name == "node_dropout" and isinstance(kw["p"], dict):
                kw = {"p": {"*": 0.3, "paper": 0.9}}
            check_batch(augkit.make(name, **kw)(batch, generator=0), batch, data, name)


@pytest.mark.parametrize("name", ["edge_dropout", "node_dropout", "subgraph_sampling"])
def test_per_seed_attributes_stay_when_they_count_as_many_as_the_edges(name):
    # One label edge per sampled edge: edge_label and input_id then have the edge count
    # along their first dimension, yet they belong to the seeds, which all stay.
    et = ("author", "writes", "paper")
    batch = link_batch(GRAPH, et, [0, 1, 2], [4, 3], 12)
    e = batch[et].edge_index.size(1)
    label = batch[et].edge_label_index
    batch[et].edge_label_index = label[:, torch.arange(e) % label.size(1)]
    batch[et].edge_label = torch.arange(e, dtype=torch.float)
    batch[et].input_id = torch.arange(e)
    for s in range(5):
        out = augkit.make(name)(batch, generator=s)
        assert torch.equal(out[et].edge_label, batch[et].edge_label)
        assert torch.equal(out[et].input_id, batch[et].input_id)
        check_batch(out, batch, GRAPH, name)


@pytest.mark.parametrize("name", ["edge_dropout", "node_dropout", "subgraph_sampling"])
def test_per_seed_attributes_of_a_data_batch_stay_too(name):
    from tests.test_graph_sampled_batches import check_batch as check_data_batch
    from tests.test_graph_sampled_batches import link_batch as data_link_batch

    batch = data_link_batch(HOMO_GRAPH, [0, 1, 2], [5, 3], 1)
    e = batch.edge_index.size(1)
    batch.edge_label_index = batch.edge_label_index[:, torch.arange(e) % 3]
    batch.edge_label = torch.arange(e, dtype=torch.float)
    batch.input_id = torch.arange(e)
    for s in range(5):
        out = augkit.make(name)(batch, generator=s)
        assert torch.equal(out.edge_label, batch.edge_label)
        assert torch.equal(out.input_id, batch.input_id)
        check_data_batch(out, batch, HOMO_GRAPH)


@pytest.mark.parametrize("triplet", [False, True])
def test_link_seeds_anywhere_in_the_batch_are_kept_and_relabelled(triplet):
    # Without per-hop counts the link indices alone name the seeds, wherever they are.
    et = ("author", "writes", "paper")
    batch = link_batch(GRAPH, et, [0, 1, 2], [4, 3], 13, triplet=triplet)
    for nt in GRAPH.node_types:
        del batch[nt].num_sampled_nodes
    rows = torch.arange(batch["author"].num_nodes)[-3:]
    cols = torch.arange(batch["paper"].num_nodes)[-3:]
    if triplet:
        batch["author"].src_index, batch["paper"].dst_pos_index = rows, cols
        batch["paper"].dst_neg_index = cols.flip(0).view(-1, 1)
    else:
        batch[et].edge_label_index = torch.stack([rows, cols])
    for s in range(10):
        out = augkit.make("node_dropout", p=0.9)(batch, generator=s)
        check_batch(out, batch, GRAPH, "node_dropout")
        assert out["author"].num_nodes < batch["author"].num_nodes


@settings(max_examples=30, deadline=None)
@given(seeds=st.lists(st.integers(0, 59), min_size=2, max_size=10, unique=True),
       transform=st.sampled_from([("node_dropout", {"p": 0.5}), ("node_dropout", {"p": 1.0}),
                                  ("node_dropout", {"p": 0.9, "min_nodes": 6}),
                                  ("edge_dropout", {"p": 0.5, "undirected": False}),
                                  ("subgraph_sampling", {"method": "random_node"})]),
       seed=st.integers(0, 2**31))
def test_one_type_batch_equals_the_homogeneous_batch(seeds, transform, seed):
    """A sampled HeteroData of one node type and one edge type gets what the equal sampled
    Data gets under the type's seed."""
    homo = neighbor_batch(HOMO_GRAPH, seeds, [4, 3], seed)
    h = HeteroData()
    for key in ("x", "y", "n_id", "num_sampled_nodes", "input_id", "batch_size"):
        h["a"][key] = homo[key]
    for key in ("edge_index", "edge_attr", "e_id", "num_sampled_edges"):
        h["a", "r", "a"][key] = homo[key]
    name, kw = transform
    t = augkit.make(name, **kw)
    out = t.apply(h, {"seed": seed})
    type_name = "a" if name != "edge_dropout" else "a__r__a"
    want = t.apply(homo, {"seed": hetero.type_seed(seed, type_name)})
    for key in ("x", "y", "n_id", "num_sampled_nodes", "input_id", "batch_size"):
        a, b = out["a"][key], want[key]
        assert torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b, key
    for key in ("edge_index", "edge_attr", "e_id", "num_sampled_edges"):
        a, b = out["a", "r", "a"][key], want[key]
        assert torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b, key
