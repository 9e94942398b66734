"""Time augkit against the anchor libraries, case by case, and collect one JSON document.

The run: find the suites (:mod:`~augkit.benchmarks.discovery`), then per case ``setup()``
once (not timed), the timing of every contender (:mod:`~augkit.benchmarks.timing`), one more
untimed call each for peak memory (:mod:`~augkit.benchmarks.memory`), and the case's record
(:mod:`~augkit.benchmarks.records`); around it, what the machine was
(:mod:`~augkit.benchmarks.machine`). A soak case (``Case.soak``) is run by
:mod:`~augkit.benchmarks.soak` instead of the interleaved timing.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import gc
import time
from collections.abc import Callable, Sequence
from typing import Any

from augkit.benchmarks import discovery, machine, memory, records, soak, sweeps, timing
from augkit.benchmarks.case import Case, Soak
from augkit.benchmarks.progress import Progress
from augkit.benchmarks.timing import Contender, Settings

FORMAT = "augkit-bench/1"


def contenders(case: Case) -> list[Contender]:
    """augkit first, then each anchor, then the floor (when the case has one)."""
    out = [Contender("augkit", "augkit", case.run, tuple(case.requires))]
    for anchor in case.anchors:
        out.append(Contender("anchor", anchor.label, anchor.run, tuple(anchor.requires),
                             anchor.note, anchor.goal_ratio))
    if case.floor is not None:
        label = getattr(case, "floor_label", "") or "copy into a preallocated buffer"
        out.append(Contender("floor", f"floor: {label}", case.floor))
    return out


def _skip_reason(case: Case, timed: list[Contender]) -> str:
    """Why augkit's side cannot run here ("" when it can); anchors whose modules are missing
    are marked skipped on their own."""
    if case.device.startswith("cuda") and not machine.cuda_available():
        return "no CUDA device"
    missing = machine.missing_modules(case.requires)
    if missing:
        return f"missing module {', '.join(missing)}"
    for c in timed[1:]:
        gone = machine.missing_modules(c.requires)
        if gone:
            c.status, c.reason = "skipped", f"missing module {', '.join(gone)}"
    return ""


def _soak(spec: Soak, timed: list[Contender], state: Any, sync: Callable[[], None],
          record: dict[str, Any]) -> list[Contender]:
    """Soak augkit's call (anchors and floor have nothing to soak); returns [augkit] if it
    ran through."""
    for c in timed[1:]:
        if c.status == "ok":
            c.status, c.reason = "skipped", "soak case: only augkit's call is soaked"
    record["soak"] = soak.run(timed[0], state, spec, sync)
    return [timed[0]] if timed[0].status == "ok" else []


def run_case(case: Case, module: str, settings: Settings) -> dict[str, Any]:
    """Time one case; never raises for a failing contender (it is reported instead)."""
    started = time.perf_counter()
    record = records.case_record(case, module)
    timed = contenders(case)

    def finish(status: str, reason: str = "") -> dict[str, Any]:
        record["status"], record["reason"] = status, reason
        record["results"] = [records.result_record(c, case.items) for c in timed]
        records.add_ratios(record, augkit_ok=timed[0].status == "ok")
        record["elapsed_s"] = time.perf_counter() - started
        return record

    reason = _skip_reason(case, timed)
    if reason:
        for c in timed:
            c.status, c.reason = "skipped", reason
        return finish("skipped", reason)

    try:
        state = case.setup()
    except Exception as exc:  # a case that cannot build its input is reported, not fatal
        reason = f"setup failed: {records.describe_error(exc)}"
        for c in timed:
            if c.status == "ok":
                c.status, c.reason = "error", reason
        return finish("error", reason)

    sync = timing.sync_for(case.device)
    # Everything alive now (modules, the input) goes to the permanent generation: a garbage
    # collection inside a timed call then walks only what the call allocated, not the heap
    # of every imported library.
    gc.collect(1)
    gc.freeze()
    # Never unfrozen: unfreezing hands the whole heap back to the oldest generation, and the
    # next full collection lands inside some later case. Frozen objects are still freed by
    # reference counting; only cycles among them would stay.
    try:
        if case.soak is not None:
            live = _soak(case.soak, timed, state, sync, record)
        else:
            rounds = min(max(settings.min_runs, case.min_rounds), settings.max_runs)
            live = timing.measure(timed, state, sync,
                                  dataclasses.replace(settings, min_runs=rounds), started)
        if settings.memory:
            memory.record_peaks(live, state, case.device)
    finally:
        del state
        gc.collect(1)
    augkit = timed[0]
    if augkit.status == "error":
        return finish("error", augkit.reason)
    return finish("ok")


def _time_modules(modules: list[discovery.SuiteModule], settings: Settings,
                  progress: bool) -> list[dict[str, Any]]:
    """Run every case of every module, with the progress line; returns the case records."""
    bar = Progress(sum(len(m.cases) for m in modules), enabled=progress)
    case_records: list[dict[str, Any]] = []
    for m in modules:
        t0, c0 = time.perf_counter(), time.process_time()
        for case in m.cases:
            bar.show(f"{case.suite} {case.name} ({case.size} {case.size_unit})")
            case_records.append(run_case(case, m.module, settings))
            bar.step(f"{case.suite} {case.name}: {case_records[-1]['status']}")
        gc.collect()  # once per module, not per case: a full collection is slow
        m.elapsed_s = time.perf_counter() - t0
        m.cpu_s = time.process_time() - c0
    bar.close()
    return case_records


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
    load_start = machine.load_average()
    probe_s = 0.25 if quick else 1.0
    pauses_start = machine.host_pauses(probe_s)
    # One thread count for every library (default: torch's), so no contender gets more cores.
    import torch

    machine.set_threads(threads if threads is not None else torch.get_num_threads())
    settings = settings or Settings.for_mode(quick)

    modules = discovery.select(discovery.discover(extra_modules), suites)
    discovery.collect(modules, quick, device)
    if case_filter:
        for m in modules:
            m.cases = [c for c in m.cases if case_filter in c.name]
    case_records = _time_modules(modules, settings, progress)

    return {
        "format": FORMAT,
        "created": created,
        "command": command,
        "quick": quick,
        "device": device,
        "machine": machine.machine_info(),
        "versions": machine.library_versions(),
        "threads": machine.thread_settings(),
        "load_average": {"start": load_start, "end": machine.load_average()},
        "host_pauses": {"start": pauses_start, "end": machine.host_pauses(probe_s)},
        "settings": settings.record(),
        "suites": [
            {"module": m.module, "suite": m.suite, "status": "error" if m.error else "ok",
             "error": m.error, "cases": len(m.cases), "import_s": m.import_s,
             "elapsed_s": m.elapsed_s, "cpu_s": m.cpu_s}
            for m in modules
        ],
        "cases": case_records,
        "sweeps": sweeps.sweeps(case_records),
        "elapsed_s": time.perf_counter() - started,
        "cpu_s": time.process_time() - cpu_started,
    }
