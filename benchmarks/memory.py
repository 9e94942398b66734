"""Peak memory of one call, measured apart from the timed calls so tracing never slows them.

CUDA: ``torch.cuda.max_memory_allocated`` above what was allocated before the call. CPU: the
larger of tracemalloc's peak and the rise of the process's resident-set high-water mark. Both
are lower bounds; the method is recorded beside each figure.
"""

from __future__ import annotations

import resource
import tracemalloc
from collections.abc import Callable, Iterable
from typing import Any

from augkit.benchmarks.records import describe_error
from augkit.benchmarks.timing import Contender


def _status_kib(field_name: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_rss_peak() -> bool:
    """Reset the kernel's resident-set high-water mark (Linux >= 4.0), so VmHWM after a call
    is that call's peak rather than the process's."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def measure_memory(fn: Callable[[Any], Any], state: Any, device: str) -> dict[str, Any]:
    """Peak extra memory of one call.

    CUDA: ``torch.cuda.max_memory_allocated`` above what was allocated before the call.
    CPU: the larger of tracemalloc's peak (Python objects and numpy buffers; torch's CPU
    allocator is invisible to it) and the rise of the resident-set high-water mark (every
    allocator, but memory the allocator already holds is reused without showing). Both are
    lower bounds of the true peak; the method is recorded beside the number. augkit's idle
    recycled output buffers are freed first, so the call's own output counts as allocated.
    """
    from augkit._memory import release_buffers

    release_buffers()
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        out = fn(state)
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
        del out
        return {"method": "cuda_max_memory_allocated", "peak_bytes": int(max(peak, 0)),
                "traced_peak_bytes": None, "rss_peak_bytes": None}

    hwm_ok = _reset_rss_peak()
    rss_before = _status_kib("VmRSS") if hwm_ok else None
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    try:
        out = fn(state)
        _, traced = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if hwm_ok and rss_before is not None:
        hwm = _status_kib("VmHWM")
        rss_peak = max(0, (hwm or 0) - rss_before) * 1024
        rss_method = "rss_hwm_delta"
    else:  # ru_maxrss only moves when the process beats its own record: a weaker bound
        rss_peak = max(0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss_before)
        rss_peak *= 1024
        rss_method = "ru_maxrss_delta"
    del out
    return {"method": f"max(tracemalloc, {rss_method})", "peak_bytes": int(max(traced, rss_peak)),
            "traced_peak_bytes": int(traced), "rss_peak_bytes": int(rss_peak)}



def record_peaks(contenders: Iterable[Contender], state: Any, device: str) -> None:
    """One untimed call of each contender, its peak memory kept in ``memory``."""
    for c in contenders:
        try:
            c.memory = measure_memory(c.fn, state, device)
        except Exception as exc:  # the timing stands without the memory figure
            c.memory = {"method": "failed", "peak_bytes": None, "traced_peak_bytes": None,
                        "rss_peak_bytes": None, "error": describe_error(exc)}
