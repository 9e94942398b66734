"""Kernels of degree-preserving double edge swaps: the sequential swap kernel, the swap-unit
finders (counting sorts of the pair keys and their merges) and the open-addressing pair table
they share with random rewiring."""

import numpy as np
from numba import njit

from augkit import _counter
from augkit.plugins.graph.kernels.common import mix64, prefetch

_GOLDEN_I64 = np.int64(_counter.GOLDEN - (1 << 64))  # splitmix64's increment, as int64
_U11 = np.uint64(11)
_MASK63_I64 = np.int64(_counter.MASK63)

# ---- the pair table: open addressing, linear probing; -1 empty, -2 tombstone -------------


@njit(cache=True)
def slot(key, mask):
    """The home slot of a non-negative key in a table of ``mask + 1`` slots (a multiplicative
    hash)."""
    return ((key * _GOLDEN_I64) >> 17) & mask


@njit(cache=True)
def find(table, key, mask):
    """The slot of ``key`` in ``table``, -1 when absent."""
    i = slot(key, mask)
    while True:
        t = table[i]
        if t == key:
            return i
        if t == -1:
            return -1
        i = (i + 1) & mask


@njit(cache=True)
def free_slot(table, key, mask):
    """Where :func:`insert` puts ``key``: the first empty or tombstone slot from its home."""
    i = slot(key, mask)
    while table[i] >= 0:
        i = (i + 1) & mask
    return i


@njit(cache=True)
def insert(table, key, mask):
    """Adds ``key`` to ``table``."""
    table[free_slot(table, key, mask)] = key


@njit(cache=True)
def pair_table(existing, extra):
    """An open-addressing hash set (linear probing; -1 empty, -2 tombstone) of the keys
    ``existing``, sized to stay at most half full after ``extra`` more insertions."""
    cap = 4
    while cap < 2 * (existing.size + extra) + 8:
        cap *= 2
    table = np.full(cap, -1, dtype=np.int64)
    for k in existing:
        insert(table, k, cap - 1)
    return table


@njit(cache=True)
def key_slots(table, keys):
    """Where each of ``keys`` (all present) sits in ``table``."""
    mask = table.size - 1
    out = np.empty(keys.size, dtype=np.int64)
    for t in range(keys.size):
        out[t] = find(table, keys[t], mask)
    return out


@njit(cache=True)
def _logged_write(table, s, value, log_slot, log_old, w):
    """``table[s] = value``, the old value logged at ``w``; returns the next log position."""
    log_slot[w] = s
    log_old[w] = table[s]
    table[s] = value
    return w + 1


@njit(cache=True)
def _next(state):
    """splitmix64's step: the next state (int64, wrapping) and a uniform float in [0, 1) with
    53 bits, the top bits of ``mix64(state)``.

    Float scaling rather than an integer modulo: numba 0.68 miscompiled ``r % (m - 1)`` of a
    masked 64-bit draw here."""
    state = state + _GOLDEN_I64
    z = mix64(np.uint64(state))
    return state, np.int64(z >> _U11) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def _draw(state, m, start, undirected):
    """One try's draw among the ``m`` units from ``start``: two distinct units ``i``, ``j``
    and, on an undirected graph, whether ``j`` is read backwards."""
    state, u1 = _next(state)
    state, u2 = _next(state)
    i = start + min(int(u1 * m), m - 1)
    j = start + min(int(u2 * (m - 1)), m - 2)
    if j >= i:
        j += 1
    flip = False
    if undirected:
        state, u3 = _next(state)
        flip = u3 < 0.5
    return state, i, j, flip


@njit(cache=True, inline="always")
def _swapped_pairs(units, i, j, flip, n, undirected):
    """The ends of units ``i`` and ``j`` (``j`` read backwards when ``flip``) and the keys of
    the two pairs a swap would make of them, ``a_i-b_j`` and ``a_j-b_i`` (unordered on an
    undirected graph)."""
    ai = units[i, 0]
    bi = units[i, 1]
    aj = units[j, 0]
    bj = units[j, 1]
    if flip:
        aj, bj = bj, aj
    if undirected:
        return ai, bi, aj, bj, min(ai, bj) * n + max(ai, bj), min(aj, bi) * n + max(aj, bi)
    return ai, bi, aj, bj, ai * n + bj, aj * n + bi


@njit(cache=True)
def _touch(units, table, i, j, flip, n, undirected, mask):
    """Prefetches what a try on units ``i``, ``j`` will read from the table: the slots of its
    new pairs and of its old ones (a swap turns those into tombstones). Prefetches, not
    loads: loads kept the misses of only a few tries in flight (bench
    graph_structure/edge_rewiring, degree_preserving on a large graph)."""
    _, _, _, _, k1, k2 = _swapped_pairs(units, i, j, flip, n, undirected)
    prefetch(table, slot(k1, mask))
    prefetch(table, slot(k2, mask))
    prefetch(table, units[i, 2])
    prefetch(table, units[j, 2])


_AHEAD = 8  # a power of two


@njit(cache=True)
def swap_units(units, urev, table, u_g, remaining, n, undirected, seed, done, out_src,
               out_dst):
    """The swaps on the units ``units[i] = (a, b, slot, position)`` (edge ``a -> b`` stored at
    ``position``, the key of its pair at ``table[slot]``, so that a swap drops the old pair
    without probing for it; grouped by graph, ``u_g`` per graph), written into the
    output rows ``out_src``/``out_dst`` (a copy of the edge_index: only the swapped units'
    positions, and their reverse copies ``urev`` on an undirected graph, are rewritten).

    ``units`` and ``table`` (from :func:`pair_table`, room for two more keys per swap) are the
    state of the graph: every write to them is logged and undone before returning, so
    both come back exactly as they were and a call costs O(swaps), not O(E). One row of
    ``units`` per unit keeps a swap's reads of a unit in one cache line. The kernel holds the
    GIL, so no other thread sees the state midway."""
    mask = table.size - 1
    cap = 4 * remaining.sum() + 4
    log_slot = np.empty(cap, dtype=np.int64)
    log_old = np.empty(cap, dtype=np.int64)
    log_unit = np.empty(cap // 2, dtype=np.int64)
    log_row = np.empty((cap // 2, 3), dtype=np.int64)
    w = 0
    v = 0
    state = seed
    start = 0
    for g in range(u_g.size):
        m = u_g[g]
        want = remaining[g]
        tries = 0
        limit = 20 * want + 100
        if m < 2:
            start += m
            continue
        # A ring of the next _AHEAD tries' draws: the units of the newest are prefetched now,
        # the table slots of the one _AHEAD // 2 tries ahead (its units read back then), so
        # the cache misses of several tries overlap each other and this try's work. A swap
        # in between only makes such a prefetch useless, never a try wrong.
        r_state = np.empty(_AHEAD, dtype=np.int64)
        r_i = np.empty(_AHEAD, dtype=np.int64)
        r_j = np.empty(_AHEAD, dtype=np.int64)
        r_flip = np.empty(_AHEAD, dtype=np.bool_)
        s = state
        for q in range(_AHEAD):
            s, r_i[q], r_j[q], r_flip[q] = _draw(s, m, start, undirected)
            r_state[q] = s
        h = 0
        while done[g] < want and tries < limit:
            tries += 1
            state, i, j, flip = r_state[h], r_i[h], r_j[h], r_flip[h]
            s, fi, fj, fflip = _draw(r_state[(h + _AHEAD - 1) & (_AHEAD - 1)], m, start,
                                     undirected)
            r_state[h], r_i[h], r_j[h], r_flip[h] = s, fi, fj, fflip
            h = (h + 1) & (_AHEAD - 1)
            prefetch(units, fi)
            prefetch(units, fj)
            t = (h + _AHEAD // 2 - 1) & (_AHEAD - 1)
            _touch(units, table, r_i[t], r_j[t], r_flip[t], n, undirected, mask)
            ai, bi, aj, bj, k1, k2 = _swapped_pairs(units, i, j, flip, n, undirected)
            if ai == bj or aj == bi:
                continue
            if k1 == k2 or find(table, k1, mask) >= 0 or find(table, k2, mask) >= 0:
                continue
            # Old pairs become tombstones (probes go on past them), then the new pairs go in.
            w = _logged_write(table, units[i, 2], -2, log_slot, log_old, w)
            w = _logged_write(table, units[j, 2], -2, log_slot, log_old, w)
            s1 = free_slot(table, k1, mask)
            w = _logged_write(table, s1, k1, log_slot, log_old, w)
            s2 = free_slot(table, k2, mask)
            w = _logged_write(table, s2, k2, log_slot, log_old, w)
            for u in (i, j):
                log_unit[v] = u
                log_row[v, 0] = units[u, 0]
                log_row[v, 1] = units[u, 1]
                log_row[v, 2] = units[u, 2]
                v += 1
            units[i, 1] = bj
            units[i, 2] = s1
            units[j, 0] = aj
            units[j, 1] = bi
            units[j, 2] = s2
            done[g] += 1
        start += m
    # The touched units' final endpoints into the output (a unit swapped twice is written
    # twice with the same final values), then the state back as it was, newest change first.
    for q in range(v):
        u = log_unit[q]
        p = units[u, 3]
        out_src[p] = units[u, 0]
        out_dst[p] = units[u, 1]
        if undirected:
            r = urev[u]
            out_src[r] = units[u, 1]
            out_dst[r] = units[u, 0]
    for q in range(v - 1, -1, -1):
        u = log_unit[q]
        units[u, 0] = log_row[q, 0]
        units[u, 1] = log_row[q, 1]
        units[u, 2] = log_row[q, 2]
    for q in range(w - 1, -1, -1):
        table[log_slot[q]] = log_old[q]


@njit(cache=True)
def sorted_pair_keys(src, dst, n):
    """The keys ``min * n + max`` of the edges stored as (small, large) and as (large, small),
    each sorted ascending, with the positions of their edges: what ``torch.sort`` gives, in
    O(E + n) by two stable counting passes (low node, then high node). Self-loops are left
    out. Among equal keys (a pair stored twice) the positions stay in storage order."""
    e = src.size
    nf = 0
    nr = 0
    for t in range(e):
        if src[t] < dst[t]:
            nf += 1
        elif src[t] > dst[t]:
            nr += 1
    lo_f = np.empty(nf, dtype=np.int64)
    hi_f = np.empty(nf, dtype=np.int64)
    pos_f = np.empty(nf, dtype=np.int64)
    lo_r = np.empty(nr, dtype=np.int64)
    hi_r = np.empty(nr, dtype=np.int64)
    pos_r = np.empty(nr, dtype=np.int64)
    i = 0
    j = 0
    for t in range(e):
        s = src[t]
        d = dst[t]
        if s < d:
            lo_f[i] = d
            hi_f[i] = s
            pos_f[i] = t
            i += 1
        elif s > d:
            lo_r[j] = s
            hi_r[j] = d
            pos_r[j] = t
            j += 1
    fk, fpos = _two_pass(lo_f, hi_f, pos_f, n)
    rk, rpos = _two_pass(lo_r, hi_r, pos_r, n)
    return fk, fpos, rk, rpos


@njit(cache=True)
def _two_pass(lo, hi, pos, n):
    """Sort the pairs (hi, lo) ascending, stably: by ``lo``, then by ``hi``; returns the keys
    ``hi * n + lo`` and the positions in that order."""
    m = lo.size
    order = np.empty(m, dtype=np.int64)
    count = np.zeros(n + 1, dtype=np.int64)
    for t in range(m):
        count[lo[t] + 1] += 1
    for v in range(n):
        count[v + 1] += count[v]
    for t in range(m):
        at = count[lo[t]]
        count[lo[t]] = at + 1
        order[at] = t
    count[:] = 0
    for t in range(m):
        count[hi[t] + 1] += 1
    for v in range(n):
        count[v + 1] += count[v]
    keys = np.empty(m, dtype=np.int64)
    out_pos = np.empty(m, dtype=np.int64)
    for q in range(m):
        t = order[q]
        at = count[hi[t]]
        count[hi[t]] = at + 1
        keys[at] = hi[t] * n + lo[t]
        out_pos[at] = pos[t]
    return keys, out_pos


@njit(cache=True)
def sorted_keys_directed(src, dst, n):
    """The keys ``src * n + dst`` of the edges that are not self-loops, sorted ascending
    (stably), with their positions; O(E + n)."""
    m = 0
    for t in range(src.size):
        if src[t] != dst[t]:
            m += 1
    lo = np.empty(m, dtype=np.int64)
    hi = np.empty(m, dtype=np.int64)
    pos = np.empty(m, dtype=np.int64)
    i = 0
    for t in range(src.size):
        if src[t] != dst[t]:
            lo[i] = dst[t]
            hi[i] = src[t]
            pos[i] = t
            i += 1
    return _two_pass(lo, hi, pos, n)


@njit(cache=True)
def undirected_units(fk, fpos, rk, rpos):
    """One merge of the sorted keys of both stored directions (``sorted_pair_keys``): whether
    they hold the same pairs, the distinct forward keys (the pairs present), and the swap
    units: pairs stored exactly once in each direction, with both positions."""
    nf = fk.size
    nr = rk.size
    existing = np.empty(nf, dtype=np.int64)
    ukeys = np.empty(min(nf, nr), dtype=np.int64)
    upos = np.empty(min(nf, nr), dtype=np.int64)
    urev = np.empty(min(nf, nr), dtype=np.int64)
    symmetric = True
    i = 0
    j = 0
    ne = 0
    nu = 0
    while i < nf or j < nr:
        if j >= nr or (i < nf and fk[i] < rk[j]):
            key = fk[i]
        elif i >= nf or rk[j] < fk[i]:
            key = rk[j]
        else:
            key = fk[i]
        i0 = i
        while i < nf and fk[i] == key:
            i += 1
        j0 = j
        while j < nr and rk[j] == key:
            j += 1
        if i == i0 or j == j0:
            symmetric = False
        if i > i0:
            existing[ne] = key
            ne += 1
        if i - i0 == 1 and j - j0 == 1:
            ukeys[nu] = key
            upos[nu] = fpos[i0]
            urev[nu] = rpos[j0]
            nu += 1
    return symmetric, existing[:ne].copy(), ukeys[:nu].copy(), upos[:nu].copy(), urev[:nu].copy()


@njit(cache=True)
def directed_units(sk, spos):
    """The distinct keys of ``sk`` (sorted) and the keys stored exactly once, with positions."""
    m = sk.size
    existing = np.empty(m, dtype=np.int64)
    ukeys = np.empty(m, dtype=np.int64)
    upos = np.empty(m, dtype=np.int64)
    ne = 0
    nu = 0
    i = 0
    while i < m:
        i0 = i
        while i < m and sk[i] == sk[i0]:
            i += 1
        existing[ne] = sk[i0]
        ne += 1
        if i - i0 == 1:
            ukeys[nu] = sk[i0]
            upos[nu] = spos[i0]
            nu += 1
    return existing[:ne].copy(), ukeys[:nu].copy(), upos[:nu].copy()


@njit(cache=True)
def swap_items(src, dst, ptr, edge_ptr, seeds, applied, ratio, out_src, out_dst):
    """``functional.swaps.double_edge_swap`` of every graph of a Batch on its own, in one call:
    graph ``g`` (nodes ``ptr[g]:ptr[g + 1]``, edges ``edge_ptr[g]:edge_ptr[g + 1]``, stored
    graph by graph) gets the units (undirected when its own edges are symmetric), the swap
    count and the swaps that call gives it alone with ``seeds[g]`` where ``applied[g]``;
    its rewired edges are written into ``out_src``/``out_dst`` (a copy of the edges)."""
    for g in range(ptr.size - 1):
        a = ptr[g]
        n = ptr[g + 1] - a
        lo = edge_ptr[g]
        hi = edge_ptr[g + 1]
        if not applied[g] or hi - lo < 2 or n < 2:
            continue
        s = src[lo:hi] - a
        d = dst[lo:hi] - a
        fk, fpos, rk, rpos = sorted_pair_keys(s, d, n)
        undirected, existing, ukeys, upos, urev = undirected_units(fk, fpos, rk, rpos)
        if not undirected:
            sk, spos = sorted_keys_directed(s, d, n)
            existing, ukeys, upos = directed_units(sk, spos)
            urev = np.empty(0, np.int64)
        m = ukeys.size
        if m < 2:
            continue
        want = np.int64(np.floor(ratio * m / 2 + 0.5))
        table = pair_table(existing, 2 * want)
        slots = key_slots(table, ukeys)
        rows = np.empty((m, 4), np.int64)
        for u in range(m):
            rows[u, 0] = s[upos[u]]
            rows[u, 1] = d[upos[u]]
            rows[u, 2] = slots[u]
            rows[u, 3] = upos[u]
        new_s = s.copy()
        new_d = d.copy()
        swap_units(rows, urev, table, np.full(1, m, np.int64), np.full(1, want, np.int64), n,
                   undirected, seeds[g] & _MASK63_I64, np.zeros(1, np.int64), new_s, new_d)
        out_src[lo:hi] = new_s + a
        out_dst[lo:hi] = new_d + a
