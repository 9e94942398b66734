"""Pure graph kernels: tensors in, tensors out, a ``seed`` instead of hidden state.

Every random decision is a counter-based hash of ``(seed, key)`` (``augkit._counter.hash_bits24``):
the key of an edge is its position, or ``min(u, v) * num_nodes + max(u, v)`` when the graph
is undirected, so both directions of a pair get the same draw in whatever order they are
stored, without a sort; the key of a node is its (global) index; of a feature column on a
Batch, ``graph * num_features + column``. The same seed therefore gives the same result on the
CPU and on CUDA, bit for bit (except the ``normal`` fill, equal up to float rounding), and no
global random state is read.

On the CPU the hot paths run as fused numba kernels (one pass that hashes, decides and
compacts); anywhere else, and for dtypes numba does not handle, the same arithmetic runs as
torch ops. ``backend="torch"`` forces the torch path (the tests use it to show both agree).

A drop rate ``p`` drops a key when its 24-bit hash is below ``ceil(p * 2**24)``: exactly
probability ``p`` up to 2**-24.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from augkit._counter import hash_bits24, salt_of, threshold24
from augkit._memory import empty_array, empty_output_like
from augkit._threads import parallel_ranges, workers_for

try:  # numba is an optional accelerator; the torch path is always there.
    import numba
    from numba import njit
except ImportError:  # pragma: no cover - numba ships with the graph extra
    numba = None

FILL_MODES = ("zero", "mean", "normal")
MASK_MODES = ("feature", "node", "element")


def _use_numba(backend: str | None, *tensors: torch.Tensor) -> bool:
    if backend == "torch" or numba is None:
        return False
    if backend not in (None, "numba"):
        raise ValueError(f"backend={backend!r}; allowed: None, 'numba', 'torch'")
    return all(t.device.type == "cpu" for t in tensors)


# Below this many edges edge dropout runs as one numba call (the dispatch of a second one was
# ~10 % of a 1e4-edge call); above it the outputs are allocated by numpy (augkit._memory:
# huge pages, recycled): numba's own allocation faulted per 4 KiB page and made 1e7 edges
# ~1.5x slower.
_FUSED_MAX_EDGES = 1 << 18


def _chunked_keep_and_compact(
    src: np.ndarray, dst: np.ndarray, keep_fn: Any, new_id: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The kept edges (relabelled through ``new_id`` unless it is empty) and their positions,
    over contiguous chunks of the edge list on torch's threads (the numba kernels release
    the GIL): ``keep_fn(src_chunk, dst_chunk, keep_chunk, chunk_start)`` marks a chunk's
    kept edges and returns their count; each chunk then writes its kept edges at its offset.
    Outputs (and the mask) are recycled buffers (augkit._memory)."""
    e = src.shape[0]
    keep = empty_array((e,), np.bool_)
    chunks = workers_for(e, 1)
    if chunks == 1:  # small graphs: no thread hand-off, no closures
        k = int(keep_fn(src, dst, keep, 0))
        out = empty_array((2, k), np.int64)
        idx = empty_array((k,), np.int64)
        _compact_edges_nb(src, dst, keep, new_id, out, idx, 0)
        return out, idx
    bounds = [e * j // chunks for j in range(chunks + 1)]
    counts = [0] * chunks

    def mark(lo: int, hi: int) -> None:
        for c in range(lo, hi):
            a, b = bounds[c], bounds[c + 1]
            counts[c] = int(keep_fn(src[a:b], dst[a:b], keep[a:b], a))

    parallel_ranges(mark, chunks, e // chunks)
    offsets = [0]
    for c in counts:
        offsets.append(offsets[-1] + c)
    out = empty_array((2, offsets[-1]), np.int64)
    idx = empty_array((offsets[-1],), np.int64)

    def compact(lo: int, hi: int) -> None:
        for c in range(lo, hi):
            a, b = bounds[c], bounds[c + 1]
            o0, o1 = offsets[c], offsets[c + 1]
            _compact_edges_nb(src[a:b], dst[a:b], keep[a:b], new_id, out[:, o0:o1],
                              idx[o0:o1], a)

    parallel_ranges(compact, chunks, e // chunks)
    return out, idx


def _rows(edge_index: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """The two rows of a CPU ``edge_index`` as numpy views (one ``numpy()`` call: indexing the
    tensor first costs a view object per row, ~15 us of a 100 us call at 1e4 edges)."""
    arr = edge_index.numpy()
    return arr[0], arr[1]


def _u64(x: int) -> np.uint64:
    return np.uint64(int(x) & ((1 << 64) - 1))


# ---- numba kernels --------------------------------------------------------------------------

if numba is not None:
    _C1 = np.uint64(0xBF58476D1CE4E5B9)
    _C2 = np.uint64(0x94D049BB133111EB)
    _S30, _S27, _S31, _S40 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(40)

    @njit(inline="always", cache=True)
    def _bits24(key, salt):  # noqa: ANN001, ANN202 - numba
        z = np.uint64(key) + salt
        z = (z ^ (z >> _S30)) * _C1
        z = (z ^ (z >> _S27)) * _C2
        z = z ^ (z >> _S31)
        return np.int64(z >> _S40)

    @njit(cache=True, nogil=True)
    def _edge_keep_nb(src, dst, n, salt, thresh, undirected, keep, base=0):  # noqa: ANN001, ANN202
        # ``base``: the position of src[0] in the whole edge list (a directed edge's draw is
        # keyed by its position), so a chunk decides as the whole list would.
        kept = 0
        for i in range(src.shape[0]):
            if undirected:
                u = src[i]
                v = dst[i]
                key = u * n + v if u <= v else v * n + u
            else:
                key = base + i
            k = _bits24(key, salt) >= thresh
            keep[i] = k
            kept += k
        return kept

    @njit(cache=True, nogil=True)
    def _dropout_edge_nb(src, dst, n, salt, thresh, undirected):  # noqa: ANN001, ANN202
        # Both passes in one call (one dispatch from Python). The second is branchless (a
        # random 20 % drop mispredicts a branch per fifth edge); it stops once all k kept
        # edges are written, so the unconditional writes never pass the end.
        e = src.shape[0]
        keep = np.empty(e, np.bool_)
        k = _edge_keep_nb(src, dst, n, salt, thresh, undirected, keep)
        out = np.empty((2, k), np.int64)
        idx = np.empty(k, np.int64)
        j = 0
        for i in range(e):
            if j == k:
                break
            out[0, j] = src[i]
            out[1, j] = dst[i]
            idx[j] = i
            j += keep[i]
        return out, idx

    @njit(cache=True, nogil=True)
    def _compact_edges_nb(src, dst, keep, new_id, out, idx, base=0):  # noqa: ANN001, ANN202
        # new_id of length 0 means "no relabelling"; idx holds base + the chunk position.
        # Branchless, as _dropout_edge_nb's pass: every edge is written at j and j moves on
        # only when it is kept (a branch on a random keep mispredicted; 1e6 edges, 80 % kept:
        # ~2.8 -> ~1.7 ms, relabelled ~4.3 -> ~3.4 ms); it stops once the out.shape[1] kept
        # edges are written, so the writes never pass the end.
        k = out.shape[1]
        j = 0
        relabel = new_id.shape[0] > 0
        for i in range(src.shape[0]):
            if j == k:
                break
            if relabel:
                out[0, j] = new_id[src[i]]
                out[1, j] = new_id[dst[i]]
            else:
                out[0, j] = src[i]
                out[1, j] = dst[i]
            idx[j] = base + i
            j += keep[i]

    @njit(cache=True, nogil=True)
    def _symmetric_sum_nb(src, dst, salt):  # noqa: ANN001, ANN202
        a = np.uint64(0)
        b = np.uint64(0)
        for i in range(src.shape[0]):
            u = np.uint64(src[i])
            v = np.uint64(dst[i])
            # An order-independent sum of a hash of (u, v) and of (v, u): equal on a symmetric
            # multiset of edges, different otherwise except with probability ~2**-64.
            a += np.uint64(_bits24(u * np.uint64(0x9E3779B97F4A7C15) ^ v, salt)) * (v + 1)
            b += np.uint64(_bits24(v * np.uint64(0x9E3779B97F4A7C15) ^ u, salt)) * (u + 1)
        return a == b

    @njit(cache=True, nogil=True)
    def _node_keep_nb(ptr, salt, thresh, min_nodes, new_id, counts):  # noqa: ANN001, ANN202
        n_graphs = ptr.shape[0] - 1
        for g in range(n_graphs):
            a = ptr[g]
            b = ptr[g + 1]
            c = 0
            for i in range(a, b):
                k = _bits24(i, salt) >= thresh
                new_id[i] = k
                c += k
            need = min(min_nodes, b - a)
            if c < need:
                # Keep the `need` nodes with the largest draws: a uniformly random subset that
                # contains the ones already kept (ties by index, as torch's stable sort).
                h = np.empty(b - a, np.int64)
                for i in range(a, b):
                    h[i - a] = -_bits24(i, salt)
                order = np.argsort(h, kind="mergesort")
                for r in range(need):
                    new_id[a + order[r]] = 1
                c = need
            counts[g] = c
        j = 0
        for i in range(new_id.shape[0]):
            if new_id[i]:
                new_id[i] = j
                j += 1
            else:
                new_id[i] = -1
        return j

    @njit(cache=True, nogil=True)
    def _node_edges_nb(src, dst, new_id, keep):  # noqa: ANN001, ANN202
        kept = 0
        for i in range(src.shape[0]):
            # &, not and: both ends read, no branch on the first (1e6 edges ~1.5x faster).
            k = (new_id[src[i]] >= 0) & (new_id[dst[i]] >= 0)
            keep[i] = k
            kept += k
        return kept

    @njit(cache=True, nogil=True)
    def _induced_edges_nb(src, dst, new_id):  # noqa: ANN001, ANN202
        keep = np.empty(src.shape[0], np.bool_)
        k = _node_edges_nb(src, dst, new_id, keep)
        out = np.empty((2, k), np.int64)
        idx = np.empty(k, np.int64)
        _compact_edges_nb(src, dst, keep, new_id, out, idx, 0)
        return out, idx

    @njit(cache=True, nogil=True)
    def _dropout_node_nb(ptr, src, dst, salt, thresh, min_nodes):  # noqa: ANN001, ANN202
        # node_keep_ids, induced_edges and the kept node list in one call: on a small graph
        # the four dispatches and their conversions were a third of the transform.
        n = ptr[-1] if ptr.shape[0] else 0
        new_id = np.empty(n, np.int64)
        counts = np.empty(max(ptr.shape[0] - 1, 0), np.int64)
        kept_nodes = _node_keep_nb(ptr, salt, thresh, min_nodes, new_id, counts)
        nid = np.empty(kept_nodes, np.int64)
        for i in range(n):
            if new_id[i] >= 0:
                nid[new_id[i]] = i
        out, idx = _induced_edges_nb(src, dst, new_id)
        return out, nid, idx, counts

    @njit(cache=True, nogil=True)
    def _mask_zero_nb(x, salt, thresh, by_col, out, keep):  # noqa: ANN001, ANN202
        # Draws and masking of a small x in one call (zero fill): what the broadcast select
        # computes, without its five tensor ops (most of a 1e3 x 16 call).
        n, f = x.shape
        for i in range(keep.shape[0]):
            keep[i] = _bits24(i, salt) >= thresh
        zero = x.dtype.type(0)
        for r in range(n):
            for c in range(f):
                k = keep[c] if by_col else keep[r]
                v = x[r, c]  # loaded unconditionally: a select, not a branch (see below)
                out[r, c] = v if k else zero

    @njit(cache=True, nogil=True)
    def _select_bits_nb(xb, outb, mb, fb, gid, by_col, grouped, zero, lo, hi):  # noqa: ANN001, ANN202
        # _select_bits on rows lo..hi: (x & m) | (fill & ~m) on the bits, m all ones where
        # kept: per (graph, column) in feature mode, per row in node mode.
        f = xb.shape[1]
        for r in range(lo, hi):
            g = gid[r] if grouped else 0
            if by_col:
                if zero:
                    for c in range(f):
                        outb[r, c] = xb[r, c] & mb[g, c]
                else:
                    for c in range(f):
                        m = mb[g, c]
                        outb[r, c] = (xb[r, c] & m) | (fb[g, c] & ~m)
            else:
                m = mb[r, 0]
                if zero:
                    for c in range(f):
                        outb[r, c] = xb[r, c] & m
                else:
                    for c in range(f):
                        outb[r, c] = (xb[r, c] & m) | (fb[g, c] & ~m)

    @njit(cache=True, nogil=True)
    def _hash_keep_nb(count, salt, thresh, keep):  # noqa: ANN001, ANN202
        for i in range(count):
            keep[i] = _bits24(i, salt) >= thresh

    @njit(cache=True, nogil=True)
    def _mask_rows_nb(x, out, rowkeep, gid, fill):  # noqa: ANN001, ANN202
        # out[i] = x[i] where the row is kept, else the fill row of its graph.
        for i in range(x.shape[0]):
            if rowkeep[i]:
                for j in range(x.shape[1]):
                    out[i, j] = x[i, j]
            else:
                g = gid[i]
                for j in range(x.shape[1]):
                    out[i, j] = fill[g, j]

    @njit(cache=True, nogil=True)
    def _group_sums_nb(x, gid, grouped, s, sq, cnt):  # noqa: ANN001, ANN202
        # Per-group column sums and sums of squares in float64, the rows added in order.
        # False (nothing written past the arrays) at a group id outside 0..len(cnt)-1.
        for i in range(x.shape[0]):
            g = gid[i] if grouped else 0
            if g < 0 or g >= cnt.shape[0]:
                return False
            cnt[g] += 1.0
            for j in range(x.shape[1]):
                v = np.float64(x[i, j])
                s[g, j] += v
                sq[g, j] += v * v
        return True

    @njit(cache=True, nogil=True)
    def _mask_cols_nb(x, out, colkeep, gid, fill):  # noqa: ANN001, ANN202
        for i in range(x.shape[0]):
            g = gid[i]
            for j in range(x.shape[1]):
                v = x[i, j]
                fv = fill[g, j]
                out[i, j] = v if colkeep[g, j] else fv

    @njit(cache=True, nogil=True)
    def _mask_elems_nb(x, out, gid, fill, salt, thresh, keep, row0=0, grouped=True):  # noqa: ANN001, ANN202
        # ``row0``: the row of x[0] in the whole x (the arrays may be a chunk of rows); an
        # entry's draw is keyed by its global position, so chunks agree with one pass.
        # ``grouped`` False: one group, ``gid`` unread.
        f = x.shape[1]
        for i in range(x.shape[0]):
            g = gid[i] if grouped else 0
            base = (row0 + i) * f
            for j in range(f):
                k = _bits24(base + j, salt) >= thresh
                keep[i, j] = k
                # Both values loaded before the choice, so LLVM emits a select and
                # vectorizes; `x[i, j] if k else fill[g, j]` loaded under the condition and
                # branched on a random keep (1e3 x 16, a new seed per call: ~79 -> ~21 us).
                v = x[i, j]
                fv = fill[g, j]
                out[i, j] = v if k else fv

    @njit(cache=True, nogil=True)
    def _normal_fill_nb(out, keep, gid, mean, std, salt):  # noqa: ANN001, ANN202
        f = out.shape[1]
        for i in range(out.shape[0]):
            g = gid[i]
            for j in range(f):
                if not keep[i, j]:
                    key = 2 * (i * f + j)
                    u1 = (_bits24(key, salt) + 1) * (1.0 / 16777216.0)
                    u2 = _bits24(key + 1, salt) * (1.0 / 16777216.0)
                    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
                    out[i, j] = mean[g, j] + std[g, j] * z


# ---- edges ----------------------------------------------------------------------------------


def _pair_keys(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    u, v = edge_index
    lo, hi = torch.minimum(u, v), torch.maximum(u, v)
    return lo * num_nodes + hi


def edge_keep_mask(
    edge_index: torch.Tensor,
    p: float,
    seed: int,
    *,
    undirected: bool = False,
    num_nodes: int | None = None,
    backend: str | None = None,
) -> torch.Tensor:
    r"""The edges :func:`dropout_edge` keeps, as a boolean mask of shape ``[num_edges]``.

    Args:
        edge_index (LongTensor): ``[2, num_edges]``.
        p (float): drop rate in ``[0, 1]``.
        seed (int): the draw; the same seed gives the same mask on any device.
        undirected (bool): decide per unordered pair ``{u, v}``, so both stored directions
            (and every duplicate of the pair) are kept or dropped together.
        num_nodes (int, optional): defaults to ``edge_index.max() + 1``.

    Example:
        >>> ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        >>> mask = edge_keep_mask(ei, 0.5, seed=3, undirected=True)
        >>> bool(mask[0] == mask[1]) and bool(mask[2] == mask[3])
        True
    """
    e = edge_index.size(1)
    n = _num_nodes(edge_index, num_nodes)
    thresh = threshold24(p)
    if _use_numba(backend, edge_index):
        keep = np.empty(e, dtype=np.bool_)
        _edge_keep_nb(*_rows(edge_index), n, _u64(salt_of(seed)),
                      thresh, undirected, keep)
        return torch.from_numpy(keep)
    keys = (_pair_keys(edge_index, n) if undirected
            else torch.arange(e, device=edge_index.device))
    return hash_bits24(seed, keys) >= thresh


def _num_nodes(edge_index: torch.Tensor, num_nodes: int | None) -> int:
    if num_nodes is not None:
        return int(num_nodes)
    return int(edge_index.max()) + 1 if edge_index.numel() else 0


def dropout_edge(
    edge_index: torch.Tensor,
    p: float,
    seed: int,
    *,
    undirected: bool = False,
    num_nodes: int | None = None,
    backend: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Drops each edge with probability ``p``; with ``undirected=True`` each unordered pair.

    Unlike PyG's ``dropout_edge(force_undirected=True)``, pairs stored as ``row > col`` are
    kept as often as the others, self-loops are not doubled, and the kept edges stay in their
    stored order. Returns ``(edge_index, edge_id)``: the kept edges and their positions in the
    input, ready for ``edge_attr.index_select(0, edge_id)``.

    Example:
        >>> ei = torch.tensor([[0, 1, 1, 2, 2], [1, 0, 2, 1, 2]])
        >>> out, eid = dropout_edge(ei, 0.0, seed=0, undirected=True)
        >>> torch.equal(out, ei), eid.tolist()
        (True, [0, 1, 2, 3, 4])
        >>> out, eid = dropout_edge(ei, 1.0, seed=0)
        >>> out.shape
        torch.Size([2, 0])
    """
    n = _num_nodes(edge_index, num_nodes)
    if _use_numba(backend, edge_index):
        src, dst = _rows(edge_index)
        salt, thresh = _u64(salt_of(seed)), threshold24(p)
        if src.shape[0] < _FUSED_MAX_EDGES:
            out, idx = _dropout_edge_nb(src, dst, n, salt, thresh, undirected)
        else:
            out, idx = _chunked_keep_and_compact(
                src, dst, lambda s_, d_, keep, lo: _edge_keep_nb(
                    s_, d_, n, salt, thresh, undirected, keep, lo),
                np.empty(0, np.int64))
        return torch.from_numpy(out), torch.from_numpy(idx)
    mask = edge_keep_mask(edge_index, p, seed, undirected=undirected, num_nodes=n,
                          backend="torch")
    idx = mask.nonzero().view(-1)
    return edge_index.index_select(1, idx), idx


def is_symmetric(edge_index: torch.Tensor, backend: str | None = None) -> bool:
    """True when the edges form a symmetric multiset: every ``(u, v)`` is stored as many times
    as ``(v, u)`` (self-loops any number of times). One pass, no sort; a directed graph is
    reported symmetric only with probability about 2**-64. This is what
    ``edge_dropout(undirected="auto")`` calls undirected; a graph whose two directions have
    different multiplicities counts as directed there (pass ``undirected=True``).

    Example:
        >>> is_symmetric(torch.tensor([[0, 1, 2], [1, 0, 2]]))
        True
        >>> is_symmetric(torch.tensor([[0, 1], [1, 2]]))
        False
    """
    if edge_index.numel() == 0:
        return True
    seed = 0x5EED5EED
    if _use_numba(backend, edge_index):
        return bool(_symmetric_sum_nb(*_rows(edge_index),
                                      _u64(salt_of(seed))))
    u, v = edge_index
    golden = 0x9E3779B97F4A7C15 - (1 << 64)
    # Sums of int64 wrap like the numba uint64 ones, so the answer is the same.
    a = (hash_bits24(seed, (u * golden) ^ v) * (v + 1)).sum()
    b = (hash_bits24(seed, (v * golden) ^ u) * (u + 1)).sum()
    return bool(a == b)


# ---- nodes ----------------------------------------------------------------------------------


def node_keep_ids(
    ptr: torch.Tensor,
    p: float,
    seed: int,
    *,
    min_nodes: int = 1,
    backend: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Which nodes survive a node dropout of rate ``p`` on graphs with node offsets ``ptr``.

    Each graph ``g`` (nodes ``ptr[g]..ptr[g+1]-1``) keeps at least
    ``min(min_nodes, its size)`` nodes: when the draw would drop too many, the nodes with the
    largest draws are kept, which is a uniformly random choice among the graph's nodes.
    Returns ``(new_id, counts)``: the new index of every node (``-1`` when dropped) and the
    kept nodes per graph.

    Example:
        >>> new_id, counts = node_keep_ids(torch.tensor([0, 3, 5]), 1.0, seed=0, min_nodes=1)
        >>> counts.tolist(), int((new_id >= 0).sum())
        ([1, 1], 2)
    """
    n = int(ptr[-1]) if ptr.numel() else 0
    thresh = threshold24(p)
    if _use_numba(backend, ptr):
        new_id = np.empty(n, dtype=np.int64)
        counts = np.empty(ptr.numel() - 1, dtype=np.int64)
        _node_keep_nb(ptr.numpy(), _u64(salt_of(seed)), thresh, int(min_nodes), new_id, counts)
        return torch.from_numpy(new_id), torch.from_numpy(counts)
    dev = ptr.device
    k = ptr.numel() - 1
    sizes = ptr[1:] - ptr[:-1]
    gid = torch.repeat_interleave(torch.arange(k, device=dev), sizes)
    h = hash_bits24(seed, torch.arange(n, device=dev))
    keep = h >= thresh
    counts = torch.zeros(k, dtype=torch.long, device=dev).index_add_(0, gid, keep.long())
    need = torch.clamp(sizes, max=int(min_nodes))
    short = counts < need
    if bool(short.any()):
        # Rank nodes inside their graph by decreasing draw (ties by index): stable sorts.
        order = torch.sort(-h, stable=True).indices
        order = order[torch.sort(gid[order], stable=True).indices]
        rank = torch.empty(n, dtype=torch.long, device=dev)
        rank[order] = torch.arange(n, device=dev) - ptr[gid[order]]
        keep |= short[gid] & (rank < need[gid])
        counts = torch.where(short, need, counts)
    new_id = torch.cumsum(keep.long(), 0) - 1
    new_id = torch.where(keep, new_id, torch.full_like(new_id, -1))
    return new_id, counts


def dropout_node(
    edge_index: torch.Tensor,
    p: float,
    seed: int,
    *,
    num_nodes: int | None = None,
    ptr: torch.Tensor | None = None,
    min_nodes: int = 1,
    backend: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    r"""Drops each node with probability ``p``, with its edges, and relabels the rest.

    ``ptr`` (node offsets of the graphs of a Batch, default one graph) lets every graph keep
    at least ``min_nodes`` nodes. Returns ``(edge_index, node_id, edge_id, counts)``: the
    relabelled edges, the kept nodes and edges (positions in the input, for
    ``x.index_select(0, node_id)``) and the kept nodes per graph.

    Example:
        >>> ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
        >>> out, nid, eid, counts = dropout_node(ei, 0.0, seed=0, num_nodes=3)
        >>> torch.equal(out, ei), nid.tolist(), counts.tolist()
        (True, [0, 1, 2], [3])
        >>> out, nid, eid, counts = dropout_node(ei, 1.0, seed=0, num_nodes=3)
        >>> out.shape, nid.numel()
        (torch.Size([2, 0]), 1)
    """
    n = _num_nodes(edge_index, num_nodes)
    dev = edge_index.device
    if (_use_numba(backend, edge_index) and edge_index.is_contiguous()
            and edge_index.size(1) < _FUSED_MAX_EDGES and (ptr is None or ptr.device == dev)):
        src, dst = _rows(edge_index)
        ptr_np = np.array([0, n], np.int64) if ptr is None else ptr.numpy()
        out, nid, idx, counts = _dropout_node_nb(ptr_np, src, dst, _u64(salt_of(seed)),
                                                 threshold24(p), int(min_nodes))
        return (torch.from_numpy(out), torch.from_numpy(nid), torch.from_numpy(idx),
                torch.from_numpy(counts))
    if ptr is None:
        ptr = torch.tensor([0, n], dtype=torch.long, device=dev)
    new_id, counts = node_keep_ids(ptr, p, seed, min_nodes=min_nodes, backend=backend)
    out, idx = induced_edges(edge_index, new_id, backend=backend)
    return out, (new_id >= 0).nonzero().view(-1), idx, counts


def induced_edges(
    edge_index: torch.Tensor, new_id: torch.Tensor, *, backend: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The edges whose two ends are kept (``new_id >= 0``), relabelled through ``new_id``,
    and their positions in ``edge_index``. On the CPU one fused pass over the edges (numba)
    instead of two gathers, a mask, a nonzero and an index_select.

    >>> induced_edges(torch.tensor([[0, 1, 2], [1, 2, 0]]), torch.tensor([0, -1, 1]))
    (tensor([[1],
            [0]]), tensor([2]))
    """
    if _use_numba(backend, edge_index, new_id) and edge_index.is_contiguous():
        src, dst = _rows(edge_index)
        nid = np.ascontiguousarray(new_id.numpy(), dtype=np.int64)
        if src.shape[0] < _FUSED_MAX_EDGES:
            out, idx = _induced_edges_nb(src, dst, nid)
            return torch.from_numpy(out), torch.from_numpy(idx)
        out, idx = _chunked_keep_and_compact(
            src, dst, lambda s_, d_, keep, lo: _node_edges_nb(s_, d_, nid, keep), nid)
        return torch.from_numpy(out), torch.from_numpy(idx)
    keep = (new_id[edge_index[0]] >= 0) & (new_id[edge_index[1]] >= 0)
    idx = keep.nonzero().view(-1)
    return new_id[edge_index.index_select(1, idx)], idx


def node_id_range(edge_index: torch.Tensor, *, backend: str | None = None) -> tuple[int, int]:
    """The smallest and largest node id of a non-empty ``edge_index``: one numba pass on a
    small CPU graph (no tensor allocated), ``torch.aminmax`` otherwise.

    >>> node_id_range(torch.tensor([[0, 4], [2, 1]]))
    (0, 4)
    """
    kernels = _structure_kernels()
    if (kernels is not None and _use_numba(backend, edge_index)
            and edge_index.size(1) < _ID_RANGE_NUMBA_MAX):
        lo, hi = kernels.id_range(edge_index.numpy())
        return int(lo), int(hi)
    lo, hi = torch.aminmax(edge_index)
    return int(lo), int(hi)


# From here torch's aminmax (over its threads) beats the single-threaded pass.
_ID_RANGE_NUMBA_MAX = 1 << 15


def relabel_mask(mask: torch.Tensor, *, backend: str | None = None,
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(new_id, kept)`` for a boolean node mask: the new index of every node (``-1`` where
    ``mask`` is false) and the kept nodes in order.

    >>> relabel_mask(torch.tensor([True, False, True]))
    (tensor([ 0, -1,  1]), tensor([0, 2]))
    """
    kernels = _structure_kernels()
    if kernels is not None and _use_numba(backend, mask) and mask.dtype == torch.bool \
            and mask.is_contiguous():  # one pass instead of full, nonzero, arange, a scatter
        new_id = torch.empty(mask.numel(), dtype=torch.long)
        kept = torch.from_numpy(kernels.relabel_mask(mask.numpy(), new_id.numpy()))
        return new_id, kept
    dev = mask.device
    new_id = torch.full((mask.numel(),), -1, dtype=torch.long, device=dev)
    kept = mask.nonzero().view(-1)
    new_id[kept] = torch.arange(kept.numel(), device=dev)
    return new_id, kept


def _structure_kernels():  # noqa: ANN202 - the compiled kernels' module, or None
    from augkit.plugins.graph.functional_structure import _numba_module

    return _numba_module()


# ---- features -------------------------------------------------------------------------------


_STATS_DTYPES = (torch.float32, torch.float64, torch.int32, torch.int64)


def _group_stats(x: torch.Tensor, gid: torch.Tensor | None, k: int,
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-group column mean and standard deviation (ddof 0), computed in float64 (``gid``
    None: one group). On the CPU one numba pass adding the rows in order, as index_add_
    does, so the figures are the same; torch's CPU index_add_ adds row by row (1e5 x 16 into
    one group: ~18 ms, the pass ~1 ms). Elsewhere column reductions for one group (no
    atomics onto one row) and index_add_ for several."""
    n, f = x.shape
    if (x.device.type == "cpu" and numba is not None and x.dtype in _STATS_DTYPES
            and not x.requires_grad):
        s = np.zeros((k, f), np.float64)
        sq = np.zeros((k, f), np.float64)
        cnt = np.zeros(k, np.float64)
        g = gid.numpy() if gid is not None else np.zeros(1, np.int64)
        if not _group_sums_nb(x.numpy(), g, gid is not None, s, sq, cnt):
            raise ValueError(f"group holds ids outside 0..{k - 1}; allowed: one id in "
                             f"[0, num_groups={k}) per row")
        c = np.maximum(cnt, 1.0)[:, None]
        mean = s / c
        with np.errstate(invalid="ignore", over="ignore"):  # inf and NaN columns, as torch
            std = np.sqrt(np.maximum(sq / c - mean * mean, 0.0))
        return torch.from_numpy(mean), torch.from_numpy(std)
    xd = x.detach().double()
    if gid is None or k == 1:
        c = max(n, 1)
        mean = xd.sum(0, keepdim=True) / c
        sq = (xd * xd).sum(0, keepdim=True)
        return mean, (sq / c - mean * mean).clamp_(min=0).sqrt_()
    cnt = torch.zeros(k, dtype=torch.float64, device=x.device).index_add_(
        0, gid, torch.ones_like(gid, dtype=torch.float64)).clamp_(min=1).unsqueeze(1)
    s = torch.zeros(k, f, dtype=torch.float64, device=x.device).index_add_(0, gid, xd)
    mean = s / cnt
    sq = torch.zeros_like(s).index_add_(0, gid, xd * xd)
    std = (sq / cnt - mean * mean).clamp_(min=0).sqrt_()
    return mean, std


_INT_OF_SIZE = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def _bits_dtype(dtype: torch.dtype) -> torch.dtype | None:
    """The integer dtype whose bits :func:`_select_bits` works on, or None (bool, complex)."""
    if dtype == torch.bool or dtype.is_complex:
        return None
    if dtype.is_floating_point:
        return _INT_OF_SIZE.get(dtype.itemsize)
    return dtype


def _select_bits(keep: torch.Tensor, x: torch.Tensor, fill: torch.Tensor, bits: torch.dtype,
                 zero: bool) -> torch.Tensor:
    """``torch.where(keep, x, fill)`` on the CPU as bitwise ops on ``x``'s bits, exactly (NaN,
    -0.0 and every other value kept bit for bit): ``(x & m) | (fill & ~m)`` with ``m`` all ones
    where kept. torch's broadcast ``bitwise_and`` runs vectorised on all threads, ~8x faster
    than its ``where`` (a 100k x 16 float32 x: ~80 us against ~620 us, a clone ~90 us). The
    output is recycled memory when large (augkit._memory)."""
    m = keep.to(bits).neg_()  # True -> all ones, False -> 0
    out = empty_output_like(x)
    ob = out.view(bits)
    torch.bitwise_and(x.view(bits), m, out=ob)
    if not zero:
        ob.bitwise_or_(fill.view(bits) & ~m)
    return out


# Up to this many entries, a single graph's zero-fill masking is one numba call.
_SMALL_MASK = 1 << 15
_NO_GROUPS = np.zeros(1, np.int64)  # the group ids the kernels ignore when ungrouped


def _rows_gid(gid: torch.Tensor | None, n: int, dev: torch.device) -> torch.Tensor:
    """The group of every row: ``gid``, or zeros for one group."""
    return gid if gid is not None else torch.zeros(n, dtype=torch.long, device=dev)


def _select_bits_numba(keep: torch.Tensor, x: torch.Tensor, fvals: torch.Tensor,
                       bits: torch.dtype, by_col: bool, gid: torch.Tensor | None,
                       zero: bool) -> torch.Tensor:
    """:func:`_select_bits` in numba (rows split over torch's threads from 2**23 entries):
    the same bits. In the bench's interleaved rounds (x and the output cold, OpenMP threads
    asleep) torch's broadcast ops took ~200 us on a 1e4 x 16 x, this ~40 us."""
    n, f = x.shape
    out = empty_output_like(x)
    mb = keep.to(bits).neg_().numpy()  # True -> all ones
    fb = fvals.view(bits).numpy()
    g = gid.numpy() if gid is not None else np.zeros(1, np.int64)
    xb, ob = x.view(bits).numpy(), out.view(bits).numpy()
    grouped = gid is not None
    if n * f < _SELECT_SPLIT_MIN:
        # One thread: the pass is bound by memory, and handing half to a sleeping thread
        # cost more than it saved (1e5 x 16, bench rounds: ~0.9 -> ~0.73 ms).
        _select_bits_nb(xb, ob, mb, fb, g, by_col, grouped, zero, 0, n)
    else:
        parallel_ranges(lambda lo, hi: _select_bits_nb(xb, ob, mb, fb, g, by_col, grouped,
                                                        zero, lo, hi), n, f)
    return out


_SELECT_SPLIT_MIN = 1 << 23
# From this many entries a zero fill without per-graph masks is torch's bitwise_and (above);
# below it the numba pass was faster (warm, 3e3 x 16 entries: ~40 us against ~50 us).
_TORCH_AND_MIN = 1 << 17


def mask_feature(
    x: torch.Tensor,
    p: float,
    seed: int,
    *,
    mode: str = "feature",
    fill: str = "zero",
    group: torch.Tensor | None = None,
    num_groups: int | None = None,
    backend: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Masks features of ``x`` (``[num_rows, num_features]`` or ``[num_rows]``) at rate ``p``.

    Modes: ``feature`` masks whole columns (GraphCL attribute masking; PyG ``mode='col'``),
    drawn per group when ``group`` (the graph of each row, e.g. a Batch's ``batch``) is given;
    ``node`` whole rows (``'row'``); ``element`` single entries (``'all'``). Fills: ``zero``;
    ``mean``, the column's mean over the row's group; ``normal``, draws from a normal with the
    column's mean and standard deviation over the group. Returns ``(x, keep)`` with ``keep``
    broadcastable to ``x`` (``[groups, F]`` for ``feature`` mode, ``[N, 1]`` for ``node``,
    ``[N, F]`` for ``element``).

    Example:
        >>> x = torch.arange(6.0).view(3, 2)
        >>> out, keep = mask_feature(x, 1.0, seed=0, mode="node")
        >>> out.tolist(), keep.view(-1).tolist()
        ([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]], [False, False, False])
        >>> out, keep = mask_feature(x, 1.0, seed=0, mode="feature", fill="mean")
        >>> out.tolist()
        [[2.0, 3.0], [2.0, 3.0], [2.0, 3.0]]
    """
    if mode not in MASK_MODES:
        raise ValueError(f"mode={mode!r}; allowed: {', '.join(MASK_MODES)}")
    if fill not in FILL_MODES:
        raise ValueError(f"fill={fill!r}; allowed: {', '.join(FILL_MODES)}")
    flat = x.dim() == 1
    x2 = x.view(-1, 1) if flat else x
    if x2.dim() != 2:
        raise ValueError(f"x has shape {tuple(x.shape)}; allowed: [N] or [N, F]")
    n, f = x2.shape
    dev = x.device
    if (group is None and fill == "zero" and n * f <= _SMALL_MASK and backend != "torch"
            and _use_numba(backend, x2) and not x2.requires_grad
            and x2.dtype in (torch.float32, torch.float64)):
        xs = x2.detach().numpy()
        out = np.empty((n, f), dtype=xs.dtype)
        salt, thresh = _u64(salt_of(seed)), threshold24(p)
        if mode == "element":
            kk = np.empty((n, f), dtype=np.bool_)
            _mask_elems_nb(xs, out, _NO_GROUPS, np.zeros((1, f), xs.dtype), salt, thresh, kk,
                           0, False)
            keep = torch.from_numpy(kk)
        else:
            kk = np.empty(f if mode == "feature" else n, dtype=np.bool_)
            _mask_zero_nb(xs, salt, thresh, mode == "feature", out, kk)
            keep = torch.from_numpy(kk).view((1, f) if mode == "feature" else (n, 1))
        result = torch.from_numpy(out)
        return (result.view(-1) if flat else result), keep
    if group is None:
        # One group: no per-row ids unless a path below needs them (a zero LongTensor per
        # row, ~100 us of fresh pages on a 1e5-row x, was a fifth of the call).
        k = 1
        gid = None
    else:
        gid = group.to(dev)
        k = int(num_groups) if num_groups is not None else (int(gid.max()) + 1 if n else 1)
    thresh = threshold24(p)
    salt = salt_of(seed)
    # Fill values per group: zeros, or the group's column means (also the normal's centre).
    if fill == "zero":
        fvals = torch.zeros(k, f, dtype=x2.dtype, device=dev)
        std = None
    else:
        mean, std = _group_stats(x2, gid, k)
        fvals = mean.to(x2.dtype) if x2.is_floating_point() else mean.round().to(x2.dtype)
    fast = _use_numba(backend, x2) and x2.dtype in (torch.float32, torch.float64)
    keep = None
    if mode != "element":
        count = k * f if mode == "feature" else n
        if fast:
            kk = np.empty(count, dtype=np.bool_)
            _hash_keep_nb(count, _u64(salt), thresh, kk)
            keep = torch.from_numpy(kk)
        else:
            keep = hash_bits24(seed, torch.arange(count, device=dev)) >= thresh
        keep = keep.view(k, f) if mode == "feature" else keep.view(n, 1)
        if fill != "normal":
            bits = _bits_dtype(x2.dtype)
            if x2.device.type == "cpu" and not x2.requires_grad and bits is not None \
                    and backend != "torch" and numba is not None:
                # Group ids only where a row's mask or fill depends on its graph.
                by_graph = k > 1 and (mode == "feature" or fill != "zero")
                if fill == "zero" and not by_graph and n * f >= _TORCH_AND_MIN:
                    # One broadcast AND of the bits: torch splits it over its OpenMP
                    # threads, which wake faster than augkit's pool (x cold, 1e5 x 16:
                    # ~0.95 ms numba, ~0.67 torch, a clone ~0.64; warm ~0.50/~0.26).
                    result = empty_output_like(x2)
                    torch.bitwise_and(x2.view(bits), keep.to(bits).neg_(),
                                      out=result.view(bits))
                    return (result.view(-1) if flat else result), keep
                result = _select_bits_numba(keep, x2, fvals, bits, mode == "feature",
                                            gid if by_graph else None, zero=fill == "zero")
                return (result.view(-1) if flat else result), keep
            # One broadcast pass over x, as PyG's masked_fill: faster than a loop per row.
            keep_b = keep if mode == "node" or k == 1 else keep.index_select(0, gid)
            fill_b = fvals[:1] if fill == "zero" or k == 1 else fvals.index_select(0, gid)
            if x2.device.type == "cpu" and not x2.requires_grad and bits is not None \
                    and backend != "torch":
                result = _select_bits(keep_b, x2, fill_b, bits, zero=fill == "zero")
            elif x2.device.type == "cpu" and not x2.requires_grad:
                # Into recycled memory when large (augkit._memory).
                result = torch.where(keep_b, x2, fill_b, out=empty_output_like(x2))
            else:
                result = torch.where(keep_b.to(dev), x2, fill_b)
            return (result.view(-1) if flat else result), keep
    if fast:
        xs = x2.detach().numpy()
        out = empty_array((n, f), xs.dtype)
        if mode != "element":
            gid = _rows_gid(gid, n, dev)
        g = gid.numpy() if gid is not None else None
        fv = fvals.numpy()
        if mode == "feature":
            _mask_cols_nb(xs, out, keep.numpy(), g, fv)
        elif mode == "node":
            _mask_rows_nb(xs, out, keep.view(-1).numpy(), g, fv)
        else:
            kk = np.empty((n, f), dtype=np.bool_)
            s64 = _u64(salt)
            grouped = gid is not None
            ge = gid.numpy() if grouped else np.zeros(1, np.int64)
            # A hash per entry: the rows split over torch's threads (a 1e5 x 16 x in the
            # harness: ~2.4 -> ~1.6 ms; in a DataLoader worker, one thread, no split).
            parallel_ranges(lambda lo, hi: _mask_elems_nb(
                xs[lo:hi], out[lo:hi], ge[lo:hi] if grouped else ge, fv, s64, thresh,
                kk[lo:hi], lo, grouped), n, f)
            keep = torch.from_numpy(kk)
        result = torch.from_numpy(out)
        if fill == "normal":
            if gid is None:
                gid = _rows_gid(gid, n, dev)
                g = gid.numpy()
            full = keep.index_select(0, gid) if mode == "feature" else keep.expand(n, f)
            _normal_fill_nb(out, np.ascontiguousarray(full.numpy()), g, mean.numpy(),
                            std.numpy(), _u64(salt_of(seed + 1)))
    else:
        gid = _rows_gid(gid, n, dev)
        if keep is None:
            keep = hash_bits24(seed, torch.arange(n * f, device=dev)).view(n, f) >= thresh
        full = keep.index_select(0, gid) if mode == "feature" else keep.expand(n, f)
        if fill == "normal" and x2.is_floating_point():
            key = 2 * torch.arange(n * f, device=dev)
            s1 = seed + 1
            u1 = (hash_bits24(s1, key) + 1).double() * (1.0 / (1 << 24))
            u2 = hash_bits24(s1, key + 1).double() * (1.0 / (1 << 24))
            z = (torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(2.0 * math.pi * u2)).view(n, f)
            filler = (mean.index_select(0, gid) + std.index_select(0, gid) * z).to(x2.dtype)
        else:
            filler = fvals.index_select(0, gid)
        result = torch.where(full, x2, filler)
    return (result.view(-1) if flat else result), keep
