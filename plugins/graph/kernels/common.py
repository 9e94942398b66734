"""Kernels shared by several algorithms: the counter mix compiled once, its per-key draws,
the branchless edge compaction, the node-id range, the batch-vector check, the relabelling
of a node mask and a software-prefetch intrinsic."""

import llvmlite.binding as _llvm
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from augkit import _counter

# ---- the counter mix ------------------------------------------------------------------------

#: splitmix64's finaliser on uint64, the one spelling of ``augkit._counter`` (inlined).
mix64 = njit(inline="always", cache=True)(_counter.mix64_u64)

GOLDEN = np.uint64(_counter.GOLDEN)
_MASK63 = np.uint64(_counter.MASK63)
_S40 = np.uint64(40)


@njit(cache=True, inline="always")
def bits24(key, salt):
    """``augkit._counter.hash_bits24`` of one key: the top 24 bits of ``mix64(key + salt)``
    (``salt`` = ``salt_of(seed)`` as uint64)."""
    return np.int64(mix64(np.uint64(key) + salt) >> _S40)


@njit(cache=True, inline="always")
def hash63(key, salt):
    """``augkit._counter.hash63`` of one key: the low 63 bits of ``mix64(key + salt)``
    (``salt`` a stream's ``derive_seed``, as uint64)."""
    return np.int64(mix64(np.uint64(key) + salt) & _MASK63)


@njit(cache=True, inline="always")
def stream_salt(base, stream):
    """``derive_seed(seed, stream)`` from ``base``, the chain state after ``seed``
    (``augkit._counter.chain_prefix((seed,), 2)``), as uint64 (all in uint64: int64 + uint64
    is a float64 in numba)."""
    return np.uint64(hash63(stream, base + GOLDEN))


#: The chain state of a two-key tuple before its first key (``_counter._chain((), 2)``).
_CHAIN2 = np.uint64(_counter.mix64((2 + _counter._CHAIN_START) & _counter.M64))


@njit(cache=True, inline="always")
def seed_base(seed):
    """``augkit._counter.chain_prefix((seed,), 2)`` of a seed in ``[0, 2**63)``, as uint64:
    the ``base`` of :func:`stream_salt`, so a kernel derives the streams of many seeds
    (one per graph of a Batch) without a Python call per seed."""
    return mix64(_CHAIN2 + GOLDEN + np.uint64(seed))


@njit(cache=True, nogil=True)
def stream_salts(seeds, stream):
    """``derive_seed(seeds[g], stream)`` of every seed (``[0, 2**63)``), as uint64: the salts
    of a Batch's graphs (``functional._items.graph_salts``), derived by the kernel that draws
    with them instead of by a Python call per graph."""
    out = np.empty(seeds.size, dtype=np.uint64)
    for g in range(seeds.size):
        out[g] = stream_salt(seed_base(seeds[g]), stream)
    return out


# ---- edges and nodes ------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def compact_edges(src, dst, keep, new_id, out, idx, base=0):
    """Writes the kept edges (``keep``) into ``out`` (relabelled through ``new_id`` unless it
    is empty) and their positions plus ``base`` into ``idx``.

    Branchless: every edge is written at j and j moves on only when it is kept (a branch on a
    random keep mispredicts; bench graph/edge_dropout); it stops once the out.shape[1] kept
    edges are written, so the writes never pass the end."""
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


@njit(cache=True)
def relabel_mask(mask, new_id):
    """``new_id[i]``: the rank of node i among the kept ones (-1 when dropped); returns the
    kept nodes in order."""
    j = 0
    for i in range(mask.size):
        if mask[i]:
            new_id[i] = j
            j += 1
        else:
            new_id[i] = -1
    kept = np.empty(j, np.int64)
    for i in range(mask.size):
        if mask[i]:
            kept[new_id[i]] = i
    return kept


@njit(cache=True)
def id_range(edge_index):
    """``(min, max)`` of a ``[2, E]`` edge_index with ``E >= 1``: the node-id check of a small
    graph in one call, without the tensor ``torch.aminmax`` allocates."""
    lo = edge_index[0, 0]
    hi = lo
    for r in range(2):
        for e in range(edge_index.shape[1]):
            v = edge_index[r, e]
            lo = min(lo, v)
            hi = max(hi, v)
    return lo, hi


@njit(cache=True)
def batch_mismatch(batch, ptr):
    """The first node whose graph id in ``batch`` is not the graph ``ptr`` puts it in, or -1
    (``ptr`` already checked: non-decreasing from 0 to ``batch.size``)."""
    for g in range(ptr.size - 1):
        for i in range(ptr[g], ptr[g + 1]):
            if batch[i] != g:
                return i
    return -1


# ---- prefetch -------------------------------------------------------------------------------

# LLVM's prefetch intrinsic takes an opaque pointer from LLVM 15 on, an i8* before.
_PREFETCH = "llvm.prefetch.p0" if _llvm.llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"


@intrinsic
def prefetch(typingctx, arr, i):
    """A software prefetch of ``arr[i]`` (a 1-D or, with ``i`` a row, 2-D array): unlike a
    load, it never holds up the instructions after it while the line comes from memory."""
    sig = types.void(arr, i)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        index = [args[1]] + [context.get_constant(types.intp, 0)] * (aryty.ndim - 1)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, index, wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, _PREFETCH)
        # read, highest locality, data cache
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3),
                          ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen
