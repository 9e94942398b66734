"""scikit-learn compatible ``MinMaxScaler`` and ``StandardScaler`` that also take torch tensors.

They subclass scikit-learn's ``BaseEstimator``, so this module imports scikit-learn; reach it
through ``augkit.scaling.MinMaxScaler`` (loaded on first access). Statistics, NaN handling,
constant columns, sample weights, sparse input and dtypes follow ``sklearn/preprocessing/_data.py``
(1.9); both pass ``sklearn.utils.estimator_checks.check_estimator`` and scikit-learn's own tests
of these classes (``tests/test_scaling_sklearn_own.py``). float16 input stays float16;
``StandardScaler(with_mean=False)`` scales CSR/CSC input. augkit's own checks (tensor shapes,
infinities, centring sparse input) raise ``InputError``, a bad ``feature_range`` ``ParamError``,
both ``ValueError`` with scikit-learn's message; numpy input is validated by scikit-learn itself;
``MinMaxScaler`` refuses sparse input with scikit-learn's ``TypeError``. Sparse input takes
scikit-learn's own sparse routines.
``StandardScaler`` reports to scikit-learn's fit callbacks (``set_callbacks``, scikit-learn 1.9).

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
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.sparsefuncs import (
    incr_mean_variance_axis,
    inplace_column_scale,
    mean_variance_axis,
)
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
from augkit.errors import InputError, ParamError

try:
    from sklearn.callback import CallbackSupportMixin, with_callbacks
except ImportError:  # scikit-learn < 1.9 has no fit callbacks

    class CallbackSupportMixin:  # type: ignore[no-redef]
        """Stands in for scikit-learn's callback mixin where scikit-learn has none."""

    def with_callbacks(method: Any) -> Any:  # type: ignore[no-redef]
        return method

# scikit-learn's supported_float_dtypes for numpy: float16 input stays float16.
FLOAT_DTYPES = (np.float64, np.float32, np.float16)


def _infinity(what: str = "X") -> InputError:
    return InputError(f"Input {what} contains infinity or a value too large for the dtype.")


_NO_CENTRE = ("Cannot center sparse matrices: pass `with_mean=False` instead. See docstring "
              "for motivation and alternatives.")
_NO_UNCENTRE = ("Cannot uncenter sparse matrices: pass `with_mean=False` instead See docstring "
                "for motivation and alternatives.")
_MINMAX_SPARSE = ("MinMaxScaler does not support sparse input. Consider using MaxAbsScaler "
                  "instead.")


def _finite_flag(X: Any) -> str | bool:
    # Sparse input is checked by validation (scikit-learn's message); dense input by the
    # fitted sums and the transform's output, which saves a scan.
    return "allow-nan" if sp.issparse(X) else False


def _torch_2d(X: torch.Tensor, est: BaseEstimator, reset: bool) -> torch.Tensor:
    if X.dim() != 2:
        raise InputError(f"Expected 2D tensor, got shape {tuple(X.shape)}")
    if X.shape[0] == 0:
        raise InputError(f"Found array with 0 sample(s) (shape={tuple(X.shape)}) while a "
                         f"minimum of 1 is required by {type(est).__name__}.")
    if reset:
        est.n_features_in_ = int(X.shape[1])
        if hasattr(est, "feature_names_in_"):
            del est.feature_names_in_
    elif X.shape[1] != est.n_features_in_:
        raise InputError(
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
    # float16 sums in float32: a float16 sum of in-range values overflows on tall data.
    acc = np.float32 if out.dtype == np.float16 else None
    if not np.isfinite(np.add.reduce(out, axis=None, dtype=acc)) and np.isinf(X).any():
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
    a constant column maps to ``feature_range[0]``; NaNs are ignored in fit and kept; sparse
    input raises scikit-learn's ``TypeError`` (shifting would make it dense).

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
            raise ParamError(
                "Minimum of desired feature range must be smaller than maximum. Got "
                f"{self.feature_range}."
            )
        if sp.issparse(X):
            raise TypeError(_MINMAX_SPARSE)
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
        if sp.issparse(X):
            raise TypeError(_MINMAX_SPARSE)
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


class StandardScaler(CallbackSupportMixin, OneToOneFeatureMixin, TransformerMixin,
                     BaseEstimator):
    """Standardise features: ``(X - mean_) / scale_`` (scikit-learn's ``StandardScaler``,
    numpy and torch).

    Mean and variance (ddof 0) accumulate in float64; a near-constant column gets scale 1 (so it
    maps to 0); NaNs are ignored in fit and kept; ``sample_weight`` weighs rows. CSR/CSC input
    needs ``with_mean=False`` (centring would make it dense); ``n_samples_seen_`` is a float,
    an integer when there is neither mean nor std nor ``sample_weight``, as in scikit-learn.

    One difference, on purpose: with ``with_mean=False, with_std=False`` and ``sample_weight``
    on dense input, ``n_samples_seen_`` is the summed weight of the non-NaN values, as in every
    other mode and for sparse input; scikit-learn counts rows there (its weighted count
    everywhere else), which no statistic uses, so one rule for all inputs is kept.

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

    @with_callbacks
    def partial_fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> StandardScaler:
        """Merge the mean and variance of one more batch X (Chan, Golub and LeVeque)."""
        first = not hasattr(self, "n_samples_seen_")
        if not isinstance(X, torch.Tensor):
            X = validate_data(self, X, reset=first, accept_sparse=("csr", "csc"),
                              dtype=FLOAT_DTYPES, ensure_all_finite=_finite_flag(X))
        ctx = self._init_callback_context() if hasattr(self, "_init_callback_context") else None
        if ctx is not None:
            ctx.call_on_fit_task_begin(estimator=self, X=X, y=y,
                                       metadata={"sample_weight": sample_weight})
        if sp.issparse(X):
            self._partial_fit_sparse(X, first, sample_weight)
        else:
            self._partial_fit_dense(X, first, sample_weight)
        if ctx is not None:
            ctx.call_on_fit_task_end(estimator=self, X=X, y=y,
                                     metadata={"sample_weight": sample_weight},
                                     reconstruction_attributes={})
        return self

    def _partial_fit_dense(self, X: Any, first: bool, sample_weight: Any) -> None:
        if isinstance(X, torch.Tensor):
            X = _torch_2d(X, self, first)
            w = None
            if sample_weight is not None:
                w = torch.as_tensor(sample_weight, device=X.device).to(acc_dtype(X.device))
                if w.dim() == 0:
                    w = w.expand(X.shape[0])
                if w.shape != (X.shape[0],):
                    raise InputError(f"sample_weight.shape == {tuple(w.shape)}, expected "
                                     f"({X.shape[0]},)!")
            mean, var, count = torch_mean_var(X, w)
            if not bool(torch.isfinite(mean[count > 0]).all()):
                raise _infinity()
        else:
            w = None
            if sample_weight is not None:
                w = _check_sample_weight(sample_weight, X, dtype=X.dtype)
            mean, var, count = np_mean_var(X, w)
            if not np.all(np.isfinite(mean[count > 0])):
                # A non-finite mean with values present means an infinity (NaNs are skipped).
                raise _infinity()
        if not first:
            last_count = self._count_state(mean)
            mean, var, count = merge_mean_var(
                (_like(self._mean_state, mean), _like(self._var_state, mean), last_count),
                (mean, var, count),
            )
        self._set_state(mean, var, count, weighted=sample_weight is not None)

    def _partial_fit_sparse(self, X: Any, first: bool, sample_weight: Any) -> None:
        if self.with_mean:
            raise InputError(_NO_CENTRE)
        w = None if sample_weight is None else _check_sample_weight(sample_weight, X,
                                                                    dtype=X.dtype)
        if self.with_std:
            if first:
                mean, var, count = mean_variance_axis(X, axis=0, weights=w,
                                                      return_sum_weights=True)
            else:
                f64 = np.zeros(0)  # a template: earlier (maybe torch) state as float64 numpy
                mean, var, count = incr_mean_variance_axis(
                    X, axis=0, last_mean=_like(self._mean_state, f64),
                    last_var=_like(self._var_state, f64),
                    last_n=self._count_state(np.zeros(X.shape[1])), weights=w)
        else:
            # Only counts: the mean and variance are never used without centring or scaling.
            weights = np.ones(X.shape[0]) if w is None else np.asarray(w, np.float64)
            nan = X.copy()
            nan.data = np.isnan(X.data).astype(np.float64)
            count = weights.sum() - weights @ nan
            if not first:
                count = count + self._count_state(count)
            mean = var = np.full(X.shape[1], np.nan)
        self._set_state(np.asarray(mean, np.float64), np.asarray(var, np.float64),
                        np.asarray(count, np.float64), weighted=sample_weight is not None)

    def _count_state(self, like: Any) -> Any:
        """The per-feature counts seen so far, as an array like ``like``."""
        last = self.n_samples_seen_
        if isinstance(like, torch.Tensor):
            return _like(last, like) * torch.ones_like(like)
        if isinstance(last, torch.Tensor):
            last = last.detach().cpu().numpy()
        return np.asarray(last, np.float64) * np.ones_like(like, dtype=np.float64)

    def _set_state(self, mean: Any, var: Any, count: Any, weighted: bool) -> None:
        self._mean_state, self._var_state = mean, var
        # As sklearn: a float count from the statistics or weights; rows counted, an integer.
        float_count = self.with_mean or self.with_std or weighted
        self.n_samples_seen_ = self._counts(count, float_count)
        self.mean_ = mean if (self.with_mean or self.with_std) else None
        self.var_ = var if self.with_std else None
        self.scale_ = std_scale(var, mean, count) if self.with_std else None

    @staticmethod
    def _counts(count: Any, float_count: bool) -> Any:
        # As sklearn: per-feature counts, one number when every feature agrees.
        if isinstance(count, torch.Tensor):
            return count[0].item() if bool((count == count[0]).all()) else count
        if not float_count:
            count = count.astype(np.int64)
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
        if sp.issparse(X):
            X = validate_data(self, X, reset=False, accept_sparse="csr", copy=copy,
                              dtype=FLOAT_DTYPES, force_writeable=True,
                              ensure_all_finite="allow-nan")
            if self.with_mean:
                raise InputError(_NO_CENTRE)
            if self.scale_ is not None:
                inplace_column_scale(X, 1 / np.asarray(self.scale_, np.float64))
            return X
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
        X = check_array(X, accept_sparse="csr", copy=copy, dtype=FLOAT_DTYPES,
                        force_writeable=True, ensure_all_finite="allow-nan")
        if sp.issparse(X):
            if self.with_mean:
                raise InputError(_NO_UNCENTRE)
            if self.scale_ is not None:
                inplace_column_scale(X, np.asarray(self.scale_, np.float64))
            return X
        if self.with_std:
            X *= _like(self.scale_, X)
        if self.with_mean:
            X += _like(self.mean_, X)
        return X

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = not self.with_mean
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
