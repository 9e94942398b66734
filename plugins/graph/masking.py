"""``feature_masking``: GraphCL attribute masking and its row/element variants."""

from __future__ import annotations

from typing import Any

import torch

from augkit.errors import InputError
from augkit.params import Choice, Param, Probability
from augkit.plugins.graph import _pyg, hetero
from augkit.plugins.graph import functional as F
from augkit.plugins.graph._base import GraphTransform


class FeatureMasking(GraphTransform):
    """Masks node (``target: x``) or edge (``target: edge_attr``) features at rate ``p``.

    ``mode``: ``feature`` masks whole columns (GraphCL attribute masking), drawn per graph on
    a Batch; ``node`` whole rows (nodes, or edges for ``edge_attr``); ``element`` single
    entries. ``fill``: ``zero``; ``mean``, the column's mean over the graph; ``normal``, draws
    from a normal with the column's mean and standard deviation over the graph. A graph without
    the target attribute is an InputError. On HeteroData ``x`` is masked per node type
    and ``edge_attr`` per edge type, ``p`` may be set per type (``plugins.graph.hetero``).
    """

    name = "feature_masking"
    apply_key = "apply_p"
    params = {
        "p": Param(hetero.PerType(Probability(), "node or edge"), 0.2,
                   "probability that a feature/row/entry is masked, per node (x) or edge type"),
        "mode": Param(Choice(*F.MASK_MODES), "feature",
                      "feature: whole columns; node: whole rows; element: single entries"),
        "fill": Param(Choice(*F.FILL_MODES), "zero",
                      "zero, the graph's column mean, or normal noise with its mean and std"),
        "target": Param(Choice("x", "edge_attr"), "x", "which attribute is masked"),
    }

    def check_input(self, data: Any) -> None:
        super().check_input(data)
        if hetero.is_hetero(data):
            return  # checked per type by the hetero branch of the base check
        value = _pyg.get(data, self.target)
        if not isinstance(value, torch.Tensor):  # as diffusion_noise: nothing to mask is an error
            raise InputError(f"{self.label()}: the graph has no tensor {self.target}; allowed: "
                             f"a graph with {self.target}, or target set to the attribute it has")
        if value.dim() not in (1, 2):
            raise InputError(
                f"{self.label()}: {self.target} has shape {tuple(value.shape)}; allowed: "
                "[rows] or [rows, features]"
            )

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        if hetero.is_hetero(data):
            return hetero.feature_masking(self, data, params)
        target = self.target
        out = _pyg.shallow_copy(data)
        value = _pyg.get(data, target)
        if value is None:
            return out
        group = None
        k = 1
        if _pyg.is_batch(data):
            k = _pyg.num_graphs(data)
            group = data.batch
            if target == "edge_attr":
                group = group.index_select(0, _pyg.edge_index_of(data)[0])
        masked, _ = F.mask_feature(value, self.p, params["seed"], mode=self.mode,
                                   fill=self.fill, group=group, num_groups=k)
        if not (masked.is_cpu and value.is_cpu):  # is_cpu: no device objects on the CPU path
            masked = masked.to(value.device)
        _pyg.set_attr(out, target, masked)
        return out

    def apply_graphs(self, batch: Any, seeds: torch.Tensor, applied: torch.Tensor) -> Any:
        target = self.target
        out = _pyg.shallow_copy(batch)
        value = getattr(batch, target, None)
        if value is None:
            return out
        group = _pyg.batch_vector(batch)
        if target == "edge_attr":
            group = group.index_select(0, _pyg.edge_index_of(batch)[0])
        masked = F.mask_feature_items(value, self.p, seeds.to(value.device),
                                      applied.to(value.device), group,
                                      _pyg.num_graphs(batch), mode=self.mode, fill=self.fill)
        _pyg.set_attr(out, target, masked)
        return out
