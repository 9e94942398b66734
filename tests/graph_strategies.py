"""Hypothesis strategies for PyG graphs, and the checks every graph transform test repeats.

Strategies (import with ``from .graph_strategies import graphs, batches, graphs_or_batches``):

- ``graphs(...)``: one ``Data``; directed or undirected (every edge stored with its reverse, in
  any order, either direction first), 0 to a few hundred nodes, isolated nodes, self-loops,
  duplicate edges, with or without ``x`` / ``edge_attr`` / ``edge_weight`` / ``y`` / a mask.
- ``batches(...)``: a ``Batch`` of 1 to 8 such graphs sharing one attribute layout.
- ``graphs_or_batches(...)``: either.

Every keyword left at ``None`` is drawn. With ``ids=True`` each graph carries ``node_id`` (long,
one per node) and ``edge_id`` (long, one per edge) numbered across the whole Batch, so a test
can check that attributes stayed aligned with their nodes and edges after a transform:
``node_id[edge_index]`` must be the original endpoints of edge ``edge_id``. Edge lists are
generated from a drawn seed (fast for hundreds of edges); sizes and switches shrink.

Checks: ``snapshot``/``assert_unchanged`` (the input is never modified), ``assert_valid`` (no
dangling node ids, every attribute sized right, Batch bookkeeping consistent and
``to_data_list()`` working), ``assert_aligned`` (ids follow their nodes and edges),
``edge_pairs``/``is_undirected``, ``assert_same`` (bit-for-bit equal outputs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st
from torch_geometric.data import Batch, Data

MAX_NODES = 300

# Every graph transform with the parameters that select its code paths.
GRAPH_TRANSFORMS = [("edge_dropout", {}), ("node_dropout", {}), ("feature_masking", {}),
                    ("edge_rewiring", {"method": "random"}),
                    ("edge_rewiring", {"method": "degree_preserving"}),
                    ("subgraph_sampling", {"method": "khop"}),
                    ("subgraph_sampling", {"method": "random_walk"}),
                    ("subgraph_sampling", {"method": "random_node"})]


# ---- strategies ---------------------------------------------------------------------------


def _edges(rng: np.random.Generator, n: int, e: int, *, directed: bool, self_loops: bool,
           duplicates: bool, isolated: int) -> np.ndarray:
    """``e`` random edges among the first ``n - isolated`` nodes (the rest stay isolated)."""
    span = n - isolated
    if span <= 0 or e == 0:
        return np.zeros((2, 0), dtype=np.int64)
    ei = rng.integers(0, span, size=(2, e), dtype=np.int64)
    if not self_loops:
        ei = ei[:, ei[0] != ei[1]]
    elif rng.random() < 0.5:
        # A few explicit self-loops, which random draws on many nodes rarely produce.
        k = int(rng.integers(1, 4))
        loops = rng.integers(0, span, size=k, dtype=np.int64)
        ei = np.concatenate([ei, np.stack([loops, loops])], axis=1)
    if not directed:
        # One entry per unordered pair, then both directions (a self-loop only once).
        lo, hi = np.minimum(ei[0], ei[1]), np.maximum(ei[0], ei[1])
        ei = np.stack([lo, hi])
    if duplicates and ei.shape[1] > 0:
        k = int(rng.integers(1, max(2, ei.shape[1] // 4 + 1)))
        ei = np.concatenate([ei, ei[:, rng.integers(0, ei.shape[1], size=k)]], axis=1)
    elif not duplicates:
        ei = np.unique(ei, axis=1)
    if not directed:
        loop = ei[0] == ei[1]
        ei = np.concatenate([ei, ei[::-1][:, ~loop]], axis=1)
    perm = rng.permutation(ei.shape[1])
    ei = ei[:, perm]
    if not directed and rng.random() < 0.5:
        # Some stores put the larger id first (the case PyG's force_undirected gets wrong).
        ei = ei[::-1].copy()
    return np.ascontiguousarray(ei)


@st.composite
def _layout(draw: Any, x: bool | None, edge_attr: bool | None, directed: bool | None,
            node_attrs: bool | None) -> dict[str, Any]:
    """The attribute layout a Batch's graphs share (PyG needs the same keys and widths)."""
    return {
        "directed": draw(st.booleans()) if directed is None else directed,
        "x": draw(st.sampled_from([0, 1, 3, 5])) if x is None else (3 if x else 0),
        "edge_attr": draw(st.sampled_from([0, 1, 2, 4])) if edge_attr is None else
        (2 if edge_attr else 0),
        "edge_weight": draw(st.booleans()) if edge_attr is None else bool(edge_attr),
        "node_attrs": draw(st.booleans()) if node_attrs is None else node_attrs,
        "explicit_num_nodes": draw(st.booleans()),
    }


@st.composite
def _graph(draw: Any, layout: dict[str, Any], min_nodes: int, max_nodes: int,
           max_edges: int | None, self_loops: bool | None, duplicates: bool | None,
           isolated: bool | None, node_offset: int = 0, edge_offset: int = 0,
           ids: bool = False, graph_label: bool = False) -> Any:
    n = draw(st.integers(min_nodes, max_nodes))
    cap = max_edges if max_edges is not None else 3 * n + 4
    e = draw(st.integers(0, cap)) if n > 0 else 0
    sl = draw(st.booleans()) if self_loops is None else self_loops
    dup = draw(st.booleans()) if duplicates is None else duplicates
    iso = (draw(st.integers(0, max(0, n // 3))) if isolated is None
           else (max(1, n // 4) if isolated and n > 1 else 0))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if not layout["directed"]:
        e = e // 2  # each pair becomes two stored edges
    ei = _edges(rng, n, e, directed=layout["directed"], self_loops=sl, duplicates=dup,
                isolated=iso)
    # Shuffle node ids so isolated nodes are not all at the end.
    relabel = rng.permutation(max(n, 1))[:n]
    ei = relabel[ei] if ei.size else ei
    m = ei.shape[1]
    data = Data(edge_index=torch.from_numpy(np.ascontiguousarray(ei)).long())
    if layout["x"]:
        data.x = torch.from_numpy(rng.standard_normal((n, layout["x"])).astype(np.float32))
    if layout["edge_attr"]:
        data.edge_attr = torch.from_numpy(
            rng.standard_normal((m, layout["edge_attr"])).astype(np.float32))
    if layout["edge_weight"]:
        data.edge_weight = torch.from_numpy(rng.random(m).astype(np.float32))
    if layout["node_attrs"]:
        data.y = torch.from_numpy(rng.integers(0, 3, size=n)).long()
        data.train_mask = torch.from_numpy(rng.random(n) < 0.5)
    if ids:
        data.node_id = torch.arange(node_offset, node_offset + n, dtype=torch.long)
        data.edge_id = torch.arange(edge_offset, edge_offset + m, dtype=torch.long)
    if graph_label:
        data.graph_y = torch.tensor([int(rng.integers(0, 2))])
    if not layout["x"] or layout["explicit_num_nodes"]:
        data.num_nodes = n
    return data


def graphs(*, min_nodes: int = 0, max_nodes: int = MAX_NODES, max_edges: int | None = None,
           directed: bool | None = None, x: bool | None = None, edge_attr: bool | None = None,
           node_attrs: bool | None = None, self_loops: bool | None = None,
           duplicates: bool | None = None, isolated: bool | None = None,
           ids: bool = False) -> st.SearchStrategy:
    """One ``torch_geometric.data.Data``. ``directed=False`` gives a graph where every edge is
    stored with its reverse (self-loops once); ``x=False`` a graph without node features (its
    ``num_nodes`` set explicitly); ``isolated=True`` guarantees isolated nodes when n > 1."""
    return _layout(x, edge_attr, directed, node_attrs).flatmap(
        lambda lay: _graph(lay, min_nodes, max_nodes, max_edges, self_loops, duplicates,
                           isolated, ids=ids))


@st.composite
def _batch(draw: Any, min_graphs: int, max_graphs: int, min_nodes: int, max_nodes: int,
           max_edges: int | None, directed: bool | None, x: bool | None,
           edge_attr: bool | None, node_attrs: bool | None, self_loops: bool | None,
           duplicates: bool | None, isolated: bool | None, ids: bool) -> Any:
    layout = draw(_layout(x, edge_attr, directed, node_attrs))
    k = draw(st.integers(min_graphs, max_graphs))
    items = []
    n_off = e_off = 0
    for _ in range(k):
        g = draw(_graph(layout, min_nodes, max_nodes, max_edges, self_loops, duplicates,
                        isolated, node_offset=n_off, edge_offset=e_off, ids=ids,
                        graph_label=True))
        n_off += g.num_nodes
        e_off += g.num_edges
        items.append(g)
    return Batch.from_data_list(items)


def batches(*, min_graphs: int = 1, max_graphs: int = 8, min_nodes: int = 0,
            max_nodes: int = 60, max_edges: int | None = None, directed: bool | None = None,
            x: bool | None = None, edge_attr: bool | None = None,
            node_attrs: bool | None = None, self_loops: bool | None = None,
            duplicates: bool | None = None, isolated: bool | None = None,
            ids: bool = False) -> st.SearchStrategy:
    """A ``Batch`` of 1 to 8 graphs with one shared layout and a graph-level ``graph_y``.
    With ``ids=True``, ``node_id``/``edge_id`` are numbered across the whole Batch."""
    return _batch(min_graphs, max_graphs, min_nodes, max_nodes, max_edges, directed, x,
                  edge_attr, node_attrs, self_loops, duplicates, isolated, ids)


def graphs_or_batches(**kwargs: Any) -> st.SearchStrategy:
    """Either a single graph or a Batch (same keywords as both; ``max_nodes`` per graph)."""
    gkw = {k: v for k, v in kwargs.items() if k not in ("min_graphs", "max_graphs")}
    bkw = dict(kwargs)
    bkw.setdefault("max_nodes", 60)
    return st.one_of(graphs(**gkw), batches(**bkw))


# ---- checks -------------------------------------------------------------------------------


def snapshot(data: Any) -> dict[str, Any]:
    """Deep copies of every attribute and the Batch bookkeeping, for ``assert_unchanged``."""
    import copy

    snap = {key: (value.clone() if isinstance(value, torch.Tensor) else copy.deepcopy(value))
            for key, value in data}
    for private in ("_slice_dict", "_inc_dict"):
        if hasattr(data, private):
            snap[private] = copy.deepcopy(getattr(data, private))
    snap["__keys__"] = sorted(data.keys())
    return snap


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                and a.dtype == b.dtype and a.shape == b.shape
                and (torch.equal(a, b) or (a.is_floating_point() and torch.allclose(
                    a, b, rtol=0.0, atol=0.0, equal_nan=True))))  # NaN equals NaN here
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return a == b


def assert_unchanged(data: Any, snap: dict[str, Any]) -> None:
    """The input still holds exactly what ``snapshot`` saw: same keys, every tensor equal."""
    assert sorted(data.keys()) == snap["__keys__"], "attributes were added or removed"
    for key, value in data:
        assert _equal(value, snap[key]), f"input attribute {key!r} was changed"
    for private in ("_slice_dict", "_inc_dict"):
        if private in snap:
            assert _equal(getattr(data, private), snap[private]), f"input {private} changed"


def assert_same(a: Any, b: Any) -> None:
    """Two outputs are bit-for-bit equal (same keys, same tensors)."""
    assert sorted(a.keys()) == sorted(b.keys())
    for key, value in a:
        assert _equal(value, b[key]), f"attribute {key!r} differs"
    assert a.num_nodes == b.num_nodes


def node_level(data: Any) -> list[str]:
    """Attributes with one row per node (by name, as the strategies build them; ``y`` counts
    unless it has one row per graph, as in PyG's graph classification datasets)."""
    keys = [k for k in ("x", "train_mask", "node_id", "pos") if k in data]
    if "y" in data and isinstance(data.y, torch.Tensor):
        graphs = data.num_graphs if isinstance(data, Batch) else 1
        if data.y.size(0) != graphs or data.y.size(0) == data.num_nodes:
            keys.append("y")
    return keys


def edge_level(data: Any) -> list[str]:
    return [k for k in ("edge_attr", "edge_weight", "edge_id") if k in data]


def assert_valid(data: Any, *, graphs: int | None = None) -> None:
    """No dangling node ids, every node/edge attribute sized right, and on a Batch: ``batch``
    sorted and matching ``ptr``, edges inside their own graph, ``to_data_list()`` works and
    round-trips through ``Batch.from_data_list``."""
    n = data.num_nodes or 0
    ei = data.edge_index
    assert ei.dtype == torch.long and ei.dim() == 2 and ei.size(0) == 2
    if ei.numel():
        assert int(ei.min()) >= 0 and int(ei.max()) < n, "dangling node id in edge_index"
    for key in node_level(data):
        assert data[key].size(0) == n, f"{key} has {data[key].size(0)} rows for {n} nodes"
    for key in edge_level(data):
        assert data[key].size(0) == ei.size(1), f"{key} misaligned with edge_index"
    if isinstance(data, Batch):
        b, ptr = data.batch, data.ptr
        k = data.num_graphs
        if graphs is not None:
            assert k == graphs, "the number of graphs changed"
        assert b.numel() == n and ptr.numel() == k + 1
        assert int(ptr[0]) == 0 and int(ptr[-1]) == n
        counts = torch.bincount(b, minlength=k) if b.numel() else torch.zeros(k, dtype=torch.long)
        assert torch.equal(counts, ptr[1:] - ptr[:-1]), "batch and ptr disagree"
        if b.numel() > 1:
            assert bool((b[1:] >= b[:-1]).all()), "batch is not sorted"
        if ei.numel():
            assert torch.equal(b[ei[0]], b[ei[1]]), "an edge crosses graphs"
        parts = data.to_data_list()
        assert len(parts) == k
        total_edges = 0
        for i, part in enumerate(parts):
            assert part.num_nodes == int(ptr[i + 1] - ptr[i])
            pe = part.edge_index
            if pe.numel():
                assert int(pe.min()) >= 0 and int(pe.max()) < part.num_nodes
            for key in node_level(part):
                assert part[key].size(0) == part.num_nodes
            for key in edge_level(part):
                assert part[key].size(0) == pe.size(1)
            total_edges += pe.size(1)
        assert total_edges == ei.size(1)
        again = Batch.from_data_list(parts)
        assert torch.equal(again.edge_index, ei)
        assert torch.equal(again.batch, b)


def edge_pairs(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return {(int(u), int(v)) for u, v in edge_index.t().tolist()}


def is_undirected(edge_index: torch.Tensor) -> bool:
    """Every stored edge has its reverse (multiplicity ignored)."""
    pairs = edge_pairs(edge_index)
    return all((v, u) in pairs for u, v in pairs)


def assert_aligned(out: Any, original: Any) -> None:
    """Needs ``ids=True`` graphs: every node attribute is the original row of its ``node_id``,
    every edge attribute the original row of its ``edge_id``, and every kept edge joins the
    same two original nodes it joined before."""
    nid, eid = out.node_id, out.edge_id
    o_nid = original.node_id
    # Position of each original node id in the original tensors.
    pos = torch.full((int(o_nid.max()) + 1 if o_nid.numel() else 1,), -1, dtype=torch.long)
    pos[o_nid] = torch.arange(o_nid.numel())
    rows = pos[nid]
    assert bool((rows >= 0).all())
    for key in node_level(out):
        assert torch.equal(out[key], original[key][rows]), f"{key} not aligned with its nodes"
    o_eid = original.edge_id
    epos = torch.full((int(o_eid.max()) + 1 if o_eid.numel() else 1,), -1, dtype=torch.long)
    epos[o_eid] = torch.arange(o_eid.numel())
    erows = epos[eid]
    assert bool((erows >= 0).all())
    for key in edge_level(out):
        assert torch.equal(out[key], original[key][erows]), f"{key} not aligned with its edges"
    if out.edge_index.numel():
        # Endpoints, in original node ids, are those of the original edge.
        got = nid[out.edge_index]
        want = o_nid[original.edge_index[:, erows]]
        assert torch.equal(got, want), "edges do not join the nodes they joined before"
