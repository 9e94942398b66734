"""Turn a result document (see README.md) into JSON, a markdown page and a bar chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RATIO_HEADER = "speed ratio augkit÷anchor (anchor time / augkit time; >1: augkit faster)"
FLOOR_HEADER = "augkit × floor (augkit time / floor time)"
MIN_RATIO_HEADER = "ratio of the fastest rounds (anchor min / augkit min)"


def write_json(doc: dict[str, Any], path: str | Path) -> None:
    Path(path).write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")


# ---- formatting --------------------------------------------------------------------------------


def si(x: float | None, digits: int = 3) -> str:
    """1234567 -> '1.23M'."""
    if x is None:
        return "–"
    for div, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.{digits}g}{suffix}"
    return f"{x:.{digits}g}"


def human_bytes(n: int | None) -> str:
    if n is None:
        return "–"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _ratio(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x:.2f}×" if x < 100 else f"{x:.0f}×"


def _throughput(res: dict[str, Any], unit: str) -> str:
    if res["status"] != "ok":
        return f"{res['status']}: {res['reason']}" if res["reason"] else res["status"]
    return f"{si(res['throughput'])} {unit}"


def _goal(rec: dict[str, Any], res: dict[str, Any] | None) -> str:
    parts = []
    if rec.get("goal"):
        parts.append(rec["goal"])
    if res is not None and res.get("goal_ratio") is not None:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[res["goal_met"]]
        parts.append(f"ratio ≥ {res['goal_ratio']:g}: {verdict}")
    return "; ".join(parts)


# ---- markdown ----------------------------------------------------------------------------------


# How the rounds ordered the contenders (settings.round_order; files without it: fixed).
_ORDERS = {
    "fixed": "augkit, anchor, ..., floor, augkit, ...",
    "balanced": "every contender once per round, in orders that put each right after each "
                "other equally often",
}


def _pause_lines(pauses: dict[str, Any] | None) -> list[str]:
    """The host-pause probe (absent from result files older than it)."""
    if not pauses:
        return []

    def one(p: dict[str, Any]) -> str:
        return (f"{100 * p['lost_share']:.0f} % of {p['wall_s']:.1f} s lost in {p['gaps']} "
                f"gaps ≥ 2 ms, largest {1e3 * p['max_gap_s']:.0f} ms")

    return [f"- Host pauses (a spin on the clock; ~0 % on a quiet machine): at start "
            f"{one(pauses['start'])}; at end {one(pauses['end'])}"]


def _isa(machine: dict[str, Any]) -> str:
    """`` (znver3, avx2)``: what the kernels were compiled for; empty in older result files."""
    parts = [machine.get(k) for k in ("cpu_arch", "simd")]
    parts = [p for p in parts if p]
    return f" ({', '.join(parts)})" if parts else ""


def _gpu(gpu: dict[str, Any] | None, torch_version: str | None) -> str:
    """The card, its memory, driver, CUDA and torch versions, in one phrase."""
    if not gpu:
        return "none"
    parts = [f"{gpu['count']} x {gpu['name']}" if gpu["count"] > 1 else gpu["name"],
             human_bytes(gpu["memory_bytes"])]
    if gpu.get("capability"):
        parts.append(f"compute capability {gpu['capability']}")
    if gpu.get("driver"):
        parts.append(f"driver {gpu['driver']}")
    parts.append(f"CUDA {gpu['cuda'] or '?'}")
    if torch_version:
        parts.append(f"torch {torch_version}")
    return f"{parts[0]} ({', '.join(parts[1:])})"


def header_lines(doc: dict[str, Any]) -> list[str]:
    m, th = doc["machine"], doc["threads"]
    gpu = _gpu(m.get("gpu"), doc["versions"].get("torch"))
    mem = human_bytes(m["memory_bytes"]) if m.get("memory_bytes") else "?"
    versions = ", ".join(f"{k} {v}" for k, v in doc["versions"].items() if v)
    absent = [k for k, v in doc["versions"].items() if not v]
    load = doc.get("load_average") or {}
    s = doc["settings"]
    lines = [
        f"- Command: `{doc['command']}`",
        f"- Date: {doc['created']} · mode: {'quick' if doc['quick'] else 'full'} · "
        f"device: {doc['device']} · total {doc['elapsed_s']:.0f} s wall, "
        f"{doc['cpu_s']:.0f} s CPU",
        f"- Machine: {m['cpu']}{_isa(m)}, {m['logical_cpus']} logical CPUs "
        f"({m['usable_cpus']} usable), "
        f"{mem} RAM, GPU: {gpu}; {m['platform']}, Python {m['python']}",
        f"- Threads: torch {th['torch_threads']} (interop {th['torch_interop_threads']}), "
        f"OpenCV {th['opencv_threads'] if th['opencv_threads'] is not None else 'not loaded'}, "
        f"numba {th['numba_threads'] if th['numba_threads'] is not None else 'not loaded'}, "
        f"OMP_NUM_THREADS={th['OMP_NUM_THREADS'] or 'unset'}, "
        f"OMP_WAIT_POLICY={th.get('OMP_WAIT_POLICY') or 'unset'}",
        f"- Load average (1, 5, 15 min) at start {load.get('start')}, at end {load.get('end')}",
        *_pause_lines(doc.get("host_pauses")),
        f"- Versions: {versions}" + (f" (not installed: {', '.join(absent)})" if absent else ""),
        f"- Method: per contender, {s['warmup']} warm-up call(s), then rounds of interleaved "
        f"measurements ({_ORDERS[s.get('round_order', 'fixed')]}), each measurement repeating the "
        f"call until it lasts ≥ {s['target_s'] * 1e3:g} ms; the figure is the median of "
        f"{s['min_runs']}–{s['max_runs']} rounds ({s['clock']}, CUDA synchronised before each "
        "clock read).",
    ]
    return lines


def _min_ratio(augkit: dict[str, Any], anchor: dict[str, Any]) -> float | None:
    """Anchor's fastest round over augkit's: the ratio with the least pause noise in it
    (pauses only ever add time); beside the median ratio, never instead of it."""
    a, b = augkit.get("min_s"), anchor.get("min_s")
    return b / a if a and b else None


def results_table(doc: dict[str, Any]) -> list[str]:
    cols = ["suite", "case", "size", "augkit", "anchor", "anchor throughput", RATIO_HEADER,
            MIN_RATIO_HEADER, "rounds", FLOOR_HEADER, "augkit peak memory", "goal"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for rec in doc["cases"]:
        if "soak" in rec:  # nothing to compare: the soak table has these
            continue
        unit = rec["unit"]
        augkit = rec["results"][0] if rec["results"] else None
        size = f"{si(rec['size'])} {rec['size_unit']}"
        name = rec["name"] + (f" ({rec['device']})" if rec["device"] != "cpu" else "")
        if rec["status"] == "skipped" or augkit is None:
            row = [rec["suite"], name, size, f"skipped: {rec['reason']}", "", "", "", "", "", "",
                   "", ""]
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
            continue
        mem = augkit.get("memory") or {}
        first = [rec["suite"], name, size, _throughput(augkit, unit)]
        tail_floor = _ratio(rec["floor_multiple"]) if rec["floor_multiple"] else "–"
        anchors = [r for r in rec["results"] if r["role"] == "anchor"]
        if not anchors:
            row = [*first, "–", "–", "–", "–", str(augkit.get("runs") or "–"), tail_floor,
                   human_bytes(mem.get("peak_bytes")), _goal(rec, None)]
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
        for i, res in enumerate(anchors):
            lead = first if i == 0 else ["", "", "", ""]
            row = [*lead, res["label"], _throughput(res, unit), _ratio(res["speedup"]),
                   _ratio(_min_ratio(augkit, res)), str(res.get("runs") or "–"),
                   tail_floor if i == 0 else "", human_bytes(mem.get("peak_bytes")) if i == 0
                   else "", _goal(rec, res)]
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return lines


def sweep_table(doc: dict[str, Any]) -> list[str]:
    if not doc["sweeps"]:
        return []
    lines = [
        "Least-squares slope of log(time per call) against log(size), per contender: 1 is "
        "linear in the size, 0 a fixed cost per call.",
        "",
        "| suite | case | sizes | augkit slope | anchors / floor |",
        "|---|---|---|---|---|",
    ]
    for sw in doc["sweeps"]:
        sizes = ", ".join(si(s) for s in sw["sizes"]) + f" {sw['size_unit']}"
        mine = next((s["slope"] for s in sw["slopes"] if s["role"] == "augkit"), None)
        others = "; ".join(f"{s['label']}: {s['slope']:.2f}" for s in sw["slopes"]
                           if s["role"] != "augkit")
        row = [sw["suite"], sw["name"], sizes, f"{mine:.2f}" if mine is not None else "–",
               others or "–"]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return lines


def _signed_bytes(n: float) -> str:
    return ("-" if n < 0 else "+") + human_bytes(round(abs(n)))


def _soak_verdict(soak: dict[str, Any]) -> str:
    rise, allowed = soak["second_half_rise_bytes"], human_bytes(soak["allowance_bytes"])
    if soak["verdict"] == "flat":
        return f"flat (rise {_signed_bytes(rise)} < {allowed})"
    return f"GROWING (rise {_signed_bytes(rise)} ≥ {allowed})"


def soak_table(doc: dict[str, Any]) -> list[str]:
    """The soak cases (benchmarks/soak.py): rate, resident set, growth and verdict."""
    soaks = [rec for rec in doc["cases"] if "soak" in rec]
    if not soaks:
        return []
    lines = [
        "Each soak calls one policy many times in one process, after a warm-up, and reads "
        "the resident set (RSS) at evenly spaced points of the run. Growth is the "
        "median slope of RSS between every two readings of the second half of the calls "
        "(Theil-Sen); the verdict is flat when the rise that growth gives over the second "
        "half stays under the allowance: "
        "allocator noise is a step of bounded size, a leak grows with every call. Recycled "
        "buffers: what augkit's recycled output buffers (outputs of 8 MiB and up) hold at "
        "the end.",
        "",
        "| suite | case | calls | calls/s | RSS after warm-up | RSS at end | RSS max "
        "| growth, second half, per 1000 calls | recycled buffers at end | verdict |",
        "|" + "---|" * 10,
    ]
    for rec in soaks:
        s, augkit = rec["soak"], rec["results"][0]
        lead = [rec["suite"], rec["name"], si(rec["size"])]
        if s is None:
            why = rec["reason"] or augkit["reason"]
            row = [*lead, f"{rec['status']}: {why}" if why else rec["status"], *[""] * 6]
        else:
            row = [*lead, si(s["calls_per_s"]), human_bytes(s["rss_warm_bytes"]),
                   human_bytes(s["rss_end_bytes"]), human_bytes(s["rss_max_bytes"]),
                   _signed_bytes(s["growth_bytes_per_1k_calls"]),
                   human_bytes(s["pool_end_bytes"]), _soak_verdict(s)]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return lines


def memory_table(doc: dict[str, Any]) -> list[str]:
    lines = ["| suite | case | size | contender | peak memory | method |",
             "|---|---|---|---|---|---|"]
    for rec in doc["cases"]:
        for res in rec["results"]:
            mem = res.get("memory")
            if res["status"] != "ok" or not mem:
                continue
            row = [rec["suite"], rec["name"], f"{si(rec['size'])} {rec['size_unit']}",
                   res["label"], human_bytes(mem.get("peak_bytes")), mem["method"]]
            lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return lines


def suite_table(doc: dict[str, Any]) -> list[str]:
    lines = ["| module | suite | cases | import | timing (wall) | timing (CPU) | status |",
             "|---|---|---|---|---|---|---|"]
    for s in doc["suites"]:
        status = "ok" if s["status"] == "ok" else f"error: {s['error']}"
        row = [s["module"], s["suite"] or "?", s["cases"], f"{s['import_s']:.1f} s",
               f"{s['elapsed_s']:.1f} s", f"{s['cpu_s']:.1f} s", status]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return lines


def notes(doc: dict[str, Any]) -> list[str]:
    out = []
    for rec in doc["cases"]:
        if rec["note"]:
            out.append(f"- {rec['suite']} `{rec['name']}`: {rec['note']}")
        for res in rec["results"]:
            if res["note"]:
                out.append(f"- {rec['suite']} `{rec['name']}`, {res['label']}: {res['note']}")
    return list(dict.fromkeys(out))  # a note repeated over a size sweep is said once


def problems(doc: dict[str, Any]) -> list[str]:
    """Everything that went wrong (not skips): failed modules and contenders that raised."""
    out = [f"suite module {s['module']}: {s['error']}" for s in doc["suites"] if s["error"]]
    for rec in doc["cases"]:
        for res in rec["results"]:
            if res["status"] == "error":
                out.append(f"{rec['suite']} {rec['name']} [{res['label']}]: {res['reason']}")
    return out


def intro() -> str:
    """Where the page comes from and how to write it again."""
    return (
        "Written by `augkit bench --markdown FILE`; `make bench` regenerates "
        "benchmarks/RESULTS.md and benchmarks/results.json on this machine (run it when the "
        "machine is otherwise idle: ratios within one run are what count), and `augkit bench "
        "--render benchmarks/results.json --markdown benchmarks/RESULTS.md` rewrites this page "
        "from the saved results without timing anything. On a GPU machine, `augkit bench "
        "--device cuda --markdown benchmarks/RESULTS-cuda.md` adds the CUDA cases; the card is "
        "named below. Format and method: benchmarks/README.md."
    )


def how_to_read() -> list[str]:
    """What the columns and the header mean, for a reader without the README."""
    return [
        "How to read the table: the speed ratio is anchor time ÷ augkit time for the same "
        "work on the same input, so above 1 augkit is faster and below 1 the anchor is. "
        "Throughputs are in the unit of each case. \"× floor\" is augkit's time over the "
        "floor's: copying the case's input into a preallocated buffer (how far from memory "
        "bandwidth; 1 would be copy speed) unless the notes say otherwise (the loader's "
        "floor is the same DataLoader without augmentation). Peak memory is the extra "
        "memory of one augkit call (method below). The ratio of the fastest rounds is the "
        "same ratio from each side's fastest round instead of its median: pauses of the "
        "machine only ever add time, so where the host-pause line above is far from 0 % "
        "and a case had few rounds (its \"rounds\" column), that ratio is the steadier of "
        "the two; the goals are judged on the median one.",
        "",
        "The goal column says what a case sets out to show and, per anchor, a target speed "
        "ratio: \"met\" when the median ratio reaches it, \"MISSED\" when it does not. The "
        "Machine line names, in parentheses where known, the CPU that compiled kernels "
        "(numba) were built for and its widest vector extension: machines reporting the "
        "same CPU model can differ there, and so can the ratios against the same "
        "anchors. Compare rows within this page; compare pages only from the same machine.",
    ]


def markdown(doc: dict[str, Any], title: str = "augkit benchmark results") -> str:
    """The results page: header, how to read it, and the results, sweep, soak, memory,
    suite, note and error tables."""
    lines = [f"# {title}", "", intro(), "", *header_lines(doc), "", *how_to_read(), "",
             "## Results", "", *results_table(doc), ""]
    sweep = sweep_table(doc)
    if sweep:
        lines += ["## Size sweeps", "", *sweep, ""]
    soak = soak_table(doc)
    if soak:
        lines += ["## Soak", "", *soak, ""]
    lines += ["## Peak memory", "",
              "Extra memory of one call, measured apart from the timed calls. CPU: the larger "
              "of tracemalloc's peak (Python objects, numpy) and the rise of the process's "
              "resident-set high-water mark (torch's allocator included); both are lower "
              "bounds. CUDA: torch.cuda.max_memory_allocated above the memory held before.",
              "", *memory_table(doc), ""]
    lines += ["## Suites", "", *suite_table(doc), ""]
    note_lines = notes(doc)
    if note_lines:
        lines += ["## Notes", "", *note_lines, ""]
    errs = problems(doc)
    if errs:
        lines += ["## Errors", "", *[f"- {_cell(e)}" for e in errs], ""]
    return "\n".join(lines)


# ---- chart ---------------------------------------------------------------------------------------


def plot(doc: dict[str, Any], path: str | Path) -> int:
    """Horizontal bars of the speed ratios (log scale, 1 marked); returns the number of bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, values = [], []
    for rec in doc["cases"]:
        for res in rec["results"]:
            if res["role"] == "anchor" and res["speedup"]:
                label = f"{rec['suite']} {rec['name']} @{si(rec['size'])} vs {res['label']}"
                labels.append(label if len(label) <= 80 else label[:79] + "…")
                values.append(res["speedup"])
    height = max(2.5, 0.28 * len(values) + 1.2)
    fig, ax = plt.subplots(figsize=(10, height))
    if values:
        y = list(range(len(values)))[::-1]
        colors = ["tab:green" if v >= 1 else "tab:red" for v in values]
        ax.barh(y, values, color=colors)
        ax.set_yticks(y, labels, fontsize=7)
        ax.set_xscale("log")
        ax.axvline(1.0, color="black", linewidth=0.8)
        # Room for the value labels right of the longest bar, and 1 always in view.
        ax.set_xlim(min(min(values), 1.0) / 2, max(max(values), 1.0) * 4)
        for yi, v in zip(y, values, strict=True):
            ax.text(v, yi, f" {v:.2f}×", va="center", fontsize=7)
    else:
        ax.text(0.5, 0.5, "no anchor was timed", ha="center", va="center")
        ax.set_axis_off()
    ax.set_xlabel("speed ratio = anchor time / augkit time (> 1: augkit faster)")
    mode = "quick" if doc["quick"] else "full"
    ax.set_title(f"augkit vs anchors ({doc['device']}, {mode}, {doc['created']})", fontsize=9)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return len(values)
