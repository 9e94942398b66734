"""numba kernel of ``functional.incident_edges`` (imported only when numba is installed; at
module level so numba's on-disk cache serves later processes)."""

# ruff: noqa: ANN001, ANN201 - numba kernels

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def incident_edges(owner, query, num_nodes):
    """What ``functional._incident_edges_numpy`` returns, by a counting sort of the edges of
    queried nodes (two passes over ``owner``) instead of a comparison sort."""
    wanted = np.zeros(num_nodes, dtype=np.bool_)
    for v in query:
        wanted[v] = True
    ptr = np.zeros(num_nodes + 1, dtype=np.int64)
    for e in range(owner.size):
        o = owner[e]
        if wanted[o]:
            ptr[o + 1] += 1
    for v in range(num_nodes):
        ptr[v + 1] += ptr[v]
    fill = ptr[:-1].copy()
    sel = np.empty(ptr[num_nodes], dtype=np.int64)
    for e in range(owner.size):  # increasing e: the order of a stable sort by owner
        o = owner[e]
        if wanted[o]:
            sel[fill[o]] = e
            fill[o] += 1
    total = 0
    for v in query:
        total += ptr[v + 1] - ptr[v]
    q_out = np.empty(total, dtype=np.int64)
    e_out = np.empty(total, dtype=np.int64)
    j = 0
    for qi in range(query.size):
        v = query[qi]
        for t in range(ptr[v], ptr[v + 1]):
            q_out[j] = qi
            e_out[j] = sel[t]
            j += 1
    return q_out, e_out
