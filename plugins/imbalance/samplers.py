"""SMOTE and ADASYN: imbalanced-learn's own algorithms, with augkit's checks and YAML.

Two layers, one place of validation each:

- ``SMOTE`` and ``ADASYN`` are imbalanced-learn samplers (subclasses of
  ``imblearn.over_sampling.SMOTE`` / ``ADASYN``): sklearn conventions (no logic in
  ``__init__``, parameters as attributes, learned state with a trailing underscore), usable in
  ``imblearn.pipeline.Pipeline`` and passing ``imblearn.utils.estimator_checks``. What they add
  is checked inside ``fit_resample``: X and y of one length, no NaN or infinity in X, at least
  two classes, and every over-sampled class large enough for k (the error names the class, its
  count and k); ``k_neighbors="auto"`` lowers k to what the smallest class allows, with a
  warning. The resampled data are imbalanced-learn's, bit for bit.
- On torch tensors off the CPU (CUDA) the transforms run the same algorithms in torch where X
  lies (``torch_resample``): imbalanced-learn's draws, a torch k-NN and interpolation; the
  neighbours' order can differ from imbalanced-learn's only where distances tie.
- ``SMOTETransform`` / ``ADASYNTransform`` (registered as ``smote`` / ``adasyn``) are
  dataset-level augkit transforms over ``(X, y)``: numpy, torch (returned as torch with the
  same dtype and device), lists or pandas. Without ``random_state`` the seed is drawn from the
  generator (a policy's seed), so a policy gives the same data every run.

``sampling_strategy`` takes every imbalanced-learn form; YAML holds a float, a string or a
mapping, a callable works from Python only.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from imblearn.over_sampling import ADASYN as _ImbADASYN
from imblearn.over_sampling import SMOTE as _ImbSMOTE
from imblearn.utils import check_neighbors_object, check_target_type
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import _num_samples
from sklearn_compat.utils.validation import validate_data

from augkit.errors import AugkitError, InputError, ParamError, ResamplingError
from augkit.params import Integer, Nullable, Param
from augkit.random import draw_seed
from augkit.transform import Transform

from .functional import _label, resolve_neighbours
from .specs import SAMPLING_STRATEGY, SEED_RANGE, neighbours_param


class _AugkitChecks:
    """What augkit's samplers check before imbalanced-learn runs (mixed into both)."""

    _augkit_name: ClassVar[str] = ""
    _neighbours_param: ClassVar[str] = ""

    def _check_X_y(self, X: Any, y: Any, accept_sparse: Any = None) -> tuple[Any, Any, bool]:
        self._check_rows(X, y)
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        # Finiteness is checked here, not by sklearn, so the error is augkit's and says where.
        try:
            X, y = validate_data(self, X=X, y=y, reset=True,
                                 accept_sparse=accept_sparse or ["csr", "csc"],
                                 ensure_all_finite=False)
        except ValueError as exc:
            if "convert" not in str(exc):
                raise
            raise InputError(f"{self._augkit_name}: X is not all numbers ({exc}); allowed: "
                             "numbers; for categorical columns use smotenc (mixed) or smoten "
                             "(all categorical)") from exc
        values = X.data if hasattr(X, "tocsr") else X
        self._check_not_bool(values.dtype == np.bool_)
        if np.issubdtype(values.dtype, np.inexact) and not np.isfinite(values).all():
            bad = ~np.isfinite(values)
            row = None if hasattr(X, "tocsr") else int(np.argmax(bad.any(axis=1)))
            raise self._nonfinite_error(bool(np.isnan(values).any()), int(bad.sum()), row)
        self._check_classes(y)
        return X, y, binarize_y

    # The pieces of _check_X_y, shared with the torch path (torch_resample), which runs them
    # on X where it lies.

    def _check_rows(self, X: Any, y: Any) -> None:
        owner = self._augkit_name
        if y is None:
            raise InputError(f"{owner} requires y to be passed, but the target y is None; "
                             "allowed: one class label per row of X")
        n_x, n_y = _num_samples(X), _num_samples(y)
        if n_x != n_y:
            raise InputError(f"{owner}: X has {n_x} rows and y has {n_y} labels; allowed: one "
                             "label per row")
        if getattr(X, "ndim", 2) != 2:
            raise InputError(f"{owner}: X got shape {tuple(X.shape)}; allowed: a 2-D array "
                             "(n_samples, n_features)")

    def _check_not_bool(self, is_bool: bool) -> None:
        if is_bool:
            # imbalanced-learn would fail inside the interpolation (numpy's boolean subtract).
            raise InputError(f"{self._augkit_name}: X got dtype bool; allowed: numbers (int or "
                             "float); convert X first, e.g. X.astype(float)")

    def _nonfinite_error(self, has_nan: bool, count: int, row: int | None) -> InputError:
        what = "NaN" if has_nan else "infinite values"
        where = "" if row is None else f" (first in row {row})"
        entries = "1 entry" if count == 1 else f"{count} entries"
        return InputError(f"{self._augkit_name}: X contains {what}: {entries}{where}; allowed: "
                          "finite numbers (impute missing values first)")

    def _check_classes(self, y: np.ndarray) -> None:
        if y.dtype.kind in "iu" and y.size and y.min() != y.max():
            return  # two classes at least, without np.unique's sort
        classes = np.unique(y)
        if classes.size < 2:
            only = _label(classes[0]) if classes.size else None
            raise InputError(f"{self._augkit_name}: y has one class only ({only!r}); allowed: "
                             "at least two classes (an over-sampler needs a minority class and "
                             "a majority class)")

    def _resolve_neighbours(self, y: np.ndarray) -> Any:
        classes, counts = np.unique(y, return_counts=True)
        return resolve_neighbours(
            getattr(self, self._neighbours_param),
            dict(zip(classes, counts.tolist(), strict=True)),
            dict(self.sampling_strategy_),
            param=self._neighbours_param,
            owner=self._augkit_name,
        )


class SMOTE(_AugkitChecks, _ImbSMOTE):
    """imbalanced-learn's SMOTE with augkit's checks, and ``k_neighbors="auto"``.

    Parameters as in ``imblearn.over_sampling.SMOTE``: ``sampling_strategy`` (float, str, dict
    or callable), ``random_state``, ``k_neighbors`` (int, ``"auto"`` or a k-NN estimator).
    After ``fit_resample``: ``sampling_strategy_`` ({class: samples added}) and
    ``k_neighbors_`` (the k used).
    """

    _augkit_name = "smote"
    _neighbours_param = "k_neighbors"
    _parameter_constraints: ClassVar[dict] = {
        **_ImbSMOTE._parameter_constraints,
        "k_neighbors": [*_ImbSMOTE._parameter_constraints["k_neighbors"],
                        StrOptions({"auto"})],
    }

    def __init__(self, *, sampling_strategy: Any = "auto", random_state: Any = None,
                 k_neighbors: Any = 5) -> None:
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state,
                         k_neighbors=k_neighbors)

    def _validate_estimator(self) -> None:
        self.nn_k_ = check_neighbors_object("k_neighbors", self.k_neighbors_,
                                            additional_neighbor=1)

    def _fit_resample(self, X: Any, y: Any) -> tuple[Any, Any]:
        self.k_neighbors_ = self._resolve_neighbours(y)
        return super()._fit_resample(X, y)


class ADASYN(_AugkitChecks, _ImbADASYN):
    """imbalanced-learn's ADASYN with augkit's checks, and ``n_neighbors="auto"``.

    ADASYN generates ``rint(r_i * G)`` samples from each minority sample, so a class may end
    up a few samples off the strategy's count (imbalanced-learn's rounding, kept on purpose).
    After ``fit_resample``: ``sampling_strategy_`` and ``n_neighbors_`` (the k used).
    """

    _augkit_name = "adasyn"
    _neighbours_param = "n_neighbors"
    _parameter_constraints: ClassVar[dict] = {
        **_ImbADASYN._parameter_constraints,
        "n_neighbors": [*_ImbADASYN._parameter_constraints["n_neighbors"],
                        StrOptions({"auto"})],
    }

    def __init__(self, *, sampling_strategy: Any = "auto", random_state: Any = None,
                 n_neighbors: Any = 5) -> None:
        super().__init__(sampling_strategy=sampling_strategy, random_state=random_state,
                         n_neighbors=n_neighbors)

    def _validate_estimator(self) -> None:
        self.nn_ = check_neighbors_object("n_neighbors", self.n_neighbors_,
                                          additional_neighbor=1)

    def _fit_resample(self, X: Any, y: Any) -> tuple[Any, Any]:
        self.n_neighbors_ = self._resolve_neighbours(y)
        try:
            return super()._fit_resample(X, y)
        except RuntimeError as exc:  # no minority sample has a neighbour of another class
            raise ResamplingError(self._isolated_message(X, y)) from exc

    def _isolated_message(self, X: Any, y: np.ndarray) -> str:
        # Only on the failure path: find the class whose neighbourhoods hold no other class.
        nn = check_neighbors_object("n_neighbors", self.n_neighbors_, additional_neighbor=1)
        nn.fit(X)
        for c, n_new in self.sampling_strategy_.items():
            if n_new == 0:
                continue
            idx = np.flatnonzero(y == c)
            nns = nn.kneighbors(X[idx], return_distance=False)[:, 1:]
            if not np.any(y[nns] != c):
                return self._isolated_text(c, nns.shape[1])
        return "adasyn: no minority sample has a neighbour of another class; use SMOTE instead"

    @staticmethod
    def _isolated_text(c: Any, k: int) -> str:
        return (f"adasyn: no sample of class {_label(c)!r} has a sample of another class among "
                f"its {k} nearest neighbours, so ADASYN has no weights to draw from; allowed: a "
                "larger n_neighbors, or SMOTE for this data")


# ---- the augkit transforms -----------------------------------------------------------------


def _to_numpy(a: Any) -> tuple[Any, Any]:
    """(array for imbalanced-learn, torch (dtype, device) to convert back, or None)."""
    import torch

    if isinstance(a, torch.Tensor):
        t = a.detach().cpu()
        if t.dtype == torch.bfloat16:  # numpy has no bfloat16
            t = t.float()
        return t.numpy(), (a.dtype, a.device)
    return a, None


def _on_device(X: Any) -> bool:
    """X is a torch tensor off the CPU (checked without importing torch for numpy input)."""
    device = getattr(X, "device", None)
    return getattr(device, "type", "cpu") != "cpu" and type(X).__module__.startswith("torch")


def _from_numpy(a: Any, back: Any) -> Any:
    if back is None:
        return a
    import torch

    dtype, device = back
    return torch.from_numpy(np.ascontiguousarray(a)).to(device=device, dtype=dtype)


class _OverSampler(Transform):
    """Dataset-level transform over ``(X, y)`` backed by an augkit sampler."""

    kinds = ("table",)
    levels = ("dataset",)
    counter_draws = True
    sampler_class: ClassVar[type]
    neighbours_key: ClassVar[str] = ""
    # Only smote and adasyn have a torch path for tensors off the CPU.
    torch_path: ClassVar[bool] = True

    def sampler(self, random_state: int | None = None) -> Any:
        """The configured imbalanced-learn compatible sampler (``random_state`` defaults to
        the transform's own)."""
        seed = self.random_state if random_state is None else random_state
        return self.sampler_class(**self.sampler_params(seed))

    def sampler_params(self, seed: Any) -> dict[str, Any]:
        """The sampler's keyword arguments: the transform's parameters, ``random_state`` set."""
        return {**{k: self._params[k] for k in type(self).params}, "random_state": seed}

    def check_input(self, data: Any) -> None:
        if not isinstance(data, tuple | list) or len(data) != 2:
            raise InputError(
                f"{self.label()}: got {type(data).__name__}; allowed: (X, y), e.g. "
                f"t((X, y)), t.fit_resample(X, y) or policy.fit_resample(X, y)"
            )

    def make_params(self, data: Any, generator: Any) -> dict[str, Any]:
        seed = self.random_state
        if seed is None:
            seed = draw_seed(generator) % SEED_RANGE
        return {"random_state": int(seed)}

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        X, y = data
        sampler = self.sampler(params["random_state"])
        try:
            if self.torch_path and _on_device(X):
                from .torch_resample import fits_torch_path, resample_torch

                if fits_torch_path(X, y, getattr(self, self.neighbours_key)):
                    # k-NN and interpolation where X lies; the draws as imbalanced-learn's.
                    return resample_torch(sampler, X, y)
            X_np, x_back = _to_numpy(X)
            y_np, y_back = _to_numpy(y)
            X_res, y_res = sampler.fit_resample(X_np, y_np)
        except AugkitError:
            raise
        except ValueError as exc:  # imbalanced-learn's and sklearn's own input errors
            raise InputError(f"{self.label()}: {exc}") from exc
        return _from_numpy(X_res, x_back), _from_numpy(y_res, y_back)

    def fit_resample(self, X: Any, y: Any, *, generator: Any = None) -> tuple[Any, Any]:
        """``(X_resampled, y_resampled)``, as imbalanced-learn's ``fit_resample``."""
        return self((X, y), generator=generator)

    # ---- scikit-learn's estimator protocol: a step of imblearn's Pipeline, cloned by
    # cross_val_score and GridSearchCV, tagged as imbalanced-learn tags the sampler.

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Every parameter with its value; ``deep`` adds ``name__key`` for each parameter of a
        parameter that is an estimator itself (scikit-learn's form)."""
        params = super().get_params()
        if deep:
            for key, value in list(params.items()):
                if hasattr(value, "get_params") and not isinstance(value, type):
                    params.update({f"{key}__{k}": v for k, v in value.get_params().items()})
        return params

    def set_params(self, **params: Any) -> _OverSampler:
        """scikit-learn's ``set_params``: the parameters are checked again as on construction
        (a ParamError names a bad one); ``name__key`` goes to the estimator held as ``name``."""
        own: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                own[key] = value
        for name, sub in nested.items():
            held = own.get(name, self._params.get(name))
            if not hasattr(held, "set_params"):
                raise ParamError(f"{self.label()}: {name}__{next(iter(sub))} sets a parameter "
                                 f"of {name}, which holds {held!r}, not an estimator; allowed: "
                                 f"{', '.join(self._params)}", param=name, value=held)
            own[name] = held.set_params(**sub)
        fresh = type(self)(**{**self._params, **own})
        self.__dict__.update(fresh.__dict__)
        return self

    def __sklearn_clone__(self) -> _OverSampler:
        from sklearn.base import clone

        return type(self)(**{k: clone(v, safe=False) for k, v in super().get_params().items()})

    def __sklearn_tags__(self) -> Any:
        return self.sampler().__sklearn_tags__()

    def to_dict(self, *, include_state: bool = False) -> dict[str, Any]:
        strategy = self._params["sampling_strategy"]
        if callable(strategy) and not isinstance(strategy, str | dict):
            raise ParamError(f"{self.label()}: a callable sampling_strategy has no YAML form; "
                             "allowed in a policy: a float, a string or a mapping")
        for key, value in self._params.items():
            if not _yaml_able(value):
                raise ParamError(f"{self.label()}: {key} got an object "
                                 f"({type(value).__name__}), which has no YAML form; allowed "
                                 f"in a policy: {self.declared_params()[key].spec.allowed()}",
                                 param=key, value=value)
        return super().to_dict(include_state=include_state)


def _yaml_able(value: Any) -> bool:
    """A value YAML holds: None, a bool, number or string, or lists and mappings of them."""
    if value is None or isinstance(value, bool | int | float | str | np.integer | np.floating):
        return True
    if isinstance(value, list | tuple):
        return all(_yaml_able(v) for v in value)
    if isinstance(value, dict):
        return all(_yaml_able(k) and _yaml_able(v) for k, v in value.items())
    return False


class SMOTETransform(_OverSampler):
    """SMOTE (imbalanced-learn's, exactly): new minority rows on segments to same-class
    neighbours."""

    name = "smote"
    sampler_class = SMOTE
    neighbours_key = "k_neighbors"
    params = {
        "k_neighbors": neighbours_param(
            "same-class neighbours to interpolate towards; auto: 5, lowered to what the "
            "smallest over-sampled class allows (with a warning)"),
        "sampling_strategy": Param(SAMPLING_STRATEGY, "auto", "which classes grow, and to what"),
        "random_state": Param(Nullable(Integer(0, SEED_RANGE - 1)), None,
                              "imbalanced-learn's random_state; null: drawn from the policy's "
                              "seed"),
    }


class ADASYNTransform(_OverSampler):
    """ADASYN (imbalanced-learn's, exactly): more synthetic rows where a minority row has more
    neighbours of other classes."""

    name = "adasyn"
    sampler_class = ADASYN
    neighbours_key = "n_neighbors"
    params = {
        "n_neighbors": neighbours_param(
            "neighbours for the weights and the interpolation; auto: 5, lowered to what the "
            "smallest over-sampled class allows (with a warning)"),
        "sampling_strategy": Param(SAMPLING_STRATEGY, "auto", "which classes grow, and to what"),
        "random_state": Param(Nullable(Integer(0, SEED_RANGE - 1)), None,
                              "imbalanced-learn's random_state; null: drawn from the policy's "
                              "seed"),
    }
