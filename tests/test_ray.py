"""augkit.ray: resampling and offline augmentation on Ray Data, equal to the in-memory result.

One local Ray (2 CPUs, a small object store) serves the whole file; it is shut down at the
end. Without the ``ray`` extra the file is skipped, saying so.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

ray = pytest.importorskip("ray", reason="the ray extra is not installed: pip install "
                                        "'augkit[ray]'")
pd = pytest.importorskip("pandas")

import augkit  # noqa: E402
from augkit.errors import InputError, ParamError  # noqa: E402
from augkit.plugins.imbalance.oversamplers import RandomOverSampler  # noqa: E402
from augkit.plugins.imbalance.samplers import ADASYN, SMOTE  # noqa: E402
from augkit.ray.neighbours import RowOrderNeighbors, exact_distances, merge, nearest  # noqa: E402

SAMPLERS = {"smote": (SMOTE, "k_neighbors"), "adasyn": (ADASYN, "n_neighbors"),
            "random_oversample": (RandomOverSampler, None)}
FEW = settings(max_examples=12, deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="session", autouse=True)
def local_ray():
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    if ray.is_initialized():  # started by another test module (the benchmarks' quick run)
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=160 << 20,
             log_to_driver=False, configure_logging=False)
    from ray.data import DataContext

    ctx = DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    yield
    ray.shutdown()


def _table(n: int = 300, d: int = 4, ties: bool = False, seed: int = 0,
           fractions: tuple = (0.8, 0.12, 0.08)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = (rng.integers(0, 3, (n, d)) if ties else rng.standard_normal((n, d))).astype(np.float32)
    y = rng.choice(len(fractions), size=n, p=np.asarray(fractions) / sum(fractions))
    return X, y.astype(np.int64)


def _dataset(X: np.ndarray, y: np.ndarray, blocks: int):
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    df["y"] = y
    return ray.data.from_pandas(df).repartition(blocks)


def _xy(ds, d: int) -> tuple[np.ndarray, np.ndarray]:
    import pyarrow as pa

    table = pa.concat_tables(ray.get(ds.to_arrow_refs()))
    X = np.column_stack([table.column(f"f{i}").to_numpy() for i in range(d)])
    return X, table.column("y").to_numpy()


def _in_memory(name: str, X, y, mode: str, seed: int = 3, k: int = 5):
    cls, key = SAMPLERS[name]
    params = {} if key is None or mode != "blocks" else {key: RowOrderNeighbors(k + 1)}
    return cls(random_state=seed, **params).fit_resample(X, y)


# ---- k-NN by (distance, row order) ----------------------------------------------------------


@FEW
@given(n=st.integers(2, 60), d=st.integers(1, 5), k=st.integers(1, 8),
       cuts=st.lists(st.integers(0, 60), max_size=5), ties=st.booleans(),
       seed=st.integers(0, 2**31 - 1))
def test_nearest_is_the_exact_ranking_whatever_the_blocks(n, d, k, cuts, ties, seed):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, (n, d)) if ties else rng.standard_normal((n, d))
    X = X.astype(np.float32)
    dist = exact_distances(X, X)
    want = np.lexsort((np.broadcast_to(np.arange(n), dist.shape), dist), axis=1)[:, :k]
    edges = sorted({0, n, *[c for c in cuts if c < n]})
    best = None
    for lo, hi in zip(edges[:-1], edges[1:], strict=False):
        cand = nearest(X, X[lo:hi], np.arange(lo, hi), k)
        best = cand if best is None else merge(best, cand, k)
    assert np.array_equal(best[1], want)
    assert np.array_equal(RowOrderNeighbors(k).fit(X).kneighbors(X, return_distance=False),
                          want)


def test_nearest_without_ties_agrees_with_scikit_learn():
    from sklearn.neighbors import NearestNeighbors

    X = np.random.default_rng(1).standard_normal((3000, 24)).astype(np.float32)
    ours = nearest(X, X, np.arange(3000), 6)[1]
    theirs = NearestNeighbors(n_neighbors=6).fit(X).kneighbors(X, return_distance=False)
    assert np.array_equal(ours, theirs)


# ---- fit_resample equals the in-memory sampler ----------------------------------------------


@pytest.mark.parametrize("name", list(SAMPLERS))
@pytest.mark.parametrize("blocks", [1, 3, 8])
@pytest.mark.parametrize("ties", [False, True])
def test_distributed_equals_in_memory(name, blocks, ties):
    from augkit.ray import fit_resample

    X, y = _table(ties=ties)
    ds = _dataset(X, y, blocks)
    cls = SAMPLERS[name][0]
    for mode in ("gather", "blocks") if SAMPLERS[name][1] else ("auto",):
        got_X, got_y = _xy(fit_resample(ds, cls(random_state=3), label="y", neighbours=mode), 4)
        want_X, want_y = _in_memory(name, X, y, mode)
        assert got_X.dtype == want_X.dtype
        assert np.array_equal(got_X, want_X) and np.array_equal(got_y, want_y), (name, mode)
        if not ties:  # no ties: the blocks' ranking is scikit-learn's too
            plain_X, _ = _in_memory(name, X, y, "gather")
            assert np.array_equal(got_X, plain_X)


@pytest.mark.parametrize("name", ["smote", "adasyn"])
def test_draws_taken_chunk_by_chunk_are_imbalanced_learns(name, monkeypatch):
    """The driver draws a chunk of synthetic rows at a time (two copies of the stream): with
    chunks far smaller than a class's new rows, the rows are still the in-memory ones, and
    ADASYN's one stream across classes goes on where it should."""
    import augkit.ray.resample as resample
    from augkit.ray import fit_resample

    monkeypatch.setattr(resample, "_CHUNK_ROWS", 7)
    X, y = _table(ties=False)
    got_X, got_y = _xy(fit_resample(_dataset(X, y, 3), SAMPLERS[name][0](random_state=3),
                                    label="y"), 4)
    want_X, want_y = _in_memory(name, X, y, "gather")
    assert len(want_y) - len(y) > 7 * 10
    assert np.array_equal(got_X, want_X) and np.array_equal(got_y, want_y)


@FEW
@given(n=st.integers(40, 120), d=st.integers(1, 4), blocks=st.integers(1, 6),
       ties=st.booleans(), name=st.sampled_from(list(SAMPLERS)), seed=st.integers(0, 10**6))
def test_any_partitioning_gives_the_in_memory_rows(n, d, blocks, ties, name, seed):
    from augkit.ray import fit_resample

    X, y = _table(n, d, ties, seed, fractions=(0.7, 0.3))
    assume(np.bincount(y, minlength=2).min() >= 7)
    cls = SAMPLERS[name][0]
    try:
        want_X, want_y = _in_memory(name, X, y, "blocks", seed)
    except ValueError:  # ADASYN refuses some tables (no minority row near another class, or
        # nothing to generate after its rounding); the estimator lets imbalanced-learn's own
        # ValueError through for the latter, the distributed path says it as an InputError.
        with pytest.raises(InputError):
            fit_resample(_dataset(X, y, blocks), cls(random_state=seed), label="y",
                         features=[f"f{i}" for i in range(d)], neighbours="blocks")
        return
    out = fit_resample(_dataset(X, y, blocks), cls(random_state=seed), label="y",
                       neighbours="blocks")
    got_X, got_y = _xy(out, d)
    # Invariants: every original row first, in order; then only minority rows; equal to the
    # in-memory twin bit for bit.
    assert np.array_equal(got_X[:n], X) and np.array_equal(got_y[:n], y)
    assert set(np.unique(got_y[n:])) <= {int(np.argmin(np.bincount(y)))}
    assert np.array_equal(got_X, want_X) and np.array_equal(got_y, want_y)


def test_smote_steps_are_uniform_along_the_segment():
    from scipy.stats import kstest

    from augkit.ray import fit_resample

    # A minority class of two points in one dimension, k=1: every synthetic row lies on the
    # segment [0, 1], at a uniform step from the row it was drawn from.
    X = np.concatenate([np.zeros(1), np.ones(1), np.full(6000, 5.0)]).reshape(-1, 1)
    y = np.array([1, 1] + [0] * 6000)
    out = fit_resample(_dataset(X.astype(np.float64), y, 3),
                       SMOTE(k_neighbors=1, random_state=11), label="y").to_pandas()
    new = out["f0"].to_numpy()[6002:]
    assert len(new) == 5998 and ((new >= 0) & (new <= 1)).all()
    assert kstest(new, "uniform").pvalue > 1e-3


def test_a_policy_gives_what_policy_fit_resample_gives():
    from augkit.policy import load_policy
    from augkit.ray import fit_resample

    X, y = _table(200)
    policy = load_policy("seed: 7\ndataset:\n  - smote: {k_neighbors: 3}\n")
    want_X, want_y = policy.fit_resample(X, y)
    got_X, got_y = _xy(fit_resample(_dataset(X, y, 3), policy, label="y"), 4)
    assert np.array_equal(got_X, want_X) and np.array_equal(got_y, want_y)


def test_other_columns_are_kept_and_null_on_synthetic_rows():
    from augkit.ray import fit_resample

    X, y = _table(120, 2, fractions=(0.7, 0.3))
    df = pd.DataFrame({"a": X[:, 0].astype(np.int32), "name": [f"r{i}" for i in range(120)],
                       "b": X[:, 1], "y": y})
    import pyarrow as pa

    ds = fit_resample(ray.data.from_pandas(df), SMOTE(random_state=0), label="y",
                      features=["a", "b"])
    # The features take their common dtype, as imbalanced-learn's X does.
    # (int32 and float32 -> float64).
    types = [str(t) for t in ds.schema().types]
    assert types[0] == types[2] == "double" and types[3] == "int64"
    out = pa.concat_tables(ray.get(ds.to_arrow_refs())).to_pandas()
    assert list(out.columns) == ["a", "name", "b", "y"]
    assert list(out["name"][:120]) == list(df["name"]) and out["name"][120:].isna().all()
    want_X, _ = SMOTE(random_state=0).fit_resample(df[["a", "b"]].to_numpy(), y)
    assert np.array_equal(out[["a", "b"]].to_numpy(), want_X)


def test_the_input_dataset_is_unchanged():
    from augkit.ray import fit_resample

    X, y = _table(100)
    ds = _dataset(X, y, 2)
    before = ds.to_pandas()
    fit_resample(ds, SMOTE(random_state=0), label="y").materialize()
    assert before.equals(ds.to_pandas())


@pytest.mark.parametrize("bad, match", [
    ({"label": "nope"}, "label column 'nope' is not in the dataset"),
    ({"label": "y", "features": ["f0", "zz"]}, "features got"),
    ({"label": "y", "neighbours": "magic"}, "neighbours got 'magic'; allowed"),
])
def test_bad_arguments_name_what_is_allowed(bad, match):
    from augkit.ray import fit_resample

    X, y = _table(60)
    with pytest.raises((InputError, ParamError), match=match):
        fit_resample(_dataset(X, y, 2), SMOTE(random_state=0), **bad)


def test_bad_input_gets_augkit_errors():
    from imblearn.over_sampling import BorderlineSMOTE

    from augkit.ray import fit_resample

    X, y = _table(60)
    ds = _dataset(X, y, 2)
    with pytest.raises(ParamError, match="no random_state and no seed"):
        fit_resample(ds, SMOTE(), label="y")
    with pytest.raises(ParamError, match="allowed: an augkit Policy"):
        fit_resample(ds, BorderlineSMOTE(random_state=0), label="y")
    with pytest.raises(ParamError, match="shrinkage"):
        fit_resample(ds, RandomOverSampler(random_state=0, shrinkage=1.0), label="y")
    Xn = X.copy()
    Xn[17, 2] = np.nan
    with pytest.raises(InputError, match=r"NaN \(first in row 17\)"):
        fit_resample(_dataset(Xn, y, 3), SMOTE(random_state=0), label="y")
    with pytest.raises(InputError, match="has 1 sample"):
        fit_resample(_dataset(X, np.r_[1, np.zeros(59, int)], 2),
                     SMOTE(random_state=0, k_neighbors="auto"), label="y")
    with pytest.raises(InputError, match="allowed: a ray.data.Dataset"):
        fit_resample((X, y), SMOTE(random_state=0), label="y")
    text = pd.DataFrame({"f": ["a"] * 60, "y": y})
    with pytest.raises(InputError, match="feature column 'f' has type .*string; allowed: numbers"):
        fit_resample(ray.data.from_pandas(text), SMOTE(random_state=0), label="y")


def test_a_worker_killed_mid_job_gives_the_same_rows(tmp_path):
    from augkit.ray import fit_resample

    X, y = _table(200)
    marker = str(tmp_path / "killed")

    def die_once(batch):
        if not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)  # the worker process dies; Ray runs the task again elsewhere
        return batch

    ds = _dataset(X, y, 4).map_batches(die_once, batch_format="pandas", max_retries=3)
    got_X, got_y = _xy(fit_resample(ds, ADASYN(random_state=5), label="y"), 4)
    assert os.path.exists(marker)
    want_X, want_y = ADASYN(random_state=5).fit_resample(X, y)
    assert np.array_equal(got_X, want_X) and np.array_equal(got_y, want_y)


def test_importing_augkit_and_its_cli_does_not_import_ray():
    code = ("import sys, augkit, augkit.cli, augkit.ray.cli; augkit.cli.build_parser(); "
            "assert 'ray' not in sys.modules, 'ray imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---- augment: row i is AugmentedDataset(...)[i] ---------------------------------------------

TABLE_POLICY = "seed: 3\nsample:\n  - diffusion_noise: {t: [0, 50]}\n"
GRAPH_POLICY = ("seed: 1\nsample:\n  - edge_dropout: {p: 0.3}\n"
                "  - feature_masking: {p: 0.3, mode: feature, fill: zero}\n")


def _arrow(ds):
    import pyarrow as pa

    return pa.concat_tables(ray.get(ds.to_arrow_refs()))


def _in_memory_rows(X: np.ndarray, y: np.ndarray, policy, epoch: int = 0) -> np.ndarray:
    """``AugmentedDataset((X, y), policy)[i][0]`` of every row, stacked."""
    import torch

    from augkit.data import AugmentedDataset

    dataset = AugmentedDataset((torch.from_numpy(X), torch.from_numpy(y)), policy)
    dataset.set_epoch(epoch)
    return np.stack([dataset[i][0].numpy() for i in range(len(y))])


def _feature_rows(table, names: list[str]) -> np.ndarray:
    return np.column_stack([table.column(n).to_numpy() for n in names])


@FEW
@given(blocks=st.integers(1, 5), batch_size=st.none() | st.integers(1, 40),
       epoch=st.integers(0, 3))
def test_augment_table_rows_equal_augmented_dataset(blocks, batch_size, epoch):
    import torch

    from augkit.data import AugmentedDataset
    from augkit.policy import load_policy
    from augkit.ray import augment

    X, y = _table(40, 3)
    policy = load_policy(TABLE_POLICY)
    ds = _dataset(X, y, blocks)
    out = _arrow(augment(ds, policy, epoch=epoch, columns=["f0", "f1", "f2"],
                         batch_size=batch_size))
    got = np.column_stack([out.column(f"f{i}").to_numpy() for i in range(3)])
    want_ds = AugmentedDataset((torch.from_numpy(X), torch.from_numpy(y)), policy)
    want_ds.set_epoch(epoch)
    want = np.stack([want_ds[i][0].numpy() for i in range(40)])
    assert np.array_equal(got, want) and not np.array_equal(got, X)
    assert np.array_equal(out.column("y").to_numpy(), y)  # not augmented: copied


def test_augment_per_view_policies_on_table_rows():
    """``views: {policies: [...]}``: view v of a row runs view v's own steps, as
    ``AugmentedDataset`` does, on stacked rows too."""
    import torch

    from augkit.data import AugmentedDataset
    from augkit.policy import load_policy
    from augkit.ray import augment

    X, y = _table(30, 3)
    policy = load_policy("seed: 2\nviews:\n  policies:\n    - [diffusion_noise: {t: [0, 50]}]\n"
                         "    - [diffusion_noise: {t: 10}, diffusion_noise: {t: 5}]\n")
    out = _arrow(augment(_dataset(X, y, 3), policy, columns=["f0", "f1", "f2"]))
    want = AugmentedDataset((torch.from_numpy(X), torch.from_numpy(y)), policy)
    for v in range(2):
        got = np.column_stack([out.column(f"f{i}_view{v}").to_numpy() for i in range(3)])
        assert np.array_equal(got, np.stack([want[i][0][v].numpy() for i in range(30)]))
        assert not np.array_equal(got, X)


def test_augment_images_views_as_columns_or_rows():
    import torch

    from augkit.data import AugmentedDataset
    from augkit.policy import load_policy
    from augkit.ray import augment

    images = np.random.default_rng(1).random((10, 3, 12, 12)).astype(np.float32)
    policy = load_policy(open("examples/policies/contrastive_images.yaml").read())
    want = AugmentedDataset([(torch.from_numpy(im), 0) for im in images], policy)
    ds = ray.data.from_items([{"image": im, "label": i} for i, im in enumerate(images)])
    rows = augment(ds.repartition(3), policy, columns="image").take_all()
    assert sorted(rows[0]) == ["image_view0", "image_view1", "label"]
    for i, row in enumerate(rows):
        for v in range(2):
            assert np.array_equal(row[f"image_view{v}"], want[i][0][v].numpy())
    rows = augment(ds.repartition(2), policy, columns="image", views="rows").take_all()
    assert [r["view"] for r in rows[:4]] == [0, 1, 0, 1] and len(rows) == 20
    for j, row in enumerate(rows):
        assert np.array_equal(row["image"], want[j // 2][0][j % 2].numpy())
        assert row["label"] == j // 2


def test_augment_graphs_by_id_column():
    import torch
    from torch_geometric.datasets import FakeDataset

    from augkit.data import AugmentedDataset
    from augkit.policy import load_policy
    from augkit.ray import augment
    from augkit.ray.offline import graph_from_bytes, graph_to_bytes

    graphs = list(FakeDataset(num_graphs=12, avg_num_nodes=10, num_channels=4))
    # A graph sliced out of a dataset is saved compact, not with the dataset's storage.
    assert len(graph_to_bytes(graphs[0])) < 4 * len(graph_to_bytes(graphs[0].clone()))
    policy = load_policy(GRAPH_POLICY)
    order = np.random.default_rng(0).permutation(12)  # rows in any order: the id decides
    ds = ray.data.from_items([{"graph": graph_to_bytes(graphs[i]), "id": int(i)}
                              for i in order]).repartition(3)
    want = AugmentedDataset(graphs, policy)
    want.set_epoch(1)
    rows = augment(ds, policy, epoch=1, columns="graph", id_column="id").take_all()
    changed = 0
    for row in rows:
        got, ref = graph_from_bytes(row["graph"]), want[row["id"]]
        assert torch.equal(got.edge_index, ref.edge_index) and torch.equal(got.x, ref.x)
        changed += got.edge_index.size(1) != graphs[row["id"]].edge_index.size(1)
    assert changed > 0


GRAPH_POLICIES = [
    GRAPH_POLICY,
    "seed: 5\nsample:\n  - node_dropout: {p: 0.4}\n  - edge_adding: {p: 0.3}\n",
    "seed: 6\nsample:\n  - one_of: {transforms: [node_shuffling: {}, subgraph_sampling: "
    "{method: random_walk, ratio: 0.5}]}\n  - feature_dropout: {p: 0.5}\n",
    "seed: 7\nviews: 2\nsample:\n  - edge_dropout: {p: 0.5}\n",
    "seed: 8\nviews:\n  policies:\n    - [edge_dropout: {p: 0.5}]\n"
    "    - [node_dropout: {p: 0.5}]\n",
    "seed: 9\nsample:\n  - feature_masking: {p: 0.5, mode: node, return_mask: true}\n"
    "  - graph_diffusion: {method: ppr, top_k: 4}\n",
]


@FEW
@given(sizes=st.lists(st.integers(0, 9), min_size=1, max_size=9), seed=st.integers(0, 99),
       epoch=st.integers(0, 2), policy_text=st.sampled_from(GRAPH_POLICIES),
       layout=st.sampled_from(["columns", "rows"]), edge_attr=st.booleans())
def test_augment_graph_batches_equal_each_graph_alone(sizes, seed, epoch, policy_text, layout,
                                                     edge_attr):
    """The map function collates a batch of graphs and runs every step once on the Batch;
    each row comes back as ``policy.run_sample`` makes that graph alone, views included."""
    import torch
    from torch_geometric.data import Data

    from augkit.policy import load_policy
    from augkit.ray.offline import _Augment, _object_array, graph_from_bytes, graph_to_bytes

    g = torch.Generator().manual_seed(seed)
    graphs = []
    for n in sizes:
        ei = torch.randint(0, max(n, 1), (2, 3 * n), generator=g)
        graph = Data(x=torch.randn(n, 3, generator=g), edge_index=ei,
                     y=torch.tensor([seed % 3]))
        if edge_attr:
            graph.edge_attr = torch.randn(ei.size(1), 2, generator=g)
        graphs.append(graph)
    policy = load_policy(policy_text)
    ids = np.arange(len(graphs)) * 3 + 11
    batch = {"graph": _object_array([graph_to_bytes(x) for x in graphs]), "i": ids}
    out = _Augment(policy, epoch, "i", ["graph"], layout, None)(batch)
    want = [policy.run_sample(x, policy.root, epoch, int(i)) for x, i in zip(graphs, ids,
                                                                             strict=True)]
    n_views = policy.views
    if not n_views:
        got = [[graph_from_bytes(b)] for b in out["graph"]]
        want = [[w] for w in want]
    elif layout == "columns":
        got = [[graph_from_bytes(out[f"graph_view{v}"][r]) for v in range(n_views)]
               for r in range(len(graphs))]
    else:
        flat = [graph_from_bytes(b) for b in out["graph"]]
        got = [flat[r * n_views:(r + 1) * n_views] for r in range(len(graphs))]
    for row, ref in zip(got, want, strict=True):
        for a, b in zip(row, ref, strict=True):
            assert sorted(a.keys()) == sorted(b.keys())
            for key in b.keys():
                assert torch.equal(a[key], b[key]), key


def test_split_graph_arrays_reads_what_to_data_list_gives():
    import torch
    from torch_geometric.datasets import FakeDataset

    from augkit._graph_collate import collate_graphs, split_graph_arrays

    graphs = list(FakeDataset(num_graphs=7, avg_num_nodes=6, num_channels=3, edge_dim=2))
    batch = augkit.make("node_dropout", p=0.5)(collate_graphs(graphs), generator=1)
    arrays = split_graph_arrays(batch)
    for part, ref in zip(arrays, batch.to_data_list(), strict=True):
        assert sorted(part) == sorted(ref.keys())
        for key, value in part.items():
            assert value.flags.c_contiguous and torch.equal(torch.from_numpy(value), ref[key])


def test_augment_survives_a_killed_worker(tmp_path):

    from augkit.policy import load_policy
    from augkit.ray import augment

    marker = str(tmp_path / "killed")

    def die_once(batch):
        if not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)
        return batch

    X, y = _table(30, 2)
    policy = load_policy(TABLE_POLICY)
    ds = _dataset(X, y, 3).map_batches(die_once, batch_format="pandas", max_retries=3)
    out = _arrow(augment(ds, policy, columns=["f0", "f1"]))
    want = _in_memory_rows(X, y, policy)
    assert os.path.exists(marker)
    assert np.array_equal(_feature_rows(out, ["f0", "f1"]), want)


@FEW
@given(nodes=st.integers(0, 9), edges=st.integers(0, 12), features=st.integers(1, 4),
       dtype=st.sampled_from(["float32", "float64", "float16", "int64", "uint8", "bool",
                              "bfloat16"]),
       extra=st.sampled_from([None, 3, 2.5, "name", True]), seed=st.integers(0, 10**6))
def test_graph_bytes_round_trip(nodes, edges, features, dtype, extra, seed):
    import warnings

    import torch
    from torch_geometric.data import Data

    from augkit.ray.offline import graph_from_bytes, graph_to_bytes

    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(nodes, features, generator=g) * 5).to(getattr(torch, dtype))
    edge_index = torch.randint(0, max(nodes, 1), (2, edges), generator=g)
    graph = Data(x=x, edge_index=edge_index, y=torch.tensor([seed % 3]), extra=extra)
    with warnings.catch_warnings():  # torch warns on a read-only numpy buffer
        warnings.simplefilter("error")
        back = graph_from_bytes(graph_to_bytes(graph))
    assert type(back) is Data and sorted(back.keys()) == sorted(graph.keys())
    for key in graph.keys():
        if isinstance(graph[key], torch.Tensor):
            assert back[key].dtype == graph[key].dtype and torch.equal(back[key], graph[key])
        else:
            assert back[key] == graph[key] and type(back[key]) is type(graph[key])
    tensor = graph_from_bytes(graph_to_bytes(x))
    assert tensor.dtype == x.dtype and torch.equal(tensor, x)


def test_graph_bytes_other_items_and_torch_save_bytes():
    import io

    import torch
    from torch_geometric.data import HeteroData

    from augkit.ray.offline import graph_from_bytes, graph_to_bytes

    hetero = HeteroData()
    hetero["paper"].x = torch.randn(4, 3)
    hetero["paper", "cites", "paper"].edge_index = torch.tensor([[0, 1], [2, 3]])
    back = graph_from_bytes(graph_to_bytes(hetero))
    assert torch.equal(back["paper"].x, hetero["paper"].x)
    assert torch.equal(back["paper", "cites", "paper"].edge_index,
                       hetero["paper", "cites", "paper"].edge_index)
    buffer = io.BytesIO()  # bytes written by torch.save itself are read too
    torch.save(torch.arange(5), buffer)
    assert torch.equal(graph_from_bytes(buffer.getvalue()), torch.arange(5))


def test_augment_keeps_row_order_when_blocks_finish_out_of_order():

    from augkit.policy import load_policy
    from augkit.ray import augment

    # The first block is by far the largest: its task finishes last.
    X, y = _table(1200, 2)
    sizes = [1100, 50, 50]
    df = pd.DataFrame({"f0": X[:, 0], "f1": X[:, 1], "y": y})
    cuts = np.cumsum([0, *sizes])
    ds = ray.data.from_pandas([df.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)])
    policy = load_policy(TABLE_POLICY)
    out = _arrow(augment(ds, policy, columns=["f0", "f1"], batch_size=1))
    want = _in_memory_rows(X, y, policy)
    assert np.array_equal(out.column("y").to_numpy(), y)
    assert np.array_equal(_feature_rows(out, ["f0", "f1"]), want)


def test_augment_numbers_rows_across_empty_blocks():

    from augkit.policy import load_policy
    from augkit.ray import augment

    X, y = _table(12, 2)
    df = pd.DataFrame({"f0": X[:, 0], "f1": X[:, 1], "y": y})
    cuts = [0, 0, 5, 5, 12, 12]  # blocks of 0, 5, 0, 7 and 0 rows
    ds = ray.data.from_pandas([df.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:], strict=True)])
    policy = load_policy(TABLE_POLICY)
    out = _arrow(augment(ds, policy, columns=["f0", "f1"], batch_size=3))
    want = _in_memory_rows(X, y, policy)
    assert np.array_equal(_feature_rows(out, ["f0", "f1"]), want)
    empty = ray.data.from_pandas([df.iloc[:0]])
    assert augment(empty, policy, columns=["f0", "f1"]).count() == 0


def test_augment_survives_a_worker_killed_inside_its_own_task(tmp_path):

    from augkit.policy import Policy, load_policy
    from augkit.ray import augment
    from augkit.transform import Transform

    marker = str(tmp_path / "killed")

    class DieOnce(Transform):  # defined here: Ray ships it to the worker by value
        name = "test.die_once"
        kinds = ("table",)

        def apply(self, data, params):
            if not os.path.exists(marker):
                open(marker, "w").close()
                os._exit(1)
            return data

    X, y = _table(30, 2)
    policy = load_policy(TABLE_POLICY)
    dying = Policy(sample=[*policy.sample, DieOnce()], seed=policy.seed)
    out = _arrow(augment(_dataset(X, y, 3), dying, columns=["f0", "f1"], batch_size=7))
    want = _in_memory_rows(X, y, policy)
    assert os.path.exists(marker)
    assert np.array_equal(_feature_rows(out, ["f0", "f1"]), want)


def test_augment_images_of_several_sizes_go_one_by_one():
    import torch

    from augkit.data import AugmentedDataset
    from augkit.policy import load_policy
    from augkit.ray import augment

    rng = np.random.default_rng(4)
    images = [rng.integers(0, 256, (3, 8 + i % 3, 10), dtype=np.uint8) for i in range(9)]
    policy = load_policy("seed: 2\nsample:\n  - gaussian_blur: {sigma: [0.5, 1.5]}\n"
                         "  - random_erasing: {scale: [0.02, 0.2]}\n")
    ds = ray.data.from_items([{"image": im} for im in images]).repartition(2)
    rows = augment(ds, policy, columns="image", batch_size=4).take_all()
    want = AugmentedDataset([torch.from_numpy(im) for im in images], policy)
    for i, row in enumerate(rows):
        assert np.array_equal(row["image"], want[i].numpy())


def test_augment_bad_arguments_name_what_is_allowed():
    from augkit.ray import augment

    X, y = _table(20, 2)
    ds = _dataset(X, y, 2)
    with pytest.raises(ParamError, match="views got 'cols'; allowed: columns, rows"):
        augment(ds, TABLE_POLICY, views="cols")
    with pytest.raises(InputError, match="columns got"):
        augment(ds, TABLE_POLICY, columns=["f0", "nope"])
    with pytest.raises(InputError, match="id_column 'key' is not in the dataset"):
        augment(ds, TABLE_POLICY, id_column="key")
    with pytest.raises(ParamError, match="epoch got -1"):
        augment(ds, TABLE_POLICY, epoch=-1)
    with pytest.raises(ParamError, match="batch_size got 0; allowed: an integer >= 1, or None"):
        augment(ds, TABLE_POLICY, batch_size=0)


def test_row_order_is_the_datasets_when_blocks_finish_out_of_order():
    import time

    from augkit.ray import fit_resample

    X, y = _table(200)

    def first_block_late(batch):
        if batch["f0"].iloc[0] == X[0, 0]:
            time.sleep(1.0)  # the first block finishes last
        return batch

    ds = _dataset(X, y, 4).map_batches(first_block_late, batch_format="pandas")
    got_X, got_y = _xy(fit_resample(ds, SMOTE(random_state=2), label="y"), 4)
    want_X, want_y = SMOTE(random_state=2).fit_resample(X, y)
    assert np.array_equal(got_X, want_X) and np.array_equal(got_y, want_y)
    assert ds.context.execution_options.preserve_order is False  # the input's, restored


# ---- the command line -------------------------------------------------------------------------


def _parquet_folder(folder, X, y, files: int = 3):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir()
    for part, rows in enumerate(np.array_split(np.arange(len(y)), files)):
        table = pa.table({**{f"f{i}": X[rows, i] for i in range(X.shape[1])}, "y": y[rows]})
        pq.write_table(table, folder / f"part-{part}.parquet")


def _read_folder(folder):
    import pyarrow.parquet as pq

    files = sorted(folder.rglob("*.parquet"))
    return [pq.read_table(f) for f in files]


def test_cli_resample_round_trip(tmp_path, capsys):
    import pyarrow as pa

    from augkit.cli import main

    X, y = _table(150)
    _parquet_folder(tmp_path / "in", X, y)
    (tmp_path / "p.yaml").write_text("seed: 4\ndataset:\n  - smote: {random_state: 9}\n")
    rc = main(["resample", "--policy", str(tmp_path / "p.yaml"), "--input",
               str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--label", "y"])
    assert rc == 0
    summary = capsys.readouterr().out
    assert "rows in" in summary and "rows/s" in summary
    counts = np.bincount(y)
    assert f"{counts.sum():>12}  {counts.max() * 3:>12}" in summary  # the total line
    table = pa.concat_tables(_read_folder(tmp_path / "out"))
    got = np.column_stack([table.column(f"f{i}").to_numpy() for i in range(4)])
    want_X, want_y = SMOTE(random_state=9).fit_resample(X, y)
    # Ray Data's file names do not order the rows: compare as sorted sets of rows.
    rows = np.column_stack([got, table.column("y").to_numpy()])
    want_rows = np.column_stack([want_X, want_y])
    assert np.array_equal(rows[np.lexsort(rows.T)], want_rows[np.lexsort(want_rows.T)])


def test_cli_augment_writes_one_folder_per_epoch(tmp_path, capsys):
    import torch

    from augkit.cli import main
    from augkit.data import AugmentedDataset
    from augkit.policy import load_policy

    X, y = _table(60, 3)
    _parquet_folder(tmp_path / "in", X, y, files=2)
    (tmp_path / "p.yaml").write_text(TABLE_POLICY)
    rc = main(["augment", "--policy", str(tmp_path / "p.yaml"), "--input", str(tmp_path / "in"),
               "--output", str(tmp_path / "out"), "--epochs", "2", "--columns", "f0,f1,f2"])
    assert rc == 0 and "rows out: 120" in capsys.readouterr().out
    want = AugmentedDataset((torch.from_numpy(X), torch.from_numpy(y)),
                            load_policy(TABLE_POLICY))
    for epoch in range(2):
        import pyarrow as pa

        table = pa.concat_tables(_read_folder(tmp_path / "out" / f"epoch={epoch}"))
        got = np.column_stack([table.column(f"f{i}").to_numpy() for i in range(3)])
        want.set_epoch(epoch)
        ref = np.stack([want[i][0].numpy() for i in range(60)])
        assert np.array_equal(got[np.lexsort(got.T)], ref[np.lexsort(ref.T)])


def test_cli_errors_are_one_line(tmp_path, capsys, monkeypatch):
    from augkit.cli import main
    from augkit.errors import AugkitError
    from augkit.ray._engine import require_ray

    (tmp_path / "p.yaml").write_text(TABLE_POLICY)
    rc = main(["augment", "--policy", str(tmp_path / "p.yaml"), "--input",
               str(tmp_path / "missing"), "--output", str(tmp_path / "out")])
    assert rc == 2
    assert "augkit: error: --input" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(AugkitError, match=r"pip install 'augkit\[ray\]'"):
        require_ray()


def test_cli_starts_its_own_local_ray(tmp_path):
    X, y = _table(80, 2)
    _parquet_folder(tmp_path / "in", X, y, files=1)
    (tmp_path / "p.yaml").write_text("seed: 0\ndataset:\n  - random_oversample: {}\n")
    env = {**os.environ, "RAY_ADDRESS": ""}
    done = subprocess.run(
        [sys.executable, "-m", "augkit", "resample", "--policy", str(tmp_path / "p.yaml"),
         "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--label", "y",
         "--num-cpus", "1", "--object-store-mb", "100"],
        capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "total" in done.stdout
    assert sum(t.num_rows for t in _read_folder(tmp_path / "out")) == np.bincount(y).max() * 3
