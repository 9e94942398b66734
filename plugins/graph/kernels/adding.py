"""Kernel of edge adding: every graph's new edges in one pass over its candidates.

Graph ``g`` draws candidate ``c`` as ``(hash63(2c) % n, hash63(2c + 1) % span)`` under its
salt and keeps, in counter order, the first ``count[g]`` allowed ones: no self-loop unless
asked and, unless duplicates are asked, no pair already in the hash set of the graph's edges
and of the candidates kept before. The torch path draws the same candidates in rounds and
keeps the same ones (``functional.adding.add_edge_items``)."""

import numpy as np
from numba import njit

from augkit.plugins.graph.kernels.common import hash63, stream_salts
from augkit.plugins.graph.kernels.streams import STREAM_ADD_EDGE
from augkit.plugins.graph.kernels.swaps import find, insert, pair_table


@njit(cache=True, inline="always")
def _pair_key(u, v, undirected, big_n):
    """``u * big_n + v``, the smaller node first on an undirected graph."""
    if undirected and v < u:
        return v * big_n + u
    return u * big_n + v


@njit(cache=True)
def add_edges(src, dst, ptr, p, seeds, applied, undirected, self_loops, duplicates):
    """``(new_src, new_dst, new_graph, count)``: the new stored edges in global node ids,
    grouped by graph (an undirected pair as ``(u, v), (v, u)``, a self-loop once), the graph
    of each, and the edges (undirected: pairs) each graph added. ``count[g]`` is
    ``round(p * E)`` (undirected: ``round(p * E / 2)``; half to even) capped at the pairs the
    graph has room for: every allowed pair less the distinct ones it has (all of them when
    ``duplicates``). Graph ``g`` draws under seed ``seeds[g]``."""
    salts = stream_salts(seeds, STREAM_ADD_EDGE)
    k = ptr.size - 1
    big_n = max(ptr[k], 1)
    node_graph = np.empty(ptr[k], np.int64)
    for g in range(k):
        for i in range(ptr[g], ptr[g + 1]):
            node_graph[i] = g
    edges = np.zeros(k, np.int64)
    for e in range(src.size):
        edges[node_graph[src[e]]] += 1
    want = np.zeros(k, np.int64)
    for g in range(k):
        if applied[g]:
            rate = edges[g] / 2.0 if undirected[g] else edges[g] * 1.0
            want[g] = np.int64(np.round(rate * p))
    have = np.zeros(k, np.int64)
    table = np.full(1, -1, np.int64)
    mask = 0
    if not duplicates:
        table = pair_table(np.empty(0, np.int64), src.size + want.sum())
        mask = table.size - 1
        for e in range(src.size):
            u, v = src[e], dst[e]
            g = node_graph[u]
            key = _pair_key(u, v, undirected[g], big_n)
            if find(table, key, mask) < 0:
                insert(table, key, mask)
                if self_loops or u != v:
                    have[g] += 1
    count = np.zeros(k, np.int64)
    for g in range(k):
        n = ptr[g + 1] - ptr[g]
        loops = n if self_loops else 0
        allowed = n * (n - 1) // 2 + loops if undirected[g] else n * (n - 1) + loops
        if duplicates:
            count[g] = want[g] if allowed > 0 else 0
        else:
            count[g] = min(want[g], max(allowed - have[g], 0))
    new_src = np.empty(2 * count.sum(), np.int64)
    new_dst = np.empty_like(new_src)
    new_graph = np.empty_like(new_src)
    m = 0
    for g in range(k):
        n = ptr[g + 1] - ptr[g]
        base = ptr[g]
        und = undirected[g]
        # An undirected graph with self-loops draws its second node among n + 1 values, the
        # last meaning the first node, so each unordered pair is equally likely.
        span = n + 1 if und and self_loops else n
        salt = salts[g]
        got = 0
        c = 0
        while got < count[g]:
            u = hash63(2 * c, salt) % n
            v = hash63(2 * c + 1, salt) % span
            c += 1
            if v == n:
                v = u
            if u == v and not self_loops:
                continue
            u += base
            v += base
            if not duplicates:
                key = _pair_key(u, v, und, big_n)
                if find(table, key, mask) >= 0:
                    continue
                insert(table, key, mask)
            got += 1
            new_src[m], new_dst[m], new_graph[m] = u, v, g
            m += 1
            if und and u != v:
                new_src[m], new_dst[m], new_graph[m] = v, u, g
                m += 1
    return new_src[:m], new_dst[:m], new_graph[:m], count
