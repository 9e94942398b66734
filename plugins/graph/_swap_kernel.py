"""The sequential double-edge-swap kernel, compiled by numba.

At module level (not built inside a function) so numba's on-disk cache is reused by every
later process instead of compiling again; imported only when numba is installed."""

# ruff: noqa: ANN001, ANN201, ANN202 - numba kernels

import numpy as np
from numba import njit


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
def _insert(table, key, mask):
    i = _slot(key, mask)
    while table[i] >= 0:
        i = (i + 1) & mask
    table[i] = key


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
def kernel(a, b, ukeys, existing, u_g, remaining, n, undirected, seed, done):
    cap = 4
    # Keys plus tombstones never pass half the table: every swap adds at most two.
    while cap < 2 * (existing.size + 2 * remaining.sum()) + 8:
        cap *= 2
    mask = cap - 1
    table = np.full(cap, -1, dtype=np.int64)
    for k in existing:
        _insert(table, k, mask)
    state = seed
    start = 0
    for g in range(u_g.size):
        m = u_g[g]
        want = remaining[g]
        tries = 0
        limit = 20 * want + 100
        while done[g] < want and tries < limit and m >= 2:
            tries += 1
            state, u1 = _next(state)
            state, u2 = _next(state)
            i = start + min(int(u1 * m), m - 1)
            j = start + min(int(u2 * (m - 1)), m - 2)
            if j >= i:
                j += 1
            ai = a[i]
            bi = b[i]
            aj = a[j]
            bj = b[j]
            if undirected:
                state, u3 = _next(state)
                if u3 < 0.5:
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
            table[_find(table, ukeys[i], mask)] = -2  # tombstone: probes go on past it
            table[_find(table, ukeys[j], mask)] = -2
            _insert(table, k1, mask)
            _insert(table, k2, mask)
            b[i] = bj
            a[j] = aj
            b[j] = bi
            ukeys[i] = k1
            ukeys[j] = k2
            done[g] += 1
        start += m
