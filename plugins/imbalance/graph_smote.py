"""``graph_smote``: synthetic minority nodes for node classification (GraphSMOTE's input-space
variant, without its dense N x N adjacency): see ``functional.graph_smote`` for the rules."""

from __future__ import annotations

from typing import Any

from augkit.params import Choice, Param
from augkit.random import draw_seed
from augkit.transform import Transform

from .functional import graph_smote
from .specs import SAMPLING_STRATEGY, neighbours_param


class GraphSMOTE(Transform):
    """New minority training nodes: features interpolated between same-class training nodes,
    edges copied from the source node (or mixed from both parents)."""

    name = "graph_smote"
    kinds = ("graph",)
    counter_draws = True
    # Once over the training graph (dataset), or afresh each epoch (sample).
    levels = ("dataset", "sample")
    params = {
        "k_neighbors": neighbours_param(
            "same-class training neighbours to interpolate towards; auto: 5, lowered to what "
            "the smallest over-sampled class allows (with a warning)"),
        "sampling_strategy": Param(SAMPLING_STRATEGY, "auto",
                                   "which classes grow, and to what (counted on train_mask)"),
        "edges": Param(Choice("copy_source", "mix"), "copy_source",
                       "copy_source: the source node's edges; mix: each neighbour of the "
                       "source with probability 1-u, of the other parent with probability u"),
    }

    def make_params(self, data: Any, generator: Any) -> dict[str, Any]:
        return {"seed": draw_seed(generator)}

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        return graph_smote(
            data,
            k_neighbors=self.k_neighbors,
            sampling_strategy=self.sampling_strategy,
            edges=self.edges,
            seed=params["seed"],
            owner=self.label(),
        )
