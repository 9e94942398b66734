"""Graph suite (dropout and masking rows): edge_dropout, node_dropout and feature_masking beside
PyG's ``dropout_edge`` / ``dropout_node`` + ``Data.subgraph`` / ``mask_feature`` doing the same
work, on Barabasi-Albert-like graphs of 1e4 to 1e7 edges (quick: 1e4 only).

The graphs are generated with torch in one vectorized draw (networkx is far too slow at 1e7
edges): node i links to m = 5 earlier nodes ``floor(i * u**2)``, which picks old node j with
probability about proportional to 1 / sqrt(j), the degree profile of preferential attachment;
every edge is stored in both directions, the second half reversed, as PyG stores undirected
graphs. Nodes carry 16 float features and a label, edges 4 float attributes.

The floor is a copy of ``edge_index`` into a preallocated tensor. The directed rows run
augkit with ``undirected=False`` (PyG's default also decides per stored edge); the undirected
rows with ``undirected=True`` against ``force_undirected=True`` (which on this storage is
correct; on a graph stored as row > col it drops every edge, see the tests).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from augkit.benchmarks.case import Anchor, Case, cpu_goal

SUITE = "graph"
M = 5  # edges per new node
P = 0.2
NODE_FEATURES = 16
EDGE_FEATURES = 4


def ba_like(num_edges: int, seed: int = 0) -> torch.Tensor:
    """An undirected BA-like edge_index with about ``num_edges`` stored edges."""
    g = torch.Generator().manual_seed(seed)
    n = max(M + 1, num_edges // (2 * M))
    src = torch.arange(1, n).repeat_interleave(M)
    u = torch.rand(src.numel(), generator=g, dtype=torch.float64)
    dst = (src.double() * u * u).long()
    return torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1)


def graph_data(ei: torch.Tensor, device: str) -> Any:
    """A PyG Data over ``ei`` with node features, labels and edge attributes (seeded)."""
    from torch_geometric.data import Data

    n = int(ei.max()) + 1
    g = torch.Generator().manual_seed(1)
    return Data(
        x=torch.randn(n, NODE_FEATURES, generator=g),
        y=torch.randint(0, 5, (n,), generator=g),
        edge_index=ei,
        edge_attr=torch.randn(ei.size(1), EDGE_FEATURES, generator=g),
    ).to(device)


def _setup(num_edges: int, device: str) -> Any:
    def setup() -> dict[str, Any]:
        data = graph_data(ba_like(num_edges), device)
        return {"data": data, "buf": torch.empty_like(data.edge_index), "seed": 0}

    return setup


def floor_copy(state: dict[str, Any]) -> Any:
    return state["buf"].copy_(state["data"].edge_index)


def augkit_run(name: str, **params: Any) -> Any:
    import augkit

    t = augkit.make(name, **params)

    def run(state: dict[str, Any]) -> Any:
        state["seed"] += 1
        return t(state["data"], generator=state["seed"])

    return run


def _pyg_dropout_edge(force_undirected: bool) -> Any:
    def run(state: dict[str, Any]) -> Any:
        from torch_geometric.utils import dropout_edge

        data = state["data"]
        ei, mask = dropout_edge(data.edge_index, p=P, force_undirected=force_undirected)
        return ei, data.edge_attr[mask]

    return run


def _pyg_dropout_node(state: dict[str, Any]) -> Any:
    from torch_geometric.utils import dropout_node

    data = state["data"]
    _, _, node_mask = dropout_node(data.edge_index, p=P, num_nodes=data.num_nodes,
                                   relabel_nodes=True)
    return data.subgraph(node_mask)


def _pyg_mask(mode: str) -> Any:
    def run(state: dict[str, Any]) -> Any:
        from torch_geometric.utils import mask_feature

        return mask_feature(state["data"].x, p=P, mode=mode)

    return run


def sizes(quick: bool) -> list[int]:
    return [10_000] if quick else [10_000, 100_000, 1_000_000, 10_000_000]


def cases(quick: bool, device: str) -> Iterable[Case]:
    req = ("torch_geometric",)
    for size in sizes(quick):
        common = {"suite": SUITE, "size": size, "size_unit": "edges", "setup": _setup(size, device),
                  "floor": floor_copy, "device": device, "requires": req}
        yield Case(name="edge_dropout/directed", transforms=("edge_dropout",), items=size,
                   unit="edges/s", run=augkit_run("edge_dropout", p=P, undirected=False),
                   anchors=[Anchor("PyG dropout_edge + edge_attr filter",
                                   _pyg_dropout_edge(False), req,
                                   goal_ratio=cpu_goal(3.0, device))],
                   goal=">= 3x PyG", **common)
        yield Case(name="edge_dropout/undirected", transforms=("edge_dropout",), items=size,
                   unit="edges/s", run=augkit_run("edge_dropout", p=P, undirected=True),
                   anchors=[Anchor("PyG dropout_edge(force_undirected) + edge_attr",
                                   _pyg_dropout_edge(True), req, goal_ratio=cpu_goal(3.0, device),
                                   note="drops every pair stored only as row > col; doubles "
                                        "self-loops")],
                   goal=">= 3x PyG, and correct where PyG is not", **common)
        yield Case(name="edge_dropout/auto", transforms=("edge_dropout",), items=size,
                   unit="edges/s", run=augkit_run("edge_dropout", p=P),
                   anchors=[Anchor("PyG dropout_edge(force_undirected) + edge_attr",
                                   _pyg_dropout_edge(True), req)],
                   note="augkit detects the direction (one extra pass)", **common)
        yield Case(name="node_dropout/compact", transforms=("node_dropout",), items=size,
                   unit="edges/s", run=augkit_run("node_dropout", p=P),
                   anchors=[Anchor("PyG dropout_node(relabel_nodes) + Data.subgraph",
                                   _pyg_dropout_node, req, goal_ratio=cpu_goal(2.0, device),
                                   note="a Batch can lose whole graphs")],
                   goal=">= 2x PyG", **common)
        for mode, pyg_mode in (("feature", "col"), ("node", "row"), ("element", "all")):
            n = max(M + 1, size // (2 * M))
            yield Case(name=f"feature_masking/{mode}", transforms=("feature_masking",),
                       items=n * NODE_FEATURES, unit="features/s",
                       run=augkit_run("feature_masking", p=P, mode=mode),
                       anchors=[Anchor(f"PyG mask_feature(mode='{pyg_mode}')",
                                       _pyg_mask(pyg_mode), req,
                                       goal_ratio=cpu_goal(3.0, device))],
                       goal=">= 3x PyG", **common)
