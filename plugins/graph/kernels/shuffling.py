"""Kernel of node shuffling: every graph's permutation from its nodes' draws, in one pass.

Node ``i`` of graph ``g`` draws ``hash63(i, salt_g)``; the graph's nodes are ordered by the
draw's top bits (the torch path's sort key below the graph id), ties kept in node order. The
draws are uniform, so a counting sort on their leading bits followed by an insertion sort
(which then only moves nodes within their bucket) orders them in expected linear time."""

import numpy as np
from numba import njit

from augkit.plugins.graph.kernels.common import hash63


@njit(cache=True, nogil=True)
def _stable_order(keys, bits, out, start):
    """``out[start + j]``: ``start`` plus the node of rank ``j`` under ``keys`` (< 2**bits)."""
    n = keys.size
    b = 1
    while (1 << b) < n:
        b += 1
    drop = max(bits - b, 0)
    counts = np.zeros((1 << b) + 1, dtype=np.int64)
    for i in range(n):
        counts[(keys[i] >> drop) + 1] += 1
    for j in range(1 << b):
        counts[j + 1] += counts[j]
    idx = np.empty(n, dtype=np.int64)
    for i in range(n):
        bucket = keys[i] >> drop
        idx[counts[bucket]] = i
        counts[bucket] += 1
    for j in range(1, n):  # stable: a node passes only strictly larger keys
        node = idx[j]
        key = keys[node]
        m = j - 1
        while m >= 0 and keys[idx[m]] > key:
            idx[m + 1] = idx[m]
            m -= 1
        idx[m + 1] = node
    for j in range(n):
        out[start + j] = start + idx[j]


@njit(cache=True, nogil=True)
def shuffle_perm(ptr, salts, applied, shift, perm):
    for g in range(ptr.size - 1):
        start, stop = ptr[g], ptr[g + 1]
        n = stop - start
        if not applied[g]:
            for i in range(n):
                perm[start + i] = start + i
            continue
        salt = salts[g]
        keys = np.empty(n, dtype=np.int64)
        for i in range(n):
            keys[i] = hash63(i, salt) >> shift
        _stable_order(keys, 63 - shift, perm, start)
