"""Random rewiring: picked pairs move to free places of their own graph.

Conventions: ``batch`` is the graph id of every node (zeros for a single graph) and ``ptr``
the node offsets of the graphs (``[0, n]`` for a single graph); nodes of a graph are
contiguous, as in a PyG ``Batch``, and edges never cross graphs; like every function of
the functional API, these trust their caller with ids, ``batch`` and ``ptr`` (see the
package's docstring). The key of a pair is ``u * N + v`` (``N`` = total number of nodes),
or on an undirected graph its pair key ``min * N + max`` (``undirected.pair_keys``), so
both stored directions share it. Self-loops never move.

The torch code runs on any device in whole-array passes (the only Python loop runs over
rounds); with numba the algorithm is one kernel call (``kernels.rewiring``).
"""

from __future__ import annotations

import numpy as np
import torch

from augkit._counter import chain_prefix
from augkit.plugins.graph._backend import HAVE_NUMBA, use_numba
from augkit.plugins.graph.functional._common import (
    _first_of_equal,
    _graph_info,
    _member,
    _merge_sorted,
    _new_edge_index,
    _priority,
    _randint,
    _rank_in_group,
    _sorted,
    _take,
    _where,
)
from augkit.plugins.graph.functional.swaps import _cached_units
from augkit.plugins.graph.functional.undirected import (
    _unique_sorted,
    is_undirected_fast,
    pair_keys,
)
from augkit.plugins.graph.kernels.streams import STREAM_DEAL, STREAM_PICK, STREAM_PROPOSE

if HAVE_NUMBA:
    from augkit.plugins.graph.kernels import rewiring as _rewiring_kernels


# ---- random rewiring ----------------------------------------------------------------------


def rewire_random(
    edge_index: torch.Tensor,
    num_nodes: int,
    ratio: float,
    seed: int,
    *,
    batch: torch.Tensor | None = None,
    ptr: torch.Tensor | None = None,
    undirected: bool | None = None,
    max_rounds: int = 32,
    backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Move a share ``ratio`` of the edges to random new places inside their own graph.

    Every non-loop edge (on an undirected graph: every unordered pair, both stored directions
    together; on any graph: every stored copy of a pair together) is picked independently with
    probability ``ratio``. Each picked pair moves to a pair drawn uniformly from the pairs of
    its graph that are neither a self-loop nor an edge of the input, distinct from every other
    moved pair. Edges keep their position in ``edge_index``, so every edge-level attribute
    moves with its edge and the number of edges never changes. A graph with fewer free pairs
    than picked pairs moves as many as it has room for; the others stay (so does, with
    probability below 4**-max_rounds, a pair that found no free place). Self-loops stay.

    ``backend`` (``"auto"``, ``"torch"`` or ``"numba"``, see ``_backend``): with numba the
    direction and the sorted set of pairs present come from the counting sorts the
    degree-preserving swaps use, O(E + n) (``swaps._units_numba``), instead of comparison
    sorts of the keys, and the rest runs as one kernel call
    (``kernels.rewiring.rewire_random``, its lookups prefetched a few ahead), where the
    torch path is about a hundred small tensor ops. Both give the same result
    (within a round the first of equal proposals wins).

    Returns ``(new_edge_index, moved)`` with ``moved`` the mask of edges that moved.

    >>> ei = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    >>> out, moved = rewire_random(ei, 5, 0.5, seed=0)
    >>> out.shape == ei.shape and is_undirected_fast(out, 5)
    True
    """
    numba = use_numba(backend, edge_index)
    dev = edge_index.device
    n = int(num_nodes)
    e = edge_index.size(1)
    if e == 0 or n < 2 or ratio <= 0:
        return edge_index.clone(), torch.zeros(e, dtype=torch.bool, device=dev)
    batch, ptr = _graph_info(batch, ptr, n, dev)
    if numba:
        return _rewire_random_numba(edge_index, n, ratio, seed, batch, ptr, undirected,
                                    max_rounds)
    if undirected is None:
        undirected = is_undirected_fast(edge_index, n)
    return _rewire_random_torch(edge_index, n, ratio, seed, batch, ptr, undirected,
                                max_rounds)


def _rewire_random_torch(
    edge_index: torch.Tensor, n: int, ratio: float, seed: int, batch: torch.Tensor,
    ptr: torch.Tensor, undirected: bool, max_rounds: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    dev = edge_index.device
    num_graphs = ptr.numel() - 1
    moved = torch.zeros(edge_index.size(1), dtype=torch.bool, device=dev)
    src, dst = edge_index
    loop = src == dst
    key = _keys(src, dst, n, undirected)
    pick = (_priority(seed, STREAM_PICK, key) < int(ratio * (1 << 40))) & ~loop
    pos = _where(pick)
    if pos.numel() == 0:
        return edge_index.clone(), moved
    units, inv = torch.unique(_take(key, pos), return_inverse=True)
    ugraph = _take(batch, units // n)
    k_g = torch.bincount(ugraph, minlength=num_graphs)
    existing = _unique_sorted(_sorted(key[~loop]))
    d_g = torch.bincount(_take(batch, existing // n), minlength=num_graphs)
    n_g = ptr[1:] - ptr[:-1]
    p_g = n_g * (n_g - 1) // (2 if undirected else 1)
    room = torch.minimum(k_g, p_g - d_g)
    urank = _rank_in_group(ugraph, num_graphs)
    wants = urank < _take(room, ugraph)
    new_a = torch.full_like(units, -1)
    new_b = torch.full_like(units, -1)

    # Dense graphs (few free pairs): enumerate their pairs (at most 4x their edges + moves,
    # so still linear) and deal the free ones out in random order.
    dense = (p_g <= 4 * (d_g + k_g)) & (room > 0)
    udense = _take(dense, ugraph)
    if bool(dense.any()):
        dn = torch.where(dense, n_g, 0)
        sq = dn * dn
        total = int(sq.sum())
        pg = torch.repeat_interleave(torch.arange(num_graphs, device=dev), sq, output_size=total)
        t = torch.arange(total, device=dev) - _take(torch.cumsum(sq, 0) - sq, pg)
        npg = _take(n_g, pg)
        la, lb = t // npg, t % npg
        ok = _where((la < lb) if undirected else (la != lb))
        pg, la, lb = _take(pg, ok), _take(la, ok), _take(lb, ok)
        off = _take(ptr, pg)
        ck = (off + la) * n + (off + lb)
        free = _where(~_member(existing, ck))
        pg, ck = _take(pg, free), _take(ck, free)
        order = torch.sort((pg << 40) | _priority(seed, STREAM_DEAL, ck)).indices
        pg, ck = _take(pg, order), _take(ck, order)
        chosen = ck[_rank_in_group(pg, num_graphs) < _take(room, pg)]
        target = _where(wants & udense)
        # Both lists are ordered by (graph, rank), so they line up one to one.
        new_a.index_copy_(0, target, chosen // n)
        new_b.index_copy_(0, target, chosen % n)

    # Sparse graphs: rejection rounds; a draw is free with probability >= 3/4.
    pending = _where(wants & ~udense)
    taken = torch.empty(0, dtype=torch.long, device=dev)
    for rnd in range(max_rounds):
        if pending.numel() == 0:
            break
        pk = _take(units, pending)
        g = _take(ugraph, pending)
        ng = _take(n_g, g)
        a = _randint(seed, STREAM_PROPOSE + 2 * rnd, pk, ng)
        b = _randint(seed, STREAM_PROPOSE + 2 * rnd + 1, pk, ng - 1)
        b = b + (b >= a).long()
        if undirected:
            a, b = torch.minimum(a, b), torch.maximum(a, b)
        off = _take(ptr, g)
        a, b = a + off, b + off
        ck = a * n + b
        ok = ~_member(existing, ck) & ~_member(taken, ck) & _first_of_equal(ck)
        okw = _where(ok)
        won = _take(pending, okw)
        new_a.index_copy_(0, won, _take(a, okw))
        new_b.index_copy_(0, won, _take(b, okw))
        taken = _merge_sorted(taken, torch.sort(_take(ck, okw)).values)
        pending = pending[~ok]

    ea, eb = _take(new_a, inv), _take(new_b, inv)
    go = _where(ea >= 0)
    epos = _take(pos, go)
    ua, ub = _take(ea, go), _take(eb, go)
    out = edge_index.clone()
    if undirected:
        flip = _take(src, epos) > _take(dst, epos)
        ua, ub = torch.where(flip, ub, ua), torch.where(flip, ua, ub)
    out[0].index_copy_(0, epos, ua)
    out[1].index_copy_(0, epos, ub)
    moved.index_fill_(0, epos, True)
    return out, moved


def _keys(src: torch.Tensor, dst: torch.Tensor, n: int, undirected: bool) -> torch.Tensor:
    """The key of every edge: its pair key on an undirected graph, ``src * n + dst``
    otherwise."""
    return pair_keys(src, dst, n) if undirected else src * n + dst


# From this many edges the kernel writes the moves beside the swap units instead of looking
# every picked edge up: the pass it adds costs more than lookups that stay in cache on smaller
# graphs (bench graph_structure/edge_rewiring, random, the largest graph).
_UNIT_WALK_EDGES = 1 << 21


def _rewire_random_numba(
    edge_index: torch.Tensor, n: int, ratio: float, seed: int, batch: torch.Tensor,
    ptr: torch.Tensor, undirected: bool | None, max_rounds: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`rewire_random` on the CPU as one kernel call, the same result. When the
    direction is detected, it and the pairs present come from the swap units of
    ``edge_index`` (see :func:`~.swaps._cached_units`), whose positions also spare the kernel a
    lookup per moved edge on a large graph."""
    edge_index = edge_index.long().contiguous()
    batch, ptr = batch.long().contiguous(), ptr.long().contiguous()
    existing = units = None
    if undirected is None:
        # Detected direction: the units' distinct keys are then every pair present.
        units = _cached_units(edge_index, n, None)
        existing, undirected = units[0], units[4]
    empty = np.empty(0, np.int64)
    ukeys_np = upos_np = urev_np = empty
    if units is not None and (not undirected or units[3] is not None) \
            and edge_index.size(1) >= _UNIT_WALK_EDGES:
        ukeys_np, upos_np = units[1].numpy(), units[2].numpy()
        urev_np = units[3].numpy() if undirected else empty
    if existing is None:
        src, dst = edge_index
        existing = _unique_sorted(_sorted(_keys(src, dst, n, undirected)[src != dst]))
    arr = edge_index.numpy()
    out = _new_edge_index(edge_index)
    moved = torch.zeros(edge_index.size(1), dtype=torch.bool)
    o = out.numpy()
    _rewiring_kernels.rewire_random(
        arr[0], arr[1], n, undirected, existing.contiguous().numpy(), ukeys_np, upos_np,
        urev_np, batch.numpy(), ptr.numpy(), np.uint64(chain_prefix((int(seed),), 2)),
        int(ratio * (1 << 40)), int(max_rounds), o[0], o[1], moved.numpy())
    return out, moved


# ---- random rewiring between two node sets ---------------------------------------------------


def rewire_random_bipartite(
    edge_index: torch.Tensor,
    num_src: int,
    num_dst: int,
    ratio: float,
    seed: int,
    *,
    max_rounds: int = 32,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`rewire_random` of one graph whose edges run from a source set (ids
    ``0..num_src-1`` in ``edge_index[0]``) to a destination set (ids ``0..num_dst-1`` in
    ``edge_index[1]``), two id spaces (a HeteroData relation between two node types): a moved
    edge stays a source-destination pair.

    Every stored copy of a pair (key ``src * num_dst + dst``) is picked together with
    probability ``ratio``; each picked pair moves to a pair drawn uniformly from the
    source-destination pairs that are not an edge of the input, distinct from every other
    moved pair. Edges keep their position in ``edge_index``, so their attributes follow. With
    fewer free pairs than picked pairs the picked pairs of smallest key move and the others
    stay (so does, with probability below 4**-max_rounds, a pair that found no free place).
    Torch ops only.

    Returns ``(new_edge_index, moved)`` with ``moved`` the mask of edges that moved.

    >>> ei = torch.tensor([[0, 0, 1], [0, 2, 1]])
    >>> out, moved = rewire_random_bipartite(ei, 2, 3, 1.0, seed=0)
    >>> bool((out[0] < 2).all() and (out[1] < 3).all()), int(moved.sum())
    (True, 3)
    """
    dev = edge_index.device
    e = edge_index.size(1)
    ns, nd = int(num_src), int(num_dst)
    moved = torch.zeros(e, dtype=torch.bool, device=dev)
    if e == 0 or ratio <= 0:
        return edge_index.clone(), moved
    src, dst = edge_index
    key = src * nd + dst
    pos = _where(_priority(seed, STREAM_PICK, key) < int(ratio * (1 << 40)))
    if pos.numel() == 0:
        return edge_index.clone(), moved
    units, inv = torch.unique(_take(key, pos), return_inverse=True)
    existing = torch.unique(key)
    room = min(units.numel(), ns * nd - existing.numel())
    new = torch.full_like(units, -1)
    if room > 0 and ns * nd <= 4 * (existing.numel() + units.numel()):
        # Few free pairs: enumerate every pair (linear in the edges here) and deal the free
        # ones out in random order.
        free = torch.arange(ns * nd, device=dev)
        free = free[~_member(existing, free)]
        order = torch.sort(_priority(seed, STREAM_DEAL, free), stable=True).indices
        new[:room] = _take(free, order[:room])
    elif room > 0:
        # Rejection rounds: a proposal is free with probability at least 3/4.
        pending = torch.arange(room, device=dev)
        taken = torch.empty(0, dtype=torch.long, device=dev)
        for rnd in range(max_rounds):
            if pending.numel() == 0:
                break
            pk = _take(units, pending)
            a = _randint(seed, STREAM_PROPOSE + 2 * rnd, pk, torch.full_like(pk, ns))
            b = _randint(seed, STREAM_PROPOSE + 2 * rnd + 1, pk, torch.full_like(pk, nd))
            ck = a * nd + b
            ok = ~_member(existing, ck) & ~_member(taken, ck) & _first_of_equal(ck)
            okw = _where(ok)
            new.index_copy_(0, _take(pending, okw), _take(ck, okw))
            taken = _merge_sorted(taken, torch.sort(_take(ck, okw)).values)
            pending = pending[~ok]
    ek = _take(new, inv)
    go = _where(ek >= 0)
    epos, ek = _take(pos, go), _take(ek, go)
    out = edge_index.clone()
    out[0].index_copy_(0, epos, ek // nd)
    out[1].index_copy_(0, epos, ek % nd)
    moved.index_fill_(0, epos, True)
    return out, moved
