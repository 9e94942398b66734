"""networkx <-> PyG ``Data`` with node, edge and graph attributes.

``from_networkx`` stores an undirected graph with both directions of every edge (a self-loop
once), the PyG convention the graph transforms detect; numeric node and edge attributes
present on every node / edge become tensors (scalars -> ``[N]``, equal-length sequences ->
``[N, D]``; text attributes such as karate's ``club`` are left out); graph attributes are
copied as they are. ``to_networkx`` inverts it: a symmetric
edge list becomes an ``nx.Graph`` (each pair once), anything else an ``nx.DiGraph``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import torch

from augkit.errors import InputError


def _column(values: list[Any]) -> torch.Tensor | None:
    """A tensor from one attribute's values, or None when they are not numeric."""
    try:
        arr = np.asarray(values)
    except ValueError:  # ragged sequences
        return None
    if arr.dtype == np.bool_:
        return torch.from_numpy(arr.copy())
    if np.issubdtype(arr.dtype, np.integer):
        return torch.from_numpy(arr.astype(np.int64))
    if np.issubdtype(arr.dtype, np.floating):
        return torch.from_numpy(arr.astype(np.float32))
    return None


def _attrs(items: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Numeric attributes that every item has, as tensors (first dim = item)."""
    if not items:
        return {}
    common = set(items[0])
    for attrs in items[1:]:
        common &= set(attrs)
    out = {}
    for key in sorted(common):
        col = _column([attrs[key] for attrs in items])
        if col is not None:
            out[key] = col
    return out


def from_networkx(graph: Any, *, return_nodes: bool = False) -> Any:
    """A ``torch_geometric.data.Data`` from a networkx graph.

    Nodes are numbered in ``graph.nodes`` order; with ``return_nodes=True`` the result is
    ``(data, nodes)`` so names can be restored with ``to_networkx(data, nodes=nodes)``. An
    undirected graph stores each edge in both directions (attributes copied to both).

    Example:
        >>> import networkx as nx
        >>> g = nx.path_graph(3)
        >>> nx.set_edge_attributes(g, {(0, 1): 1.5, (1, 2): 2.5}, "weight")
        >>> data = from_networkx(g)
        >>> data.edge_index.tolist(), data.weight.tolist()
        ([[0, 1, 1, 2], [1, 2, 0, 1]], [1.5, 2.5, 1.5, 2.5])
    """
    import networkx as nx
    from torch_geometric.data import Data

    if not isinstance(graph, nx.Graph):
        raise InputError(f"from_networkx: got {type(graph).__name__}; allowed: a networkx graph")
    nodes = list(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    edges = [(index[u], index[v], attrs) for u, v, attrs in graph.edges(data=True)]
    if not graph.is_directed():
        edges = edges + [(v, u, attrs) for u, v, attrs in edges if u != v]
    ei = torch.tensor([[u for u, _, _ in edges], [v for _, v, _ in edges]], dtype=torch.long)
    data = Data(edge_index=ei.view(2, -1), num_nodes=len(nodes))
    for key, value in _attrs([graph.nodes[n] for n in nodes]).items():
        data[key] = value
    for key, value in _attrs([attrs for _, _, attrs in edges]).items():
        data["edge_attr" if key == "edge_attr" else key] = value
    for key, value in graph.graph.items():
        data[key] = value
    return (data, nodes) if return_nodes else data


def _py(value: torch.Tensor) -> Any:
    return value.tolist()


def to_networkx(
    data: Any,
    *,
    nodes: Sequence[Hashable] | None = None,
    undirected: bool | str = "auto",
) -> Any:
    """A networkx graph from a ``Data`` with its node-, edge- and graph-level attributes.

    ``undirected="auto"`` gives an ``nx.Graph`` when the edge list is symmetric (each pair's
    attributes from its first stored direction), else an ``nx.DiGraph``; ``nodes`` renames the
    nodes (e.g. the list ``from_networkx(..., return_nodes=True)`` returned).

    Example:
        >>> import networkx as nx
        >>> g = nx.karate_club_graph()
        >>> h = to_networkx(from_networkx(g))
        >>> sorted(h.edges) == sorted(g.edges), h.edges[0, 1]["weight"]
        (True, 4)
    """
    import networkx as nx

    from augkit.plugins.graph import _pyg
    from augkit.plugins.graph._subset import check_graph
    from augkit.plugins.graph.functional import is_symmetric

    check_graph(data, "to_networkx")
    n = _pyg.num_nodes(data)
    ei = _pyg.edge_index_of(data).cpu()
    if undirected == "auto":
        undirected = is_symmetric(ei)
    graph = nx.Graph() if undirected else nx.DiGraph()
    names = list(nodes) if nodes is not None else list(range(n))
    if len(names) != n:
        raise InputError(f"to_networkx: {len(names)} node names for {n} nodes")
    nkeys = _pyg.node_keys(data)
    ekeys = _pyg.edge_keys(data)
    node_cols = {k: data[k].cpu() for k in nkeys}
    graph.add_nodes_from(
        (names[i], {k: _py(col[i]) for k, col in node_cols.items()}) for i in range(n))
    edge_cols = {k: data[k].cpu() for k in ekeys}
    for j, (u, v) in enumerate(ei.t().tolist()):
        if undirected and graph.has_edge(names[u], names[v]):
            continue
        graph.add_edge(names[u], names[v], **{k: _py(col[j]) for k, col in edge_cols.items()})
    skip = {"edge_index", "num_nodes", *nkeys, *ekeys}
    for key, value in _pyg.attributes(data):
        if key not in skip:
            graph.graph[key] = value
    return graph
