"""Ray suite: ``augkit.ray`` on a local Ray (2 CPUs, object store capped at 1 GiB; 4 GiB for
the augment cases, whose 1e4 images are 1.5 GB in and out) against what a user runs in one
process: imbalanced-learn's SMOTE / ADASYN on the table in memory, and augkit's own sample
stage item by item.

- ``smote/1e6x32``: float32, 1 % minority, 8 blocks already in the object store; the result is
  materialised in the object store (the same rows as imbalanced-learn's: tests/test_ray.py).
- ``adasyn/1e6x16``: 0.5 % minority, 8 blocks.
- ``smote/parquet/1e7x32``: Parquet in, Parquet out (1.3 GB of features), against
  imbalanced-learn reading the whole table into memory and writing it back. Opt-in, for its
  size: only with ``AUGKIT_BENCH_RAY_LARGE=1`` in the environment. ``smote/parquet/1e6x32``
  is the same work at 1e6 rows, its time per row the scale the 1e7 case is held to.
- ``augment/graphs`` (1e5 small PyG graphs, serialised) and ``augment/images`` (224 x 224
  images, uint8 CHW): ``augkit.ray.augment`` over 2 workers against the same policy item by
  item in one process (``policy.run_sample``), and against augkit.ray's own batch function on
  the same batches in one process without Ray (what two workers alone gain).

Peak memory is the harness's (driver process only: Ray's workers and object store are other
processes; the object store is bounded by its cap).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from typing import Any

import numpy as np

from augkit.benchmarks.case import Anchor, Case

SUITE = "ray"
_STORE_BYTES = 1 << 30
_AUGMENT_STORE_BYTES = 4 << 30  # holds the 1e4 images in and out (1.5 GB each) unspilled
_LARGE = "AUGKIT_BENCH_RAY_LARGE"
_BATCH = 64
_PARQUET_SMALL = 1_000_000  # the Parquet case's scale for time per row, run by default


def _local_ray(store_bytes: int = _STORE_BYTES) -> Any:
    """The local Ray of this suite with an object store of ``store_bytes`` (started once per
    process and left up for the next case; restarted when a case needs another store)."""
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    import ray
    from ray.data import DataContext

    if ray.is_initialized():
        store = ray.cluster_resources().get("object_store_memory", 0)
        if abs(store - store_bytes) > 0.01 * store_bytes:
            ray.shutdown()
    if not ray.is_initialized():
        ray.init(num_cpus=2, object_store_memory=store_bytes, include_dashboard=False,
                 log_to_driver=False, configure_logging=False)
    ctx = DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    return ray


def _imbalanced(n: int, d: int, minority: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < minority).astype(np.int64)
    X = rng.standard_normal((n, d), dtype=np.float32)
    X += y[:, None].astype(np.float32)
    return X, y


def _arrow(X: np.ndarray, y: np.ndarray) -> Any:
    import pyarrow as pa

    return pa.table({**{f"f{j}": X[:, j] for j in range(X.shape[1])}, "y": y})


def _blocks(ray: Any, X: np.ndarray, y: np.ndarray, blocks: int) -> Any:
    parts = np.array_split(np.arange(len(y)), blocks)
    return ray.data.from_arrow_refs([ray.put(_arrow(X[p], y[p])) for p in parts])


def _sampler_case(name: str, n: int, d: int, minority: float, quick: bool) -> Case:
    imb_name = name.upper()

    def setup() -> Any:
        ray = _local_ray()
        X, y = _imbalanced(n, d, minority)
        return ray, _blocks(ray, X, y, 8), X, y

    def run(state: Any) -> Any:
        import augkit.ray
        from augkit.plugins.imbalance import samplers

        _, ds, _, _ = state
        out = augkit.ray.fit_resample(ds, getattr(samplers, imb_name)(random_state=0),
                                      label="y")
        return out.materialize()

    def anchor(state: Any) -> Any:
        from imblearn import over_sampling

        _, _, X, y = state
        return getattr(over_sampling, imb_name)(random_state=0).fit_resample(X, y)

    size = f"{n:.0e}".replace("+0", "").replace("+", "")
    return Case(
        suite=SUITE, name=f"{name}/{size}x{d}", transforms=(name,), size=n, size_unit="rows",
        items=n, unit="rows/s", setup=setup, run=run,
        anchors=[Anchor(f"imbalanced-learn {imb_name}.fit_resample in memory", anchor,
                        requires=("imblearn",), note="the same rows bit for bit",
                        goal_ratio=None if quick else 0.5)],
        requires=("ray", "imblearn"),
        note=f"float32, {minority:.1%} minority, 8 blocks in the object store, local Ray "
             "with 2 CPUs; result materialised",
        goal=">= 0.5x imbalanced-learn in memory, the same rows",
    )


def _parquet_case(n: int, d: int) -> Case:
    def setup() -> Any:
        import pyarrow.parquet as pq

        ray = _local_ray()
        # One folder per size, reused by the next run: the disk holds one copy of each.
        folder = os.path.join(tempfile.gettempdir(), f"augkit-ray-bench-{n}x{d}")
        source = os.path.join(folder, "in")
        os.makedirs(source, exist_ok=True)
        step = n // 8
        for part in range(8):  # written in parts: the table is never whole in this process
            X, y = _imbalanced(step, d, 0.01, seed=part)
            pq.write_table(_arrow(X, y), os.path.join(source, f"part-{part}.parquet"))
        return {"ray": ray, "folder": folder, "source": source}

    def _target(state: dict, who: str) -> str:
        """The contender's output folder, emptied (both pay for that): the disk holds one
        output per contender, not one per round."""
        import shutil

        target = os.path.join(state["folder"], who)
        shutil.rmtree(target, ignore_errors=True)
        return target

    def run(state: dict) -> Any:
        import augkit.ray
        from augkit.plugins.imbalance.samplers import SMOTE

        ds = state["ray"].data.read_parquet(state["source"])
        out = augkit.ray.fit_resample(ds, SMOTE(random_state=0), label="y")
        out.write_parquet(_target(state, "ray"))

    def anchor(state: dict) -> Any:
        import pyarrow.parquet as pq
        from imblearn.over_sampling import SMOTE

        table = pq.read_table(state["source"])
        X = np.column_stack([table.column(f"f{j}").to_numpy() for j in range(d)])
        y = table.column("y").to_numpy()
        X_res, y_res = SMOTE(random_state=0).fit_resample(X, y)
        target = _target(state, "imblearn")
        os.makedirs(target)
        pq.write_table(_arrow(X_res, y_res), os.path.join(target, "out.parquet"))

    size = f"{n:.0e}".replace("+0", "").replace("+", "")
    return Case(
        suite=SUITE, name=f"smote/parquet/{size}x{d}", transforms=("smote",), size=n,
        size_unit="rows", items=n, unit="rows/s", setup=setup, run=run,
        anchors=[Anchor("imbalanced-learn SMOTE: read whole, resample, write", anchor,
                        requires=("imblearn", "pyarrow"),
                        note="needs the whole table in memory (its peak RSS)")],
        requires=("ray", "imblearn", "pyarrow"),
        note="Parquet in (8 files), Parquet out, 1 % minority, object store capped at 1 GiB",
        goal="" if n <= _PARQUET_SMALL else
        f"finishes; driver peak RSS <= 1 GB; time per row within 1.3x of "
        f"smote/parquet/1e6x{d}",
    )


def _augment_case(kind: str, count: int) -> Case:
    def setup() -> Any:
        import torch

        from augkit.policy import load_policy

        ray = _local_ray(_AUGMENT_STORE_BYTES)
        if kind == "graphs":
            from torch_geometric.datasets import FakeDataset

            from augkit.ray.offline import graph_to_bytes

            items = list(FakeDataset(num_graphs=count, avg_num_nodes=12, num_channels=8))
            rows = [{"graph": graph_to_bytes(g)} for g in items]
            policy = load_policy("seed: 0\nsample:\n  - edge_dropout: {p: 0.2}\n"
                                 "  - feature_masking: {p: 0.2, mode: feature, fill: zero}\n")
            column = "graph"
        else:
            rng = np.random.default_rng(0)
            arrays = [rng.integers(0, 256, (3, 224, 224), dtype=np.uint8) for _ in range(count)]
            items = [torch.from_numpy(a) for a in arrays]
            rows = [{"image": a} for a in arrays]
            policy = load_policy("seed: 0\nsample:\n  - gaussian_blur: {sigma: [0.5, 1.5]}\n"
                                 "  - random_erasing: {scale: [0.02, 0.2]}\n")
            column = "image"
        ds = ray.data.from_items(rows, override_num_blocks=8).materialize()
        column_values = [r[column] for r in rows]
        batches = [{column: np.stack(column_values[i:i + _BATCH]) if kind == "images"
                    else _object_column(column_values[i:i + _BATCH]),
                    "i": np.arange(i, min(i + _BATCH, count))}
                   for i in range(0, count, _BATCH)]
        return {"ds": ds, "items": items, "policy": policy, "column": column,
                "batches": batches}

    def run(state: dict) -> Any:
        import augkit.ray

        return augkit.ray.augment(state["ds"], state["policy"], columns=state["column"],
                                  batch_size=_BATCH).materialize()

    def anchor(state: dict) -> Any:
        policy = state["policy"]
        root = policy.root
        return [policy.run_sample(item, root, 0, i) for i, item in enumerate(state["items"])]

    def same_batches(state: dict) -> Any:
        from augkit.ray.offline import _Augment

        task = _Augment(state["policy"], 0, "i", [state["column"]], "columns", None)
        return [task(dict(batch)) for batch in state["batches"]]

    unit = "graphs" if kind == "graphs" else "images"
    return Case(
        suite=SUITE, name=f"augment/{kind}/{count}", transforms=(), size=count,
        size_unit=unit, items=count, unit=f"{unit}/s", setup=setup, run=run,
        anchors=[Anchor("augkit sample stage item by item, one process", anchor,
                        goal_ratio=1.6),
                 Anchor("augkit.ray's batch function on the same batches, one process, "
                        "no Ray", same_batches,
                        note="the same work as the workers' (decoding, batched steps, "
                             "encoding): the gain of two workers alone")],
        requires=("ray", "torch_geometric") if kind == "graphs" else ("ray",),
        note="local Ray, 2 CPUs, object store 4 GiB; items in the object store, results "
             "materialised there"
             + ("; graphs serialised (graph_to_bytes) in a bytes column" if kind == "graphs"
                else "; uint8 CHW"),
        goal=">= 1.6x one process on 2 CPUs",
    )


def _object_column(values: list[Any]) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def cases(quick: bool, device: str) -> Iterable[Case]:
    if device != "cpu":
        return
    yield _sampler_case("smote", 20_000 if quick else 1_000_000, 8 if quick else 32, 0.01, quick)
    yield _sampler_case("adasyn", 20_000 if quick else 1_000_000, 8 if quick else 16, 0.005,
                        quick)
    yield _augment_case("graphs", 200 if quick else 100_000)
    yield _augment_case("images", 16 if quick else 10_000)
    if not quick:
        yield _parquet_case(_PARQUET_SMALL, 32)
    if os.environ.get(_LARGE) and not quick:
        yield _parquet_case(10_000_000, 32)


def block_costs(rows_per_block: int = 125_000, d: int = 32, minority: float = 0.01,
                queries: int = 10_000, k: int = 5) -> dict[str, float]:
    """Seconds of the per-block steps of distributed SMOTE, in this process (no Ray): the
    inputs of the projection in benchmarks/README.md. ``python -m
    augkit.benchmarks.suites.ray`` prints them."""
    import io
    import time

    import pyarrow.parquet as pq

    from augkit.ray.neighbours import merge, nearest

    X, y = _imbalanced(rows_per_block, d, minority)
    share = X[y == 1]  # the block's share of the class
    Q = _imbalanced(queries, d, 1.0, seed=1)[0]

    def timed(fn: Any) -> float:
        fn()
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    cand = nearest(Q, share, np.arange(len(share)), k + 1)
    rng = np.random.default_rng(2)
    rows = rng.integers(0, queries, rows_per_block)
    nbrs = rng.integers(0, queries, rows_per_block)
    steps = rng.random((rows_per_block, 1))
    table = _arrow(X, y)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    data = buffer.getvalue()
    return {
        "knn_candidates_s": timed(lambda: nearest(Q, share, np.arange(len(share)), k + 1)),
        "knn_pairs": float(queries * len(share)),
        "merge_s": timed(lambda: merge(cand, cand, k + 1)),
        "generate_s": timed(lambda: (Q[rows] + steps * (Q[nbrs] - Q[rows])).astype(np.float32)),
        "parquet_read_s": timed(lambda: pq.read_table(io.BytesIO(data))),
        "parquet_write_s": timed(lambda: pq.write_table(table, io.BytesIO())),
        "block_bytes": float(X.nbytes),
    }


if __name__ == "__main__":  # pragma: no cover
    for key, value in block_costs().items():
        print(f"{key:>18}: {value:.4g}")
