"""HeteroData suite: ``edge_dropout``, ``node_dropout`` and ``feature_masking`` on a graph built
like PyG's ``FakeHeteroDataset`` (3 node types, 6 edge types between random pairs of them, 4
float attributes per edge, 16 features per node) beside what a PyG user writes today, into a
``copy.copy`` of the HeteroData:

- edge_dropout: a loop of ``dropout_edge`` over ``edge_types`` with the ``edge_attr`` gather;
- node_dropout: per node type a random keep mask (``torch.rand(n) > p``, as ``dropout_node``
  draws it), then one ``HeteroData.subgraph`` of those masks, which gathers the node
  attributes and keeps, relabels and gathers every edge type's edges between kept nodes;
- feature_masking: a loop of ``mask_feature`` (``mode='col'``, augkit's ``feature``) over
  ``node_types``.

The structure and view rows, beside the nearest a PyG user has (PyG has no heterogeneous
rewiring or sampling transform):

- edge_rewiring (``random``): per edge type, the destinations of a random ``ratio`` share of
  the edges redrawn with ``torch.randint`` among the destination type's nodes (no check for
  duplicates, which augkit avoids);
- subgraph_sampling (``random_node``): per node type ``randperm(n)[:round(ratio * n)]`` as a
  mask, then one ``HeteroData.subgraph``; ``khop`` beside the same anchor (its search across
  relations has no PyG spelling on HeteroData);
- edge_adding: a loop of ``add_random_edge`` over ``edge_types`` (``num_nodes`` as the
  ``(source, destination)`` pair), new ``edge_attr`` rows zero-filled;
- node_shuffling: a loop of ``shuffle_node`` over ``node_types``;
- feature_dropout: a loop of ``torch.nn.functional.dropout`` over ``node_types``.

Sizes are the total stored edges, 1e5 and 1e6 (quick: 1e4). Both sides of edge_dropout decide
per stored edge (augkit ``undirected=False``, PyG's default); the ``auto`` row adds augkit's
per-type symmetry check (the reverse relation pairing), which PyG has no spelling for. The
floors copy what each transform reads and writes: every edge type's ``edge_index`` and
``edge_attr`` (edge_dropout), those and every node type's ``x`` (node_dropout), every node
type's ``x`` (feature_masking).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable
from typing import Any

import torch

from augkit.benchmarks.case import Anchor, Case

SUITE = "hetero"
P = 0.2
NODE_TYPES = 3
EDGE_TYPES = 6
NODE_FEATURES = 16
EDGE_FEATURES = 4
AVG_DEGREE = 10
RATIO = 0.1  # edge_rewiring's share of moved edges
RATIO_NODES = 0.5  # subgraph_sampling's share of kept nodes per type


def hetero_graph(num_edges: int, device: str, seed: int = 0) -> Any:
    """A FakeHeteroDataset-like HeteroData with about ``num_edges`` edges in all (seeded)."""
    from torch_geometric.data import HeteroData

    g = torch.Generator().manual_seed(seed)
    per_type = num_edges // EDGE_TYPES
    n = max(2, num_edges // (NODE_TYPES * AVG_DEGREE))
    data = HeteroData()
    names = [f"v{i}" for i in range(NODE_TYPES)]
    for name in names:
        data[name].x = torch.randn(n, NODE_FEATURES, generator=g)
    pairs = torch.randint(0, NODE_TYPES, (EDGE_TYPES, 2), generator=g).tolist()
    for i, (s, d) in enumerate(pairs):
        store = data[names[s], f"e{i}", names[d]]
        store.edge_index = torch.randint(0, n, (2, per_type), generator=g)
        store.edge_attr = torch.randn(per_type, EDGE_FEATURES, generator=g)
    return data.to(device)


@functools.lru_cache(maxsize=1)
def _shared(num_edges: int, device: str) -> Any:
    return hetero_graph(num_edges, device)


def _setup(num_edges: int, device: str) -> Any:
    def setup() -> dict[str, Any]:
        data = _shared(num_edges, device)
        bufs = {(t, key): torch.empty_like(value) for t in data.node_types + data.edge_types
                for key, value in data[t].items()}
        return {"data": data, "bufs": bufs, "seed": 0}

    return setup


def _floor_of(*kinds: str) -> Any:
    """A floor that copies every attribute of the ``kinds`` of stores (``"node"``,
    ``"edge"``) into preallocated buffers."""

    def floor(state: dict[str, Any]) -> Any:
        data = state["data"]
        return [buf.copy_(data[t][key]) for (t, key), buf in state["bufs"].items()
                if ("edge" if isinstance(t, tuple) else "node") in kinds]

    return floor


def _augkit(name: str, **params: Any) -> Any:
    import augkit

    t = augkit.make(name, **params)

    def run(state: dict[str, Any]) -> Any:
        state["seed"] += 1
        return t(state["data"], generator=state["seed"])

    return run


def _pyg_loop(state: dict[str, Any]) -> Any:
    from torch_geometric.utils import dropout_edge

    data = state["data"]
    out = copy.copy(data)
    for et in data.edge_types:
        store = data[et]
        ei, mask = dropout_edge(store.edge_index, p=P)
        out[et].edge_index = ei
        out[et].edge_attr = store.edge_attr[mask]
    return out


def _pyg_subgraph(state: dict[str, Any]) -> Any:
    data = state["data"]
    keep = {nt: torch.rand(data[nt].num_nodes, device=data[nt].x.device) > P
            for nt in data.node_types}
    return data.subgraph(keep)


def _pyg_mask_loop(state: dict[str, Any]) -> Any:
    from torch_geometric.utils import mask_feature

    data = state["data"]
    out = copy.copy(data)
    for nt in data.node_types:
        out[nt].x, _ = mask_feature(data[nt].x, p=P, mode="col")
    return out


def _pyg_rewire_loop(state: dict[str, Any]) -> Any:
    data = state["data"]
    out = copy.copy(data)
    for et in data.edge_types:
        ei = data[et].edge_index
        e = ei.size(1)
        moved = torch.randperm(e, device=ei.device)[:round(RATIO * e)]
        new = ei.clone()
        new[1, moved] = torch.randint(0, data[et[2]].num_nodes, (moved.numel(),),
                                      device=ei.device)
        out[et].edge_index = new
    return out


def _pyg_random_nodes(state: dict[str, Any]) -> Any:
    data = state["data"]
    keep = {}
    for nt in data.node_types:
        n = data[nt].num_nodes
        mask = torch.zeros(n, dtype=torch.bool, device=data[nt].x.device)
        mask[torch.randperm(n, device=mask.device)[:max(1, round(RATIO_NODES * n))]] = True
        keep[nt] = mask
    return data.subgraph(keep)


def _pyg_add_loop(state: dict[str, Any]) -> Any:
    from torch_geometric.utils import add_random_edge

    data = state["data"]
    out = copy.copy(data)
    for et in data.edge_types:
        store = data[et]
        ei, added = add_random_edge(store.edge_index, p=P, force_undirected=False,
                                    num_nodes=(data[et[0]].num_nodes, data[et[2]].num_nodes))
        out[et].edge_index = ei
        out[et].edge_attr = torch.cat(
            [store.edge_attr, store.edge_attr.new_zeros(added.size(1), EDGE_FEATURES)])
    return out


def _pyg_shuffle_loop(state: dict[str, Any]) -> Any:
    from torch_geometric.utils import shuffle_node

    data = state["data"]
    out = copy.copy(data)
    for nt in data.node_types:
        out[nt].x, _ = shuffle_node(data[nt].x)
    return out


def _pyg_dropout_loop(state: dict[str, Any]) -> Any:
    data = state["data"]
    out = copy.copy(data)
    for nt in data.node_types:
        out[nt].x = torch.nn.functional.dropout(data[nt].x, p=P)
    return out


def sizes(quick: bool) -> list[int]:
    return [10_000] if quick else [100_000, 1_000_000]


def cases(quick: bool, device: str) -> Iterable[Case]:
    req = ("torch_geometric",)
    for size in sizes(quick):
        common = {"suite": SUITE, "size": size, "size_unit": "edges",
                  "setup": _setup(size, device), "device": device, "requires": req}
        edges = {"items": size, "unit": "edges/s", "transforms": ("edge_dropout",),
                 "floor": _floor_of("edge"),
                 "floor_label": "copy every edge type's edge_index and edge_attr"}
        anchor = "PyG dropout_edge loop over edge_types + edge_attr gather"
        yield Case(name="edge_dropout/hetero_directed",
                   run=_augkit("edge_dropout", p=P, undirected=False),
                   anchors=[Anchor(anchor, _pyg_loop, req, goal_ratio=1.0)],
                   goal=">= 1x the PyG loop", **edges, **common)
        yield Case(name="edge_dropout/hetero_auto", run=_augkit("edge_dropout", p=P),
                   anchors=[Anchor(anchor, _pyg_loop, req)],
                   note="augkit checks each relation and reverse pair for symmetry",
                   **edges, **common)
        yield Case(name="node_dropout/hetero", transforms=("node_dropout",), items=size,
                   unit="edges/s", run=_augkit("node_dropout", p=P),
                   anchors=[Anchor("PyG keep mask per node_type + HeteroData.subgraph",
                                   _pyg_subgraph, req)],
                   floor=_floor_of("node", "edge"),
                   floor_label="copy every node type's x and every edge type's edge_index "
                               "and edge_attr", **common)
        nodes = NODE_TYPES * max(2, size // (NODE_TYPES * AVG_DEGREE))
        yield Case(name="feature_masking/hetero", transforms=("feature_masking",),
                   items=nodes * NODE_FEATURES, unit="features/s",
                   run=_augkit("feature_masking", p=P, mode="feature"),
                   anchors=[Anchor("PyG mask_feature(mode='col') loop over node_types",
                                   _pyg_mask_loop, req)],
                   floor=_floor_of("node"), floor_label="copy every node type's x",
                   note=f"{NODE_FEATURES} features per node", **common)
        yield Case(name="edge_rewiring/hetero", transforms=("edge_rewiring",), items=size,
                   unit="edges/s", run=_augkit("edge_rewiring", method="random", ratio=RATIO),
                   anchors=[Anchor("randint new destinations of a ratio share per edge_type",
                                   _pyg_rewire_loop, req)],
                   floor=_floor_of("edge"),
                   floor_label="copy every edge type's edge_index and edge_attr",
                   note="augkit moves edges to free pairs only (no duplicates)", **common)
        for method in ("random_node", "khop"):
            yield Case(name=f"subgraph_sampling/hetero_{method}",
                       transforms=("subgraph_sampling",), items=size, unit="edges/s",
                       run=_augkit("subgraph_sampling", method=method, ratio=RATIO_NODES),
                       anchors=[Anchor("randperm share per node_type + HeteroData.subgraph",
                                       _pyg_random_nodes, req)],
                       floor=_floor_of("node", "edge"),
                       floor_label="copy every node type's x and every edge type's "
                                   "edge_index and edge_attr", **common)
        yield Case(name="edge_adding/hetero", transforms=("edge_adding",), items=size,
                   unit="edges/s", run=_augkit("edge_adding", p=P),
                   anchors=[Anchor("PyG add_random_edge loop over edge_types + zero "
                                   "edge_attr rows", _pyg_add_loop, req)],
                   floor=_floor_of("edge"),
                   floor_label="copy every edge type's edge_index and edge_attr",
                   note="augkit adds no duplicate of an existing edge", **common)
        yield Case(name="node_shuffling/hetero", transforms=("node_shuffling",),
                   items=nodes, unit="nodes/s", run=_augkit("node_shuffling"),
                   anchors=[Anchor("PyG shuffle_node loop over node_types",
                                   _pyg_shuffle_loop, req)],
                   floor=_floor_of("node"), floor_label="copy every node type's x", **common)
        yield Case(name="feature_dropout/hetero", transforms=("feature_dropout",),
                   items=nodes * NODE_FEATURES, unit="features/s",
                   run=_augkit("feature_dropout", p=P),
                   anchors=[Anchor("torch dropout loop over node_types", _pyg_dropout_loop,
                                   req)],
                   floor=_floor_of("node"), floor_label="copy every node type's x", **common)
