"""graph_smote on a target node type of a HeteroData: new nodes of that type with the edges
of every relation touching it, from training nodes only; the rest of the graph untouched."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import augkit
from augkit.errors import InputError, ParamError

pytest.importorskip("torch_geometric")
pytest.importorskip("sklearn")
from torch_geometric.data import Batch, Data, HeteroData

from augkit.plugins.imbalance.functional import graph_smote
from augkit.plugins.imbalance.graph_smote_hetero import graph_smote_hetero
from augkit.plugins.imbalance.synthetic import imbalanced_sbm
from tests.hetero_strategies import (
    assert_unchanged,
    assert_valid_hetero,
    hetero_graphs,
    hetero_layouts,
    pairs_mirrored,
    reverse_relations,
    snapshot,
)


@pytest.fixture(autouse=True)
def _one_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@st.composite
def labelled_graphs(draw):
    """A hetero_graphs HeteroData whose first node type has 6+ nodes, y (2-3 classes, the
    last one rare), train/val/test masks with 3+ training nodes per class, and a custom
    node-level tensor."""
    data = draw(hetero_graphs(draw(hetero_layouts())))
    target = data.node_types[0]
    n = data[target].num_nodes
    assume(n >= 6)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = draw(st.integers(2, 3))
    y = rng.choice(k, size=n, p=[0.6, 0.4] if k == 2 else [0.5, 0.35, 0.15])
    split = rng.choice(3, size=n, p=[0.6, 0.2, 0.2])
    train = split == 0
    assume(all((train & (y == c)).sum() >= 3 for c in range(k)))
    store = data[target]
    store.y = torch.from_numpy(y)
    store.train_mask = torch.from_numpy(train)
    store.val_mask = torch.from_numpy(split == 1)
    store.test_mask = torch.from_numpy(split == 2)
    store.weight = torch.from_numpy(rng.standard_normal(n).astype(np.float32))
    return data, target


def _touches(et, target):
    return target in (et[0], et[2])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                   HealthCheck.too_slow])
@given(case=labelled_graphs(), rule=st.sampled_from(["copy_source", "mix"]),
       k=st.sampled_from([1, 2]), seed=st.integers(0, 2**31))
def test_properties(case, rule, k, seed):
    data, target = case
    snap = snapshot(data)
    out, info = graph_smote_hetero(data, k_neighbors=k, edges=rule, seed=seed,
                                   return_info=True)
    assert_unchanged(data, snap)
    assert_valid_hetero(out)
    again = graph_smote_hetero(data, k_neighbors=k, edges=rule, seed=seed)
    for key, store in snapshot(out).items():  # same seed, same output
        for name, value in store.items():
            assert torch.equal(value, snapshot(again)[key][name]), (key, name)
    n = data[target].num_nodes
    src, nbr, u = info["source"], info["neighbour"], info["step"]
    m = out[target].num_nodes - n
    assert m == len(src)
    # Other node types, and relations not touching the target, are untouched; the original
    # nodes and edges come first, unchanged.
    for key, tensors in snap.items():
        grows = key == target or (isinstance(key, tuple) and _touches(key, target))
        for name, value in tensors.items():
            got = out[key][name]
            if not grows:
                assert got is data[key][name], (key, name)
            elif name == "edge_index":
                assert torch.equal(got[:, :value.size(1)], value)
            else:
                assert torch.equal(got[:value.size(0)], value), (key, name)
    # New nodes: parents are same-class training nodes, x interpolated, y their class,
    # train only, other node-level tensors copied from the source.
    new = out[target]
    y, train = data[target].y, data[target].train_mask
    assert bool(train[src].all() and train[nbr].all()) and torch.equal(y[src], y[nbr])
    assert torch.equal(new.y[n:], y[src])
    assert bool(new.train_mask[n:].all()) and not bool(new.val_mask[n:].any())
    assert not bool(new.test_mask[n:].any())
    assert torch.equal(new.node_id[n:], data[target].node_id[src])
    assert torch.equal(new.weight[n:], data[target].weight[src])
    xs, xt = data[target].x[src].double(), data[target].x[nbr].double()
    want = (xs + u.unsqueeze(1) * (xt - xs)).to(new.x.dtype)
    assert torch.equal(new.x[n:], want)
    # New edges: each copies an original edge of a parent at a target-type end, with its
    # attributes; copy_source gives exactly the source's edges; mix takes a neighbour from
    # one parent only; no new node is linked to another.
    for et in data.edge_types:
        if not _touches(et, target):
            continue
        old, grown = data[et], out[et]
        e = old.edge_index.size(1)
        added = grown.edge_index[:, e:]
        copied = torch.searchsorted(old.edge_id, grown.edge_id[e:])  # edge_id: an arange
        assert torch.equal(old.edge_id[copied], grown.edge_id[e:])
        if "edge_attr" in old:
            assert torch.equal(grown.edge_attr[e:], old.edge_attr[copied])
        orig = old.edge_index[:, copied]
        outward = added[0] >= n if et[0] == target else torch.zeros(added.size(1), dtype=bool)
        inward = added[1] >= n if et[2] == target else torch.zeros(added.size(1), dtype=bool)
        assert bool((outward ^ inward).all())
        q = torch.where(outward, added[0] - n, added[1] - n)
        far_new = torch.where(outward, added[1], added[0])
        near_old = torch.where(outward, orig[0], orig[1])
        far_old = torch.where(outward, orig[1], orig[0])
        assert torch.equal(far_new, far_old)
        from_src = near_old == src[q]
        assert bool((from_src | (near_old == nbr[q])).all())
        if rule == "copy_source":
            assert bool(from_src.all())
            ends = [row for row, nt in ((0, et[0]), (1, et[2])) if nt == target]
            want = sum(int((old.edge_index[row] == s).sum()) for row in ends
                       for s in src.tolist())
            assert added.size(1) == want
        else:
            parent = defaultdict(set)
            for qi, side, v, fs in zip(q.tolist(), outward.tolist(), far_new.tolist(),
                                       from_src.tolist(), strict=True):
                parent[(qi, side, v)].add(fs)
            assert all(len(s) == 1 for s in parent.values())
    for fwd, rev in reverse_relations(data):  # a relation and its reverse stay transposed
        if pairs_mirrored(data[fwd].edge_index, data[rev].edge_index):
            assert pairs_mirrored(out[fwd].edge_index, out[rev].edge_index)
    for et in data.edge_types:  # a symmetric same-type relation stays symmetric
        ei = data[et].edge_index
        if et[0] == et[2] == target and pairs_mirrored(ei, ei):
            assert pairs_mirrored(out[et].edge_index, out[et].edge_index)


def _homogeneous(n=200, seed=0):
    data = imbalanced_sbm(n, avg_degree=6, class_fractions=(0.7, 0.2, 0.1), num_features=5,
                          train_fraction=0.5, seed=seed)
    g = torch.Generator().manual_seed(seed)
    data.edge_attr = torch.randn(data.num_edges, 3, generator=g)
    data.pos = torch.randn(data.num_nodes, 2, generator=g)
    return data


def _as_hetero(data, node_type="paper", rel="cites"):
    out = HeteroData()
    for key in ("x", "y", "train_mask", "val_mask", "test_mask", "pos"):
        out[node_type][key] = data[key]
    out[node_type, rel, node_type].edge_index = data.edge_index
    out[node_type, rel, node_type].edge_attr = data.edge_attr
    return out


@settings(max_examples=15, deadline=None)
@given(n=st.integers(60, 200), graph_seed=st.integers(0, 2**16),
       rule=st.sampled_from(["copy_source", "mix"]), seed=st.integers(0, 2**31),
       k=st.sampled_from([1, 3]))
def test_one_node_type_equals_the_homogeneous_graph(n, graph_seed, rule, seed, k):
    data = _as_hetero(_homogeneous(n, graph_seed))
    try:
        want = graph_smote(data.to_homogeneous(), k_neighbors=k, edges=rule, seed=seed)
    except InputError:
        with pytest.raises(InputError):
            graph_smote_hetero(data, k_neighbors=k, edges=rule, seed=seed)
        return
    got = graph_smote_hetero(data, k_neighbors=k, edges=rule, seed=seed).to_homogeneous()
    assert sorted(got.keys()) == sorted(want.keys())
    for key in want.keys():
        assert torch.equal(got[key], want[key]), key


def _two_types(seed=0):
    """papers (labelled, imbalanced) cited by papers and written by authors, with the
    reverse relation T.ToUndirected adds."""
    import torch_geometric.transforms as T

    base = _homogeneous(240, seed)
    data = _as_hetero(base)
    g = torch.Generator().manual_seed(seed + 1)
    authors = 60
    data["author"].x = torch.randn(authors, 4, generator=g)
    writes = torch.stack([torch.randint(0, authors, (500,), generator=g),
                          torch.randint(0, base.num_nodes, (500,), generator=g)])
    data["author", "writes", "paper"].edge_index = writes
    data["author", "writes", "paper"].edge_attr = torch.randn(500, 2, generator=g)
    return T.ToUndirected()(data)


def test_class_counts_on_training_nodes_reach_the_strategy():
    data = _two_types()
    y, train = data["paper"].y, data["paper"].train_mask
    before = Counter(y[train].tolist())
    out = augkit.make("graph_smote", node_type="paper")(data, generator=0)
    after = Counter(out["paper"].y[out["paper"].train_mask].tolist())
    assert set(after.values()) == {max(before.values())}  # auto: every class to the majority
    plan = {0: before[0], 1: before[1] + 7, 2: before[2] + 30}
    out = augkit.make("graph_smote", sampling_strategy=plan)(data, generator=1)
    assert Counter(out["paper"].y[out["paper"].train_mask].tolist()) == plan
    grown = out["paper"].num_nodes - data["paper"].num_nodes
    assert grown == 37 and out["author"].num_nodes == data["author"].num_nodes


def test_transform_replays_and_runs_in_a_policy():
    data = _two_types()
    t = augkit.make("graph_smote", node_type="paper", edges="mix")
    a, params = t(data, generator=3, return_params=True)
    b = t.replay(data, params)
    c = t(data, generator=4)
    assert torch.equal(a["paper"].x, b["paper"].x)
    assert not torch.equal(a["paper"].x, c["paper"].x)
    policy = augkit.load_policy("dataset:\n  - graph_smote: {node_type: paper, edges: mix}\n")
    out = policy.stage("dataset")(data, generator=0)
    assert out["paper"].num_nodes > data["paper"].num_nodes


def test_mix_takes_cross_type_neighbours_in_proportion():
    # Each (new paper, author) pair of the source only is kept with probability 1 - u: per
    # half of u, the kept count over many draws matches the sum of those probabilities.
    data = _two_types()
    writes = data["author", "writes", "paper"].edge_index
    n = data["paper"].num_nodes
    kept, expected, variance = np.zeros(2), np.zeros(2), np.zeros(2)
    for seed in range(40):
        out, info = graph_smote_hetero(data, edges="mix", seed=seed, return_info=True)
        added = out["author", "writes", "paper"].edge_index[:, writes.size(1):]
        src, nbr, u = info["source"], info["neighbour"], info["step"].numpy()
        for q in range(len(src)):
            only_s = (set(writes[0, writes[1] == src[q]].tolist())
                      - set(writes[0, writes[1] == nbr[q]].tolist()))
            half, p = int(u[q] >= 0.5), 1.0 - u[q]
            expected[half] += p * len(only_s)
            variance[half] += p * (1 - p) * len(only_s)
            kept[half] += len(set(added[0, added[1] == n + q].tolist()) & only_s)
    z = (kept - expected) / np.sqrt(variance)
    assert np.all(np.abs(z) < 4), (kept, expected, z)


def test_errors_name_the_node_type():
    data = _two_types()
    two = data.clone()
    two["author"].y = torch.zeros(two["author"].num_nodes, dtype=torch.long)
    with pytest.raises(InputError, match=r"node types 'paper', 'author' all have y, so "
                                         r"node_type must name"):
        augkit.make("graph_smote")(two, generator=0)
    out = augkit.make("graph_smote", node_type="paper")(two, generator=0)
    assert out["paper"].num_nodes > two["paper"].num_nodes
    with pytest.raises(InputError, match=r"node_type 'venue' is not a node type of the graph; "
                                         r"allowed: 'paper', 'author'"):
        augkit.make("graph_smote", node_type="venue")(data, generator=0)
    with pytest.raises(InputError, match=r"node type 'author' has no y"):
        augkit.make("graph_smote", node_type="author")(data, generator=0)
    no_y = data.clone()
    del no_y["paper"].y
    with pytest.raises(InputError, match=r"no node type of the HeteroData has y"):
        augkit.make("graph_smote")(no_y, generator=0)
    bad = data.clone()
    bad["paper"].train_mask = bad["paper"].train_mask.long()
    with pytest.raises(InputError, match=r"graph_smote \(node type 'paper'\): train_mask got"):
        augkit.make("graph_smote")(bad, generator=0)
    dangling = data.clone()
    dangling["author", "writes", "paper"].edge_index[1, 0] = 10_000
    with pytest.raises(InputError, match=r"edge type 'author__writes__paper' holds destination"):
        augkit.make("graph_smote")(dangling, generator=0)
    snap = snapshot(data)
    with pytest.raises(InputError, match=r"got a Batch of 2 HeteroData graphs; allowed: one"):
        augkit.make("graph_smote")(Batch.from_data_list([data, data]), generator=0)
    assert_unchanged(data, snap)
    with pytest.raises(InputError, match=r"node_type is 'paper', which applies to HeteroData"):
        augkit.make("graph_smote", node_type="paper")(_homogeneous(), generator=0)
    with pytest.raises(ParamError, match="node_type"):
        augkit.make("graph_smote", node_type="")
    assert isinstance(augkit.make("graph_smote")(_homogeneous(), generator=0), Data)


@pytest.mark.parametrize("rule", ["copy_source", "mix"])
def test_one_node_type_with_two_relations_equals_the_homogeneous_graph_up_to_edge_order(rule):
    # to_homogeneous lists edges relation by relation, so the new edges come grouped per
    # relation in one and all after the originals in the other: equal as multisets.
    base = _homogeneous(150, 3)
    data = _as_hetero(base)
    g = torch.Generator().manual_seed(4)
    data["paper", "extends", "paper"].edge_index = torch.randint(0, 150, (2, 200), generator=g)
    data["paper", "extends", "paper"].edge_attr = torch.randn(200, 3, generator=g)
    want = graph_smote(data.to_homogeneous(), k_neighbors=3, edges=rule, seed=9)
    got = graph_smote_hetero(data, k_neighbors=3, edges=rule, seed=9).to_homogeneous()
    for key in ("x", "y", "train_mask", "val_mask", "test_mask", "pos", "node_type"):
        assert torch.equal(got[key], want[key]), key

    def edges(d):
        rows = torch.cat([d.edge_index.t().double(), d.edge_type.view(-1, 1).double(),
                          d.edge_attr.double()], 1)
        return sorted(map(tuple, rows.tolist()))

    assert edges(got) == edges(want)
