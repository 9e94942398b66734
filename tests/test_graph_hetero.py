"""The graph transforms on PyG HeteroData and Batches of it: per-type parameters, per-type
seeds, invariants on generated graphs, agreement with the homogeneous transform on a graph
of one node type and one edge type, the drop rate per type, and the batch stage."""

from __future__ import annotations

import pytest
import torch
import torch_geometric.transforms as T
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from torch_geometric.data import Batch, Data, HeteroData

import augkit
from augkit.errors import InputError, ParamError
from augkit.plugins.graph import hetero
from augkit.random import derive_seed

from .hetero_strategies import (
    assert_aligned_hetero,
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
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def _toy() -> HeteroData:
    """Two node types, a relation with its T.ToUndirected reverse, a symmetric same-type one
    and a directed one."""
    g = torch.Generator().manual_seed(0)
    data = HeteroData()
    data["user"].x = torch.randn(40, 3, generator=g)
    data["item"].x = torch.randn(30, 2, generator=g)
    data["user", "buys", "item"].edge_index = torch.stack(
        [torch.randint(0, 40, (200,), generator=g), torch.randint(0, 30, (200,), generator=g)])
    data["user", "buys", "item"].edge_attr = torch.randn(200, 4, generator=g)
    data["user", "knows", "user"].edge_index = torch.randint(0, 40, (2, 150), generator=g)
    data["item", "near", "item"].edge_index = torch.randint(0, 30, (2, 80), generator=g)
    data = T.ToUndirected()(data)  # adds rev_buys, symmetrises knows and near
    data["item", "to", "user"].edge_index = torch.stack(
        [torch.randint(0, 30, (60,), generator=g), torch.randint(0, 40, (60,), generator=g)])
    return data


# ---- per-type parameters ------------------------------------------------------------------


def test_per_type_p_forms_and_their_yaml_round_trip():
    t = augkit.make("edge_dropout", p={("user", "buys", "item"): 0.5, "item__near__item": 0,
                                       "*": 0.1})
    assert t.p == {"user__buys__item": 0.5, "item__near__item": 0.0, "*": 0.1}
    assert augkit.make("node_dropout", p={"user": 0.3}).p == {"user": 0.3}
    back = augkit.make("edge_dropout", **yaml.safe_load(yaml.safe_dump(t.to_dict()))[
        "edge_dropout"])
    assert back == t


@pytest.mark.parametrize("name, p", [
    ("edge_dropout", {"user": 0.5}),  # a node type where edge types are named
    ("edge_dropout", {("user", "buys"): 0.5}),
    ("edge_dropout", {"a__b": 0.5}),
    ("edge_dropout", {"user__buys__item": 1.5}),
    ("edge_dropout", {("user", "buys", "item"): 0.5, "user__buys__item": 0.2}),
    ("edge_dropout", {}),
    ("node_dropout", {"user__buys__item": 0.5}),
    ("node_dropout", {("user", "buys", "item"): 0.5}),
])
def test_bad_per_type_values_are_param_errors(name, p):
    with pytest.raises(ParamError, match=r"allowed: .*mapping"):
        augkit.make(name, p=p)


def test_per_type_p_on_a_homogeneous_graph_is_an_input_error():
    data = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=2)
    with pytest.raises(InputError, match="per-type mapping, which applies to HeteroData"):
        augkit.make("edge_dropout", p={"a__r__a": 0.5})(data, generator=0)


def test_a_type_the_graph_lacks_is_an_input_error():
    with pytest.raises(InputError, match="'user__likes__item', which the graph does not have"):
        augkit.make("edge_dropout", p={"user__likes__item": 0.5})(_toy(), generator=0)


SCALERS = ("standardize", "minmax_scale")  # statistics at apply time: nothing to fit first


def test_every_graph_transform_takes_heterodata():
    """Every registered graph transform of the sample stage accepts a HeteroData."""
    from augkit.registry import get, list_transforms

    names = [name for name in list_transforms("graph")
             if "graph" in get(name).kinds and "sample" in get(name).levels]
    assert {"edge_dropout", "edge_adding", "graph_diffusion", "diffusion_noise",
            *SCALERS} <= set(names)
    for name in names:
        data = _toy()
        data["user"].y = (torch.arange(40) % 5 == 0).long()  # what graph_smote balances
        data["user"].train_mask = torch.ones(40, dtype=torch.bool)
        params = {"fit_on": "per_graph"} if name in SCALERS else {}
        out = augkit.make(name, **params)(data, generator=0)
        assert isinstance(out, HeteroData), name


def test_non_graph_input_keeps_its_message():
    with pytest.raises(InputError, match="networkx graphs convert"):
        augkit.make("edge_dropout")(torch.zeros(3), generator=0)


def test_bad_hetero_input_names_the_type():
    data = _toy()
    data["user", "buys", "item"].edge_index = data["user", "buys", "item"].edge_index.clone()
    data["user", "buys", "item"].edge_index[1, 0] = 30
    with pytest.raises(InputError, match="'user__buys__item' holds destination id 30"):
        augkit.make("edge_dropout")(data, generator=0)
    # A view of node features reads no ids: it hands them on, and the next step checks them.
    out = augkit.make("node_shuffling")(data, generator=0)
    assert out["user", "buys", "item"].edge_index is data["user", "buys", "item"].edge_index
    policy = augkit.Policy(sample=[augkit.make("node_shuffling"), augkit.make("edge_dropout")],
                           seed=0)
    with pytest.raises(InputError, match="edge_dropout: .*'user__buys__item' holds destination"):
        policy(data, index=0)
    data = _toy()
    data["item"].pos = torch.zeros(5, 2)
    with pytest.raises(InputError, match="pos of node type 'item' has 5 rows"):
        augkit.make("node_dropout")(data, generator=0)


def test_type_seeds_do_not_depend_on_the_other_types():
    data = _toy()
    t = augkit.make("edge_dropout", p=0.5, undirected=False)
    out = t(data, generator=3)
    smaller = HeteroData()
    for nt in data.node_types:
        smaller[nt].x = data[nt].x
    smaller["item", "to", "user"].edge_index = data["item", "to", "user"].edge_index
    alone = t(smaller, generator=3)
    assert torch.equal(alone["item", "to", "user"].edge_index,
                       out["item", "to", "user"].edge_index)


def test_types_draw_independently():
    """Two relations holding the same edges under different names drop different edges."""
    data = HeteroData()
    data["a"].x = torch.randn(50, 1)
    ei = torch.randint(0, 50, (2, 300), generator=torch.Generator().manual_seed(0))
    data["a", "r1", "a"].edge_index = ei
    data["a", "r2", "a"].edge_index = ei
    out = augkit.make("edge_dropout", p=0.5, undirected=False)(data, generator=1)
    assert not torch.equal(out["a", "r1", "a"].edge_index, out["a", "r2", "a"].edge_index)


# ---- edge_dropout -------------------------------------------------------------------------


@SETTINGS
@given(hetero_graphs(), st.sampled_from([0.0, 0.3, 0.7, 1.0]),
       st.sampled_from(["auto", True, False]), st.integers(0, 2**31))
def test_edge_dropout_properties(data, p, undirected, seed):
    snap = snapshot(data)
    t = augkit.make("edge_dropout", p=p, undirected=undirected)
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid_hetero(out)
    assert_aligned_hetero(out, data)
    for nt in data.node_types:
        assert torch.equal(out[nt].x, data[nt].x)
    for et in data.edge_types:
        ids = out[et].edge_id
        assert ids.unique().numel() == ids.numel()
    if undirected != False:  # noqa: E712 (True and "auto" pair what the strategy mirrored)
        for fwd, rev in reverse_relations(data):
            assert pairs_mirrored(out[fwd].edge_index, out[rev].edge_index), (fwd, rev)
        for et in data.edge_types:
            if et[0] == et[2] and pairs_mirrored(data[et].edge_index, data[et].edge_index):
                assert pairs_mirrored(out[et].edge_index, out[et].edge_index), et
    if p == 0.0:
        assert_same_hetero(out, data)
    again = t(data, generator=seed)
    assert_same_hetero(out, again)


@SETTINGS
@given(hetero_graphs(), st.integers(0, 2**31))
def test_edge_dropout_per_type_rates_and_excluded_types(data, seed):
    types = data.edge_types
    kept = types[0]
    p = {kept: 0.0, "*": 1.0}
    out = augkit.make("edge_dropout", p=p, undirected=False)(data, generator=seed)
    for et in types:
        want = data[et].edge_index.size(1) if et == kept else 0
        assert out[et].edge_index.size(1) == want, et


@pytest.mark.parametrize("undirected", ["auto", True, False])
@pytest.mark.parametrize("symmetric", [True, False])
@given(seed=st.integers(0, 2**31), p=st.sampled_from([0.2, 0.5, 0.9]),
       data=st.data())
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_edge_dropout_one_type_equals_the_homogeneous_transform(undirected, symmetric, seed,
                                                                p, data):
    """A HeteroData of one node type and one edge type gets what the equal Data gets under
    the type's seed (the call's seed derived with the edge type's name)."""
    n = data.draw(st.integers(0, 30))
    e = data.draw(st.integers(0, 60)) if n else 0
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, max(n, 1), (2, e), generator=g)
    if symmetric:
        ei = torch.cat([ei, ei.flip(0)], 1)
    attr = torch.randn(ei.size(1), 2, generator=g)
    h = HeteroData()
    h["a"].x = torch.randn(n, 3, generator=g)
    h["a", "r", "a"].edge_index = ei
    h["a", "r", "a"].edge_attr = attr
    homo = Data(x=h["a"].x, edge_index=ei, edge_attr=attr)
    t = augkit.make("edge_dropout", p=p, undirected=undirected)
    out = t.apply(h, {"seed": seed})
    want = t.apply(homo, {"seed": hetero.type_seed(seed, "a__r__a")})
    assert torch.equal(out["a", "r", "a"].edge_index, want.edge_index)
    assert torch.equal(out["a", "r", "a"].edge_attr, want.edge_attr)


def test_edge_dropout_pairs_a_relation_with_its_reverse_in_any_order():
    data = _toy()
    rev = data["item", "rev_buys", "user"]
    perm = torch.randperm(rev.edge_index.size(1), generator=torch.Generator().manual_seed(1))
    rev.edge_index, rev.edge_attr = rev.edge_index[:, perm], rev.edge_attr[perm]
    for undirected in ("auto", True):
        out = augkit.make("edge_dropout", p=0.5, undirected=undirected)(data, generator=7)
        assert pairs_mirrored(out["user", "buys", "item"].edge_index,
                              out["item", "rev_buys", "user"].edge_index)
        assert 0 < out["user", "buys", "item"].edge_index.size(1) < 200
    out = augkit.make("edge_dropout", p=0.5, undirected=False)(data, generator=7)
    assert not pairs_mirrored(out["user", "buys", "item"].edge_index,
                              out["item", "rev_buys", "user"].edge_index)


def test_edge_dropout_pair_rates_must_agree():
    data = _toy()
    one = {"user__buys__item": 1.0}  # the reverse relation follows the named one
    out = augkit.make("edge_dropout", p=one)(data, generator=0)
    assert out["item", "rev_buys", "user"].edge_index.size(1) == 0
    both = {"user__buys__item": 1.0, "item__rev_buys__user": 0.0}
    with pytest.raises(InputError, match="dropped together"):
        augkit.make("edge_dropout", p=both)(data, generator=0)
    out = augkit.make("edge_dropout", p=both, undirected=False)(data, generator=0)
    assert out["user", "buys", "item"].edge_index.size(1) == 0
    assert out["item", "rev_buys", "user"].edge_index.size(1) == 200


@pytest.mark.parametrize("seed", [0, 1])
def test_edge_dropout_rate_per_type(seed):
    """Each type drops at its own rate (directed: per stored edge, a binomial count)."""
    g = torch.Generator().manual_seed(seed)
    data = HeteroData()
    data["a"].x = torch.randn(500, 1, generator=g)
    data["b"].x = torch.randn(400, 1, generator=g)
    rates = {("a", "x", "b"): 0.1, ("b", "y", "a"): 0.6, ("a", "z", "a"): 0.35}
    for et in rates:
        ns, nd = data[et[0]].num_nodes, data[et[2]].num_nodes
        data[et].edge_index = torch.stack([torch.randint(0, ns, (4000,), generator=g),
                                           torch.randint(0, nd, (4000,), generator=g)])
    out = augkit.make("edge_dropout", p=rates, undirected=False)(data, generator=seed)
    for et, rate in rates.items():
        dropped = 4000 - out[et].edge_index.size(1)
        assert binomtest(dropped, 4000, rate).pvalue > ALPHA, (et, dropped)


# ---- node_dropout -------------------------------------------------------------------------


@SETTINGS
@given(hetero_graphs(), st.sampled_from([0.0, 0.3, 0.7, 1.0]), st.integers(0, 3),
       st.integers(0, 2**31))
def test_node_dropout_properties(data, p, min_nodes, seed):
    snap = snapshot(data)
    t = augkit.make("node_dropout", p=p, min_nodes=min_nodes)
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid_hetero(out)
    assert_aligned_hetero(out, data)
    for nt in data.node_types:
        n, k = data[nt].num_nodes, out[nt].num_nodes
        assert min(n, min_nodes) <= k <= n, nt
        if p == 1.0:
            assert k == min(n, min_nodes), nt
    for et in data.edge_types:
        # Every edge whose two ends survive is kept: compare by original node ids.
        src, dst = out[et[0]].node_id, out[et[2]].node_id
        old = data[et].edge_index
        keep = (torch.isin(data[et[0]].node_id[old[0]], src)
                & torch.isin(data[et[2]].node_id[old[1]], dst))
        assert torch.equal(out[et].edge_id, data[et].edge_id[keep]), et
    for fwd, rev in reverse_relations(data):  # a pair loses the same edges
        assert pairs_mirrored(out[fwd].edge_index, out[rev].edge_index)
    if p == 0.0:
        assert_same_hetero(out, data)
    assert_same_hetero(out, t(data, generator=seed))


@SETTINGS
@given(hetero_graphs(), st.integers(0, 2**31))
def test_node_dropout_per_type_rates(data, seed):
    kept = data.node_types[0]
    out = augkit.make("node_dropout", p={kept: 0.0, "*": 1.0}, min_nodes=0)(data,
                                                                          generator=seed)
    for nt in data.node_types:
        assert out[nt].num_nodes == (data[nt].num_nodes if nt == kept else 0), nt
    for et in data.edge_types:
        want = data[et].edge_index.size(1) if et[0] == et[2] == kept else 0
        assert out[et].edge_index.size(1) == want, et


@given(seed=st.integers(0, 2**31), p=st.sampled_from([0.2, 0.5, 0.9]),
       min_nodes=st.integers(0, 3), data=st.data())
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_node_dropout_one_type_equals_the_homogeneous_transform(seed, p, min_nodes, data):
    """A HeteroData of one node type and one edge type gets what the equal Data gets under
    the node type's seed."""
    n = data.draw(st.integers(0, 30))
    e = data.draw(st.integers(0, 60)) if n else 0
    g = torch.Generator().manual_seed(seed)
    h = HeteroData()
    h["a"].x = torch.randn(n, 3, generator=g)
    h["a"].y = torch.randint(0, 3, (n,), generator=g)
    h["a", "r", "a"].edge_index = torch.randint(0, max(n, 1), (2, e), generator=g)
    h["a", "r", "a"].edge_attr = torch.randn(e, 2, generator=g)
    homo = Data(x=h["a"].x, y=h["a"].y, edge_index=h["a", "r", "a"].edge_index,
                edge_attr=h["a", "r", "a"].edge_attr)
    t = augkit.make("node_dropout", p=p, min_nodes=min_nodes)
    out = t.apply(h, {"seed": seed})
    want = t.apply(homo, {"seed": hetero.type_seed(seed, "a")})
    for key in ("x", "y"):
        assert torch.equal(out["a"][key], want[key])
    assert torch.equal(out["a", "r", "a"].edge_index, want.edge_index)
    assert torch.equal(out["a", "r", "a"].edge_attr, want.edge_attr)


@pytest.mark.parametrize("seed", [0, 1])
def test_node_dropout_rate_per_type(seed):
    data = HeteroData()
    rates = {"a": 0.15, "b": 0.5, "c": 0.8}
    for nt in rates:
        data[nt].x = torch.randn(3000, 1)
    out = augkit.make("node_dropout", p=rates)(data, generator=seed)
    for nt, rate in rates.items():
        dropped = 3000 - out[nt].num_nodes
        assert binomtest(dropped, 3000, rate).pvalue > ALPHA, (nt, dropped)


def test_node_dropout_explicit_num_nodes_follows():
    data = HeteroData()
    data["a"].num_nodes = 50
    data["a"].y = torch.arange(50)
    data["b"].x = torch.randn(20, 2)
    data["a", "r", "b"].edge_index = torch.stack([torch.arange(20) * 2, torch.arange(20)])
    out = augkit.make("node_dropout", p=0.5)(data, generator=2)
    assert 0 < out["a"].num_nodes < 50 and data["a"].num_nodes == 50
    assert out["a"].y.numel() == out["a"].num_nodes
    assert_valid_hetero(out)


# ---- feature_masking ----------------------------------------------------------------------


@SETTINGS
@given(hetero_graphs(), st.sampled_from([0.0, 0.4, 1.0]),
       st.sampled_from(["feature", "node", "element"]), st.sampled_from(["zero", "mean"]),
       st.sampled_from(["x", "edge_attr"]), st.integers(0, 2**31))
def test_feature_masking_properties(data, p, mode, fill, target, seed):
    snap = snapshot(data)
    t = augkit.make("feature_masking", p=p, mode=mode, fill=fill, target=target)
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid_hetero(out)
    stores = data.node_types if target == "x" else data.edge_types
    for key in stores:
        before, after = data[key].get(target), out[key].get(target)
        if before is None:
            assert after is None
            continue
        assert after.shape == before.shape and after.dtype == before.dtype
        changed = after != before
        if p == 0.0:
            assert not bool(changed.any())
        if fill == "zero":
            assert bool((after[changed] == 0).all())
        if p == 1.0 and fill == "zero" and before.numel():
            assert bool((after == 0).all())
    for key in data.node_types + data.edge_types:  # everything else shared as it was
        for k, value in data[key].items():
            if k != target:
                assert out[key][k] is value
    assert_same_hetero(out, t(data, generator=seed))


@pytest.mark.parametrize("target", ["x", "edge_attr"])
@pytest.mark.parametrize("mode", ["feature", "node", "element"])
@pytest.mark.parametrize("fill", ["zero", "mean", "normal"])
def test_feature_masking_one_type_equals_the_homogeneous_transform(target, mode, fill):
    g = torch.Generator().manual_seed(3)
    h = HeteroData()
    h["a"].x = torch.randn(40, 6, generator=g)
    h["a", "r", "a"].edge_index = torch.randint(0, 40, (2, 90), generator=g)
    h["a", "r", "a"].edge_attr = torch.randn(90, 5, generator=g)
    homo = Data(x=h["a"].x, edge_index=h["a", "r", "a"].edge_index,
                edge_attr=h["a", "r", "a"].edge_attr)
    t = augkit.make("feature_masking", p=0.4, mode=mode, fill=fill, target=target)
    for seed in (0, 11, 2**40):
        out = t.apply(h, {"seed": seed})
        name = "a" if target == "x" else "a__r__a"
        want = t.apply(homo, {"seed": hetero.type_seed(seed, name)})
        store = out["a"] if target == "x" else out["a", "r", "a"]
        assert torch.equal(store[target], want[target])


def test_feature_masking_per_type_rates_and_named_types():
    data = _toy()
    data["item"].x = data["item"].x.clone()
    t = augkit.make("feature_masking", p={"user": 1.0, "*": 0.0})
    out = t(data, generator=0)
    assert bool((out["user"].x == 0).all()) and torch.equal(out["item"].x, data["item"].x)
    t = augkit.make("feature_masking", p={"user__buys__item": 1.0, "*": 0.0},
                    target="edge_attr")
    out = t(data, generator=0)
    assert bool((out["user", "buys", "item"].edge_attr == 0).all())
    assert torch.equal(out["item", "rev_buys", "user"].edge_attr,
                       data["item", "rev_buys", "user"].edge_attr)
    # A type without the target is skipped unless p names it.
    out = augkit.make("feature_masking", p=0.5, target="edge_attr")(data, generator=0)
    assert "edge_attr" not in out["user", "knows", "user"]
    with pytest.raises(InputError, match="'user__knows__user', which has no edge_attr"):
        augkit.make("feature_masking", p={"user__knows__user": 0.5},
                    target="edge_attr")(data, generator=0)
    data["item"].x = torch.zeros(30, 2, 2)
    with pytest.raises(InputError, match="x of type 'item' has shape"):
        augkit.make("feature_masking")(data, generator=0)


@pytest.mark.parametrize("seed", [0, 1])
def test_feature_masking_rate_per_type(seed):
    data = HeteroData()
    rates = {"a": 0.1, "b": 0.45, "c": 0.7}
    for nt in rates:
        data[nt].x = torch.ones(200, 20)
    out = augkit.make("feature_masking", p=rates, mode="element")(data, generator=seed)
    for nt, rate in rates.items():
        masked = int((out[nt].x == 0).sum())
        assert binomtest(masked, 4000, rate).pvalue > ALPHA, (nt, masked)


# ---- edge_rewiring -------------------------------------------------------------------------


def _degrees(data, et):
    ei = data[et].edge_index
    return (torch.bincount(ei[0], minlength=data[et[0]].num_nodes),
            torch.bincount(ei[1], minlength=data[et[2]].num_nodes))


@SETTINGS
@given(hetero_graphs(), st.sampled_from([0.0, 0.3, 1.0]), st.integers(0, 2**31))
def test_edge_rewiring_keeps_every_degree_per_type(data, ratio, seed):
    snap = snapshot(data)
    t = augkit.make("edge_rewiring", method="degree_preserving", ratio=ratio)
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid_hetero(out)
    followers = {rev for fwd, rev in reverse_relations(data)
                 if pairs_mirrored(data[fwd].edge_index, data[rev].edge_index)}
    for et in data.edge_types:
        for a, b in zip(_degrees(out, et), _degrees(data, et), strict=True):
            assert torch.equal(a, b), et
        for key, value in data[et].items():  # attributes keep their positions
            if key != "edge_index":
                assert out[et][key] is value
        if et[0] != et[2]:  # between two types only targets (a follower: sources) move
            row = 1 if et in followers else 0
            assert torch.equal(out[et].edge_index[row], data[et].edge_index[row]), et
    for fwd, rev in reverse_relations(data):
        if pairs_mirrored(data[fwd].edge_index, data[rev].edge_index):
            assert pairs_mirrored(out[fwd].edge_index, out[rev].edge_index), (fwd, rev)
    for nt in data.node_types:
        assert out[nt].x is data[nt].x
    if ratio == 0.0:
        assert_same_hetero(out, data)
    assert_same_hetero(out, t(data, generator=seed))


def test_edge_rewiring_moves_edges_and_keeps_pairs():
    data = _toy()
    out = augkit.make("edge_rewiring", method="degree_preserving", ratio=1.0)(data,
                                                                              generator=4)
    for et in data.edge_types:
        assert not torch.equal(out[et].edge_index, data[et].edge_index), et
    assert pairs_mirrored(out["user", "buys", "item"].edge_index,
                          out["item", "rev_buys", "user"].edge_index)
    for et in (("user", "knows", "user"), ("item", "near", "item")):
        assert pairs_mirrored(out[et].edge_index, out[et].edge_index)


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("seed", [0, 5, 2**40])
def test_edge_rewiring_one_type_equals_the_homogeneous_transform(symmetric, seed):
    g = torch.Generator().manual_seed(seed % 1000)
    ei = torch.randint(0, 40, (2, 120), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    if symmetric:
        ei = torch.cat([ei, ei.flip(0)], 1)
    h = HeteroData()
    h["a"].x = torch.randn(40, 2, generator=g)
    h["a", "r", "a"].edge_index = ei
    homo = Data(x=h["a"].x, edge_index=ei)
    t = augkit.make("edge_rewiring", method="degree_preserving", ratio=0.5)
    out = t.apply(h, {"seed": seed})
    want = t.apply(homo, {"seed": hetero.type_seed(seed, "a__r__a")})
    assert torch.equal(out["a", "r", "a"].edge_index, want.edge_index)


# ---- subgraph_sampling ----------------------------------------------------------------------


@SETTINGS
@given(hetero_graphs(), st.sampled_from(["random_walk", "khop", "random_node"]),
       st.sampled_from([0.3, 0.7, 1.0]), st.integers(0, 2**31))
def test_subgraph_sampling_properties(data, method, ratio, seed):
    snap = snapshot(data)
    t = augkit.make("subgraph_sampling", method=method, ratio=ratio, num_hops=2,
                    walk_length=3)
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid_hetero(out)
    assert_aligned_hetero(out, data)
    for nt in data.node_types:  # every type keeps at most its share
        n = data[nt].num_nodes
        share = min(n, max(1, int(ratio * n + 0.5))) if n else 0
        if method == "random_node":
            assert out[nt].num_nodes == share
        else:
            assert out[nt].num_nodes <= share
    if method != "random_node" and any(data[nt].num_nodes for nt in data.node_types):
        assert sum(out[nt].num_nodes for nt in data.node_types) >= 1  # the root stays
    for et in data.edge_types:  # the induced subgraph: every edge between kept nodes stays
        old = data[et].edge_index
        keep = (torch.isin(data[et[0]].node_id[old[0]], out[et[0]].node_id)
                & torch.isin(data[et[2]].node_id[old[1]], out[et[2]].node_id))
        assert torch.equal(out[et].edge_id, data[et].edge_id[keep]), et
    assert_same_hetero(out, t(data, generator=seed))


def test_subgraph_sampling_walks_across_relations_and_ratio_per_type():
    data = _toy()
    out = augkit.make("subgraph_sampling", method="khop", ratio=1.0, num_hops=50)(data,
                                                                                generator=0)
    assert out["user"].num_nodes > 1 and out["item"].num_nodes > 1  # via buys and rev_buys
    out = augkit.make("subgraph_sampling", method="random_node",
                      ratio={"user": 0.25, "*": 1.0})(data, generator=0)
    assert out["user"].num_nodes == 10 and out["item"].num_nodes == 30


@pytest.mark.parametrize("method", ["random_walk", "khop", "random_node"])
@pytest.mark.parametrize("seed", [0, 9, 2**40])
def test_subgraph_sampling_one_type_equals_the_homogeneous_transform(method, seed):
    g = torch.Generator().manual_seed(seed % 1000)
    h = HeteroData()
    h["a"].x = torch.randn(60, 2, generator=g)
    h["a", "r", "a"].edge_index = torch.randint(0, 60, (2, 150), generator=g)
    h["a", "r", "a"].edge_attr = torch.randn(150, 3, generator=g)
    homo = Data(x=h["a"].x, edge_index=h["a", "r", "a"].edge_index,
                edge_attr=h["a", "r", "a"].edge_attr)
    t = augkit.make("subgraph_sampling", method=method, ratio=0.4)
    out = t.apply(h, {"seed": seed})
    homo_seed = (hetero.type_seed(seed, "a") if method == "random_node"
                 else derive_seed(seed, hetero.HETERO_KEY))
    want = t.apply(homo, {"seed": homo_seed})
    assert torch.equal(out["a"].x, want.x)
    assert torch.equal(out["a", "r", "a"].edge_index, want.edge_index)
    assert torch.equal(out["a", "r", "a"].edge_attr, want.edge_attr)


# ---- Batches of HeteroData ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["edge_dropout", "node_dropout", "feature_masking"])
@SETTINGS
@given(batch=hetero_batches(), seed=st.integers(0, 2**31))
def test_a_batch_goes_graph_by_graph(name, batch, seed):
    snap = snapshot(batch)
    t = augkit.make(name, p=0.5)
    out, params = t(batch, generator=seed, return_params=True)
    assert_unchanged(batch, snap)
    graphs = batch.to_data_list()
    want = [t.apply(g, {"seed": augkit_seed})
            for g, augkit_seed in zip(
                graphs, [derive_seed(params["seed"], hetero.HETERO_BATCH_KEY, i)
                         for i in range(len(graphs))], strict=True)]
    for got, w in zip(out.to_data_list(), want, strict=True):
        assert_same_hetero(got, w)


HETERO_STEPS = [
    {"edge_dropout": {"p": 0.3}},
    {"random_apply": {"p": 0.5, "transforms": [{"edge_dropout": {"p": 0.6,
                                                                 "undirected": False}}]}},
    {"node_dropout": {"p": 0.3, "apply_p": 0.7}},
    {"feature_masking": {"p": 0.4, "mode": "element", "fill": "mean"}},
    {"feature_masking": {"p": 0.4, "target": "edge_attr", "fill": "normal"}},
    {"edge_rewiring": {"method": "degree_preserving", "ratio": 0.5, "p": 0.8}},
    {"edge_rewiring": {"method": "random", "ratio": 0.3, "p": 0.8}},
    {"subgraph_sampling": {"method": "khop", "ratio": {"v1": 0.5, "*": 0.9}, "p": 0.5}},
    {"one_of": {"transforms": [{"subgraph_sampling": {"method": "random_walk", "ratio": 0.7}},
                               {"subgraph_sampling": {"method": "random_node",
                                                      "ratio": {"v0": 0.5}}}]}},
]


@SETTINGS
@given(hetero_batches(), st.integers(0, 3), st.integers(0, 1000))
def test_policy_batch_stage_equals_sample_stage(batch, epoch, offset):
    """The same steps in ``sample`` and in ``batch``: bit-identical HeteroData per index."""
    sample = augkit.load_policy({"augkit": 1, "seed": 5, "sample": HETERO_STEPS})
    batched = augkit.load_policy({"augkit": 1, "seed": 5, "batch": HETERO_STEPS})
    items = batch.to_data_list()
    indices = torch.arange(offset, offset + len(items))
    snap = snapshot(batch)
    out = batched.apply_batch(batch, indices=indices, epoch=epoch)
    assert_unchanged(batch, snap)
    assert isinstance(out, Batch) and out.num_graphs == len(items)
    want = [sample(g, index=int(i), epoch=epoch) for g, i in zip(items, indices, strict=True)]
    for got, w in zip(out.to_data_list(), want, strict=True):
        assert_same_hetero(got, w)
