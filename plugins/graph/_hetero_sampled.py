"""Sampled ``HeteroData`` mini-batches (PyG's ``NeighborLoader``, ``LinkNeighborLoader`` and
``HGTLoader`` output): the nodes a transform must keep per node type, and the sampler's
bookkeeping per type after nodes or edges go (what ``_sampled`` does for a ``Data``, with its
helpers, store by store).

A sampled HeteroData has a sampler key (:data:`_sampled.SAMPLED_KEYS`) in some store: every
node store ``n_id`` and ``num_sampled_nodes`` (per hop), every edge store ``e_id`` and
``num_sampled_edges``; the input node type ``batch_size`` and ``input_id`` (its first
``batch_size`` nodes are the seeds); a link batch ``edge_label_index`` on the input edge type
(row 0 nodes of its source type, row 1 of its destination type), or ``src_index`` on the
source type's store and ``dst_pos_index``/``dst_neg_index`` on the destination type's.

Seeds of a node type: its first ``batch_size`` nodes, the first hop of its
``num_sampled_nodes``, the nodes its link indices name. They are never removed and, nodes
being compacted in order, stay first. Per type ``n_id`` follows the kept nodes and ``e_id``
the kept edges, the link indices are relabelled, ``num_sampled_nodes``/``num_sampled_edges``
are recounted per hop slice (removed where they do not add up), and the per-seed attributes
(``input_id``, ``edge_label``, ``seed_time``, ...) stay as they are, since every seed stays.
"""

from __future__ import annotations

from typing import Any

import torch

from augkit.errors import InputError
from augkit.plugins.graph import _sampled

#: Node indices of link seeds kept in node stores (LinkNeighborLoader, neg_sampling triplet).
NODE_INDEX_KEYS = ("src_index", "dst_pos_index", "dst_neg_index")
LINK_KEY = "edge_label_index"
_SAMPLED = frozenset(_sampled.SAMPLED_KEYS)


def _stores(data: Any) -> list[Any]:
    return [*(data[nt] for nt in data.node_types), *(data[et] for et in data.edge_types)]


def is_sampled(data: Any) -> bool:
    """Whether the HeteroData ``data`` is a sampled mini-batch (a store has a sampler key)."""
    return any(not _SAMPLED.isdisjoint(store.keys()) for store in data.stores)


def _num_edges(store: Any) -> int:
    ei = store.get("edge_index")
    return 0 if ei is None else int(ei.size(1))


def seed_masks(data: Any, owner: str) -> dict[str, torch.Tensor]:
    """Per node type, the boolean mask of its seed nodes (see the module docstring); an
    InputError naming the store where a seed key is out of range."""
    out = {}
    for nt in data.node_types:
        store = data[nt]
        n = int(store.num_nodes or 0)
        out[nt] = _sampled.store_seed_mask(store, n, torch.device("cpu"), owner,
                                           NODE_INDEX_KEYS, f" of node type {nt!r}")
    for et in data.edge_types:
        idx = data[et].get(LINK_KEY)
        if not isinstance(idx, torch.Tensor):
            continue
        what = f"{LINK_KEY} of edge type {'__'.join(et)!r}"
        if idx.dim() != 2 or idx.size(0) != 2:
            raise InputError(f"{owner}: {what} has shape {tuple(idx.shape)}; allowed: "
                             "[2, num_label_edges]")
        for row, nt in ((0, et[0]), (1, et[2])):
            _sampled.check_node_index(idx[row], what, out[nt].numel(), owner)
            out[nt][idx[row].cpu()] = True
    return out


def finish(data: Any, out: Any, node_masks: dict[str, torch.Tensor] | None,
           edge_ids: dict[tuple[str, str, str], torch.Tensor | None]) -> Any:
    """The sampler's bookkeeping of ``out`` (``data`` with, per node type, the nodes where
    ``node_masks`` is true, and per edge type the edges ``edge_ids``, None: all of them)."""
    new_ids = {}
    if node_masks is not None:
        for nt in data.node_types:
            new_ids[nt] = _sampled.finish_nodes(data[nt], out[nt], node_masks[nt].cpu(),
                                                NODE_INDEX_KEYS)
    for et in data.edge_types:
        store = data[et]
        e = _num_edges(store)
        eid = edge_ids.get(et)
        if eid is None:
            eid = torch.arange(e)
        _sampled.finish_edges(store, out[et], eid.cpu(), e)
        idx = store.get(LINK_KEY)
        if isinstance(idx, torch.Tensor):  # relabelled, or as it was when no node went
            out[et][LINK_KEY] = idx if not new_ids else torch.stack(
                [new_ids[et[0]].to(idx.device)[idx[0]], new_ids[et[2]].to(idx.device)[idx[1]]])
    for original, store in zip(_stores(data), _stores(out), strict=True):
        _sampled.keep_per_seed(original, store)  # every seed stays: so does what is per seed
    return out
