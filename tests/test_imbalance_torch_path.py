"""smote and adasyn's torch path (torch_resample): imbalanced-learn's results on CPU tensors,
the segment property, the draws' distributions, augkit's errors, and the CUDA path."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import augkit
from augkit.errors import InputError

imblearn = pytest.importorskip("imblearn")
scipy_stats = pytest.importorskip("scipy.stats")
from imblearn.over_sampling import ADASYN as ImbADASYN  # noqa: E402
from imblearn.over_sampling import SMOTE as ImbSMOTE  # noqa: E402

from augkit.plugins.imbalance.torch_resample import resample_torch  # noqa: E402

ORIGINAL = {"smote": ImbSMOTE, "adasyn": ImbADASYN}
KEY = {"smote": "k_neighbors", "adasyn": "n_neighbors"}


@pytest.fixture(autouse=True)
def _one_thread():
    # sklearn's k-NN spins up OpenMP threads per call: one is faster for these small tables.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def _table(seed: int, counts: list[int], d: int) -> tuple[np.ndarray, np.ndarray]:
    """Continuous random rows (no tied distances), classes 0..len(counts)-1 shuffled."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(counts)), counts)
    X = rng.standard_normal((len(y), d)) + 0.8 * y[:, None]
    order = rng.permutation(len(y))
    return X[order], y[order]


def _torch_path(name: str, X: torch.Tensor, y, seed: int, **kw):
    sampler = augkit.make(name, random_state=seed, **kw).sampler()
    return resample_torch(sampler, X, y), sampler


def _strategy(form: str, counts: list[int]):
    if form == "float":
        return 0.5
    if form == "dict":
        return {1: counts[1] + 40, 0: counts[0] + 60}
    return form


# ---- equal to imbalanced-learn --------------------------------------------------------------


@pytest.mark.parametrize("name", ["smote", "adasyn"])
@pytest.mark.parametrize(("counts", "d", "k", "form"), [
    ([200, 30], 3, 1, "float"),
    ([200, 30], 5, 5, "auto"),
    ([150, 40, 25], 8, 3, "dict"),
    ([300, 60, 20, 12], 2, 7, "auto"),
    ([120, 80, 40], 16, 4, "not majority"),
    ([90, 45], 1, 2, "dict"),
])
def test_equals_imblearn(name, counts, d, k, form):
    for seed in (0, 7):
        X, y = _table(seed + d, counts, d)
        strategy = _strategy(form, counts)
        (X_res, y_res), sampler = _torch_path(
            name, torch.from_numpy(X), torch.from_numpy(y), seed,
            sampling_strategy=strategy, **{KEY[name]: k})
        X_ref, y_ref = ORIGINAL[name](random_state=seed, sampling_strategy=strategy,
                                      **{KEY[name]: k}).fit_resample(X, y)
        assert X_res.shape == X_ref.shape
        np.testing.assert_allclose(X_res.numpy(), X_ref, rtol=1e-12, atol=0)
        np.testing.assert_array_equal(y_res.numpy(), y_ref)
        assert getattr(sampler, f"{KEY[name]}_") == k


@pytest.mark.parametrize("name", ["smote", "adasyn"])
def test_numpy_y_and_learned_state(name):
    X, y = _table(3, [100, 30, 20], 4)
    (X_res, y_res), sampler = _torch_path(name, torch.from_numpy(X), y, 3)
    ref = ORIGINAL[name](random_state=3)
    X_ref, y_ref = ref.fit_resample(X, y)
    assert isinstance(y_res, np.ndarray) and y_res.dtype == y_ref.dtype
    np.testing.assert_array_equal(y_res, y_ref)
    np.testing.assert_array_equal(X_res.numpy(), X_ref)
    assert dict(sampler.sampling_strategy_) == dict(ref.sampling_strategy_)
    assert sampler.n_features_in_ == 4


# ---- properties -----------------------------------------------------------------------------


DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]


@st.composite
def tables(draw):
    n_classes = draw(st.integers(2, 4))
    counts = draw(st.lists(st.integers(8, 40), min_size=n_classes, max_size=n_classes))
    d = draw(st.integers(1, 6))
    X, y = _table(draw(st.integers(0, 2**31)), counts, d)
    return X, y, draw(st.sampled_from(DTYPES)), draw(st.integers(1, 7))


def _on_segment(X_class: np.ndarray, new: np.ndarray, k: int, tol: float) -> None:
    """Every new row lies on a segment from a row of the class to one of its k nearest
    same-class neighbours (recomputed here in float64)."""
    d2 = ((X_class[:, None, :] - X_class[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    # Neighbours tied with the k-th (rounded half-precision rows) count as neighbours too.
    kth = np.sort(d2, axis=1)[:, k - 1:k]
    near = d2 <= kth * (1 + 1e-5) + 1e-12
    scale = max(1.0, float(np.abs(X_class).max()))
    for row in new:
        best = np.inf
        for i in range(len(X_class)):
            a = X_class[i]
            seg = X_class[near[i]] - a
            t = np.clip(((row - a) * seg).sum(1) / np.maximum((seg * seg).sum(1), 1e-300),
                        0.0, 1.0)
            best = min(best, float(np.abs(a + t[:, None] * seg - row).max(axis=1).min()))
        assert best <= tol * scale, best


@pytest.mark.parametrize("name", ["smote", "adasyn"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=tables())
def test_properties(name, data):
    X_np, y_np, dtype, k = data
    X = torch.from_numpy(X_np).to(dtype)
    y = torch.from_numpy(y_np).to(torch.int32)
    X_before, y_before = X.clone(), y.clone()
    try:
        (X_res, y_res), sampler = _torch_path(name, X, y, 11, **{KEY[name]: k})
    except (InputError, ValueError) as exc:  # ADASYN: an isolated class, or no rows drawn
        assert name == "adasyn" and ("no sample of class" in str(exc)
                                     or "No samples will be generated" in str(exc))
        return
    assert torch.equal(X, X_before) and torch.equal(y, y_before)
    assert X_res.dtype == dtype and X_res.device == X.device
    assert y_res.dtype == torch.int32 and y_res.device == y.device
    n = len(y_np)
    added = X_res.shape[0] - n
    assert X_res.shape == (n + added, X_np.shape[1]) and y_res.shape == (n + added,)
    assert torch.equal(X_res[:n], X) and torch.equal(y_res[:n], y)
    counts = Counter(y_res[n:].tolist())
    if name == "smote":
        assert counts == {c: m for c, m in sampler.sampling_strategy_.items() if m}
    Xf = X.double().numpy()
    tol = {torch.float64: 1e-9, torch.float32: 1e-5}.get(dtype, 2e-2)
    for c in counts:
        new = X_res[n:][y_res[n:] == c].double().numpy()
        _on_segment(Xf[y_np == c], new, k, tol)


def _draws(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(steps, pair of each new row, how many ends of each pair are a source) of one large
    draw with k = 1 on a 1-D table: the class's rows sorted and distinct, so each new value
    lies between two adjacent rows (pair j: rows j, j + 1), one the other's nearest
    neighbour. A pair whose rows are each other's nearest is drawn from either end, so its
    expected share is twice a one-way pair's; the step from either end is Uniform(0, 1)."""
    rng = np.random.default_rng(5)
    m = 400
    y = np.repeat([0, 1], [4000, m])
    # ADASYN needs minority rows with majority neighbours: the classes overlap at 10..11.
    majority = rng.uniform(0, 11 if name == "adasyn" else 1, 4000)
    cls = np.sort(rng.uniform(10, 20, m))
    X = np.concatenate([majority, cls])[:, None]
    sampler = augkit.make(name, random_state=5, **{KEY[name]: 1}).sampler()
    X_res, _ = resample_torch(sampler, torch.from_numpy(X), torch.from_numpy(y))
    new = X_res[len(y):, 0].numpy()
    lo = np.clip(np.searchsorted(cls, new, side="right") - 1, 0, m - 2)
    steps = (new - cls[lo]) / (cls[lo + 1] - cls[lo])
    gap = np.diff(cls)
    left = np.r_[np.inf, gap]  # distance to the row below, per row
    right = np.r_[gap, np.inf]
    up = right < left  # the row's nearest neighbour is the one above
    ends = up[:-1].astype(int) + (~up[1:]).astype(int)
    return steps, lo, ends


@pytest.mark.parametrize("name", ["smote", "adasyn"])
def test_steps_uniform(name):
    steps, _, _ = _draws(name)
    assert steps.min() >= 0.0 and steps.max() <= 1.0
    assert scipy_stats.kstest(steps, "uniform").pvalue > 1e-3


def test_sources_uniform_over_the_class():
    _, pair, ends = _draws("smote")
    counts = np.bincount(pair, minlength=len(ends))
    assert counts[ends == 0].sum() == 0
    expected = counts.sum() * ends[ends > 0] / ends.sum()
    assert scipy_stats.chisquare(counts[ends > 0], expected).pvalue > 1e-3


# ---- errors ---------------------------------------------------------------------------------


def _numpy_error(name: str, X: np.ndarray, y: np.ndarray, **kw) -> str:
    with pytest.raises(InputError) as exc:
        augkit.make(name, random_state=0, **kw).fit_resample(X, y)
    return str(exc.value)


def _torch_error(name: str, X: np.ndarray, y: np.ndarray, **kw) -> str:
    sampler = augkit.make(name, random_state=0, **kw).sampler()
    with pytest.raises(InputError) as exc:
        resample_torch(sampler, torch.from_numpy(X), torch.from_numpy(y))
    return str(exc.value)


@pytest.mark.parametrize("name", ["smote", "adasyn"])
def test_errors_as_numpy_path(name):
    X, y = _table(1, [40, 10], 3)
    bad = X.copy()
    bad[7, 1] = np.nan
    bad[9, 0] = np.nan
    assert _torch_error(name, bad, y) == _numpy_error(name, bad, y)
    inf = X.copy()
    inf[3, 2] = np.inf
    assert _torch_error(name, inf, y) == _numpy_error(name, inf, y)
    one = np.zeros_like(y)
    assert _torch_error(name, X, one) == _numpy_error(name, X, one)
    kw = {KEY[name]: 10}
    assert _torch_error(name, X, y, **kw) == _numpy_error(name, X, y, **kw)
    short = y[:-1]
    assert _torch_error(name, X, short) == _numpy_error(name, X, short)
    assert "bool" in _torch_error(name, X > 0, y) and "bool" in _numpy_error(name, X > 0, y)


def test_adasyn_isolated_class_as_numpy_path():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.standard_normal((50, 2)), 100 + rng.standard_normal((10, 2))])
    y = np.repeat([0, 1], [50, 10])
    assert _torch_error("adasyn", X, y) == _numpy_error("adasyn", X, y)


# ---- the real CUDA path ---------------------------------------------------------------------


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.mark.cuda
@cuda
@pytest.mark.parametrize("name", ["smote", "adasyn"])
def test_cuda_equals_imblearn(name):
    X, y = _table(2, [17_000, 2_000, 1_000], 16)
    t = augkit.make(name, random_state=4)
    X_res, y_res = t.fit_resample(torch.from_numpy(X).cuda(), torch.from_numpy(y).cuda())
    assert X_res.is_cuda and y_res.is_cuda
    X_ref, y_ref = ORIGINAL[name](random_state=4).fit_resample(X, y)
    np.testing.assert_allclose(X_res.cpu().numpy(), X_ref, rtol=1e-9, atol=0)
    np.testing.assert_array_equal(y_res.cpu().numpy(), y_ref)


@pytest.mark.cuda
@cuda
@pytest.mark.parametrize("name", ["smote", "adasyn"])
def test_cuda_float32_large(name):
    rng = np.random.default_rng(3)
    y = rng.choice(3, size=100_000, p=[0.9, 0.07, 0.03])
    X = (rng.standard_normal((100_000, 32)) + 0.5 * y[:, None]).astype(np.float32)
    t = augkit.make(name, random_state=1)
    X_res, y_res = t.fit_resample(torch.from_numpy(X).cuda(), torch.from_numpy(y).cuda())
    assert X_res.is_cuda and X_res.dtype == torch.float32
    n = len(y)
    assert X_res.shape[0] == y_res.shape[0] > n
    assert torch.equal(X_res[:n].cpu(), torch.from_numpy(X))
    counts = np.bincount(y_res.cpu().numpy(), minlength=3)
    if name == "smote":
        assert counts[1] == counts[2] == counts[0]
    else:
        assert abs(int(counts[1]) - int(counts[0])) < 0.01 * counts[0]
    # segment property on a sample of the new rows of the smallest class
    new = X_res[n:][y_res[n:] == 2][:50].double().cpu().numpy()
    _on_segment(X[y == 2].astype(np.float64), new, 5, 1e-5)
