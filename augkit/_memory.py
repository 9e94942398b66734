"""Memory for large CPU outputs (see ``HUGE_OUTPUT_BYTES``): used by the kernels that write
outputs of many megabytes (batch blur, erasing, mixup and cutmix; edge dropout and
degree-preserving rewiring on large graphs).

Two things make those outputs cheap:

- they are allocated by numpy, which asks the kernel for transparent huge pages (madvise), so
  first touching new memory faults once per 2 MiB instead of once per 4 KiB;
- their buffers are recycled. Writing into memory the process just got from the kernel costs
  the kernel's page zeroing on top of the write. A training loop makes a same-shaped output every
  step and drops the last one, so augkit keeps the buffers it handed out (up to
  ``AUGKIT_OUTPUT_POOL_MB``, default 1024 MiB; 0 turns recycling off) and hands one out again
  only when nothing references it any more: no tensor, view, storage or array of the caller's
  can see it change. :func:`release_buffers` frees the idle ones.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Sequence
from math import prod

import numpy as np
import torch

# From this size a CPU output is allocated (and recycled) here: page faults, not the copy,
# dominate writing an output this large into fresh memory (the benchmarks' batch cases).
HUGE_OUTPUT_BYTES = 8 << 20

# Buffers are kept in buckets of this many bytes (one huge page), so that outputs whose size
# changes a little from call to call (the edges an edge dropout keeps) still find one.
_BUCKET = 2 << 20

_LOCK = threading.Lock()
_POOL: dict[int, list[np.ndarray]] = {}  # bucket count -> flat uint8 buffers of that size
_pooled_bytes = 0


def _reset_after_fork() -> None:
    """In a forked child: a new lock and an empty pool. The fork may have happened while
    another thread held the lock (it stays held forever in the child) or was half way through
    changing the pool; the child's arrays keep their own buffers alive either way."""
    global _LOCK, _POOL, _pooled_bytes
    _LOCK = threading.Lock()
    _POOL = {}
    _pooled_bytes = 0


os.register_at_fork(after_in_child=_reset_after_fork)


def _limit_bytes() -> int:
    try:
        return max(0, int(os.environ.get("AUGKIT_OUTPUT_POOL_MB", "1024"))) << 20
    except ValueError:
        return 1024 << 20


def _idle_refs() -> int:
    # sys.getrefcount of an array held only by a pool list, read as ``lst[i]`` (the list's
    # reference plus the call's argument). Measured, not assumed: it differs across Pythons.
    probe = [np.empty(1)]
    return sys.getrefcount(probe[0])


_IDLE_REFS = _idle_refs()


def _drop_idle(arrays: list[np.ndarray]) -> int:
    """Forget the idle arrays of ``arrays``; returns their bytes."""
    freed = 0
    for i in range(len(arrays) - 1, -1, -1):
        if sys.getrefcount(arrays[i]) <= _IDLE_REFS:
            freed += arrays[i].nbytes
            del arrays[i]
    return freed


def _make_room(nbytes: int, limit: int) -> bool:
    """Forget idle buffers (largest first) until ``nbytes`` more fit under ``limit``."""
    global _pooled_bytes
    for key in sorted(_POOL, reverse=True):
        if _pooled_bytes + nbytes <= limit:
            break
        _pooled_bytes -= _drop_idle(_POOL[key])
    return _pooled_bytes + nbytes <= limit


def empty_array(shape: tuple[int, ...], dtype: np.dtype | type | str) -> np.ndarray:
    """``np.empty(shape, dtype)``, C-contiguous; from ``HUGE_OUTPUT_BYTES`` on, a view of a
    recycled buffer that nothing else references when there is one (its contents are stale:
    write all of it). The view's ``base`` is the buffer, so whatever keeps the result (or a
    tensor made from it) alive keeps the buffer from being handed out again."""
    dt = np.dtype(dtype)
    shape = tuple(int(s) for s in shape)
    nbytes = prod(shape) * dt.itemsize
    if nbytes < HUGE_OUTPUT_BYTES:  # before reading the environment: most calls are small
        return np.empty(shape, dtype=dt)
    limit = _limit_bytes()
    if nbytes > limit:
        return np.empty(shape, dtype=dt)
    global _pooled_bytes
    buckets = -(-nbytes // _BUCKET)
    with _LOCK:
        arrays = _POOL.setdefault(buckets, [])
        buf = None
        for i in range(len(arrays)):
            if sys.getrefcount(arrays[i]) <= _IDLE_REFS:
                buf = arrays[i]
                break
        if buf is None:
            buf = np.empty(buckets * _BUCKET, dtype=np.uint8)
            if _make_room(buf.nbytes, limit):
                _POOL.setdefault(buckets, []).append(buf)
                _pooled_bytes += buf.nbytes
        # Taken (the view below references it) before the lock is let go.
        return buf[:nbytes].view(dt).reshape(shape)


def release_buffers() -> int:
    """Free the recycled output buffers nothing uses any more; returns the bytes released.
    (Buffers still in use stay with their tensors and are freed with them.)"""
    global _pooled_bytes
    with _LOCK:
        freed = 0
        for key in list(_POOL):
            freed += _drop_idle(_POOL[key])
            if not _POOL[key]:
                del _POOL[key]
        _pooled_bytes -= freed
        return freed


def empty_output(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """An uninitialised contiguous CPU tensor: :func:`empty_array`'s recycled huge-page
    memory when it is large and numpy has the dtype, else ``torch.empty``."""
    numel = prod(int(s) for s in shape)
    size = torch.empty(0, dtype=dtype).element_size()
    if numel * size >= HUGE_OUTPUT_BYTES:
        try:
            np_dtype = torch.empty(0, dtype=dtype).numpy().dtype
        except (TypeError, RuntimeError):  # bfloat16 and other dtypes numpy lacks
            pass
        else:
            return torch.from_numpy(empty_array(tuple(shape), np_dtype))
    return torch.empty(tuple(shape), dtype=dtype)


def empty_output_like(t: torch.Tensor, shape: Sequence[int] | None = None) -> torch.Tensor:
    """An uninitialised contiguous tensor of ``t``'s dtype and device, and of ``t``'s shape
    unless ``shape`` is given: for a large CPU tensor of a dtype numpy has, backed by
    :func:`empty_array` (huge pages, recycled). The numpy-backed result is an ordinary tensor
    except that its storage cannot be resized in place."""
    shape = tuple(t.shape) if shape is None else tuple(int(s) for s in shape)
    if t.device.type == "cpu" and prod(shape) * t.element_size() >= HUGE_OUTPUT_BYTES:
        try:
            np_dtype = torch.empty(0, dtype=t.dtype).numpy().dtype
        except (TypeError, RuntimeError):  # bfloat16 and other dtypes numpy lacks
            pass
        else:
            return torch.from_numpy(empty_array(shape, np_dtype))
    return t.new_empty(shape)


def copy_output(t: torch.Tensor) -> torch.Tensor:
    """A copy of ``t`` that shares no memory with anything the caller holds: ``clone()``, or
    for a large contiguous CPU tensor without autograd :func:`empty_output_like` filled with
    ``t``."""
    if t.device.type != "cpu" or t.requires_grad or not t.is_contiguous():
        return t.clone()
    return empty_output_like(t).copy_(t)
