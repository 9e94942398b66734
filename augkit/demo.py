"""``augkit demo``: the example policies on bundled real data, with a table of what changed,
the throughput of each policy, and before/after pictures in an output folder.

Each family contributes a section, a module with ``run(out_dir, policies_dir) -> list[Row]``;
the core only runs them and prints the table (it knows no modality).
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from pathlib import Path

from augkit.errors import AugkitError

SECTIONS = {
    "graph": "augkit.plugins.graph.demo",
    "imbalance": "augkit.plugins.imbalance.demo",
    "vision": "augkit.plugins.vision.demo",
    "utilities": "augkit.demo_utilities",
}


@dataclass
class Row:
    """One line of the demo table."""

    section: str
    data: str
    policy: str
    before: str
    after: str
    per_second: float | None = None
    unit: str = "items/s"
    picture: str | None = None


def policies_dir() -> Path:
    """examples/policies of the source tree (the demo runs from a checkout or editable
    install)."""
    here = Path(__file__).resolve().parent.parent / "examples" / "policies"
    if not here.is_dir():
        raise AugkitError(f"examples/policies not found beside the package (looked in {here})")
    return here


def _fmt_rate(row: Row) -> str:
    if row.per_second is None:
        return "-"
    return f"{row.per_second:,.0f} {row.unit}"


def print_table(rows: list[Row]) -> None:
    headers = ("section", "data", "policy", "before", "after", "throughput")
    cells = [(r.section, r.data, r.policy, r.before, r.after, _fmt_rate(r)) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("  ".join("-" * w for w in widths))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)))


def run_demo(out_dir: str | Path = "augkit-demo", sections: list[str] | None = None) -> int:
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    chosen = sections or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        raise AugkitError(f"demo section {unknown[0]!r}; allowed: {', '.join(SECTIONS)}")
    rows: list[Row] = []
    start = time.perf_counter()
    for name in chosen:
        try:
            module = importlib.import_module(SECTIONS[name])
        except ModuleNotFoundError as exc:
            print(f"[{name}] skipped: {exc}")
            continue
        t0 = time.perf_counter()
        rows += module.run(out, policies_dir())
        print(f"[{name}] done in {time.perf_counter() - t0:.1f} s")
    print()
    print_table(rows)
    pictures = sorted({r.picture for r in rows if r.picture})
    print()
    print(f"pictures written to {out}/:")
    for p in pictures:
        print(f"  {p}")
    print(f"demo finished in {time.perf_counter() - start:.1f} s")
    return 0
