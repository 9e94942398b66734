"""SMOTE, ADASYN and RandomOverSampler over a Ray Dataset, equal to the in-memory result.

``fit_resample(dataset, sampler_or_policy, label=..., seed=...)`` returns a Ray Dataset with
every original row, in the dataset's order, followed by the synthetic rows class by class
(classes sorted), in the order imbalanced-learn appends them. How:

1. One pass over the blocks counts the classes (and checks the features); the sampling
   strategy and k come from the counts alone, as imbalanced-learn derives them.
2. A row is known by its rank within its class (block offsets from the counts), so the
   draws, which imbalanced-learn takes from ``RandomState(random_state)`` by class rank,
   are taken on the driver without the data: the same numbers for any partitioning.
3. The rows of a class that grows are the query set: kept as one object per block and
   broadcast to the tasks. Neighbours come from ``neighbours``:

   - ``"gather"``: one task gathers the class (for ADASYN's class weights, the whole
     table) and runs imbalanced-learn's own scikit-learn k-NN: the result is
     imbalanced-learn's, bit for bit, ties included;
   - ``"blocks"``: every block ranks its own rows for every query, and the blocks' top k + 1
     lists are merged by (exact float64 distance, row order) (``augkit.ray.neighbours``);
     the result equals the in-memory sampler given ``RowOrderNeighbors`` as its k-NN
     estimator, bit for bit, and imbalanced-learn's own wherever no two of a query's k + 1
     nearest rows are at the same distance (scikit-learn orders such ties by its heap);
   - ``"auto"`` (default): ``"gather"`` when what it gathers fits ``gather_bytes``.

4. Synthetic rows are computed in chunks by tasks holding the query set, with
   imbalanced-learn's arithmetic (``x + step * (neighbour - x)`` in the features' common
   dtype).

Feature columns (``features``, default: every column but ``label``) must be numeric; in the
result they take their common numpy dtype (as imbalanced-learn's X does). Other columns are
copied on original rows and null on synthetic ones (random_oversample copies whole rows).
Ray Data's ``preserve_order`` is on while the blocks are read, so row order is the dataset's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import ray

from augkit._balance import resolve_sampling_strategy
from augkit.errors import InputError, ParamError, ResamplingError
from augkit.ray._engine import check_dataset, ordered_blocks
from augkit.ray.neighbours import merge, nearest
from augkit.ray.sampler_spec import SamplerSpec, sampler_spec

NEIGHBOUR_MODES = ("auto", "gather", "blocks")
_CHUNK_ROWS = 1 << 17  # synthetic rows per output block


def fit_resample(dataset: Any, sampler_or_policy: Any, *, label: str,
                 features: list[str] | None = None, seed: int | None = None,
                 neighbours: str = "auto", gather_bytes: int = 256 << 20) -> Any:
    """The resampled ``ray.data.Dataset``: the original rows, then the synthetic rows.

    ``sampler_or_policy``: an augkit Policy (or its file / YAML) whose dataset stage is one
    ``smote``, ``adasyn`` or ``random_oversample`` step, such a transform, or a SMOTE /
    ADASYN / RandomOverSampler estimator (augkit's or imbalanced-learn's). ``seed``: the
    random_state (default: the sampler's; for a policy, the one ``policy.fit_resample``
    draws). The result equals ``sampler.fit_resample(X, y)`` in memory with the same
    random_state, row for row; see the module docstring for ``neighbours`` and ties.
    """
    return resample_with_counts(dataset, sampler_or_policy, label=label, features=features,
                                seed=seed, neighbours=neighbours, gather_bytes=gather_bytes)[0]


def resample_with_counts(dataset: Any, sampler_or_policy: Any, *, label: str,
                         features: list[str] | None = None, seed: int | None = None,
                         neighbours: str = "auto", gather_bytes: int = 256 << 20,
                         ) -> tuple[Any, dict[Any, int], dict[Any, int]]:
    """:func:`fit_resample`, and the rows per class before and after (for a summary)."""
    check_dataset(dataset, "fit_resample")
    spec = sampler_spec(sampler_or_policy, seed)
    if neighbours not in NEIGHBOUR_MODES:
        raise ParamError(f"fit_resample: neighbours got {neighbours!r}; allowed: "
                         + ", ".join(NEIGHBOUR_MODES), param="neighbours", value=neighbours)
    blocks = ordered_blocks(dataset)
    table = _Table.read(blocks, label, features, numeric=spec.name != "random_oversample",
                        owner=spec.name)
    plan = resolve_sampling_strategy(spec.sampling_strategy, table.labels_proxy(),
                                     owner=f"{spec.name}: sampling_strategy")
    if spec.name == "random_oversample":
        synthetic, added = _random_oversample(table, spec, plan)
        originals = blocks
    else:
        k = _neighbours(spec, table, plan)
        make = _smote if spec.name == "smote" else _adasyn
        synthetic, added = make(table, spec, plan, k, neighbours, gather_bytes)
        originals = table.cast_blocks()
    after = {c: n + added.get(c, 0) for c, n in table.counts.items()}
    return ray.data.from_arrow_refs(originals + synthetic), dict(table.counts), after


# ---- the table: blocks, class counts, feature dtype ----------------------------------------


class _Table:
    """The blocks with what one counting pass learned about them."""

    def __init__(self, blocks: list[Any], label: str, features: list[str], schema: pa.Schema,
                 block_counts: list[dict[Any, int]], dtype: np.dtype) -> None:
        self.blocks, self.label, self.features = blocks, label, features
        self.schema, self.block_counts, self.dtype = schema, block_counts, dtype
        self.counts: dict[Any, int] = {}
        for bc in block_counts:
            for c, n in bc.items():
                self.counts[c] = self.counts.get(c, 0) + n
        self.n_rows = sum(self.counts.values())

    @classmethod
    def read(cls, blocks: list[Any], label: str, features: list[str] | None, *, numeric: bool,
             owner: str) -> _Table:
        if not blocks:
            raise InputError(f"{owner}: the dataset has no rows; allowed: a dataset with rows "
                             "of at least two classes")
        schema = ray.get(_schema.remote(blocks[0]))
        names = list(schema.names)
        if label not in names:
            raise InputError(f"{owner}: label column {label!r} is not in the dataset; allowed: "
                             f"one of {names}")
        if features is None:
            features = [n for n in names if n != label]
        missing = [f for f in features if f not in names]
        if missing or label in features or not features:
            raise InputError(f"{owner}: features got {features!r}; allowed: a non-empty list "
                             f"of columns of the dataset other than the label ({names})")
        dtype = _feature_dtype(schema, features, owner) if numeric else np.dtype(object)
        summaries = ray.get([_summarize.remote(b, label, features if numeric else [])
                             for b in blocks])
        offset = 0
        for s in summaries:
            if s["bad"] is not None:
                count, row, has_nan = s["bad"]
                what = "NaN" if has_nan else "infinite values"
                raise InputError(f"{owner}: the features contain {what} (first in row "
                                 f"{offset + row}); allowed: finite numbers (impute missing "
                                 "values first)")
            offset += s["rows"]
        return cls(blocks, label, features, schema, [s["counts"] for s in summaries], dtype)

    def labels_proxy(self) -> np.ndarray:
        """A label array with the table's class counts (what the sampling strategy reads)."""
        classes = sorted(self.counts)
        return np.repeat(np.array(classes), [self.counts[c] for c in classes])

    def class_sizes(self, c: Any) -> list[int]:
        return [bc.get(c, 0) for bc in self.block_counts]

    def class_pieces(self, c: Any, whole_rows: bool = False) -> list[Any]:
        """The rows of class ``c``, one object per block (features as an array, or whole
        rows as an Arrow table), in row order."""
        if whole_rows:
            return [_class_table.remote(b, self.label, c) for b in self.blocks]
        return [_class_features.remote(b, self.label, c, self.features, self.dtype)
                for b in self.blocks]

    def cast_blocks(self) -> list[Any]:
        """The original blocks with the features in the common dtype."""
        target = pa.from_numpy_dtype(self.dtype)
        if all(self.schema.field(f).type == target for f in self.features):
            return list(self.blocks)
        return [_cast_features.remote(b, self.features, self.dtype) for b in self.blocks]


def _feature_dtype(schema: pa.Schema, features: list[str], owner: str) -> np.dtype:
    dtypes = []
    for f in features:
        t = schema.field(f).type
        if not (pa.types.is_integer(t) or pa.types.is_floating(t)):
            raise InputError(f"{owner}: feature column {f!r} has type {t}; allowed: numbers "
                             "(int or float columns; categorical columns need smotenc, which "
                             "has no distributed form yet)")
        dtypes.append(np.dtype(t.to_pandas_dtype()))
    return np.result_type(*dtypes)


def _neighbours(spec: SamplerSpec, table: _Table, plan: dict[Any, int]) -> int:
    from augkit.plugins.imbalance.functional import resolve_neighbours

    return int(resolve_neighbours(spec.neighbours, table.counts, plan,
                                  param=spec.neighbours_param, owner=spec.name))


# ---- the samplers --------------------------------------------------------------------------


def _smote(table: _Table, spec: SamplerSpec, plan: dict[Any, int], k: int, mode: str,
           gather_bytes: int) -> tuple[list[Any], dict[Any, int]]:
    out, added = [], {}
    for c, n_new in plan.items():
        if n_new == 0:
            continue
        pieces = table.class_pieces(c)
        nns = _class_neighbours(table, c, pieces, k, mode, gather_bytes)
        # imbalanced-learn's _make_samples: a fresh RandomState(random_state) per class.
        rs = np.random.RandomState(spec.random_state)
        out += _synthesize(table, c, pieces,
                           _draws(rs, n_new, table.counts[c] * k, k, nns))
        added[c] = n_new
    return out, added


def _draws(rs: np.random.RandomState, n: int, high: int, k: int, nns: np.ndarray,
           rows: np.ndarray | None = None) -> Any:
    """imbalanced-learn's draws for ``n`` synthetic rows, ``randint(0, high, n)`` then
    ``uniform(size=n)`` from ``rs``, as chunks ``(rows, neighbours, steps)`` of
    ``_CHUNK_ROWS``: a copy of ``rs`` draws the integers while ``rs`` skips them to draw the
    steps, so the driver holds one chunk at a time (legacy RandomState gives the same numbers
    drawn in chunks as in one call). Drawn integer ``i`` is row ``i // k`` (SMOTE) or, given
    ``rows``, the next of them (ADASYN), and its neighbour is column ``i % k`` of ``nns``.
    ``rs`` ends where one ``randint`` and one ``uniform`` call would leave it."""
    ints = np.random.RandomState()
    ints.set_state(rs.get_state())
    sizes = [min(_CHUNK_ROWS, n - s) for s in range(0, n, _CHUNK_ROWS)]
    for m in sizes:
        rs.randint(low=0, high=high, size=m)
    # Class ranks travel as the narrowest integers that hold them: the tasks' arguments
    # wait in the object store until the tasks run.
    index = np.int32 if len(nns) <= np.iinfo(np.int32).max else np.int64
    start = 0
    for m in sizes:
        drawn = ints.randint(low=0, high=high, size=m)
        picked = np.floor_divide(drawn, k) if rows is None else rows[start:start + m]
        yield (picked.astype(index), nns[picked, np.mod(drawn, k)].astype(index),
               rs.uniform(size=m)[:, np.newaxis])
        start += m


def _adasyn(table: _Table, spec: SamplerSpec, plan: dict[Any, int], k: int, mode: str,
            gather_bytes: int) -> tuple[list[Any], dict[Any, int]]:
    from augkit.plugins.imbalance.samplers import ADASYN

    rs = np.random.RandomState(spec.random_state)  # one stream across classes, as imblearn
    out, added = [], {}
    for c, n_new in plan.items():
        if n_new == 0:
            continue
        n_c = table.counts[c]
        pieces = table.class_pieces(c)
        other = _other_class_neighbours(table, c, pieces, k, mode, gather_bytes)
        ratio = np.sum(other, axis=1) / k
        if not np.sum(ratio):
            raise ResamplingError(ADASYN._isolated_text(c, k))
        ratio /= np.sum(ratio)
        per_row = np.rint(ratio * n_new).astype(int)
        n_samples = int(np.sum(per_row))
        if not n_samples:
            raise InputError("adasyn: no samples will be generated with the provided ratio "
                             "settings; allowed: a sampling_strategy that adds more rows")
        nns = _class_neighbours(table, c, pieces, k, mode, gather_bytes)
        # imbalanced-learn: choice(k, size=n_samples) (randint(0, k) draws), then uniform.
        rows = np.repeat(np.arange(n_c), per_row)
        out += _synthesize(table, c, pieces, _draws(rs, n_samples, k, k, nns, rows=rows))
        added[c] = n_samples
    return out, added


def _random_oversample(table: _Table, spec: SamplerSpec, plan: dict[Any, int]
                       ) -> tuple[list[Any], dict[Any, int]]:
    rs = np.random.RandomState(spec.random_state)  # one stream across classes, as imblearn
    out, added = [], {}
    for c, n_new in plan.items():
        # RandomState.choice(class rows, size) with replacement is randint over their ranks.
        ranks = rs.randint(0, table.counts[c], size=n_new)
        if n_new == 0:
            continue
        pieces = table.class_pieces(c, whole_rows=True)
        out += [_take_rows.remote(ranks[s:s + _CHUNK_ROWS], *pieces)
                for s in range(0, n_new, _CHUNK_ROWS)]
        added[c] = n_new
    return out, added


def _gathers(mode: str, n_rows: int, width: int, itemsize: int, gather_bytes: int) -> bool:
    return mode == "gather" or (mode == "auto" and n_rows * width * itemsize <= gather_bytes)


def _class_neighbours(table: _Table, c: Any, pieces: list[Any], k: int, mode: str,
                      gather_bytes: int) -> np.ndarray:
    """``[n_c, k]``: each class row's k nearest rows of its class, by class rank, the row
    itself left out (imbalanced-learn's ``kneighbors(X_class)[:, 1:]``)."""
    n_c, d = table.counts[c], len(table.features)
    if _gathers(mode, n_c, d, table.dtype.itemsize, gather_bytes):
        return ray.get(_gathered_neighbours.options(**_whole_node()).remote(k, *pieces))
    sizes = table.class_sizes(c)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    futures = [_piece_candidates.remote(pieces[b], int(starts[b]), k + 1, *pieces)
               for b in range(len(pieces)) if sizes[b]]
    best = None
    for dist, ids in _as_completed(futures):
        best = (dist, ids) if best is None else merge(best, (dist, ids), k + 1)
    return best[1][:, 1:]


def _other_class_neighbours(table: _Table, c: Any, pieces: list[Any], k: int, mode: str,
                            gather_bytes: int) -> np.ndarray:
    """``[n_c, k]`` booleans: which of each class-``c`` row's k nearest rows of the whole
    table (itself left out) are of another class (ADASYN's weights)."""
    d = len(table.features)
    if _gathers(mode, table.n_rows, d, table.dtype.itemsize, gather_bytes):
        task = _gathered_other.options(**_whole_node())
        return ray.get(task.remote(k, table.label, table.features, table.dtype, c, pieces,
                                   *table.blocks))
    starts = np.concatenate([[0], np.cumsum([sum(bc.values()) for bc in table.block_counts])])
    futures = [_block_candidates.remote(b, table.label, table.features, table.dtype, c,
                                        int(starts[i]), k + 1, *pieces)
               for i, b in enumerate(table.blocks)]
    best = None
    for dist, ids, other in _as_completed(futures):
        # Carry the class flag along the ids: a negative id marks another class's row.
        tagged = np.where(other, -ids - 1, ids)
        cand = (dist, tagged)
        best = cand if best is None else _merge_tagged(best, cand, k + 1)
    return best[1][:, 1:] < 0


def _merge_tagged(a: tuple, b: tuple, k: int) -> tuple:
    dist = np.concatenate([a[0], b[0]], axis=1)
    tagged = np.concatenate([a[1], b[1]], axis=1)
    ids = np.where(tagged < 0, -tagged - 1, tagged)
    pos = np.lexsort((ids, dist), axis=1)[:, :min(k, dist.shape[1])]
    return np.take_along_axis(dist, pos, 1), np.take_along_axis(tagged, pos, 1)


def _whole_node() -> dict[str, Any]:
    """Task options asking for every CPU of the largest node: a gathered k-NN runs alone (the
    driver waits on it), and scikit-learn spreads it over the threads it is given."""
    cpus = max((node["Resources"].get("CPU", 1.0) for node in ray.nodes() if node["Alive"]),
               default=1.0)
    return {"num_cpus": cpus}


def _threads() -> Any:
    """BLAS and OpenMP limited to the CPUs Ray gave this task (a reused worker may have
    started with fewer)."""
    from threadpoolctl import threadpool_limits

    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1.0)
    return threadpool_limits(max(int(cpus), 1))


def _as_completed(futures: list[Any]) -> Any:
    pending = list(futures)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        yield ray.get(done[0])


def _synthesize(table: _Table, c: Any, pieces: list[Any], draws: Any) -> list[Any]:
    """One task per chunk ``(rows, neighbours, steps)`` of ``draws``, in order."""
    pieces_ref = ray.put(pieces)  # one argument: the tasks fetch the query set once each
    return [_synthetic_block.remote(rows, neighbours, steps, table.schema, table.label, c,
                                    table.features, table.dtype, pieces_ref)
            for rows, neighbours, steps in draws]


# ---- the tasks -----------------------------------------------------------------------------


def _features(block: pa.Table, features: list[str], dtype: np.dtype) -> np.ndarray:
    if not features:
        return np.empty((block.num_rows, 0), dtype)
    cols = [block.column(f).to_numpy() for f in features]
    return np.column_stack(cols).astype(dtype, copy=False)


def _labels(block: pa.Table, label: str) -> np.ndarray:
    return block.column(label).to_numpy(zero_copy_only=False)


@ray.remote
def _schema(block: pa.Table) -> pa.Schema:
    return block.schema


@ray.remote
def _summarize(block: pa.Table, label: str, features: list[str]) -> dict[str, Any]:
    y = _labels(block, label)
    classes, counts = np.unique(y, return_counts=True)
    bad = None
    if features:
        X = np.column_stack([block.column(f).to_numpy(zero_copy_only=False) for f in features])
        if np.issubdtype(X.dtype, np.inexact) and not np.isfinite(X).all():
            mask = ~np.isfinite(X)
            bad = (int(mask.sum()), int(np.argmax(mask.any(axis=1))), bool(np.isnan(X).any()))
    return {"rows": block.num_rows, "counts": dict(zip(classes, counts.tolist(), strict=True)),
            "bad": bad}


@ray.remote
def _class_features(block: pa.Table, label: str, c: Any, features: list[str],
                    dtype: np.dtype) -> np.ndarray:
    mask = _labels(block, label) == c
    return _features(block.filter(pa.array(mask)), features, dtype)


@ray.remote
def _class_table(block: pa.Table, label: str, c: Any) -> pa.Table:
    return block.filter(pa.array(_labels(block, label) == c))


@ray.remote
def _cast_features(block: pa.Table, features: list[str], dtype: np.dtype) -> pa.Table:
    target = pa.from_numpy_dtype(dtype)
    for f in features:
        i = block.schema.get_field_index(f)
        col = pa.array(block.column(f).to_numpy().astype(dtype), type=target)
        block = block.set_column(i, pa.field(f, target), col)
    return block


@ray.remote
def _gathered_neighbours(k: int, *pieces: np.ndarray) -> np.ndarray:
    """imbalanced-learn's own k-NN on the gathered class."""
    from imblearn.utils import check_neighbors_object

    X_class = np.concatenate(pieces)
    nn = check_neighbors_object("k_neighbors", k, additional_neighbor=1)
    with _threads():
        nn.fit(X_class)
        return nn.kneighbors(X_class, return_distance=False)[:, 1:]


@ray.remote
def _gathered_other(k: int, label: str, features: list[str], dtype: np.dtype, c: Any,
                    pieces: list[Any], *blocks: pa.Table) -> np.ndarray:
    """ADASYN's first k-NN as imbalanced-learn runs it, on the gathered table."""
    from imblearn.utils import check_neighbors_object

    X = np.concatenate([_features(b, features, dtype) for b in blocks])
    y = np.concatenate([_labels(b, label) for b in blocks])
    X_class = np.concatenate(ray.get(pieces))
    nn = check_neighbors_object("n_neighbors", k, additional_neighbor=1)
    with _threads():
        nn.fit(X)
        nns = nn.kneighbors(X_class, return_distance=False)[:, 1:]
    return y[nns] != c


@ray.remote
def _piece_candidates(piece: np.ndarray, start: int, k: int,
                      *pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The k best rows of this block's share of the class for every class row (ids: class
    ranks)."""
    queries = np.concatenate(pieces)
    return nearest(queries, piece, np.arange(start, start + len(piece)), k)


@ray.remote
def _block_candidates(block: pa.Table, label: str, features: list[str], dtype: np.dtype,
                      c: Any, start: int, k: int, *pieces: np.ndarray) -> tuple:
    """The k best rows of this block for every class-``c`` row (ids: table row numbers),
    with whether each is of another class."""
    queries = np.concatenate(pieces)
    X = _features(block, features, dtype)
    dist, ids = nearest(queries, X, np.arange(start, start + len(X)), k)
    other = _labels(block, label)[ids - start] != c
    return dist, ids, other


@ray.remote
def _synthetic_block(rows: np.ndarray, neighbours: np.ndarray, steps: np.ndarray,
                     schema: pa.Schema, label: str, c: Any, features: list[str],
                     dtype: np.dtype, pieces: list[Any]) -> pa.Table:
    X_class = np.concatenate(ray.get(pieces))
    # imbalanced-learn's _generate_samples, with its dtypes.
    diffs = X_class[neighbours] - X_class[rows]
    X_new = (X_class[rows] + steps * diffs).astype(dtype)
    n = len(rows)
    target = pa.from_numpy_dtype(dtype)
    columns, fields = [], []
    for field in schema:
        if field.name in features:
            j = features.index(field.name)
            columns.append(pa.array(X_new[:, j], type=target))
            fields.append(pa.field(field.name, target))
        elif field.name == label:
            columns.append(pa.array([c] * n, type=field.type))
            fields.append(field)
        else:
            columns.append(pa.nulls(n, type=field.type))
            fields.append(field)
    # The original blocks' schema metadata too (pandas' dtypes), so every block converts alike.
    return pa.Table.from_arrays(columns, schema=pa.schema(fields, metadata=schema.metadata))


@ray.remote
def _take_rows(ranks: np.ndarray, *pieces: pa.Table) -> pa.Table:
    return pa.concat_tables(pieces).take(pa.array(ranks))
