"""``augkit demo``: the example policies on bundled real data, with a table of what changed,
the throughput of each policy, and before/after pictures in an output folder.

Each family contributes a section, a module with ``run(out_dir, policies_dir) -> list[Row]``;
the core only runs them and prints the table (it knows no modality).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
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


def run_demo(
    out_dir: str | Path = "augkit-demo",
    sections: list[str] | None = None,
    jobs: int = 2,
    rows_file: str | Path | None = None,
) -> int:
    """Run the sections, print the table and where the pictures are.

    With ``jobs >= 2`` the graph section runs in a child process beside the others: most of
    the demo's time is imports (torch, and PyG, which imports torch._dynamo), and the two
    halves import in parallel on two cores. ``rows_file`` is how such a child hands its rows
    back (JSON) instead of printing a table.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise AugkitError(f"demo: jobs: got {jobs!r}; allowed: an integer >= 1")
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    chosen = sections or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        raise AugkitError(f"demo section {unknown[0]!r}; allowed: {', '.join(SECTIONS)}")
    start = time.perf_counter()
    child = None
    if jobs >= 2 and "graph" in chosen and len(chosen) > 1 and rows_file is None:
        child = _start_child(out, "graph")
        chosen = [s for s in chosen if s != "graph"]
    rows = _run_sections(chosen, out)
    if child is not None:
        rows += _finish_child(*child)
        order = list(SECTIONS)
        rows.sort(key=lambda r: order.index(r.section))
    if rows_file is not None:
        Path(rows_file).write_text(json.dumps([asdict(r) for r in rows]))
        return 0
    print()
    print_table(rows)
    pictures = sorted({r.picture for r in rows if r.picture})
    print()
    print(f"pictures written to {out}/:")
    for p in pictures:
        print(f"  {p}")
    print(f"demo finished in {time.perf_counter() - start:.1f} s")
    return 0


def _run_sections(chosen: list[str], out: Path) -> list[Row]:
    rows: list[Row] = []
    for name in chosen:
        try:
            module = importlib.import_module(SECTIONS[name])
        except ModuleNotFoundError as exc:
            print(f"[{name}] skipped: {exc}", flush=True)
            continue
        t0 = time.perf_counter()
        rows += module.run(out, policies_dir())
        print(f"[{name}] done in {time.perf_counter() - t0:.1f} s", flush=True)
    return rows


def _start_child(out: Path, section: str) -> tuple[subprocess.Popen, Path, str]:
    fd, rows_path = tempfile.mkstemp(prefix=f"augkit-demo-{section}-", suffix=".json")
    os.close(fd)
    cmd = [sys.executable, "-m", "augkit", "demo", "--out", str(out), "--section", section,
           "--jobs", "1", "--rows-file", rows_path]
    return subprocess.Popen(cmd), Path(rows_path), section


def _finish_child(proc: subprocess.Popen, rows_path: Path, section: str) -> list[Row]:
    try:
        if proc.wait() != 0:
            raise AugkitError(f"demo section {section!r} failed (exit {proc.returncode}); "
                              f"rerun it alone: augkit demo --section {section}")
        return [Row(**r) for r in json.loads(rows_path.read_text() or "[]")]
    finally:
        rows_path.unlink(missing_ok=True)
