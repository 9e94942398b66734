"""Soak: one case's call repeated many times in one process while the resident set (RSS) is
sampled, to show that memory stays flat over a long run (a leak grows with every call).

The calls: ``Soak.warmup`` untimed calls (caches, compiled kernels, recycled output buffers
and the allocator's arenas fill here), then ``Soak.calls`` calls in ``Soak.samples`` equal
stretches; after each stretch the RSS (``/proc/self/statm``) and the bytes held by augkit's
recycled output buffers (``augkit._memory``) are read, and the stretch's seconds per call go
to the case's augkit result like a round's. The verdict, :func:`verdict`: the growth is the
median of the slopes between every two RSS samples of the second half (Theil-Sen); "flat"
when the rise that growth gives over the second half is under ``Soak.allowance_bytes``,
else "growing".

Why that rule: allocator noise is a step of bounded size (a heap grown or trimmed, a cache
filled once, one more recycled buffer) that does not grow with the number of calls, while a
leak does. The second half leaves the warm-up's steps out; a step lies between at most about
half of the pairs of samples, so it moves the median slope to about its own height over the
half (a least-squares line would make up to 1.5 times of it), while a leak raises every pair.
RSS shows a leak only once it has used up the free memory the allocator already held, so a
soak sees leaks larger than that over its calls.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from augkit.benchmarks.case import Soak
from augkit.benchmarks.records import describe_error
from augkit.benchmarks.timing import Contender


def rss_bytes() -> int:
    """The process's resident set now (``/proc/self/statm``: resident pages)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def pooled_bytes() -> int:
    """Bytes held by augkit's recycled output buffers, idle or handed out."""
    from augkit import _memory

    return int(_memory._pooled_bytes)


def slope(points: list[tuple[int, int]]) -> float:
    """The Theil-Sen slope of y over x: the median of the slopes between every two points
    (0 with fewer than two distinct x)."""
    slopes = [(y1 - y0) / (x1 - x0) for i, (x0, y0) in enumerate(points)
              for x1, y1 in points[i + 1:] if x1 != x0]
    return statistics.median(slopes) if slopes else 0.0


def verdict(samples: list[tuple[int, int]], calls: int, allowance_bytes: int,
            ) -> tuple[float, float, str]:
    """From ``(calls done, RSS bytes)`` samples: the growth in bytes per 1000 calls over the
    second half, the rise that growth gives over the second half, and "flat" or "growing"."""
    half = calls / 2
    per_call = slope([(x, y) for x, y in samples if x >= half])
    rise = per_call * (calls - half)
    return 1000 * per_call, rise, "flat" if rise < allowance_bytes else "growing"


def _bounds(calls: int, stretches: int) -> list[int]:
    """Calls done after each stretch: ``stretches`` near-equal stretches, none empty."""
    stretches = max(1, min(stretches, calls))
    return [round(k * calls / stretches) for k in range(1, stretches + 1)]


def run(c: Contender, state: Any, spec: Soak, sync: Callable[[], None]) -> dict[str, Any] | None:
    """Soak ``c.fn`` on ``state``; fills ``c.times`` (seconds per call of each stretch) and
    ``c.reps``, and returns the soak record (None when a call raised: ``c`` says why)."""
    calls = max(1, int(spec.calls))
    warmup = spec.warmup if spec.warmup > 0 else max(1, calls // 10)
    try:
        for _ in range(warmup):
            c.fn(state)
        sync()
        samples = [(0, rss_bytes(), pooled_bytes())]
        done = 0
        seconds = 0.0
        for end in _bounds(calls, spec.samples):
            start = time.perf_counter()
            for _ in range(end - done):
                c.fn(state)
            sync()
            took = time.perf_counter() - start
            seconds += took
            c.times.append(took / (end - done))
            done = end
            samples.append((done, rss_bytes(), pooled_bytes()))
    except Exception as exc:  # reported in the case's augkit result, as a timed case's is
        c.status, c.reason = "error", describe_error(exc)
        c.times.clear()
        return None
    c.reps = max(1, calls // len(c.times))
    per_1k, rise, word = verdict([(x, r) for x, r, _ in samples], calls, spec.allowance_bytes)
    rss = [r for _, r, _ in samples]
    return {
        "calls": calls,
        "warmup_calls": warmup,
        "seconds": seconds,
        "calls_per_s": calls / seconds if seconds > 0 else None,
        "rss_warm_bytes": rss[0],
        "rss_end_bytes": rss[-1],
        "rss_max_bytes": max(rss),
        "growth_bytes_per_1k_calls": per_1k,
        "second_half_rise_bytes": rise,
        "allowance_bytes": int(spec.allowance_bytes),
        "verdict": word,
        "pool_end_bytes": samples[-1][2],
        "pool_max_bytes": max(p for _, _, p in samples),
        "samples": [list(s) for s in samples],
    }
