"""Pure structure kernels for the graph family: edge rewiring and subgraph sampling.

Tensors in, tensors out; every random draw is a counter-based hash of ``(seed, key)`` (or, for
the swap proposals, a ``torch.Generator`` seeded from ``seed``), so the kernels are
deterministic given ``seed`` and never touch global RNG state. All work is vectorized torch:
no Python loop over nodes, edges or graphs; the only Python loops run over rounds (rewiring)
or steps/hops (sampling), each a handful of whole-array passes.

Conventions shared by the kernels:

- ``batch`` is the graph id of every node (zeros for a single graph) and ``ptr`` the node
  offsets of the graphs (``[0, n]`` for a single graph); nodes of a graph are contiguous, as
  in a PyG ``Batch``. Edges never cross graphs.
- An *edge key* is ``u * N + v`` (``N`` = total number of nodes); on an undirected graph the
  key of a pair is ``min * N + max``, so both stored directions share it.
- Self-loops and, for ``degree_preserving``, pairs stored more than once are never moved.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.weak import WeakIdKeyDictionary

from augkit._counter import M64, MASK63, chain_prefix, derive_seed, hash63, mix64
from augkit._memory import copy_output

# ---- counter-based randomness -------------------------------------------------------------


def hash64(seed: int, stream: int, keys: torch.Tensor) -> torch.Tensor:
    """Non-negative 63-bit integers, a pure function of ``(seed, stream, key)``: the same draw
    on CPU and CUDA, and the same draw for every stored copy of one key."""
    return hash63(derive_seed(int(seed), int(stream)), keys)


def _hash64_int(seed: int, stream: int, key: int) -> int:
    """:func:`hash64` of one key, in Python integers (the same bits: int64 arithmetic wraps
    as unsigned 64-bit arithmetic does)."""
    salt = derive_seed(int(seed), int(stream))
    return mix64((int(key) + salt) & M64) & MASK63


def _randint(seed: int, stream: int, keys: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """A uniform integer in ``[0, high)`` per key (``high >= 1``); the modulo bias of a 63-bit
    hash is below 2**-30 for any graph that fits in memory."""
    return hash64(seed, stream, keys) % high.clamp(min=1)


def _priority(seed: int, stream: int, keys: torch.Tensor) -> torch.Tensor:
    """A 40-bit random priority per key (ties between two keys have probability 2**-40)."""
    return hash64(seed, stream, keys) >> 23


def _take(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``x[idx]`` for a LongTensor index; ``index_select`` is 5-15x faster than advanced
    indexing on the CPU."""
    return x.index_select(0, idx)


def _where(mask: torch.Tensor) -> torch.Tensor:
    return mask.nonzero().view(-1)


def _rank_in_group(group: torch.Tensor, num_groups: int) -> torch.Tensor:
    """Position of every element inside its group, for ``group`` sorted ascending."""
    counts = torch.bincount(group, minlength=num_groups)
    start = torch.cumsum(counts, 0) - counts
    return torch.arange(group.numel(), device=group.device) - _take(start, group)


def _sorted(x: torch.Tensor) -> torch.Tensor:
    """``x`` sorted ascending; no sort when it already is (coalesced PyG graphs)."""
    if x.numel() < 2 or bool((x[1:] >= x[:-1]).all()):
        return x
    return torch.sort(x).values


def _argsorted(x: torch.Tensor) -> torch.Tensor:
    # Unstable on purpose: torch's stable sort of int64 is ~30x slower on the CPU; the
    # unstable one is deterministic too.
    if x.numel() < 2 or bool((x[1:] >= x[:-1]).all()):
        return torch.arange(x.numel(), device=x.device)
    return torch.sort(x).indices


def _member(sorted_set: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    """``queries[i] in sorted_set``; the queries are sorted first so the binary searches walk
    memory in order (random-order searches are ~30x slower on a large set)."""
    if sorted_set.numel() == 0 or queries.numel() == 0:
        return torch.zeros(queries.shape, dtype=torch.bool, device=queries.device)
    qs, qi = torch.sort(queries)
    pos = torch.searchsorted(sorted_set, qs).clamp(max=sorted_set.numel() - 1)
    return torch.empty_like(qs, dtype=torch.bool).index_copy_(0, qi, _take(sorted_set, pos) == qs)


def _first_of_equal(values: torch.Tensor) -> torch.Tensor:
    """True for the first (by position) of every group of equal values: a stable sort, so
    the CPU kernel, which takes proposals in order, picks the same one."""
    if values.numel() == 0:
        return torch.zeros(0, dtype=torch.bool, device=values.device)
    sv, si = torch.sort(values, stable=True)
    first = torch.ones_like(sv, dtype=torch.bool)
    first[1:] = sv[1:] != sv[:-1]
    return torch.empty_like(first).index_copy_(0, si, first)


def _merge_sorted(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Merge two sorted 1-D tensors in linear time (searchsorted over sorted queries)."""
    if b.numel() == 0:
        return a
    if a.numel() == 0:
        return b
    at = torch.searchsorted(b, a, right=False) + torch.arange(a.numel(), device=a.device)
    out = torch.empty(a.numel() + b.numel(), dtype=a.dtype, device=a.device)
    place = torch.ones(out.numel(), dtype=torch.bool, device=a.device)
    place.index_fill_(0, at, False)
    out.index_copy_(0, at, a)
    return out.masked_scatter_(place, b)


def _graph_info(
    batch: torch.Tensor | None, ptr: torch.Tensor | None, num_nodes: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    if batch is None:
        batch = torch.zeros(num_nodes, dtype=torch.long, device=device)
    if ptr is None:
        ptr = torch.tensor([0, num_nodes], dtype=torch.long, device=device)
    return batch.to(device), ptr.to(device)


# ---- undirectedness and units -------------------------------------------------------------


def _pair_keys(edge_index: torch.Tensor, n: int) -> tuple[torch.Tensor, ...]:
    """Sorted keys of the edges stored as (small, large) and as (large, small), with positions."""
    src, dst = edge_index
    fwd = _where(src < dst)
    rev = _where(src > dst)
    fk = _take(src, fwd) * n + _take(dst, fwd)
    rk = _take(dst, rev) * n + _take(src, rev)
    fo, ro = _argsorted(fk), _argsorted(rk)
    return _take(fk, fo), _take(fwd, fo), _take(rk, ro), _take(rev, ro)


def _unique_sorted(sk: torch.Tensor) -> torch.Tensor:
    if sk.numel() < 2:
        return sk
    keep = torch.ones_like(sk, dtype=torch.bool)
    keep[1:] = sk[1:] != sk[:-1]
    return sk[keep]


def is_undirected_fast(edge_index: torch.Tensor, num_nodes: int) -> bool:
    """True when every edge has its reverse (multiplicity ignored), via two sorts.

    >>> is_undirected_fast(torch.tensor([[0, 1, 2], [1, 0, 2]]), 3)
    True
    """
    fk, _, rk, _ = _pair_keys(edge_index, num_nodes)
    return _symmetric(fk, rk)


def _symmetric(fk: torch.Tensor, rk: torch.Tensor) -> bool:
    if fk.numel() == rk.numel() and torch.equal(fk, rk):
        return True
    return torch.equal(_unique_sorted(fk), _unique_sorted(rk))


def _single_mask(sk: torch.Tensor) -> torch.Tensor:
    """True where a sorted key occurs exactly once."""
    single = torch.ones_like(sk, dtype=torch.bool)
    if sk.numel() > 1:
        same = sk[1:] == sk[:-1]
        single[1:] &= ~same
        single[:-1] &= ~same
    return single


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

    ``backend``: with ``"auto"`` on CPU tensors with numba installed, the direction and the
    sorted set of pairs present come from the counting sorts the degree-preserving swaps use,
    O(E + n) and kept per ``edge_index`` tensor (see :func:`_cached_units`), instead of three
    comparison sorts of the keys, and the rest runs as one numba call
    (``_swap_kernel.rewire_random``: the ~100 small torch ops were most of a small graph's
    time; its lookups are prefetched a few ahead. Against ``"torch"`` on the bench's graphs,
    in-process: 1e5 edges ~2.8 against ~12 ms, 1e6 ~31 against ~92 ms, 3e6 ~0.13 against
    ~0.37 s); ``"torch"`` always sorts and runs the torch ops. Both give the same result
    (within a round the first of equal proposals wins).

    Returns ``(new_edge_index, moved)`` with ``moved`` the mask of edges that moved.

    >>> ei = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    >>> out, moved = rewire_random(ei, 5, 0.5, seed=0)
    >>> out.shape == ei.shape and is_undirected_fast(out, 5)
    True
    """
    dev = edge_index.device
    n = int(num_nodes)
    e = edge_index.size(1)
    moved = torch.zeros(e, dtype=torch.bool, device=dev)
    if e == 0 or n < 2 or ratio <= 0:
        return edge_index.clone(), moved
    batch, ptr = _graph_info(batch, ptr, n, dev)
    num_graphs = ptr.numel() - 1
    existing = units = None
    if backend == "auto" and undirected is None and dev.type == "cpu" \
            and _numba_module() is not None:
        # Detected direction: the units' distinct keys are then every pair present.
        units = _cached_units(edge_index, n, None)
        existing, undirected = units[0], units[4]
    if undirected is None:
        undirected = is_undirected_fast(edge_index, n)
    kernels = _cpu_kernels(edge_index, batch, ptr) if backend == "auto" else None
    if kernels is not None:
        return _rewire_random_numba(kernels, edge_index, n, ratio, seed, batch, ptr,
                                    bool(undirected), existing, units, max_rounds)
    src, dst = edge_index
    loop = src == dst
    if undirected:
        key = torch.minimum(src, dst) * n + torch.maximum(src, dst)
    else:
        key = src * n + dst
    pick = (_priority(seed, 1, key) < int(ratio * (1 << 40))) & ~loop
    pos = _where(pick)
    if pos.numel() == 0:
        return edge_index.clone(), moved
    units, inv = torch.unique(_take(key, pos), return_inverse=True)
    ugraph = _take(batch, units // n)
    k_g = torch.bincount(ugraph, minlength=num_graphs)
    if existing is None:
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
        order = torch.sort((pg << 40) | _priority(seed, 2, ck)).indices
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
        a = _randint(seed, 16 + 2 * rnd, pk, ng)
        b = _randint(seed, 17 + 2 * rnd, pk, ng - 1)
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


_UNIT_WALK_EDGES = 1 << 21


def _rewire_random_numba(
    kernels: object, edge_index: torch.Tensor, n: int, ratio: float, seed: int,
    batch: torch.Tensor, ptr: torch.Tensor, undirected: bool, existing: torch.Tensor | None,
    units: tuple | None, max_rounds: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`rewire_random` on the CPU as one numba call (the torch ops were ~100 small
    calls, most of a small graph's time), the same result. ``units``: the cached swap units
    of ``edge_index`` (see :func:`_cached_units`) when they were read, whose positions
    spare the kernel a lookup per moved edge."""
    empty = np.empty(0, np.int64)
    ukeys_np = upos_np = urev_np = empty
    # The walk beside the units measured faster from a few million edges (1e7: ~0.74 ->
    # ~0.56 s), slower below (the pass it adds costs more than lookups that stay in cache).
    if units is not None and (not undirected or units[3] is not None) \
            and edge_index.size(1) >= _UNIT_WALK_EDGES:
        ukeys_np, upos_np = units[1].numpy(), units[2].numpy()
        urev_np = units[3].numpy() if undirected else empty
    if existing is None:
        src, dst = edge_index
        key = torch.minimum(src, dst) * n + torch.maximum(src, dst) if undirected \
            else src * n + dst
        existing = _unique_sorted(_sorted(key[src != dst]))
    arr = edge_index.numpy()
    out = _new_edge_index(edge_index)
    moved = torch.zeros(edge_index.size(1), dtype=torch.bool)
    o = out.numpy()
    kernels.rewire_random(arr[0], arr[1], n, undirected, existing.contiguous().numpy(),
                          ukeys_np, upos_np, urev_np, batch.numpy(), ptr.numpy(),
                          np.uint64(chain_prefix((int(seed),), 2)),
                          int(ratio * (1 << 40)), int(max_rounds), o[0], o[1], moved.numpy())
    return out, moved


# ---- degree-preserving double edge swaps --------------------------------------------------


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
    picks numba for CPU tensors when it is installed. Both are deterministic given ``seed``
    but draw differently, so a CPU and a CUDA run of one seed differ. With numba, the swappable
    pairs of a graph are found once per ``edge_index`` tensor and reused by later calls on that
    tensor until it changes (an epoch loop over one graph pays that O(E + n) step once).

    Returns ``(new_edge_index, swaps_done)``.

    >>> ei = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    >>> out, k = double_edge_swap(ei, 4, 1.0, seed=0)
    >>> torch.equal(torch.bincount(out[1], minlength=4), torch.bincount(ei[1], minlength=4))
    True
    """
    dev = edge_index.device
    n = int(num_nodes)
    e = edge_index.size(1)
    if e < 2 or n < 2 or ratio <= 0:
        return edge_index.clone(), 0
    batch, ptr = _graph_info(batch, ptr, n, dev)
    num_graphs = ptr.numel() - 1
    src, dst = edge_index
    if backend == "auto":
        backend = "numba" if dev.type == "cpu" and _numba_module() is not None else "torch"
    if backend == "numba":
        # Counting sorts and one merge in numba, O(E + n): the same keys, units and order as
        # the torch path below, without its comparison sorts and searches; kept per
        # edge_index tensor for the next call on the same graph (see _cached_units).
        units = _cached_units(edge_index, n, undirected)
        return _double_edge_swap_numba(edge_index, units, n, ratio, seed, batch, num_graphs)
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


def _units_torch(
    edge_index: torch.Tensor, n: int, undirected: bool | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None, bool]:
    """``(existing, ukeys, upos, urev, undirected)``: the distinct pair keys present, the swap
    units (pairs stored once; on an undirected graph once in each direction, ``urev`` the
    position of the reverse copy) sorted by key, and the resolved ``undirected``."""
    src, dst = edge_index
    if undirected is not False:
        fk, fpos, rk, rpos = _pair_keys(edge_index, n)
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


# Swap units of the graphs rewired lately, per edge_index tensor. Training loops rewire the same
# graph every epoch, and finding its units is O(E + n) and most of a call (1e6 edges: ~40 of
# ~50 ms) while the swaps themselves cost O(swaps). Weak keys: an entry goes with its tensor;
# the tensor's version counter (bumped by every in-place change) and data pointer guard
# against a stale entry. Only read-only results are kept (callers copy what they change).
_UNITS_CACHE: WeakIdKeyDictionary = WeakIdKeyDictionary()


def _cached_units(
    edge_index: torch.Tensor, n: int, undirected: bool | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None, bool]:
    """:func:`_units_numba` of ``edge_index``, computed once per tensor state."""
    stamp = (edge_index._version, edge_index.data_ptr(), tuple(edge_index.shape),
             edge_index.stride(), n, undirected)
    hit = _UNITS_CACHE.get(edge_index)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    units = _units_numba(edge_index[0], edge_index[1], n, undirected)
    _UNITS_CACHE[edge_index] = (stamp, units, [])  # the list: room for the swap state
    return units


def _new_edge_index(edge_index: torch.Tensor) -> torch.Tensor:
    """A contiguous copy of ``edge_index`` in new memory (contiguous() of a non-contiguous
    one copies)."""
    return copy_output(edge_index) if edge_index.is_contiguous() else edge_index.contiguous()


def _double_edge_swap_numba(
    edge_index: torch.Tensor, units: tuple, n: int, ratio: float, seed: int,
    batch: torch.Tensor, num_graphs: int,
) -> tuple[torch.Tensor, int]:
    """:func:`double_edge_swap` on the CPU: the swaps one after another in numba on the kept
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
    _numba_module().swap_units(rows, rev, table, u_g.numpy(), remaining.numpy(), int(n),
                               bool(undirected), int(seed) & MASK63, done, out[0].numpy(),
                               out[1].numpy())
    return out, int(done.sum())


def _swap_state(
    edge_index: torch.Tensor, units: tuple, extra: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The swap kernel's state of a graph: ``rows``, one row ``(a, b, slot, position)`` per
    unit (``table[slot]`` holds the key of its pair), and ``table``, the hash set of the pairs
    present with room for ``extra`` more keys. Kept beside the cached units of ``edge_index``
    (the kernel hands both back unchanged; building them is O(E), the table ~E/2 random
    writes), the table sized then for as many insertions as there are pairs so that any ratio
    up to 1 reuses it."""
    existing, ukeys, upos = units[:3]
    hit = _UNITS_CACHE.get(edge_index)
    cached = hit is not None and hit[1][0] is existing
    if cached and hit[2] and hit[2][1].size >= 2 * (existing.numel() + extra) + 8:
        return hit[2][0], hit[2][1]
    k = _numba_module()
    table = k.pair_table(existing.numpy(), max(extra, existing.numel()) if cached else extra)
    rows = np.empty((ukeys.numel(), 4), dtype=np.int64)
    rows[:, 0] = _take(edge_index[0], upos).numpy()
    rows[:, 1] = _take(edge_index[1], upos).numpy()
    rows[:, 2] = k.key_slots(table, ukeys.numpy())
    rows[:, 3] = upos.numpy()
    if cached:
        hit[2][:] = [rows, table]
    return rows, table


def _units_numba(
    src: torch.Tensor, dst: torch.Tensor, n: int, undirected: bool | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None, bool]:
    """As :func:`_units_torch`, on CPU tensors, by counting sorts and merges in numba."""
    k = _numba_module()
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
            k1 = torch.minimum(ai, bj) * n + torch.maximum(ai, bj)
            k2 = torch.minimum(aj, bi) * n + torch.maximum(aj, bi)
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


def _cpu_kernels(*tensors: torch.Tensor):  # noqa: ANN202 - the kernels' module, or None
    """The numba kernels when every tensor is a contiguous CPU int64 one (what they take),
    else None (the torch ops run)."""
    for t in tensors:
        if t.device.type != "cpu" or t.dtype != torch.long or not t.is_contiguous():
            return None
    return _numba_module()


def _numba_module():  # noqa: ANN202 - the compiled kernels' module, or None without numba
    """``_swap_kernel`` (the swap kernel and the unit finders), None when numba is missing."""
    try:
        from augkit.plugins.graph import _swap_kernel
    except ImportError:  # pragma: no cover - numba is in the graph extra
        return None
    return _swap_kernel


# ---- subgraph sampling --------------------------------------------------------------------


def csr(edge_index: torch.Tensor, num_nodes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(rowptr, col)`` of the out-neighbours (edge_index[0] -> edge_index[1]), each node's
    targets in their stored order (a stable sort by source; none when the edges are already
    ordered by source). On the CPU a counting sort in numba.

    >>> csr(torch.tensor([[1, 0, 1], [2, 1, 0]]), 3)
    (tensor([0, 1, 3, 3]), tensor([1, 2, 0]))
    """
    kernels = _cpu_kernels(edge_index)
    if kernels is not None:
        arr = edge_index.numpy()
        rowptr = torch.zeros(num_nodes + 1, dtype=torch.long)
        col = torch.empty(arr.shape[1], dtype=torch.long)
        if not kernels.csr(arr[0], arr[1], int(num_nodes), rowptr.numpy(), col.numpy()):
            raise ValueError(f"csr: edge_index holds a node id outside 0..{num_nodes - 1}")
        return rowptr, col
    src, dst = edge_index
    if src.numel() < 2 or bool((src[1:] >= src[:-1]).all()):
        order = torch.arange(src.numel(), device=src.device)
    else:
        order = torch.sort(src, stable=True).indices
    col = dst[order] if order.numel() and not bool(
        (order == torch.arange(order.numel(), device=order.device)).all()) else dst
    rowptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=edge_index.device)
    rowptr[1:] = torch.cumsum(torch.bincount(src, minlength=num_nodes), 0)
    return rowptr, col


def target_sizes(ptr: torch.Tensor, ratio: float) -> torch.Tensor:
    """Nodes to keep per graph: ``max(1, floor(ratio * n_g + 0.5))`` (at most ``n_g``), 0 for
    an empty graph.

    >>> target_sizes(torch.tensor([0, 10, 10, 13]), 0.25)
    tensor([3, 0, 1])
    """
    kernels = _cpu_kernels(ptr)
    if kernels is not None:
        out = np.empty(ptr.numel() - 1, np.int64)
        kernels.target_sizes(ptr.numpy(), float(ratio), out)
        return torch.from_numpy(out)
    n_g = ptr[1:] - ptr[:-1]
    t = torch.floor(n_g.double() * ratio + 0.5).long().clamp(min=1)
    return torch.where(n_g > 0, torch.minimum(t, n_g), torch.zeros_like(n_g))


def _first_ranked(
    nodes: torch.Tensor, order_key: torch.Tensor, batch: torch.Tensor, cap: torch.Tensor,
    seed: int, num_nodes: int,
) -> torch.Tensor:
    """Mask of the nodes kept: per graph, the ``cap[g]`` first of ``nodes`` by ``order_key``
    (smaller first), ties broken by a random priority."""
    mask = torch.zeros(num_nodes, dtype=torch.bool, device=batch.device)
    if nodes.numel() == 0:
        return mask
    kernels = _cpu_kernels(nodes, order_key, batch, cap)
    if kernels is not None:
        kernels.first_ranked(nodes.numpy(), order_key.numpy(), batch.numpy(), cap.numpy(),
                             np.uint64(derive_seed(int(seed), 3)), mask.numpy())
        return mask
    g = batch[nodes]
    num_graphs = cap.numel()
    if bool((torch.bincount(g, minlength=num_graphs) <= cap).all()):
        # Every graph keeps all its candidates (khop with ratio 1): no ranking needed.
        mask[nodes] = True
        return mask
    sort_key = (g << 48) | (order_key << 32) | (_priority(seed, 3, nodes) >> 8)
    o = torch.sort(sort_key).indices
    nodes, g = nodes[o], g[o]
    keep = _rank_in_group(g, num_graphs) < cap[g]
    mask[nodes[keep]] = True
    return mask


def _one_root(ptr: torch.Tensor, count: torch.Tensor, seed: int) -> torch.Tensor:
    """One uniform random node of every non-empty graph with ``count[g] == 1`` (``count`` is
    0 or 1): a draw per graph, not a hash and sort of every node."""
    kernels = _cpu_kernels(ptr, count)
    if kernels is not None:
        out = np.empty(ptr.numel() - 1, np.int64)
        k = kernels.one_root(ptr.numpy(), count.numpy(), np.uint64(derive_seed(int(seed), 5)),
                             out)
        return torch.from_numpy(out[:k])
    n_g = ptr[1:] - ptr[:-1]
    graphs = torch.arange(n_g.numel(), device=ptr.device)
    roots = ptr[:-1] + _randint(seed, 5, graphs, n_g)
    return roots[(n_g > 0) & (count > 0)]


def _roots(batch: torch.Tensor, ptr: torch.Tensor, count: torch.Tensor, seed: int) -> torch.Tensor:
    """``count[g]`` distinct random nodes of every graph g (fewer if it has fewer nodes)."""
    if bool((count <= 1).all()):
        return _one_root(ptr, count, seed + 1)
    n = batch.numel()
    nodes = torch.arange(n, device=batch.device)
    zero = torch.zeros(n, dtype=torch.long, device=batch.device)
    return _first_ranked(nodes, zero, batch, count, seed + 1, n).nonzero().view(-1)


def sample_random_nodes(
    num_nodes: int, ratio: float, seed: int, *,
    batch: torch.Tensor | None = None, ptr: torch.Tensor | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Node mask keeping exactly ``max(1, floor(ratio * n_g + 0.5))`` random nodes of every graph.

    >>> int(sample_random_nodes(10, 0.3, seed=1).sum())
    3
    """
    batch, ptr = _graph_info(batch, ptr, num_nodes, torch.device(device))
    return _mask_from(_roots(batch, ptr, target_sizes(ptr, ratio), seed), num_nodes, batch.device)


def _mask_from(idx: torch.Tensor, n: int, device: torch.device) -> torch.Tensor:
    m = torch.zeros(n, dtype=torch.bool, device=device)
    m[idx] = True
    return m


def random_walk_steps(
    rowptr: torch.Tensor, col: torch.Tensor, roots: torch.Tensor, walk_length: int, seed: int,
    backend: str = "auto",
) -> torch.Tensor:
    """Step at which every node is first visited by walks of ``walk_length`` steps started at
    ``roots`` (one walker per root, all walkers advanced together; a walker at a node without
    out-neighbours stops there); ``-1`` for nodes never visited. On the CPU with numba the
    walk runs as one kernel (a handful of torch ops per step made a small graph's walk cost
    ~0.4 ms); ``backend="torch"`` forces the torch ops, which give the same steps.

    >>> rowptr, col = csr(torch.tensor([[0, 1, 2], [1, 2, 3]]), 5)
    >>> random_walk_steps(rowptr, col, torch.tensor([0]), 2, seed=0)
    tensor([ 0,  1,  2, -1, -1])
    """
    n = rowptr.numel() - 1
    dev = rowptr.device
    never = walk_length + 1
    first = torch.full((n,), never, dtype=torch.long, device=dev)
    kernels = _numba_module() if dev.type == "cpu" and backend != "torch" else None
    if kernels is not None:
        salts = np.array([derive_seed(int(seed), 64 + s) for s in range(1, walk_length + 1)],
                         dtype=np.uint64)
        kernels.random_walk_first(rowptr.contiguous().numpy(), col.contiguous().numpy(),
                                  roots.contiguous().numpy(), salts, first.numpy())
        return torch.where(first == never, torch.full_like(first, -1), first)
    first[roots] = 0
    cur = roots.clone()
    walker = torch.arange(roots.numel(), device=dev)
    for step in range(1, walk_length + 1):
        start = rowptr[cur]
        deg = rowptr[cur + 1] - start
        live = deg > 0
        if not bool(live.any()):
            break
        pick = _randint(seed, 64 + step, walker, deg)
        cur = torch.where(live, col[(start + pick).clamp(max=max(col.numel() - 1, 0))], cur)
        first.scatter_reduce_(0, cur, torch.full_like(cur, step), reduce="amin")
    return torch.where(first == never, torch.full_like(first, -1), first)


def khop_distance_edges(
    edge_index: torch.Tensor, num_nodes: int, roots: torch.Tensor, num_hops: int,
    backend: str = "auto",
) -> torch.Tensor:
    """Hop distance from the nearest root along out-edges, ``-1`` beyond ``num_hops``. Each hop
    is one pass over the edges (as PyG's ``k_hop_subgraph`` does): cheaper than sorting the
    edges into CSR for the few hops khop uses. On the CPU the passes run in numba
    (``backend="torch"`` forces the torch ops, which give the same distances).

    >>> khop_distance_edges(torch.tensor([[0, 1, 2], [1, 2, 3]]), 5, torch.tensor([0]), 2)
    tensor([ 0,  1,  2, -1, -1])
    """
    src, dst = edge_index
    dev = edge_index.device
    dist = torch.full((num_nodes,), -1, dtype=torch.long, device=dev)
    kernels = _numba_module() if dev.type == "cpu" and backend != "torch" else None
    if kernels is not None:
        arr = edge_index.numpy()
        kernels.khop_distances(arr[0], arr[1], roots.numpy(), int(num_hops), dist.numpy())
        return dist
    dist[roots] = 0
    frontier = torch.zeros(num_nodes, dtype=torch.bool, device=dev)
    frontier[roots] = True
    for hop in range(1, num_hops + 1):
        nb = dst[frontier[src]]
        nb = nb[dist[nb] < 0]
        if nb.numel() == 0:
            break
        dist[nb] = hop
        frontier = torch.zeros(num_nodes, dtype=torch.bool, device=dev)
        frontier[nb] = True
    return dist


def sample_subgraph_nodes(
    edge_index: torch.Tensor,
    num_nodes: int,
    method: str,
    ratio: float,
    seed: int,
    *,
    walk_length: int = 8,
    num_hops: int = 2,
    batch: torch.Tensor | None = None,
    ptr: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mask of the nodes of a sampled subgraph, per graph at most
    ``t_g = max(1, floor(ratio * n_g + 0.5))`` nodes and at least one (the first root).

    - ``random_node``: exactly ``t_g`` nodes, uniformly without replacement.
    - ``random_walk``: ``ceil(t_g / (walk_length + 1))`` distinct random roots per graph (so
      the walks can reach ``t_g`` nodes), one walk of ``walk_length`` steps from each; the
      visited nodes, earliest first visit first (ties in random order), up to ``t_g``.
    - ``khop``: one random root per graph; the nodes within ``num_hops`` hops, nearest first
      (ties in random order), up to ``t_g``.

    Walks and hops follow edges from ``edge_index[0]`` to ``edge_index[1]`` (both ways on an
    undirected graph).

    >>> ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    >>> int(sample_subgraph_nodes(ei, 4, "khop", 0.5, seed=0, num_hops=1).sum())
    2
    """
    dev = edge_index.device
    n = int(num_nodes)
    if n == 0:
        return torch.zeros(0, dtype=torch.bool, device=dev)
    if method == "khop" and (ptr is None or ptr.numel() == 2):
        return _khop_one_graph(edge_index, n, ratio, seed, num_hops)
    batch, ptr = _graph_info(batch, ptr, n, dev)
    cap = target_sizes(ptr, ratio)
    if method == "random_node":
        return _mask_from(_roots(batch, ptr, cap, seed), n, dev)
    if method == "random_walk":
        rowptr, col = csr(edge_index, n)
        roots = _roots(batch, ptr, torch.div(cap + walk_length, walk_length + 1,
                                             rounding_mode="floor"), seed)
        level = random_walk_steps(rowptr, col, roots, walk_length, seed)
    elif method == "khop":
        roots = _roots(batch, ptr, torch.ones_like(cap), seed)
        level = khop_distance_edges(edge_index, n, roots, num_hops)
    else:
        raise ValueError(f"method: got {method!r}; allowed: random_walk, khop, random_node")
    reached = (level >= 0).nonzero().view(-1)
    return _first_ranked(reached, level[reached], batch, cap, seed, n)


def _khop_one_graph(
    edge_index: torch.Tensor, n: int, ratio: float, seed: int, num_hops: int,
) -> torch.Tensor:
    """``sample_subgraph_nodes(..., "khop")`` of a single graph of ``n >= 1`` nodes, with
    the same draws: the root and the cap in Python integers instead of one-element tensor
    ops (those were most of a 1e4-edge call), the ranking only when the ball is over the
    cap."""
    cap = min(n, max(1, math.floor(n * ratio + 0.5)))
    # _one_root's draw for graph 0: key 0 of stream 5 under seed + 1, modulo n.
    root = _hash64_int(seed + 1, 5, 0) % n
    roots = torch.tensor([root], dtype=torch.long, device=edge_index.device)
    level = khop_distance_edges(edge_index, n, roots, num_hops)
    inside = level >= 0
    reached = _where(inside)
    if reached.numel() <= cap:
        return inside
    batch = torch.zeros(n, dtype=torch.long, device=edge_index.device)
    cap_t = torch.tensor([cap], dtype=torch.long, device=edge_index.device)
    return _first_ranked(reached, _take(level, reached), batch, cap_t, seed, n)
