"""``augkit bench``: time augkit against the anchor libraries and report the ratios.

Examples::

    augkit bench --quick                        # every suite, tiny sizes, table on stdout
    augkit bench --suite graph --suite loader   # some suites, full sizes
    augkit bench --markdown benchmarks/RESULTS.md --out benchmarks/results.json --plot r.png
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence

from augkit.errors import AugkitError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="augkit bench",
        description="Throughput of augkit against the library a user would pick instead, "
        "interleaved on the same input; prints a markdown table.",
    )
    p.add_argument("--suite", action="append", metavar="NAME",
                   help="run only this suite (repeatable); default: every suite")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                   help="cases for this device (cuda cases are skipped without a GPU)")
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes and 5 short rounds: a smoke run (< 2 minutes)")
    p.add_argument("--out", metavar="FILE.json", help="write the results as JSON")
    p.add_argument("--markdown", metavar="FILE.md", help="write the results page as markdown")
    p.add_argument("--plot", metavar="FILE.png", help="bar chart of the speed ratios")
    p.add_argument("--threads", type=int, metavar="N",
                   help="threads for torch, OpenCV and numba alike (default: torch's count)")
    p.add_argument("--budget-s", type=float, metavar="SECONDS",
                   help="time budget per case over all contenders (default: the mode's); the "
                        "minimum rounds run regardless")
    p.add_argument("--case", metavar="TEXT", help="only cases whose name contains TEXT")
    p.add_argument("--suite-module", action="append", default=[], metavar="MODULE",
                   help="also import this module as a suite (a third party's, or a test's)")
    p.add_argument("--list", action="store_true", help="list suites and cases; time nothing")
    p.add_argument("--render", metavar="FILE.json", nargs="+",
                   help="time nothing: write the markdown page (and --plot, --out) of saved "
                        "result files, e.g. after the report gained a column; several files "
                        "(one suite each, from one machine) make one page")
    p.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    return p


def _list(args: argparse.Namespace) -> int:
    from augkit.benchmarks import discovery

    modules = discovery.discover(args.suite_module)
    if args.suite:
        modules = [m for m in modules if m.suite in args.suite or m.error]
    discovery.collect(modules, args.quick, args.device)
    for m in modules:
        if m.error:
            print(f"{m.module}: {m.error}")
            continue
        print(f"{m.suite} ({m.module}): {len(m.cases)} cases")
        for c in m.cases:
            if args.case and args.case not in c.name:
                continue
            anchors = ", ".join(a.label for a in c.anchors) or "no anchor"
            print(f"  {c.name} [{c.size} {c.size_unit}, {c.device}] "
                  f"transforms: {', '.join(c.transforms)}; vs {anchors}")
    return 0


def _render(args: argparse.Namespace) -> int:
    import json

    from augkit.benchmarks import report
    from augkit.benchmarks.merge import merge
    from augkit.benchmarks.validate import validate

    docs = []
    for path in args.render:
        try:
            with open(path) as fh:
                doc = json.load(fh)
        except (OSError, ValueError) as exc:
            problems = [str(exc)]
        else:
            problems = validate(doc)
        if problems:
            print(f"augkit bench: error: --render {path}: {problems[0]}; allowed: a file "
                  "written by augkit bench --out", file=sys.stderr)
            return 2
        docs.append(doc)
    try:
        doc = merge(docs)
    except AugkitError as exc:
        print(f"augkit bench: error: --render: {exc}", file=sys.stderr)
        return 2
    page = report.markdown(doc)
    print(page)
    if args.out:
        report.write_json(doc, args.out)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(page)
    if args.plot:
        report.plot(doc, args.plot)
    return 0


def _passive_omp() -> None:
    """OMP_WAIT_POLICY=PASSIVE unless the caller set a policy, before torch loads libgomp.

    The harness interleaves contenders call by call. With libgomp's default policy the
    OpenMP threads of a torch op keep spinning after it returns, on the cores the next
    contender needs, and slow it down. Passive waiting gives every contender the machine as
    it would find it in its own loop."""
    import os

    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry of ``augkit bench ARGS``; returns the exit status (1 when something raised)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _passive_omp()
    args = build_parser().parse_args(argv)
    if args.threads is not None and args.threads < 1:
        print("augkit bench: error: --threads: got a number < 1; allowed: 1 or more",
              file=sys.stderr)
        return 2
    if args.budget_s is not None and not args.budget_s > 0:
        print("augkit bench: error: --budget-s: got a number <= 0; allowed: seconds > 0",
              file=sys.stderr)
        return 2
    if args.list:
        return _list(args)
    if args.render:
        return _render(args)

    import dataclasses

    from augkit.benchmarks import harness, report
    from augkit.benchmarks.timing import Settings

    settings = Settings.for_mode(args.quick)
    if args.budget_s is not None:
        settings = dataclasses.replace(settings, budget_s=args.budget_s)
    try:
        doc = harness.run(
            args.suite,
            device=args.device,
            quick=args.quick,
            extra_modules=args.suite_module,
            case_filter=args.case,
            threads=args.threads,
            command=shlex.join(["augkit", "bench", *argv]),
            progress=not args.no_progress,
            settings=settings,
        )
    except AugkitError as exc:
        print(f"augkit bench: error: {exc}", file=sys.stderr)
        return 2

    page = report.markdown(doc)
    print(page)
    if args.out:
        report.write_json(doc, args.out)
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(page)
    if args.plot:
        report.plot(doc, args.plot)

    per_suite = ", ".join(f"{s['module']} {s['elapsed_s']:.1f}s" for s in doc["suites"])
    print(f"augkit bench: {len(doc['cases'])} cases in {doc['elapsed_s']:.1f} s ({per_suite})",
          file=sys.stderr)
    errs = report.problems(doc)
    if errs:
        print(f"augkit bench: {len(errs)} error(s); first: {errs[0]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
