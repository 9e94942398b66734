"""Splitting a large CPU loop over torch's thread count with plain Python threads, for kernels
that release the GIL (OpenCV, numpy's take and fills, numba ``nogil`` functions). Used by the
vision batch paths and by the graph kernels on large graphs.

Plain threads rather than numba's ``parallel=True``: numba's default threading layer
(workqueue) aborts the process when two Python threads launch parallel kernels at once, which
a threaded data pipeline would do."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch

# Below this many elements per worker, a thread hand-off costs more than it saves.
MIN_PARALLEL_ELEMENTS = 1 << 18
_POOL: ThreadPoolExecutor | None = None
_POOL_PID = 0


def workers_for(n: int, item_elements: int) -> int:
    """How many chunks ``parallel_ranges`` splits ``n`` items of ``item_elements`` into."""
    return max(1, min(torch.get_num_threads(), n,
                      n * item_elements // MIN_PARALLEL_ELEMENTS))


def parallel_ranges(fn: Callable[[int, int], Any], n: int, item_elements: int) -> None:
    """Run ``fn(lo, hi)`` over ``range(n)`` split into contiguous chunks, one per worker
    (torch.get_num_threads(), so a DataLoader worker, which torch sets to 1 thread, stays
    serial); the calling thread takes the first chunk. ``fn`` must release the GIL to gain."""
    global _POOL, _POOL_PID
    workers = workers_for(n, item_elements)
    if workers <= 1:
        fn(0, n)
        return
    if _POOL is None or _POOL_PID != os.getpid() or _POOL._max_workers < workers - 1:
        # A forked child inherits the pool object but not its threads: make a new one.
        _POOL = ThreadPoolExecutor(max_workers=workers - 1, thread_name_prefix="augkit")
        _POOL_PID = os.getpid()
    bounds = [n * j // workers for j in range(workers + 1)]
    futures = [_POOL.submit(fn, bounds[j], bounds[j + 1]) for j in range(1, workers)]
    try:
        fn(bounds[0], bounds[1])
    finally:
        for f in futures:
            f.result()
