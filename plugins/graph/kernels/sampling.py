"""Kernels of subgraph sampling: random walks, k-hop distances, the per-graph ranking, the
roots, the target sizes and the CSR of the out-neighbours (one call each instead of a dozen
small torch ops)."""

import numpy as np
from numba import njit

from augkit.plugins.graph.kernels.common import hash63, seed_base, stream_salt
from augkit.plugins.graph.kernels.streams import (
    ROOT_SEED_OFFSET,
    STREAM_RANK,
    STREAM_ROOT,
    STREAM_WALK_STEP,
)

# Positions in functional.sampling.SAMPLING_METHODS.
METHOD_RANDOM_WALK = 0
METHOD_KHOP = 1
METHOD_RANDOM_NODE = 2


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


@njit(cache=True)
def _graph_roots(n, count, seed):
    """``functional.sampling._roots`` of one graph of ``n >= 1`` nodes: ``count`` distinct
    random nodes drawn under ``seed + ROOT_SEED_OFFSET`` (one draw when ``count <= 1``)."""
    base = seed_base(seed + ROOT_SEED_OFFSET)
    if count <= 1:
        out = np.empty(1, np.int64)
        out[0] = hash63(0, stream_salt(base, STREAM_ROOT)) % n
        return out
    nodes = np.arange(n)
    zero = np.zeros(n, np.int64)
    cap = np.full(1, count, np.int64)
    mask = np.zeros(n, np.bool_)
    first_ranked(nodes, zero, zero, cap, stream_salt(base, STREAM_RANK), mask)
    return np.nonzero(mask)[0]


@njit(cache=True)
def _graph_keep(src, dst, n, method, ratio, seed, walk_length, num_hops, keep):
    """``functional.sampling.sample_subgraph_nodes`` of one graph (edges ``src -> dst`` in
    local ids, ``n >= 1`` nodes) into ``keep`` (all False on entry): the same roots, walks,
    hops and ranking, so the graph keeps what it keeps alone."""
    cap = np.full(1, min(n, max(np.int64(np.floor(n * ratio + 0.5)), 1)), np.int64)
    zero = np.zeros(n, np.int64)
    rank_salt = stream_salt(seed_base(seed), STREAM_RANK)
    if method == METHOD_RANDOM_NODE:
        for r in _graph_roots(n, cap[0], seed):
            keep[r] = True
        return
    if method == METHOD_RANDOM_WALK:
        rowptr = np.zeros(n + 1, np.int64)
        col = np.empty(src.size, np.int64)
        csr(src, dst, n, rowptr, col)
        roots = _graph_roots(n, (cap[0] + walk_length) // (walk_length + 1), seed)
        base = seed_base(seed)
        salts = np.empty(walk_length, np.uint64)
        for step in range(1, walk_length + 1):
            salts[step - 1] = stream_salt(base, STREAM_WALK_STEP + step)
        level = np.full(n, walk_length + 1, np.int64)
        random_walk_first(rowptr, col, roots, salts, level)
        never = walk_length + 1
    else:
        roots = np.empty(1, np.int64)
        roots[0] = hash63(0, stream_salt(seed_base(seed + ROOT_SEED_OFFSET), STREAM_ROOT)) % n
        level = np.full(n, -1, np.int64)
        khop_distances(src, dst, roots, num_hops, level)
        never = -1
    m = 0
    for v in range(n):
        m += level[v] != never
    reached = np.empty(m, np.int64)
    order = np.empty(m, np.int64)
    j = 0
    for v in range(n):
        if level[v] != never:
            reached[j] = v
            order[j] = level[v]
            j += 1
    first_ranked(reached, order, zero, cap, rank_salt, keep)


@njit(cache=True)
def subgraph_keep_items(src, dst, ptr, edge_ptr, seeds, applied, method, ratio, walk_length,
                        num_hops, keep):
    """The nodes every graph of a Batch keeps (``keep``, all True on entry), graph ``g``
    sampled alone with ``seeds[g]`` where ``applied[g]`` (:func:`_graph_keep` on its own
    edges ``edge_ptr[g]:edge_ptr[g + 1]``, stored graph by graph, and local ids)."""
    for g in range(ptr.size - 1):
        a = ptr[g]
        n = ptr[g + 1] - a
        if not applied[g] or n == 0:
            continue
        lo = edge_ptr[g]
        hi = edge_ptr[g + 1]
        local = np.zeros(n, np.bool_)
        _graph_keep(src[lo:hi] - a, dst[lo:hi] - a, n, method, ratio, seeds[g],
                    walk_length, num_hops, local)
        keep[a:a + n] = local
