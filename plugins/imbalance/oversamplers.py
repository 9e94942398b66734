"""The over-samplers users reach for after SMOTE: imbalanced-learn's own, with augkit's checks.

As ``samplers`` does for SMOTE and ADASYN, each class here subclasses imbalanced-learn's
(``RandomOverSampler``, ``SMOTENC``, ``SMOTEN``, ``BorderlineSMOTE``, ``SVMSMOTE``,
``KMeansSMOTE``), so the resampled data are imbalanced-learn's, bit for bit, and the class
works wherever imbalanced-learn's does (``imblearn.pipeline.Pipeline``, ``clone``, its
estimator checks). What augkit adds is checked in ``fit_resample``: X and y of one length, at
least two classes, no NaN or infinity where the algorithm computes with X (every column for
the numeric samplers, the continuous columns for SMOTENC, X for a smoothed bootstrap), and
where imbalanced-learn's k-NN refuses a class too small for ``k_neighbors`` the error names
the class, its count and k (``"auto"`` lowers k to what the smallest class allows, with a
warning).

The transforms (``random_oversample``, ``smotenc``, ``smoten``, ``borderline_smote``,
``svm_smote``, ``kmeans_smote``) are dataset-level augkit transforms over ``(X, y)`` as
``smote`` is: numpy, torch (returned as torch with its dtype), lists or pandas (returned as
pandas with the column names kept). A parameter that takes an estimator object
(``svm_estimator``, ``kmeans_estimator``, ``categorical_encoder``) takes the object from
Python; YAML holds its scalar forms (null, or an integer where imbalanced-learn takes one).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from imblearn.over_sampling import SMOTEN as _ImbSMOTEN
from imblearn.over_sampling import SMOTENC as _ImbSMOTENC
from imblearn.over_sampling import SVMSMOTE as _ImbSVMSMOTE
from imblearn.over_sampling import BorderlineSMOTE as _ImbBorderlineSMOTE
from imblearn.over_sampling import KMeansSMOTE as _ImbKMeansSMOTE
from imblearn.over_sampling import RandomOverSampler as _ImbRandomOverSampler
from sklearn.utils import check_array
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _num_samples

from augkit.errors import InputError, ResamplingError
from augkit.params import AnyOf, Choice, Custom, Integer, Mapping, Nullable, Number, Param, Text

from .samplers import _AugkitChecks, _OverSampler
from .specs import SAMPLING_STRATEGY, SEED_RANGE, neighbours_param

# ---- the estimators ------------------------------------------------------------------------


def _with_auto(constraints: dict, key: str = "k_neighbors") -> dict:
    return {**constraints, key: [*constraints[key], StrOptions({"auto"})]}


class _Checked(_AugkitChecks):
    """augkit's checks around the imbalanced-learn class's own input handling."""

    # True: X must be numbers (the SMOTE family's interpolation); False: the class's own
    # check runs, which also takes strings (categories) and NaN where nothing computes with X.
    _numeric_X: ClassVar[bool] = True

    def _check_X_y(self, X: Any, y: Any, accept_sparse: Any = None) -> tuple[Any, Any, bool]:
        if self._numeric_X:
            return super()._check_X_y(X, y, accept_sparse)
        self._check_rows(X, y)
        X, y, binarize_y = super(_AugkitChecks, self)._check_X_y(X, y)
        self._check_classes(y)
        return X, y, binarize_y

    def _check_finite(self, X: Any, what: str, numbers_only: bool = True) -> None:
        """No NaN or infinity in X (the columns the algorithm computes with), as augkit says;
        X not all numbers: augkit's error, or none with ``numbers_only=False``."""
        try:
            values = check_array(X, accept_sparse=["csr", "csc"], dtype="numeric",
                                 ensure_all_finite=False)
        except ValueError as exc:
            if not numbers_only:
                return
            raise InputError(f"{self._augkit_name}: {what} are not all numbers ({exc}); "
                             "allowed: numbers") from exc
        data = values.data if hasattr(values, "tocsr") else values
        if np.issubdtype(data.dtype, np.inexact) and not np.isfinite(data).all():
            bad = ~np.isfinite(data)
            row = None if hasattr(values, "tocsr") else int(np.argmax(bad.any(axis=1)))
            raise self._nonfinite_error(bool(np.isnan(data).any()), int(bad.sum()), row)

    def _validate_estimator(self) -> None:
        # imbalanced-learn builds its k-NN from self.k_neighbors: give it the resolved k
        # (k_neighbors="auto" -> an integer) for that call only.
        given = self.k_neighbors
        self.k_neighbors = getattr(self, "k_neighbors_", given)
        try:
            super()._validate_estimator()
        finally:
            self.k_neighbors = given

    def _check_m_neighbors(self, X: Any) -> None:
        m = self.m_neighbors
        n = _num_samples(X)
        if isinstance(m, int | np.integer) and not isinstance(m, bool) and n <= m:
            raise InputError(f"{self._augkit_name}: X has {n} rows, too few for m_neighbors={m} "
                             f"(the k-NN over all rows needs m_neighbors + 1 = {m + 1}); "
                             f"allowed: m_neighbors <= {n - 1}")

    def _fit_resample(self, X: Any, y: Any) -> tuple[Any, Any]:
        k = self.k_neighbors
        self.k_neighbors_ = self._resolve_neighbours(y) if isinstance(k, str) else k
        try:
            return super()._fit_resample(X, y)
        except ValueError:
            # Only where imbalanced-learn's k-NN refused a class (borderline and SVM SMOTE
            # never fit a class without samples near the border, so a small one can pass):
            # name the class, its count and k, or the rows too few for m_neighbors.
            self._resolve_neighbours(y)
            if hasattr(self, "m_neighbors"):
                self._check_m_neighbors(X)
            raise


class RandomOverSampler(_AugkitChecks, _ImbRandomOverSampler):
    """imbalanced-learn's RandomOverSampler with augkit's checks.

    Rows are drawn with replacement from each over-sampled class; ``shrinkage`` (a float >= 0,
    or a mapping class -> float) perturbs the copies (a smoothed bootstrap). X may hold strings
    or NaN (rows are copied as they are) unless ``shrinkage`` is set, which computes with X.
    After ``fit_resample``: ``sampling_strategy_``, ``shrinkage_`` and ``sample_indices_``.
    """

    _augkit_name = "random_oversample"

    def __init__(self, *, sampling_strategy: Any = "auto", random_state: Any = None,
                 shrinkage: Any = None) -> None:
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state,
                         shrinkage=shrinkage)

    def _check_X_y(self, X: Any, y: Any, accept_sparse: Any = None) -> tuple[Any, Any, bool]:
        self._check_rows(X, y)
        # imbalanced-learn's own check, which lets strings and NaN through (rows are copied).
        X, y, binarize_y = super(_AugkitChecks, self)._check_X_y(X, y)
        self._check_classes(y)
        return X, y, binarize_y

    def _fit_resample(self, X: Any, y: Any) -> tuple[Any, Any]:
        try:
            return super()._fit_resample(X, y)
        except ValueError:
            # Only on the failure path: say where a NaN or infinity is; strings keep
            # imbalanced-learn's own message (a smoothed bootstrap needs numbers).
            if self.shrinkage is not None:
                _Checked._check_finite(self, X, "X", numbers_only=False)
            raise


class SMOTENC(_Checked, _ImbSMOTENC):
    """imbalanced-learn's SMOTENC with augkit's checks, and ``k_neighbors="auto"``.

    ``categorical_features``: column indices, column names (pandas), a boolean mask, or
    ``"auto"`` (a pandas DataFrame's ``category`` columns). Continuous columns are interpolated
    as SMOTE does; a categorical column takes the most frequent category among the neighbours.
    """

    _augkit_name = "smotenc"
    _neighbours_param = "k_neighbors"
    _numeric_X = False
    _parameter_constraints: ClassVar[dict] = _with_auto(_ImbSMOTENC._parameter_constraints)

    def __init__(self, categorical_features: Any, *, categorical_encoder: Any = None,
                 sampling_strategy: Any = "auto", random_state: Any = None,
                 k_neighbors: Any = 5) -> None:
        super().__init__(categorical_features=categorical_features,
                         categorical_encoder=categorical_encoder,
                         sampling_strategy=sampling_strategy, random_state=random_state,
                         k_neighbors=k_neighbors)

    def _fit_resample(self, X: Any, y: Any) -> tuple[Any, Any]:
        try:
            return super()._fit_resample(X, y)
        except ValueError as exc:
            # Only on the failure path (imbalanced-learn converts the continuous columns once):
            # say where the NaN or infinity is, as augkit's other samplers do.
            if "NaN" not in str(exc) and "infinity" not in str(exc):
                raise
            from sklearn.utils import _safe_indexing

            self._check_finite(_safe_indexing(X, self.continuous_features_, axis=1),
                               "the continuous columns of X")
            raise


class SMOTEN(_Checked, _ImbSMOTEN):
    """imbalanced-learn's SMOTEN (every column categorical) with augkit's checks, and
    ``k_neighbors="auto"``: each new row takes, column by column, the most frequent category
    among a drawn row's neighbours (value difference metric)."""

    _augkit_name = "smoten"
    _neighbours_param = "k_neighbors"
    _numeric_X = False
    _parameter_constraints: ClassVar[dict] = _with_auto(_ImbSMOTEN._parameter_constraints)

    def __init__(self, categorical_encoder: Any = None, *, sampling_strategy: Any = "auto",
                 random_state: Any = None, k_neighbors: Any = 5) -> None:
        super().__init__(categorical_encoder=categorical_encoder,
                         sampling_strategy=sampling_strategy, random_state=random_state,
                         k_neighbors=k_neighbors)


class BorderlineSMOTE(_Checked, _ImbBorderlineSMOTE):
    """imbalanced-learn's BorderlineSMOTE (``kind`` borderline-1 or borderline-2) with
    augkit's checks, and ``k_neighbors="auto"``: SMOTE from the minority rows whose
    ``m_neighbors`` nearest rows are mostly, not all, of other classes."""

    _augkit_name = "borderline_smote"
    _neighbours_param = "k_neighbors"
    _parameter_constraints: ClassVar[dict] = _with_auto(
        _ImbBorderlineSMOTE._parameter_constraints)

    def __init__(self, *, sampling_strategy: Any = "auto", random_state: Any = None,
                 k_neighbors: Any = 5, m_neighbors: Any = 10,
                 kind: str = "borderline-1") -> None:
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state,
                         k_neighbors=k_neighbors, m_neighbors=m_neighbors, kind=kind)


class SVMSMOTE(_Checked, _ImbSVMSMOTE):
    """imbalanced-learn's SVMSMOTE with augkit's checks, and ``k_neighbors="auto"``: SMOTE
    from the minority support vectors of an SVM (``svm_estimator``, default ``SVC``)."""

    _augkit_name = "svm_smote"
    _neighbours_param = "k_neighbors"
    _parameter_constraints: ClassVar[dict] = _with_auto(_ImbSVMSMOTE._parameter_constraints)

    def __init__(self, *, sampling_strategy: Any = "auto", random_state: Any = None,
                 k_neighbors: Any = 5, m_neighbors: Any = 10, svm_estimator: Any = None,
                 out_step: float = 0.5) -> None:
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state,
                         k_neighbors=k_neighbors, m_neighbors=m_neighbors,
                         svm_estimator=svm_estimator, out_step=out_step)


class KMeansSMOTE(_Checked, _ImbKMeansSMOTE):
    """imbalanced-learn's KMeansSMOTE with augkit's checks, and ``k_neighbors="auto"``: SMOTE
    inside the k-means clusters (``kmeans_estimator``: an integer n_clusters or an estimator)
    where the minority class is dense enough."""

    _augkit_name = "kmeans_smote"
    _neighbours_param = "k_neighbors"
    _parameter_constraints: ClassVar[dict] = _with_auto(
        _ImbKMeansSMOTE._parameter_constraints)

    def __init__(self, *, sampling_strategy: Any = "auto", random_state: Any = None,
                 k_neighbors: Any = 2, n_jobs: Any = None, kmeans_estimator: Any = None,
                 cluster_balance_threshold: Any = "auto",
                 density_exponent: Any = "auto") -> None:
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state,
                         k_neighbors=k_neighbors, n_jobs=n_jobs,
                         kmeans_estimator=kmeans_estimator,
                         cluster_balance_threshold=cluster_balance_threshold,
                         density_exponent=density_exponent)

    def _fit_resample(self, X: Any, y: Any) -> tuple[Any, Any]:
        try:
            return super()._fit_resample(X, y)
        except RuntimeError as exc:  # no cluster with enough samples of a class
            try:
                self._resolve_neighbours(y)  # a class too small for k in any cluster
            except InputError as small:
                raise ResamplingError(str(small)) from exc
            raise ResamplingError(f"{self._augkit_name}: {exc}") from exc


# ---- parameter specs -----------------------------------------------------------------------


def python_object(yaml_spec: Any, methods: tuple[str, ...], what: str) -> Custom:
    """``yaml_spec``'s values, or (Python only, not YAML) an object with ``methods``."""

    def check(value: Any) -> Any:
        try:
            return yaml_spec.check(value)
        except ValueError:
            if all(callable(getattr(value, m, None)) for m in methods) and not isinstance(
                    value, type):
                return value
            raise

    return Custom(check, f"{yaml_spec.allowed()}, or (Python only, not YAML) {what}",
                  yaml_spec.json_schema())


def _check_categorical(value: Any) -> Any:
    if isinstance(value, str):
        if value == "auto":
            return value
        raise ValueError(value)
    items = value.tolist() if isinstance(value, np.ndarray) else value
    if not isinstance(items, list | tuple) or not items:
        raise ValueError(value)
    items = [v.item() if isinstance(v, np.generic) else v for v in items]
    for kind in (bool, str):
        if all(isinstance(v, kind) for v in items):
            return list(items)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in items):
        return list(items)
    raise ValueError(value)


CATEGORICAL_FEATURES = Custom(
    _check_categorical,
    "'auto' (a pandas DataFrame's category columns), or a non-empty list of column indices, "
    "of column names, or of booleans (a mask, one per column)",
    {"anyOf": [{"enum": ["auto"]},
               {"type": "array", "minItems": 1, "items": {"type": "integer"}},
               {"type": "array", "minItems": 1, "items": {"type": "string"}},
               {"type": "array", "minItems": 1, "items": {"type": "boolean"}}]},
)

def _none(value: Any) -> None:
    if value is not None:
        raise ValueError(value)


NONE = Custom(_none, "null (imbalanced-learn's default)", {"type": "null"})

ENCODER = python_object(NONE, ("fit_transform", "inverse_transform"),
                        "an encoder with fit_transform and inverse_transform")


def _strategy() -> Param:
    return Param(SAMPLING_STRATEGY, "auto", "which classes grow, and to what")


def _seed() -> Param:
    return Param(Nullable(Integer(0, SEED_RANGE - 1)), None,
                 "imbalanced-learn's random_state; null: drawn from the policy's seed")


def _k(default: int = 5) -> Param:
    return neighbours_param(
        "same-class neighbours to interpolate towards; auto: the default, lowered to what the "
        "smallest over-sampled class allows (with a warning)", default)


def _m() -> Param:
    return Param(Integer(1), 10, "neighbours among all rows that decide whether a minority row "
                 "is in danger (near the border)")


# ---- the augkit transforms -----------------------------------------------------------------


class _Sampler(_OverSampler):
    torch_path = False


class RandomOverSampleTransform(_Sampler):
    """RandomOverSampler (imbalanced-learn's, exactly): minority rows copied at random, or
    perturbed copies with ``shrinkage`` (a smoothed bootstrap)."""

    name = "random_oversample"
    sampler_class = RandomOverSampler
    params = {
        "sampling_strategy": _strategy(),
        "shrinkage": Param(
            Nullable(AnyOf(Number(0.0), Mapping(AnyOf(Integer(), Text()), Number(0.0)))),
            None, "null: plain copies; a float >= 0 (or a mapping class -> float): a smoothed "
            "bootstrap, the copies perturbed by that much of the class's spread"),
        "random_state": _seed(),
    }


class SMOTENCTransform(_Sampler):
    """SMOTENC (imbalanced-learn's, exactly): SMOTE for tables with continuous and
    categorical columns."""

    name = "smotenc"
    sampler_class = SMOTENC
    params = {
        "categorical_features": Param(CATEGORICAL_FEATURES, "auto",
                                      "the categorical columns"),
        "k_neighbors": _k(),
        "categorical_encoder": Param(ENCODER, None,
                                     "null: a one-hot encoder (imbalanced-learn's default)"),
        "sampling_strategy": _strategy(),
        "random_state": _seed(),
    }


class SMOTENTransform(_Sampler):
    """SMOTEN (imbalanced-learn's, exactly): SMOTE for tables whose columns are all
    categorical."""

    name = "smoten"
    sampler_class = SMOTEN
    params = {
        "k_neighbors": _k(),
        "categorical_encoder": Param(ENCODER, None,
                                     "null: an ordinal encoder (imbalanced-learn's default)"),
        "sampling_strategy": _strategy(),
        "random_state": _seed(),
    }


class BorderlineSMOTETransform(_Sampler):
    """BorderlineSMOTE (imbalanced-learn's, exactly): SMOTE from the minority rows near the
    border with other classes."""

    name = "borderline_smote"
    sampler_class = BorderlineSMOTE
    params = {
        "kind": Param(Choice("borderline-1", "borderline-2"), "borderline-1",
                      "borderline-1: towards same-class neighbours; borderline-2: also towards "
                      "other-class neighbours (at most half-way)"),
        "k_neighbors": _k(),
        "m_neighbors": _m(),
        "sampling_strategy": _strategy(),
        "random_state": _seed(),
    }


class SVMSMOTETransform(_Sampler):
    """SVMSMOTE (imbalanced-learn's, exactly): SMOTE from the minority support vectors of an
    SVM, extrapolating where few neighbours are of other classes."""

    name = "svm_smote"
    sampler_class = SVMSMOTE
    params = {
        "k_neighbors": _k(),
        "m_neighbors": _m(),
        "svm_estimator": Param(python_object(NONE, ("fit", "predict"),
                                             "an SVM estimator with support_ after fit"),
                               None, "null: SVC(gamma='scale') seeded by random_state"),
        "out_step": Param(Number(0.0, 1.0), 0.5, "step size when extrapolating"),
        "sampling_strategy": _strategy(),
        "random_state": _seed(),
    }


class KMeansSMOTETransform(_Sampler):
    """KMeansSMOTE (imbalanced-learn's, exactly): SMOTE inside the k-means clusters where the
    minority class is dense enough."""

    name = "kmeans_smote"
    sampler_class = KMeansSMOTE
    params = {
        "k_neighbors": _k(2),
        "kmeans_estimator": Param(
            python_object(Nullable(Integer(1)), ("fit", "predict"),
                          "a clustering estimator with n_clusters"),
            None, "null: MiniBatchKMeans seeded by random_state; an integer: its n_clusters"),
        "cluster_balance_threshold": Param(
            AnyOf(Choice("auto"), Number()), "auto",
            "the minority share a cluster needs to be over-sampled; auto: the class's share "
            "of the data"),
        "density_exponent": Param(AnyOf(Choice("auto"), Number()), "auto",
                                  "exponent of the cluster density; auto: from the number of "
                                  "features"),
        "n_jobs": Param(Nullable(Integer()), None, "jobs for the pairwise distances"),
        "sampling_strategy": _strategy(),
        "random_state": _seed(),
    }
