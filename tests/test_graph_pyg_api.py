"""The graph plugin's PyG adapter switched to PyG's public API (``_pyg.public_api``) gives the
same outputs as its default fast path, for every transform and every adapter function."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import given, settings
from torch_geometric.data import Batch, Data

import augkit
from augkit.plugins.graph import _pyg

from .graph_strategies import (
    GRAPH_TRANSFORMS,
    _equal,
    assert_same,
    assert_unchanged,
    assert_valid,
    graphs_or_batches,
    snapshot,
)

TRANSFORMS = [*GRAPH_TRANSFORMS,
              ("edge_dropout", {"p": 0.5, "undirected": False}),
              ("node_dropout", {"p": 0.6, "min_nodes": 2}),
              ("feature_masking", {"target": "edge_attr", "mode": "node", "fill": "mean"}),
              ("feature_masking", {"mode": "element", "fill": "normal", "p": 0.4})]


def _karate() -> Data:
    from torch_geometric.datasets import KarateClub

    return KarateClub()[0]


def _fake_batch() -> Batch:
    from torch_geometric.datasets import FakeDataset

    torch.manual_seed(0)
    ds = FakeDataset(num_graphs=6, avg_num_nodes=15, avg_degree=3, num_channels=3, edge_dim=2)
    return Batch.from_data_list([ds[i] for i in range(len(ds))])


def _one_node_batch() -> Batch:
    """Graphs of one node each (a self-loop on some), one without ``x`` but ``num_nodes``."""
    loop = torch.tensor([[0], [0]])
    none = torch.empty(2, 0, dtype=torch.long)
    graphs = [Data(x=torch.full((1, 2), float(i)), edge_index=loop if i % 2 else none,
                   edge_attr=torch.full((1 if i % 2 else 0, 3), float(i)),
                   y=torch.tensor([i])) for i in range(4)]
    return Batch.from_data_list(graphs)


def _counted_batch() -> Batch:
    """Graphs with ``num_nodes`` and no node-level tensor (the Batch keeps ``_num_nodes``)."""
    g = torch.Generator().manual_seed(3)
    graphs = [Data(edge_index=torch.randint(0, k, (2, 3 * k), generator=g), num_nodes=k,
                   edge_weight=torch.rand(3 * k, generator=g)) for k in (2, 5, 7)]
    return Batch.from_data_list(graphs)


GRAPHS = {"karate": _karate, "fake_batch": _fake_batch, "one_node_batch": _one_node_batch,
          "counted_batch": _counted_batch}


def assert_identical(fast: Any, public: Any) -> None:
    """Same class, same attributes bit for bit; on a Batch the same ``batch``, ``ptr``,
    bookkeeping and ``to_data_list()``."""
    assert type(fast) is type(public)
    assert_same(fast, public)
    if isinstance(fast, Batch):
        assert _equal(fast.batch, public.batch) and _equal(fast.ptr, public.ptr)
        assert _equal(dict(fast._slice_dict), dict(public._slice_dict))
        assert _equal(dict(fast._inc_dict), dict(public._inc_dict))
        parts = fast.to_data_list(), public.to_data_list()
        assert len(parts[0]) == len(parts[1]) == fast.num_graphs
        for a, b in zip(*parts, strict=True):
            assert_same(a, b)


@pytest.mark.parametrize("graph", sorted(GRAPHS))
@pytest.mark.parametrize(("name", "params"), TRANSFORMS)
def test_every_transform_equals_its_public_api_run(graph, name, params):
    data = GRAPHS[graph]()
    snap = snapshot(data)
    t = augkit.make(name, **params)
    if name == "feature_masking" and params.get("target", "x") not in data:
        with pytest.raises(augkit.InputError):  # nothing to mask is an error on both paths
            t(data, generator=0)
        return
    for seed in range(3):
        fast = t(data, generator=seed)
        with _pyg.public_api():
            public = t(data, generator=seed)
        assert_identical(fast, public)
        assert_valid(public, graphs=data.num_graphs if isinstance(data, Batch) else None)
    assert_unchanged(data, snap)


@settings(max_examples=60, deadline=None)
@given(graphs_or_batches(ids=True))
def test_adapter_reads_and_writes_equal_the_public_api(data):
    import warnings

    def run() -> tuple:
        copied = _pyg.shallow_copy(data)
        _pyg.set_attr(copied, "edge_id", _pyg.edge_index_of(data)[1].clone())
        _pyg.set_attr(copied, "extra", torch.zeros(1))
        return (_pyg.num_nodes(data), [k for k, _ in _pyg.attributes(data)],
                _pyg.node_keys(data), _pyg.edge_keys(data), _pyg.device_of(data),
                _pyg.batch_vector(data), _pyg.ptr_of(data), _pyg.num_graphs(data), copied)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyG warns when it guesses from edge_index
        fast = run()
        with _pyg.public_api():
            public = run()
    *values, fast_copy = fast
    *public_values, public_copy = public
    assert all(_equal(a, b) for a, b in zip(values, public_values, strict=True))
    assert_same(fast_copy, public_copy)
    assert "extra" not in data


def test_public_api_writes_go_through_pyg(monkeypatch):
    """Switched, an attribute write reaches PyG's storage ``__setitem__`` (the fast path
    writes the storage's dict directly)."""
    from torch_geometric.data.storage import BaseStorage

    writes = []
    setitem = BaseStorage.__setitem__

    def spy(self, key, value):
        writes.append(key)
        setitem(self, key, value)

    monkeypatch.setattr(BaseStorage, "__setitem__", spy)
    data = Data(x=torch.ones(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]))
    writes.clear()
    out = _pyg.shallow_copy(data)
    _pyg.set_attr(out, "edge_attr", torch.ones(2, 1))
    assert writes == []
    with _pyg.public_api():
        out = _pyg.shallow_copy(data)
        _pyg.set_attr(out, "edge_attr", torch.ones(2, 1))
    assert writes == ["edge_attr"]


def test_public_api_switch_is_scoped():
    assert not _pyg.using_public_api()
    with _pyg.public_api():
        assert _pyg.using_public_api()
        with _pyg.public_api(False):
            assert not _pyg.using_public_api()
        assert _pyg.using_public_api()
    with pytest.raises(KeyError), _pyg.public_api():
        raise KeyError("inside")
    assert not _pyg.using_public_api()
