"""Feature statistics shared by the scaling transforms (``augkit.scaling``) and the
scikit-learn compatible scalers (``augkit.scalers``): min/max and mean/variance in numpy and
torch, per column or per group, and the scale and shift they give. The rules follow
scikit-learn's ``sklearn/preprocessing/_data.py`` (see ``augkit.scaling``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

_F64_EPS = float(np.finfo(np.float64).eps)
# Rows per chunk so one chunk (and its float64 temporaries) stays in cache: every statistic
# reads the data from memory once.
_CHUNK_BYTES = 1 << 20


def chunk_rows(X: np.ndarray) -> int:
    per_row = max(1, X.shape[1]) * 8
    return max(64, _CHUNK_BYTES // per_row)


def acc_dtype(device: torch.device) -> torch.dtype:
    """The accumulation dtype on ``device``: float64, except where the device has none (MPS)."""
    return torch.float32 if device.type == "mps" else torch.float64


def float_dtype_of(x: torch.Tensor) -> torch.dtype:
    """The dtype a scaled tensor is returned in: its own float dtype, else the default."""
    return x.dtype if x.is_floating_point() else torch.get_default_dtype()


# ---- numpy statistics --------------------------------------------------------------------


def np_min_max(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column (min, max) ignoring NaN (an all-NaN column gives NaN), one pass over X."""
    n, f = X.shape
    if n == 0:
        return np.full(f, np.nan, X.dtype), np.full(f, np.nan, X.dtype)
    step = chunk_rows(X)
    lo = np.fmin.reduce(X[:step], axis=0)
    hi = np.fmax.reduce(X[:step], axis=0)
    for start in range(step, n, step):
        chunk = X[start : start + step]
        np.fmin(lo, np.fmin.reduce(chunk, axis=0), out=lo)
        np.fmax(hi, np.fmax.reduce(chunk, axis=0), out=hi)
    return lo, hi


def np_mean_var(
    X: np.ndarray, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-column (mean, var, count) in float64, NaN ignored, ddof 0 (corrected two-pass).

    ``count`` is the number of non-NaN values, or their summed weights with ``sample_weight``.
    A column with no value gives NaN mean and variance.
    """
    n, f = X.shape
    step = chunk_rows(X)
    if sample_weight is None:
        # Fast path, chunked so X is read from memory twice and no full-size temporary exists.
        s = np.zeros(f)
        for start in range(0, n, step):
            s += np.add.reduce(X[start : start + step], axis=0, dtype=np.float64)
        if np.all(np.isfinite(s)):
            mean = s / n if n else np.full(f, np.nan)
            corr = np.zeros(f)
            m2 = np.zeros(f)
            for start in range(0, n, step):
                d = X[start : start + step] - mean
                corr += d.sum(axis=0)
                m2 += np.einsum("ij,ij->j", d, d)
            with np.errstate(divide="ignore", invalid="ignore"):
                var = (m2 - corr**2 / n) / n
            return mean, var, np.full(f, float(n))
    # NaNs (or infinities, which the caller reports) or weights: sklearn's masked formulas.
    mask = np.isnan(X)
    Xz = np.where(mask, 0.0, X).astype(np.float64, copy=False)
    if sample_weight is None:
        count = (n - mask.sum(axis=0)).astype(np.float64)
        s = Xz.sum(axis=0)
    else:
        w = np.asarray(sample_weight, dtype=np.float64)
        count = w @ (~mask).astype(np.float64)
        s = w @ Xz
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s / count
        d = np.where(mask, 0.0, Xz - mean)
        var = _corrected_var(d, None if sample_weight is None else w, count)
    return mean, var, count


def _corrected_var(d: Any, w: Any, count: Any) -> Any:
    """The ddof-0 variance from deviations ``d`` (0 where a value is missing) with the
    corrected two-pass term; ``w``: the sample weights, or None (numpy or torch)."""
    if w is None:
        corr, m2 = d.sum(0), (d * d).sum(0)
    else:
        corr, m2 = w @ d, w @ (d * d)
    return (m2 - corr**2 / count) / count


def merge_mean_var(
    old: tuple[Any, Any, Any], new: tuple[Any, Any, Any]
) -> tuple[Any, Any, Any]:
    """Chan-Golub-LeVeque merge of two (mean, var, count) summaries (numpy or torch)."""
    m_a, v_a, n_a = old
    m_b, v_b, n_b = new
    xp = torch if isinstance(m_a, torch.Tensor) else np
    n = n_a + n_b
    if xp is np:
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = n_b / n
            delta = m_b - m_a
            mean = m_a + delta * frac
            var = (v_a * n_a + v_b * n_b + delta**2 * n_a * frac) / n
    else:
        frac = n_b / n
        delta = m_b - m_a
        mean = m_a + delta * frac
        var = (v_a * n_a + v_b * n_b + delta**2 * n_a * frac) / n
    # A side that saw no value for a column (mean NaN) contributes nothing.
    mean = xp.where(n_a == 0, m_b, xp.where(n_b == 0, m_a, mean))
    var = xp.where(n_a == 0, v_b, xp.where(n_b == 0, v_a, var))
    return mean, var, n


def constant_mask(var: Any, mean: Any, count: Any) -> Any:
    """sklearn's ``_is_constant_feature``: variance within the error bound of the two-pass
    algorithm (always judged with float64's epsilon)."""
    bound = count * _F64_EPS * var + (count * mean * _F64_EPS) ** 2
    return var <= bound


def std_scale(var: Any, mean: Any, count: Any) -> Any:
    """sqrt(var), with near-constant columns (and columns with no value) set to 1."""
    xp = torch if isinstance(var, torch.Tensor) else np
    scale = xp.sqrt(var)
    const = constant_mask(var, mean, count)
    return xp.where(const | xp.isnan(var), xp.ones_like(scale), scale)


def range_scale(lo: Any, hi: Any, feature_range: tuple[float, float]) -> tuple[Any, Any]:
    """MinMax (scale, min) from the column range; a near-zero range counts as 1 (sklearn)."""
    xp = torch if isinstance(lo, torch.Tensor) else np
    data_range = hi - lo
    eps = (torch.finfo if xp is torch else np.finfo)(data_range.dtype).eps
    safe = xp.where(data_range < 10 * eps, xp.ones_like(data_range), data_range)
    scale = (feature_range[1] - feature_range[0]) / safe
    return scale, feature_range[0] - lo * scale


# ---- torch statistics --------------------------------------------------------------------


def row_slices(x: Any) -> list[slice]:
    """Cache-sized row chunks on the CPU (each read from memory once for several statistics);
    one slice elsewhere (a GPU wants few large kernels)."""
    if isinstance(x, torch.Tensor) and x.device.type != "cpu" or x.shape[0] == 0:
        return [slice(None)]
    step = chunk_rows(x)
    return [slice(start, start + step) for start in range(0, x.shape[0], step)]


def torch_min_max(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-column (min, max) ignoring NaN, in x's dtype; an all-NaN column gives NaN."""
    if x.shape[0] == 0:
        nan = torch.full((x.shape[1],), float("nan"), dtype=x.dtype, device=x.device)
        return nan, nan.clone()
    parts = [torch.aminmax(x[c], dim=0) for c in row_slices(x)]
    lo = torch.stack([p[0] for p in parts]).amin(0)
    hi = torch.stack([p[1] for p in parts]).amax(0)
    if not bool(torch.isnan(lo).any() | torch.isnan(hi).any()):
        return lo, hi
    # NaNs propagate through aminmax: mask them (a rarer, slower path).
    nan = torch.isnan(x)
    lo = torch.where(nan, torch.inf, x).amin(0)
    hi = torch.where(nan, -torch.inf, x).amax(0)
    empty = nan.all(0)
    return lo.masked_fill(empty, float("nan")), hi.masked_fill(empty, float("nan"))


def torch_mean_var(
    x: torch.Tensor, sample_weight: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-column (mean, var, count) accumulated in float64 (float32 on MPS), NaN ignored."""
    acc = acc_dtype(x.device)
    n, f = x.shape
    if sample_weight is None and n > 0:
        # Fast path: chunked two-pass sums; a non-finite sum sends NaN data to the masked path.
        chunks = row_slices(x)
        s = torch.zeros(f, dtype=acc, device=x.device)
        for c in chunks:
            s += x[c].sum(0, dtype=acc)
        if bool(torch.isfinite(s).all()):
            mean = s / n
            corr = torch.zeros_like(s)
            m2 = torch.zeros_like(s)
            for c in chunks:
                d = x[c].to(acc) - mean
                corr += d.sum(0)
                m2 += (d * d).sum(0)
            var = (m2 - corr**2 / n) / n
            return mean, var, torch.full((f,), float(n), dtype=acc, device=x.device)
    nan = torch.isnan(x)
    has_nan = bool(nan.any())
    xa = x.to(acc)
    if has_nan:
        xa = xa.masked_fill(nan, 0.0)
    if sample_weight is None:
        count = (n - nan.sum(0)).to(acc) if has_nan else torch.full((f,), float(n), dtype=acc,
                                                                      device=x.device)
        s = xa.sum(0)
    else:
        w = sample_weight.to(device=x.device, dtype=acc)
        count = w @ (~nan).to(acc)
        s = w @ xa
    mean = s / count
    d = xa - mean
    if has_nan:
        d = d.masked_fill(nan, 0.0)
    var = _corrected_var(d, None if sample_weight is None else w, count)
    return mean, var, count


def group_min_max(
    x: torch.Tensor, index: torch.Tensor, groups: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-group per-column (min, max) ignoring NaN: one scatter each, no loop over groups."""
    f = x.shape[1]
    nan = torch.isnan(x)
    idx = index.view(-1, 1).expand(-1, f)
    lo = torch.full((groups, f), torch.inf, dtype=x.dtype, device=x.device)
    hi = torch.full((groups, f), -torch.inf, dtype=x.dtype, device=x.device)
    lo = lo.scatter_reduce(0, idx, torch.where(nan, torch.inf, x), "amin")
    hi = hi.scatter_reduce(0, idx, torch.where(nan, -torch.inf, x), "amax")
    count = torch.zeros((groups, f), dtype=torch.long, device=x.device)
    count = count.index_add_(0, index, (~nan).long())
    empty = count == 0
    return lo.masked_fill(empty, float("nan")), hi.masked_fill(empty, float("nan"))


def group_mean_var(
    x: torch.Tensor, index: torch.Tensor, groups: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-group per-column (mean, var, count) with the corrected two-pass formula."""
    acc = acc_dtype(x.device)
    f = x.shape[1]
    nan = torch.isnan(x)
    xa = x.to(acc).masked_fill(nan, 0.0)
    zeros = torch.zeros((groups, f), dtype=acc, device=x.device)
    count = zeros.index_add(0, index, (~nan).to(acc))
    mean = zeros.index_add(0, index, xa) / count
    d = (xa - mean[index]).masked_fill(nan, 0.0)
    corr = zeros.index_add(0, index, d)
    m2 = zeros.index_add(0, index, d * d)
    var = (m2 - corr**2 / count) / count
    return mean, var, count
