"""The batch stage of the graph transforms: one vectorized call over a Batch with one seed per
graph gives every graph bit for bit what the per-graph reference path gives it."""

from __future__ import annotations

import contextlib

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch_geometric.data import Batch, Data

import augkit
from augkit.plugins.graph.functional import numba_disabled
from augkit.random import as_generator
from augkit.transform import Transform

from .graph_strategies import (
    _equal,
    assert_same,
    assert_unchanged,
    assert_valid,
    batches,
    graphs,
    snapshot,
)

# Every graph transform with the parameter variants that select its code paths.
VARIANTS = [
    ("edge_dropout", {"p": 0.3}),
    ("edge_dropout", {"p": 0.5, "undirected": True}),
    ("edge_dropout", {"p": 0.5, "undirected": False}),
    ("edge_dropout", {"p": 1.0}),
    ("node_dropout", {"p": 0.3}),
    ("node_dropout", {"p": 0.9, "min_nodes": 3}),
    ("node_dropout", {"p": 1.0, "min_nodes": 0}),
    *[("feature_masking", {"p": 0.4, "mode": mode, "fill": fill, "target": target})
      for mode in ("feature", "node", "element") for fill in ("zero", "mean", "normal")
      for target in ("x", "edge_attr")],
    ("edge_rewiring", {"method": "random", "ratio": 0.3}),
    ("edge_rewiring", {"method": "degree_preserving", "ratio": 0.5}),
    ("subgraph_sampling", {"method": "khop", "ratio": 0.5}),
    ("subgraph_sampling", {"method": "random_walk", "ratio": 0.6, "walk_length": 3}),
    ("subgraph_sampling", {"method": "random_node", "ratio": 0.4}),
    ("edge_adding", {"p": 0.3}),
    ("edge_adding", {"p": 1.0, "undirected": True, "self_loops": True, "edge_fill": "mean"}),
    ("edge_adding", {"p": 0.5, "undirected": False, "duplicates": True}),
    ("node_shuffling", {}),
    ("feature_dropout", {"p": 0.4}),
    ("feature_dropout", {"p": 0.5, "target": "edge_attr"}),
]
IDS = [f"{n}-{'-'.join(map(str, k.values()))}" for n, k in VARIANTS]


def assert_same_batch(got: Batch, want: Batch) -> None:
    """Graph by graph bit for bit, and the Batch itself valid with the bookkeeping of
    ``Batch.from_data_list`` of the per-graph results."""
    assert_valid(got, graphs=want.num_graphs)
    assert torch.equal(got.batch, want.batch)
    assert torch.equal(got.ptr, want.ptr)
    for key in ("_slice_dict", "_inc_dict"):
        mine, ref = getattr(got, key), getattr(want, key)
        assert mine.keys() == ref.keys()
        for k in ref:
            assert _equal(torch.as_tensor(mine[k]), torch.as_tensor(ref[k])), f"{key}[{k}]"
    parts, ref_parts = got.to_data_list(), want.to_data_list()
    assert len(parts) == len(ref_parts)
    for a, b in zip(parts, ref_parts, strict=True):
        assert_same(a, b)


@st.composite
def mixed_batches(draw, max_graphs: int = 16) -> Batch:
    """A Batch of 1-16 graphs, directed and undirected ones mixed, some without edges."""
    x, ea = draw(st.booleans()), draw(st.booleans())
    k = draw(st.integers(1, max_graphs))
    items = []
    for _ in range(k):
        g = draw(graphs(max_nodes=30, directed=draw(st.booleans()), x=x, edge_attr=ea,
                        node_attrs=False, max_edges=draw(st.sampled_from([0, 40]))))
        g.num_nodes = g.num_nodes  # one key layout for all (some graphs draw it explicit)
        items.append(g)
    return Batch.from_data_list(items)


def _unambiguous(batch: Batch) -> Batch:
    """``batch`` without its graph-level ``graph_y`` where PyG's size rule would call it
    node- or edge-level on a graph alone (one node or one edge) or on the whole Batch: the
    per-graph reference then treats it as a node or edge attribute, which is no item's own
    result to compare with."""
    if "graph_y" not in batch:
        return batch
    counts = [(d.num_nodes, d.num_edges) for d in batch.to_data_list()]
    k = batch.num_graphs
    if all(1 not in c for c in counts) and k not in (batch.num_nodes, batch.num_edges):
        return batch
    items = batch.to_data_list()
    for d in items:
        del d.graph_y
    return Batch.from_data_list(items)


def _params(draw, k: int) -> list:
    seeds = draw(st.lists(st.one_of(st.none(), st.integers(0, 2**63 - 1)),
                          min_size=k, max_size=k))
    return [None if s is None else {"seed": s} for s in seeds]


@pytest.mark.parametrize("torch_only", [False, True], ids=["auto", "torch"])
@pytest.mark.parametrize(("name", "kwargs"), VARIANTS, ids=IDS)
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_apply_items_equals_the_reference_path(name, kwargs, torch_only, data):
    """``apply_items`` with random None/seed params: every graph bit for bit as the
    reference path (each graph alone through ``apply``), the input unchanged; with the numba
    kernels and with the torch ops only (what CUDA runs)."""
    t = augkit.make(name, **kwargs)
    batch = data.draw(st.one_of(batches(max_graphs=16, max_nodes=30), mixed_batches()),
                      label="batch")
    batch = _unambiguous(batch)
    params = _params(data.draw, batch.num_graphs)
    snap = snapshot(batch)
    with numba_disabled() if torch_only else contextlib.nullcontext():
        got = t.apply_items(batch, params)
        assert_unchanged(batch, snap)
        want = Transform.apply_items(t, batch, params)
    assert_same_batch(got, want)


def test_item_params_draw_without_taking_the_graph_out():
    """The seed a graph transform draws per item is the one make_params draws."""
    batch = Batch.from_data_list([Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2)] * 3)
    for name, kwargs in VARIANTS:
        t = augkit.make(name, **kwargs)
        got = t.item_params(batch, 1, as_generator(7))
        assert got == t.make_params(batch.get_example(1), as_generator(7))


def test_auto_undirected_decides_per_graph():
    """``undirected: auto`` on a Batch mixing a symmetric graph and a directed one: each graph
    as alone (pair keys on the first, positions on the second)."""
    sym = Data(edge_index=torch.tensor([[0, 1, 1, 2, 2, 0], [1, 0, 2, 1, 0, 2]]), num_nodes=3)
    directed = Data(edge_index=torch.tensor([[0, 1, 2, 0], [1, 2, 0, 2]]), num_nodes=3)
    batch = Batch.from_data_list([directed, sym, directed, sym])
    t = augkit.make("edge_dropout", p=0.5)
    for seed in range(20):
        params = [{"seed": seed + 100 * i} for i in range(4)]
        got = t.apply_items(batch, params).to_data_list()
        for i, item in enumerate(batch.to_data_list()):
            assert_same(got[i], t.apply(item, params[i]))
            if i % 2:  # the symmetric graphs keep both directions of a pair together
                pairs = {(int(u), int(v)) for u, v in got[i].edge_index.t()}
                assert all((v, u) in pairs for u, v in pairs)


GRAPH_STEPS = [
    {"edge_dropout": {"p": 0.3}},
    {"feature_masking": {"p": 0.3, "mode": "feature", "apply_p": 0.7}},
    {"one_of": {"transforms": [{"node_dropout": {"p": 0.2}},
                               {"feature_masking": {"p": 0.3, "mode": "element",
                                                    "fill": "mean"}},
                               {"edge_rewiring": {"method": "random", "ratio": 0.2}},
                               {"subgraph_sampling": {"method": "random_walk", "ratio": 0.7,
                                                      "walk_length": 3}}]}},
    {"some_of": {"n": 2, "transforms": [{"edge_dropout": {"p": 0.2, "undirected": True}},
                                        {"feature_masking": {"p": 0.2, "mode": "node",
                                                             "fill": "normal"}},
                                        {"node_dropout": {"p": 0.3, "min_nodes": 2}}]}},
    {"random_apply": {"p": 0.5, "transforms": [
        {"edge_rewiring": {"method": "degree_preserving", "ratio": 0.3}},
        {"subgraph_sampling": {"method": "khop", "ratio": 0.6}}]}},
]


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=mixed_batches(max_graphs=12), epoch=st.integers(0, 3),
       offset=st.integers(0, 1000))
def test_policy_batch_stage_equals_sample_stage(batch, epoch, offset):
    """The same steps in ``sample`` and in ``batch``: bit-identical graphs per index."""
    assume("x" in batch)  # feature_masking refuses a graph without its target
    sample = augkit.load_policy({"augkit": 1, "seed": 5, "sample": GRAPH_STEPS})
    batched = augkit.load_policy({"augkit": 1, "seed": 5, "batch": GRAPH_STEPS})
    items = batch.to_data_list()
    indices = torch.arange(offset, offset + len(items))
    snap = snapshot(batch)
    out = batched.apply_batch(batch, indices=indices, epoch=epoch)
    assert_unchanged(batch, snap)
    assert_valid(out, graphs=len(items))
    want = [sample(g, index=int(i), epoch=epoch) for g, i in zip(items, indices, strict=True)]
    assert_same_batch(out, Batch.from_data_list(want))


@pytest.mark.parametrize("step", [{"edge_dropout": {"p": 0.5}}, {"node_dropout": {"p": 0.5}},
                                  {"edge_adding": {"p": 0.5}},
                                  {"subgraph_sampling": {"method": "khop", "ratio": 0.5}}])
def test_graph_level_attribute_stays_when_the_batch_has_as_many_graphs_as_edges(step):
    """Nine graphs holding nine edges (and nine nodes) in all: ``y``, one row per graph, has
    as many rows as the Batch has edges and nodes, so PyG's size rule alone takes it for an
    edge or node attribute; each graph alone says it is neither, and so must the batch."""
    g = torch.Generator().manual_seed(0)
    graphs = [Data(x=torch.randn(0, 3), edge_index=torch.zeros(2, 0, dtype=torch.long),
                   y=torch.tensor([i])) for i in range(8)]
    graphs.append(Data(x=torch.randn(9, 3, generator=g),
                       edge_index=torch.randint(0, 9, (2, 9), generator=g), y=torch.tensor([8])))
    batch = Batch.from_data_list(graphs)
    sample = augkit.load_policy({"augkit": 1, "seed": 5, "sample": [step]})
    batched = augkit.load_policy({"augkit": 1, "seed": 5, "batch": [step]})
    out = batched.apply_batch(batch, indices=range(9))
    assert torch.equal(out.y, torch.arange(9))
    want = [sample(graph, index=i) for i, graph in enumerate(graphs)]
    assert_same_batch(out, Batch.from_data_list(want))


@pytest.mark.parametrize("undirected", [True, False, "auto"])
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=mixed_batches(), p=st.sampled_from([0.0, 0.3, 1.0]), data=st.data())
def test_dropout_edge_items_kernel_equals_torch_ops(undirected, batch, p, data):
    """The one-call numba kernel of the batch-stage edge dropout gives the torch ops' edges,
    positions and per-graph counts, bit for bit."""
    from augkit.plugins.graph.functional import dropout_edge_items

    k = batch.num_graphs
    seeds = torch.tensor(data.draw(st.lists(st.integers(0, 2**63 - 1), min_size=k,
                                            max_size=k)), dtype=torch.long)
    applied = torch.tensor(data.draw(st.lists(st.booleans(), min_size=k, max_size=k)))
    args = (batch.edge_index, batch.batch, batch.ptr, p, seeds, applied)
    got = dropout_edge_items(*args, undirected=undirected, backend="numba")
    want = dropout_edge_items(*args, undirected=undirected, backend="torch")
    for a, b in zip(got, want, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("mode", ["feature", "node", "element"])
@pytest.mark.parametrize("fill", ["zero", "mean", "normal"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64])
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=mixed_batches(), p=st.sampled_from([0.0, 0.4, 1.0]), data=st.data())
def test_mask_feature_items_kernel_equals_torch_ops(mode, fill, dtype, batch, p, data):
    """The one-call numba path of the batch-stage feature masking gives the torch ops'
    values bit for bit (the normal fill: the torch ops' own log and cos, so up to rounding)."""
    from augkit.plugins.graph.functional import mask_feature_items

    k = batch.num_graphs
    n = int(batch.num_nodes)
    x = (torch.randn(n, 5, dtype=torch.float64) * 4).to(dtype)
    seeds = torch.tensor(data.draw(st.lists(st.integers(0, 2**63 - 1), min_size=k,
                                            max_size=k)), dtype=torch.long)
    applied = torch.tensor(data.draw(st.lists(st.booleans(), min_size=k, max_size=k)))
    args = (x, p, seeds, applied, batch.batch, k)
    got = mask_feature_items(*args, mode=mode, fill=fill)
    with numba_disabled():
        want = mask_feature_items(*args, mode=mode, fill=fill)
    if fill == "normal" and dtype != torch.int64:
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    else:
        assert torch.equal(got, want)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=mixed_batches(), p=st.sampled_from([0.0, 0.3, 0.9, 1.0]),
       min_nodes=st.integers(0, 5), data=st.data())
def test_node_keep_items_kernel_equals_torch_ops(batch, p, min_nodes, data):
    """The numba pass of the batch-stage node dropout keeps the torch ops' nodes."""
    from augkit.plugins.graph.functional import node_keep_items

    k = batch.num_graphs
    seeds = torch.tensor(data.draw(st.lists(st.integers(0, 2**63 - 1), min_size=k,
                                            max_size=k)), dtype=torch.long)
    applied = torch.tensor(data.draw(st.lists(st.booleans(), min_size=k, max_size=k)))
    got = node_keep_items(batch.ptr, p, seeds, applied, min_nodes=min_nodes)
    with numba_disabled():
        want = node_keep_items(batch.ptr, p, seeds, applied, min_nodes=min_nodes)
    for a, b in zip(got, want, strict=True):
        assert torch.equal(a, b)
