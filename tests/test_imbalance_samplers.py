"""smote and adasyn: equal to imbalanced-learn, compatible with it, and augkit's checks."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import augkit
from augkit.errors import InputError, ParamError, PolicyError

imblearn = pytest.importorskip("imblearn")
from imblearn.over_sampling import ADASYN as ImbADASYN  # noqa: E402
from imblearn.over_sampling import SMOTE as ImbSMOTE  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

from augkit.plugins.imbalance import ADASYN, SMOTE  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    # sklearn's k-NN spins up OpenMP threads per call: on a small shared machine, one thread
    # is several times faster for these tiny datasets.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


ORIGINAL = {"smote": ImbSMOTE, "adasyn": ImbADASYN}
KEY = {"smote": "k_neighbors", "adasyn": "n_neighbors"}


# ---- generated datasets --------------------------------------------------------------------


@st.composite
def datasets(draw, min_count=6):
    """(X, y): 2 to 4 classes with arbitrary labels, overlapping clouds, float32 or float64."""
    n_classes = draw(st.integers(2, 4))
    labels = draw(st.lists(st.integers(-5, 50), min_size=n_classes, max_size=n_classes,
                           unique=True))
    counts = draw(st.lists(st.integers(min_count, 40), min_size=n_classes,
                           max_size=n_classes))
    n_features = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    y = np.repeat(np.asarray(labels), counts)
    X = rng.standard_normal((len(y), n_features)) + 0.7 * (y[:, None] % 3)
    order = rng.permutation(len(y))
    return X[order].astype(dtype), y[order]


@st.composite
def strategies(draw, y):
    """Every form of sampling_strategy imbalanced-learn takes, valid for y."""
    counts = Counter(y.tolist())
    forms = ["auto", "minority", "not minority", "not majority", "all", "dict", "callable"]
    if len(counts) == 2:
        forms.append("float")
    form = draw(st.sampled_from(forms))
    if form in ("dict", "callable"):
        chosen = draw(st.lists(st.sampled_from(sorted(counts)), min_size=1, unique=True))
        targets = {c: counts[c] + draw(st.integers(0, 30)) for c in chosen}
        return targets if form == "dict" else (lambda _y, t=targets: dict(t))
    if form == "float":
        n_min, n_max = min(counts.values()), max(counts.values())
        low = (n_min + 1) / n_max  # int(n_max * r - n_min) >= 1
        if low + 1e-9 > 1.0:  # one sample apart (e.g. 6 and 7): no valid float above low
            return "auto"
        return draw(st.floats(low + 1e-9, 1.0))
    return form


def _run(fn):
    """(result, None) or (None, exception)."""
    try:
        return fn(), None
    except Exception as exc:
        return None, exc


@pytest.mark.parametrize("name", ["smote", "adasyn"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_equal_to_imbalanced_learn(name, data):
    X, y = data.draw(datasets())
    strategy = data.draw(strategies(y))
    seed = data.draw(st.integers(0, 2**32 - 1))
    X0, y0 = X.copy(), y.copy()
    ours, our_err = _run(lambda: augkit.make(name, random_state=seed,
                                             sampling_strategy=strategy).fit_resample(X, y))
    theirs, their_err = _run(lambda: ORIGINAL[name](
        random_state=seed, sampling_strategy=strategy).fit_resample(X, y))
    # ADASYN refuses some data (no minority sample near another class): then both refuse.
    assert (our_err is None) == (their_err is None), (our_err, their_err)
    if our_err is not None:
        assert isinstance(our_err, InputError)
        return
    assert ours[0].dtype == X.dtype == theirs[0].dtype
    np.testing.assert_array_equal(ours[0], theirs[0])  # bit for bit
    np.testing.assert_array_equal(ours[1], theirs[1])
    np.testing.assert_array_equal(X, X0)  # inputs unchanged
    np.testing.assert_array_equal(y, y0)


def _expected_counts(strategy, y):
    counts = Counter(y.tolist())
    plan = imblearn.utils.check_sampling_strategy(strategy, y, "over-sampling")
    return {c: counts[c] + int(plan.get(c, 0)) for c in counts}


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_smote_counts_match_the_strategy(data):
    X, y = data.draw(datasets())
    strategy = data.draw(strategies(y))
    _, y_res = augkit.make("smote", sampling_strategy=strategy).fit_resample(
        X, y, generator=data.draw(st.integers(0, 2**20)))
    assert dict(Counter(y_res.tolist())) == _expected_counts(strategy, y)


def test_adasyn_counts_are_the_strategy_up_to_rounding():
    # ADASYN draws rint(r_i * G) per minority sample: off by at most half a sample each.
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [200, 40, 25])
    X = rng.standard_normal((len(y), 3)) + 0.5 * y[:, None]
    _, y_res = augkit.make("adasyn", random_state=1).fit_resample(X, y)
    got = Counter(y_res.tolist())
    assert got[0] == 200
    for c, n in ((1, 40), (2, 25)):
        assert abs(got[c] - 200) <= n / 2
    assert got[1] != 40 and got[2] != 25  # something was generated


def _on_segments(X, y, X_res, y_res, k):
    """For every synthetic row: the best (source, neighbour) pair among each class member and
    its k nearest same-class points: (largest residual, smallest u, largest u)."""
    n = len(X)
    X64 = X.astype(np.float64)
    worst, u_min, u_max = 0.0, 1.0, 0.0
    for c in np.unique(y):
        members = X64[y == c]
        new = X_res[n:][y_res[n:] == c].astype(np.float64)
        if len(new) == 0:
            continue
        nn = NearestNeighbors(n_neighbors=k + 1).fit(members)
        nbrs = nn.kneighbors(members, return_distance=False)[:, 1:]
        a = np.repeat(members, k, axis=0)  # sources
        d = members[nbrs.reshape(-1)] - a  # towards each neighbour
        dd = np.maximum((d * d).sum(1), 1e-300)
        u = ((new[:, None, :] - a[None]) * d[None]).sum(-1) / dd[None]
        u_clip = np.clip(u, 0.0, 1.0)
        resid = np.linalg.norm(new[:, None, :] - a[None] - u_clip[..., None] * d[None], axis=-1)
        best = resid.argmin(1)
        worst = max(worst, float(resid[np.arange(len(new)), best].max()))
        chosen = u[np.arange(len(new)), best]
        u_min, u_max = min(u_min, float(chosen.min())), max(u_max, float(chosen.max()))
    return worst, u_min, u_max


@pytest.mark.parametrize("name", ["smote", "adasyn"])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_synthetic_point_lies_on_a_segment_to_a_neighbour(name, data):
    X, y = data.draw(datasets())
    k = data.draw(st.integers(1, 5))
    t = augkit.make(name, **{KEY[name]: k})
    try:
        X_res, y_res = t.fit_resample(X, y, generator=data.draw(st.integers(0, 2**20)))
    except InputError:  # ADASYN: no minority sample near another class
        assert name == "adasyn"
        return
    np.testing.assert_array_equal(X_res[: len(X)], X)  # originals first, unchanged
    worst, u_min, u_max = _on_segments(X, y, X_res, y_res, k)
    scale = float(np.abs(X).max()) + 1.0
    tol = (1e-5 if X.dtype == np.float32 else 1e-10) * scale
    assert worst <= tol
    assert -1e-6 <= u_min and u_max <= 1 + 1e-6


def test_segment_check_can_fail():
    # A point off every segment is caught: the property test is not vacuous.
    X = np.array([[0.0, 0], [1, 0], [0, 1], [5, 5], [6, 5], [5, 6], [6, 6]])
    y = np.array([0, 0, 0, 1, 1, 1, 1])
    X_res = np.vstack([X, [[0.5, 0.5]]])  # class 0, but off the segments
    worst, _, _ = _on_segments(X, y, X_res, np.append(y, 0), 1)
    assert worst > 0.1


# ---- torch, dtypes, policies ---------------------------------------------------------------


def _table(n=(120, 30, 12), d=4, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(n)), n)
    return rng.standard_normal((len(y), d)) + y[:, None], y


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_torch_in_torch_out(dtype):
    X, y = _table()
    Xt, yt = torch.tensor(X, dtype=dtype), torch.tensor(y, dtype=torch.int32)
    before = Xt.clone()
    X_res, y_res = augkit.make("smote", random_state=5).fit_resample(Xt, yt)
    assert isinstance(X_res, torch.Tensor) and X_res.dtype == dtype and y_res.dtype == torch.int32
    assert X_res.device == Xt.device
    assert torch.equal(Xt, before)
    # numpy has no bfloat16: it is resampled as float32 and rounded back.
    Xn = Xt.float().numpy() if dtype == torch.bfloat16 else Xt.numpy()
    ref_X, ref_y = ImbSMOTE(random_state=5).fit_resample(Xn, yt.numpy())
    assert torch.equal(X_res, torch.from_numpy(ref_X).to(dtype))
    assert torch.equal(y_res, torch.from_numpy(ref_y))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_torch_cuda_stays_on_cuda():
    X, y = _table()
    X_res, y_res = augkit.make("smote", random_state=0).fit_resample(
        torch.tensor(X, device="cuda"), torch.tensor(y, device="cuda"))
    assert X_res.device.type == "cuda" and y_res.device.type == "cuda"


def test_policy_is_reproducible_and_seeded_by_the_policy():
    X, y = _table()
    text = "augkit: 1\nseed: {s}\ndataset:\n  - smote: {{k_neighbors: 3}}\n"
    a = augkit.load_policy(text.format(s=7)).fit_resample(X, y)
    b = augkit.load_policy(text.format(s=7)).fit_resample(X, y)
    c = augkit.load_policy(text.format(s=8)).fit_resample(X, y)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    assert Counter(a[1].tolist()) == {0: 120, 1: 120, 2: 120}


def test_example_policy_loads_and_balances():
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "policies" / "imbalance.yaml"
    policy = augkit.load_policy(path)
    X, y = _table()
    _, y_res = policy.fit_resample(X, y)
    assert len(set(Counter(y_res.tolist()).values())) == 1


def test_replay_gives_the_same_rows():
    X, y = _table()
    t = augkit.make("adasyn")
    out, params = t((X, y), generator=3, return_params=True)
    again = t.replay((X, y), params)
    np.testing.assert_array_equal(out[0], again[0])
    assert 0 <= params["random_state"] < 2**32


def test_yaml_forms_of_sampling_strategy_and_their_errors():
    policy = augkit.load_policy(
        "dataset:\n  - smote: {sampling_strategy: {1: 100, 2: 90}}\n"
        "  - adasyn: {sampling_strategy: minority, n_neighbors: auto}\n")
    assert policy.dataset[0].sampling_strategy == {1: 100, 2: 90}
    assert augkit.load_policy(policy.to_yaml()) == policy
    with pytest.raises(PolicyError, match=r"dataset\[0\].smote.sampling_strategy"):
        augkit.load_policy("dataset:\n  - smote: {sampling_strategy: most}\n")
    with pytest.raises(PolicyError, match=r"k_neighbors"):
        augkit.load_policy("dataset:\n  - smote: {k_neighbors: 0}\n")
    with pytest.raises(PolicyError, match="dataset-level"):
        augkit.load_policy("sample:\n  - smote: {}\n")


def test_callable_strategy_works_in_python_and_has_no_yaml_form():
    X, y = _table()
    t = augkit.make("smote", sampling_strategy=lambda yy: {2: 50}, random_state=0)
    _, y_res = t.fit_resample(X, y)
    assert Counter(y_res.tolist()) == {0: 120, 1: 30, 2: 50}
    with pytest.raises(ParamError, match="callable"):
        t.to_dict()


# ---- errors ---------------------------------------------------------------------------------


def test_too_small_class_names_class_count_and_k():
    X, y = _table(n=(50, 30, 4))
    for name in ("smote", "adasyn"):
        with pytest.raises(InputError, match=rf"class 2 has 4 samples.*{KEY[name]}=5"):
            augkit.make(name).fit_resample(X, y)
    # A class left out of the strategy may be small.
    _, y_res = augkit.make("smote", sampling_strategy={1: 50}).fit_resample(X, y)
    assert Counter(y_res.tolist())[2] == 4


def test_auto_lowers_k_and_warns():
    X, y = _table(n=(50, 30, 4))
    with pytest.warns(UserWarning, match=r"k_neighbors=3: class 2 has only 4"):
        ours = augkit.make("smote", k_neighbors="auto", random_state=2).fit_resample(X, y)
    theirs = ImbSMOTE(k_neighbors=3, random_state=2).fit_resample(X, y)
    np.testing.assert_array_equal(ours[0], theirs[0])
    sampler = SMOTE(k_neighbors="auto", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning when the default fits
        sampler.fit_resample(*_table(n=(50, 30, 20)))
    assert sampler.k_neighbors_ == 5


@pytest.mark.parametrize("name", ["smote", "adasyn"])
def test_clear_input_errors(name):
    X, y = _table()
    t = augkit.make(name)
    with pytest.raises(InputError, match="one class"):
        t.fit_resample(X, np.zeros(len(y)))
    bad = X.copy()
    bad[7, 2] = np.nan
    with pytest.raises(InputError, match=r"NaN: 1 entry \(first in row 7\)"):
        t.fit_resample(bad, y)
    with pytest.raises(InputError, match="162 rows and y has 161 labels"):
        t.fit_resample(X, y[:-1])
    with pytest.raises(InputError, match=r"allowed: \(X, y\)"):
        t(X)
    with pytest.raises(InputError, match="not present"):
        augkit.make(name, sampling_strategy={9: 500}).fit_resample(X, y)


def test_adasyn_isolated_class_is_named():
    X = np.vstack([np.zeros((30, 2)), np.full((8, 2), 100.0)]) + \
        np.random.default_rng(0).random((38, 2))
    y = np.repeat([0, 1], [30, 8])
    with pytest.raises(InputError, match="class 1"):
        augkit.make("adasyn").fit_resample(X, y)
    # imbalanced-learn raises RuntimeError here: code that catches it to fall back still works.
    with pytest.raises(RuntimeError, match="class 1"):
        ADASYN().fit_resample(X, y)
    with pytest.raises(RuntimeError):
        augkit.make("adasyn").fit_resample(X, y)


def test_smote_names_smotenc_for_a_categorical_column():
    X = np.array([["a", 1.0], ["b", 2.0]] * 10, dtype=object)
    y = np.repeat([0, 1], [14, 6])
    with pytest.raises(InputError, match="smotenc"):
        augkit.make("smote").fit_resample(X, y)


# ---- imbalanced-learn compatibility ---------------------------------------------------------


def _checks():
    from imblearn.utils.estimator_checks import estimator_checks_generator

    # A fixed random_state: several checks compare two fits.
    for est in (SMOTE(random_state=0), ADASYN(random_state=0),
                SMOTE(k_neighbors="auto", random_state=0)):
        for instance, check in estimator_checks_generator(est):
            yield pytest.param(instance, check, id=f"{est!r}-{check.func.__name__}")


@pytest.mark.parametrize(("estimator", "check"), list(_checks()))
def test_imbalanced_learn_sampler_checks(estimator, check):
    from unittest import SkipTest

    try:
        check(estimator)
    except SkipTest as exc:  # e.g. pandas not installed
        pytest.skip(str(exc))


@pytest.mark.parametrize("est", [SMOTE(random_state=0), ADASYN(random_state=0)], ids=repr)
def test_sklearn_estimator_checks(est):
    from sklearn.utils.estimator_checks import check_estimator

    results = check_estimator(est, on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results
              if r["status"] == "failed"]
    assert not failed


def test_params_clone_and_pipeline():
    from imblearn.pipeline import Pipeline
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    s = SMOTE(k_neighbors=3, random_state=1)
    assert s.get_params() == {"k_neighbors": 3, "random_state": 1, "sampling_strategy": "auto"}
    assert clone(s).set_params(k_neighbors="auto").k_neighbors == "auto"
    X, y = _table(n=(150, 25))
    pipe = Pipeline([("over", SMOTE(random_state=0)), ("clf", LogisticRegression())])
    grid = GridSearchCV(pipe, {"over__k_neighbors": [2, "auto"]}, cv=2).fit(X, y)
    assert grid.best_params_["over__k_neighbors"] in (2, "auto")
    fitted = pipe.fit(X, y)
    assert fitted.predict(X).shape == (len(y),)  # the sampler ran only in fit
    t = augkit.make("smote", k_neighbors=4, random_state=9)
    assert t.sampler().get_params() == {"k_neighbors": 4, "random_state": 9,
                                        "sampling_strategy": "auto"}
