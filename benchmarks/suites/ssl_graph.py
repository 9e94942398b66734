"""Self-supervised graph views: edge_adding, node_shuffling and feature_dropout beside what a
PyG user calls for the same view, on the graph suite's BA-like graphs of 1e4 to 1e6 stored
edges (quick: 1e4 only), 16 node features and 4 edge attributes.

- ``edge_adding/*``: ``p = 0.1`` new edges against PyG's ``add_random_edge`` (which avoids
  existing edges by ``negative_sampling``) plus the zero ``edge_attr`` rows of the new edges,
  so both return the same attributes. augkit also rules out duplicates among the new edges.
- ``node_shuffling/graph``: one graph, against ``shuffle_node(x)``;
  ``node_shuffling/batch``: a Batch of 128 small graphs, against ``shuffle_node(x, batch)``
  (a permutation per graph, as augkit's).
- ``feature_dropout``: against ``torch.nn.functional.dropout(x, p)`` (the same rate and
  rescaling).
- ``graph_diffusion/ppr``: exact PPR with top 64 per column against PyG's ``GDC(exact=True)``,
  at 1e4 edges only (both solve a dense ``[n, n]`` system); ``graph_diffusion/ppr_push``:
  the push-based approximate PPR (threshold 1e-3) against ``GDC(exact=False)``, at every
  size (the same push: PyG's ``get_ppr``, augkit's kernel of it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from augkit.benchmarks.case import Anchor, Case
from augkit.benchmarks.suites.graph import _shared_graph, augkit_run, floor_of

SUITE = "ssl_graph"
P_ADD = 0.1
P_DROP = 0.2
BATCH_GRAPHS = 128


def sizes(quick: bool) -> list[int]:
    return [10_000] if quick else [10_000, 100_000, 1_000_000]


def _setup(num_edges: int, device: str) -> Any:
    def setup() -> dict[str, Any]:
        data = _shared_graph(num_edges, device)
        bufs = {key: torch.empty_like(value) for key, value in data.items()}
        return {"data": data, "bufs": bufs, "seed": 0}

    return setup


def _batch_setup(num_edges: int, device: str) -> Any:
    """A Batch of 128 graphs cut from the BA-like graph's node ranges (about the same edges)."""

    def setup() -> dict[str, Any]:
        from torch_geometric.data import Batch

        data = _shared_graph(num_edges, device)
        n = data.num_nodes
        step = max(1, n // BATCH_GRAPHS)
        parts = [data.subgraph(torch.arange(i, min(i + step, n), device=data.x.device))
                 for i in range(0, step * BATCH_GRAPHS, step) if i < n]
        batch = Batch.from_data_list(parts)
        return {"data": batch, "bufs": {"x": torch.empty_like(batch.x)}, "seed": 0}

    return setup


def _pyg_add(force_undirected: bool) -> Any:
    def run(state: dict[str, Any]) -> Any:
        from torch_geometric.utils import add_random_edge

        data = state["data"]
        ei, added = add_random_edge(data.edge_index, p=P_ADD, force_undirected=force_undirected,
                                    num_nodes=data.num_nodes)
        rows = data.edge_attr.new_zeros(added.size(1), data.edge_attr.size(1))
        return ei, torch.cat([data.edge_attr, rows])

    return run


def _pyg_shuffle(per_graph: bool) -> Any:
    def run(state: dict[str, Any]) -> Any:
        from torch_geometric.utils import shuffle_node

        data = state["data"]
        return shuffle_node(data.x, data.batch if per_graph else None)

    return run


def _torch_dropout(state: dict[str, Any]) -> Any:
    return torch.nn.functional.dropout(state["data"].x, p=P_DROP)


def _pyg_gdc(state: dict[str, Any]) -> Any:
    import torch_geometric.transforms as T

    gdc = T.GDC(exact=True, diffusion_kwargs={"method": "ppr", "alpha": 0.15},
                sparsification_kwargs={"method": "topk", "k": 64, "dim": 0})
    return gdc(state["plain"].clone())


def _pyg_gdc_push(state: dict[str, Any]) -> Any:
    import torch_geometric.transforms as T

    gdc = T.GDC(exact=False, diffusion_kwargs={"method": "ppr", "alpha": 0.15, "eps": 1e-4},
                sparsification_kwargs={"method": "threshold", "eps": 1e-3})
    return gdc(state["plain"].clone())


def _diffusion_setup(num_edges: int, device: str) -> Any:
    def setup() -> dict[str, Any]:
        from torch_geometric.data import Data

        data = _shared_graph(num_edges, device)
        plain = Data(x=data.x, edge_index=data.edge_index)  # GDC reads edge_attr as weights
        return {"data": plain, "plain": plain, "bufs": {"x": torch.empty_like(data.x)},
                "seed": 0}

    return setup


def cases(quick: bool, device: str) -> Iterable[Case]:
    req = ("torch_geometric",)
    yield Case(suite=SUITE, name="graph_diffusion/ppr", transforms=("graph_diffusion",),
               size=10_000, size_unit="edges", items=10_000, unit="edges/s",
               setup=_diffusion_setup(10_000, device), device=device, requires=req,
               run=augkit_run("graph_diffusion", method="ppr", alpha=0.15, top_k=64),
               anchors=[Anchor("PyG GDC(exact=True, ppr, topk 64)", _pyg_gdc, req,
                               goal_ratio=1.0)],
               floor=floor_of("x"), floor_label="copy x", goal=">= 1x PyG")
    for size in sizes(quick):
        yield Case(suite=SUITE, name="graph_diffusion/ppr_push", transforms=("graph_diffusion",),
                   size=size, size_unit="edges", items=size, unit="edges/s",
                   setup=_diffusion_setup(size, device), device=device, requires=req,
                   run=augkit_run("graph_diffusion", solver="push", alpha=0.15, push_eps=1e-4,
                                  top_k=None, eps=1e-3),
                   anchors=[Anchor("PyG GDC(exact=False, ppr, threshold)", _pyg_gdc_push, req,
                                   goal_ratio=1.0)],
                   floor=floor_of("x"), floor_label="copy x", goal=">= 1x PyG")
    for size in sizes(quick):
        common = {"suite": SUITE, "size": size, "size_unit": "edges", "device": device,
                  "requires": req}
        one = {"setup": _setup(size, device), **common}
        for und in (True, False):
            kind = "undirected" if und else "directed"
            yield Case(name=f"edge_adding/{kind}", transforms=("edge_adding",), items=size,
                       unit="edges/s", run=augkit_run("edge_adding", p=P_ADD, undirected=und),
                       anchors=[Anchor(f"PyG add_random_edge(force_undirected={und}) + "
                                       "edge_attr rows", _pyg_add(und), req, goal_ratio=1.0,
                                       note="joins graphs of a Batch")],
                       floor=floor_of("edge_index", "edge_attr"),
                       floor_label="copy edge_index and edge_attr", goal=">= 1x PyG", **one)
        yield Case(name="node_shuffling/graph", transforms=("node_shuffling",), items=size,
                   unit="edges/s", run=augkit_run("node_shuffling"),
                   anchors=[Anchor("PyG shuffle_node(x)", _pyg_shuffle(False), req,
                                   goal_ratio=1.0)],
                   floor=floor_of("x"), floor_label="copy x", goal=">= 1x PyG", **one)
        yield Case(name="node_shuffling/batch", transforms=("node_shuffling",), items=size,
                   unit="edges/s", run=augkit_run("node_shuffling"), setup=_batch_setup(
                       size, device),
                   anchors=[Anchor("PyG shuffle_node(x, batch)", _pyg_shuffle(True), req,
                                   goal_ratio=1.0)],
                   floor=floor_of("x"), floor_label="copy x", goal=">= 1x PyG",
                   note=f"{BATCH_GRAPHS} graphs", **common)
        yield Case(name="feature_dropout", transforms=("feature_dropout",), items=size,
                   unit="edges/s", run=augkit_run("feature_dropout", p=P_DROP),
                   anchors=[Anchor("torch.nn.functional.dropout(x)", _torch_dropout,
                                   goal_ratio=1.0)],
                   floor=floor_of("x"), floor_label="copy x", goal=">= 1x torch", **one)
