"""Kernels of random rewiring: the picks, the dense graphs' deals of free pairs, the
rejection rounds of the sparse ones and the write-back of the moved edges, in one call."""

import numpy as np
from numba import njit

from augkit.plugins.graph.kernels.common import hash63, prefetch, stream_salt
from augkit.plugins.graph.kernels.streams import (
    STREAM_DEAL,
    STREAM_PICK,
    STREAM_PROPOSE,
)
from augkit.plugins.graph.kernels.swaps import find, free_slot, insert, slot


@njit(cache=True)
def _bucket_index(keys, n2):
    """For sorted distinct ``keys`` in ``[0, n2)``: ``(starts, shift)`` with the keys whose
    top bits ``key >> shift`` equal b at ``keys[starts[b]:starts[b + 1]]``, about one key
    per bucket on average, so a lookup is one read of ``starts`` and a short binary search
    instead of ~log2(len) scattered reads (a large key set is far outside the caches)."""
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
# numba helper taking the arrays was not inlined, and its call cost more than the lookup.
_RING = 16


@njit(cache=True)
def rewire_random(src, dst, n, undirected, existing, ukeys, upos, urev, batch, ptr, base,
                  thresh, max_rounds, out_src, out_dst, moved):
    """``functional.rewiring.rewire_random`` after its checks, in one call: the same picks,
    units, rooms, dense-graph deals and rejection rounds, with the same counter-based draws,
    written into ``out_src``/``out_dst`` (copies of the input) and ``moved``; returns the
    edges moved. ``existing`` is the sorted set of pair keys present, so the units (the
    picked keys, sorted) are read off it without a sort. Within a round the torch ops keep
    the first of equal proposals; here proposals are taken in order, so a later equal one
    finds the first already taken: the same winners.

    ``ukeys``, ``upos`` (and ``urev`` on an undirected graph): the swap units
    (``functional.swaps._units_numba``), the pairs stored exactly once (per direction) with
    the positions of their copies. The moves of those pairs are written there, walking the
    pairs in order; only the edges of pairs stored more than once are looked up, in one
    pass over the edges (a lookup per picked edge dominates a large graph). Empty arrays:
    look every edge up."""
    num_graphs = ptr.size - 1
    n2 = n * n
    salt1 = stream_salt(base, STREAM_PICK)
    nu = 0
    for k in existing:
        if (hash63(k, salt1) >> 23) < thresh:
            nu += 1
    if nu == 0:
        return 0
    units = np.empty(nu, np.int64)
    j = 0
    for k in existing:
        if (hash63(k, salt1) >> 23) < thresh:
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
    salt2 = stream_salt(base, STREAM_DEAL)
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
            pri[i] = hash63(ck[i], salt2) >> 23
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
    # Each proposal's lookups are random reads of tables larger than the caches, so the
    # proposals run as a pipeline: a proposal's bucket start and
    # taken slot are prefetched _RING proposals before it is decided, the middle of its
    # bucket half that; the decisions stay in order (the first of equal proposals wins).
    prop = np.empty(max(npend, 1), np.int64)
    nbk = estarts.size - 1
    for rnd in range(max_rounds):
        if npend == 0:
            break
        sa = stream_salt(base, STREAM_PROPOSE + 2 * rnd)
        sb = stream_salt(base, STREAM_PROPOSE + 2 * rnd + 1)
        left = 0
        for i in range(npend + _RING):
            if i < npend:
                pk = units[pending[i]]
                g = batch[pk // n] if num_graphs > 1 else 0
                ng = ptr[g + 1] - ptr[g]
                a = hash63(pk, sa) % max(ng, 1)
                b = hash63(pk, sb) % max(ng - 1, 1)
                if b >= a:
                    b += 1
                if undirected and b < a:
                    a, b = b, a
                k = (a + ptr[g]) * n + b + ptr[g]
                prop[i] = k
                if (k >> eshift) < nbk:
                    prefetch(estarts, k >> eshift)
                prefetch(taken, slot(k, tmask))
            j = i - _RING // 2
            if 0 <= j < npend and (prop[j] >> eshift) < nbk:
                lo = estarts[prop[j] >> eshift]
                if lo < estarts[(prop[j] >> eshift) + 1]:
                    prefetch(existing, (lo + estarts[(prop[j] >> eshift) + 1]) >> 1)
            j = i - _RING
            if j >= 0:
                u = pending[j]  # pending[left] below: left <= j, behind every read ahead
                k = prop[j]
                if _locate(existing, estarts, eshift, k) >= 0 or find(taken, k, tmask) >= 0:
                    pending[left] = u
                    left += 1
                else:
                    insert(taken, k, tmask)
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
            if (hash63(k, salt1) >> 23) >= thresh:
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
                            s_ = free_slot(dup_keys, old_k[t], dup_cap - 1)
                            dup_keys[s_] = old_k[t]
                            dup_unit[s_] = old_u[t]
                s_ = free_slot(dup_keys, k, dup_cap - 1)
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
    (the lookups are random reads of tables larger than the caches). Returns the edges
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
        if (hash63(k, salt1) >> 23) < thresh:
            pos[m] = p
            pkey[m] = k
            m += 1
    nbk = starts.size - 1
    done = 0
    for i in range(m + _RING):
        if not hashed:
            if i < m and (pkey[i] >> shift) < nbk:
                prefetch(starts, pkey[i] >> shift)
            j = i - _RING // 2
            if 0 <= j < m and (pkey[j] >> shift) < nbk:
                lo = starts[pkey[j] >> shift]
                if lo < starts[(pkey[j] >> shift) + 1]:
                    prefetch(keys, (lo + starts[(pkey[j] >> shift) + 1]) >> 1)
        j = i - _RING
        if j < 0:
            continue
        k = pkey[j]
        if hashed:
            t = find(keys, k, keys.size - 1)
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
