"""Scalers (scikit-learn compatible estimators) and the minmax_scale / standardize transforms."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn import preprocessing as skp
from sklearn.utils.estimator_checks import parametrize_with_checks

import augkit
from augkit.errors import AugkitError, InputError, ParamError
from augkit.scaling import MinMaxScale, MinMaxScaler, NotFittedError, Standardize, StandardScaler


def _close(a, b, rtol=1e-6, atol=1e-6, equal_nan=True):
    # numpy's check: torch.testing imports torch.distributed, tens of seconds on a busy machine
    a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else a
    b = b.detach().cpu().numpy() if isinstance(b, torch.Tensor) else b
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _data(n=500, f=6, seed=0, nan=0.1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(3.0, 2.0, size=(n, f)) * rng.uniform(0.1, 100, size=f)
    X[:, 1] = 7.25  # a constant column
    X[:, 2] = 1e8 + rng.normal(size=n) * 1e-9  # constant up to rounding: sklearn's bound
    if nan:
        X[rng.random((n, f)) < nan] = np.nan
    return X.astype(dtype)


# ---- agreement with scikit-learn ----------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nan", [0.0, 0.15])
def test_standard_scaler_matches_sklearn(dtype, nan):
    X = _data(nan=nan, dtype=dtype)
    ours, ref = StandardScaler(), skp.StandardScaler()
    out, want = ours.fit_transform(X), ref.fit_transform(X)
    assert out.dtype == want.dtype == dtype
    np.testing.assert_allclose(out, want, rtol=1e-5 if dtype == np.float32 else 1e-10,
                               atol=1e-6 if dtype == np.float32 else 1e-12)
    assert np.array_equal(np.isnan(out), np.isnan(X))  # NaNs kept
    for attr in ("mean_", "var_", "scale_", "n_samples_seen_"):
        np.testing.assert_allclose(getattr(ours, attr), getattr(ref, attr), rtol=1e-9)
    assert np.all(out[~np.isnan(out[:, 1]), 1] == 0)  # constant column -> 0
    np.testing.assert_allclose(ours.scale_[1:3], 1.0)
    np.testing.assert_allclose(ours.inverse_transform(out), X, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", [{}, {"feature_range": (-2, 3)}, {"clip": True}])
def test_minmax_scaler_matches_sklearn(dtype, kwargs):
    X = _data(dtype=dtype)
    ours, ref = MinMaxScaler(**kwargs), skp.MinMaxScaler(**kwargs)
    out, want = ours.fit_transform(X), ref.fit_transform(X)
    assert out.dtype == want.dtype == dtype
    np.testing.assert_array_equal(out, want)  # the same arithmetic, in the same order
    for attr in ("data_min_", "data_max_", "data_range_", "scale_", "min_", "n_samples_seen_"):
        np.testing.assert_array_equal(getattr(ours, attr), getattr(ref, attr))
    lo = kwargs.get("feature_range", (0, 1))[0]
    assert np.all(out[~np.isnan(out[:, 1]), 1] == lo)  # constant column -> feature_range[0]
    Y = _data(seed=1, dtype=dtype) * 3  # unseen data, outside the fitted range
    np.testing.assert_array_equal(ours.transform(Y), ref.transform(Y))
    np.testing.assert_allclose(ours.inverse_transform(ref.transform(Y)),
                               ref.inverse_transform(ref.transform(Y)), rtol=1e-6)


def test_sample_weight_and_partial_fit_match_sklearn():
    X = _data(n=900)
    w = np.random.default_rng(3).uniform(0, 4, size=900)
    ours, ref = StandardScaler(), skp.StandardScaler()
    for part in np.array_split(np.arange(900), 3):
        ours.partial_fit(X[part], sample_weight=w[part])
        ref.partial_fit(X[part], sample_weight=w[part])
    # near-constant columns: the variance is rounding noise (~1e-15), compared absolutely
    for attr in ("mean_", "var_", "scale_", "n_samples_seen_"):
        np.testing.assert_allclose(getattr(ours, attr), getattr(ref, attr), rtol=1e-9,
                                   atol=1e-9)
    # (column 2 sits at 1e8: an ulp of its mean is 1.5e-8)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-9, atol=1e-7)
    # integer weights are repeated rows
    iw = np.random.default_rng(4).integers(0, 4, size=900)
    a = StandardScaler().fit(X, sample_weight=iw)
    b = StandardScaler().fit(np.repeat(X, iw, axis=0))
    np.testing.assert_allclose(a.mean_, b.mean_, rtol=1e-10)
    np.testing.assert_allclose(a.var_, b.var_, rtol=1e-9)
    mm, mref = MinMaxScaler(), skp.MinMaxScaler()
    for part in np.array_split(np.arange(900), 4):
        mm.partial_fit(X[part])
        mref.partial_fit(X[part])
    np.testing.assert_array_equal(mm.transform(X), mref.transform(X))
    assert mm.n_samples_seen_ == mref.n_samples_seen_ == 900


def test_infinity_is_refused_like_sklearn():
    X = _data(nan=0.0)
    X[3, 0] = np.inf
    for est in (StandardScaler(), MinMaxScaler()):
        with pytest.raises(ValueError, match="infinity"):
            est.fit(X)
        est.fit(_data())
        with pytest.raises(ValueError, match="infinity"):
            est.transform(X)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_like_sklearn(fmt):
    sparse = pytest.importorskip("scipy.sparse")
    X = _data(n=300, nan=0.1)
    X[np.random.default_rng(5).random(X.shape) < 0.6] = 0.0
    Xs = sparse.csr_array(X) if fmt == "csr" else sparse.csc_array(X)
    before = Xs.copy()
    ours = StandardScaler(with_mean=False).fit(Xs[:150]).partial_fit(Xs[150:])
    ref = skp.StandardScaler(with_mean=False).fit(Xs)
    out = ours.transform(Xs)
    assert sparse.issparse(out) and out.format == "csr"
    np.testing.assert_allclose(out.toarray(), ref.transform(Xs).toarray(), rtol=1e-9,
                               equal_nan=True)
    np.testing.assert_allclose(ours.inverse_transform(out).toarray(), X, rtol=1e-9,
                               equal_nan=True)
    assert (Xs != before).nnz == np.isnan(X).sum()  # unchanged: only NaN != NaN differs
    np.testing.assert_array_equal(ours.n_samples_seen_, ref.n_samples_seen_)
    # centring would densify: augkit's InputError, which is the ValueError sklearn raises
    with pytest.raises(InputError, match="Cannot center sparse matrices"):
        StandardScaler().fit(Xs)
    with pytest.raises(ValueError, match="Cannot center sparse matrices"):
        StandardScaler().fit(X).transform(Xs)
    with pytest.raises(TypeError, match="MinMaxScaler does not support sparse input"):
        MinMaxScaler().fit(Xs)


_MODES = [{}, {"with_std": False}, {"with_mean": False}, {"with_mean": False, "with_std": False}]


@pytest.mark.parametrize("kwargs,fmt", [(k, "dense") for k in _MODES]
                         + [(k, f) for k in _MODES[2:] for f in ("csr", "csc")])
@pytest.mark.parametrize("weighted", [False, True])
def test_n_samples_seen_like_sklearn(kwargs, fmt, weighted):
    sparse = pytest.importorskip("scipy.sparse")
    X = _data(n=60, f=3, nan=0.1)
    Xi = X if fmt == "dense" else getattr(sparse, f"{fmt}_array")(X)
    w = np.full(60, 2.0) if weighted else None
    ours, ref = StandardScaler(**kwargs), skp.StandardScaler(**kwargs)
    counts_rows = weighted and fmt == "dense" and len(kwargs) == 2
    for _ in range(2):  # fit, then one more partial_fit
        ours.partial_fit(Xi, sample_weight=w)
        ref.partial_fit(Xi, sample_weight=w)
        got, want = np.asarray(ours.n_samples_seen_), np.asarray(ref.n_samples_seen_)
        assert got.dtype == want.dtype
        # the documented difference: augkit sums the weights there, sklearn counts rows
        np.testing.assert_array_equal(got, 2.0 * want if counts_rows else want)


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_float16_stays_float16(cls):
    X = _data(n=200, nan=0.0)[:, [0, 3, 4]].astype(np.float16)
    out = cls().fit(X).transform(X)
    assert out.dtype == np.float16
    np.testing.assert_allclose(out, cls().fit_transform(X.astype(np.float64)), atol=2e-2)


@parametrize_with_checks([MinMaxScaler(), StandardScaler(), StandardScaler(with_mean=False)])
def test_check_estimator(estimator, check):
    # Every scikit-learn estimator check passes: no expected_failed_checks are needed.
    check(estimator)


# ---- torch path ----------------------------------------------------------------------------


@pytest.mark.parametrize("cls,ref", [(StandardScaler, skp.StandardScaler),
                                     (MinMaxScaler, skp.MinMaxScaler)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_path_matches_sklearn_and_keeps_dtype(cls, ref, dtype):
    X = _data(nan=0.1)
    Xt = torch.tensor(X, dtype=dtype)
    before = Xt.clone()
    est = cls().fit(Xt)
    out = est.transform(Xt)
    assert isinstance(out, torch.Tensor) and out.dtype == dtype and out.device == Xt.device
    assert torch.equal(Xt.nan_to_num(-1), before.nan_to_num(-1))  # input unchanged
    want = ref().fit(X.astype(np.float32 if dtype == torch.float32 else np.float64))
    tol = 1e-5 if dtype == torch.float32 else 1e-10
    np.testing.assert_allclose(out.numpy(), want.transform(X).astype(out.numpy().dtype),
                               rtol=tol, atol=tol)
    back = est.inverse_transform(out)
    np.testing.assert_allclose(back.numpy(), Xt.numpy(), rtol=1e-4 if tol > 1e-9 else 1e-9,
                               atol=1e-3 if tol > 1e-9 else 1e-9)
    # a numpy array transformed by a torch-fitted scaler gives the same numbers
    np.testing.assert_allclose(est.transform(Xt.numpy()), out.numpy(), rtol=tol, atol=tol)


def test_torch_sample_weight_and_partial_fit():
    X = _data(n=600)
    w = np.random.default_rng(5).uniform(0.5, 2, size=600)
    ours = StandardScaler()
    for part in np.array_split(np.arange(600), 2):
        ours.partial_fit(torch.tensor(X[part]), sample_weight=torch.tensor(w[part]))
    ref = skp.StandardScaler().fit(X, sample_weight=w)
    np.testing.assert_allclose(ours.mean_.numpy(), ref.mean_, rtol=1e-10)
    np.testing.assert_allclose(ours.var_.numpy(), ref.var_, rtol=1e-9, atol=1e-9)


@cuda
@pytest.mark.cuda
@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_torch_path_stays_on_cuda(cls):
    X = torch.tensor(_data(), device="cuda", dtype=torch.float32)
    est = cls().fit(X)
    out = est.transform(X)
    assert out.device == X.device and out.dtype == torch.float32
    cpu = cls().fit(X.cpu()).transform(X.cpu())
    _close(out.cpu(), cpu, equal_nan=True)


# ---- round trips -----------------------------------------------------------------------------

_finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=40)
@given(arrays(np.float64, st.tuples(st.integers(1, 30), st.integers(1, 5)), elements=_finite),
       st.booleans())
def test_inverse_transform_round_trip(X, with_mean):
    for est in (StandardScaler(with_mean=with_mean), MinMaxScaler(feature_range=(-1, 2))):
        out = est.fit_transform(X)
        assert np.all(np.isfinite(out))
        np.testing.assert_allclose(est.inverse_transform(out), X, rtol=1e-7, atol=1e-6)
        t = est.inverse_transform(est.transform(torch.tensor(X)))
        np.testing.assert_allclose(t.numpy(), X, rtol=1e-7, atol=1e-6)


# ---- the transforms ---------------------------------------------------------------------------


class Graph:
    """A graph by attribute access only: the scaling core knows no PyG."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def _graph(n=40, f=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, f, generator=g, dtype=torch.float64) * 3 + 1
    train = torch.zeros(n, dtype=torch.bool)
    train[: n // 2] = True
    ei = torch.randint(0, n, (2, 4 * n), generator=g)
    ea = torch.randn(ei.shape[1], 3, generator=g, dtype=torch.float64)
    return Graph(x=x, train_mask=train, edge_index=ei, edge_attr=ea)


@pytest.mark.parametrize("cls", [Standardize, MinMaxScale])
def test_train_mask_ignores_val_and_test_nodes(cls):
    data = _graph()
    data.x[~data.train_mask] = 1e9  # extreme values outside training
    t = cls().fit(data)
    train_only = cls(fit_on="all").fit((data.x[data.train_mask], None))
    assert t.fitted_state()["features"] == 5
    for key in cls.stat_keys:
        assert t.fitted_state()[key] == train_only.fitted_state()[key]
    out = t(data)
    assert out.x[data.train_mask].abs().max() < 10
    leaky = cls(fit_on="all").fit(data)
    assert leaky.fitted_state()[cls.stat_keys[1]] != t.fitted_state()[cls.stat_keys[1]]


def test_edge_attr_train_edges_only():
    data = _graph()
    ei = data.edge_index
    inside = data.train_mask[ei[0]] & data.train_mask[ei[1]]
    data.edge_attr[~inside] = -1e9
    t = Standardize(target="edge_attr").fit(data)
    ref = skp.StandardScaler().fit(data.edge_attr[inside].numpy())
    np.testing.assert_allclose(t.fitted_state()["mean"], ref.mean_, rtol=1e-12)
    out = t(data)
    _close(out.edge_attr[inside], torch.tensor(ref.transform(
        data.edge_attr[inside].numpy())))
    assert out.x is data.x  # only the target changes


@pytest.mark.parametrize("cls,ref", [(Standardize, skp.StandardScaler),
                                     (MinMaxScale, skp.MinMaxScaler)])
def test_transform_agrees_with_sklearn_on_tables(cls, ref):
    X = _data(nan=0.1)
    y = np.arange(len(X))
    t = cls(fit_on="all").fit((X, y))
    out, y2 = t((X, y))
    assert isinstance(out, np.ndarray) and y2 is y
    np.testing.assert_allclose(out, ref().fit_transform(X), rtol=1e-10, atol=1e-12)
    Xt = torch.tensor(X, dtype=torch.float32)
    out_t = t(Xt)
    assert out_t.dtype == torch.float32
    np.testing.assert_allclose(out_t.numpy(), ref().fit(X).transform(X), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["standardize", "minmax_scale"])
def test_fitted_scaler_in_the_sample_stage_scales_table_rows(name):
    # AugmentedDataset((X, y), policy) hands the sample stage one row X[i] at a time.
    from augkit.data import AugmentedDataset
    from augkit.policy import load_policy

    X = _data(n=40, f=4, nan=0.1)
    X_before = X.copy()
    y = np.arange(40) % 2
    policy = load_policy({"sample": [{name: {"fit_on": "all"}}]}).fit((X, y))
    whole = policy.transforms()[0]((X, y))[0]
    ds = AugmentedDataset((X, y), policy)
    for i in (0, 7, 39):
        row, label = ds[i]
        assert row.shape == (4,) and label == y[i]
        np.testing.assert_array_equal(row, whole[i])
    np.testing.assert_array_equal(X, X_before)  # the user's table is not changed
    with pytest.raises(InputError, match=r"a row of 3 values.*allowed: a row of 4 values"):
        policy.transforms()[0](X[0, :3])


@settings(max_examples=40)
@given(
    cls=st.sampled_from([Standardize, MinMaxScale]),
    dtype=st.sampled_from([np.float32, np.float64]),
    backend=st.sampled_from(["numpy", "torch"]),
    X=arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(1, 9)),
             elements=st.floats(-1e6, 1e6) | st.just(np.nan)),
)
def test_scaling_each_row_alone_equals_scaling_the_table(cls, dtype, backend, X):
    t = cls(fit_on="all").fit(X)
    table = X.astype(dtype)
    if backend == "torch":
        table = torch.from_numpy(table)
    whole = t(table)
    for i in range(len(table)):
        row = t(table[i])
        assert type(row) is type(whole) and row.shape == (table.shape[1],)
        assert row.dtype == whole.dtype
        got = np.asarray(row) if backend == "numpy" else row.numpy()
        want = np.asarray(whole[i]) if backend == "numpy" else whole[i].numpy()
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))  # bit for bit


def test_input_unchanged_and_unfitted_error():
    data = _graph()
    x = data.x.clone()
    with pytest.raises(NotFittedError, match="fit") as info:
        Standardize()(data)
    assert isinstance(info.value, AugkitError)
    out = Standardize().fit(data)(data)
    assert torch.equal(data.x, x) and out is not data and out.x is not data.x
    with pytest.raises(InputError, match="train_mask"):
        Standardize().fit(Graph(x=x))


@pytest.mark.parametrize("cls", [Standardize, MinMaxScale])
def test_fit_on_a_dataset_merges(cls):
    graphs = [_graph(n=20 + 5 * i, seed=i) for i in range(4)]
    t = cls(fit_on="all").fit(graphs)
    whole = cls(fit_on="all").fit((torch.cat([g.x for g in graphs]), None))
    for key in cls.stat_keys:
        np.testing.assert_allclose(t.fitted_state()[key], whole.fitted_state()[key], rtol=1e-12)


def test_per_graph_on_a_batch():
    pyg = pytest.importorskip("torch_geometric")
    from torch_geometric.data import Batch, Data

    gs = [_graph(n=10 + 3 * i, seed=i) for i in range(3)]
    data = [Data(x=g.x * (i + 1), edge_index=g.edge_index % (10 + 3 * i),
                 edge_attr=g.edge_attr) for i, g in enumerate(gs)]
    batch = Batch.from_data_list(data)
    for cls in (Standardize, MinMaxScale):
        for target in ("x", "edge_attr"):
            t = cls(fit_on="per_graph", target=target)
            t.fit(batch)  # nothing to learn
            assert t.fitted_state() is None
            out = t(batch)
            singles = [getattr(t(d), target) for d in data]
            _close(getattr(out, target), torch.cat(singles))
            ref = (skp.StandardScaler if cls is Standardize else skp.MinMaxScaler)()
            _close(singles[1], torch.tensor(ref.fit_transform(
                getattr(data[1], target).numpy())))
    assert pyg is not None


def test_fitted_state_yaml_round_trip_is_exact(tmp_path):
    data = _graph(f=8)
    data.x = data.x * torch.logspace(-12, 12, 8, dtype=torch.float64)
    policy = augkit.Policy(sample=[Standardize(), MinMaxScale(feature_range=(-1, 1))])
    policy.fit(data)
    path = tmp_path / "fitted.yaml"
    policy.save(path)
    again = augkit.load_policy(path)
    for a, b in zip(policy.sample, again.sample, strict=True):
        assert a.fitted_state() == b.fitted_state()  # float64 statistics, bit for bit
    assert torch.equal(again(data, index=3).x, policy(data, index=3).x)
    # a second process (inference) gives the training-time scaling exactly
    new = _graph(f=8, seed=9)
    assert torch.equal(again(new, index=0).x, policy(new, index=0).x)
    text = path.read_text().replace("target: x", "target: edge_attr", 1)
    with pytest.raises(augkit.PolicyError, match="fitted"):
        augkit.load_policy(text)


def test_state_validation():
    t = Standardize()
    with pytest.raises(ParamError, match="mean"):
        t.load_fitted_state({"count": 3, "features": 2, "mean": [1.0], "var": [1.0, 2.0]})
    t.load_fitted_state({"count": 3, "features": 2, "mean": [1.0, 2.0], "var": [4.0, 0.0]})
    out = t((torch.tensor([[3.0, 5.0]]), None))[0]
    _close(out, torch.tensor([[1.0, 3.0]]))  # var 0 -> scale 1: 5 - 2
    with pytest.raises(InputError, match="features"):
        t((torch.ones(2, 3), None))
    with pytest.raises(ParamError):
        MinMaxScale(feature_range=(1, 1))


def test_minmax_clip_and_constant_columns():
    X = torch.tensor([[0.0, 5.0], [10.0, 5.0]])
    t = MinMaxScale(fit_on="all", feature_range=(-1, 1), clip=True).fit(X)
    out = t(torch.tensor([[20.0, 5.0], [5.0, 7.0]]))
    _close(out, torch.tensor([[1.0, -1.0], [0.0, 1.0]]))


def test_registry_names_and_policy_yaml():
    policy = augkit.load_policy(
        "augkit: 1\nsample:\n  - standardize: {fit_on: all, target: edge_attr}\n"
        "  - minmax_scale: {feature_range: [-1, 1], fit_on: per_graph}\n"
    )
    assert isinstance(policy.sample[0], Standardize) and policy.sample[0].target == "edge_attr"
    assert policy.sample[1].feature_range == (-1.0, 1.0)
    assert augkit.load_policy(policy.to_yaml()) == policy


def test_core_imports_no_sklearn_or_pyg():
    code = (
        "import sys, augkit.scaling, augkit.diffusion, augkit.compound\n"
        "bad = [m for m in ('sklearn', 'torch_geometric') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_fit_on_a_pyg_dataset_subset_reads_only_the_subset():
    pytest.importorskip("torch_geometric")
    from torch_geometric.datasets import FakeDataset

    ds = FakeDataset(num_graphs=6, avg_num_nodes=20, num_channels=4)
    subset = ds[:3]  # the collated storage behind it holds all six graphs
    t = Standardize(fit_on="all").fit(subset)
    ref = skp.StandardScaler().fit(torch.cat([d.x for d in subset]).numpy())
    np.testing.assert_allclose(t.fitted_state()["mean"], ref.mean_, rtol=1e-6)
    np.testing.assert_allclose(t.fitted_state()["var"], ref.var_, rtol=1e-5)
