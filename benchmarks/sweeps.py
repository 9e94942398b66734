"""Size sweeps: a case name run at several sizes gets, per contender, the slope of log(time)
against log(size), which says how its cost grows with the size."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


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

