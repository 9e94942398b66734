"""One result document from several runs of ``augkit bench`` on one machine, one suite each
(``augkit bench --render a.json b.json``): a long run split by suite keeps what finished when
a later suite is cut short. Ratios are unchanged, as each was measured within its own run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from augkit.benchmarks import sweeps
from augkit.errors import InputError

# Fields that must agree between the parts: the same machine, mode and method.
SAME = ("format", "quick", "device", "machine", "versions", "settings")


def merge(docs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The parts' cases and suites in order; the first part's header, the last part's end
    readings, times added up."""
    if not docs:
        raise InputError("no result documents to merge; allowed: one or more")
    first, last = docs[0], docs[-1]
    for i, doc in enumerate(docs[1:], 1):
        for key in SAME:
            if key == "machine":
                a = {k: v for k, v in first[key].items() if k != "hostname"}
                b = {k: v for k, v in doc[key].items() if k != "hostname"}
            else:
                a, b = first[key], doc[key]
            if a != b:
                raise InputError(f"result {i + 1} differs from the first in {key!r}; allowed: "
                                 "runs of one machine with one mode and one method")
    cases = [case for doc in docs for case in doc["cases"]]
    return {
        **first,
        "command": " && ".join(doc["command"] for doc in docs),
        "load_average": {"start": first["load_average"]["start"],
                         "end": last["load_average"]["end"]},
        "host_pauses": {"start": first["host_pauses"]["start"],
                        "end": last["host_pauses"]["end"]},
        "suites": [suite for doc in docs for suite in doc["suites"]],
        "cases": cases,
        "sweeps": sweeps.sweeps(cases),
        "elapsed_s": sum(doc["elapsed_s"] for doc in docs),
        "cpu_s": sum(doc["cpu_s"] for doc in docs),
    }
