"""Hypothesis strategies for PyG ``HeteroData`` built like ``FakeHeteroDataset``, and the
checks the HeteroData tests repeat.

- ``hetero_layouts()``: node types (2-4, each with feature width 1-4), edge types (2-6 in
  all): relations ``(src, e<i>, dst)`` between any two node types, some with the reverse
  relation ``(dst, rev_e<i>, src)`` ``T.ToUndirected`` would add (its edges transposed, in a
  shuffled order, its attributes copied), some from a node type to itself with symmetric
  edges; ``edge_attr`` on some edge types.
- ``hetero_graphs(layout=None)``: one HeteroData of that layout: 0-15 nodes per type, some
  edge types empty, duplicate edges and self-loops; every store carries ``node_id`` /
  ``edge_id`` (long, unique across the graph) so a test can check that attributes follow
  their nodes and edges.
- ``hetero_batches()``: a Batch of 1-4 HeteroData sharing one layout.

Checks: ``snapshot``/``assert_unchanged``, ``assert_valid_hetero`` (no dangling ids per
type, every attribute sized right), ``assert_aligned_hetero`` (ids follow their rows),
``assert_same_hetero`` (bit-for-bit), ``pairs_mirrored`` (a relation and its reverse hold
transposed edge multisets).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st
from torch_geometric.data import Batch, HeteroData

MAX_TYPE_NODES = 15


@st.composite
def hetero_layouts(draw: Any, min_node_types: int = 2, max_node_types: int = 4,
                   max_edge_types: int = 6) -> dict[str, Any]:
    k = draw(st.integers(min_node_types, max_node_types))
    nodes = {f"v{i}": draw(st.integers(1, 4)) for i in range(k)}
    names = list(nodes)
    relations: list[dict[str, Any]] = []
    total = draw(st.integers(2, max_edge_types))
    count = 0
    while count < total:
        src = draw(st.sampled_from(names))
        kind = draw(st.sampled_from(["directed", "reverse", "symmetric"]))
        dst = src if kind == "symmetric" else draw(st.sampled_from(names))
        if kind == "reverse" and count + 2 > total:
            kind = "directed"
        relations.append({"src": src, "rel": f"e{len(relations)}", "dst": dst, "kind": kind,
                          "edge_attr": draw(st.sampled_from([0, 0, 1, 3]))})
        count += 2 if kind == "reverse" else 1
    return {"nodes": nodes, "relations": relations,
            "reverse_first": draw(st.booleans())}


def _edges(rng: np.random.Generator, ns: int, nd: int, symmetric: bool) -> np.ndarray:
    if ns == 0 or nd == 0 or rng.random() < 0.2:
        return np.zeros((2, 0), dtype=np.int64)
    e = int(rng.integers(0, 3 * max(ns, nd) + 1))
    ei = np.stack([rng.integers(0, ns, e), rng.integers(0, nd, e)]).astype(np.int64)
    if e and rng.random() < 0.5:  # duplicates
        ei = np.concatenate([ei, ei[:, rng.integers(0, e, max(1, e // 4))]], axis=1)
    if symmetric:
        loop = ei[0] == ei[1]
        ei = np.concatenate([ei, ei[::-1][:, ~loop]], axis=1)
    return ei[:, rng.permutation(ei.shape[1])]


@st.composite
def hetero_graphs(draw: Any, layout: dict[str, Any] | None = None,
                  max_nodes: int = MAX_TYPE_NODES) -> HeteroData:
    if layout is None:
        layout = draw(hetero_layouts())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    data = HeteroData()
    offset = 0
    sizes = {}
    for nt, width in layout["nodes"].items():
        n = draw(st.integers(0, max_nodes))
        sizes[nt] = n
        data[nt].x = torch.from_numpy(rng.standard_normal((n, width)).astype(np.float32))
        data[nt].node_id = torch.arange(offset, offset + n)
        offset += n
    eoff = 0
    stores: list[tuple[tuple[str, str, str], np.ndarray, np.ndarray | None]] = []
    for r in layout["relations"]:
        et = (r["src"], r["rel"], r["dst"])
        ei = _edges(rng, sizes[r["src"]], sizes[r["dst"]], r["kind"] == "symmetric")
        attr = (rng.standard_normal((ei.shape[1], r["edge_attr"])).astype(np.float32)
                if r["edge_attr"] else None)
        fwd = (et, ei, attr)
        if r["kind"] == "reverse":
            perm = rng.permutation(ei.shape[1])
            rev = ((r["dst"], f"rev_{r['rel']}", r["src"]), ei[::-1][:, perm],
                   None if attr is None else attr[perm])
            stores.extend([rev, fwd] if layout["reverse_first"] else [fwd, rev])
        else:
            stores.append(fwd)
    for et, ei, attr in stores:
        store = data[et]
        store.edge_index = torch.from_numpy(np.ascontiguousarray(ei)).long()
        if attr is not None:
            store.edge_attr = torch.from_numpy(np.ascontiguousarray(attr))
        m = ei.shape[1]
        store.edge_id = torch.arange(eoff, eoff + m)
        eoff += m
    return data


@st.composite
def hetero_batches(draw: Any, max_graphs: int = 4) -> Any:
    layout = draw(hetero_layouts())
    k = draw(st.integers(1, max_graphs))
    return Batch.from_data_list([draw(hetero_graphs(layout)) for _ in range(k)])


# ---- checks ---------------------------------------------------------------------------------


def _stores(data: Any) -> list[tuple[Any, Any]]:
    return [*((nt, data[nt]) for nt in data.node_types),
            *((et, data[et]) for et in data.edge_types)]


def snapshot(data: Any) -> dict[Any, dict[str, torch.Tensor]]:
    return {key: {k: v.clone() for k, v in store.items() if isinstance(v, torch.Tensor)}
            for key, store in _stores(data)}


def assert_unchanged(data: Any, snap: dict[Any, dict[str, torch.Tensor]]) -> None:
    now = snapshot(data)
    assert now.keys() == snap.keys()
    for key, tensors in snap.items():
        assert now[key].keys() == tensors.keys(), key
        for k, v in tensors.items():
            assert v.dtype == now[key][k].dtype and torch.equal(v, now[key][k]), (key, k)


def assert_same_hetero(a: Any, b: Any) -> None:
    assert type(a) is type(b)
    assert a.node_types == b.node_types and a.edge_types == b.edge_types
    sa, sb = snapshot(a), snapshot(b)
    assert sa.keys() == sb.keys()
    for key in sa:
        assert sa[key].keys() == sb[key].keys(), key
        for k in sa[key]:
            x, y = sa[key][k], sb[key][k]
            assert x.dtype == y.dtype and x.shape == y.shape, (key, k)
            if x.is_floating_point() and x.numel():  # bit for bit: NaNs, signed zeros
                x, y = x.contiguous().view(torch.uint8), y.contiguous().view(torch.uint8)
            assert torch.equal(x, y), (key, k)


def assert_valid_hetero(data: Any) -> None:
    for nt in data.node_types:
        n = data[nt].num_nodes
        for key, value in data[nt].items():
            if isinstance(value, torch.Tensor) and key not in ("ptr",):
                assert value.size(0) == n, (nt, key)
    for et in data.edge_types:
        store = data[et]
        ei = store.edge_index
        assert ei.dtype == torch.long and ei.dim() == 2 and ei.size(0) == 2
        if ei.numel():
            assert int(ei.min()) >= 0
            assert int(ei[0].max()) < data[et[0]].num_nodes, et
            assert int(ei[1].max()) < data[et[2]].num_nodes, et
        for key, value in store.items():
            if isinstance(value, torch.Tensor) and key != "edge_index":
                assert value.size(0) == ei.size(1), (et, key)


def assert_aligned_hetero(out: Any, original: Any) -> None:
    """Every kept node's attributes are its original row (found by ``node_id``), every kept
    edge joins the original endpoints of edge ``edge_id``, with its original attributes."""
    rows = {}
    for nt in original.node_types:
        src = original[nt]
        index = {int(i): r for r, i in enumerate(src.node_id.tolist())}
        rows[nt] = index
        r = torch.tensor([index[int(i)] for i in out[nt].node_id.tolist()], dtype=torch.long)
        for key, value in src.items():
            if isinstance(value, torch.Tensor) and value.dim() and value.size(0) == len(index):
                assert torch.equal(out[nt][key], value.index_select(0, r)), (nt, key)
    for et in original.edge_types:
        src = original[et]
        index = {int(i): r for r, i in enumerate(src.edge_id.tolist())}
        r = torch.tensor([index[int(i)] for i in out[et].edge_id.tolist()], dtype=torch.long)
        for key, value in src.items():
            if key != "edge_index" and isinstance(value, torch.Tensor):
                assert torch.equal(out[et][key], value.index_select(0, r)), (et, key)
        # Endpoints: map the new ids back through node_id, compare with the old edges.
        old = src.edge_index.index_select(1, r)
        for row, nt in ((0, et[0]), (1, et[2])):
            got = out[nt].node_id.index_select(0, out[et].edge_index[row])
            want = original[nt].node_id.index_select(0, old[row])
            assert torch.equal(got, want), (et, row)


def _pairs(ei: torch.Tensor) -> Counter:
    return Counter(zip(ei[0].tolist(), ei[1].tolist(), strict=True))


def pairs_mirrored(fwd: torch.Tensor, rev: torch.Tensor) -> bool:
    """Whether ``rev`` holds exactly the transposed edges of ``fwd`` (as multisets)."""
    return _pairs(fwd) == _pairs(rev.flip(0))


def reverse_relations(data: Any) -> list[tuple[tuple[str, str, str], tuple[str, str, str]]]:
    """The ``(relation, reverse relation)`` pairs of a graph by ``T.ToUndirected``'s names."""
    types = set(data.edge_types)
    return [(et, (et[2], f"rev_{et[1]}", et[0])) for et in data.edge_types
            if (et[2], f"rev_{et[1]}", et[0]) in types]
