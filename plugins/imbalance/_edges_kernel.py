"""numba kernel of ``functional.incident_edges`` (imported only when numba is installed; at
module level so numba's on-disk cache serves later processes)."""

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


@njit(cache=True, nogil=True)
def _source_csr(row, col, query, num_nodes):
    """The out-edges (row == v) and in-edges (col == v) of the queried nodes v, each grouped
    by node in storage order (a counting sort of both ends in two passes over the edges),
    with the other end of each (``far_o``: its col, ``far_i``: its row), read while the pass
    has the edge at hand: copying them later through the edge ids was a random read into the
    whole edge list per new edge."""
    wanted = np.zeros(num_nodes, dtype=np.bool_)
    for v in query:
        wanted[v] = True
    ptr_o = np.zeros(num_nodes + 1, dtype=np.int64)
    ptr_i = np.zeros(num_nodes + 1, dtype=np.int64)
    for e in range(row.size):
        r = row[e]
        c = col[e]
        if wanted[r]:
            ptr_o[r + 1] += 1
        if wanted[c]:
            ptr_i[c + 1] += 1
    for v in range(num_nodes):
        ptr_o[v + 1] += ptr_o[v]
        ptr_i[v + 1] += ptr_i[v]
    fill_o = ptr_o[:-1].copy()
    fill_i = ptr_i[:-1].copy()
    sel_o = np.empty(ptr_o[num_nodes], dtype=np.int64)
    sel_i = np.empty(ptr_i[num_nodes], dtype=np.int64)
    far_o = np.empty(ptr_o[num_nodes], dtype=np.int64)
    far_i = np.empty(ptr_i[num_nodes], dtype=np.int64)
    for e in range(row.size):
        r = row[e]
        c = col[e]
        if wanted[r]:
            sel_o[fill_o[r]] = e
            far_o[fill_o[r]] = c
            fill_o[r] += 1
        if wanted[c]:
            sel_i[fill_i[c]] = e
            far_i[fill_i[c]] = r
            fill_i[c] += 1
    return ptr_o, sel_o, far_o, ptr_i, sel_i, far_i


@njit(cache=True, nogil=True)
def source_edge_counts(row, col, query, num_nodes):
    """(CSR of both ends with the far ends, as ``_source_csr``; out-edge total, in-edge
    total) over ``query``."""
    ptr_o, sel_o, far_o, ptr_i, sel_i, far_i = _source_csr(row, col, query, num_nodes)
    t_o = 0
    t_i = 0
    for v in query:
        t_o += ptr_o[v + 1] - ptr_o[v]
        t_i += ptr_i[v + 1] - ptr_i[v]
    return (ptr_o, sel_o, far_o, ptr_i, sel_i, far_i), t_o, t_i


@njit(cache=True, nogil=True)
def write_source_edges(query, first, csr, out, ids, at):
    """The ``copy_source`` edges of new nodes ``first + q`` into ``out[:, at:]`` and the
    copied edge ids into ``ids``: first every (source, v) as (new, v), by q then storage
    order, then every (v, source) as (v, new): what ``functional._new_edges`` concatenates.
    ``csr``: what ``source_edge_counts`` returned first; only its compact per-source lists
    are read, never the edge list itself."""
    ptr_o, sel_o, far_o, ptr_i, sel_i, far_i = csr
    j = 0
    for qi in range(query.size):
        v = query[qi]
        for t in range(ptr_o[v], ptr_o[v + 1]):
            out[0, at + j] = first + qi
            out[1, at + j] = far_o[t]
            ids[j] = sel_o[t]
            j += 1
    for qi in range(query.size):
        v = query[qi]
        for t in range(ptr_i[v], ptr_i[v + 1]):
            out[0, at + j] = far_i[t]
            out[1, at + j] = first + qi
            ids[j] = sel_i[t]
            j += 1
