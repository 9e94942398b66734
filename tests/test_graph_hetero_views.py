"""The self-supervised graph views and ``diffusion_noise`` on PyG HeteroData and Batches of
it: invariants on generated graphs, agreement with the homogeneous transform on a graph of
one node type and one edge type, the rates per type, uniform new edges between two types,
and the sampler's edge ids after edges are moved or created."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
import torch_geometric.transforms as T
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest, chisquare
from torch_geometric.data import Batch, Data, HeteroData

import augkit
from augkit.errors import InputError
from augkit.plugins.graph import hetero
from augkit.random import derive_seed, type_seed

from .hetero_strategies import (
    assert_same_hetero,
    assert_unchanged,
    assert_valid_hetero,
    hetero_batches,
    hetero_graphs,
    pairs_mirrored,
    reverse_relations,
    snapshot,
)

ALPHA = 1e-3  # fixed seeds: a failure means the rate is wrong, not bad luck
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))


def _one_type(seed: int, n: int, e: int, symmetric: bool) -> tuple[HeteroData, Data]:
    """A HeteroData of node type ``a`` and relation ``(a, r, a)``, and the equal Data."""
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, max(n, 1), (2, e if n else 0), generator=g)
    if symmetric:
        ei = torch.cat([ei, ei.flip(0)], 1)
    h = HeteroData()
    h["a"].x = torch.randn(n, 3, generator=g)
    h["a", "r", "a"].edge_index = ei
    h["a", "r", "a"].edge_attr = torch.randn(ei.size(1), 2, generator=g)
    homo = Data(x=h["a"].x, edge_index=ei, edge_attr=h["a", "r", "a"].edge_attr)
    return h, homo


def _two_types() -> HeteroData:
    g = torch.Generator().manual_seed(1)
    data = HeteroData()
    data["user"].x = torch.randn(12, 3, generator=g)
    data["item"].x = torch.randn(9, 2, generator=g)
    data["user", "buys", "item"].edge_index = torch.stack(
        [torch.randint(0, 12, (30,), generator=g), torch.randint(0, 9, (30,), generator=g)])
    data["user", "buys", "item"].edge_attr = torch.randn(30, 4, generator=g)
    data["user", "knows", "user"].edge_index = torch.randint(0, 12, (2, 20), generator=g)
    return T.ToUndirected()(data)


# ---- node_shuffling ------------------------------------------------------------------------


@SETTINGS
@given(hetero_graphs(), st.integers(0, 2**31))
def test_node_shuffling_permutes_every_type_within_itself(data, seed):
    snap = snapshot(data)
    t = augkit.make("node_shuffling")
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid_hetero(out)
    for nt in data.node_types:
        x, y = data[nt].x, out[nt].x
        assert Counter(map(tuple, x.tolist())) == Counter(map(tuple, y.tolist())), nt
        assert torch.equal(out[nt].node_id, data[nt].node_id)  # only x moves
    for et in data.edge_types:
        assert torch.equal(out[et].edge_index, data[et].edge_index)
    assert_same_hetero(out, t(data, generator=seed))


@given(seed=st.integers(0, 2**31), n=st.integers(0, 20))
@settings(max_examples=25, deadline=None)
def test_node_shuffling_one_type_equals_the_homogeneous_transform(seed, n):
    h, homo = _one_type(seed, n, 10, False)
    t = augkit.make("node_shuffling")
    out = t.apply(h, {"seed": seed})
    want = t.apply(homo, {"seed": type_seed(seed, "a")})
    assert torch.equal(out["a"].x, want.x)


def test_node_shuffling_uniform_over_permutations():
    h = HeteroData()
    h["a"].x = torch.arange(3.0).view(3, 1)
    h["b"].x = torch.arange(2.0).view(2, 1)
    t = augkit.make("node_shuffling")
    counts = Counter(tuple(t(h, generator=s)["a"].x.view(-1).tolist()) for s in range(1800))
    assert len(counts) == 6
    assert chisquare(list(counts.values())).pvalue > ALPHA


def test_node_shuffling_without_x_anywhere_is_an_input_error():
    h = HeteroData()
    h["a"].num_nodes = 3
    h["a", "r", "a"].edge_index = torch.tensor([[0], [1]])
    with pytest.raises(InputError, match="no node type of the graph has 'x'"):
        augkit.make("node_shuffling")(h, generator=0)
    h["a"].pos2 = torch.ones(2, 1)  # one row short
    with pytest.raises(InputError, match="pos2 of type 'a'.*one row per node"):
        augkit.make("node_shuffling", target="pos2")(h, generator=0)


# ---- feature_dropout -----------------------------------------------------------------------


@SETTINGS
@given(hetero_graphs(), st.sampled_from([0.0, 0.3, 0.7, 1.0]), st.sampled_from(["x", "edge_attr"]),
       st.integers(0, 2**31))
def test_feature_dropout_zero_or_rescaled_per_type(data, p, target, seed):
    stores = data.node_types if target == "x" else data.edge_types
    if not any(data[k].get(target) is not None for k in stores):
        with pytest.raises(InputError, match=f"has '{target}'"):
            augkit.make("feature_dropout", p=p, target=target)(data, generator=seed)
        return
    snap = snapshot(data)
    out = augkit.make("feature_dropout", p=p, target=target)(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid_hetero(out)
    for key in stores:
        x = data[key].get(target)
        if x is None:
            assert out[key].get(target) is None
            continue
        y = out[key][target]
        if p == 1.0:
            assert not y.any()
            continue
        kept = y != 0
        torch.testing.assert_close(y[kept], x[kept] / (1 - p), rtol=1e-6, atol=0)
        if p == 0.0:
            assert torch.equal(y, x)


@given(seed=st.integers(0, 2**31), p=st.sampled_from([0.2, 0.6]), target=st.sampled_from(
    ["x", "edge_attr"]))
@settings(max_examples=25, deadline=None)
def test_feature_dropout_one_type_equals_the_homogeneous_transform(seed, p, target):
    h, homo = _one_type(seed, 15, 20, False)
    t = augkit.make("feature_dropout", p=p, target=target)
    out = t.apply(h, {"seed": seed})
    name = "a" if target == "x" else "a__r__a"
    want = t.apply(homo, {"seed": type_seed(seed, name)})
    store = out["a"] if target == "x" else out["a", "r", "a"]
    assert torch.equal(store[target], want[target])


def test_feature_dropout_rate_per_type():
    h = HeteroData()
    h["a"].x = torch.ones(100, 20)
    h["b"].x = torch.ones(100, 20)
    h["c"].x = torch.ones(10, 2)
    t = augkit.make("feature_dropout", p={"a": 0.2, "b": 0.7, "*": 0.0})
    out = t(h, generator=3)
    for nt, p in (("a", 0.2), ("b", 0.7)):
        zeroed = int((out[nt].x == 0).sum())
        assert binomtest(zeroed, 2000, p).pvalue > ALPHA, nt
    assert torch.equal(out["c"].x, h["c"].x)
    with pytest.raises(InputError, match="p names type 'd', which the graph does not have"):
        augkit.make("feature_dropout", p={"d": 0.5})(h, generator=0)


# ---- edge_adding ---------------------------------------------------------------------------


@SETTINGS
@given(hetero_graphs(), st.sampled_from([0.0, 0.3, 1.0, 3.0]), st.booleans(),
       st.sampled_from(["zero", "mean"]), st.integers(0, 2**31))
def test_edge_adding_properties(data, p, duplicates, fill, seed):
    snap = snapshot(data)
    t = augkit.make("edge_adding", p=min(p, 1.0), duplicates=duplicates, edge_fill=fill)
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid_hetero(out)
    for nt in data.node_types:
        assert torch.equal(out[nt].x, data[nt].x)
    for et in data.edge_types:
        old, new = data[et].edge_index, out[et].edge_index
        e = old.size(1)
        assert torch.equal(new[:, :e], old), et  # the stored edges stay, first
        added = new[:, e:]
        if et[0] != et[2]:
            ns, nd = data[et[0]].num_nodes, data[et[2]].num_nodes
            free = ns * nd - (old[0] * nd + old[1]).unique().numel()
            want = round(e * min(p, 1.0))
            assert added.size(1) == (want if duplicates else min(want, free)) \
                or et in {r for _, r in reverse_relations(data)}, et
        if not duplicates:
            keys = new[0] * 1000 + new[1]
            old_keys = set((old[0] * 1000 + old[1]).tolist())
            new_keys = (added[0] * 1000 + added[1]).tolist()
            assert len(set(new_keys)) == len(new_keys) and not old_keys & set(new_keys), et
            assert keys.numel() >= e
        for key, value in data[et].items():
            if key != "edge_index" and isinstance(value, torch.Tensor):
                assert torch.equal(out[et][key][:e], value), (et, key)
    for fwd, rev in reverse_relations(data):
        assert pairs_mirrored(out[fwd].edge_index, out[rev].edge_index), (fwd, rev)
    assert_same_hetero(out, t(data, generator=seed))


@pytest.mark.parametrize("undirected", ["auto", True, False])
@pytest.mark.parametrize("symmetric", [True, False])
@given(seed=st.integers(0, 2**31), p=st.sampled_from([0.2, 0.5, 1.0]), n=st.integers(0, 20))
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_edge_adding_one_type_equals_the_homogeneous_transform(undirected, symmetric, seed, p,
                                                              n):
    h, homo = _one_type(seed, n, 15, symmetric)
    t = augkit.make("edge_adding", p=p, undirected=undirected, edge_fill="mean")
    out = t.apply(h, {"seed": seed})
    want = t.apply(homo, {"seed": type_seed(seed, "a__r__a")})
    assert torch.equal(out["a", "r", "a"].edge_index, want.edge_index)
    assert torch.equal(out["a", "r", "a"].edge_attr, want.edge_attr)


def test_edge_adding_between_two_types_is_uniform_over_free_pairs():
    h = HeteroData()
    h["a"].num_nodes = 3
    h["b"].num_nodes = 2
    h["a", "r", "b"].edge_index = torch.tensor([[0, 1], [0, 1]])  # 4 free pairs of 6
    t = augkit.make("edge_adding", p=0.5)  # one new edge
    counts = Counter()
    for s in range(2000):
        new = t(h, generator=s)["a", "r", "b"].edge_index[:, 2:]
        assert new.size(1) == 1
        counts[tuple(new.view(-1).tolist())] += 1
    assert set(counts) == {(0, 1), (1, 0), (2, 0), (2, 1)}
    assert chisquare(list(counts.values())).pvalue > ALPHA


def test_edge_adding_rate_per_edge_type_and_the_reverse_follows():
    data = _two_types()
    t = augkit.make("edge_adding", p={"user__buys__item": 1.0, "*": 0.0})
    out = t(data, generator=4)
    buys, rev = ("user", "buys", "item"), ("item", "rev_buys", "user")
    assert out[buys].edge_index.size(1) > data[buys].edge_index.size(1)
    assert pairs_mirrored(out[buys].edge_index, out[rev].edge_index)
    knows = ("user", "knows", "user")
    assert torch.equal(out[knows].edge_index, data[knows].edge_index)
    assert (out[buys].edge_attr[30:] == 0).all() and (out[rev].edge_attr[30:] == 0).all()


# ---- graph_diffusion -----------------------------------------------------------------------


def test_graph_diffusion_diffuses_same_type_relations_and_keeps_the_others():
    data = _two_types()
    t = augkit.make("graph_diffusion", top_k=4)
    snap = snapshot(data)
    out = t(data, generator=0)
    assert_unchanged(data, snap)
    knows = ("user", "knows", "user")
    want = t(Data(edge_index=data[knows].edge_index, num_nodes=12), generator=0)
    assert torch.equal(out[knows].edge_index, want.edge_index)
    assert torch.equal(out[knows].edge_weight, want.edge_weight)
    for et in (("user", "buys", "item"), ("item", "rev_buys", "user")):
        assert torch.equal(out[et].edge_index, data[et].edge_index)
        assert torch.equal(out[et].edge_attr, data[et].edge_attr)
    batch = Batch.from_data_list([data, data])
    for got in t(batch, generator=0).to_data_list():
        assert_same_hetero(got, out)


def test_graph_diffusion_needs_a_relation_within_a_type():
    h = HeteroData()
    h["a"].num_nodes = 3
    h["b"].num_nodes = 2
    h["a", "r", "b"].edge_index = torch.tensor([[0], [1]])
    with pytest.raises(InputError, match="no relation from a node type to itself"):
        augkit.make("graph_diffusion")(h, generator=0)
    h["a", "s", "a"].edge_index = torch.tensor([[0], [1]])
    with pytest.raises(InputError, match="node type 'a' has 3 nodes.*max_nodes"):
        augkit.make("graph_diffusion", solver="exact", max_nodes=2)(h, generator=0)


# ---- diffusion_noise ------------------------------------------------------------------------


def test_diffusion_noise_noises_every_type_with_one_t():
    data = _two_types()
    t = augkit.make("diffusion_noise", return_noise=True)
    snap = snapshot(data)
    out, params = t(data, generator=7, return_params=True)
    assert_unchanged(data, snap)
    step = int(out.diffusion_t)
    abar = augkit.diffusion.alphas_cumprod("linear", 1000)[step]
    for nt in data.node_types:
        want = abar.sqrt() * data[nt].x + (1 - abar).sqrt() * out[nt].x_noise
        torch.testing.assert_close(out[nt].x, want.float())
    # A type's noise is its own stream: another type's presence does not change it.
    alone = data.node_type_subgraph(["user"])
    assert torch.equal(t(alone, generator=7)["user"].x, out["user"].x)
    for nt in data.node_types:  # each type's noise from its own stream
        g = torch.Generator().manual_seed(type_seed(params["seed"], nt))
        assert torch.equal(out[nt].x_noise, torch.randn(data[nt].x.shape, generator=g))


def test_diffusion_noise_on_edge_attributes_and_batches():
    data = _two_types()
    t = augkit.make("diffusion_noise", target="edge_attr")
    out, params = t(data, generator=1, return_params=True)
    assert not torch.equal(out["user", "buys", "item"].edge_attr,
                           data["user", "buys", "item"].edge_attr)
    assert torch.equal(out["user"].x, data["user"].x)
    batch = Batch.from_data_list([data, data])
    got, bparams = t(batch, generator=1, return_params=True)
    for g, graph in enumerate(got.to_data_list()):
        alone = t.apply(data, {"seed": derive_seed(bparams["seed"], 0x4E7B, g)})
        assert_same_hetero(graph, alone)
    with pytest.raises(InputError, match="no edge type of the HeteroData has a tensor "
                                         "'edge_weight'"):
        augkit.make("diffusion_noise", target="edge_weight")(data, generator=0)


# ---- Batches of HeteroData and the batch stage --------------------------------------------


@pytest.mark.parametrize("name", ["node_shuffling", "feature_dropout", "edge_adding"])
@SETTINGS
@given(batch=hetero_batches(), seed=st.integers(0, 2**31))
def test_a_batch_goes_graph_by_graph(name, batch, seed):
    snap = snapshot(batch)
    t = augkit.make(name)
    out, params = t(batch, generator=seed, return_params=True)
    assert_unchanged(batch, snap)
    for g, (got, graph) in enumerate(zip(out.to_data_list(), batch.to_data_list(),
                                         strict=True)):
        want = t.apply(graph, {"seed": derive_seed(params["seed"], hetero.HETERO_BATCH_KEY, g)})
        assert_same_hetero(got, want)


VIEW_STEPS = [
    {"node_shuffling": {"p": 0.6}},
    {"feature_dropout": {"p": 0.3, "apply_p": 0.7}},
    {"edge_adding": {"p": {"*": 0.4}, "apply_p": 0.8}},
    {"diffusion_noise": {"t": [0, 50], "p": 0.5}},
]


@SETTINGS
@given(hetero_batches(), st.integers(0, 3), st.integers(0, 1000))
def test_policy_batch_stage_equals_sample_stage(batch, epoch, offset):
    sample = augkit.load_policy({"augkit": 1, "seed": 5, "sample": VIEW_STEPS})
    batched = augkit.load_policy({"augkit": 1, "seed": 5, "batch": VIEW_STEPS})
    items = batch.to_data_list()
    indices = torch.arange(offset, offset + len(items))
    out = batched.apply_batch(batch, indices=indices, epoch=epoch)
    want = [sample(g, index=int(i), epoch=epoch) for g, i in zip(items, indices, strict=True)]
    for got, w in zip(out.to_data_list(), want, strict=True):
        assert_same_hetero(got, w)


# ---- sampled mini-batches: moved and new edges have no e_id --------------------------------


def _sampled_data() -> Data:
    ei = torch.tensor([[0, 1, 2, 3, 1, 2], [1, 0, 3, 2, 2, 1]])
    return Data(x=torch.randn(5, 2), edge_index=ei, e_id=torch.arange(10, 16),
                n_id=torch.arange(20, 25), batch_size=2, num_sampled_nodes=[2, 3],
                num_sampled_edges=[6])


@pytest.mark.parametrize("name, params", [("edge_rewiring", {"ratio": 1.0}),
                                          ("edge_adding", {"p": 1.0}),
                                          ("graph_diffusion", {"top_k": 2})])
def test_edge_ids_go_where_edges_move_or_are_created(name, params):
    data = _sampled_data()
    out = augkit.make(name, **params)(data, generator=0)
    assert "e_id" not in out and "num_sampled_edges" not in out
    assert torch.equal(out.n_id, data.n_id) and out.batch_size == 2
    assert "e_id" in data and data.num_sampled_edges == [6]
    h = HeteroData()
    h["a"].x = torch.randn(5, 2)
    h["a"].n_id = torch.arange(5)
    h["a"].batch_size = 2
    h["a", "r", "a"].edge_index = data.edge_index
    h["a", "r", "a"].e_id = data.e_id
    h["a", "r", "a"].num_sampled_edges = torch.tensor([6])
    out = augkit.make(name, **params)(h, generator=0)
    assert "e_id" not in out["a", "r", "a"] and "num_sampled_edges" not in out["a", "r", "a"]
    assert torch.equal(out["a"].n_id, h["a"].n_id)


# ---- agreement with to_homogeneous() -------------------------------------------------------

# (transform, params, the type whose seed the homogeneous call takes)
ONE_TYPE_CASES = [
    ("edge_dropout", {"p": 0.4}, "a__r__a"),
    ("node_dropout", {"p": 0.4}, "a"),
    ("feature_masking", {"p": 0.4}, "a"),
    ("feature_masking", {"p": 0.4, "target": "edge_attr"}, "a__r__a"),
    ("edge_rewiring", {"method": "random", "ratio": 0.3}, "a__r__a"),
    ("edge_rewiring", {"method": "degree_preserving", "ratio": 0.3}, "a__r__a"),
    ("subgraph_sampling", {"method": "random_node", "ratio": 0.6}, "a"),
    ("edge_adding", {"p": 0.5, "edge_fill": "mean"}, "a__r__a"),
    ("node_shuffling", {}, "a"),
    ("feature_dropout", {"p": 0.4}, "a"),
    ("graph_diffusion", {"top_k": 4}, "a"),
]


@pytest.mark.parametrize("name, params, type_name", ONE_TYPE_CASES)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 20), symmetric=st.booleans())
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_one_type_equals_the_transform_on_to_homogeneous(name, params, type_name, seed, n,
                                                         symmetric):
    """Where the semantics coincide (one node type, one edge type), the HeteroData's output
    is what the homogeneous transform gives ``to_homogeneous()`` under the type's seed."""
    h, _ = _one_type(seed, n, 2 * n, symmetric)
    t = augkit.make(name, **params)
    got = t.apply(h, {"seed": seed}).to_homogeneous()
    want = t.apply(h.to_homogeneous(), {"seed": type_seed(seed, type_name)})
    assert got.num_nodes == want.num_nodes
    for key in ("x", "edge_index", "edge_attr", "edge_weight"):
        if key in want or key in got:
            assert torch.equal(got[key], want[key]), key
