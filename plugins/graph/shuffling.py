"""``node_shuffling``: the rows of ``x`` permuted within every graph (PyG's
``shuffle_node(x, batch)``; PyGCL's ``NodeShuffling`` on one graph)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from augkit.errors import InputError
from augkit.params import Param, Text
from augkit.plugins.graph import _pyg, hetero
from augkit.plugins.graph._per_graph import PerGraphTransform
from augkit.plugins.graph._subset import gather
from augkit.plugins.graph.functional.shuffling import shuffle_perm, shuffle_perm_items


class NodeShuffling(PerGraphTransform):
    """Permutes the rows of a node-level attribute (``target``, default ``x``) uniformly at
    random within every graph: the structure stays, the features move to other nodes of the
    same graph (never to another graph of a Batch). Every other attribute is unchanged. A
    graph without a tensor ``target`` of one row per node is an InputError. On HeteroData
    every node type's rows move among that type's nodes (``plugins.graph.hetero_views``)."""

    name = "node_shuffling"
    params = {
        "target": Param(Text(), "x", "the node-level attribute whose rows are permuted"),
    }

    def reads_edge_ids(self) -> bool:
        return False

    def check_input(self, data: Any) -> None:
        super().check_input(data)
        if hetero.is_hetero(data):
            return  # checked per node type by the hetero branch of the base check
        value = _pyg.get(data, self.target)
        n = _pyg.num_nodes(data)
        if not isinstance(value, torch.Tensor) or value.dim() == 0 or value.size(0) != n:
            got = (f"shape {tuple(value.shape)}" if isinstance(value, torch.Tensor)
                   else type(value).__name__)
            raise InputError(f"{self.label()}: {self.target} is {got}; allowed: a tensor with "
                             f"one row per node ({n})")

    def apply_graphs(self, batch: Any, seeds: torch.Tensor, applied: torch.Tensor) -> Any:
        return self._permuted(batch, lambda value: shuffle_perm_items(
            _pyg.ptr_of(batch).to(value.device), seeds, applied))

    def apply_graph(self, data: Any, seed: int) -> Any:
        return self._permuted(data, lambda value: shuffle_perm(value.size(0), seed,
                                                               value.device))

    def _permuted(self, data: Any, perm_of: Callable[[torch.Tensor], torch.Tensor]) -> Any:
        """A copy of ``data`` whose ``target`` rows are reordered by ``perm_of(target)``."""
        out = _pyg.shallow_copy(data)
        value = _pyg.get(data, self.target)
        if value is None:  # refused by check_input; nothing to change on a direct call
            return out
        _pyg.set_attr(out, self.target, gather(value, 0, perm_of(value)))
        return out
