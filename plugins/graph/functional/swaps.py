"""Degree-preserving rewiring: double edge swaps, and the swap units they move.

Conventions as in ``functional.rewiring``. A swap unit is a pair stored exactly once (on an
undirected graph, once in each direction); self-loops and pairs stored more than once are
never swapped. The torch code runs rounds of disjoint swaps on any device; with numba the
swaps run one after another (``kernels.swaps``), so the two differ by design.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.weak import WeakIdKeyDictionary

from augkit._counter import MASK63
from augkit.plugins.graph._backend import HAVE_NUMBA, use_numba
from augkit.plugins.graph.functional._common import (
    _argsorted,
    _graph_info,
    _member,
    _merge_sorted,
    _new_edge_index,
    _take,
    _where,
)
from augkit.plugins.graph.functional.undirected import (
    _direction_keys,
    _single_mask,
    _symmetric,
    _unique_sorted,
    pair_keys,
)

if HAVE_NUMBA:
    from augkit.plugins.graph.kernels import swaps as _swap_kernels


def double_edge_swap(
    edge_index: torch.Tensor,
    num_nodes: int,
    ratio: float,
    seed: int,
    *,
    batch: torch.Tensor | None = None,
    ptr: torch.Tensor | None = None,
    undirected: bool | None = None,
    max_rounds: int = 64,
    backend: str = "auto",
) -> tuple[torch.Tensor, int]:
    """Degree-preserving rewiring: about ``floor(ratio * M / 2 + 0.5)`` double edge swaps per graph,
    ``M`` the number of swappable edges of the graph (unordered pairs on an undirected graph;
    self-loops and pairs stored more than once are never swapped).

    A swap takes two edges ``u-v`` and ``x-y`` of the same graph and makes them ``u-y`` and
    ``x-v`` (on an undirected graph the second edge is read as ``x-y`` or ``y-x`` at random,
    giving the two swaps of networkx's ``double_edge_swap``). It is done only when it creates no
    self-loop and no pair already present, so every node keeps its degree exactly (in- and
    out-degree on a directed graph) and an undirected graph stays undirected, both stored
    directions rewritten together.

    Attribute rule: an edge keeps its position in ``edge_index``, hence its attributes, and the
    endpoint it did not give away: ``u-y`` carries the attributes of ``u-v``, ``x-v`` those of
    ``x-y``. On a directed graph this means every edge keeps its source node
    (``out[0] == edge_index[0]``) and only targets are exchanged.

    Swaps run in rounds: each round pairs random disjoint edges of a graph, rejects the swaps
    that would create a self-loop, an existing pair or the same new pair twice, and applies the
    rest at once. Rounds repeat until every graph has its count or ``max_rounds`` ran (a graph
    where no swap is possible, like a star or a complete graph, stays as it is).

    ``backend``: ``"numba"`` (CPU only) runs the swaps one after another like networkx, with a
    hash set of the pairs (no rounds needed; a graph where swaps keep failing stops after
    ``20 * target + 100`` tries); ``"torch"`` runs the rounds above on any device; ``"auto"``
    picks numba for CPU tensors when it is installed (see ``_backend``). Both are
    deterministic given ``seed`` but draw differently, so a CPU and a CUDA run of one seed
    differ: the one graph function whose backends are not equal by design. With numba, the
    swappable pairs of a graph of ``_CACHE_MIN_EDGES`` edges or more are kept for the next
    call on the same ``edge_index`` tensor while its content is unchanged (compared in full
    on every call: writes that bypass autograd's version counter cannot make them stale).

    Returns ``(new_edge_index, swaps_done)``.

    >>> ei = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    >>> out, k = double_edge_swap(ei, 4, 1.0, seed=0)
    >>> torch.equal(torch.bincount(out[1], minlength=4), torch.bincount(ei[1], minlength=4))
    True
    """
    numba = use_numba(backend, edge_index)
    dev = edge_index.device
    n = int(num_nodes)
    e = edge_index.size(1)
    if e < 2 or n < 2 or ratio <= 0:
        return edge_index.clone(), 0
    batch, ptr = _graph_info(batch, ptr, n, dev)
    num_graphs = ptr.numel() - 1
    if numba:
        # Counting sorts and one merge in numba, O(E + n): the same keys, units and order as
        # the torch path below, without its comparison sorts and searches.
        units = _cached_units(edge_index, n, undirected)
        return _double_edge_swap_numba(edge_index, units, n, ratio, seed, batch, num_graphs)
    src, dst = edge_index
    existing, ukeys, upos, urev, undirected = _units_torch(edge_index, n, undirected)
    num_units = ukeys.numel()
    if num_units < 2:
        return edge_index.clone(), 0
    a = _take(src, upos)
    b = _take(dst, upos)
    ugraph = _take(batch, a)  # units are sorted by key, hence grouped by graph
    u_g = torch.bincount(ugraph, minlength=num_graphs)
    remaining = torch.floor(ratio * u_g.double() / 2 + 0.5).long()
    done = _swaps_torch(a, b, ukeys, existing, ugraph, u_g, remaining, n, undirected,
                        seed, max_rounds)
    out = _new_edge_index(edge_index)
    out[0].index_copy_(0, upos, a)
    out[1].index_copy_(0, upos, b)
    if urev is not None:
        out[0].index_copy_(0, urev, b)
        out[1].index_copy_(0, urev, a)
    return out, done


def double_edge_swap_items(
    edge_index: torch.Tensor,
    ptr: torch.Tensor,
    edge_ptr: torch.Tensor,
    ratio: float,
    seeds: torch.Tensor,
    applied: torch.Tensor,
    *,
    backend: str = "auto",
) -> torch.Tensor:
    """:func:`double_edge_swap` of every graph of a Batch on its own: graph ``g`` (nodes
    ``ptr[g]:ptr[g + 1]``, edges ``edge_ptr[g]:edge_ptr[g + 1]``, stored graph by graph)
    comes out as that call gives it alone with seed ``seeds[g]`` where ``applied[g]``
    (undirected when its own edges are), unchanged elsewhere. With numba one call for the
    whole Batch. Returns the new edge_index.

    >>> ei = torch.tensor([[0, 1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 0, 5, 6, 7, 4]])
    >>> out = double_edge_swap_items(ei, torch.tensor([0, 4, 8]), torch.tensor([0, 4, 8]),
    ...                              1.0, torch.tensor([0, 0]), torch.tensor([False, True]))
    >>> torch.equal(out[:, :4], ei[:, :4]), torch.equal(out[0], ei[0])
    (True, True)
    """
    if use_numba(backend, edge_index, ptr, edge_ptr, seeds, applied):
        src, dst = edge_index.long().contiguous().numpy()
        out = edge_index.long().clone()
        _swap_kernels.swap_items(src, dst, ptr.long().contiguous().numpy(),
                                 edge_ptr.long().contiguous().numpy(),
                                 seeds.long().contiguous().numpy(),
                                 applied.contiguous().numpy(), float(ratio), out[0].numpy(),
                                 out[1].numpy())
        return out
    out = edge_index.clone()
    starts, ends, seed_list = ptr.tolist(), edge_ptr.tolist(), seeds.tolist()
    for g in applied.nonzero().view(-1).tolist():
        lo, hi = ends[g], ends[g + 1]
        if hi == lo:
            continue
        offset = starts[g]
        local, _ = double_edge_swap(edge_index[:, lo:hi] - offset, starts[g + 1] - offset,
                                    ratio, seed_list[g], backend=backend)
        out[:, lo:hi] = local.to(edge_index.device) + offset
    return out


def _units_torch(
    edge_index: torch.Tensor, n: int, undirected: bool | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None, bool]:
    """``(existing, ukeys, upos, urev, undirected)``: the distinct pair keys present, the swap
    units (pairs stored once; on an undirected graph once in each direction, ``urev`` the
    position of the reverse copy) sorted by key, and the resolved ``undirected``."""
    src, dst = edge_index
    if undirected is not False:
        fk, fpos, rk, rpos = _direction_keys(edge_index, n)
        if undirected is None:
            undirected = _symmetric(fk, rk)
    if undirected:
        existing = _unique_sorted(fk).clone()
        fs, rs = _single_mask(fk), _single_mask(rk)
        if fk.numel() == rk.numel() and bool(fs.all()) and bool(rs.all()):
            return existing, fk.clone(), fpos, rpos, True
        # Pairs stored once in each direction are swappable; duplicates stay.
        fk1, fp1 = fk[fs], fpos[fs]
        rk1, rp1 = rk[rs], rpos[rs]
        both = _where(_member(rk1, fk1))
        ukeys, upos = _take(fk1, both), _take(fp1, both)
        return existing, ukeys, upos, _take(rp1, torch.searchsorted(rk1, ukeys)), True
    allk = src * n + dst
    nl = _where(src != dst)
    knl = _take(allk, nl)
    order = _argsorted(knl)
    sk, spos = _take(knl, order), _take(nl, order)
    single = _where(_single_mask(sk))
    return _unique_sorted(sk).clone(), _take(sk, single), _take(spos, single), None, False


def _double_edge_swap_numba(
    edge_index: torch.Tensor, units: tuple, n: int, ratio: float, seed: int,
    batch: torch.Tensor, num_graphs: int,
) -> tuple[torch.Tensor, int]:
    """:func:`double_edge_swap` on the CPU: the swaps one after another in numba on the
    state of the graph (see :func:`_swap_state`), written straight into a copy of
    ``edge_index``."""
    existing, ukeys, upos, urev, undirected = units
    num_units = ukeys.numel()
    if num_units < 2:
        return edge_index.clone(), 0
    if num_graphs == 1:
        u_g = torch.tensor([num_units])
    else:
        # Units are sorted by key, hence grouped by graph (by their first node's graph).
        ugraph = _take(batch, _take(edge_index[0], upos))
        u_g = torch.bincount(ugraph, minlength=num_graphs)
    remaining = torch.floor(ratio * u_g.double() / 2 + 0.5).long()
    rows, table = _swap_state(edge_index, units, 2 * int(remaining.sum()))
    out = _new_edge_index(edge_index)
    done = np.zeros(num_graphs, dtype=np.int64)
    rev = urev.numpy() if urev is not None else np.empty(0, dtype=np.int64)
    _swap_kernels.swap_units(rows, rev, table, u_g.numpy(), remaining.numpy(), int(n),
                             bool(undirected), int(seed) & MASK63, done, out[0].numpy(),
                             out[1].numpy())
    return out, int(done.sum())


# Swap units of the graphs rewired lately, per edge_index tensor: an epoch loop rewires the
# same large graph every call, and finding its units is O(E + n), most of a call, while the
# swaps cost O(swaps). An entry holds a copy of the edges it was built from and is used only
# while the tensor still holds exactly those (one compare pass, far cheaper than the units).
_UNITS_CACHE: WeakIdKeyDictionary = WeakIdKeyDictionary()
# Below this many edges finding the units costs about what the compare and the copy would.
_CACHE_MIN_EDGES = 1 << 10


def _cached_units(
    edge_index: torch.Tensor, n: int, undirected: bool | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None, bool]:
    """:func:`_units_numba` of ``edge_index``, reused while its content is unchanged."""
    if edge_index.size(1) < _CACHE_MIN_EDGES:
        return _units_numba(edge_index[0], edge_index[1], n, undirected)
    hit = _UNITS_CACHE.get(edge_index)
    if hit is not None and hit["key"] == (n, undirected) and torch.equal(hit["edges"],
                                                                         edge_index):
        return hit["units"]
    units = _units_numba(edge_index[0], edge_index[1], n, undirected)
    _UNITS_CACHE[edge_index] = {"key": (n, undirected), "edges": edge_index.clone(),
                                "units": units, "state": None}
    return units


def _swap_state(
    edge_index: torch.Tensor, units: tuple, extra: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The swap kernel's state of a graph: ``rows``, one row ``(a, b, slot, position)`` per
    unit (``table[slot]`` holds the key of its pair), and ``table``, the hash set of the pairs
    present with room for ``extra`` more keys. Kept beside the cached units of ``edge_index``
    (the kernel hands both back unchanged), the table then sized for as many insertions as
    there are pairs so that any ratio up to 1 reuses it."""
    existing, ukeys, upos = units[:3]
    hit = _UNITS_CACHE.get(edge_index)
    cached = hit is not None and hit["units"] is units
    if cached and hit["state"] is not None \
            and hit["state"][1].size >= 2 * (existing.numel() + extra) + 8:
        return hit["state"]
    k = _swap_kernels
    table = k.pair_table(existing.numpy(), max(extra, existing.numel()) if cached else extra)
    rows = np.empty((ukeys.numel(), 4), dtype=np.int64)
    rows[:, 0] = _take(edge_index[0], upos).numpy()
    rows[:, 1] = _take(edge_index[1], upos).numpy()
    rows[:, 2] = k.key_slots(table, ukeys.numpy())
    rows[:, 3] = upos.numpy()
    if cached:
        hit["state"] = (rows, table)
    return rows, table


def _units_numba(
    src: torch.Tensor, dst: torch.Tensor, n: int, undirected: bool | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None, bool]:
    """As :func:`_units_torch`, on CPU tensors, by counting sorts and merges in numba."""
    k = _swap_kernels
    s, d = src.contiguous().numpy(), dst.contiguous().numpy()
    if undirected is not False:
        fk, fpos, rk, rpos = k.sorted_pair_keys(s, d, n)
        symmetric, existing, ukeys, upos, urev = k.undirected_units(fk, fpos, rk, rpos)
        if undirected is None:
            undirected = bool(symmetric)
        if undirected:
            return (torch.from_numpy(existing), torch.from_numpy(ukeys), torch.from_numpy(upos),
                    torch.from_numpy(urev), True)
    sk, spos = k.sorted_keys_directed(s, d, n)
    existing, ukeys, upos = k.directed_units(sk, spos)
    return torch.from_numpy(existing), torch.from_numpy(ukeys), torch.from_numpy(upos), None, False


def _swaps_torch(
    a: torch.Tensor, b: torch.Tensor, ukeys: torch.Tensor, existing: torch.Tensor,
    ugraph: torch.Tensor, u_g: torch.Tensor, remaining: torch.Tensor, n: int,
    undirected: bool, seed: int, max_rounds: int,
) -> int:
    """Swap rounds in torch (any device), updating ``a``/``b`` in place; returns swaps done."""
    dev = a.device
    num_units = a.numel()
    num_graphs = u_g.numel()
    start_g = torch.cumsum(u_g, 0) - u_g
    rank = torch.arange(num_units, device=dev) - _take(start_g, ugraph)
    gen = torch.Generator(device=dev)
    gen.manual_seed(int(seed) & MASK63)
    done = 0
    idle = 0
    for _ in range(max_rounds):
        quota = torch.minimum(remaining, u_g // 2)
        if num_graphs == 1:
            p = int(quota[0])
            if p == 0:
                break
            order = torch.randperm(num_units, generator=gen, device=dev)
            i, j = order[:p], order[p:2 * p]
        else:
            if not bool((quota > 0).any()):
                break
            # A random order grouped by graph (same graph counts as ``ugraph``, which is
            # sorted, so position q of ``order`` belongs to graph ugraph[q]); pairs are the
            # neighbours (2k, 2k+1) of a graph's segment, as many as the graph still needs.
            r = torch.randint(0, 1 << 31, (num_units,), generator=gen, device=dev)
            order = torch.sort((ugraph << 31) | r).indices
            lead = _where(((rank % 2) == 0) & ((rank // 2) < _take(quota, ugraph)))
            i, j = _take(order, lead), _take(order, lead + 1)
        ai, bi, aj, bj = _take(a, i), _take(b, i), _take(a, j), _take(b, j)
        if undirected:
            flip = torch.rand(i.numel(), generator=gen, device=dev) < 0.5
            aj, bj = torch.where(flip, bj, aj), torch.where(flip, aj, bj)
        # New edges: i -> (ai, bj), j -> (aj, bi).
        ok = (ai != bj) & (aj != bi)
        if undirected:
            k1, k2 = pair_keys(ai, bj, n), pair_keys(aj, bi, n)
        else:
            k1, k2 = ai * n + bj, aj * n + bi
        newk = torch.cat([k1, k2])
        # One sort of the new pairs finds both those already present and those made twice
        # (a repeated pair rejects every swap that makes it).
        sv, si = torch.sort(newk)
        rep = torch.zeros_like(sv, dtype=torch.bool)
        same = sv[1:] == sv[:-1]
        rep[1:] |= same
        rep[:-1] |= same
        at = torch.searchsorted(existing, sv).clamp(max=existing.numel() - 1)
        bad_sorted = rep | (_take(existing, at) == sv)
        bad = torch.empty_like(rep).index_copy_(0, si, bad_sorted)
        p = i.numel()
        ok &= ~bad[:p] & ~bad[p:]
        acc = _where(ok)
        if acc.numel() == 0:
            idle += 1
            if idle >= 8:
                break
            continue
        idle = 0
        ia, ja = _take(i, acc), _take(j, acc)
        old = torch.cat([_take(ukeys, ia), _take(ukeys, ja)])
        k1a, k2a = _take(k1, acc), _take(k2, acc)
        b.index_copy_(0, ia, _take(bj, acc))
        a.index_copy_(0, ja, _take(aj, acc))
        b.index_copy_(0, ja, _take(bi, acc))
        ukeys.index_copy_(0, ia, k1a)
        ukeys.index_copy_(0, ja, k2a)
        # Keep the sorted key set current: drop the old pairs, merge in the new ones.
        drop = torch.searchsorted(existing, torch.sort(old).values)
        keep = torch.ones_like(existing, dtype=torch.bool).index_fill_(0, drop, False)
        existing = _merge_sorted(existing[keep], torch.sort(torch.cat([k1a, k2a])).values)
        remaining = remaining - torch.bincount(_take(ugraph, ia), minlength=num_graphs)
        done += int(acc.numel())
    return done
