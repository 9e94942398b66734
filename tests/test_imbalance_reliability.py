"""Malformed input to the imbalance family: a correct output or an augkit error, never another
exception, a crash or a changed input."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import augkit
from augkit.errors import AugkitError, InputError

pytest.importorskip("imblearn")
Data = pytest.importorskip("torch_geometric.data").Data
threadpool_limits = pytest.importorskip("threadpoolctl").threadpool_limits

from augkit.plugins.imbalance import ADASYN, SMOTE  # noqa: E402
from augkit.plugins.imbalance.functional import graph_smote  # noqa: E402
from augkit.plugins.imbalance.synthetic import imbalanced_sbm  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(limits=1):  # sklearn's k-NN: tiny data, one thread is faster
        yield


def _graph():
    return imbalanced_sbm(300, avg_degree=6, class_fractions=(0.7, 0.2, 0.1),
                          train_fraction=0.5, seed=0)


# ---- graph_smote: edge_index --------------------------------------------------------------


_OUT_OF_RANGE = textwrap.dedent("""
    import sys
    from augkit.errors import InputError
    from augkit.plugins.imbalance.functional import graph_smote
    from augkit.plugins.imbalance.synthetic import imbalanced_sbm

    data = imbalanced_sbm(300, avg_degree=6, class_fractions=(0.7, 0.2, 0.1),
                          train_fraction=0.5, seed=0)
    data.edge_index = data.edge_index.clone()
    data.edge_index[int(sys.argv[1]), 3] = int(sys.argv[2])
    try:
        graph_smote(data, seed=0)
    except InputError as exc:
        print("InputError", exc)
    else:
        print("no error")
""")


@pytest.mark.parametrize("row", [0, 1])
@pytest.mark.parametrize("bad", [10**12, 300, -7])
def test_graph_smote_refuses_node_ids_out_of_range(row, bad):
    # In a subprocess first: before the check, the numba kernels read and wrote out of bounds
    # (a segfault, or a silently corrupted heap for a negative id).
    run = subprocess.run([sys.executable, "-c", _OUT_OF_RANGE, str(row), str(bad)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.startswith("InputError"), run.stdout
    data = _graph()
    data.edge_index = data.edge_index.clone()
    data.edge_index[row, 3] = bad
    with pytest.raises(InputError, match=rf"^graph_smote: edge_index got node id {bad}; "
                                         r"allowed: ids in \[0, 300\)"):
        graph_smote(data, seed=0)


@pytest.mark.parametrize("make", [
    lambda ei: ei.float(),
    lambda ei: ei.int(),
    lambda ei: ei[0],
    lambda ei: ei.reshape(4, -1),
    lambda ei: ei.numpy(),
    lambda ei: ei.tolist(),
])
def test_graph_smote_refuses_malformed_edge_index(make):
    data = _graph()
    data.edge_index = make(data.edge_index)
    with pytest.raises(InputError, match=r"^graph_smote: edge_index got .*; allowed: a "
                                         r"LongTensor \[2, num_edges\]"):
        graph_smote(data, seed=0)
    with pytest.raises(InputError, match=r"^graph_smote: edge_index got"):
        augkit.make("graph_smote")(data, generator=0)


@pytest.mark.parametrize(("key", "make", "got"), [
    ("x", lambda d: d.x.long(), r"shape \(300, 16\) and dtype torch.int64"),
    ("y", lambda d: d.y[:, None], r"shape \(300, 1\) and dtype torch.int64"),
    ("train_mask", lambda d: d.train_mask.long(), r"shape \(300,\) and dtype torch.int64"),
    ("x", lambda d: d.x.tolist(), "list"),
])
def test_graph_smote_names_what_it_got(key, make, got):
    data = _graph()
    data[key] = make(data)
    with pytest.raises(InputError, match=rf"^graph_smote: {key} got {got}; allowed: "):
        graph_smote(data, seed=0)


def test_graph_smote_without_edges_or_with_an_empty_edge_list():
    data = _graph()
    plain = Data(x=data.x, y=data.y, train_mask=data.train_mask)
    out = graph_smote(plain, seed=0)
    assert out.x.size(0) > data.num_nodes and out.edge_index is None
    data.edge_index = torch.empty(2, 0, dtype=torch.long)
    out = graph_smote(data, seed=0)
    assert out.edge_index.shape == (2, 0)


# ---- SMOTE / ADASYN: X of a dtype imbalanced-learn cannot interpolate ---------------------


@pytest.mark.parametrize("sampler", [SMOTE, ADASYN])
def test_boolean_X_is_an_input_error(sampler):
    # imbalanced-learn itself fails with numpy's "boolean subtract" TypeError here.
    X = np.random.default_rng(0).random((30, 3)) > 0.5
    y = np.array([0] * 24 + [1] * 6)
    name = sampler._augkit_name
    want = rf"^{name}: X got dtype bool; allowed: numbers \(int or float\)"
    with pytest.raises(InputError, match=want):
        sampler(random_state=0).fit_resample(X, y)
    with pytest.raises(InputError, match=want):
        augkit.make(name)((X, y), generator=0)
    with pytest.raises(InputError, match=want):
        augkit.make(name)((torch.from_numpy(X), torch.from_numpy(y)), generator=0)


@pytest.mark.parametrize("sampler", [SMOTE, ADASYN])
@pytest.mark.parametrize("shape", [(30,), (30, 3, 2)])
def test_X_of_one_or_three_dimensions_is_an_input_error(sampler, shape):
    X = np.random.default_rng(0).random(shape)
    y = np.array([0] * 24 + [1] * 6)
    with pytest.raises(InputError, match=rf"^{sampler._augkit_name}: X got shape "
                                         rf"{re.escape(str(shape))}; allowed: a 2-D array"):
        sampler(random_state=0).fit_resample(X, y)


# ---- generated malformed tables -----------------------------------------------------------

FAULTS = ["none", "none", "none", "nan", "inf", "1d", "3d", "one_row", "no_rows", "one_class",
          "short_y", "long_y", "no_features", "tiny_class", np.bool_, object, np.float16,
          np.int64, np.uint8]


@st.composite
def tables(draw):
    """A valid table (two or three classes, 8-40 rows) with at most one fault of each kind a
    user's data has: non-finite entries, X of 1 or 3 dimensions, one row, no rows, one class,
    y of the wrong length, no features, a class of one sample, or another dtype."""
    fault = draw(st.sampled_from(FAULTS))
    n, d = draw(st.integers(8, 40)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    y = np.sort(rng.integers(0, draw(st.integers(2, 3)), size=n))
    y[: n * 2 // 3] = 0  # a clear majority
    y[-3:] = y.max() if fault != "tiny_class" else y[-3:]
    X = rng.normal(size=(n, d)) * 10
    if fault in ("nan", "inf"):
        X.flat[draw(st.integers(0, X.size - 1))] = np.nan if fault == "nan" else -np.inf
    X = {"1d": X[:, 0], "3d": X[:, :, None], "one_row": X[:1], "no_rows": X[:0],
         "no_features": X[:, :0]}.get(fault, X)
    y = {"one_row": y[:1], "no_rows": y[:0], "one_class": np.zeros_like(y), "short_y": y[:-1],
         "long_y": np.append(y, 0), "tiny_class": np.append(y, y.max() + 1)}.get(fault, y)
    if fault == "tiny_class":
        X = np.vstack([X, X[:1]])
    if not isinstance(fault, str):
        X = X > 0 if fault is np.bool_ else X.astype(fault)
    if draw(st.booleans()) and fault is not object:
        return torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(y)
    return X, y


def _copy(a):
    return a.clone() if isinstance(a, torch.Tensor) else a.copy()


def _same(a, b):
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and torch.equal(a, b) or bool(
            torch.isnan(a.float()).any() and torch.equal(a.isnan(), b.isnan()))
    if object in (a.dtype, b.dtype):  # X as imbalanced-learn reads it
        a, b = a.astype(np.float64), b.astype(np.float64)
    return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")


@pytest.mark.parametrize("name", ["smote", "adasyn"])
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=tables(), k=st.sampled_from([1, 3, "auto"]))
def test_malformed_tables_give_an_output_or_an_augkit_error(name, data, k):
    X, y = data
    before = (_copy(X), _copy(y))
    t = augkit.make(name, **{"k_neighbors" if name == "smote" else "n_neighbors": k})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X_res, y_res = t((X, y), generator=0)
    except AugkitError:
        pass
    else:
        n = X.shape[0]
        assert type(X_res) is type(X) and type(y_res) is type(y)
        assert X_res.ndim == 2 and X_res.shape[1] == X.shape[1]
        assert X_res.shape[0] == y_res.shape[0] >= n
        # imbalanced-learn reads an object array as float64 (sklearn's check_array does).
        assert X_res.dtype == (np.float64 if X.dtype == object else X.dtype)
        assert y_res.dtype == y.dtype
        assert _same(X_res[:n], X) and _same(y_res[:n], y)
    assert _same(X, before[0]) and _same(y, before[1])


# ---- generated malformed graphs -----------------------------------------------------------

GRAPH_FAULTS = ["none", "none", "id_high", "id_negative", "ei_int32", "ei_float", "ei_rows",
                "ei_numpy", "no_edges", "x_half", "x_int", "x_nan", "x_1d", "y_2d", "y_short",
                "mask_long", "mask_empty", "one_class", "noncontiguous"]


def _graph_fault(data, fault, rng):
    ei, n = data.edge_index, data.num_nodes
    changes = {
        "id_high": lambda: {"edge_index": torch.where(ei == 0, n + int(rng.integers(0, 9)), ei)},
        "id_negative": lambda: {"edge_index": torch.where(ei == 0, -1, ei)},
        "ei_int32": lambda: {"edge_index": ei.int()},
        "ei_float": lambda: {"edge_index": ei.float()},
        "ei_rows": lambda: {"edge_index": ei.repeat(2, 1)},
        "ei_numpy": lambda: {"edge_index": ei.numpy()},
        "no_edges": lambda: {"edge_index": ei[:, :0]},
        "x_half": lambda: {"x": data.x.half()},
        "x_int": lambda: {"x": data.x.long()},
        "x_nan": lambda: {"x": torch.where(data.train_mask[:, None], torch.nan, data.x)},
        "x_1d": lambda: {"x": data.x[:, 0]},
        "y_2d": lambda: {"y": data.y[:, None]},
        "y_short": lambda: {"y": data.y[1:]},
        "mask_long": lambda: {"train_mask": data.train_mask.long()},
        "mask_empty": lambda: {"train_mask": torch.zeros_like(data.train_mask)},
        "one_class": lambda: {"y": torch.zeros_like(data.y)},
        "noncontiguous": lambda: {"x": data.x.t().contiguous().t(),
                                  "edge_index": ei.t().contiguous().t()},
    }
    for key, value in changes.get(fault, dict)().items():
        data[key] = value
    return data


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fault=st.sampled_from(GRAPH_FAULTS), seed=st.integers(0, 2**16),
       edges=st.sampled_from(["copy_source", "mix"]), k=st.sampled_from([2, "auto"]))
def test_malformed_graphs_give_an_output_or_an_augkit_error(fault, seed, edges, k):
    data = imbalanced_sbm(120, avg_degree=4, class_fractions=(0.7, 0.2, 0.1),
                          train_fraction=0.6, seed=seed)
    data = _graph_fault(data, fault, np.random.default_rng(seed))
    before = {key: _copy(v) for key, v in data.items() if hasattr(v, "shape")}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = graph_smote(data, k_neighbors=k, edges=edges, seed=seed)
    except AugkitError:
        pass
    else:
        n, m = data.num_nodes, out.num_nodes
        assert out.x.shape == (m, data.x.shape[1]) and out.x.dtype == data.x.dtype
        assert out.y.shape == (m,) and out.train_mask.shape == (m,)
        assert torch.equal(out.edge_index[:, : data.edge_index.shape[1]], data.edge_index)
        ids = out.edge_index.reshape(-1).tolist()
        assert all(0 <= i < m for i in ids)
        assert m >= n
    for key, value in before.items():
        assert _same(data[key], value) if isinstance(value, torch.Tensor) else (
            np.array_equal(data[key], value))
