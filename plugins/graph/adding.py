"""``edge_adding``: new random edges inside every graph (PyGCL's ``EdgeAdding``, PyG's
``add_random_edge``), without their cross-graph edges and duplicates."""

from __future__ import annotations

from typing import Any

import torch

from augkit.params import Boolean, Choice, Param, Probability
from augkit.plugins.graph import _pyg, _sampled, hetero
from augkit.plugins.graph import functional as F
from augkit.plugins.graph._per_graph import PerGraphTransform, graph_of_edges
from augkit.plugins.graph.functional._common import segments
from augkit.plugins.graph.functional.adding import add_edge_items


class EdgeAdding(PerGraphTransform):
    """Adds ``round(p * E)`` new edges to every graph (``E`` its stored edges), each between
    two nodes of that graph, drawn uniformly among the pairs allowed. PyG's
    ``add_random_edge`` and PyGCL's ``EdgeAdding`` draw node ids over a whole Batch, so they
    join graphs, and PyGCL takes the node count from ``edge_index.max()``; here each graph
    draws alone and the node count is the graph's own.

    ``undirected``: ``true`` adds ``round(p * E / 2)`` unordered pairs, each stored in both
    directions (a self-loop once), so an undirected graph stays undirected; ``false`` adds
    directed edges; ``auto`` (default) decides per graph by ``functional.symmetric_graphs``.
    ``self_loops``: whether a new edge may be a self-loop. ``duplicates``: whether a new edge
    may repeat an existing or another new edge; without (default), a graph with fewer free
    pairs than asked gets all of them. New edges follow the graph's edges, graph by graph.
    Every edge-level attribute gets a row per new edge: zeros (``edge_fill: zero``), or the
    mean over the graph's existing edges (``edge_fill: mean``; zeros for a graph without
    edges; rounded for integer attributes). On a sampled mini-batch ``e_id`` and
    ``num_sampled_edges`` are removed (a new edge has no id in the full graph).

    On HeteroData, relation by relation at the relation's rate (``p`` per edge type): a
    relation from a node type to itself as above, a relation between two types to free
    (source, destination) pairs (``undirected`` and ``self_loops`` do not apply there); a
    reverse relation holding the transposed edges gets the transposed new edges
    (``plugins.graph.hetero_views``)."""

    name = "edge_adding"
    apply_key = "apply_p"
    params = {
        "p": Param(hetero.PerType(Probability(), "edge"), 0.1,
                   "new edges per existing edge of the graph (per edge type on HeteroData)"),
        "undirected": Param(Choice("auto", True, False), "auto",
                            "add unordered pairs in both directions; auto: per graph"),
        "self_loops": Param(Boolean(), False, "whether a new edge may be a self-loop"),
        "duplicates": Param(Boolean(), False,
                            "whether a new edge may repeat an existing or another new edge"),
        "edge_fill": Param(Choice("zero", "mean"), "zero",
                           "edge attributes of new edges: zeros or the graph's edge mean"),
    }

    def apply_graphs(self, batch: Any, seeds: torch.Tensor, applied: torch.Tensor) -> Any:
        if _sampled.is_sampled(batch):  # a new edge has no e_id: not filled like an attribute
            batch = _sampled.forget_edge_ids(_pyg.shallow_copy(batch))
        ei = _pyg.edge_index_of(batch)
        dev = ei.device
        ptr = _pyg.ptr_of(batch).to(dev)
        k = ptr.numel() - 1
        edge_graph = graph_of_edges(batch)
        if self.undirected == "auto":
            und = F.symmetric_graphs(ei, ptr, edge_graph)
        else:
            und = torch.full((k,), bool(self.undirected), dtype=torch.bool, device=dev)
        new_ei, new_graph, _ = add_edge_items(ei, ptr, self.p, seeds, applied, und,
                                              self_loops=self.self_loops,
                                              duplicates=self.duplicates)
        if new_ei.size(1) == 0 or batch.edge_index is None:
            return _pyg.shallow_copy(batch)
        old_count = torch.bincount(edge_graph, minlength=k)
        new_count = torch.bincount(new_graph, minlength=k)
        before = torch.cumsum(new_count, 0) - new_count  # new edges of earlier graphs
        old_pos = torch.arange(ei.size(1), device=dev) + before.index_select(0, edge_graph)
        local, _, _ = segments(new_graph, k)
        ends = torch.cumsum(old_count, 0) + before
        new_pos = ends.index_select(0, new_graph) + local
        out = _pyg.shallow_copy(batch)
        total = ei.size(1) + new_ei.size(1)
        merged = ei.new_empty(2, total)
        merged.index_copy_(1, old_pos, ei).index_copy_(1, new_pos, new_ei)
        _pyg.set_attr(out, "edge_index", merged)
        ekeys = _pyg.edge_keys(batch)
        for key in ekeys:
            value = batch[key]
            dim = batch.__cat_dim__(key, value) or 0
            rows = value.movedim(dim, 0)
            fill = self._fill(rows, edge_graph, new_graph, k)
            grown = rows.new_empty((total, *rows.shape[1:]))
            grown.index_copy_(0, old_pos, rows).index_copy_(0, new_pos, fill)
            _pyg.set_attr(out, key, grown.movedim(0, dim))
        if _pyg.is_batch(batch):
            _pyg.fix_batch_bookkeeping(out, ["edge_index", *ekeys], old_count + new_count, None)
        return out

    def _fill(self, rows: torch.Tensor, edge_graph: torch.Tensor, new_graph: torch.Tensor,
              k: int) -> torch.Tensor:
        """The rows of the new edges, by ``edge_fill``."""
        shape = (new_graph.numel(), *rows.shape[1:])
        if self.edge_fill == "zero" or rows.dtype == torch.bool:
            return rows.new_zeros(shape)
        flat = rows.reshape(rows.size(0), -1).double()
        sums = flat.new_zeros(k, flat.size(1)).index_add_(0, edge_graph, flat)
        counts = torch.bincount(edge_graph, minlength=k).clamp(min=1).double().unsqueeze(1)
        mean = (sums / counts).index_select(0, new_graph)
        if not rows.is_floating_point():
            mean = mean.round()
        return mean.to(rows.dtype).view(shape)
