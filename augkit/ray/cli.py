"""``augkit resample`` and ``augkit augment``: Parquet in, Parquet out, through Ray Data.

Without ``--address`` a local Ray starts inside the command (nothing to start by hand) and
stops at its end; with an address (``auto``, or ``ray://host:10001``) the command joins that
cluster. A file or a folder of Parquet files is read; the output folder receives Ray Data's
files (``augment --epochs N``: one folder ``epoch=<e>`` per epoch, read back with the epoch as
a column). On a terminal Ray Data shows its progress bars; a summary ends the run.

Ray is imported only when one of the two commands runs: ``augkit --help`` stays light.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from augkit._cli_args import positive_int
from augkit.errors import InputError


def register(sub: Any) -> None:
    """Add the ``resample`` and ``augment`` subcommands to the ``augkit`` parser."""
    p = sub.add_parser("resample", help="SMOTE / ADASYN / random over-sampling of a Parquet "
                       "table on Ray Data (the ray extra)")
    p.add_argument("--policy", required=True,
                   help="a policy file whose dataset stage is one smote, adasyn or "
                        "random_oversample step")
    p.add_argument("--input", required=True, help="a Parquet file or a folder of them")
    p.add_argument("--output", required=True, help="the folder for the resampled Parquet")
    p.add_argument("--label", required=True, help="the class label column")
    p.add_argument("--features", help="comma-separated feature columns (default: every "
                   "column but the label)")
    p.add_argument("--seed", type=int, help="the sampler's random_state (default: the "
                   "policy's)")
    _ray_options(p)
    p.set_defaults(func=_cmd_resample)

    p = sub.add_parser("augment", help="a policy's sample stage over every row of a Parquet "
                       "dataset on Ray Data (the ray extra)")
    p.add_argument("--policy", required=True, help="a policy file")
    p.add_argument("--input", required=True, help="a Parquet file or a folder of them")
    p.add_argument("--output", required=True, help="the folder for the augmented Parquet")
    p.add_argument("--epochs", type=positive_int, default=1,
                   help="epochs to write, each to OUTPUT/epoch=<e> (default 1)")
    p.add_argument("--columns", help="comma-separated columns to augment (default: all but "
                   "--id-column)")
    p.add_argument("--id-column", help="an integer column holding each row's item index "
                   "(default: the row's position)")
    p.add_argument("--views", choices=["columns", "rows"], default="columns",
                   help="where a policy's views go (default: columns)")
    p.add_argument("--num-gpus", type=float, help="GPUs per worker task")
    _ray_options(p)
    p.set_defaults(func=_cmd_augment)


def _ray_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--address", help="a running Ray cluster to join (e.g. auto or "
                   "ray://host:10001); default: a local Ray inside this command")
    p.add_argument("--num-cpus", type=positive_int, help="CPUs of the local Ray (default: all)")
    p.add_argument("--object-store-mb", type=positive_int,
                   help="object store size of the local Ray, in MiB")


class _Session:
    """A Ray connection for one command: joined, or started here and stopped at the end."""

    def __init__(self, args: argparse.Namespace) -> None:
        from augkit.ray._engine import require_ray

        self.ray = require_ray()
        self.started = False
        self.args = args

    def __enter__(self) -> Any:
        ray, args = self.ray, self.args
        if not ray.is_initialized():
            os.environ.setdefault("RAY_DEDUP_LOGS", "0")
            if args.address:
                ray.init(address=args.address, log_to_driver=False)
            else:
                store = args.object_store_mb and args.object_store_mb << 20
                ray.init(num_cpus=args.num_cpus, object_store_memory=store,
                         include_dashboard=False, log_to_driver=False)
            self.started = True
        from ray.data import DataContext

        DataContext.get_current().enable_progress_bars = sys.stderr.isatty()
        return ray

    def __exit__(self, *exc: Any) -> None:
        if self.started:
            self.ray.shutdown()


def _read(ray: Any, path: str) -> Any:
    if "://" not in path and not os.path.exists(path):
        raise InputError(f"--input {path!r} does not exist; allowed: a Parquet file or a "
                         "folder of Parquet files")
    return ray.data.read_parquet(path)


def _cmd_resample(args: argparse.Namespace) -> int:
    from augkit.policy import load_policy

    policy = load_policy(args.policy)
    features = args.features.split(",") if args.features else None
    with _Session(args) as ray:
        from augkit.ray.resample import resample_with_counts

        start = time.perf_counter()
        out, before, after = resample_with_counts(_read(ray, args.input), policy,
                                                  label=args.label, features=features,
                                                  seed=args.seed)
        out.write_parquet(args.output)
        seconds = time.perf_counter() - start
    rows_in, rows_out = sum(before.values()), sum(after.values())
    print(f"resampled {args.input} -> {args.output}")
    print(f"  {'class':>12}  {'rows in':>12}  {'rows out':>12}")
    for c in sorted(before):
        shown = c.item() if hasattr(c, "item") else c
        print(f"  {shown!s:>12}  {before[c]:>12}  {after[c]:>12}")
    print(f"  {'total':>12}  {rows_in:>12}  {rows_out:>12}")
    print(f"  {seconds:.2f} s, {rows_out / max(seconds, 1e-9):,.0f} rows/s written")
    return 0


def _cmd_augment(args: argparse.Namespace) -> int:
    from augkit.policy import load_policy

    policy = load_policy(args.policy)
    columns = args.columns.split(",") if args.columns else None
    with _Session(args) as ray:
        from augkit.ray._engine import preserved_order
        from augkit.ray.offline import augment

        start = time.perf_counter()
        dataset = _read(ray, args.input)
        # Read once for every epoch, in file order: a row's position is its item index.
        with preserved_order(dataset):
            dataset = dataset.materialize()
        rows_in = dataset.count()
        rows_out = 0
        for epoch in range(args.epochs):
            out = augment(dataset, policy, epoch=epoch, id_column=args.id_column,
                          columns=columns, views=args.views, num_gpus=args.num_gpus)
            out = out.materialize()
            rows_out += out.count()
            out.write_parquet(os.path.join(args.output, f"epoch={epoch}"))
        seconds = time.perf_counter() - start
    print(f"augmented {args.input} -> {args.output}")
    print(f"  rows in: {rows_in}, epochs: {args.epochs}, rows out: {rows_out}")
    print(f"  {seconds:.2f} s, {rows_out / max(seconds, 1e-9):,.0f} rows/s written")
    return 0
