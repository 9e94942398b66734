"""``graph_diffusion``: MVGRL's diffusion view, a sparse diffused adjacency with edge weights
(PyG's ``GDC`` with ``exact=True``), per graph of a Batch."""

from __future__ import annotations

from typing import Any

import torch

from augkit.errors import InputError, ParamError
from augkit.params import Choice, Integer, Nullable, Number, Param, Text
from augkit.plugins.graph import _pyg, _sampled, hetero, hetero_views
from augkit.plugins.graph._base import GraphTransform
from augkit.plugins.graph.functional.diffusion import (
    METHODS,
    NORMALIZATIONS,
    diffusion_matrix,
    ppr_push,
    sparsify,
    sparsify_entries,
)

MAX_EXACT_NODES = 1 << 14  # the dense [n, n] solve's bound: 1 GiB a buffer (float32), 2 (float64)


class GraphDiffusion(GraphTransform):
    """Replaces every graph's edges by its diffusion matrix, sparsified: ``method: ppr``
    (personalized PageRank, ``alpha (I + (alpha - 1) T)^-1``) or ``heat``
    (``expm(t (T - I))``), ``T`` the transition matrix of the graph with self-loops of weight
    ``self_loop_weight`` (``normalization``: ``sym``, ``col`` or ``row``; ``edge_weight`` of
    the graph as the weights when it has one, else ones). Kept: the ``top_k`` largest entries
    of every column, or, without ``top_k``, those ``>= eps``; the kept weights are then
    column-normalized and stored in ``weight_key`` (GDC stores them in ``edge_attr``). Every
    other edge-level attribute is removed (the new edges have none); node attributes stay.
    The same as ``torch_geometric.transforms.GDC(exact=True, normalization_out='col')``.

    ``solver``: ``exact`` solves the dense ``[n, n]`` matrix of every graph (a Batch graph by
    graph, never the whole Batch densified) in the dtype of the weights it returns (float
    ``edge_weight``'s, else torch's default, float32 as in GDC), ``push`` computes PPR
    without densifying by the local push of PyG's ``get_ppr`` with tolerance ``push_eps``
    (``GDC(exact=False)``, which follows unweighted edges; PPR only), ``auto`` (default) the
    exact solve up to ``max_nodes`` nodes and push beyond. A graph over ``max_nodes`` that must
    be solved exactly (``exact``, or ``heat``) is an InputError. Deterministic: no seed is
    read. Keep its apply probability at 1 where graphs are collated afterwards: a
    graph left as it is has no ``weight_key`` and does not collate with diffused ones. On a
    sampled mini-batch ``num_sampled_edges`` goes with the old edges. On HeteroData every
    relation from a node type to itself is diffused as a graph over that type; relations
    between two types stay as they are (``plugins.graph.hetero_views``)."""

    name = "graph_diffusion"
    counter_draws = False
    params = {
        "method": Param(Choice(*METHODS), "ppr", "ppr (personalized PageRank) or heat"),
        "alpha": Param(Number(0.0, 1.0, low_open=True), 0.15, "PPR's return probability"),
        "t": Param(Number(0.0), 5.0, "the heat kernel's time"),
        "top_k": Param(Nullable(Integer(1, 1 << 30)), 64,
                       "entries kept per column; null: keep those >= eps"),
        "eps": Param(Number(0.0), 1e-4, "threshold when top_k is null"),
        "self_loop_weight": Param(Number(0.0), 1.0, "weight of the added self-loops"),
        "normalization": Param(Choice(*NORMALIZATIONS), "sym", "transition normalization"),
        "weight_key": Param(Text(), "edge_weight", "attribute of the diffused edge weights"),
        "max_nodes": Param(Integer(1, MAX_EXACT_NODES), 4096,
                           "largest graph solved exactly (dense [n, n])"),
        "solver": Param(Choice("auto", "exact", "push"), "auto",
                        "exact dense solve, push-based approximate PPR, or auto by max_nodes"),
        "push_eps": Param(Number(0.0, low_open=True), 1e-4,
                          "the push's residual tolerance (approximate PPR)"),
    }

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if self.solver == "push" and self.method != "ppr":
            raise ParamError(f"{self.label()}: solver: push computes PPR only; got method "
                             f"{self.method!r}; allowed: method ppr, or solver exact or auto",
                             param="solver", value="push")

    def check_input(self, data: Any) -> None:
        super().check_input(data)
        if hetero.is_hetero(data):
            return  # checked per relation by the hetero branch of the base check
        for part in _graphs(data):
            n = _pyg.num_nodes(part)
            if n > self.max_nodes and not self._push(n):
                raise InputError(f"{self.label()}: a graph has {n} nodes; allowed: at most "
                                 f"max_nodes ({self.max_nodes}) for the exact dense solve")
            w = _pyg.get(part, "edge_weight")
            if isinstance(w, torch.Tensor) and w.dim() != 1:
                raise InputError(f"{self.label()}: edge_weight has shape {tuple(w.shape)}; "
                                 "allowed: one weight per edge ([num_edges])")

    def _push(self, n: int) -> bool:
        """Whether a graph of ``n`` nodes takes the push-based PPR."""
        return self.solver == "push" or (self.solver == "auto" and self.method == "ppr"
                                         and n > self.max_nodes)

    def make_params(self, data: Any, generator: Any) -> dict[str, Any]:
        return {}

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        if hetero.is_hetero(data):
            return hetero_views.apply(self, data, params)
        ekeys = _pyg.edge_keys(data)  # of the whole Batch: a one-edge graph alone is ambiguous
        if not _pyg.is_batch(data):
            return self._one(data, ekeys)
        from torch_geometric.data import Batch

        return Batch.from_data_list([self._one(g, ekeys) for g in data.to_data_list()])

    def _one(self, data: Any, ekeys: list[str]) -> Any:
        n = _pyg.num_nodes(data)
        ei = _pyg.edge_index_of(data)
        w = _pyg.get(data, "edge_weight")
        dtype = w.dtype if isinstance(w, torch.Tensor) and w.is_floating_point() \
            else torch.get_default_dtype()
        if self._push(n):
            entries, values = ppr_push(ei, n, alpha=self.alpha, eps=self.push_eps,
                                       normalization=self.normalization)
            out_ei, weight = sparsify_entries(entries, values, n, top_k=self.top_k,
                                              eps=self.eps)
        else:
            s = diffusion_matrix(ei, w if isinstance(w, torch.Tensor) else None, n,
                                 method=self.method, alpha=self.alpha, t=self.t,
                                 self_loop_weight=self.self_loop_weight,
                                 normalization=self.normalization, dtype=dtype)
            out_ei, weight = sparsify(s, top_k=self.top_k, eps=self.eps)
        out = _pyg.shallow_copy(data)
        for key in ekeys:
            if key in out:
                del out[key]
        out.edge_index = out_ei
        out[self.weight_key] = weight.to(dtype)
        return _sampled.forget_edge_ids(out) if _sampled.is_sampled(data) else out


def _graphs(data: Any) -> list:
    return data.to_data_list() if _pyg.is_batch(data) else [data]

