"""Kernels of edge and node dropout: one pass that hashes, decides and compacts.

A key's draw is ``bits24(key, salt)`` (``augkit._counter.hash_bits24``); it is kept when the
draw is at least ``thresh`` (``threshold24(p)``). The key of an edge is its position, or
``min * n + max`` on an undirected graph; the key of a node is its index."""

import numpy as np
from numba import njit

from augkit.plugins.graph.kernels.common import GOLDEN, bits24, compact_edges


@njit(cache=True, nogil=True)
def edge_keep(src, dst, n, salt, thresh, undirected, keep, base=0):
    """Marks the kept edges in ``keep`` and returns their count. ``base``: the position of
    src[0] in the whole edge list (a directed edge's draw is keyed by its position), so a
    chunk decides as the whole list would."""
    kept = 0
    for i in range(src.shape[0]):
        if undirected:
            u = src[i]
            v = dst[i]
            key = u * n + v if u <= v else v * n + u
        else:
            key = base + i
        k = bits24(key, salt) >= thresh
        keep[i] = k
        kept += k
    return kept


@njit(cache=True, nogil=True)
def dropout_edge(src, dst, n, salt, thresh, undirected):
    """The kept edges and their positions, both passes (:func:`edge_keep`, then the
    branchless :func:`compact_edges`) in one call (one dispatch from Python)."""
    e = src.shape[0]
    keep = np.empty(e, np.bool_)
    k = edge_keep(src, dst, n, salt, thresh, undirected, keep)
    out = np.empty((2, k), np.int64)
    idx = np.empty(k, np.int64)
    compact_edges(src, dst, keep, np.empty(0, np.int64), out, idx, 0)
    return out, idx


@njit(cache=True, nogil=True)
def symmetric_sums_equal(src, dst, salt):
    """Whether an order-independent sum of a hash of every (u, v) equals that of every
    (v, u): true on a symmetric multiset of edges, false otherwise except with probability
    about 2**-64."""
    a = np.uint64(0)
    b = np.uint64(0)
    for i in range(src.shape[0]):
        u = np.uint64(src[i])
        v = np.uint64(dst[i])
        a += np.uint64(bits24(u * GOLDEN ^ v, salt)) * (v + 1)
        b += np.uint64(bits24(v * GOLDEN ^ u, salt)) * (u + 1)
    return a == b


@njit(cache=True, nogil=True)
def dropout_edge_auto(src, dst, n, salt, thresh, sym_salt):
    """:func:`symmetric_sums_equal` then :func:`dropout_edge` undirected when it holds, in
    one call (on a small graph the separate dispatches dominate); also returns that flag."""
    undirected = symmetric_sums_equal(src, dst, sym_salt)
    out, idx = dropout_edge(src, dst, n, salt, thresh, undirected)
    return out, idx, undirected


@njit(cache=True, nogil=True)
def keep_largest_draws(flags, a, b, key_base, salt, need):
    """Sets ``flags[i] = 1`` for the ``need`` nodes of ``[a, b)`` with the largest draws
    ``bits24(i - key_base, salt)``: a uniformly random subset that contains the nodes whose
    draw already passed the threshold (ties by index, as torch's stable sort). ``key_base``:
    0 keys a node by its index in the whole graph, ``a`` by its index in its own graph."""
    h = np.empty(b - a, np.int64)
    for i in range(a, b):
        h[i - a] = -bits24(i - key_base, salt)
    order = np.argsort(h, kind="mergesort")
    for r in range(need):
        flags[a + order[r]] = 1


@njit(cache=True, nogil=True)
def number_kept(new_id):
    """Turns keep flags into new indices, in place: ``new_id[i]`` (nonzero when node i is
    kept) becomes its rank among the kept nodes, or -1 when it is dropped. Returns the kept
    nodes."""
    j = 0
    for i in range(new_id.shape[0]):
        if new_id[i]:
            new_id[i] = j
            j += 1
        else:
            new_id[i] = -1
    return j


@njit(cache=True, nogil=True)
def node_keep(ptr, salt, thresh, min_nodes, new_id, counts):
    """The nodes a node dropout keeps, at least ``min(min_nodes, size)`` per graph of
    ``ptr``: ``new_id`` gets every node's new index (-1 when dropped), ``counts`` the kept
    nodes per graph; returns the kept nodes."""
    n_graphs = ptr.shape[0] - 1
    for g in range(n_graphs):
        a = ptr[g]
        b = ptr[g + 1]
        c = 0
        for i in range(a, b):
            k = bits24(i, salt) >= thresh
            new_id[i] = k
            c += k
        need = min(min_nodes, b - a)
        if c < need:
            keep_largest_draws(new_id, a, b, 0, salt, need)
            c = need
        counts[g] = c
    return number_kept(new_id)


@njit(cache=True, nogil=True)
def node_edges_keep(src, dst, new_id, keep):
    """Marks the edges whose two ends are kept (``new_id >= 0``); returns their count."""
    kept = 0
    for i in range(src.shape[0]):
        # &, not and: both ends read, no branch on the first (a random keep mispredicts).
        k = (new_id[src[i]] >= 0) & (new_id[dst[i]] >= 0)
        keep[i] = k
        kept += k
    return kept


@njit(cache=True, nogil=True)
def induced_edges(src, dst, new_id):
    """The edges whose two ends are kept, relabelled through ``new_id``, and their
    positions."""
    keep = np.empty(src.shape[0], np.bool_)
    k = node_edges_keep(src, dst, new_id, keep)
    out = np.empty((2, k), np.int64)
    idx = np.empty(k, np.int64)
    compact_edges(src, dst, keep, new_id, out, idx, 0)
    return out, idx


@njit(cache=True, nogil=True)
def dropout_node(ptr, src, dst, salt, thresh, min_nodes):
    """:func:`node_keep`, :func:`induced_edges` and the kept node list in one call (on a
    small graph the separate dispatches and their conversions dominate)."""
    n = ptr[-1] if ptr.shape[0] else 0
    new_id = np.empty(n, np.int64)
    counts = np.empty(max(ptr.shape[0] - 1, 0), np.int64)
    kept_nodes = node_keep(ptr, salt, thresh, min_nodes, new_id, counts)
    nid = np.empty(kept_nodes, np.int64)
    for i in range(n):
        if new_id[i] >= 0:
            nid[new_id[i]] = i
    out, idx = induced_edges(src, dst, new_id)
    return out, nid, idx, counts


@njit(cache=True, nogil=True)
def dropout_edge_items(src, dst, batch, ptr, salts, applied, thresh, undirected, sym_salt):
    """The edge dropout of every graph of a Batch, each with its own salt and keys local to
    it, in one call: what ``functional.edge_keep_items`` computes, then the compaction.
    ``undirected``: 0 keys by position in the graph, 1 by pair, 2 by pair where the graph's
    own edges pass :func:`symmetric_sums_equal`. Returns the kept edges, their positions and
    the kept edges per graph."""
    e = src.shape[0]
    k = ptr.shape[0] - 1
    graph = np.empty(e, np.int64)
    start = np.zeros(k, np.int64)
    for i in range(e):
        g = batch[src[i]]
        graph[i] = g
        start[g] += 1
    total = 0
    for g in range(k):  # the first edge of each graph (edges stored graph by graph)
        c = start[g]
        start[g] = total
        total += c
    pairs = np.empty(k, np.bool_)
    if undirected == 2:
        a = np.zeros(k, np.uint64)
        b = np.zeros(k, np.uint64)
        for i in range(e):
            g = graph[i]
            u = np.uint64(src[i] - ptr[g])
            v = np.uint64(dst[i] - ptr[g])
            a[g] += np.uint64(bits24(u * GOLDEN ^ v, sym_salt)) * (v + 1)
            b[g] += np.uint64(bits24(v * GOLDEN ^ u, sym_salt)) * (u + 1)
        for g in range(k):
            pairs[g] = a[g] == b[g]
    else:
        pairs[:] = undirected == 1
    keep = np.empty(e, np.bool_)
    counts = np.zeros(k, np.int64)
    kept = 0
    for i in range(e):
        g = graph[i]
        if pairs[g]:
            base = ptr[g]
            n = ptr[g + 1] - base
            u = src[i] - base
            v = dst[i] - base
            key = u * n + v if u <= v else v * n + u
        else:
            key = i - start[g]
        kk = (not applied[g]) or bits24(key, salts[g]) >= thresh
        keep[i] = kk
        counts[g] += kk
        kept += kk
    out = np.empty((2, kept), np.int64)
    idx = np.empty(kept, np.int64)
    compact_edges(src, dst, keep, np.empty(0, np.int64), out, idx, 0)
    return out, idx, counts


@njit(cache=True, nogil=True)
def node_keep_items(ptr, salts, applied, thresh, min_nodes, new_id, counts):
    """:func:`node_keep` on every graph of ``ptr`` with its own salt and its local node
    indices as keys (``functional.node_keep_items``); graphs not ``applied`` keep every
    node and need none. Returns the kept nodes."""
    for g in range(ptr.shape[0] - 1):
        a = ptr[g]
        b = ptr[g + 1]
        salt = salts[g]
        c = 0
        for i in range(a, b):
            k = (not applied[g]) or bits24(i - a, salt) >= thresh
            new_id[i] = k
            c += k
        need = min(min_nodes, b - a) if applied[g] else 0
        if c < need:
            keep_largest_draws(new_id, a, b, a, salt, need)
            c = need
        counts[g] = c
    return number_kept(new_id)
