"""How a contender is timed: warm-up calls, a calibration of the calls per measurement, then
rounds that interleave the contenders in balanced orders. Each round gives one time per call
per contender; the records take the median over rounds (see :mod:`augkit.benchmarks.records`).
CUDA is synchronised before every clock read.
"""

from __future__ import annotations

import functools
import gc
import itertools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from augkit.benchmarks.records import describe_error

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """How hard the harness measures. ``quick`` trades precision for a short run."""

    warmup: int = 2  # untimed calls per contender before the rounds (the last one calibrates)
    target_s: float = 0.001  # one measurement repeats the call until it lasts this long
    max_reps: int = 100_000
    min_runs: int = 5  # rounds always run (the median is over these)
    max_runs: int = 41  # more rounds while the case is under its time budget
    budget_s: float = 6.0  # per case, over all contenders; min_runs are run regardless
    memory: bool = True

    @classmethod
    def for_mode(cls, quick: bool) -> Settings:
        """The settings of ``--quick`` or of a full run."""
        if quick:
            return cls(warmup=1, target_s=0.002, max_reps=1_000, min_runs=5, max_runs=5,
                       budget_s=0.5)
        return cls()

    def record(self) -> dict[str, Any]:
        """The ``settings`` record of the result file, the method's fixed choices included."""
        return {
            "warmup": self.warmup, "target_s": self.target_s,
            "max_reps": self.max_reps, "min_runs": self.min_runs,
            "max_runs": self.max_runs, "budget_s": self.budget_s,
            "clock": "time.perf_counter", "statistic": "median", "round_order": "balanced",
        }


@dataclass
class Contender:
    """augkit, an anchor or the floor of one case, and what timing it gave."""

    role: str  # "augkit" | "anchor" | "floor"
    label: str
    fn: Callable[[Any], Any]
    requires: tuple[str, ...] = ()
    note: str = ""
    goal_ratio: float | None = None
    status: str = "ok"
    reason: str = ""
    reps: int = 1
    times: list[float] = field(default_factory=list)
    memory: dict[str, Any] | None = None


def sync_for(device: str) -> Callable[[], None]:
    """What to call before each clock read: CUDA's synchronize, or nothing on the CPU."""
    if device.startswith("cuda"):
        import torch

        return torch.cuda.synchronize
    return lambda: None


def timed(fn: Callable[[Any], Any], state: Any, reps: int, sync: Callable[[], None]) -> float:
    """Seconds per call of ``reps`` back-to-back calls, CUDA synchronised at both ends."""
    sync()
    start = time.perf_counter()
    for _ in range(reps):
        fn(state)
    sync()
    return (time.perf_counter() - start) / reps


def calibrate(fn: Callable[[Any], Any], state: Any, sync: Callable[[], None],
              settings: Settings) -> int:
    """Repetitions for one measurement to last >= target_s (as timeit's autorange does, but
    jumping straight to the estimate); the first calls after warm-up may still be slow, so
    the estimate is checked on a real measurement and raised while it falls short. A first
    call that alone reaches the target but is not far above it is timed once more: a one-off
    stall there would otherwise leave the case at one call per measurement, whose median then
    times the switch from the other contenders as much as the call."""
    reps = 1
    per_call = timed(fn, state, 1, sync)
    if settings.target_s <= per_call < 10 * settings.target_s:
        per_call = min(per_call, timed(fn, state, 1, sync))
    for _ in range(4):
        if per_call * reps >= settings.target_s or reps >= settings.max_reps:
            break
        want = math.ceil(1.2 * settings.target_s / max(per_call, 1e-9))
        reps = int(min(settings.max_reps, max(reps + 1, want)))
        per_call = timed(fn, state, reps, sync)
    return reps


def measure(contenders: list[Contender], state: Any, sync: Callable[[], None],
            settings: Settings, started: float) -> list[Contender]:
    """Warm up and calibrate each runnable contender, then the interleaved rounds until
    ``min_runs``, and on to ``max_runs`` while the case (begun at ``started``) is within its
    budget. A contender that raises is marked and dropped; returns those still running."""
    live: list[Contender] = []
    for c in contenders:
        if c.status != "ok":
            continue
        try:
            for _ in range(max(1, settings.warmup)):
                timed(c.fn, state, 1, sync)
            c.reps = calibrate(c.fn, state, sync, settings)
        except Exception as exc:  # a failing contender is reported, the others still timed
            c.status, c.reason = "error", describe_error(exc)
            continue
        live.append(c)
    gc.freeze()  # again: what the warm-up imported or built lazily (anchor pipelines)

    rounds = 0
    while live and (rounds < settings.min_runs or (
            rounds < settings.max_runs
            and time.perf_counter() - started < settings.budget_s)):
        for c in round_order(live, rounds):
            try:
                c.times.append(timed(c.fn, state, c.reps, sync))
            except Exception as exc:  # as above: the round goes on without it
                c.status, c.reason = "error", describe_error(exc)
                c.times.clear()
                live.remove(c)
        rounds += 1
    return live


def round_order(live: Sequence[T], index: int) -> list[T]:
    """The contenders in the order of round ``index``: over every ``len(live) - 1`` rounds
    each contender runs right after each other one exactly once (rounds wrap around). A fixed
    order gave the contender after augkit an input augkit had just brought into the caches,
    and augkit one the floor had just pushed out."""
    orders = _balanced_orders(len(live))
    return [live[i] for i in orders[index % len(orders)]]


@functools.cache
def _balanced_orders(k: int) -> tuple[tuple[int, ...], ...]:
    """``k - 1`` permutations of ``range(k)`` whose concatenation, read cyclically, holds
    every ordered pair of distinct contenders once as neighbours (a closed walk through every
    edge of the complete directed graph); found by a depth-first search, instant for the
    k <= 5 of the suites. Beyond 5, or where none exists, one fixed order per shift."""
    first = tuple(range(k))
    if k <= 2:
        return (first,)
    if k <= 5:
        perms = list(itertools.permutations(range(k)))

        def extend(seq: list[tuple[int, ...]], used: frozenset) -> list | None:
            if len(seq) == k - 1:
                return seq if (seq[-1][-1], seq[0][0]) not in used else None
            for perm in perms:
                pairs = [(seq[-1][-1], perm[0]), *zip(perm, perm[1:], strict=False)]
                if len(set(pairs)) == len(pairs) and not used.intersection(pairs):
                    found = extend([*seq, perm], used.union(pairs))
                    if found:
                        return found
            return None

        found = extend([first], frozenset(zip(first, first[1:], strict=False)))
        if found:
            return tuple(found)
    return tuple(first[s:] + first[:s] for s in range(k))
