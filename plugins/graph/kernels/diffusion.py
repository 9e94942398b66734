"""Kernel of the push-based approximate PPR: Andersen, Chung and Lang's local push from every
source node, step for step as PyG's ``get_ppr`` runs it (a LIFO queue of the nodes whose
residual reached ``alpha * eps * degree``, a node queued at most once at a time, the entries of
a source in the order the push first reached them). Dense per-thread scratch arrays stand in
for PyG's dicts and its list searched for queue membership; only what a source touched is reset.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _grown(buf, need):
    """``buf``, or a copy at least twice as long when ``need`` entries would not fit."""
    if need <= buf.size:
        return buf
    out = np.empty(max(need, 2 * buf.size), dtype=buf.dtype)
    out[: buf.size] = buf
    return out


@njit(cache=True, nogil=True)
def ppr_push_rows(rowptr, col, alpha, eps, lo, hi):
    """The PPR entries of the sources ``lo..hi-1`` of the CSR graph ``(rowptr, col)``:
    ``(counts, cols, values)``, source ``s`` owning the next ``counts[s - lo]`` entries."""
    n = rowptr.size - 1
    alpha_eps = alpha * eps
    p = np.zeros(n)
    r = np.zeros(n)
    in_p = np.zeros(n, dtype=np.bool_)
    in_q = np.zeros(n, dtype=np.bool_)
    queue = np.empty(n, dtype=np.int64)
    order = np.empty(n, dtype=np.int64)
    touched = np.empty(n, dtype=np.int64)
    in_touched = np.zeros(n, dtype=np.bool_)
    counts = np.zeros(hi - lo, dtype=np.int64)
    cols = np.empty(max(16 * (hi - lo), 1), dtype=np.int64)
    values = np.empty(cols.size, dtype=np.float64)
    filled = 0
    for s in range(lo, hi):
        k = 1
        order[0] = s
        in_p[s] = True
        p[s] = 0.0
        r[s] = alpha
        t = 1
        touched[0] = s
        in_touched[s] = True
        queue[0] = s
        in_q[s] = True
        qn = 1
        while qn > 0:
            qn -= 1
            u = queue[qn]
            in_q[u] = False
            res = r[u]
            if in_p[u]:
                p[u] += res
            else:
                p[u] = res
                in_p[u] = True
                order[k] = u
                k += 1
            r[u] = 0.0
            start, end = rowptr[u], rowptr[u + 1]
            ucount = end - start
            for e in range(start, end):
                v = col[e]
                r[v] += (1 - alpha) * res / ucount
                if not in_touched[v]:
                    in_touched[v] = True
                    touched[t] = v
                    t += 1
                if r[v] >= alpha_eps * (rowptr[v + 1] - rowptr[v]) and not in_q[v]:
                    queue[qn] = v
                    qn += 1
                    in_q[v] = True
        cols = _grown(cols, filled + k)
        values = _grown(values, filled + k)
        for j in range(k):
            u = order[j]
            cols[filled + j] = u
            values[filled + j] = p[u]
            in_p[u] = False
            p[u] = 0.0
        filled += k
        counts[s - lo] = k
        for j in range(t):
            r[touched[j]] = 0.0
            in_touched[touched[j]] = False
    return counts, cols[:filled], values[:filled]
