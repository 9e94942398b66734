"""PyG ``HeteroData`` (and Batches of it) for the self-supervised graph views:
``node_shuffling`` and ``feature_dropout`` type by type, ``edge_adding`` relation by relation,
``graph_diffusion`` on every relation from a node type to itself.

Every type draws with its own seed (``augkit.random.type_seed``) and the homogeneous kernel,
so a HeteroData with one node type and one edge type gets what the homogeneous transform
gives the equal ``Data`` under that seed. Types without the transform's target pass as they
are; a graph where no type has it is an InputError, as a ``Data`` without it is. A Batch of
HeteroData goes graph by graph (``hetero.per_graph``). Nothing here changes its input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from augkit.errors import InputError
from augkit.plugins.graph import _sampled, hetero
from augkit.plugins.graph import functional as F
from augkit.plugins.graph._subset import gather
from augkit.plugins.graph.functional._common import one_graph_ptr
from augkit.plugins.graph.functional._items import single_graph
from augkit.random import type_seed

#: The views this module gives HeteroData.
VIEWS = ("node_shuffling", "feature_dropout", "edge_adding", "graph_diffusion")


def _targets(transform: Any, data: Any) -> list[tuple[Any, str, Any]]:
    """``(type, name, value of the target or None)`` of every store the target lives in:
    node types for a node-level target, edge types for ``edge_attr``."""
    target = transform.target
    if target == "edge_attr":
        return [(et, hetero.edge_type_str(et), store.get(target))
                for et, store in data.edge_items()]
    return [(nt, nt, store.get(target)) for nt, store in data.node_items()]


def _same_type_relations(data: Any) -> list[tuple[str, str, str]]:
    return [et for et in data.edge_types
            if et[0] == et[2] and data[et].get("edge_index") is not None]


# ---- checks ----------------------------------------------------------------------------


def check(transform: Any, data: Any) -> None:
    """The per-type input check of the view ``transform`` on the HeteroData ``data``."""
    owner = transform.label()
    if transform.name == "edge_adding":
        hetero.resolve(transform, "p", [hetero.edge_type_str(et) for et in data.edge_types])
        return
    if transform.name == "graph_diffusion":
        _check_diffusion(transform, data)
        return
    targets = _targets(transform, data)
    named: set[str] = set()
    if transform.name == "feature_dropout":
        _, named = hetero.resolve(transform, "p", [name for _, name, _ in targets])
    target = transform.target
    if not any(value is not None for _, _, value in targets):
        where = "edge type" if target == "edge_attr" else "node type"
        raise InputError(f"{owner}: no {where} of the graph has {target!r}; allowed: a "
                         f"HeteroData whose types carry {target}")
    for key, name, value in targets:
        if value is None:
            if name in named:
                raise InputError(f"{owner}: p names type {name!r}, which has no {target}; "
                                 f"allowed: types with {target}, or \"*\"")
            continue
        rows = (hetero._num_nodes(data, key) if isinstance(key, str)
                else data[key].edge_index.size(1))
        if transform.name == "node_shuffling":
            ok = isinstance(value, torch.Tensor) and value.dim() > 0 and value.size(0) == rows
            allowed = f"a tensor with one row per node ({rows})"
        else:
            ok = (isinstance(value, torch.Tensor) and value.is_floating_point()
                  and value.dim() in (1, 2) and value.size(0) == rows)
            allowed = f"a floating tensor [rows] or [rows, features] with {rows} rows"
        if not ok:
            got = (f"{value.dtype} of shape {tuple(value.shape)}"
                   if isinstance(value, torch.Tensor) else type(value).__name__)
            raise InputError(f"{owner}: {target} of type {name!r} is {got}; allowed: {allowed}")


def _check_diffusion(transform: Any, data: Any) -> None:
    owner = transform.label()
    relations = _same_type_relations(data)
    if not relations:
        raise InputError(f"{owner}: the graph has no relation from a node type to itself; "
                         "allowed: a HeteroData with one, e.g. ('paper', 'cites', 'paper') "
                         "(a diffusion matrix is square)")
    for et in relations:
        n = hetero._num_nodes(data, et[0])
        if n > transform.max_nodes and not transform._push(n):
            raise InputError(f"{owner}: node type {et[0]!r} has {n} nodes; allowed: at most "
                             f"max_nodes ({transform.max_nodes}) for the exact dense solve")
        w = data[et].get("edge_weight")
        if isinstance(w, torch.Tensor) and w.dim() != 1:
            raise InputError(f"{owner}: edge_weight of edge type "
                             f"{hetero.edge_type_str(et)!r} has shape {tuple(w.shape)}; "
                             "allowed: one weight per edge ([num_edges])")


# ---- the views -------------------------------------------------------------------------


def apply(transform: Any, data: Any, params: dict[str, Any]) -> Any:
    """The view ``transform`` of a HeteroData or a Batch of HeteroData."""
    params = {"seed": 0, **params}  # graph_diffusion draws nothing, and has no seed
    return hetero.per_graph(transform, data, params, _APPLY[transform.name])


def _node_shuffling(transform: Any, data: Any, params: dict[str, Any]) -> Any:
    """Every node type's ``target`` rows permuted among that type's nodes."""
    out = hetero._copy(data)
    for key, name, value in _targets(transform, data):
        if not isinstance(value, torch.Tensor):
            continue
        perm = F.shuffle_perm(value.size(0), type_seed(params["seed"], name), value.device)
        out[key][transform.target] = gather(value, 0, perm)
    return out


def _feature_dropout(transform: Any, data: Any, params: dict[str, Any]) -> Any:
    """Every type's ``target`` dropped out at the type's rate."""
    targets = _targets(transform, data)
    p, _ = hetero.resolve(transform, "p", [name for _, name, _ in targets])
    out = hetero._copy(data)
    for key, name, value in targets:
        if not isinstance(value, torch.Tensor):
            continue
        seeds, applied = single_graph(type_seed(params["seed"], name), value.device)
        group = torch.zeros(value.size(0), dtype=torch.long, device=value.device)
        out[key][transform.target] = F.dropout_feature_items(value, p[name], seeds, applied,
                                                              group, 1)
    return out


def _edge_adding(transform: Any, data: Any, params: dict[str, Any]) -> Any:
    """New edges relation by relation: a relation from a node type to itself as the
    homogeneous transform adds them; a relation between two types to free (source,
    destination) pairs (``F.add_bipartite_edges``); a reverse relation holding the transposed
    edges gets the transposed new edges, so the pair stays mirrored."""
    names = [hetero.edge_type_str(et) for et in data.edge_types]
    p, named = hetero.resolve(transform, "p", names)
    seed = int(params["seed"])
    sampled = _sampled_batch(data)
    out = hetero._copy(data)
    for fwd, rev in hetero.reverse_pairs(data):
        groups: list[tuple[Any, Any]] = [(fwd, None)]
        if rev is not None:
            groups = ([(fwd, rev)] if hetero._mirrored(data, fwd, rev)
                      else [(fwd, None), (rev, None)])
        for et, follower in groups:
            name = hetero.edge_type_str(et)
            rate = p[name] if follower is None else hetero._pair_rate(
                transform, p, named, name, hetero.edge_type_str(follower))
            new = _new_edges(transform, data, et, rate, type_seed(seed, name))
            _append(transform, data, out, et, new, sampled)
            if follower is not None:
                _append(transform, data, out, follower, new.flip(0), sampled)
    return out


def _new_edges(transform: Any, data: Any, et: tuple[str, str, str], p: float,
               seed: int) -> torch.Tensor:
    ei = data[et].edge_index
    ns = hetero._num_nodes(data, et[0])
    if et[0] != et[2]:
        return F.add_bipartite_edges(ei, ns, hetero._num_nodes(data, et[2]), p, seed,
                                     duplicates=transform.duplicates)
    ptr = one_graph_ptr(ns, ei.device)
    if transform.undirected == "auto":
        und = F.symmetric_graphs(ei, ptr, torch.zeros(ei.size(1), dtype=torch.long,
                                                      device=ei.device))
    else:
        und = torch.tensor([bool(transform.undirected)], device=ei.device)
    seeds, applied = single_graph(seed, ei.device)
    new, _, _ = F.add_edge_items(ei, ptr, p, seeds, applied, und,
                                 self_loops=transform.self_loops,
                                 duplicates=transform.duplicates)
    return new


def _append(transform: Any, data: Any, out: Any, et: tuple[str, str, str],
            new: torch.Tensor, sampled: bool) -> None:
    """``new`` edges after the stored ones of relation ``et`` in ``out``, every edge-level
    attribute grown by ``edge_fill`` (the sampler's edge ids removed: a new edge has none)."""
    if new.size(1) == 0:
        return
    store = data[et]
    ei = store.edge_index
    e = ei.size(1)
    target = out[et]
    if sampled:
        _sampled.forget_edge_ids(target)
    target.edge_index = torch.cat([ei, new.to(ei.device)], 1)
    old_graph = torch.zeros(e, dtype=torch.long, device=ei.device)
    new_graph = torch.zeros(new.size(1), dtype=torch.long, device=ei.device)
    for key, value, dim in hetero._tensors(data, store, e):
        if sampled and key in _sampled.EDGE_ID_KEYS:
            continue
        rows = value.movedim(dim, 0)
        fill = transform._fill(rows, old_graph.to(rows.device), new_graph.to(rows.device), 1)
        target[key] = torch.cat([rows, fill]).movedim(0, dim)


def _graph_diffusion(transform: Any, data: Any, params: dict[str, Any]) -> Any:
    """Every relation from a node type to itself replaced by its diffusion, as the
    homogeneous transform replaces a graph's edges; relations between two types pass."""
    from torch_geometric.data import Data

    out = hetero._copy(data)
    sampled = _sampled_batch(data)
    for et in _same_type_relations(data):
        store = data[et]
        ei = store.edge_index
        w = store.get("edge_weight")
        graph = Data(edge_index=ei, num_nodes=hetero._num_nodes(data, et[0]))
        if isinstance(w, torch.Tensor):
            graph.edge_weight = w
        diffused = transform._one(graph, [])
        target = out[et]
        for key, _, _ in hetero._tensors(data, store, ei.size(1)):
            del target[key]  # the new edges have none of the old edges' attributes
        target.edge_index = diffused.edge_index
        target[transform.weight_key] = diffused[transform.weight_key]
        if sampled:
            _sampled.forget_edge_ids(target)
    return out


def _sampled_batch(data: Any) -> bool:
    from augkit.plugins.graph import _hetero_sampled

    return _hetero_sampled.is_sampled(data)


_APPLY: dict[str, Callable[[Any, Any, dict[str, Any]], Any]] = {
    "node_shuffling": _node_shuffling,
    "feature_dropout": _feature_dropout,
    "edge_adding": _edge_adding,
    "graph_diffusion": _graph_diffusion,
}
