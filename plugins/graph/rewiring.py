"""``edge_rewiring``: move a share of the edges (random) or swap edge ends keeping every degree
(degree_preserving), on a Data or on every graph of a Batch at once.

Differences from what users know: PyGCL's ``EdgeAdding`` and DGL's ``AddEdge`` may create
self-loops, duplicates and edges across the graphs of a batch; GraphCL's ``edge_pert`` builds a
dense N x N matrix and drops ``edge_attr``; networkx's ``double_edge_swap`` is pure Python and
loses edge attributes. Here no move creates a self-loop, a duplicate pair or an edge between
two graphs, undirected graphs stay undirected, and edge attributes follow a stated rule.
"""

from __future__ import annotations

from typing import Any

import torch

from augkit.params import Choice, Number, Param
from augkit.plugins.graph import _pyg, _sampled, hetero
from augkit.plugins.graph import functional as F
from augkit.plugins.graph._base import GraphTransform


class EdgeRewiring(GraphTransform):
    """Rewire a share ``ratio`` of the edges of every graph.

    - ``method="random"``: every edge (an undirected graph: every unordered pair, both stored
      directions together) is picked with probability ``ratio`` and moved to a pair of its own
      graph drawn uniformly among those that are neither a self-loop nor an edge of the input
      (nor taken by another moved edge). The edge count never changes; a moved edge keeps its
      position in ``edge_index`` and so its ``edge_attr``/``edge_weight``/other edge
      attributes. A graph with fewer free pairs than picked edges moves as many as fit.
    - ``method="degree_preserving"``: about ``ratio * M / 2`` double edge swaps per graph (``M``
      its swappable edges; unordered pairs on an undirected graph): ``u-v, x-y -> u-y, x-v``
      (or ``u-x, v-y`` on an undirected graph), never a self-loop nor a multi-edge, so every
      degree stays exactly as it was. Attribute rule: each edge keeps its position and its
      attributes and the endpoint it did not give away (``u-y`` carries ``u-v``'s attributes);
      on a directed graph every edge keeps its source node.

    A graph counts as undirected when every stored edge has its reverse. Self-loops never
    move; with degree_preserving, neither do pairs stored more than once. Node attributes are
    untouched (the nodes do not change). On HeteroData: per edge type, a moved edge still joins
    a node of its source type to one of its destination type (``plugins.graph.hetero``).
    """

    name = "edge_rewiring"
    params = {
        "method": Param(
            Choice("random", "degree_preserving"), "random",
            "random: move edges to random free pairs; degree_preserving: double edge swaps",
        ),
        "ratio": Param(
            Number(0.0, 1.0), 0.1,
            "share of edges rewired (degree_preserving: about ratio * edges / 2 swaps)",
        ),
    }

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        if hetero.is_hetero(data):
            return hetero.edge_rewiring(self, data, params)
        ei = data.edge_index
        n = _pyg.num_nodes(data)
        if ei is None or ei.size(1) == 0 or self.ratio == 0.0:
            return _pyg.shallow_copy(data)
        batch, ptr = _pyg.batch_vector(data), _pyg.ptr_of(data)
        kernel = F.rewire_random if self.method == "random" else F.double_edge_swap
        new_ei, _ = kernel(ei, n, self.ratio, params["seed"], batch=batch, ptr=ptr)
        out = _pyg.shallow_copy(data)
        _pyg.set_attr(out, "edge_index", new_ei)
        return _sampled.forget_edge_ids(out) if _sampled.is_sampled(data) else out

    def apply_graphs(self, batch: Any, seeds: torch.Tensor, applied: torch.Tensor) -> Any:
        # Edges keep their positions and attributes: each chosen graph's stored edges (kept
        # together in a Batch) are rewired on that graph alone and written back in place.
        ei = batch.edge_index
        if ei is None or ei.size(1) == 0 or self.ratio == 0.0:
            return _pyg.shallow_copy(batch)
        ptr = _pyg.ptr_of(batch)
        k = _pyg.num_graphs(batch)
        edge_graph = _pyg.batch_vector(batch).index_select(0, ei[0])
        edge_ptr = torch.zeros(k + 1, dtype=torch.long, device=ei.device)
        edge_ptr[1:] = torch.bincount(edge_graph, minlength=k).cumsum(0)
        if self.method == "degree_preserving":
            new_ei = F.double_edge_swap_items(ei, ptr, edge_ptr, self.ratio, seeds, applied)
        else:
            new_ei = ei.clone()
            starts, ends, seed_list = ptr.tolist(), edge_ptr.tolist(), seeds.tolist()
            for g in applied.nonzero().view(-1).tolist():
                lo, hi = ends[g], ends[g + 1]
                if hi == lo:
                    continue
                offset = starts[g]
                local, _ = F.rewire_random(ei[:, lo:hi] - offset, starts[g + 1] - offset,
                                           self.ratio, seed_list[g])
                new_ei[:, lo:hi] = local.to(ei.device) + offset
        out = _pyg.shallow_copy(batch)
        _pyg.set_attr(out, "edge_index", new_ei)
        return out
