"""``augkit search``: run (or resume) a policy search from the command line.

    augkit search SPACE --objective module:function --trials N [--sampler tpe|random|grid]
        [--storage URL] [--study-name NAME] [--out best.yaml] [--plots DIR]
    augkit search --resume --study-name NAME [--storage URL] --objective module:function ...

The study is stored in ``sqlite:///study.db`` unless ``--storage`` says otherwise, so a killed
search resumes where it stopped; ``--resume`` takes the space from the stored study.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

from augkit.errors import AugkitError

DEFAULT_STORAGE = "sqlite:///study.db"


def register(sub: Any) -> None:
    """Add the ``search`` subcommand to the ``augkit`` parser's subparsers."""
    p = sub.add_parser("search", help="search a policy space with Optuna (pip install "
                       "'augkit[search]')")
    p.add_argument("space", nargs="?", metavar="SPACE",
                   help="a space file: a policy whose values may be distributions")
    p.add_argument("--objective", required=True, metavar="MODULE:FUNCTION",
                   help="objective(policy, trial) -> number, e.g. "
                   "augkit.search.objectives:imbalance")
    p.add_argument("--trials", type=int, default=20, help="trials to run (default 20)")
    p.add_argument("--sampler", choices=["tpe", "random", "grid"], default="tpe")
    p.add_argument("--direction", choices=["maximize", "minimize"], default="maximize")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--storage", default=DEFAULT_STORAGE,
                   help=f"Optuna storage URL (default {DEFAULT_STORAGE})")
    p.add_argument("--study-name", help="default: the space file's name without .yaml")
    p.add_argument("--resume", action="store_true",
                   help="continue the stored study (its space; SPACE may be left out)")
    p.add_argument("--timeout", type=float, help="stop starting trials after this many seconds")
    p.add_argument("--out", help="write the best policy here (YAML)")
    p.add_argument("--plots", help="write history, importances and parallel-coordinate PNGs here")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_command)


def load_objective(spec: str) -> Any:
    module, _, name = spec.partition(":")
    allowed = "allowed: module:function, e.g. augkit.search.objectives:imbalance"
    if not module or not name:
        raise AugkitError(f"--objective: got {spec!r}; {allowed}")
    try:
        target = importlib.import_module(module)
    except ImportError as exc:
        raise AugkitError(f"--objective: cannot import {module!r} ({exc}); {allowed}") from None
    function = getattr(target, name, None)
    if not callable(function):
        raise AugkitError(f"--objective: {module} has no function {name!r}; {allowed}")
    return function


def run_command(args: argparse.Namespace) -> int:
    from augkit.search.run import search, stored_space
    from augkit.search.space import load_space

    if args.trials < 0:
        raise AugkitError(f"--trials: got {args.trials}; allowed: an integer >= 0")
    if args.resume:
        if not args.study_name and not args.space:
            raise AugkitError("--resume: no study named; allowed: --study-name NAME (or the "
                              "SPACE file whose name is the study's)")
        name = args.study_name or Path(args.space).stem
        space = stored_space(args.storage, name)
    else:
        if not args.space:
            raise AugkitError("search: no SPACE given; allowed: a space file, or --resume")
        space = load_space(Path(args.space))
        name = args.study_name or Path(args.space).stem
    objective = load_objective(args.objective)
    check_outputs(args.out, args.plots)
    result = search(space, objective, trials=args.trials, sampler=args.sampler,
                    seed=args.seed, storage=args.storage, study_name=name,
                    timeout=args.timeout, direction=args.direction,
                    show_progress_bar=not args.no_progress)
    print(final_table(result))
    if args.out:
        digest = result.save_best(args.out)
        print(f"best policy {digest} -> {args.out}")
    if args.plots:
        for path in result.plots(args.plots):
            print(f"plot: {path}")
    return 0


def check_outputs(out: str | None, plots: str | None) -> None:
    """Before any trial runs: an AugkitError where ``--out`` or ``--plots`` could not be
    written at the end (a study of many trials would be stored, but its best policy lost)."""
    if out is not None:
        path = Path(out)
        if path.is_dir():
            raise AugkitError(f"--out: {out} is a folder; allowed: the path of a YAML file")
        if not path.parent.is_dir():
            raise AugkitError(f"--out: the folder {path.parent} does not exist; allowed: a file "
                              "in an existing folder")
    if plots is not None and Path(plots).exists() and not Path(plots).is_dir():
        raise AugkitError(f"--plots: {plots} is a file; allowed: a folder (made if missing)")


def final_table(result: Any, rows: int = 10) -> str:
    """The best trials (up to ``rows``), then the best policy's hash and value."""
    done = [t for t in result.study.trials if t.value is not None]
    done.sort(key=lambda t: t.value, reverse=result.study.direction.name == "MAXIMIZE")
    lines = [f"study {result.study.study_name}: {len(result.study.trials)} trials, "
             f"{len(done)} with a value"]
    failed = [t for t in result.study.trials if "error" in t.user_attrs]
    if failed:
        lines.append(f"failed: {len(failed)} (e.g. trial {failed[0].number}: "
                     f"{failed[0].user_attrs['error']})")
    if not done:
        return "\n".join(lines)
    lines.append(f"{'trial':>5}  {'value':>10}  {'policy':16}  params")
    for t in done[:rows]:
        params = ", ".join(f"{'.'.join(k.split('.')[-2:])}={_short(v)}"
                           for k, v in t.params.items())
        lines.append(f"{t.number:>5}  {t.value:>10.5g}  {t.user_attrs.get('policy_hash', '-'):16}"
                     f"  {params}")
    lines.append(f"best: trial {result.study.best_trial.number}, value "
                 f"{result.best_value:.6g}, policy {result.best_hash}")
    return "\n".join(lines)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
