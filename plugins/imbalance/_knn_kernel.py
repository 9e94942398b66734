"""numba kernel of ``knn._best_in_groups``: the exact k nearest points of each query among the
points of its candidate groups, one pass per query with nothing gathered (imported only when
numba is installed; at module level so numba's on-disk cache serves later processes)."""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, boundscheck=False, fastmath={"reassoc", "contract"})
def best_in_groups(pts, sq, idx, groups, group, k, lo, hi, out):
    """For queries ``lo..hi-1``: ``out[i]`` = the ``k`` points nearest to ``pts[idx[i]]``
    (float64 ``sq[p] - 2 p.q``, the ranking of ``|p - q|^2``), nearest first, ties by
    candidate order, among the points of groups ``groups[i]`` (``group`` consecutive points
    each); the query itself is left out, and points at +inf (padding) are never chosen while
    a finite one is left. A sorted insertion into k slots: k is small."""
    d = pts.shape[1]
    best_d = np.empty(k, np.float64)
    best_i = np.empty(k, np.int64)
    for i in range(lo, hi):
        qi = idx[i]
        q = pts[qi]
        for s in range(k):
            best_d[s] = np.inf
            best_i[s] = -1
        for gj in range(groups.shape[1]):
            base = groups[i, gj] * group
            for p in range(base, base + group):
                if p == qi:
                    continue
                row = pts[p]
                dot = 0.0
                for t in range(d):
                    dot += row[t] * q[t]
                dist = sq[p] - 2.0 * dot
                if not dist < best_d[k - 1]:
                    if best_i[k - 1] >= 0:
                        continue
                    if dist != dist:  # NaN never comes from finite points; skip it anyway
                        continue
                s = k - 1
                while s > 0 and dist < best_d[s - 1]:
                    best_d[s] = best_d[s - 1]
                    best_i[s] = best_i[s - 1]
                    s -= 1
                best_d[s] = dist
                best_i[s] = p
        for s in range(k):
            out[i, s] = best_i[s]
