"""``PerGraphTransform``: the base of the self-supervised graph views, which draw every graph
of a Batch under its own seed in one call (the batch stage's :meth:`apply_graphs`); a
HeteroData goes type by type (``hetero_views``)."""

from __future__ import annotations

from typing import Any

import torch

from augkit.plugins.graph import _pyg, hetero, hetero_views
from augkit.plugins.graph._base import GraphTransform
from augkit.plugins.graph.functional._items import graph_seeds, single_graph


class PerGraphTransform(GraphTransform):
    """A graph transform whose every call is :meth:`apply_graphs`: a Data is one graph with
    the call's seed; a Batch called with one seed gives graph ``g`` the seed
    ``derive_seed(seed, STREAM_GRAPH_SEED, g)``, so no two graphs share their draws."""

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        if hetero.is_hetero(data):
            return hetero_views.apply(self, data, params)
        if not _pyg.is_batch(data):
            return self.apply_graph(data, params["seed"])
        dev = _pyg.device_of(data)
        k = _pyg.num_graphs(data)
        return self.apply_graphs(data, graph_seeds(params["seed"], k).to(dev),
                                 torch.ones(k, dtype=torch.bool, device=dev))

    def apply_graph(self, data: Any, seed: int) -> Any:
        """One graph (a Data) drawn with ``seed``: :meth:`apply_graphs` of it as a Batch of
        that graph alone. A subclass with a cheaper path for one graph overrides this, with
        the same result."""
        return self.apply_graphs(data, *single_graph(seed, _pyg.device_of(data)))


def graph_of_edges(data: Any) -> torch.Tensor:
    """The graph of every edge (zeros for a Data)."""
    ei = _pyg.edge_index_of(data)
    if not _pyg.is_batch(data):
        return torch.zeros(ei.size(1), dtype=torch.long, device=ei.device)
    return _pyg.batch_vector(data).index_select(0, ei[0])
