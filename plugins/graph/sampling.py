"""``subgraph_sampling``: keep the induced subgraph around random roots (random walks or k-hop
neighbourhoods) or a random share of the nodes, relabelled, with every node- and edge-level
attribute compacted; per graph on a Batch, where every non-empty graph keeps at least one node.

Differences from what users know: PyG's ``k_hop_subgraph`` returns indices only (attributes
are the caller's job) and works on one graph; PyGCL's ``RWSampling`` needs torch_cluster and
keeps no per-graph guarantee in a mini-batch.
"""

from __future__ import annotations

from typing import Any

import torch

from augkit.params import Choice, Integer, Number, Param
from augkit.plugins.graph import _pyg, hetero
from augkit.plugins.graph import functional as F
from augkit.plugins.graph._base import GraphTransform
from augkit.plugins.graph._sampled import is_sampled, keep_nodes_with_seeds
from augkit.plugins.graph._subset import keep_nodes, take

# Bounds no real use meets, so that a huge value is a ParamError at construction: a walk is
# as long as it is told (it revisits nodes), a k-hop search stops at the graph's diameter.
MAX_WALK_LENGTH = 4096
MAX_HOPS = 10**6


class SubgraphSampling(GraphTransform):
    """Keep an induced subgraph of at most ``t_g = max(1, floor(ratio * n_g + 0.5))`` nodes
    of every graph (``n_g`` its node count; an empty graph stays empty).

    - ``random_walk``: ``ceil(t_g / (walk_length + 1))`` distinct random roots, one walk of
      ``walk_length`` steps from each (a walk stops at a node without out-edges); the visited
      nodes, earliest first visit first, up to ``t_g``. Walks can revisit nodes, so a graph can
      keep fewer than ``t_g``.
    - ``khop``: one random root; the nodes within ``num_hops`` hops of it, nearest first (ties
      in random order), up to ``t_g``.
    - ``random_node``: exactly ``t_g`` nodes drawn uniformly without replacement.

    Walks and hops follow ``edge_index[0] -> edge_index[1]`` (both ways on an undirected
    graph). Edges between kept nodes stay; node ids are relabelled to ``0..n'-1`` keeping their
    order; ``x``, ``y``, ``pos``, masks, ``edge_attr``, ``edge_weight`` and custom attributes
    are compacted; on a Batch ``batch``/``ptr`` and ``to_data_list()`` stay right. On
    HeteroData see ``plugins.graph.hetero.subgraph_sampling``.
    """

    name = "subgraph_sampling"
    params = {
        "method": Param(
            Choice("random_walk", "khop", "random_node"), "random_walk",
            "how the kept nodes are found",
        ),
        "ratio": Param(
            hetero.PerType(Number(0.0, 1.0, low_open=True), "node"), 0.8,
            "target share of nodes kept per graph: at most max(1, round(ratio * n)) nodes "
            "(per node type on HeteroData)",
        ),
        "walk_length": Param(Integer(1, MAX_WALK_LENGTH), 8,
                             f"steps of every walk (random_walk), at most {MAX_WALK_LENGTH}"),
        "num_hops": Param(Integer(0, MAX_HOPS), 2,
                          f"hops around the root (khop), at most {MAX_HOPS}"),
    }

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        if hetero.is_hetero(data):
            return hetero.subgraph_sampling(self, data, params)
        n = _pyg.num_nodes(data)
        ei = _pyg.edge_index_of(data)
        keep = F.sample_subgraph_nodes(
            ei, n, self.method, self.ratio, params["seed"], walk_length=self.walk_length,
            num_hops=self.num_hops, batch=_pyg.batch_vector(data), ptr=_pyg.ptr_of(data),
        )
        if is_sampled(data):  # a NeighborLoader batch: its seed nodes join, first
            return keep_nodes_with_seeds(data, keep, self.label())
        return keep_nodes(data, keep)

    def apply_graphs(self, batch: Any, seeds: torch.Tensor, applied: torch.Tensor) -> Any:
        # The nodes each chosen graph keeps are found on that graph alone, from its own edges
        # (a graph's edges are stored together), then one compaction serves the whole Batch.
        ei = _pyg.edge_index_of(batch)
        ptr = _pyg.ptr_of(batch)
        edge_graph = _pyg.batch_vector(batch).index_select(0, ei[0])
        k = _pyg.num_graphs(batch)
        edge_ptr = torch.zeros(k + 1, dtype=torch.long, device=ei.device)
        edge_ptr[1:] = torch.bincount(edge_graph, minlength=k).cumsum(0)
        keep = F.sample_subgraph_items(ei, ptr, edge_ptr, self.method, self.ratio, seeds,
                                       applied, walk_length=self.walk_length,
                                       num_hops=self.num_hops)
        counts = torch.zeros(k, dtype=torch.long, device=ei.device).index_add_(
            0, _pyg.batch_vector(batch), keep.long())
        new_id, kept = F.relabel_mask(keep)
        out, eid = F.induced_edges(ei, new_id)
        return take(batch, out, eid, kept, node_counts=counts)
