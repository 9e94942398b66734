"""The JSON records of one case and of each of its contenders, the ratios between them, and
the one-line reason an exception leaves in them (see README.md, "Result format")."""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING, Any

from augkit.benchmarks.case import Case

if TYPE_CHECKING:  # timing imports this module for describe_error
    from augkit.benchmarks.timing import Contender


def describe_error(exc: BaseException) -> str:
    """``Type: message``, cut to 600 characters: a reason that fits in a table cell."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 600 else text[:597] + "..."


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def case_record(case: Case, module: str) -> dict[str, Any]:
    """A case's record before timing: status ok, no results yet."""
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
        # A soak case's record (benchmarks/soak.py) replaces this None once it ran.
        **({"soak": None} if getattr(case, "soak", None) is not None else {}),
    }


def result_record(c: Contender, items: int) -> dict[str, Any]:
    """One contender's record; its speed ratio is filled in by :func:`add_ratios`."""
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


def add_ratios(record: dict[str, Any], augkit_ok: bool) -> None:
    """Each anchor's speed ratio and goal verdict, and augkit's multiple of the floor."""
    base = record["results"][0]["median_s"] if augkit_ok else None
    for res in record["results"][1:]:
        if base and res["median_s"]:
            if res["role"] == "anchor":
                res["speedup"] = res["median_s"] / base  # > 1: augkit is faster
                if res["goal_ratio"] is not None:
                    res["goal_met"] = bool(res["speedup"] >= res["goal_ratio"])
            elif res["role"] == "floor":
                record["floor_multiple"] = base / res["median_s"]
