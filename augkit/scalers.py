"""scikit-learn compatible ``MinMaxScaler`` and ``StandardScaler`` that also take torch tensors.

They subclass scikit-learn's ``BaseEstimator``, so this module imports scikit-learn; reach it
through ``augkit.scaling.MinMaxScaler`` (loaded on first access). Statistics, NaN handling,
constant columns and sample weights follow ``sklearn/preprocessing/_data.py`` (1.9); both pass
``sklearn.utils.estimator_checks.check_estimator``.

Where augkit differs, on purpose:

- numpy: one pass over the data per statistic, in cache-sized chunks, and the transform writes
  its output in one pass (scikit-learn copies, then scales and shifts in place: three passes);
  infinities are found from the fitted sums instead of a separate scan.
- torch tensors are computed with torch ops on their own device and returned in their own
  dtype (integers become the default float dtype); fitted attributes of a torch fit are torch
  tensors on that device (min/max in the input dtype, mean/var in float64, float32 on MPS),
  as scikit-learn's array-API mode keeps them in the input's namespace.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    validate_data,
)

from augkit._stats import (
    acc_dtype,
    chunk_rows,
    float_dtype_of,
    merge_mean_var,
    np_mean_var,
    np_min_max,
    range_scale,
    row_slices,
    std_scale,
    torch_mean_var,
    torch_min_max,
)

FLOAT_DTYPES = (np.float64, np.float32)


def _infinity(what: str = "X") -> ValueError:
    return ValueError(f"Input {what} contains infinity or a value too large for the dtype.")


def _torch_2d(X: torch.Tensor, est: BaseEstimator, reset: bool) -> torch.Tensor:
    if X.dim() != 2:
        raise ValueError(f"Expected 2D tensor, got shape {tuple(X.shape)}")
    if X.shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={tuple(X.shape)}) while a "
                         f"minimum of 1 is required by {type(est).__name__}.")
    if reset:
        est.n_features_in_ = int(X.shape[1])
        if hasattr(est, "feature_names_in_"):
            del est.feature_names_in_
    elif X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input."
        )
    return X if X.is_floating_point() else X.to(float_dtype_of(X))


def _like(value: Any, X: Any) -> Any:
    """A fitted attribute in X's namespace, device and dtype."""
    if isinstance(X, torch.Tensor):
        if isinstance(value, torch.Tensor):
            return value.to(device=X.device, dtype=X.dtype)
        return torch.as_tensor(np.asarray(value), device=X.device).to(X.dtype)
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value).astype(X.dtype, copy=False)


def _check_finite_out(out: np.ndarray, X: np.ndarray, what: str = "X") -> None:
    # A non-finite output sum (cheap: the chunk is in cache) flags a NaN or inf; NaN is
    # allowed, so only then look for an infinity.
    if not np.isfinite(np.add.reduce(out, axis=None)) and np.isinf(X).any():
        raise _infinity(what)


def _check_finite_torch(out: torch.Tensor, x: torch.Tensor) -> None:
    if not bool(torch.isfinite(out.sum())) and bool(torch.isinf(x).any()):
        raise _infinity()


def _torch_rowwise(X: torch.Tensor, out: torch.Tensor, fn: Any) -> None:
    for sl in row_slices(X):
        fn(X[sl], out[sl])


def _rowwise(X: np.ndarray, out: np.ndarray, fn: Any) -> None:
    """Run ``fn(x_chunk, out_chunk)`` over cache-sized row chunks."""
    step = chunk_rows(X)
    for start in range(0, X.shape[0], step):
        sl = slice(start, start + step)
        fn(X[sl], out[sl])


class MinMaxScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale each feature to ``feature_range`` (scikit-learn's ``MinMaxScaler``, numpy and
    torch).

    ``X_scaled = X * scale_ + min_`` with ``scale_ = (max - min) / (data_max_ - data_min_)``;
    a constant column maps to ``feature_range[0]``; NaNs are ignored in fit and kept.

    >>> import numpy as np
    >>> MinMaxScaler().fit_transform(np.array([[0.0], [5.0], [10.0]])).ravel().tolist()
    [0.0, 0.5, 1.0]
    """

    def __init__(self, feature_range: tuple[float, float] = (0, 1), *, clip: bool = False,
                 copy: bool = True) -> None:
        self.feature_range = feature_range
        self.clip = clip
        self.copy = copy

    def _reset(self) -> None:
        for attr in ("scale_", "min_", "n_samples_seen_", "data_min_", "data_max_",
                     "data_range_"):
            if hasattr(self, attr):
                delattr(self, attr)

    def fit(self, X: Any, y: Any = None) -> MinMaxScaler:
        """Compute the per-feature minimum and maximum of X (NaN ignored)."""
        self._reset()
        return self.partial_fit(X, y)

    def partial_fit(self, X: Any, y: Any = None) -> MinMaxScaler:
        """Merge the minimum and maximum of one more batch X."""
        lo_r, hi_r = self.feature_range
        if lo_r >= hi_r:
            raise ValueError(
                "Minimum of desired feature range must be smaller than maximum. Got "
                f"{self.feature_range}."
            )
        first = not hasattr(self, "n_samples_seen_")
        if isinstance(X, torch.Tensor):
            X = _torch_2d(X, self, first)
            lo, hi = torch_min_max(X)
            if bool(torch.isinf(lo).any() | torch.isinf(hi).any()):
                raise _infinity()
        else:
            # Infinity is found from the min/max below, not by an extra scan.
            X = validate_data(self, X, reset=first, dtype=FLOAT_DTYPES,
                              ensure_all_finite=False)
            lo, hi = np_min_max(X)
            if np.isinf(lo).any() or np.isinf(hi).any():
                raise _infinity()
        if first:
            self.n_samples_seen_ = X.shape[0]
        else:
            lo = _fmin(_like(self.data_min_, lo), lo)
            hi = _fmax(_like(self.data_max_, hi), hi)
            self.n_samples_seen_ += X.shape[0]
        self.scale_, self.min_ = range_scale(lo, hi, (lo_r, hi_r))
        self.data_min_, self.data_max_, self.data_range_ = lo, hi, hi - lo
        return self

    def transform(self, X: Any) -> Any:
        """Scale X to ``feature_range``."""
        check_is_fitted(self)
        if isinstance(X, torch.Tensor):
            X = _torch_2d(X, self, reset=False)
            scale, shift = _like(self.scale_, X), _like(self.min_, X)
            out = torch.empty_like(X) if self.copy else X
            clip = self.feature_range if self.clip else None

            def tkernel(x: torch.Tensor, o: torch.Tensor) -> None:
                torch.addcmul(shift, x, scale, out=o)
                _check_finite_torch(o, x)
                if clip is not None:
                    o.clamp_(*clip)

            _torch_rowwise(X, out, tkernel)
            return out
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES, ensure_all_finite=False,
                          copy=False, force_writeable=not self.copy)
        out = np.empty_like(X) if self.copy else X
        scale, shift = _like(self.scale_, X), _like(self.min_, X)
        lo_r, hi_r = self.feature_range

        def kernel(x: np.ndarray, o: np.ndarray) -> None:
            np.multiply(x, scale, out=o)
            _check_finite_out(o, x)
            o += shift
            if self.clip:
                np.clip(o, lo_r, hi_r, out=o)

        _rowwise(X, out, kernel)
        return out

    def inverse_transform(self, X: Any) -> Any:
        """Undo the scaling."""
        check_is_fitted(self)
        if isinstance(X, torch.Tensor):
            X = X if X.is_floating_point() else X.to(float_dtype_of(X))
            return (X - _like(self.min_, X)) / _like(self.scale_, X)
        X = check_array(X, copy=self.copy, dtype=FLOAT_DTYPES, force_writeable=True,
                        ensure_all_finite="allow-nan")
        X -= _like(self.min_, X)
        X /= _like(self.scale_, X)
        return X

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _fmin(a: Any, b: Any) -> Any:
    return torch.fmin(a, b) if isinstance(a, torch.Tensor) else np.fmin(a, b)


def _fmax(a: Any, b: Any) -> Any:
    return torch.fmax(a, b) if isinstance(a, torch.Tensor) else np.fmax(a, b)


class StandardScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise features: ``(X - mean_) / scale_`` (scikit-learn's ``StandardScaler``,
    numpy and torch).

    Mean and variance (ddof 0) accumulate in float64; a near-constant column gets scale 1 (so it
    maps to 0); NaNs are ignored in fit and kept; ``sample_weight`` weighs rows.

    >>> import numpy as np
    >>> StandardScaler().fit_transform(np.array([[1.0], [3.0]])).ravel().tolist()
    [-1.0, 1.0]
    """

    def __init__(self, *, copy: bool = True, with_mean: bool = True,
                 with_std: bool = True) -> None:
        self.copy = copy
        self.with_mean = with_mean
        self.with_std = with_std

    def _reset(self) -> None:
        for attr in ("scale_", "n_samples_seen_", "mean_", "var_"):
            if hasattr(self, attr):
                delattr(self, attr)

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> StandardScaler:
        """Compute the per-feature mean and standard deviation (NaN ignored)."""
        self._reset()
        return self.partial_fit(X, y, sample_weight)

    def partial_fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> StandardScaler:
        """Merge the mean and variance of one more batch X (Chan, Golub and LeVeque)."""
        first = not hasattr(self, "n_samples_seen_")
        if isinstance(X, torch.Tensor):
            X = _torch_2d(X, self, first)
            w = None
            if sample_weight is not None:
                w = torch.as_tensor(sample_weight, device=X.device).to(acc_dtype(X.device))
                if w.dim() == 0:
                    w = w.expand(X.shape[0])
                if w.shape != (X.shape[0],):
                    raise ValueError(f"sample_weight.shape == {tuple(w.shape)}, expected "
                                     f"({X.shape[0]},)!")
            mean, var, count = torch_mean_var(X, w)
            if not bool(torch.isfinite(mean[count > 0]).all()):
                raise _infinity()
        else:
            X = validate_data(self, X, reset=first, dtype=FLOAT_DTYPES,
                              ensure_all_finite=False)
            w = None
            if sample_weight is not None:
                w = _check_sample_weight(sample_weight, X, dtype=X.dtype)
            mean, var, count = np_mean_var(X, w)
            if not np.all(np.isfinite(mean[count > 0])):
                # A non-finite mean with values present means an infinity (NaNs are skipped).
                raise _infinity()
        if not first:
            last = self.n_samples_seen_
            xp = torch if isinstance(mean, torch.Tensor) else np
            last_count = (_like(last, mean) if xp is torch else np.asarray(last, np.float64)
                          ) * (xp.ones_like(mean))
            last_mean = self._mean_state
            last_var = self._var_state
            mean, var, count = merge_mean_var(
                (_like(last_mean, mean), _like(last_var, mean), last_count), (mean, var, count)
            )
        self._mean_state, self._var_state = mean, var
        self.n_samples_seen_ = self._counts(count)
        self.mean_ = mean if (self.with_mean or self.with_std) else None
        self.var_ = var if self.with_std else None
        self.scale_ = std_scale(var, mean, count) if self.with_std else None
        return self

    @staticmethod
    def _counts(count: Any) -> Any:
        # As sklearn: per-feature counts (float), one number when every feature agrees.
        if isinstance(count, torch.Tensor):
            return count[0].item() if bool((count == count[0]).all()) else count
        return count[0] if np.all(count == count[0]) else count

    def transform(self, X: Any, copy: bool | None = None) -> Any:
        """Centre and scale X."""
        check_is_fitted(self)
        copy = self.copy if copy is None else copy
        if isinstance(X, torch.Tensor):
            X = _torch_2d(X, self, reset=False)
            out = torch.empty_like(X) if copy else X
            tmean = _like(self.mean_, X) if self.with_mean else None
            tscale = _like(self.scale_, X) if self.with_std else None

            def tkernel(x: torch.Tensor, o: torch.Tensor) -> None:
                if tmean is not None:
                    torch.sub(x, tmean, out=o)
                elif o is not x:
                    o.copy_(x)
                if tscale is not None:
                    o.div_(tscale)
                _check_finite_torch(o, x)

            _torch_rowwise(X, out, tkernel)
            return out
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES, ensure_all_finite=False,
                          copy=False, force_writeable=not copy)
        out = np.empty_like(X) if copy else X
        mean = _like(self.mean_, X) if self.with_mean else None
        scale = _like(self.scale_, X) if self.with_std else None

        def kernel(x: np.ndarray, o: np.ndarray) -> None:
            if mean is not None:
                np.subtract(x, mean, out=o)
            elif o is not x:
                o[...] = x
            if scale is not None:
                o /= scale
            _check_finite_out(o, x)

        _rowwise(X, out, kernel)
        return out

    def inverse_transform(self, X: Any, copy: bool | None = None) -> Any:
        """Scale back to the original representation."""
        check_is_fitted(self)
        copy = self.copy if copy is None else copy
        if isinstance(X, torch.Tensor):
            X = X if X.is_floating_point() else X.to(float_dtype_of(X))
            out = X.clone() if copy else X
            if self.with_std:
                out.mul_(_like(self.scale_, X))
            if self.with_mean:
                out.add_(_like(self.mean_, X))
            return out
        X = check_array(X, copy=copy, dtype=FLOAT_DTYPES, force_writeable=True,
                        ensure_all_finite="allow-nan")
        if self.with_std:
            X *= _like(self.scale_, X)
        if self.with_mean:
            X += _like(self.mean_, X)
        return X

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
