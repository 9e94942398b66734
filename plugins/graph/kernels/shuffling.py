"""Kernel of node shuffling: every graph's permutation from its nodes' draws.

Node ``i`` of graph ``g`` draws ``hash63(i, salt_g)``; the graph's nodes are ordered by the
draw's top ``63 - shift`` bits (the torch path's sort key below the graph id), ties kept in node
order. A graph of ``n`` nodes needs ``b`` bits for a node id, so each node becomes one word: the
leading ``63 - b`` bits of its key above its id. An LSD radix sort on the words' leading ``b``
bits (digits of at most ``DIGIT_BITS``, stable, so node order stays among equal digits; a few
``SPARE_BITS`` more where two passes are needed anyway) leaves about one node per value of
those bits, in order; an insertion pass then orders what ties there by the stored bits, and by
the whole key where even those tie. One word per node moves half the memory of (key, id) pairs,
and the small digits keep every histogram in the L1 cache.
"""

import numpy as np
from numba import njit

from augkit.plugins.graph.kernels.common import hash63, stream_salts
from augkit.plugins.graph.kernels.streams import STREAM_SHUFFLE

#: Bits per radix digit: 2048 counters, in L1; two passes sort graphs of up to 4M nodes.
DIGIT_BITS = 11
#: Bits sorted beyond the id's width once a graph needs two passes anyway: about one node in
#: ``2**SPARE_BITS`` then ties with the one before it, so the insertion pass rarely branches.
SPARE_BITS = 3


@njit(cache=True, nogil=True, inline="always")
def _id_bits(n):
    """Bits of the largest node id of an ``n``-node graph (at least 1)."""
    b = 1
    while (1 << b) < n:
        b += 1
    return b


@njit(cache=True, nogil=True, inline="always")
def _after(u, v, b, salt, shift, truncated):
    """Whether word ``u`` sorts strictly after word ``v``: by the stored key bits, then (when
    the words hold only the key's leading bits) by the whole key; equal keys keep node order."""
    hu = u >> b
    hv = v >> b
    if hu != hv:
        return hu > hv
    if not truncated:
        return False
    mask = (np.int64(1) << b) - 1
    return (hash63(u & mask, salt) >> shift) > (hash63(v & mask, salt) >> shift)


@njit(cache=True, nogil=True)
def _order_graph(n, salt, shift, words, spare, counts, out, start):
    """``out[start + j]``: ``start`` plus the node of rank ``j`` among the graph's ``n`` nodes
    (``words``, ``spare``: buffers of at least ``n``; ``counts``: ``2**DIGIT_BITS``)."""
    b = _id_bits(n)
    key_bits = 63 - shift
    stored = min(key_bits, 63 - b)
    for i in range(n):
        words[i] = ((hash63(i, salt) >> shift) >> (key_bits - stored)) << b | i
    sort_bits = min(b, stored)
    passes = (sort_bits + DIGIT_BITS - 1) // DIGIT_BITS
    if passes > 1:  # wider digits cost these passes nothing and leave fewer ties to insert
        sort_bits = min(stored, b + SPARE_BITS, passes * DIGIT_BITS)
    r = (sort_bits + passes - 1) // passes
    digit_mask = (np.int64(1) << r) - 1
    low = b + stored - passes * r
    src, dst = words, spare
    for p in range(passes):
        at = low + p * r
        counts[: digit_mask + 1] = 0
        for i in range(n):
            counts[(src[i] >> at) & digit_mask] += 1
        total = 0
        for d in range(digit_mask + 1):
            c = counts[d]
            counts[d] = total
            total += c
        for i in range(n):
            w = src[i]
            d = (w >> at) & digit_mask
            dst[counts[d]] = w
            counts[d] += 1
        src, dst = dst, src
    truncated = stored < key_bits
    for j in range(1, n):  # stable: a word passes only words it sorts strictly after
        w = src[j]
        m = j - 1
        while m >= 0 and _after(src[m], w, b, salt, shift, truncated):
            src[m + 1] = src[m]
            m -= 1
        src[m + 1] = w
    id_mask = (np.int64(1) << b) - 1
    for j in range(n):
        out[start + j] = start + (src[j] & id_mask)


@njit(cache=True, nogil=True)
def shuffle_perm(ptr, seeds, applied, shift, perm):
    """``perm`` over all nodes: graph ``g`` (nodes ``ptr[g]:ptr[g + 1]``) ordered by its
    nodes' keys under seed ``seeds[g]`` (salt ``derive_seed(seeds[g], STREAM_SHUFFLE)``) where
    ``applied[g]``, left in place elsewhere."""
    salts = stream_salts(seeds, STREAM_SHUFFLE)
    largest = 0
    for g in range(ptr.size - 1):
        largest = max(largest, ptr[g + 1] - ptr[g])
    words = np.empty(largest, dtype=np.int64)
    spare = np.empty(largest, dtype=np.int64)
    counts = np.empty(1 << DIGIT_BITS, dtype=np.int64)
    for g in range(ptr.size - 1):
        start, stop = ptr[g], ptr[g + 1]
        if not applied[g] or stop - start < 2:
            for i in range(start, stop):
                perm[i] = i
            continue
        _order_graph(stop - start, salts[g], shift, words, spare, counts, perm, start)
