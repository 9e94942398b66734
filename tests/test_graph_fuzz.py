"""An input fuzzer over every graph transform: generated graphs and Batches (0 nodes, 0 edges,
self-loops, multi-edges, isolated nodes), then one odd or broken detail (feature dtypes,
NaN/inf, int32 or non-contiguous tensors, a disagreeing ``num_nodes``, out-of-range ids,
unsorted or out-of-range ``batch``, a broken ``ptr``, misaligned edge attributes). Every call
either gives a valid output (one the next step of a policy call may take as checked) or raises
an AugkitError, and never changes its input. A view of node features, which reads no edge ids,
hands ``edge_index`` on as it got it, and its output is checked as such (ids aside)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch_geometric.data import Batch

import augkit
from augkit.errors import AugkitError
from augkit.plugins.graph._subset import check_graph

from .graph_strategies import assert_unchanged, assert_valid, graphs_or_batches, snapshot

VARIANTS = [
    ("edge_dropout", {"undirected": "auto"}), ("edge_dropout", {"undirected": True}),
    ("edge_dropout", {"undirected": False}),
    ("node_dropout", {}), ("node_dropout", {"min_nodes": 0}), ("node_dropout", {"min_nodes": 3}),
    ("feature_masking", {"mode": "feature"}), ("feature_masking", {"mode": "node"}),
    ("feature_masking", {"mode": "element"}), ("feature_masking", {"fill": "mean"}),
    ("feature_masking", {"fill": "normal", "mode": "element"}),
    ("feature_masking", {"target": "edge_attr", "fill": "mean"}),
    ("edge_rewiring", {"method": "random", "ratio": 0.5}),
    ("edge_rewiring", {"method": "degree_preserving", "ratio": 0.5}),
    ("subgraph_sampling", {"method": "random_walk", "walk_length": 3}),
    ("subgraph_sampling", {"method": "khop", "num_hops": 1}),
    ("subgraph_sampling", {"method": "random_node", "ratio": 0.3}),
    ("node_shuffling", {}), ("feature_dropout", {}), ("feature_dropout", {"target": "edge_attr"}),
]

MUTATIONS = ["none", "float16", "bfloat16", "int_x", "nan_inf", "int32_edge_index",
             "noncontiguous", "num_nodes_more", "num_nodes_fewer", "id_past_end",
             "id_negative", "edge_attr_rows", "batch_past_graphs", "batch_unsorted",
             "batch_negative", "ptr_decreasing", "ptr_short", "ptr_long"]


def _mutate(data: Any, what: str, draw: Any) -> None:
    """Applies ``what`` to ``data`` (new tensors, so the generated ones stay as they were)."""
    ei, x = data.edge_index, data.x
    n, is_batch = data.num_nodes, isinstance(data, Batch)
    if what in ("float16", "bfloat16", "int_x") and x is not None:
        data.x = (x * 4).to({"float16": torch.float16, "bfloat16": torch.bfloat16,
                             "int_x": torch.int64}[what])
    elif what == "nan_inf" and x is not None and x.numel():
        x = x.clone()
        x.view(-1)[draw(st.integers(0, x.numel() - 1))] = draw(
            st.sampled_from([float("nan"), float("inf"), -float("inf")]))
        data.x = x
    elif what == "int32_edge_index":
        data.edge_index = ei.int()
    elif what == "noncontiguous":
        data.edge_index = ei.t().contiguous().t()
        if x is not None:
            data.x = x.t().contiguous().t()
    elif what in ("num_nodes_more", "num_nodes_fewer"):
        # Only x and the edge ids can disagree: PyG sizes custom node attributes by the count.
        for key in ("y", "train_mask"):
            if key in data:
                del data[key]
        data.num_nodes = max(0, n + (3 if what == "num_nodes_more" else -1))
    elif what in ("id_past_end", "id_negative") and ei.numel():
        ei = ei.clone()
        ei.view(-1)[draw(st.integers(0, ei.numel() - 1))] = n if what == "id_past_end" else -1
        data.edge_index = ei
    elif what == "edge_attr_rows" and data.edge_attr is not None:
        data.edge_attr = torch.zeros(ei.size(1) + 3, data.edge_attr.size(1))
    elif what.startswith("batch_") and is_batch and n:
        b = data.batch.clone()
        i = draw(st.integers(0, n - 1))
        if what == "batch_past_graphs":
            b[i] = data.num_graphs + draw(st.integers(0, 5))
        elif what == "batch_negative":
            b[i] = -1
        else:
            b = b.flip(0).contiguous()
        data.batch = b
    elif what.startswith("ptr_") and is_batch:
        p = data.ptr.clone()
        if what == "ptr_decreasing" and p.numel() > 2:
            p[1] = n + 1
        elif what == "ptr_short":
            p[-1] = n - 1
        else:
            p = torch.cat([p, p[-1:]])
        data.ptr = p


@st.composite
def _cases(draw: Any) -> tuple[Any, str, dict[str, Any], str]:
    data = draw(graphs_or_batches(max_nodes=40))
    name, kw = draw(st.sampled_from(VARIANTS))
    what = draw(st.sampled_from(MUTATIONS))
    _mutate(data, what, draw)
    return data, name, kw, what


def _check(case: tuple[Any, str, dict[str, Any], str], seed: int) -> None:
    data, name, kw, _ = case
    snap = snapshot(data)
    t = augkit.make(name, **kw)
    try:
        out = t(data, generator=seed)
    except AugkitError:
        assert_unchanged(data, snap)
        return
    assert_unchanged(data, snap)
    if t.reads_edge_ids():
        assert_valid(out, graphs=data.num_graphs if isinstance(data, Batch) else None)
        check_graph(out, name)  # what the next step of a policy call takes as checked
    else:
        assert out.edge_index is data.edge_index
        check_graph(out, name, node_ids=False)
    for key in ("x", "edge_attr"):
        if data.get(key) is not None:
            assert out[key].dtype == data[key].dtype


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases(), st.integers(0, 2**31))
def test_fuzz_graph_transforms(case, seed):
    _check(case, seed)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_cases(), st.integers(0, 2**31))
def test_fuzz_graph_transforms_deep(case, seed):
    _check(case, seed)
