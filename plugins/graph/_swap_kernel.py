"""The numba kernels of ``functional_structure``: the sequential double-edge-swap kernel, the
swap-unit finders, the k-hop distances and the subgraph-sampling helpers.

At module level (not built inside a function) so numba's on-disk cache is reused by every
later process instead of compiling again; imported only when numba is installed."""

# ruff: noqa: ANN001, ANN201, ANN202 - numba kernels

import llvmlite.binding as _llvm
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# LLVM's prefetch intrinsic takes an opaque pointer from LLVM 15 on, an i8* before.
_PREFETCH = "llvm.prefetch.p0" if _llvm.llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"


@intrinsic
def _prefetch(typingctx, arr, i):
    """A software prefetch of ``arr[i]`` (a 1-D or, with ``i`` a row, 2-D array): unlike a
    load, it never holds up the instructions after it while the line comes from memory."""
    sig = types.void(arr, i)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        index = [args[1]] + [context.get_constant(types.intp, 0)] * (aryty.ndim - 1)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, index, wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, _PREFETCH)
        # read, highest locality, data cache
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True)
def _slot(key, mask):  # multiplicative hash of a non-negative key into the table
    return ((key * -7046029254386353131) >> 17) & mask


@njit(cache=True)
def _find(table, key, mask):
    i = _slot(key, mask)
    while True:
        t = table[i]
        if t == key:
            return i
        if t == -1:
            return -1
        i = (i + 1) & mask


@njit(cache=True)
def _free_slot(table, key, mask):  # where _insert puts key: the first empty or tombstone slot
    i = _slot(key, mask)
    while table[i] >= 0:
        i = (i + 1) & mask
    return i


@njit(cache=True)
def _insert(table, key, mask):
    table[_free_slot(table, key, mask)] = key


@njit(cache=True)
def pair_table(existing, extra):
    """An open-addressing hash set (linear probing; -1 empty, -2 tombstone) of the keys
    ``existing``, sized to stay at most half full after ``extra`` more insertions."""
    cap = 4
    while cap < 2 * (existing.size + extra) + 8:
        cap *= 2
    table = np.full(cap, -1, dtype=np.int64)
    for k in existing:
        _insert(table, k, cap - 1)
    return table


@njit(cache=True)
def key_slots(table, keys):
    """Where each of ``keys`` (all present) sits in ``table``."""
    mask = table.size - 1
    out = np.empty(keys.size, dtype=np.int64)
    for t in range(keys.size):
        out[t] = _find(table, keys[t], mask)
    return out


@njit(cache=True)
def _logged_write(table, s, value, log_slot, log_old, w):
    log_slot[w] = s
    log_old[w] = table[s]
    table[s] = value
    return w + 1


@njit(cache=True)
def _next(state):  # splitmix64 -> a uniform float in [0, 1) with 53 bits
    # (Float scaling rather than an integer modulo: numba 0.68 miscompiled ``r % (m - 1)``
    # of a masked 64-bit draw here.)
    state = state + -7046029254386353131
    z = state
    z = (z ^ ((z >> 30) & 0x3FFFFFFFF)) * -4658895280553007687
    z = (z ^ ((z >> 27) & 0x1FFFFFFFFF)) * -7723592293110705685
    z = z ^ ((z >> 31) & 0x1FFFFFFFF)
    return state, ((z >> 11) & 0x1FFFFFFFFFFFFF) * (1.0 / 9007199254740992.0)


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


@njit(cache=True)
def _touch(units, table, i, j, flip, n, undirected, mask):
    """Prefetches what a try on units ``i``, ``j`` will read from the table: the slots of its
    new pairs and of its old ones (a swap turns those into tombstones). Prefetches, not
    loads: loads kept the misses of a few tries in flight at most (1e6 edges, 20k swaps
    after a 64 MB sweep of the caches: ~7.6-9.7 -> ~3.6-6.1 ms)."""
    ai = units[i, 0]
    bi = units[i, 1]
    aj = units[j, 0]
    bj = units[j, 1]
    if flip:
        aj, bj = bj, aj
    if undirected:
        k1 = min(ai, bj) * n + max(ai, bj)
        k2 = min(aj, bi) * n + max(aj, bi)
    else:
        k1 = ai * n + bj
        k2 = aj * n + bi
    _prefetch(table, _slot(k1, mask))
    _prefetch(table, _slot(k2, mask))
    _prefetch(table, units[i, 2])
    _prefetch(table, units[j, 2])


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
    kept state of the graph: every write to them is logged and undone before returning, so
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
            _prefetch(units, fi)
            _prefetch(units, fj)
            t = (h + _AHEAD // 2 - 1) & (_AHEAD - 1)
            _touch(units, table, r_i[t], r_j[t], r_flip[t], n, undirected, mask)
            ai = units[i, 0]
            bi = units[i, 1]
            aj = units[j, 0]
            bj = units[j, 1]
            if flip:
                aj, bj = bj, aj
            if ai == bj or aj == bi:
                continue
            if undirected:
                k1 = min(ai, bj) * n + max(ai, bj)
                k2 = min(aj, bi) * n + max(aj, bi)
            else:
                k1 = ai * n + bj
                k2 = aj * n + bi
            if k1 == k2 or _find(table, k1, mask) >= 0 or _find(table, k2, mask) >= 0:
                continue
            # Old pairs become tombstones (probes go on past them), then the new pairs go in.
            w = _logged_write(table, units[i, 2], -2, log_slot, log_old, w)
            w = _logged_write(table, units[j, 2], -2, log_slot, log_old, w)
            s1 = _free_slot(table, k1, mask)
            w = _logged_write(table, s1, k1, log_slot, log_old, w)
            s2 = _free_slot(table, k2, mask)
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


_K1 = np.uint64(0xBF58476D1CE4E5B9)
_K2 = np.uint64(0x94D049BB133111EB)
_M63 = np.uint64((1 << 63) - 1)
_U27, _U30, _U31 = np.uint64(27), np.uint64(30), np.uint64(31)


@njit(cache=True, inline="always")
def _hash63(key, salt):
    """``functional_structure.hash64`` of one key: splitmix64's finaliser of ``key + salt``
    (``salt`` the stream's derive_seed, as uint64), its low 63 bits."""
    z = np.uint64(key) + salt
    z = (z ^ (z >> _U30)) * _K1
    z = (z ^ (z >> _U27)) * _K2
    z = z ^ (z >> _U31)
    return np.int64(z & _M63)


@njit(cache=True, nogil=True)
def random_walk_first(rowptr, col, roots, salts, first):
    """``functional_structure.random_walk_steps`` in one pass per step over the walkers:
    ``first`` (filled by the caller with ``walk_length + 1``) gets the step at which each node
    is first visited; step s moves walker w to neighbour ``hash63(w, salts[s - 1]) % deg`` of
    its node, the torch path's draw, and a walker at a node without out-neighbours stays."""
    cur = roots.copy()
    for w in range(roots.size):
        first[roots[w]] = 0
    for step in range(1, salts.size + 1):
        salt = salts[step - 1]
        moved = False
        for w in range(cur.size):
            c = cur[w]
            start = rowptr[c]
            deg = rowptr[c + 1] - start
            if deg > 0:
                moved = True
                c = col[start + _hash63(w, salt) % deg]
                cur[w] = c
                if step < first[c]:
                    first[c] = step
        if not moved:
            break


@njit(cache=True)
def khop_distances(src, dst, roots, num_hops, dist):
    """``dist`` (filled with -1 by the caller) gets the hop distance from the nearest root
    along the edges ``src -> dst``, up to ``num_hops``: one pass over the edges per hop, as
    the torch path and PyG's ``k_hop_subgraph`` do, without their temporaries. A node reached
    in this hop has distance ``hop``, not ``hop - 1``, so it is not expanded in the same pass."""
    for r in roots:
        dist[r] = 0
    for hop in range(1, num_hops + 1):
        grew = False
        for e in range(src.size):
            if dist[src[e]] == hop - 1 and dist[dst[e]] < 0:
                dist[dst[e]] = hop
                grew = True
        if not grew:
            break


# ---- subgraph sampling helpers: one call each instead of a dozen small torch ops ---------


@njit(cache=True)
def smallest_per_group(key, group, cap, keep):
    """``keep[i]`` (all False on entry) for the ``cap[g]`` smallest keys of every group ``g``
    (``group[i]`` in ``0..cap.size-1``), equal keys by position: what a stable sort by key
    and a rank within the group below ``cap`` keep. A selection per group (np.partition)
    instead of the sort: linear, where numba's mergesort of 1e6 keys took ~0.4 s."""
    m = key.size
    k = cap.size
    start = np.zeros(k + 1, np.int64)
    for i in range(m):
        start[group[i] + 1] += 1
    for g in range(k):
        start[g + 1] += start[g]
    # The positions of every group, in increasing order (a stable counting sort).
    pos = np.empty(m, np.int64)
    fill = start[:k].copy()
    for i in range(m):
        g = group[i]
        pos[fill[g]] = i
        fill[g] += 1
    for g in range(k):
        a = start[g]
        b = start[g + 1]
        c = cap[g]
        if c <= 0:
            continue
        if b - a <= c:
            for j in range(a, b):
                keep[pos[j]] = True
            continue
        sub = np.empty(b - a, np.int64)
        for j in range(a, b):
            sub[j - a] = key[pos[j]]
        t = np.partition(sub, c - 1)[c - 1]  # the c-th smallest key
        ties = c
        for j in range(a, b):
            if key[pos[j]] < t:
                ties -= 1
        for j in range(a, b):  # all keys below t, then the first `ties` equal to it
            i = pos[j]
            if key[i] < t:
                keep[i] = True
            elif key[i] == t and ties > 0:
                keep[i] = True
                ties -= 1


@njit(cache=True)
def first_ranked(nodes, order_key, batch, cap, salt, mask):
    """``functional_structure._first_ranked`` into ``mask`` (all False on entry): the same
    sort key, ``(graph << 48) | (order_key << 32) | 32 random bits``, and the same rank
    (position in the sorted list minus the graph's start). Equal keys (two nodes of one
    graph, one level, the same 32 bits) are ordered by position, where torch's unstable
    sort picks either."""
    m = nodes.size
    k = cap.size
    if m == 0:
        return
    cnt = np.zeros(k, np.int64)
    for i in range(m):
        cnt[batch[nodes[i]]] += 1
    over = False
    for g in range(k):
        if cnt[g] > cap[g]:
            over = True
            break
    if not over:  # every graph keeps all its candidates
        for i in range(m):
            mask[nodes[i]] = True
        return
    key = np.empty(m, np.int64)
    group = np.empty(m, np.int64)
    for i in range(m):
        v = nodes[i]
        group[i] = batch[v]
        key[i] = (batch[v] << 48) | (order_key[i] << 32) | (_hash63(v, salt) >> 31)
    keep = np.zeros(m, np.bool_)
    smallest_per_group(key, group, cap, keep)
    for i in range(m):
        if keep[i]:
            mask[nodes[i]] = True


@njit(cache=True)
def one_root(ptr, count, salt, out):
    """``functional_structure._one_root``: a uniform node of every non-empty graph with
    ``count[g] > 0`` (``ptr[g] + hash(g) % n_g``) written to ``out``; returns how many."""
    j = 0
    for g in range(ptr.size - 1):
        ng = ptr[g + 1] - ptr[g]
        if ng > 0 and count[g] > 0:
            out[j] = ptr[g] + _hash63(g, salt) % ng
            j += 1
    return j


@njit(cache=True)
def target_sizes(ptr, ratio, out):
    """``functional_structure.target_sizes``: ``max(1, floor(ratio * n_g + 0.5))``, at most
    ``n_g``, 0 for an empty graph (the same float64 arithmetic)."""
    for g in range(ptr.size - 1):
        ng = ptr[g + 1] - ptr[g]
        if ng > 0:
            t = max(np.int64(np.floor(ng * ratio + 0.5)), 1)
            out[g] = min(t, ng)
        else:
            out[g] = 0


@njit(cache=True)
def relabel_mask(mask, new_id):
    """``new_id[i]``: the rank of node i among the kept ones (-1 when dropped); returns the
    kept nodes in order."""
    j = 0
    for i in range(mask.size):
        if mask[i]:
            new_id[i] = j
            j += 1
        else:
            new_id[i] = -1
    kept = np.empty(j, np.int64)
    for i in range(mask.size):
        if mask[i]:
            kept[new_id[i]] = i
    return kept


@njit(cache=True)
def csr(src, dst, n, rowptr, col):
    """``functional_structure.csr`` by a counting sort: ``rowptr`` (n + 1, zeros on entry)
    and ``col``, the targets grouped by source in their stored order (a stable sort).
    Returns False, writing nothing past the arrays, when a node id is outside 0..n-1."""
    for e in range(src.size):
        if src[e] < 0 or src[e] >= n or dst[e] < 0 or dst[e] >= n:
            return False
    for s in src:
        rowptr[s + 1] += 1
    for i in range(n):
        rowptr[i + 1] += rowptr[i]
    fill = rowptr[:-1].copy()
    for e in range(src.size):
        s = src[e]
        col[fill[s]] = dst[e]
        fill[s] += 1
    return True


# ---- random rewiring ----------------------------------------------------------------------

_GOLD = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, inline="always")
def _stream_salt(base, stream):
    """``augkit.random.derive_seed(seed, stream)`` from ``base``, the chain state after
    ``seed`` (``augkit._counter.chain_prefix((seed,), 2)``), as uint64."""
    return np.uint64(_hash63(stream, base + _GOLD))  # uint64: int64 + uint64 is a float


@njit(cache=True)
def _bucket_index(keys, n2):
    """For sorted distinct ``keys`` in ``[0, n2)``: ``(starts, shift)`` with the keys whose
    top bits ``key >> shift`` equal b at ``keys[starts[b]:starts[b + 1]]``, about one key
    per bucket on average, so a lookup is one read of ``starts`` and a short binary search
    instead of ~log2(len) scattered reads (a 5e6-key set is 40 MB, far outside the caches)."""
    m = keys.size
    bits = 1
    while (1 << bits) < m:
        bits += 1
    total = 1
    while (1 << total) < n2:
        total += 1
    shift = max(total - bits, 0)
    nb = ((max(n2, 1) - 1) >> shift) + 1
    starts = np.empty(nb + 1, np.int64)
    j = 0
    for b in range(nb + 1):
        while j < m and (keys[j] >> shift) < b:
            j += 1
        starts[b] = j
    return starts, shift


@njit(cache=True, inline="always")
def _locate(keys, starts, shift, key):
    """Position of ``key`` in ``keys`` (see :func:`_bucket_index`), -1 when absent."""
    b = key >> shift
    if b < 0 or b >= starts.size - 1:
        return -1
    lo = starts[b]
    hi = starts[b + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < starts[b + 1] and keys[lo] == key else -1


# How many lookups ahead rewire_random's pipelines prefetch. Written out in the loops: a
# numba helper taking the arrays was not inlined and cost ~100 ns a call.
_RING = 16


@njit(cache=True)
def rewire_random(src, dst, n, undirected, existing, ukeys, upos, urev, batch, ptr, base,
                  thresh, max_rounds, out_src, out_dst, moved):
    """``functional_structure.rewire_random`` after its checks, in one call: the same picks,
    units, rooms, dense-graph deals and rejection rounds, with the same counter-based draws,
    written into ``out_src``/``out_dst`` (copies of the input) and ``moved``; returns the
    edges moved. ``existing`` is the sorted set of pair keys present, so the units (the
    picked keys, sorted) are read off it without a sort. Within a round the torch ops keep
    the first of equal proposals; here proposals are taken in order, so a later equal one
    finds the first already taken: the same winners.

    ``ukeys``, ``upos`` (and ``urev`` on an undirected graph): the swap units of
    ``_cached_units``, the pairs stored exactly once (per direction) with the positions of
    their copies. The moves of those pairs are written there, walking the pairs in order;
    only the edges of pairs stored more than once are looked up, in one pass over the edges
    (a lookup per picked edge was most of a 1e7-edge call). Empty arrays: look every edge
    up."""
    num_graphs = ptr.size - 1
    n2 = n * n
    salt1 = _stream_salt(base, 1)
    nu = 0
    for k in existing:
        if (_hash63(k, salt1) >> 23) < thresh:
            nu += 1
    if nu == 0:
        return 0
    units = np.empty(nu, np.int64)
    j = 0
    for k in existing:
        if (_hash63(k, salt1) >> 23) < thresh:
            units[j] = k
            j += 1
    k_g = np.zeros(num_graphs, np.int64)
    d_g = np.zeros(num_graphs, np.int64)
    if num_graphs == 1:
        k_g[0] = nu
        d_g[0] = existing.size
    else:
        for k in units:
            k_g[batch[k // n]] += 1
        for k in existing:
            d_g[batch[k // n]] += 1
    ustart = np.zeros(num_graphs + 1, np.int64)
    room = np.empty(num_graphs, np.int64)
    dense = np.zeros(num_graphs, np.bool_)
    for g in range(num_graphs):
        ustart[g + 1] = ustart[g] + k_g[g]
        ng = ptr[g + 1] - ptr[g]
        pg = ng * (ng - 1) // (2 if undirected else 1)
        room[g] = min(k_g[g], pg - d_g[g])
        dense[g] = pg <= 4 * (d_g[g] + k_g[g]) and room[g] > 0
    estarts, eshift = _bucket_index(existing, n2)
    new_a = np.full(nu, -1, np.int64)
    new_b = np.full(nu, -1, np.int64)
    salt2 = _stream_salt(base, 2)
    for g in range(num_graphs):
        if not dense[g]:
            continue
        # Every free pair of the graph in random order; the first room[g] go to the first
        # room[g] units of the graph (those with urank < room).
        ng = ptr[g + 1] - ptr[g]
        off = ptr[g]
        ck = np.empty(ng * ng, np.int64)
        c = 0
        for la in range(ng):
            for lb in range(ng):
                if (la < lb) if undirected else (la != lb):
                    k = (off + la) * n + (off + lb)
                    if _locate(existing, estarts, eshift, k) < 0:
                        ck[c] = k
                        c += 1
        ck = ck[:c]
        pri = np.empty(c, np.int64)
        for i in range(c):
            pri[i] = _hash63(ck[i], salt2) >> 23
        o = np.argsort(pri, kind="mergesort")
        for r in range(room[g]):
            u = ustart[g] + r
            new_a[u] = ck[o[r]] // n
            new_b[u] = ck[o[r]] % n
    # Sparse graphs: rejection rounds.
    pending = np.empty(nu, np.int64)
    npend = 0
    for g in range(num_graphs):
        if dense[g]:
            continue
        for r in range(max(room[g], 0)):
            pending[npend] = ustart[g] + r
            npend += 1
    cap = 8
    while cap < 2 * npend + 8:
        cap *= 2
    taken = np.full(cap, -1, np.int64)
    tmask = cap - 1
    # Each proposal's lookups are random reads of tables larger than the caches (1e6 edges:
    # ~160 ns a proposal), so the proposals run as a pipeline: a proposal's bucket start and
    # taken slot are prefetched _RING proposals before it is decided, the middle of its
    # bucket half that; the decisions stay in order (the first of equal proposals wins).
    prop = np.empty(max(npend, 1), np.int64)
    nbk = estarts.size - 1
    for rnd in range(max_rounds):
        if npend == 0:
            break
        sa = _stream_salt(base, 16 + 2 * rnd)
        sb = _stream_salt(base, 17 + 2 * rnd)
        left = 0
        for i in range(npend + _RING):
            if i < npend:
                pk = units[pending[i]]
                g = batch[pk // n] if num_graphs > 1 else 0
                ng = ptr[g + 1] - ptr[g]
                a = _hash63(pk, sa) % max(ng, 1)
                b = _hash63(pk, sb) % max(ng - 1, 1)
                if b >= a:
                    b += 1
                if undirected and b < a:
                    a, b = b, a
                k = (a + ptr[g]) * n + b + ptr[g]
                prop[i] = k
                if (k >> eshift) < nbk:
                    _prefetch(estarts, k >> eshift)
                _prefetch(taken, _slot(k, tmask))
            j = i - _RING // 2
            if 0 <= j < npend and (prop[j] >> eshift) < nbk:
                lo = estarts[prop[j] >> eshift]
                if lo < estarts[(prop[j] >> eshift) + 1]:
                    _prefetch(existing, (lo + estarts[(prop[j] >> eshift) + 1]) >> 1)
            j = i - _RING
            if j >= 0:
                u = pending[j]  # pending[left] below: left <= j, behind every read ahead
                k = prop[j]
                if _locate(existing, estarts, eshift, k) >= 0 or _find(taken, k, tmask) >= 0:
                    pending[left] = u
                    left += 1
                else:
                    _insert(taken, k, tmask)
                    new_a[u] = k // n
                    new_b[u] = k % n
        npend = left
    done = 0
    if ukeys.size > 0:
        # Walk the pairs in order beside the units; a picked pair that is not a unit (stored
        # more than once) goes to a small set, whose edges one pass over the edges finds.
        dup_cap = 8
        dup_keys = np.full(dup_cap, -1, np.int64)
        dup_unit = np.empty(dup_cap, np.int64)
        ndup = 0
        u = 0
        i = 0
        for j in range(existing.size):
            k = existing[j]
            while i < ukeys.size and ukeys[i] < k:
                i += 1
            is_unit = i < ukeys.size and ukeys[i] == k
            if (_hash63(k, salt1) >> 23) >= thresh:
                continue
            a = new_a[u]
            b = new_b[u]
            if not is_unit:
                if 2 * (ndup + 1) > dup_cap:  # grow the set (linear probing, half full)
                    old_k = dup_keys
                    old_u = dup_unit
                    dup_cap *= 2
                    dup_keys = np.full(dup_cap, -1, np.int64)
                    dup_unit = np.empty(dup_cap, np.int64)
                    for t in range(old_k.size):
                        if old_k[t] >= 0:
                            s_ = _free_slot(dup_keys, old_k[t], dup_cap - 1)
                            dup_keys[s_] = old_k[t]
                            dup_unit[s_] = old_u[t]
                s_ = _free_slot(dup_keys, k, dup_cap - 1)
                dup_keys[s_] = k
                dup_unit[s_] = u
                ndup += 1
            elif a >= 0:
                p = upos[i]
                out_src[p] = a
                out_dst[p] = b
                moved[p] = True
                done += 1
                if undirected:
                    p = urev[i]
                    out_src[p] = b
                    out_dst[p] = a
                    moved[p] = True
                    done += 1
            u += 1
        if ndup == 0:
            return done
        # Only the edges of pairs stored more than once: looked up in the small set.
        return done + _write_picked_edges(src, dst, n, undirected, salt1, thresh, new_a, new_b,
                                          dup_keys, dup_unit, dup_keys, 0, True,
                                          out_src, out_dst, moved)
    ustarts, ushift = _bucket_index(units, n2)
    return _write_picked_edges(src, dst, n, undirected, salt1, thresh, new_a, new_b, units,
                               ustarts, ustarts, ushift, False, out_src, out_dst, moved)


@njit(cache=True)
def _write_picked_edges(src, dst, n, undirected, salt1, thresh, new_a, new_b, keys, aux,
                        starts, shift, hashed, out_src, out_dst, moved):
    """The last pass of :func:`rewire_random`: every picked edge whose unit moved gets the
    unit's new pair (reversed for an edge stored as (large, small)). The unit of a key is
    found in the hash set ``keys`` -> ``aux`` (``hashed``) or by :func:`_locate` in the sorted
    ``keys`` with ``starts``/``shift``; the picked edges are listed first, then looked up as
    a pipeline that prefetches a bucket's start _RING edges ahead and its middle half that
    (the lookups, random reads, were about half of a 1e6-edge call). Returns the edges
    written."""
    e = src.size
    pos = np.empty(e, np.int64)
    pkey = np.empty(e, np.int64)
    m = 0
    for p in range(e):
        s_ = src[p]
        d_ = dst[p]
        if s_ == d_:
            continue
        k = min(s_, d_) * n + max(s_, d_) if undirected else s_ * n + d_
        if (_hash63(k, salt1) >> 23) < thresh:
            pos[m] = p
            pkey[m] = k
            m += 1
    nbk = starts.size - 1
    done = 0
    for i in range(m + _RING):
        if not hashed:
            if i < m and (pkey[i] >> shift) < nbk:
                _prefetch(starts, pkey[i] >> shift)
            j = i - _RING // 2
            if 0 <= j < m and (pkey[j] >> shift) < nbk:
                lo = starts[pkey[j] >> shift]
                if lo < starts[(pkey[j] >> shift) + 1]:
                    _prefetch(keys, (lo + starts[(pkey[j] >> shift) + 1]) >> 1)
        j = i - _RING
        if j < 0:
            continue
        k = pkey[j]
        if hashed:
            t = _find(keys, k, keys.size - 1)
            u = aux[t] if t >= 0 else -1
        else:
            u = _locate(keys, starts, shift, k)
        if u < 0 or new_a[u] < 0:
            continue
        p = pos[j]
        a = new_a[u]
        b = new_b[u]
        if undirected and src[p] > dst[p]:
            a, b = b, a
        out_src[p] = a
        out_dst[p] = b
        moved[p] = True
        done += 1
    return done


@njit(cache=True)
def id_range(edge_index):
    """``(min, max)`` of a ``[2, E]`` edge_index with ``E >= 1`` (the node-id check of a small
    graph: one call where torch.aminmax and two item reads cost ~2 us)."""
    lo = edge_index[0, 0]
    hi = lo
    for r in range(2):
        for e in range(edge_index.shape[1]):
            v = edge_index[r, e]
            lo = min(lo, v)
            hi = max(hi, v)
    return lo, hi
