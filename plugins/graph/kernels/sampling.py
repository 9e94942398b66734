"""Kernels of subgraph sampling: random walks, k-hop distances, the per-graph ranking, the
roots, the target sizes and the CSR of the out-neighbours (one call each instead of a dozen
small torch ops)."""

import numpy as np
from numba import njit

from augkit.plugins.graph.kernels.common import hash63


@njit(cache=True, nogil=True)
def random_walk_first(rowptr, col, roots, salts, first):
    """``functional.sampling.random_walk_steps`` in one pass per step over the walkers:
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
                c = col[start + hash63(w, salt) % deg]
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
    instead of the sort: linear, where numba's mergesort is not."""
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
    """``functional.sampling._first_ranked`` into ``mask`` (all False on entry): the same
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
        key[i] = (batch[v] << 48) | (order_key[i] << 32) | (hash63(v, salt) >> 31)
    keep = np.zeros(m, np.bool_)
    smallest_per_group(key, group, cap, keep)
    for i in range(m):
        if keep[i]:
            mask[nodes[i]] = True


@njit(cache=True)
def one_root(ptr, count, salt, out):
    """``functional.sampling._one_root``: a uniform node of every non-empty graph with
    ``count[g] > 0`` (``ptr[g] + hash(g) % n_g``) written to ``out``; returns how many."""
    j = 0
    for g in range(ptr.size - 1):
        ng = ptr[g + 1] - ptr[g]
        if ng > 0 and count[g] > 0:
            out[j] = ptr[g] + hash63(g, salt) % ng
            j += 1
    return j


@njit(cache=True)
def target_sizes(ptr, ratio, out):
    """``functional.sampling.target_sizes``: ``max(1, floor(ratio * n_g + 0.5))``, at most
    ``n_g``, 0 for an empty graph (the same float64 arithmetic)."""
    for g in range(ptr.size - 1):
        ng = ptr[g + 1] - ptr[g]
        if ng > 0:
            t = max(np.int64(np.floor(ng * ratio + 0.5)), 1)
            out[g] = min(t, ng)
        else:
            out[g] = 0


@njit(cache=True)
def csr(src, dst, n, rowptr, col):
    """``functional.sampling.csr`` by a counting sort: ``rowptr`` (n + 1, zeros on entry)
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
