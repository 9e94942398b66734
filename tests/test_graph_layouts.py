"""Graph layouts: a sparse adjacency (adj_t) is an InputError saying what to do, Python-list
node/edge attributes are sliced as PyG's Data.subgraph slices them."""

from __future__ import annotations

import pytest
import torch
import torch_geometric.transforms as T
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Batch, Data

import augkit
from augkit.errors import AugkitError, InputError

from .graph_strategies import GRAPH_TRANSFORMS


def _graph(n: int = 12, e: int = 30, seed: int = 0) -> Data:
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, e), generator=g)
    return Data(x=torch.randn(n, 3, generator=g), edge_index=ei,
                edge_attr=torch.randn(e, 2, generator=g), node_id=torch.arange(n),
                edge_id=torch.arange(e), names=[f"n{i}" for i in range(n)],
                edge_names=tuple(f"e{j}" for j in range(e)))


class SparseTensor:
    """Stands in for torch_sparse.SparseTensor (not installable here): refused by its name."""

    def dim(self) -> int:
        return 2

    def size(self, i: int) -> int:
        return 12


@pytest.mark.parametrize(("name", "kw"), GRAPH_TRANSFORMS)
@pytest.mark.parametrize("layout", ["csr", "coo", "sparse_tensor"])
def test_sparse_adjacency_is_an_input_error_saying_what_to_do(name, kw, layout):
    data = _graph()
    del data.edge_names, data.names
    if layout == "csr":
        data = T.ToSparseTensor(layout=torch.sparse_csr)(data)
    elif layout == "coo":
        data = T.ToSparseTensor(layout=torch.sparse_coo)(data)
    else:
        del data.edge_index
        data.adj_t = SparseTensor()
    assert "adj_t" in data and "edge_index" not in data
    with pytest.raises(InputError, match=r"adj_t.*ToSparseTensor"):
        augkit.make(name, **kw)(data, generator=0)


def test_sparse_node_features_are_not_taken_for_an_adjacency():
    data = _graph()
    data.x_sparse = torch.randn(12, 5).to_sparse()
    out = augkit.make("feature_masking")(data, generator=0)
    assert out.x_sparse is data.x_sparse


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(GRAPH_TRANSFORMS), st.sampled_from([0.0, 0.5, 0.9]),
       st.integers(0, 2**31), st.sampled_from([(12, 30), (9, 9), (5, 0)]))
def test_list_attributes_follow_the_kept_nodes_and_edges(transform, p, seed, size):
    name, kw = transform
    if name in ("edge_dropout", "node_dropout", "feature_masking"):
        kw = {**kw, "p": p}
    data = _graph(*size, seed=seed % 1000)
    names, edge_names = list(data.names), tuple(data.edge_names)
    out = augkit.make(name, **kw)(data, generator=seed)
    assert data.names == names and data.edge_names == edge_names  # input unchanged
    assert out.names == [names[i] for i in out.node_id.tolist()]
    if size[0] != size[1]:  # equal counts: PyG's rule calls a list node-level
        assert out.edge_names == tuple(edge_names[j] for j in out.edge_id.tolist())
    if name in ("node_dropout", "subgraph_sampling"):
        want = data.subgraph(out.node_id)
        assert want.names == out.names
        if size[0] != size[1]:
            assert list(want.edge_names) == list(out.edge_names)  # PyG makes a list


def test_batch_lists_are_per_graph_and_left_alone():
    batch = Batch.from_data_list([_graph(6, 10, 1), _graph(8, 12, 2)])
    out = augkit.make("node_dropout", p=0.5)(batch, generator=3)
    assert out.names == batch.names and out.edge_names == batch.edge_names
    assert [g.num_nodes for g in out.to_data_list()] == out.ptr.diff().tolist()
    # Two graphs of one edge each: the per-graph list is as long as the edge count.
    batch = Batch.from_data_list([_graph(3, 1, 4), _graph(3, 1, 5)])
    out = augkit.make("edge_dropout", p=1.0)(batch, generator=0)
    assert out.num_edges == 0 and out.edge_names == batch.edge_names


def test_input_errors_are_augkit_errors():
    assert issubclass(InputError, AugkitError)


TARGETED = [("feature_masking", "x"), ("feature_masking", "edge_attr"),
            ("diffusion_noise", "x"), ("diffusion_noise", "edge_attr"),
            ("diffusion_noise", "edge_weight")]


@pytest.mark.parametrize(("name", "target"), TARGETED)
def test_a_missing_target_is_an_input_error_in_every_transform(name, target):
    data = _graph()
    data.edge_weight = torch.rand(data.num_edges)
    t = augkit.make(name, target=target)
    assert isinstance(t(data, generator=0), Data)  # with the target it runs
    del data[target]
    with pytest.raises(InputError, match=rf"(no|without a) tensor .?{target}"):
        t(data, generator=0)
    batch = Batch.from_data_list([data, data])
    with pytest.raises(InputError, match=rf"(no|without a) tensor .?{target}"):
        t(batch, generator=0)


def test_feature_masking_of_3d_x_names_the_shape_and_what_is_allowed():
    data = _graph()
    data.x = torch.randn(12, 2, 3)
    with pytest.raises(InputError, match=r"\(12, 2, 3\).*allowed: \[rows\] or \[rows, feat"):
        augkit.make("feature_masking")(data, generator=0)
