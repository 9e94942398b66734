"""The loader's graph collation equals PyG's ``Batch.from_data_list``: the same Batch class,
attributes (values, dtypes, order), ``batch``/``ptr``, ``_slice_dict``, ``_inc_dict`` and
graphs back from ``to_data_list``, on the fast path and on every fallback."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("torch_geometric")
from torch_geometric.data import Batch, Data

from augkit._graph_collate import _plain_batch, collate_graphs


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


def assert_same_batch(ours: Any, pyg: Any) -> None:
    assert type(ours) is type(pyg)
    assert list(ours.keys()) == list(pyg.keys())
    for key in pyg.keys():
        assert _same(ours[key], pyg[key]), key
    assert ours.num_graphs == pyg.num_graphs
    assert _same(ours._slice_dict, pyg._slice_dict)
    assert _same(ours._inc_dict, pyg._inc_dict)
    assert ours.__dict__["_store"].__dict__.get("_num_nodes") \
        == pyg.__dict__["_store"].__dict__.get("_num_nodes")
    for mine, theirs in zip(ours.to_data_list(), pyg.to_data_list(), strict=True):
        assert list(mine.keys()) == list(theirs.keys())
        for key in theirs.keys():
            assert _same(mine[key], theirs[key]), key


@st.composite
def graph_lists(draw: Any) -> list[Data]:
    """Lists of plain Data sharing one attribute layout: node features, edges (long or
    int32), edge attributes, 0-d or 1-row labels, masks, index-named node attributes, an
    explicit num_nodes, empty graphs."""
    count = draw(st.integers(1, 6))
    features = draw(st.integers(0, 3))
    layout = draw(st.fixed_dictionaries({
        "x": st.booleans(), "edge_attr": st.booleans(), "y": st.sampled_from([None, "0d", "1"]),
        "mask": st.booleans(), "node_index": st.booleans(), "num_nodes": st.booleans(),
        "int32": st.booleans(), "center_index": st.booleans(),
    }))
    if not layout["x"] and not layout["num_nodes"]:
        layout["x"] = True  # PyG would guess the nodes from edge_index (a warning)
    graphs = []
    for _ in range(count):
        n = draw(st.integers(0, 7))
        e = draw(st.integers(0, 10)) if n else 0
        kw: dict[str, Any] = {}
        if layout["x"]:
            kw["x"] = torch.randn(n, features)
        ei = torch.randint(0, max(n, 1), (2, e))
        kw["edge_index"] = ei.int() if layout["int32"] else ei
        if layout["edge_attr"]:
            kw["edge_attr"] = torch.randn(e, 2)
        if layout["y"] == "0d":
            kw["y"] = torch.tensor(draw(st.integers(0, 3)))
        elif layout["y"] == "1":
            kw["y"] = torch.tensor([draw(st.integers(0, 3))])
        if layout["mask"]:
            kw["train_mask"] = torch.rand(n) < 0.5
        if layout["node_index"]:
            kw["node_index"] = torch.randint(0, max(n, 1), (n,))
        if layout["center_index"]:
            kw["center_index"] = torch.tensor(draw(st.integers(0, max(n - 1, 0))))
        if layout["num_nodes"]:
            kw["num_nodes"] = n
        graphs.append(Data(**kw))
    return graphs


@settings(max_examples=150, deadline=None)
@given(graph_lists())
def test_fast_path_equals_pyg(graphs):
    pyg = Batch.from_data_list(graphs)
    ours = _plain_batch(graphs)
    assert ours is not None  # these layouts are the fast path's
    assert_same_batch(ours, pyg)


class _MyData(Data):
    def __inc__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        return 0 if key == "edge_index" else super().__inc__(key, value, *args, **kwargs)


def _plain(n: int, e: int, **extra: Any) -> Data:
    return Data(x=torch.randn(n, 2), edge_index=torch.randint(0, n, (2, e)), **extra)


@pytest.mark.parametrize("graphs, why", [
    ([_MyData(x=torch.randn(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]))] * 2,
     "a Data subclass with its own __inc__"),
    ([_plain(3, 2), _plain(4, 1, extra_attr=torch.ones(1))], "different attributes"),
    ([Data(edge_index=torch.tensor([[0, 1], [1, 2]]))] * 2, "node count from edge_index"),
    ([_plain(3, 2, batch_id=torch.zeros(3, dtype=torch.long))] * 2, "a batch-named key"),
    ([_plain(3, 2, name="a"), _plain(2, 1, name="b")], "a string attribute"),
    ([_plain(3, 2, face_index=torch.rand(3))] * 2, "a float index-named attribute"),
])
def test_fallbacks_equal_pyg(graphs, why):
    import warnings

    assert _plain_batch(graphs) is None, why
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pyg = Batch.from_data_list(graphs)
        ours = collate_graphs(graphs)
    assert_same_batch(ours, pyg)


def test_follow_batch_goes_to_pyg():
    graphs = [_plain(3, 2), _plain(2, 2)]
    ours = collate_graphs(graphs, follow_batch=["x"])
    assert_same_batch(ours, Batch.from_data_list(graphs, follow_batch=["x"]))
    assert "x_batch" in ours.keys()


def test_input_graphs_unchanged():
    graphs = [_plain(3, 2), _plain(4, 3)]
    before = [g.edge_index.clone() for g in graphs]
    collate_graphs(graphs)
    assert all(torch.equal(g.edge_index, b) for g, b in zip(graphs, before, strict=True))


def test_loader_uses_it_and_batches_equal_pyg_loader():
    from torch_geometric.loader import DataLoader

    from augkit.data import AugmentedDataset
    from augkit.policy import load_policy

    graphs = [_plain(3 + i % 4, 4, y=torch.tensor([i % 2])) for i in range(20)]
    policy = load_policy({"augkit": 1, "seed": 0, "sample": []})
    ours = list(AugmentedDataset(graphs, policy).loader(8))
    theirs = list(DataLoader(graphs, batch_size=8))
    for a, b in zip(ours, theirs, strict=True):
        assert_same_batch(a, b)


def test_worker_collation_equals_pyg_loader():
    from torch_geometric.loader import DataLoader

    from augkit.data import AugmentedDataset
    from augkit.policy import load_policy

    graphs = [_plain(3 + i % 4, 4, y=torch.tensor([i % 2])) for i in range(24)]
    policy = load_policy({"augkit": 1, "seed": 0, "sample": []})
    ours = list(AugmentedDataset(graphs, policy).loader(8, num_workers=2))
    theirs = list(DataLoader(graphs, batch_size=8))
    for a, b in zip(ours, theirs, strict=True):
        assert_same_batch(a, b)


def test_in_a_worker_the_batch_is_written_to_shared_memory(monkeypatch):
    graphs = [_plain(3, 2), _plain(4, 3)]
    assert not collate_graphs(graphs).x.is_shared()
    monkeypatch.setattr(torch.utils.data, "get_worker_info", lambda: object())
    out = collate_graphs(graphs)
    assert out.x.is_shared() and out.edge_index.is_shared()
    assert_same_batch(out, Batch.from_data_list(graphs))
