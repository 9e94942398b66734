"""``graph_smote`` on a target node type of a PyG ``HeteroData``.

The target type's store is oversampled exactly as a homogeneous ``Data`` is
(``functional.graph_smote`` runs on a ``Data`` holding that store's node-level tensors): the
same draws of source ``s`` and neighbour ``t`` among same-class training nodes, the same
``x``, ``y``, masks and copied attributes. Then every edge type with the target type at one
end or both gets the new nodes' edges by the homogeneous rule, one end at a time:

- ``copy_source``: an edge ``(s, v)`` of a relation whose source type is the target type
  gives ``(new, v)``, an edge ``(v, s)`` of a relation whose destination type is the target
  type gives ``(v, new)``; a relation from the target type to itself gets both, as on a Data.
- ``mix``: each neighbour ``v`` of ``s`` is taken with probability ``1 - u`` and each of
  ``t`` with probability ``u``, one counter-based draw per (new node, ``v``) keyed by the
  seed of ``v``'s node type (the call's seed for the target type itself,
  ``hetero.type_seed(seed, type)`` for another), so a relation and its reverse relation take
  the same neighbours and stay each other's transpose.

New edges come after a relation's original edges and copy the edge-level attributes of the
edge they copy. Other node types and the relations that do not touch the target type are
left as they are; the input is not modified. With one node type and one edge type the result
is ``functional.graph_smote`` of ``data.to_homogeneous()``, node for node and edge for edge;
with one node type and several edge types the nodes are the same and the edges the same
multiset (``to_homogeneous`` lists edges relation by relation, so here the new edges come
after each relation's own, there after all of them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from augkit.errors import InputError
from augkit.plugins.graph import hetero

from .functional import DEFAULT_NEIGHBOURS, _grown_by_source, graph_smote, incident_edges
from .functional import _mix_keep as mix_keep

#: The store keys the oversampled node type needs.
REQUIRED_KEYS = ("x", "y", "train_mask")


def target_node_type(data: Any, node_type: str | None, owner: str) -> str:
    """The node type to oversample: ``node_type`` when the graph has it, else the one node
    type with ``y``; an InputError naming the types otherwise."""
    types = list(data.node_types)
    if node_type is not None:
        if node_type not in types:
            raise InputError(f"{owner}: node_type {node_type!r} is not a node type of the graph; "
                             f"allowed: {', '.join(map(repr, types)) or 'none'}")
        return node_type
    labelled = [nt for nt in types if data[nt].get("y") is not None]
    if len(labelled) == 1:
        return labelled[0]
    if not labelled:
        raise InputError(f"{owner}: no node type of the HeteroData has y; allowed: a node type "
                         f"with x, y and train_mask (the graph's types: "
                         f"{', '.join(map(repr, types)) or 'none'})")
    raise InputError(f"{owner}: node types {', '.join(map(repr, labelled))} all have y, so "
                     "node_type must name the one to oversample; allowed: node_type set to "
                     "one of them")


def _store_as_data(data: Any, node_type: str) -> Any:
    """A ``Data`` holding the node-level tensors of ``node_type`` (no edges)."""
    from torch_geometric.data import Data

    store = data[node_type]
    n = hetero._num_nodes(data, node_type)
    out = Data()
    for key, value in store.items():
        if isinstance(value, torch.Tensor) and value.dim() and value.size(0) == n:
            out[key] = value
    if "num_nodes" in store or not len(out.keys()):
        out.num_nodes = n
    return out


def _neighbour_seed(seed: int, node_type: str, target: str) -> int:
    return int(seed) if node_type == target else hetero.type_seed(seed, node_type)


def typed_new_edges(
    edge_index: torch.Tensor,
    edge_type: hetero.EdgeType,
    target: str,
    num_target: int,
    src: np.ndarray,
    nbr: np.ndarray,
    steps: np.ndarray,
    rule: str,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(new rows, new cols, id of the edge each copies) of relation ``edge_type`` for new
    target-type nodes ``num_target + q``: ``functional._new_edges`` with each end taken only
    where the relation has the target type."""
    row, col = edge_index.cpu().numpy()
    a, _, b = edge_type
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    ids: list[np.ndarray] = []
    parents = [(src, None)] if rule == "copy_source" else [(src, True), (nbr, False)]
    for parent, from_source in parents:
        if a == target:  # (parent, v) -> (new, v)
            q, e = incident_edges(row, parent, num_target)
            if from_source is not None:
                keep = mix_keep(_neighbour_seed(seed, b, target), q, col[e], steps, from_source)
                q, e = q[keep], e[keep]
            rows.append(num_target + q)
            cols.append(col[e])
            ids.append(e)
        if b == target:  # (v, parent) -> (v, new)
            q, e = incident_edges(col, parent, num_target)
            if from_source is not None:
                keep = mix_keep(_neighbour_seed(seed, a, target), q, row[e], steps, from_source)
                q, e = q[keep], e[keep]
            rows.append(row[e])
            cols.append(num_target + q)
            ids.append(e)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(ids)


def _grown_edges(ei: torch.Tensor, edge_type: hetero.EdgeType, target: str, n: int,
                 src: np.ndarray, nbr: np.ndarray, steps: np.ndarray, rule: str, seed: int,
                 ) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(edge_index, copied)`` of relation ``edge_type`` grown by the new nodes' edges (the
    ids of the edges they copy), None when it gains none. A relation from the target type to
    itself under ``copy_source`` takes the homogeneous path's fused kernel, which writes the
    same edges straight into the output."""
    if rule == "copy_source" and edge_type[0] == edge_type[2] == target:
        fused = _grown_by_source(ei, src, n)
        if fused is not None:
            return None if fused[1].numel() == 0 else fused
    new_row, new_col, copied = typed_new_edges(ei, edge_type, target, n, src, nbr, steps,
                                               rule, seed)
    if not len(copied):
        return None
    added = torch.as_tensor(np.stack([new_row, new_col]), device=ei.device)
    return torch.cat([ei, added], dim=1), torch.as_tensor(copied)


def graph_smote_hetero(
    data: Any,
    *,
    node_type: str | None = None,
    k_neighbors: Any = DEFAULT_NEIGHBOURS,
    sampling_strategy: Any = "auto",
    edges: str = "copy_source",
    seed: int = 0,
    owner: str = "graph_smote",
    return_info: bool = False,
) -> Any:
    """``graph_smote`` of the node type ``node_type`` of a HeteroData (see the module
    docstring); ``info`` (``return_info=True``) as on a Data, with node ids of that type."""
    if hetero._is_batch(data):
        raise InputError(f"{owner}: got a Batch of {data.num_graphs} HeteroData graphs; "
                         "allowed: one HeteroData (apply graph_smote to the training graph "
                         "before batching, or to each graph of batch.to_data_list())")
    hetero.check_hetero(data, owner)
    target = target_node_type(data, node_type, owner)
    missing = [key for key in REQUIRED_KEYS if data[target].get(key) is None]
    if missing:
        raise InputError(f"{owner}: node type {target!r} has no {missing[0]}; allowed: a node "
                         "type with x, y and train_mask (synthetic nodes are made from its "
                         "training nodes only)")
    n = hetero._num_nodes(data, target)
    grown, info = graph_smote(_store_as_data(data, target), k_neighbors=k_neighbors,
                              sampling_strategy=sampling_strategy, edges=edges, seed=seed,
                              owner=f"{owner} (node type {target!r})", return_info=True)
    out = hetero._copy(data)
    for key, value in grown.items():
        out[target][key] = value
    src, nbr = info["source"].numpy(), info["neighbour"].numpy()
    steps = info["step"].numpy()
    if len(src):
        for et in data.edge_types:
            store = data[et]
            ei = store.get("edge_index")
            if ei is None or target not in (et[0], et[2]):
                continue
            grown = _grown_edges(ei, et, target, n, src, nbr, steps, edges, seed)
            if grown is None:
                continue
            out[et].edge_index, copied_t = grown
            for key, value, dim in hetero._tensors(data, store, ei.size(1)):
                extra = value.index_select(dim, copied_t.to(value.device))
                out[et][key] = torch.cat([value, extra], dim=dim)
    return (out, info) if return_info else out
