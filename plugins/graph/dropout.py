"""``edge_dropout`` and ``node_dropout``: thin transforms over ``functional``.

Both take PyG ``Data`` or ``Batch`` (every graph of a Batch on its own, in one vectorized
call), never change their input, and draw one seed per call from the generator they are given.
Their ``p`` is the drop rate, as in PyG; the apply probability is ``apply_p``.
"""

from __future__ import annotations

from typing import Any

import torch

from augkit.params import Choice, Integer, Param, Probability
from augkit.plugins.graph import _pyg, hetero
from augkit.plugins.graph import functional as F
from augkit.plugins.graph._base import GraphTransform
from augkit.plugins.graph._sampled import edge_dropout_sampled, is_sampled, node_dropout_sampled
from augkit.plugins.graph._subset import take
from augkit.plugins.graph.functional.dropout import dropout_edge_auto

MAX_MIN_NODES = 1 << 40  # more nodes than a graph in memory holds: a bound no real use meets


class EdgeDropout(GraphTransform):
    """Removes each edge with probability ``p``; every edge-level attribute follows.

    ``undirected``: ``true`` decides per unordered pair, so (u, v) and (v, u) go together
    whatever order and orientation they are stored in (PyG's ``force_undirected`` keeps only
    pairs stored as row < col and doubles self-loops); ``false`` decides per stored edge;
    ``auto`` (default) treats the graph as undirected when its edges form a symmetric
    multiset (one linear pass, see ``functional.is_symmetric``). On HeteroData ``p`` may be
    set per edge type, and a relation pairs with its reverse relation (``plugins.graph.hetero``).
    """

    name = "edge_dropout"
    apply_key = "apply_p"
    params = {
        "p": Param(hetero.PerType(Probability(), "edge"), 0.2,
                   "probability that an edge (or undirected pair) is dropped, per edge type"),
        "undirected": Param(Choice("auto", True, False), "auto",
                            "decide per unordered pair: auto detects a symmetric edge list"),
    }

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        if hetero.is_hetero(data):
            return hetero.edge_dropout(self, data, params)
        if is_sampled(data):  # a NeighborLoader batch: e_id, num_sampled_edges follow
            return edge_dropout_sampled(data, self.p, params["seed"], self.undirected)
        ei = _pyg.edge_index_of(data)
        undirected = self.undirected
        if undirected == "auto":
            n = _pyg.known_num_nodes(data)
            fused = None if n is None else dropout_edge_auto(ei, self.p, params["seed"], n)
            if fused is not None:  # the symmetry check and the dropout in one kernel call
                return take(data, *fused)
            undirected = F.is_symmetric(ei)
        # Node count only keys undirected pairs (a directed draw is keyed by position).
        n = _pyg.num_nodes(data) if undirected else 0
        out, eid = F.dropout_edge(ei, self.p, params["seed"], undirected=bool(undirected),
                                  num_nodes=n)
        return take(data, out.to(ei.device), eid.to(ei.device))

    def apply_graphs(self, batch: Any, seeds: torch.Tensor, applied: torch.Tensor) -> Any:
        out, eid, counts = F.dropout_edge_items(
            _pyg.edge_index_of(batch), _pyg.batch_vector(batch), _pyg.ptr_of(batch), self.p,
            seeds, applied, undirected=self.undirected)
        return take(batch, out, eid, edge_counts=counts)


class NodeDropout(GraphTransform):
    """Removes each node with probability ``p`` with its edges, relabels the rest and compacts
    every node-level attribute (``x``, ``y``, ``pos``, masks, custom ones) and edge-level
    attribute. On a Batch every graph keeps at least ``min_nodes`` nodes (fewer only when it
    has fewer), chosen at random among its nodes, so no graph disappears and ``batch``, ``ptr``
    and graph-level attributes stay aligned; ``to_data_list()`` still works. Which attributes
    are node-level follows PyG's size rule, so on a Batch whose graphs all have exactly one
    node a per-graph tensor counts as node-level, and on a Batch with as many edges as graphs
    as edge-level (the kinds cannot be told apart there). On HeteroData ``p`` may be set per
    node type, and ``min_nodes`` holds per node type (``plugins.graph.hetero``)."""

    name = "node_dropout"
    apply_key = "apply_p"
    params = {
        "p": Param(hetero.PerType(Probability(), "node"), 0.1,
                   "probability that a node is dropped, per node type"),
        "min_nodes": Param(Integer(0, MAX_MIN_NODES), 1,
                           "nodes every graph keeps at least, at most 2**40 (past any graph)"),
    }

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        if hetero.is_hetero(data):
            return hetero.node_dropout(self, data, params)
        if is_sampled(data):  # a NeighborLoader batch: its seed nodes stay, first
            return node_dropout_sampled(data, self.p, params["seed"], self.min_nodes,
                                        self.label())
        ei = _pyg.edge_index_of(data)
        n = _pyg.num_nodes(data)
        ptr = _pyg.ptr_of(data) if _pyg.is_batch(data) else None  # None: one graph
        out, nid, eid, counts = F.dropout_node(ei, self.p, params["seed"], num_nodes=n,
                                               ptr=ptr, min_nodes=self.min_nodes)
        dev = ei.device
        return take(data, out.to(dev), eid.to(dev), nid.to(dev),
                    node_counts=counts.to(dev))

    def apply_graphs(self, batch: Any, seeds: torch.Tensor, applied: torch.Tensor) -> Any:
        ei = _pyg.edge_index_of(batch)
        new_id, counts = F.node_keep_items(_pyg.ptr_of(batch), self.p, seeds, applied,
                                           min_nodes=self.min_nodes)
        out, eid = F.induced_edges(ei, new_id)
        nid = (new_id >= 0).nonzero().view(-1)
        return take(batch, out, eid, nid, node_counts=counts)
