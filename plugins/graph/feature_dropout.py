"""``feature_dropout``: element dropout of node (or edge) features with PyTorch's rate."""

from __future__ import annotations

from typing import Any

import torch

from augkit.errors import InputError
from augkit.params import Choice, Param, Probability
from augkit.plugins.graph import _pyg, hetero
from augkit.plugins.graph._per_graph import PerGraphTransform, graph_of_edges
from augkit.plugins.graph.functional.feature_dropout import dropout_feature_items


class FeatureDropout(PerGraphTransform):
    """Zeroes every entry of ``target`` (``x`` or ``edge_attr``) with probability ``p`` and
    scales the kept ones by ``1 / (1 - p)``, as ``torch.nn.functional.dropout(x, p)`` does, so
    every entry keeps its expectation (``p = 1`` zeroes all). PyGCL's ``FeatureDropout(pf)``
    calls ``dropout(x, p=1 - pf)``: its ``pf`` is this transform's ``1 - p``. Drawn per graph
    on a Batch. The target must be a floating tensor of one row per node (edge). On HeteroData
every node (edge) type with the target drops out at its own rate: ``p`` may be set per type
(``plugins.graph.hetero_views``)."""

    name = "feature_dropout"
    apply_key = "apply_p"
    params = {
        "p": Param(hetero.PerType(Probability(), "node or edge"), 0.2,
                   "probability that an entry is zeroed (PyTorch's rate)"),
        "target": Param(Choice("x", "edge_attr"), "x", "which attribute is dropped out"),
    }

    def reads_edge_ids(self) -> bool:
        return self.target == "edge_attr"  # a Batch's edges find their graph by their source

    def check_input(self, data: Any) -> None:
        super().check_input(data)
        if hetero.is_hetero(data):
            return  # checked per type by the hetero branch of the base check
        value = _pyg.get(data, self.target)
        if not isinstance(value, torch.Tensor) or not value.is_floating_point() \
                or value.dim() not in (1, 2):
            got = (f"{value.dtype} of shape {tuple(value.shape)}"
                   if isinstance(value, torch.Tensor) else type(value).__name__)
            raise InputError(f"{self.label()}: {self.target} is {got}; allowed: a floating "
                             "tensor [rows] or [rows, features]")

    def apply_graphs(self, batch: Any, seeds: torch.Tensor, applied: torch.Tensor) -> Any:
        out = _pyg.shallow_copy(batch)
        value = _pyg.get(batch, self.target)
        if value is None:  # refused by check_input; nothing to change on a direct call
            return out
        group = _pyg.batch_vector(batch) if self.target == "x" else graph_of_edges(batch)
        dropped = dropout_feature_items(value, self.p, seeds, applied, group,
                                        _pyg.num_graphs(batch))
        _pyg.set_attr(out, self.target, dropped)
        return out
