"""``graph_smote``: synthetic minority nodes for node classification (GraphSMOTE's input-space
variant, without its dense N x N adjacency): see ``functional.graph_smote`` for the rules on a
``Data`` and ``graph_smote_hetero`` for a target node type of a ``HeteroData``."""

from __future__ import annotations

from typing import Any

from augkit.errors import InputError
from augkit.params import Choice, Nullable, Param, Text
from augkit.plugins.graph import hetero
from augkit.random import draw_seed
from augkit.transform import Transform

from .functional import graph_smote
from .graph_smote_hetero import graph_smote_hetero
from .specs import SAMPLING_STRATEGY, neighbours_param


class GraphSMOTE(Transform):
    """New minority training nodes: features interpolated between same-class training nodes,
    edges copied from the source node (or mixed from both parents).

    On a ``HeteroData`` the nodes of ``node_type`` are oversampled (it may be left out when
    one node type only has ``y``): new nodes of that type, with the edges of every edge type
    that has that type at one end or both, built by the same rule; other node types and edge
    types are left as they are (``graph_smote_hetero``)."""

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
        "node_type": Param(Nullable(Text()), None,
                           "HeteroData: the node type to oversample; null: the one node type "
                           "with y"),
    }

    def check_input(self, data: Any) -> None:
        if self.node_type is not None and not hetero.is_hetero(data):
            raise InputError(f"{self.label()}: node_type is {self.node_type!r}, which applies "
                             f"to HeteroData; got {type(data).__name__}; allowed: node_type "
                             "null for a Data")

    def make_params(self, data: Any, generator: Any) -> dict[str, Any]:
        return {"seed": draw_seed(generator)}

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        options = {"k_neighbors": self.k_neighbors, "sampling_strategy": self.sampling_strategy,
                   "edges": self.edges, "seed": params["seed"], "owner": self.label()}
        if hetero.is_hetero(data):
            return graph_smote_hetero(data, node_type=self.node_type, **options)
        return graph_smote(data, **options)
