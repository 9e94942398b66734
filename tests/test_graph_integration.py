"""The graph transforms inside PyG: dataset ``transform=``, ``transforms.Compose``, loader
Batches, ``NeighborLoader(transform=...)``, GraphCL views, networkx round trips, the example."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import networkx as nx
import torch
from hypothesis import given, settings
from torch_geometric.data import Batch, Data, InMemoryDataset

import augkit
from augkit import load_policy
from augkit.plugins.graph import from_networkx, to_networkx

from .graph_strategies import (
    GRAPH_TRANSFORMS,
    assert_unchanged,
    assert_valid,
    graphs_or_batches,
    is_undirected,
    snapshot,
)
from .pyg_loaders import sampler_backend_missing

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "examples" / "policies" / "graph.yaml"


class _Generated(InMemoryDataset):
    """An in-memory dataset of generated SBM graphs (no files, no network)."""

    def __init__(self, transform=None):
        super().__init__(None, transform=transform)
        items = []
        for i in range(12):
            g = nx.stochastic_block_model([6 + i % 4, 7], [[0.7, 0.05], [0.05, 0.6]], seed=i)
            d = from_networkx(g)
            d.x = torch.randn(d.num_nodes, 5, generator=torch.Generator().manual_seed(i))
            d.y = torch.tensor([i % 2])
            items.append(d)
        self.data, self.slices = self.collate(items)


def test_karate_club_dataset_transform_and_pyg_compose():
    from torch_geometric.datasets import KarateClub
    from torch_geometric.transforms import Compose, NormalizeFeatures

    plain = KarateClub()[0]
    snap = snapshot(plain)
    ds = KarateClub(transform=Compose([NormalizeFeatures(), augkit.make("node_dropout", p=0.3),
                                       augkit.make("edge_dropout", p=0.3)]))
    a, b = ds[0], ds[0]
    for out in (a, b):
        assert_valid(out)
        assert is_undirected(out.edge_index)
        assert out.num_nodes <= plain.num_nodes and out.y.numel() == out.num_nodes
        assert out.train_mask.numel() == out.num_nodes
    assert not torch.equal(a.edge_index, b.edge_index) or a.num_nodes != b.num_nodes
    assert_unchanged(KarateClub()[0], snap)


def test_fake_dataset_with_policy_and_loader_batches():
    from torch_geometric.datasets import FakeDataset
    from torch_geometric.loader import DataLoader

    policy = load_policy(POLICY)
    ds = FakeDataset(num_graphs=16, avg_num_nodes=20, num_channels=4, edge_dim=2,
                     transform=lambda d: policy(d))
    loader = DataLoader(ds, batch_size=5)
    batch = next(iter(loader))
    assert_valid(batch, graphs=5)
    snap = snapshot(batch)
    for name in ("edge_dropout", "node_dropout", "feature_masking"):
        out = augkit.make(name, p=0.4)(batch, generator=1)
        assert_valid(out, graphs=5)
        assert torch.equal(out.y, batch.y)
    assert_unchanged(batch, snap)


def test_in_memory_dataset_and_views_for_graphcl():
    ds = _Generated(transform=augkit.Views([augkit.make("edge_dropout", p=0.2),
                                            augkit.make("feature_masking", p=0.3)], n=2))
    v1, v2 = ds[3]
    assert isinstance(v1, Data) and isinstance(v2, Data)
    assert not (torch.equal(v1.edge_index, v2.edge_index) and torch.equal(v1.x, v2.x))
    policy = load_policy(POLICY.read_text() + "views: 2\n")
    views = policy(ds[0][0], index=0)
    assert len(views) == 2
    batch = Batch.from_data_list([ds[i][0] for i in range(4)])
    assert_valid(batch, graphs=4)


def test_neighbor_loader_transform():
    from torch_geometric.datasets import KarateClub
    from torch_geometric.loader import NeighborLoader

    data = KarateClub()[0]
    try:
        loader = NeighborLoader(data, num_neighbors=[4, 4], batch_size=8,
                                transform=augkit.make("edge_dropout", p=0.3))
        batches = list(loader)
    except ImportError as err:
        sampler_backend_missing(err)
    assert len(batches) == 5
    for b in batches:
        assert_valid(b)
        assert b.n_id.numel() == b.num_nodes


def test_networkx_round_trip_with_attributes():
    g = nx.les_miserables_graph()
    data, nodes = from_networkx(g, return_nodes=True)
    assert data.num_nodes == g.number_of_nodes()
    assert data.edge_index.size(1) == 2 * g.number_of_edges()
    assert is_undirected(data.edge_index)
    back = to_networkx(data, nodes=nodes)
    assert nx.utils.graphs_equal(back, g)
    # Directed graphs with node and graph attributes.
    d = nx.DiGraph(name="toy")
    d.add_nodes_from([(0, {"feat": [1.0, 2.0]}), (1, {"feat": [3.0, 4.0]}),
                      (2, {"feat": [5.0, 6.0]})])
    # Four edges on three nodes: PyG tells node from edge attributes by their length.
    d.add_edges_from([(0, 1, {"w": 1}), (1, 2, {"w": 2}), (2, 2, {"w": 3}), (1, 0, {"w": 4})])
    data = from_networkx(d)
    assert data.feat.shape == (3, 2) and data.name == "toy"
    assert sorted(data.w.tolist()) == [1, 2, 3, 4]
    back = to_networkx(data)
    assert isinstance(back, nx.DiGraph) and nx.utils.graphs_equal(back, d)
    # Augmented and converted back: still a valid graph of the kept nodes.
    out = to_networkx(augkit.make("node_dropout", p=0.5)(from_networkx(g), generator=0))
    assert out.number_of_nodes() < g.number_of_nodes()


def test_graph_plugin_import_is_light():
    code = ("import sys, augkit.plugins.graph as g, augkit.plugins.graph.manifest as m; "
            "assert {'edge_dropout', 'graph_diffusion'} <= set(m.TRANSFORMS); "
            "assert not {'torch_geometric', 'networkx', 'numba'} & set(sys.modules), "
            "sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_graph_contrastive_example_runs():
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "graph_contrastive.py"),
                           "--steps", "3", "--graphs", "16", "--batch-size", "8"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    losses = [float(line.split("loss")[1]) for line in proc.stdout.splitlines()
              if "loss" in line]
    assert len(losses) == 3


def test_set_attr_writes_as_pyg_setattr_would():
    from augkit.plugins.graph._pyg import set_attr, shallow_copy

    class Tagged(Data):
        @property
        def label(self):
            return self["tag"]

        @label.setter
        def label(self, value):
            self["tag"] = value * 2

    ei = torch.tensor([[0, 1], [1, 0]])
    for data in (Data(x=torch.ones(2, 3), edge_index=ei),
                 Batch.from_data_list([Data(x=torch.ones(2, 3), edge_index=ei)] * 2)):
        assert data.is_edge_attr("edge_index")  # fills the input's attribute-kind cache
        fast, slow = shallow_copy(data), shallow_copy(data)
        e = torch.ones(data.edge_index.size(1), 2)
        set_attr(fast, "edge_attr", e)
        slow.edge_attr = e
        assert fast.keys() == slow.keys() and fast.edge_attr is e
        assert fast.is_edge_attr("edge_attr") and not fast.is_node_attr("edge_attr")
        assert "edge_attr" not in data  # the input is untouched
        set_attr(fast, "edge_attr", None)  # None deletes, as PyG's setter does
        assert "edge_attr" not in fast
    tagged = Tagged(x=torch.ones(2, 1))
    set_attr(tagged, "label", 3)  # a property setter still runs
    assert tagged.tag == 6
    # PyG's own typed attributes (properties whose setters only store) take the fast path,
    # on Data and on the dynamic Batch class alike; a subclass's own property does not.
    from augkit.plugins.graph._pyg import plain_key

    batch_cls = type(Batch.from_data_list([Data(x=torch.ones(2, 3), edge_index=ei)]))
    for cls in (Data, batch_cls, Tagged):
        for key in ("x", "edge_index", "edge_attr", "edge_weight", "y", "pos", "batch", "ptr",
                    "num_nodes", "custom"):
            assert plain_key(cls, key), (cls, key)
    assert not plain_key(Tagged, "label") and not plain_key(Data, "_store")
    shared = Data(x=torch.ones(2, 1), edge_index=ei)
    shared.is_edge_attr("x")  # a copy.copy shares this cache: the write must go through PyG
    twin = __import__("copy").copy(shared)
    set_attr(twin, "w", torch.ones(2))
    assert "w" in twin and "w" not in shared


@settings(max_examples=60)
@given(graphs_or_batches(ids=True))
def test_num_nodes_reads_what_pyg_infers(data):
    """augkit's node count reads the storage's dict for plain Data/Batch objects; it must be
    PyG's own inference on every generated graph and on the edge cases of its rules."""
    import warnings

    from augkit.plugins.graph._pyg import num_nodes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyG warns when it guesses from edge_index
        assert num_nodes(data) == (data.num_nodes or 0)


def test_num_nodes_edge_cases_follow_pyg():
    import warnings

    import numpy as np

    from augkit.plugins.graph._pyg import num_nodes

    class Counted(Data):
        @property
        def num_nodes(self):
            return 42

    ei = torch.tensor([[0, 3], [3, 0]])
    cases = [
        Data(x=torch.ones(5, 2), edge_index=ei),
        Data(edge_index=ei, pos=torch.ones(7, 3), x=torch.ones(5, 2)),  # first N_KEY wins
        Data(edge_index=ei, num_nodes=9, x=torch.ones(5, 2)),  # explicit count wins
        Data(edge_index=ei, node_feat=torch.ones(6, 1)),  # 'node' in a key: PyG's 2nd rule
        Data(edge_index=ei, x=np.ones((4, 2))),  # an array: PyG's rule for arrays
        Data(edge_index=ei, x=[1, 2, 3], pos=torch.ones(3, 1)),  # a list under x is skipped
        Data(edge_index=ei),  # only edges: PyG's guess (with its warning)
        Data(),
        Counted(x=torch.ones(5, 2)),  # an overridden property is asked
        Batch.from_data_list([Data(x=torch.ones(3, 1)), Data(x=torch.ones(4, 1))]),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for data in cases:
            assert num_nodes(data) == (data.num_nodes or 0), data


def test_node_ids_outside_the_graph_are_a_clear_error():
    """An edge to a node the graph does not have (id >= num_nodes, or negative) is an
    InputError naming the id and the node count, for every graph transform that indexes with
    the ids, the input unchanged; before, the CPU kernels read past their arrays (garbage ids
    in the output, or a crash). A view of node features reads no ids and hands edge_index on
    as it got it. A large graph's check is kept per edge_index state, so an in-place change
    is checked again."""
    import pytest

    from augkit.errors import InputError

    for bad in (7, -1):
        data = Data(x=torch.randn(3, 2), edge_index=torch.tensor([[0, 1, bad], [1, 0, 1]]))
        before = data.edge_index.clone()
        for name, params in GRAPH_TRANSFORMS:
            t = augkit.make(name, **params)
            if not t.reads_edge_ids():
                assert t(data, generator=0).edge_index is data.edge_index
                continue
            with pytest.raises(InputError, match=f"node id {bad}, outside 0..2"):
                t(data, generator=0)
        assert torch.equal(data.edge_index, before)
    n = 1000
    big = Data(x=torch.randn(n, 2), edge_index=torch.randint(0, n, (2, 40_000)))
    t = augkit.make("edge_dropout", p=0.1)
    t(big, generator=0)
    big.edge_index[0, 5] = n  # in place: the cached check must not vouch for it
    with pytest.raises(InputError, match=f"node id {n}"):
        t(big, generator=1)
