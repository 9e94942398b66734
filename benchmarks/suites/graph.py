"""Graph suite (dropout and masking rows): edge_dropout, node_dropout and feature_masking beside
PyG's ``dropout_edge`` / ``dropout_node`` + ``Data.subgraph`` / ``mask_feature`` doing the same
work, on Barabasi-Albert-like graphs of 1e4 to 1e7 edges (quick: 1e4 only).

The graphs are generated with torch in one vectorized draw (networkx is far too slow at 1e7
edges): node i links to m = 5 earlier nodes ``floor(i * u**2)``, which picks old node j with
probability about proportional to 1 / sqrt(j), the degree profile of preferential attachment;
every edge is stored in both directions, the second half reversed, as PyG stores undirected
graphs. Nodes carry 16 float features (64 on CUDA, the size of feature masking's CUDA goal) and a
label, edges 4 float attributes. On CUDA the goals are set at 1e7 edges (1e6 nodes).

The floor copies the tensors a transform reads and writes (edge_index and edge_attr for edge
dropout, every attribute for node dropout, x for feature masking) into preallocated tensors:
the same bytes at copy speed. The directed rows run
augkit with ``undirected=False`` (PyG's default also decides per stored edge); the undirected
rows with ``undirected=True`` against ``force_undirected=True`` (which on this storage is
correct; on a graph stored as row > col it drops every edge, see the tests).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import torch

from augkit.benchmarks.case import Anchor, Case, device_goal

SUITE = "graph"
M = 5  # edges per new node
P = 0.2
NODE_FEATURES = 16
CUDA_NODE_FEATURES = 64  # feature masking's CUDA goal is set on 1e6 nodes x 64 features
EDGE_FEATURES = 4
CUDA_GOAL_EDGES = 10_000_000  # the size the CUDA goals are set at


def ba_like(num_edges: int, seed: int = 0) -> torch.Tensor:
    """An undirected BA-like edge_index with about ``num_edges`` stored edges."""
    g = torch.Generator().manual_seed(seed)
    n = max(M + 1, num_edges // (2 * M))
    src = torch.arange(1, n).repeat_interleave(M)
    u = torch.rand(src.numel(), generator=g, dtype=torch.float64)
    dst = (src.double() * u * u).long()
    return torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1)


def node_features(device: str) -> int:
    return CUDA_NODE_FEATURES if device.startswith("cuda") else NODE_FEATURES


def graph_data(ei: torch.Tensor, device: str) -> Any:
    """A PyG Data over ``ei`` with node features, labels and edge attributes (seeded)."""
    from torch_geometric.data import Data

    n = int(ei.max()) + 1
    g = torch.Generator().manual_seed(1)
    return Data(
        x=torch.randn(n, node_features(device), generator=g),
        y=torch.randint(0, 5, (n,), generator=g),
        edge_index=ei,
        edge_attr=torch.randn(ei.size(1), EDGE_FEATURES, generator=g),
    ).to(device)


@functools.lru_cache(maxsize=1)
def _shared_graph(num_edges: int, device: str) -> Any:
    # The cases of one size read the same graph (no transform changes its input): build it
    # once, not once per case.
    return graph_data(ba_like(num_edges), device)


def _setup(num_edges: int, device: str) -> Any:
    def setup() -> dict[str, Any]:
        data = _shared_graph(num_edges, device)
        bufs = {key: torch.empty_like(value) for key, value in data.items()}
        return {"data": data, "buf": bufs["edge_index"], "bufs": bufs, "seed": 0}

    return setup


def floor_copy(state: dict[str, Any]) -> Any:
    """Copy ``edge_index`` into a preallocated buffer (the structure rows' floor)."""
    return state["buf"].copy_(state["data"].edge_index)


def floor_of(*keys: str) -> Any:
    """A floor that copies the attributes a transform reads and writes, ``keys``, into
    preallocated buffers: the same bytes, moved at copy speed."""

    def floor(state: dict[str, Any]) -> Any:
        data, bufs = state["data"], state["bufs"]
        return [bufs[key].copy_(data[key]) for key in keys]

    return floor


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
                  "device": device, "requires": req}
        edges = {"floor": floor_of("edge_index", "edge_attr"),
                 "floor_label": "copy edge_index and edge_attr"}
        everything = {"floor": floor_of("x", "y", "edge_index", "edge_attr"),
                      "floor_label": "copy x, y, edge_index and edge_attr"}
        features = {"floor": floor_of("x"), "floor_label": "copy x"}
        at_goal_size = size >= CUDA_GOAL_EDGES

        def goal(cpu: float, cuda: float, at_goal_size: bool = at_goal_size) -> float | None:
            return device_goal(device, cpu=cpu, cuda=cuda if at_goal_size else None)

        cuda = device.startswith("cuda")
        dropout_goal = (">= 3x PyG, within 3x of the floor at 1e7 edges" if cuda
                        else ">= 3x PyG")
        yield Case(name="edge_dropout/directed", transforms=("edge_dropout",), items=size,
                   unit="edges/s", run=augkit_run("edge_dropout", p=P, undirected=False),
                   anchors=[Anchor("PyG dropout_edge + edge_attr filter",
                                   _pyg_dropout_edge(False), req, goal_ratio=goal(3.0, 3.0))],
                   goal=dropout_goal, **edges, **common)
        yield Case(name="edge_dropout/undirected", transforms=("edge_dropout",), items=size,
                   unit="edges/s", run=augkit_run("edge_dropout", p=P, undirected=True),
                   anchors=[Anchor("PyG dropout_edge(force_undirected) + edge_attr",
                                   _pyg_dropout_edge(True), req, goal_ratio=goal(3.0, 3.0),
                                   note="drops every pair stored only as row > col; doubles "
                                        "self-loops")],
                   goal=f"{dropout_goal}, and correct where PyG is not", **edges, **common)
        yield Case(name="edge_dropout/auto", transforms=("edge_dropout",), items=size,
                   unit="edges/s", run=augkit_run("edge_dropout", p=P),
                   anchors=[Anchor("PyG dropout_edge(force_undirected) + edge_attr",
                                   _pyg_dropout_edge(True), req)],
                   note="augkit detects the direction (one extra pass)", **edges, **common)
        yield Case(name="node_dropout/compact", transforms=("node_dropout",), items=size,
                   unit="edges/s", run=augkit_run("node_dropout", p=P),
                   anchors=[Anchor("PyG dropout_node(relabel_nodes) + Data.subgraph",
                                   _pyg_dropout_node, req, goal_ratio=goal(2.0, 3.0),
                                   note="a Batch can lose whole graphs")],
                   goal=dropout_goal if cuda else ">= 2x PyG", **everything, **common)
        width = node_features(device)
        for mode, pyg_mode in (("feature", "col"), ("node", "row"), ("element", "all")):
            n = max(M + 1, size // (2 * M))
            yield Case(name=f"feature_masking/{mode}", transforms=("feature_masking",),
                       items=n * width, unit="features/s",
                       run=augkit_run("feature_masking", p=P, mode=mode),
                       anchors=[Anchor(f"PyG mask_feature(mode='{pyg_mode}')",
                                       _pyg_mask(pyg_mode), req, goal_ratio=goal(3.0, 2.0))],
                       goal=(">= 2x PyG, within 2x of the floor at 1e6 x 64" if cuda
                             else ">= 3x PyG"),
                       note=f"{width} features per node", **features, **common)
