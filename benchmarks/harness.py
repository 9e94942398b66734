"""Time augkit against the anchor libraries, case by case, and collect one JSON document.

A suite is any module of the ``augkit.benchmarks.suites`` package that defines ``SUITE`` and
``cases(quick, device)`` (see :mod:`augkit.benchmarks.case`); several modules may share one
``SUITE`` name. A module that fails to import, or whose ``cases()`` raises, is reported and the
run goes on.

Per case: ``setup()`` once (not timed); a warm-up call of each contender (augkit, every anchor
whose modules are installed, the floor); then rounds of interleaved measurements
(augkit, anchor 1, ..., floor, augkit, anchor 1, ...), each measurement being ``reps`` calls
so that it lasts at least ``target_s``. The reported time per call is the median over the
rounds (at least 5). CUDA is synchronised before every clock read. Peak memory is taken in a
separate, untimed call, so tracing never slows the timed ones.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import gc
import importlib
import importlib.util
import itertools
import math
import os
import pkgutil
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, TextIO

from augkit.benchmarks.case import Case

FORMAT = "augkit-bench/1"
SUITES = "augkit.benchmarks.suites"

#: Distributions whose versions go into every result file (absent ones are recorded as null).
LIBRARIES = (
    "augkit", "torch", "torchvision", "torch-geometric", "numpy", "scipy", "numba",
    "albumentations", "opencv-python-headless", "kornia", "imbalanced-learn", "scikit-learn",
    "networkx", "matplotlib", "pyyaml",
)


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
        if quick:
            return cls(warmup=1, target_s=0.002, max_reps=1_000, min_runs=5, max_runs=5,
                       budget_s=0.5)
        return cls()


@dataclass
class SuiteModule:
    """One discovered module: its suite name, or why it could not be used."""

    module: str  # short name inside the package ("graph") or the import name of an extra
    suite: str | None
    obj: Any = None
    error: str | None = None
    cases: list[Case] = field(default_factory=list)
    elapsed_s: float = 0.0  # timing its cases (setup, warm-up, rounds, memory)
    import_s: float = 0.0  # importing the module (its libraries included)
    cpu_s: float = 0.0  # CPU time of this process while timing its cases (not loader workers)


# ---- discovery -----------------------------------------------------------------------------


def _describe_error(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 600 else text[:597] + "..."


def package_modules() -> list[str]:
    """Import names of the modules of the suites package, sorted."""
    pkg = importlib.import_module(SUITES)
    names = [m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_")]
    return [f"{SUITES}.{n}" for n in sorted(names)]


def discover(extra_modules: Sequence[str] = ()) -> list[SuiteModule]:
    """Import every candidate module (and ``extra_modules``, e.g. a third party's suite).

    Modules that define no ``SUITE``/``cases`` are left out; a module that fails to import
    is kept with its error so the report can name it.
    """
    found: list[SuiteModule] = []
    for import_name in [*package_modules(), *extra_modules]:
        short = import_name.removeprefix(SUITES + ".")
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(import_name)
        except Exception as exc:  # noqa: BLE001 - an unfinished plugin must not stop the run
            found.append(SuiteModule(short, None, error=f"import failed: {_describe_error(exc)}",
                                     import_s=time.perf_counter() - t0))
            continue
        suite, cases = getattr(module, "SUITE", None), getattr(module, "cases", None)
        if isinstance(suite, str) and callable(cases):
            found.append(SuiteModule(short, suite, obj=module,
                                     import_s=time.perf_counter() - t0))
    return found


def collect(modules: Iterable[SuiteModule], quick: bool, device: str) -> None:
    """Call each module's ``cases()``; an exception becomes the module's error."""
    for mod in modules:
        if mod.error is not None:
            continue
        try:
            mod.cases = list(mod.obj.cases(quick=quick, device=device))
        except Exception as exc:  # noqa: BLE001
            mod.error = f"cases() raised {_describe_error(exc)}"
            mod.cases = []


# ---- environment ---------------------------------------------------------------------------


def missing_modules(names: Iterable[str]) -> list[str]:
    """The import names in ``names`` that are not installed (without importing them)."""
    missing = []
    for name in names:
        try:
            if importlib.util.find_spec(name) is None:
                missing.append(name)
        except (ImportError, ValueError):
            missing.append(name)
    return missing


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_isa() -> dict[str, str | None]:
    """What the compiled kernels are built for: LLVM's name of the host CPU (numba compiles
    for it, e.g. ``znver3``) and the widest x86 vector extension the CPU reports. Two VMs
    that both report "AMD EPYC" timed the same numba kernels ~1.6-4x apart (AVX-512, unlike
    AVX2, has a 64-bit vector multiply, which the hash kernels use), so the page says which
    one ran."""
    arch = None
    try:
        import llvmlite.binding as llvm

        arch = str(llvm.get_host_cpu_name())
    except Exception:  # noqa: BLE001 - llvmlite comes with numba, an optional dependency
        pass
    simd = None
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    for name in ("avx512f", "avx2", "avx", "sse4_2"):
                        if name in flags:
                            simd = name
                            break
                    break
    except OSError:
        pass
    return {"cpu_arch": arch, "simd": simd}


def _total_memory() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def host_pauses(seconds: float = 1.0, gap_s: float = 0.002) -> dict[str, float | int]:
    """Spin on the clock for ``seconds`` and add up the gaps >= ``gap_s`` between two reads:
    wall time in which this process did not run although it wanted to (the scheduler, or a
    hypervisor pausing the virtual CPU). About 0 on a quiet machine; on the VM these results
    were first taken on, 40-80 % in pauses of up to 0.4 s, which is why one measurement is
    kept short and the median is taken over many rounds."""
    start = last = time.perf_counter()
    end = start + seconds
    lost, gaps, largest = 0.0, 0, 0.0
    while last < end:
        now = time.perf_counter()
        if now - last >= gap_s:
            lost, gaps, largest = lost + (now - last), gaps + 1, max(largest, now - last)
        last = now
    wall = last - start
    return {"wall_s": wall, "lost_s": lost, "lost_share": lost / wall if wall else 0.0,
            "gaps": gaps, "max_gap_s": largest}


def machine_info() -> dict[str, Any]:
    import torch

    gpu = None
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        gpu = {"name": props.name, "memory_bytes": int(props.total_memory),
               "count": torch.cuda.device_count(), "cuda": torch.version.cuda}
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
        **_cpu_isa(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "memory_bytes": _total_memory(),
        "gpu": gpu,
    }


def library_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for dist in LIBRARIES:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def thread_settings() -> dict[str, Any]:
    """Thread counts in effect (augkit and the anchors share them: one process)."""
    import torch

    out: dict[str, Any] = {
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
        "opencv_threads": None,
        "numba_threads": None,
    }
    if "cv2" in sys.modules:
        out["opencv_threads"] = int(sys.modules["cv2"].getNumThreads())
    if "numba" in sys.modules:
        out["numba_threads"] = int(sys.modules["numba"].get_num_threads())
    return out


def set_threads(n: int) -> None:
    """One thread count for torch, OpenCV and numba, so no library gets more cores."""
    import torch

    torch.set_num_threads(n)
    try:
        import cv2

        cv2.setNumThreads(n)
    except ImportError:
        pass
    try:
        import numba

        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    except ImportError:
        pass


# ---- timing --------------------------------------------------------------------------------


def _sync_for(device: str) -> Callable[[], None]:
    if device.startswith("cuda"):
        import torch

        return torch.cuda.synchronize
    return lambda: None


def _timed(fn: Callable[[Any], Any], state: Any, reps: int, sync: Callable[[], None]) -> float:
    """Seconds per call of ``reps`` back-to-back calls, CUDA synchronised at both ends."""
    sync()
    start = time.perf_counter()
    for _ in range(reps):
        fn(state)
    sync()
    return (time.perf_counter() - start) / reps


def _calibrate(fn: Callable[[Any], Any], state: Any, sync: Callable[[], None],
               settings: Settings) -> int:
    """Repetitions for one measurement to last >= target_s (as timeit's autorange does, but
    jumping straight to the estimate); the first calls after warm-up may still be slow, so
    the estimate is checked on a real measurement and raised while it falls short. A first
    call that alone reaches the target but is not far above it is timed once more: a one-off
    stall there (seen: a 12 us pipeline call measured over 1 ms once) would otherwise leave
    the case at one call per measurement, whose median then times the switch from the other
    contenders as much as the call."""
    reps = 1
    per_call = _timed(fn, state, 1, sync)
    if settings.target_s <= per_call < 10 * settings.target_s:
        per_call = min(per_call, _timed(fn, state, 1, sync))
    for _ in range(4):
        if per_call * reps >= settings.target_s or reps >= settings.max_reps:
            break
        want = math.ceil(1.2 * settings.target_s / max(per_call, 1e-9))
        reps = int(min(settings.max_reps, max(reps + 1, want)))
        per_call = _timed(fn, state, reps, sync)
    return reps


@dataclass
class _Contender:
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


# ---- peak memory -----------------------------------------------------------------------------


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


# ---- one case ------------------------------------------------------------------------------


def _contenders(case: Case) -> list[_Contender]:
    out = [_Contender("augkit", "augkit", case.run, tuple(case.requires))]
    for anchor in case.anchors:
        out.append(_Contender("anchor", anchor.label, anchor.run, tuple(anchor.requires),
                              anchor.note, anchor.goal_ratio))
    if case.floor is not None:
        label = getattr(case, "floor_label", "") or "copy into a preallocated buffer"
        out.append(_Contender("floor", f"floor: {label}", case.floor))
    return out


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _case_record(case: Case, module: str) -> dict[str, Any]:
    return {
        "suite": case.suite,
        "module": module,
        "name": case.name,
        "transforms": list(case.transforms),
        "size": int(case.size),
        "size_unit": case.size_unit,
        "items": int(case.items),
        "unit": case.unit,
        "device": case.device,
        "note": case.note,
        "goal": getattr(case, "goal", ""),
        "status": "ok",
        "reason": "",
        "elapsed_s": 0.0,
        "floor_multiple": None,
        "results": [],
    }


def _result_record(c: _Contender, items: int) -> dict[str, Any]:
    median = statistics.median(c.times) if c.times else None
    return {
        "role": c.role,
        "label": c.label,
        "status": c.status,
        "reason": c.reason,
        "note": c.note,
        "requires": list(c.requires),
        "reps": c.reps if c.times else None,
        "runs": len(c.times),
        "times_s": [float(t) for t in c.times],
        "median_s": _num(median),
        "min_s": _num(min(c.times)) if c.times else None,
        "throughput": _num(items / median) if median else None,
        "speedup": None,
        "goal_ratio": c.goal_ratio,
        "goal_met": None,
        "memory": c.memory,
    }


def run_case(case: Case, module: str, settings: Settings) -> dict[str, Any]:
    """Time one case; never raises for a failing contender (it is reported instead)."""
    started = time.perf_counter()
    record = _case_record(case, module)
    contenders = _contenders(case)

    def finish(status: str, reason: str = "") -> dict[str, Any]:
        record["status"], record["reason"] = status, reason
        record["results"] = [_result_record(c, case.items) for c in contenders]
        augkit = contenders[0]
        base = record["results"][0]["median_s"] if augkit.status == "ok" else None
        for res in record["results"][1:]:
            if base and res["median_s"]:
                if res["role"] == "anchor":
                    res["speedup"] = res["median_s"] / base  # > 1: augkit is faster
                    if res["goal_ratio"] is not None:
                        res["goal_met"] = bool(res["speedup"] >= res["goal_ratio"])
                elif res["role"] == "floor":
                    record["floor_multiple"] = base / res["median_s"]
        record["elapsed_s"] = time.perf_counter() - started
        return record

    def skip_all(reason: str) -> None:
        for c in contenders:
            c.status, c.reason = "skipped", reason

    if case.device.startswith("cuda") and not cuda_available():
        skip_all("no CUDA device")
        return finish("skipped", "no CUDA device")
    missing = missing_modules(case.requires)
    if missing:
        reason = f"missing module {', '.join(missing)}"
        skip_all(reason)
        return finish("skipped", reason)
    for c in contenders[1:]:
        gone = missing_modules(c.requires)
        if gone:
            c.status, c.reason = "skipped", f"missing module {', '.join(gone)}"

    try:
        state = case.setup()
    except Exception as exc:  # noqa: BLE001
        reason = f"setup failed: {_describe_error(exc)}"
        for c in contenders:
            if c.status == "ok":
                c.status, c.reason = "error", reason
        return finish("error", reason)

    sync = _sync_for(case.device)
    # Everything alive now (modules, the input) goes to the permanent generation: a garbage
    # collection inside a timed call then walks only what the call allocated, not the heap
    # of every imported library (seconds per full collection once torch._dynamo is loaded).
    gc.collect(1)
    gc.freeze()
    # Never unfrozen: unfreezing hands the whole heap back to the oldest generation, and the
    # next full collection (a second on this machine) lands inside some later case. Frozen
    # objects are still freed by reference counting; only cycles among them would stay.
    try:
        rounds = min(max(settings.min_runs, case.min_rounds), settings.max_runs)
        _measure(contenders, state, sync, dataclasses.replace(settings, min_runs=rounds),
                 started, case.device)
    finally:
        del state
        gc.collect(1)
    augkit = contenders[0]
    if augkit.status == "error":
        return finish("error", augkit.reason)
    return finish("ok")


def _measure(contenders: list[_Contender], state: Any, sync: Callable[[], None],
             settings: Settings, started: float, device: str) -> None:
    """Warm up and calibrate each runnable contender, then the interleaved rounds, then one
    untimed call each for peak memory. A contender that raises is marked and dropped."""
    live: list[_Contender] = []
    for c in contenders:
        if c.status != "ok":
            continue
        try:
            for _ in range(max(1, settings.warmup)):
                _timed(c.fn, state, 1, sync)
            c.reps = _calibrate(c.fn, state, sync, settings)
        except Exception as exc:  # noqa: BLE001
            c.status, c.reason = "error", _describe_error(exc)
            continue
        live.append(c)
    gc.freeze()  # again: what the warm-up imported or built lazily (anchor pipelines)

    rounds = 0
    while live and (rounds < settings.min_runs or (
            rounds < settings.max_runs
            and time.perf_counter() - started < settings.budget_s)):
        for c in round_order(live, rounds):
            try:
                c.times.append(_timed(c.fn, state, c.reps, sync))
            except Exception as exc:  # noqa: BLE001
                c.status, c.reason = "error", _describe_error(exc)
                c.times.clear()
                live.remove(c)
        rounds += 1

    if settings.memory:
        for c in live:
            try:
                c.memory = measure_memory(c.fn, state, device)
            except Exception as exc:  # noqa: BLE001 - timing stands without the memory figure
                c.memory = {"method": "failed", "peak_bytes": None, "traced_peak_bytes": None,
                            "rss_peak_bytes": None, "error": _describe_error(exc)}


def round_order(live: Sequence[_Contender], index: int) -> list[_Contender]:
    """The contenders in the order of round ``index``: over every ``len(live) - 1`` rounds
    each contender runs right after each other one exactly once (rounds wrap around). A fixed
    order gave the contender after augkit an input augkit had just brought into the caches,
    and augkit one the floor had just pushed out (feature masking at 1e6 edges: PyG ~0.75 ms
    after augkit, ~1.25 ms after the floor)."""
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


# ---- size sweeps -----------------------------------------------------------------------------


def loglog_slope(sizes: Sequence[float], times: Sequence[float]) -> float | None:
    """Least-squares slope of log(time) against log(size); None with fewer than 2 sizes."""
    pts = [(math.log(s), math.log(t)) for s, t in zip(sizes, times, strict=True)
           if s > 0 and t > 0]
    if len({x for x, _ in pts}) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    sxy = sum((x - mx) * (y - my) for x, y in pts)
    return sxy / sxx


def sweeps(case_records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per case name (suite, name, device) run at several sizes: the slope of each contender.

    A slope near 1 is linear in the size; near 0, a fixed per-call cost dominates.
    """
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for rec in case_records:
        groups.setdefault((rec["suite"], rec["name"], rec["device"]), []).append(rec)
    out = []
    for (suite, name, device), recs in groups.items():
        sizes = sorted({r["size"] for r in recs})
        if len(sizes) < 2:
            continue
        per_label: dict[str, list[tuple[int, float]]] = {}
        for r in recs:
            for res in r["results"]:
                if res["status"] == "ok" and res["median_s"]:
                    per_label.setdefault(res["label"], []).append((r["size"], res["median_s"]))
        slopes = []
        for label, pts in per_label.items():
            slope = loglog_slope([p[0] for p in pts], [p[1] for p in pts])
            if slope is not None:
                role = "augkit" if label == "augkit" else (
                    "floor" if label.startswith("floor") else "anchor")
                slopes.append({"label": label, "role": role, "slope": slope,
                               "sizes": sorted({p[0] for p in pts})})
        out.append({"suite": suite, "name": name, "device": device,
                    "size_unit": recs[0]["size_unit"], "sizes": sizes, "slopes": slopes})
    return out


# ---- progress ------------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on stderr (a line per case when stderr is not a terminal)."""

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.perf_counter()

    def show(self, text: str) -> None:
        if not self.enabled:
            return
        width = 24
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "-" * (width - filled)
        elapsed = time.perf_counter() - self.started
        line = f"[{bar}] {self.done}/{self.total} {elapsed:6.1f}s {text}"
        if self.tty:
            cols = 120
            self.stream.write("\r" + line[:cols].ljust(cols))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def step(self, text: str) -> None:
        self.done += 1
        self.show(text)

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


# ---- the whole run -------------------------------------------------------------------------


def run(
    suites: Sequence[str] | None = None,
    *,
    device: str = "cpu",
    quick: bool = False,
    extra_modules: Sequence[str] = (),
    case_filter: str | None = None,
    threads: int | None = None,
    command: str = "augkit bench",
    progress: bool = True,
    settings: Settings | None = None,
) -> dict[str, Any]:
    """Discover, select and time every case; return the result document (see README.md)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    created = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()
    load_start = _load()
    probe_s = 0.25 if quick else 1.0
    pauses_start = host_pauses(probe_s)
    # One thread count for every library (default: torch's), so no contender gets more cores.
    import torch

    set_threads(threads if threads is not None else torch.get_num_threads())
    settings = settings or Settings.for_mode(quick)

    modules = discover(extra_modules)
    known = sorted({m.suite for m in modules if m.suite})
    if suites:
        unknown = [s for s in suites if s not in known]
        if unknown:
            from augkit.errors import AugkitError

            broken = [m.module for m in modules if m.error]
            hint = f" (modules that failed to import: {', '.join(broken)})" if broken else ""
            raise AugkitError(
                f"--suite: got {', '.join(unknown)}; allowed: {', '.join(known) or 'none'}"
                + hint
            )
        # Modules that failed to import stay in the report: they may be the suite asked for.
        modules = [m for m in modules if m.suite in suites or m.error]
    collect(modules, quick, device)
    if case_filter:
        for m in modules:
            m.cases = [c for c in m.cases if case_filter in c.name]

    total = sum(len(m.cases) for m in modules)
    bar = Progress(total, enabled=progress)
    case_records: list[dict[str, Any]] = []
    for m in modules:
        t0, c0 = time.perf_counter(), time.process_time()
        for case in m.cases:
            bar.show(f"{case.suite} {case.name} ({case.size} {case.size_unit})")
            case_records.append(run_case(case, m.module, settings))
            bar.step(f"{case.suite} {case.name}: {case_records[-1]['status']}")
        gc.collect()  # once per module, not per case: a full collection can take seconds
        m.elapsed_s = time.perf_counter() - t0
        m.cpu_s = time.process_time() - c0
    bar.close()

    return {
        "format": FORMAT,
        "created": created,
        "command": command,
        "quick": quick,
        "device": device,
        "machine": machine_info(),
        "versions": library_versions(),
        "threads": thread_settings(),
        "load_average": {"start": load_start, "end": _load()},
        "host_pauses": {"start": pauses_start, "end": host_pauses(probe_s)},
        "settings": {
            "warmup": settings.warmup, "target_s": settings.target_s,
            "max_reps": settings.max_reps, "min_runs": settings.min_runs,
            "max_runs": settings.max_runs, "budget_s": settings.budget_s,
            "clock": "time.perf_counter", "statistic": "median", "round_order": "balanced",
        },
        "suites": [
            {"module": m.module, "suite": m.suite, "status": "error" if m.error else "ok",
             "error": m.error, "cases": len(m.cases), "import_s": m.import_s,
             "elapsed_s": m.elapsed_s, "cpu_s": m.cpu_s}
            for m in modules
        ],
        "cases": case_records,
        "sweeps": sweeps(case_records),
        "elapsed_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu_started,
    }


def problems(doc: dict[str, Any]) -> list[str]:
    """Everything that went wrong (not skips): failed modules and contenders that raised."""
    out = [f"suite module {s['module']}: {s['error']}" for s in doc["suites"] if s["error"]]
    for rec in doc["cases"]:
        for res in rec["results"]:
            if res["status"] == "error":
                out.append(f"{rec['suite']} {rec['name']} [{res['label']}]: {res['reason']}")
    return out
