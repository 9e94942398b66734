"""Graph layouts beyond a dense ``edge_index``: a sparse adjacency (``adj_t`` after
``T.ToSparseTensor``, a ``torch_sparse.SparseTensor`` or a ``torch.sparse`` COO/CSR tensor) is
refused with an InputError saying what to do, and Python-list node/edge attributes are sliced
as PyG's ``Data.subgraph`` slices them (a list as long as the node count is node-level, else
one as long as the edge count is edge-level).
"""

from __future__ import annotations

from typing import Any

import torch

from augkit.errors import InputError
from augkit.plugins.graph import _pyg

ADJ_KEYS = ("adj_t", "adj")
# Sampler bookkeeping lists are per hop, not per node or edge (see _sampled).
_NOT_SLICED = frozenset({"num_sampled_nodes", "num_sampled_edges"})


def _sparse_kind(value: Any) -> str | None:
    """What sparse adjacency ``value`` is, or None for anything else."""
    if type(value).__name__ == "SparseTensor":
        return "a torch_sparse SparseTensor"
    if isinstance(value, torch.Tensor) and value.layout != torch.strided:
        return f"a torch tensor of layout {value.layout}"
    return None


def check_layout(data: Any, owner: str) -> None:
    """An InputError naming ``owner`` when ``data`` keeps its edges in a sparse adjacency:
    augkit's graph transforms read and rewrite ``edge_index``, so an ``adj_t`` would be left
    unchanged or out of step with the nodes."""
    for key, value in _pyg.attributes(data):
        kind = _sparse_kind(value)
        if kind is None and key in ADJ_KEYS and value is not None:
            kind = f"a {type(value).__name__}"
        square = kind is not None and value.dim() == 2 and value.size(0) == value.size(1)
        if kind is not None and (key in ADJ_KEYS or key == "edge_index" or square):
            raise InputError(
                f"{owner}: the graph's {key} is {kind}, a sparse adjacency; allowed: edges in "
                "edge_index (a [2, num_edges] LongTensor): apply augkit before "
                "T.ToSparseTensor, or rebuild edge_index with "
                "torch_geometric.utils.to_edge_index(adj_t.t())"
            )


def slice_lists(data: Any, out: Any, edge_idx: torch.Tensor,
                node_idx: torch.Tensor | None) -> None:
    """Slice ``out``'s list/tuple attributes (``data``'s, by PyG's rule) to the kept edges
    ``edge_idx`` and, when ``node_idx`` is given, the kept nodes; a Batch's lists are
    per-graph, left as they are."""
    if _pyg.is_batch(data):
        return
    lists = [(key, value) for key, value in _pyg.attributes(data)
             if isinstance(value, (list, tuple)) and key not in _NOT_SLICED]
    if not lists:
        return
    n = _pyg.num_nodes(data)
    e = _pyg.edge_index_of(data).size(1)
    for key, value in lists:
        if len(value) == n:
            index = node_idx
        elif len(value) == e:
            index = edge_idx
        else:
            continue
        if index is not None:
            kept = [value[i] for i in index.tolist()]
            _pyg.set_attr(out, key, tuple(kept) if isinstance(value, tuple) else kept)
