"""``standardize`` and ``minmax_scale`` on PyG HeteroData: statistics per node (edge) type,
each type scaled as its rows are as a table, fitted state per type through YAML, per graph in
a Batch of HeteroData, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import StandardScaler
from torch_geometric.data import Batch, HeteroData

import augkit
from augkit.errors import InputError
from augkit.scaling import NotFittedError

from .hetero_strategies import assert_same_hetero, assert_unchanged, hetero_graphs, snapshot

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))


def _graph() -> HeteroData:
    g = torch.Generator().manual_seed(0)
    h = HeteroData()
    h["paper"].x = torch.randn(30, 3, generator=g, dtype=torch.float64) * 5 + 2
    h["paper"].train_mask = torch.arange(30) < 18
    h["author"].x = torch.randn(20, 2, generator=g, dtype=torch.float64) * 3 - 1
    h["author", "writes", "paper"].edge_index = torch.stack(
        [torch.randint(0, 20, (50,), generator=g), torch.randint(0, 30, (50,), generator=g)])
    h["author", "writes", "paper"].edge_attr = torch.randn(50, 4, generator=g) * 4
    return h


@pytest.mark.parametrize("name", ["standardize", "minmax_scale"])
@SETTINGS
@given(data=hetero_graphs(), fit_on=st.sampled_from(["all", "per_graph"]))
def test_every_type_is_scaled_as_its_rows_are_as_a_table(name, data, fit_on):
    snap = snapshot(data)
    t = augkit.make(name, fit_on=fit_on).fit(data)
    out = t(data, generator=0)
    assert_unchanged(data, snap)
    for nt in data.node_types:
        x = data[nt].x
        alone = augkit.make(name, fit_on=fit_on).fit((x, None))((x, None), generator=0)[0]
        assert torch.equal(out[nt].x, alone), nt
        assert torch.equal(out[nt].node_id, data[nt].node_id)
    for et in data.edge_types:
        assert torch.equal(out[et].edge_index, data[et].edge_index)


def test_training_rows_per_type_as_scikit_learn():
    h = _graph()
    out = augkit.make("standardize").fit(h)(h, generator=0)
    rows = h["paper"].x[h["paper"].train_mask].numpy()
    want = StandardScaler().fit(rows).transform(h["paper"].x.numpy())
    np.testing.assert_allclose(out["paper"].x.numpy(), want, rtol=1e-12, atol=1e-12)
    # author has no train_mask (no labelled nodes): all its rows
    want = StandardScaler().fit_transform(h["author"].x.numpy())
    np.testing.assert_allclose(out["author"].x.numpy(), want, rtol=1e-12, atol=1e-12)


def test_edge_attributes_fit_on_edges_between_training_nodes():
    h = _graph()
    t = augkit.make("minmax_scale", target="edge_attr").fit(h)
    et = ("author", "writes", "paper")
    keep = h["paper"].train_mask[h[et].edge_index[1]]
    rows = h[et].edge_attr[keep]
    want = augkit.make("minmax_scale", fit_on="all").fit((rows, None))
    got = t(h, generator=0)[et].edge_attr
    assert torch.equal(got, want((h[et].edge_attr, None), generator=0)[0])
    assert torch.equal(t(h, generator=0)["paper"].x, h["paper"].x)


def test_fitted_state_per_type_round_trips_through_yaml_and_policies():
    h = _graph()
    policy = augkit.load_policy({"augkit": 1, "sample": [{"standardize": {}}]})
    policy.fit(h)
    text = policy.to_yaml(include_state=True)
    state = yaml.safe_load(text)["sample"][0]["standardize"]["fitted_state"]
    assert set(state["types"]) == {"paper", "author"}
    again = augkit.load_policy(yaml.safe_load(text))
    assert_same_hetero(again(h, index=0), policy(h, index=0))


def test_per_graph_goes_graph_by_graph_in_a_batch():
    h, g2 = _graph(), _graph()
    g2["author"].x = g2["author"].x * 10
    t = augkit.make("standardize", fit_on="per_graph")
    out = t(Batch.from_data_list([h, g2]), generator=0)
    for got, graph in zip(out.to_data_list(), [h, g2], strict=True):
        assert_same_hetero(got, t(graph, generator=0))


def test_errors_name_what_is_wrong():
    h = _graph()
    with pytest.raises(NotFittedError, match="needs fitted statistics"):
        augkit.make("standardize")(h, generator=0)
    t = augkit.make("standardize").fit(h)
    other = _graph()
    other["venue"].x = torch.ones(3, 2, dtype=torch.float64)
    with pytest.raises(InputError, match="type 'venue' was not in the data fit"):
        t(other, generator=0)
    del other["paper"].train_mask
    with pytest.raises(InputError, match="no node type of the HeteroData has a train_mask"):
        augkit.make("standardize").fit(other)
    with pytest.raises(InputError, match="no edge type of the HeteroData has a tensor"):
        augkit.make("standardize", target="edge_attr", fit_on="per_graph")(
            HeteroData({"a": {"x": torch.ones(2, 1)}}), generator=0)
