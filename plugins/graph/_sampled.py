"""Sampled mini-batches (PyG's ``NeighborLoader`` and ``LinkNeighborLoader`` output): the
nodes a transform must keep, and the sampler's bookkeeping after nodes or edges go.

A sampled batch is a plain ``Data`` carrying any of ``batch_size``, ``n_id``, ``e_id``,
``input_id``, ``num_sampled_nodes`` or ``num_sampled_edges``. Its seed nodes are nodes
``0..batch_size-1``, the first hop of ``num_sampled_nodes`` and the nodes of
``edge_label_index`` (or ``src_index``/``dst_pos_index``/``dst_neg_index``); they are never
removed, and since nodes are compacted in order they stay first. ``n_id`` follows the kept
nodes, ``e_id`` the kept edges, those seed indices are relabelled, and
``num_sampled_nodes``/``num_sampled_edges`` are recounted per hop slice (the sampler stores
nodes and edges hop by hop); where their sums do not match the graph they are removed, since
per-hop counts that cannot be recounted would mislead ``trim_to_layer``. The per-seed
attributes (``input_id``, ``edge_label``, ``seed_time``, ...) stay as they are. A transform
that moves or creates edges (rewiring, adding, diffusion) removes ``e_id`` and
``num_sampled_edges`` (:func:`forget_edge_ids`): such an edge has no id in the full graph and
no hop.
"""

from __future__ import annotations

from typing import Any

import torch

from augkit.errors import InputError
from augkit.plugins.graph import _pyg
from augkit.plugins.graph import functional as F
from augkit.plugins.graph._subset import take

SAMPLED_KEYS = ("batch_size", "n_id", "e_id", "input_id", "num_sampled_nodes",
                "num_sampled_edges")
# One entry per seed or label edge, never per node or edge: they stay as they are, since every
# seed stays (a tensor of them may have as many rows as the batch has nodes or edges).
PER_SEED_KEYS = ("batch_size", "input_id", "seed_time", "edge_label", "edge_label_time")
# Node positions of link seeds: edge_label_index, or the triplet keys of
# LinkNeighborLoader(neg_sampling="triplet").
SEED_INDEX_KEYS = ("edge_label_index", "src_index", "dst_pos_index", "dst_neg_index")


def is_sampled(data: Any) -> bool:
    """Whether ``data`` is a sampled mini-batch (a Data, not a Batch, with a sampler key)."""
    mapping = _pyg.plain_mapping(data)
    if mapping is not None:  # PyG's storage never holds None: a key present is set
        return not mapping.keys().isdisjoint(SAMPLED_KEYS)
    if _pyg.is_batch(data):
        return False
    return any(_pyg.get(data, key) is not None for key in SAMPLED_KEYS)


def seed_mask(data: Any, owner: str) -> torch.Tensor:
    """Boolean mask of the nodes that must stay: the first ``batch_size`` nodes, the first hop
    of ``num_sampled_nodes`` and the nodes of the link seeds (:data:`SEED_INDEX_KEYS`)."""
    return store_seed_mask(data, _pyg.num_nodes(data), _pyg.edge_index_of(data).device, owner,
                           SEED_INDEX_KEYS)


def store_seed_mask(store: Any, n: int, device: torch.device, owner: str,
                    index_keys: tuple[str, ...], what: str = "") -> torch.Tensor:
    """:func:`seed_mask` of ``store`` (a Data, or a node store of a HeteroData) with ``n``
    nodes: ``batch_size``, the first hop of ``num_sampled_nodes`` and the node indices under
    ``index_keys``; ``what`` names the store in an error (``" of node type 'paper'"``)."""
    mask = torch.zeros(n, dtype=torch.bool, device=device)
    bs = _pyg.get(store, "batch_size")
    if bs is not None:
        if isinstance(bs, torch.Tensor) and bs.numel() == 1:
            bs = int(bs)
        if not isinstance(bs, int) or isinstance(bs, bool) or not 0 <= bs <= n:
            raise InputError(f"{owner}: batch_size{what} is {bs!r}; allowed: an int in 0..{n} "
                             "(the seed nodes come first in a sampled mini-batch)")
        mask[:bs] = True
    hops = _counts(_pyg.get(store, "num_sampled_nodes"))
    if hops is not None and sum(hops) == n and hops:
        mask[:hops[0]] = True
    for key in index_keys:
        idx = _pyg.get(store, key)
        if isinstance(idx, torch.Tensor) and idx.numel():
            check_node_index(idx, f"{key}{what}", n, owner)
            mask[idx.reshape(-1)] = True
    return mask


def check_node_index(idx: torch.Tensor, key: str, n: int, owner: str) -> None:
    """An InputError naming ``key`` unless ``idx`` is a LongTensor of node ids in 0..n-1."""
    if idx.numel() and (idx.dtype != torch.long or int(idx.min()) < 0 or int(idx.max()) >= n):
        raise InputError(f"{owner}: {key} holds {idx.dtype} values from {int(idx.min())} to "
                         f"{int(idx.max())}; allowed: a LongTensor of node ids in 0..{n - 1}")


def _counts(value: Any) -> list[int] | None:
    """Per-hop counts as a list of ints, or None when ``value`` is not a 1-D count list."""
    if isinstance(value, torch.Tensor) and value.dim() == 1:
        return [int(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) for v in value):
        return list(value)
    return None


def _recount(value: Any, kept: torch.Tensor) -> Any:
    """``value`` (per-hop counts over consecutive slices) recounted over the kept positions
    (a boolean mask), in ``value``'s own type; None where the counts do not cover ``kept``."""
    hops = _counts(value)
    if hops is None or sum(hops) != kept.numel():
        return None
    bounds = torch.tensor([0, *hops], dtype=torch.long).cumsum(0)
    csum = torch.zeros(kept.numel() + 1, dtype=torch.long)
    csum[1:] = kept.cpu().long().cumsum(0)
    new = (csum[bounds[1:]] - csum[bounds[:-1]]).tolist()
    if isinstance(value, torch.Tensor):
        return torch.tensor(new, dtype=value.dtype, device=value.device)
    return type(value)(new)


def finish(data: Any, out: Any, edge_idx: torch.Tensor, node_mask: torch.Tensor | None = None,
           ) -> Any:
    """The sampler's bookkeeping of ``out`` (``data`` with the edges ``edge_idx`` and, when
    ``node_mask`` is given, the nodes where it is true): ``n_id``/``e_id`` aligned, the
    link seeds' node indices relabelled, ``num_sampled_nodes``/``num_sampled_edges`` recounted
    or removed."""
    finish_edges(data, out, edge_idx, _pyg.edge_index_of(data).size(1))
    if node_mask is not None:
        finish_nodes(data, out, node_mask, SEED_INDEX_KEYS)
    # No node gone: the link seeds' node indices hold as they are.
    keep_per_seed(data, out, SEED_INDEX_KEYS if node_mask is None else ())
    return out


def keep_per_seed(store: Any, out: Any, more: tuple[str, ...] = ()) -> None:
    """The :data:`PER_SEED_KEYS` of ``store`` (a Data or a store), and ``more``, into ``out``
    as they are."""
    for key in (*PER_SEED_KEYS, *more):
        value = _pyg.get(store, key)
        if value is not None:
            _pyg.set_attr(out, key, value)


def finish_edges(store: Any, out: Any, edge_idx: torch.Tensor, num_edges: int) -> None:
    """``e_id`` and ``num_sampled_edges`` of ``out`` (``store``, a Data or an edge store, with
    the edges ``edge_idx`` of its ``num_edges``)."""
    edge_mask = torch.zeros(num_edges, dtype=torch.bool)
    edge_mask[edge_idx.cpu()] = True
    e_id = _pyg.get(store, "e_id")
    if isinstance(e_id, torch.Tensor) and e_id.dim() == 1 and e_id.numel() == num_edges:
        _pyg.set_attr(out, "e_id", e_id.index_select(0, edge_idx.to(e_id.device)))
    _set_or_drop(out, "num_sampled_edges",
                 _recount(_pyg.get(store, "num_sampled_edges"), edge_mask))


def finish_nodes(store: Any, out: Any, node_mask: torch.Tensor, index_keys: tuple[str, ...],
                 ) -> torch.Tensor:
    """``n_id``, the node indices under ``index_keys`` (relabelled) and ``num_sampled_nodes``
    of ``out`` (``store``, a Data or a node store, with the nodes where ``node_mask`` is
    true); returns the new id of every old node (-1: removed)."""
    new_id, kept = F.relabel_mask(node_mask)
    n_id = _pyg.get(store, "n_id")
    if isinstance(n_id, torch.Tensor) and n_id.dim() == 1 and n_id.numel() == node_mask.numel():
        _pyg.set_attr(out, "n_id", n_id.index_select(0, kept.to(n_id.device)))
    for key in index_keys:
        idx = _pyg.get(store, key)
        if isinstance(idx, torch.Tensor):
            _pyg.set_attr(out, key, new_id.to(idx.device)[idx])
    _set_or_drop(out, "num_sampled_nodes",
                 _recount(_pyg.get(store, "num_sampled_nodes"), node_mask))
    return new_id


#: What :func:`forget_edge_ids` removes.
EDGE_ID_KEYS = ("e_id", "num_sampled_edges")


def forget_edge_ids(out: Any) -> Any:
    """``out`` (a Data or an edge store of a sampled batch whose edges were moved or created)
    without ``e_id`` and ``num_sampled_edges``; returns ``out``."""
    for key in EDGE_ID_KEYS:
        if _pyg.get(out, key) is not None:
            del out[key]
    return out


def _set_or_drop(out: Any, key: str, value: Any) -> None:
    if value is not None:
        _pyg.set_attr(out, key, value)
    elif _pyg.get(out, key) is not None:
        del out[key]


def keep_nodes_with_seeds(data: Any, keep: torch.Tensor, owner: str) -> Any:
    """``data`` with the nodes where ``keep`` or :func:`seed_mask` is true, compacted in
    order (so the seeds stay first), with its sampler bookkeeping."""
    ei = _pyg.edge_index_of(data)
    dev = ei.device
    mask = keep.to(dev) | seed_mask(data, owner)
    new_id, kept = F.relabel_mask(mask)
    out_ei, eid = F.induced_edges(ei, new_id.to(dev))
    out = take(data, out_ei.to(dev), eid.to(dev), kept.to(dev))
    return finish(data, out, eid.to(dev), mask)


def node_dropout_sampled(data: Any, p: float, seed: int, min_nodes: int, owner: str) -> Any:
    """``node_dropout`` of a sampled batch: the same draw as on any graph, the seeds kept
    (and counted towards ``min_nodes``)."""
    ei = _pyg.edge_index_of(data)
    n = _pyg.num_nodes(data)
    seeds = seed_mask(data, owner)
    # The seeds count towards min_nodes: no random extra node once they are enough.
    floor = 0 if int(seeds.sum()) >= min_nodes else min_nodes
    _, nid, _, _ = F.dropout_node(ei, p, seed, num_nodes=n, min_nodes=floor)
    keep = torch.zeros(n, dtype=torch.bool, device=ei.device)
    keep[nid.to(ei.device)] = True
    return keep_nodes_with_seeds(data, keep, owner)


def edge_dropout_sampled(data: Any, p: float, seed: int, undirected: Any) -> Any:
    """``edge_dropout`` of a sampled batch: the same draw, ``e_id`` and
    ``num_sampled_edges`` following the kept edges."""
    ei = _pyg.edge_index_of(data)
    if undirected == "auto":
        undirected = F.is_symmetric(ei)
    n = _pyg.num_nodes(data) if undirected else 0
    out_ei, eid = F.dropout_edge(ei, p, seed, undirected=bool(undirected), num_nodes=n)
    eid = eid.to(ei.device)
    return finish(data, take(data, out_ei.to(ei.device), eid), eid)
