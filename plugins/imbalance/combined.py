"""SMOTE followed by under-sampling: imbalanced-learn's SMOTEENN and SMOTETomek, with augkit's
checks.

``SMOTEENN`` / ``SMOTETomek`` subclass imbalanced-learn's, so the data are imbalanced-learn's,
bit for bit: SMOTE over-samples, then edited nearest neighbours (ENN) or Tomek links remove
rows of every class that sit among other classes. augkit checks X and y as ``smote`` does, and
names the class, its count and k when a class is too small for the SMOTE inside.

The transforms ``smote_enn`` / ``smote_tomek`` take, besides imbalanced-learn's parameters,
the YAML forms of the inner samplers: ``smote`` an integer (the inner SMOTE's
``k_neighbors``, with the transform's ``sampling_strategy`` and ``random_state``), ``enn`` an
integer (ENN's ``n_neighbors``, on every class as imbalanced-learn's default); the sampler
objects themselves from Python.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from imblearn.combine import SMOTEENN as _ImbSMOTEENN
from imblearn.combine import SMOTETomek as _ImbSMOTETomek
from imblearn.over_sampling import SMOTE as _ImbSMOTE
from imblearn.under_sampling import EditedNearestNeighbours
from imblearn.utils import check_sampling_strategy

from augkit.params import Integer, Nullable, Param

from .functional import resolve_neighbours
from .oversamplers import NONE, _Sampler, _seed, _strategy, python_object
from .samplers import _AugkitChecks


class _Combined(_AugkitChecks):
    def _fit_resample(self, X: Any, y: Any) -> tuple[Any, Any]:
        self._validate_estimator()
        smote = self.smote_
        k = smote.get_params().get("k_neighbors") if hasattr(smote, "get_params") else None
        if isinstance(k, int) and not isinstance(k, bool):
            plan = check_sampling_strategy(smote.sampling_strategy, y, "over-sampling")
            resolve_neighbours(k, dict(Counter(y.tolist())), dict(plan),
                               param="k_neighbors", owner=self._augkit_name)
        return super()._fit_resample(X, y)


class SMOTEENN(_Combined, _ImbSMOTEENN):
    """imbalanced-learn's SMOTEENN with augkit's checks: SMOTE, then edited nearest neighbours
    (``smote`` and ``enn`` default to imbalanced-learn's)."""

    _augkit_name = "smote_enn"
    _parameter_constraints: ClassVar[dict] = dict(_ImbSMOTEENN._parameter_constraints)

    def __init__(self, *, sampling_strategy: Any = "auto", random_state: Any = None,
                 smote: Any = None, enn: Any = None, n_jobs: Any = None) -> None:
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state,
                         smote=smote, enn=enn, n_jobs=n_jobs)


class SMOTETomek(_Combined, _ImbSMOTETomek):
    """imbalanced-learn's SMOTETomek with augkit's checks: SMOTE, then Tomek links removed
    (``smote`` and ``tomek`` default to imbalanced-learn's)."""

    _augkit_name = "smote_tomek"
    _parameter_constraints: ClassVar[dict] = dict(_ImbSMOTETomek._parameter_constraints)

    def __init__(self, *, sampling_strategy: Any = "auto", random_state: Any = None,
                 smote: Any = None, tomek: Any = None, n_jobs: Any = None) -> None:
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state,
                         smote=smote, tomek=tomek, n_jobs=n_jobs)


# ---- the augkit transforms -----------------------------------------------------------------

_SMOTE = Param(python_object(Nullable(Integer(1)), ("fit_resample",), "a SMOTE sampler"), None,
               "null: imbalanced-learn's SMOTE (k_neighbors=5); an integer: SMOTE with that "
               "k_neighbors, the same sampling_strategy and random_state")
_N_JOBS = Param(Nullable(Integer()), None, "jobs for the k-NN of the cleaning step")


class _CombinedTransform(_Sampler):
    def sampler_params(self, seed: Any) -> dict[str, Any]:
        out = super().sampler_params(seed)
        if isinstance(out["smote"], int):
            out["smote"] = _ImbSMOTE(k_neighbors=out["smote"], random_state=seed,
                                     sampling_strategy=out["sampling_strategy"])
        return out


class SMOTEENNTransform(_CombinedTransform):
    """SMOTEENN (imbalanced-learn's, exactly): SMOTE, then rows whose neighbours disagree with
    their class removed (edited nearest neighbours)."""

    name = "smote_enn"
    sampler_class = SMOTEENN
    params = {
        "smote": _SMOTE,
        "enn": Param(python_object(Nullable(Integer(1)), ("fit_resample",),
                                   "an EditedNearestNeighbours sampler"), None,
                     "null: imbalanced-learn's EditedNearestNeighbours on every class "
                     "(n_neighbors=3); an integer: its n_neighbors"),
        "n_jobs": _N_JOBS,
        "sampling_strategy": _strategy(),
        "random_state": _seed(),
    }

    def sampler_params(self, seed: Any) -> dict[str, Any]:
        out = super().sampler_params(seed)
        if isinstance(out["enn"], int):
            out["enn"] = EditedNearestNeighbours(sampling_strategy="all",
                                                 n_neighbors=out["enn"], n_jobs=out["n_jobs"])
        return out


class SMOTETomekTransform(_CombinedTransform):
    """SMOTETomek (imbalanced-learn's, exactly): SMOTE, then the Tomek links (pairs of nearest
    neighbours of different classes) removed."""

    name = "smote_tomek"
    sampler_class = SMOTETomek
    params = {
        "smote": _SMOTE,
        "tomek": Param(python_object(NONE, ("fit_resample",), "a TomekLinks sampler"), None,
                       "null: imbalanced-learn's TomekLinks on every class"),
        "n_jobs": _N_JOBS,
        "sampling_strategy": _strategy(),
        "random_state": _seed(),
    }
