"""Feature scaling: min-max and z-score statistics, the ``minmax_scale`` and ``standardize``
transforms, and (re-exported) scikit-learn compatible scalers and EfficientNet compound scaling.

Statistics follow scikit-learn's ``MinMaxScaler`` / ``StandardScaler`` (sklearn 1.9,
``sklearn/preprocessing/_data.py``): NaNs are ignored when fitting and kept by the transform,
variance has ddof 0 and is accumulated in float64, a constant column maps to
``feature_range[0]`` (min-max) or 0 (z-score), and ``partial_fit`` merges batches with Chan,
Golub and LeVeque's update.

The transforms learn their statistics in ``fit(data)`` (``Policy.fit`` calls it). By default
(``fit_on: train_mask``) only training nodes are read, so nothing leaks from validation or test
nodes; ``fit_on: per_graph`` instead computes statistics per graph at apply time (per graph of
a PyG ``Batch``, vectorised with scatter). A fitted transform saves its statistics through
``fitted_state()`` as plain float lists, which YAML writes with ``repr`` and so reads back
exactly: ``Policy.save`` / ``load_policy`` give back the training-time scaling bit for bit.

On a PyG ``HeteroData`` every node type's ``x`` (every edge type's ``edge_attr``) is scaled
with statistics of its own: a child transform per type (:meth:`_FeatureScale.type_scaler`),
fitted as a table on the type's rows (``train_mask``: its training nodes, or for an edge type
the edges whose ends are training nodes of their types; a type without a ``train_mask`` has no
labelled nodes and is fitted on all its rows); ``fitted_state`` keeps one state per type under
``types``. ``per_graph`` computes every type's statistics at apply time, graph by graph in a
Batch of HeteroData.

A fitted transform also scales one table row at a time: a 1-D item of as many values as there
are fitted features (what ``AugmentedDataset((X, y), policy)`` hands its sample stage) is
scaled with the per-feature statistics and comes back 1-D, bit for bit as that row of the
scaled table. (With one fitted feature, a 1-D array is a column, the same thing.)

This module imports neither scikit-learn nor torch_geometric: ``MinMaxScaler`` and
``StandardScaler`` (which subclass scikit-learn's ``BaseEstimator``) load from
``augkit.scalers`` on first access, and graphs are read through attribute access only.
"""

from __future__ import annotations

import copy
import importlib
import sys
import warnings
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
import torch.utils.data

from augkit._stats import (
    acc_dtype,
    float_dtype_of,
    group_mean_var,
    group_min_max,
    merge_mean_var,
    range_scale,
    std_scale,
    torch_mean_var,
    torch_min_max,
)
from augkit.compound import (
    CompoundScaling,
    EfficientNetParams,
    compound_scaling,
    efficientnet_params,
    round_filters,
    round_repeats,
    search_coefficients,
)
from augkit.errors import AugkitError, InputError, ParamError
from augkit.params import Boolean, Choice, Custom, Interval, Number, Param
from augkit.transform import Transform

if TYPE_CHECKING:
    from augkit.scalers import MinMaxScaler, StandardScaler

__all__ = [
    "MinMaxScaler",
    "StandardScaler",
    "MinMaxScale",
    "Standardize",
    "NotFittedError",
    "compound_scaling",
    "efficientnet_params",
    "search_coefficients",
    "round_filters",
    "round_repeats",
    "CompoundScaling",
    "EfficientNetParams",
]

_LAZY = {"MinMaxScaler": "augkit.scalers", "StandardScaler": "augkit.scalers"}


def __getattr__(name: str) -> Any:
    # The estimators subclass scikit-learn's BaseEstimator: import sklearn only when asked.
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'augkit.scaling' has no attribute {name!r}")


class NotFittedError(AugkitError, RuntimeError):
    """A scaling transform that learns statistics was applied before ``fit``."""


# ---- the transforms -----------------------------------------------------------------------


def _is_hetero(data: Any) -> bool:
    """Whether ``data`` is a PyG HeteroData (known by its class; PyG is not imported)."""
    return any(c.__name__ == "HeteroData" for c in type(data).__mro__)


def _is_array(x: Any) -> bool:
    return isinstance(x, torch.Tensor | np.ndarray)


def _as_tensor(x: Any) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x
    with warnings.catch_warnings():
        # A read-only array is never written: only read through the shared tensor.
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(np.asarray(x))


def _as_2d(x: torch.Tensor, what: str, owner: str) -> torch.Tensor:
    if x.dim() == 1:
        return x.view(-1, 1)
    if x.dim() != 2:
        raise InputError(
            f"{owner}: {what} has shape {tuple(x.shape)}; allowed: [rows, features] or [rows]"
        )
    return x


def _floating(x: torch.Tensor) -> torch.Tensor:
    return x if x.is_floating_point() else x.to(float_dtype_of(x))


class _FeatureScale(Transform):
    """Shared machinery of ``minmax_scale`` and ``standardize``."""

    kinds: ClassVar[tuple[str, ...]] = ("graph", "table")
    levels: ClassVar[tuple[str, ...]] = ("sample", "batch", "dataset")
    base_params: ClassVar[dict[str, Param]] = {
        "target": Param(
            Choice("x", "edge_attr"),
            "x",
            "graph attribute to scale: node features x or edge features edge_attr (a table's "
            "X is always the target)",
        ),
        "fit_on": Param(
            Choice("train_mask", "all", "per_graph"),
            "train_mask",
            "where statistics come from: the training nodes (data.train_mask; for edge_attr "
            "the edges between training nodes; a table's rows), all nodes/rows given to fit(), "
            "or each graph (each table) at apply time without fitting",
        ),
    }
    #: Names of the fitted statistics, in fitted_state order.
    stat_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._stats: dict[str, torch.Tensor] | None = None
        self._count: Any = None
        self._cache: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}
        self._types: dict[str, _FeatureScale] = {}  # HeteroData: a fitted child per type

    # -- HeteroData: a child per type --

    def _typed(self, data: Any) -> list[tuple[Any, str, torch.Tensor]]:
        """``(store key, type name, target)`` of every type of a HeteroData that has the
        target (node types for ``x``, edge types for ``edge_attr``); an InputError when none
        has it."""
        if self.target == "x":
            stores = [(nt, nt) for nt in data.node_types]
        else:
            stores = [(et, "__".join(et)) for et in data.edge_types]
        out = [(key, name, data[key][self.target]) for key, name in stores
               if isinstance(data[key].get(self.target), torch.Tensor)]
        if not out:
            where = "node type" if self.target == "x" else "edge type"
            raise InputError(f"{self.label()}: no {where} of the {type(data).__name__} has a "
                             f"tensor {self.target!r}; allowed: a HeteroData whose types "
                             "carry it")
        return out

    def type_scaler(self, name: str) -> _FeatureScale:
        """The child transform that scales type ``name`` of a HeteroData (made on first use)."""
        if name not in self._types:
            self._types[name] = type(self)(**self.get_params())
        return self._types[name]

    def _type_rows(self, data: Any, key: Any, value: torch.Tensor) -> torch.Tensor:
        """The rows of one type's target that statistics are fitted on."""
        if self.fit_on == "all":
            return value
        if isinstance(key, str):
            mask = data[key].get("train_mask")
            return value if mask is None else value[mask.to(value.device)]
        ei = data[key].edge_index.to(value.device)
        keep = torch.ones(ei.size(1), dtype=torch.bool, device=value.device)
        for row, nt in ((0, key[0]), (1, key[2])):
            mask = data[nt].get("train_mask")
            if mask is not None:
                keep &= mask.to(value.device)[ei[row]]
        return value[keep]

    def _partial_fit_hetero(self, data: Any) -> None:
        if self.fit_on == "train_mask" and not any(
                data[nt].get("train_mask") is not None for nt in data.node_types):
            raise InputError(
                f"{self.label()}: fit_on=train_mask, but no node type of the "
                f"{type(data).__name__} has a train_mask; allowed: a graph with a boolean "
                "train_mask on its labelled type, or fit_on: all")
        for key, name, value in self._typed(data):
            rows = self._type_rows(data, key, _as_2d(value, name, self.label()))
            self.type_scaler(name).partial_fit((rows, None))

    def _apply_hetero(self, data: Any, params: dict[str, Any]) -> Any:
        if self.fit_on == "per_graph" and hasattr(data, "to_data_list"):
            graphs = [self._apply_hetero(g, params) for g in data.to_data_list()]
            return sys.modules["torch_geometric.data"].Batch.from_data_list(graphs)
        if self.fit_on != "per_graph" and not self._types:
            raise self._not_fitted()
        out = copy.copy(data)  # copies every store: the writes below stay in the copy
        for store in (*out.node_stores, *out.edge_stores):
            store.__dict__.pop("_cached_attr", None)
        for key, name, value in self._typed(data):
            if self.fit_on != "per_graph" and name not in self._types:
                raise InputError(
                    f"{self.label()}: type {name!r} was not in the data fit() saw; allowed: "
                    f"its types {', '.join(self._types)}")
            child = self.type_scaler(name)
            out[key][self.target] = child.apply((value, None), params)[0]
        return out

    # -- what to scale --

    def _split(self, data: Any) -> tuple[str, Any]:
        """("table", X) for (X, y) or a bare array, ("graph", the target tensor) for a graph."""
        if _is_array(data):
            return "table", data
        if isinstance(data, tuple | list) and data and _is_array(data[0]):
            return "table", data[0]
        if _is_hetero(data):
            return "hetero", None
        value = getattr(data, self.target, None)
        if not isinstance(value, torch.Tensor):
            what = "no" if value is None else f"a {type(value).__name__} as"
            raise InputError(
                f"{self.label()}: got {type(data).__name__} with {what} attribute "
                f"{self.target!r}; allowed: a graph with a tensor {self.target!r}, an (X, y) "
                "table or an array"
            )
        return "graph", value

    def check_input(self, data: Any) -> None:
        kind, _ = self._split(data)
        if kind == "hetero":
            for _, name, value in self._typed(data):
                _as_2d(value, f"{self.target} of type {name!r}", self.label())

    def _rebuild(self, data: Any, value: Any) -> Any:
        """A new object like ``data`` with ``value`` as its target; ``data`` is not changed."""
        if _is_array(data):
            return value
        if isinstance(data, tuple | list) and data and _is_array(data[0]):
            return type(data)([value, *data[1:]])
        out = copy.copy(data)
        setattr(out, self.target, value)
        return out

    def _training_rows(self, data: Any, value: torch.Tensor) -> torch.Tensor:
        """The rows statistics are fitted on: all, or those of training nodes / edges."""
        if self.fit_on == "all":
            return value
        mask = getattr(data, "train_mask", None)
        if mask is None:
            raise InputError(
                f"{self.label()}: fit_on=train_mask, but the graph has no train_mask; allowed: "
                "a graph with a boolean train_mask, or fit_on: all (e.g. when fitting on the "
                "training graphs of an inductive dataset)"
            )
        mask = mask.to(value.device)
        if self.target == "x":
            return value[mask]
        # Edge features: only edges whose two ends are training nodes (no val/test node).
        ei = data.edge_index.to(value.device)
        return value[mask[ei[0]] & mask[ei[1]]]

    # -- fitting --

    def fit(self, data: Any) -> _FeatureScale:
        """Learn the statistics from ``data``: a graph (``Data`` or ``Batch``), an ``(X, y)``
        table, an array, or an iterable of graphs (a dataset; merged as partial fits).
        With ``fit_on: per_graph`` there is nothing to learn and this does nothing."""
        if self.fit_on == "per_graph":
            return self
        self._stats, self._count = None, None
        self._cache, self._types = {}, {}
        if _is_hetero(data):
            self.partial_fit(data)
            return self
        if _is_array(data) or (isinstance(data, tuple | list) and data and _is_array(data[0])):
            self.partial_fit(data)
            return self
        # A dataset (PyG's Dataset is a torch Dataset; its attribute access would expose the
        # whole collated storage, even of a subset) or a list of graphs: merged graph by graph.
        many = isinstance(data, list | tuple | torch.utils.data.Dataset) or (
            not hasattr(data, self.target) and hasattr(data, "__iter__"))
        if not many:
            self.partial_fit(data)
            return self
        for graph in data:
            self.partial_fit(graph)
        if self._stats is None and not self._types:
            raise InputError(f"{self.label()}: fit got an empty dataset; allowed: >= 1 graph")
        return self

    def partial_fit(self, data: Any) -> _FeatureScale:
        """Merge the statistics of one more graph or table into the fitted ones."""
        kind, value = self._split(data)
        if kind == "hetero":
            self._partial_fit_hetero(data)
            return self
        x = _as_2d(_as_tensor(value), self.target if kind == "graph" else "X", self.label())
        rows = x if kind == "table" else self._training_rows(data, x)
        if not rows.is_floating_point():
            rows = rows.to(torch.float64)
        new = self._batch_stats(rows)
        new = {k: v.detach().to("cpu", torch.float64) for k, v in new.items()}
        count = new.pop("count")
        if self._stats is not None and self._stats[self.stat_keys[0]].shape != count.shape:
            raise InputError(
                f"{self.label()}: got {count.shape[0]} features; the fitted statistics have "
                f"{self._stats[self.stat_keys[0]].shape[0]}"
            )
        if self._stats is None:
            self._stats, self._count = new, count
        else:
            self._stats, self._count = self._merge(self._stats, self._count, new, count)
        self._cache = {}
        return self

    @property
    def is_fitted(self) -> bool:
        return self.fit_on == "per_graph" or self._stats is not None or bool(self._types)

    # -- fitted state --

    def fitted_state(self) -> dict[str, Any] | None:
        if self._types and self._stats is None:
            return {"fit_on": self.fit_on, "target": self.target,
                    "types": {name: child.fitted_state() for name, child in self._types.items()}}
        if self._stats is None:
            return None
        count = self._count
        counts = [float(c) for c in count.tolist()]
        state: dict[str, Any] = {"fit_on": self.fit_on, "target": self.target}
        # One number when every column saw the same count (no NaN), as sklearn reports it.
        state["count"] = counts[0] if counts and len(set(counts)) == 1 else counts
        state["features"] = int(count.shape[0])
        for key in self.stat_keys:
            state[key] = [float(v) for v in self._stats[key].tolist()]
        return state

    def load_fitted_state(self, state: dict[str, Any]) -> None:
        if not isinstance(state, dict):
            raise ParamError(f"{self.label()}.fitted_state: got {state!r}; allowed: a mapping")
        if "types" in state:  # a HeteroData's: one state per type
            types = state["types"]
            if not isinstance(types, dict) or not types:
                raise ParamError(f"{self.label()}.fitted_state.types: got {types!r}; allowed: "
                                 "a mapping of type names to fitted states")
            children = {}
            for name, child_state in types.items():
                child = type(self)(**self.get_params())
                child.load_fitted_state({k: v for k, v in state.items() if k != "types"}
                                        | child_state)
                children[str(name)] = child
            self._stats, self._count, self._cache, self._types = None, None, {}, children
            return
        missing = [k for k in ("count", "features", *self.stat_keys) if k not in state]
        if missing:
            raise ParamError(
                f"{self.label()}.fitted_state: missing {', '.join(missing)}; allowed: a mapping "
                f"with count, features, {', '.join(self.stat_keys)}"
            )
        for key in ("fit_on", "target"):
            if key in state and state[key] != self._params[key]:
                raise ParamError(
                    f"{self.label()}.fitted_state.{key}: the statistics were fitted with "
                    f"{key}={state[key]!r}; this transform has {key}={self._params[key]!r}"
                )
        f = state["features"]
        if not isinstance(f, int) or isinstance(f, bool) or f < 1:
            raise ParamError(f"{self.label()}.fitted_state.features: got {f!r}; allowed: an "
                             "integer >= 1")
        stats = {}
        for key in self.stat_keys:
            values = state[key]
            if not isinstance(values, list) or len(values) != f or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in values
            ):
                raise ParamError(
                    f"{self.label()}.fitted_state.{key}: got {values!r}; allowed: a list of "
                    f"{f} numbers"
                )
            stats[key] = torch.tensor(values, dtype=torch.float64)
        count = state["count"]
        if isinstance(count, list):
            if len(count) != f:
                raise ParamError(f"{self.label()}.fitted_state.count: got {len(count)} values; "
                                 f"allowed: {f}")
            count_t = torch.tensor(count, dtype=torch.float64)
        else:
            count_t = torch.full((f,), float(count), dtype=torch.float64)
        self._stats, self._count, self._cache = stats, count_t, {}

    # -- applying --

    def _coefficients(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(a, b) such that the scaled value is (x - a) / b or x * a + b, cast to x's device
        and dtype once and cached."""
        key = (like.device, like.dtype)
        if key not in self._cache:
            a, b = self._global_coefficients()
            self._cache[key] = (a.to(device=like.device, dtype=like.dtype),
                                b.to(device=like.device, dtype=like.dtype))
        return self._cache[key]

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        kind, value = self._split(data)
        if kind == "hetero":
            return self._apply_hetero(data, params)
        is_numpy = isinstance(value, np.ndarray)
        t = _as_tensor(value)
        if self.fit_on == "per_graph":
            x = _as_2d(t, self.target if kind == "graph" else "X", self.label())
            out = self._apply_per_graph(data, kind, _floating(x))
        else:
            if self._stats is None:
                raise self._not_fitted()
            features = self._stats[self.stat_keys[0]].shape[0]
            if kind == "table" and t.dim() == 1 and features > 1:
                # A 1-D table item is one row (a Dataset over (X, y) yields X[i]).
                if t.shape[0] != features:
                    raise InputError(
                        f"{self.label()}: got a row of {t.shape[0]} values; the fitted "
                        f"statistics have {features} features; allowed: a row of {features} "
                        f"values or a [rows, {features}] table"
                    )
                x = t.unsqueeze(0)
            else:
                x = _as_2d(t, self.target if kind == "graph" else "X", self.label())
            xf = _floating(x)
            if xf.shape[1] != features:
                raise InputError(
                    f"{self.label()}: got {xf.shape[1]} features; the fitted statistics have "
                    f"{features}"
                )
            out = self._scale(xf, *self._coefficients(xf))
        out = out.view(t.shape) if t.dim() == 1 else out
        return self._rebuild(data, out.numpy() if is_numpy else out)

    def _not_fitted(self) -> NotFittedError:
        return NotFittedError(
            f"{self.label()}: fit_on={self.fit_on} needs fitted statistics; call "
            "fit(training data) first (Policy.fit(data) fits every scaler), load a "
            "saved policy with its fitted_state, or use fit_on: per_graph"
        )

    def _apply_per_graph(self, data: Any, kind: str, x: torch.Tensor) -> torch.Tensor:
        groups, index = 1, None
        batch = getattr(data, "batch", None) if kind == "graph" else None
        if isinstance(batch, torch.Tensor):
            groups = int(getattr(data, "num_graphs", 0) or (int(batch.max()) + 1 if
                                                             batch.numel() else 1))
            batch = batch.to(x.device)
            index = batch if self.target == "x" else batch[data.edge_index[0].to(x.device)]
        if index is None:
            index = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
        a, b = self._group_coefficients(x, index, groups)
        return self._scale(x, a.to(x.dtype)[index], b.to(x.dtype)[index])

    # Subclasses: statistics of one batch of rows, merging, coefficients, scaling.
    def _batch_stats(self, rows: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError  # each scaler overrides it

    def _merge(self, old: dict, old_count: Any, new: dict, new_count: Any) -> tuple[dict, Any]:
        raise NotImplementedError  # each scaler overrides it

    def _global_coefficients(self) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError  # each scaler overrides it

    def _group_coefficients(
        self, x: torch.Tensor, index: torch.Tensor, groups: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError  # each scaler overrides it

    def _scale(self, x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError  # each scaler overrides it


def _feature_range(value: Any) -> tuple[float, float]:
    lo, hi = Interval(Number(), allow_scalar=False).check(value)
    if not lo < hi:
        raise ValueError(value)
    return (lo, hi)


class MinMaxScale(_FeatureScale):
    """Scale each feature column to ``feature_range`` with min/max learned by ``fit``
    (scikit-learn's ``MinMaxScaler``: x * scale + min; a constant column gives
    ``feature_range[0]``; NaNs ignored in fit, kept by the transform).

    >>> import torch
    >>> from augkit.scaling import MinMaxScale
    >>> X = torch.tensor([[0.0, 1.0], [2.0, 5.0], [1.0, 3.0]])
    >>> MinMaxScale().fit((X, None))((X, None))[0]
    tensor([[0.0000, 0.0000],
            [1.0000, 1.0000],
            [0.5000, 0.5000]])
    """

    name = "minmax_scale"
    params = {
        **_FeatureScale.base_params,
        "feature_range": Param(
            Custom(
                _feature_range,
                "a pair [lo, hi] of numbers with lo < hi",
                {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            ),
            (0.0, 1.0),
            "the range every feature is scaled to",
        ),
        "clip": Param(Boolean(), False, "clip scaled values of unseen data to feature_range"),
    }
    stat_keys = ("data_min", "data_max")

    def _batch_stats(self, rows: torch.Tensor) -> dict[str, torch.Tensor]:
        lo, hi = torch_min_max(rows)
        return {"data_min": lo, "data_max": hi,
                "count": torch.full((rows.shape[1],), float(rows.shape[0]))}

    def _merge(self, old: dict, old_count: Any, new: dict, new_count: Any) -> tuple[dict, Any]:
        lo = torch.fmin(old["data_min"], new["data_min"])
        hi = torch.fmax(old["data_max"], new["data_max"])
        return {"data_min": lo, "data_max": hi}, old_count + new_count

    def _global_coefficients(self) -> tuple[torch.Tensor, torch.Tensor]:
        assert self._stats is not None
        return range_scale(self._stats["data_min"], self._stats["data_max"], self.feature_range)

    def _group_coefficients(
        self, x: torch.Tensor, index: torch.Tensor, groups: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        lo, hi = group_min_max(x, index, groups)
        return range_scale(lo.to(acc_dtype(x.device)), hi.to(acc_dtype(x.device)),
                           self.feature_range)

    def _scale(self, x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        out = torch.addcmul(b, x, a)
        if self.clip:
            out = out.clamp_(self.feature_range[0], self.feature_range[1])
        return out


class Standardize(_FeatureScale):
    """Z-score each feature column with mean/std learned by ``fit`` (scikit-learn's
    ``StandardScaler``: (x - mean) / std, ddof 0, float64 statistics; a constant column gives
    0; NaNs ignored in fit, kept by the transform).

    >>> import torch
    >>> from augkit.scaling import Standardize
    >>> X = torch.tensor([[1.0], [3.0]])
    >>> Standardize().fit((X, None))((X, None))[0]
    tensor([[-1.],
            [ 1.]])
    """

    name = "standardize"
    params = {
        **_FeatureScale.base_params,
        "with_mean": Param(Boolean(), True, "subtract the mean"),
        "with_std": Param(Boolean(), True, "divide by the standard deviation"),
    }
    stat_keys = ("mean", "var")

    def _batch_stats(self, rows: torch.Tensor) -> dict[str, torch.Tensor]:
        mean, var, count = torch_mean_var(rows)
        return {"mean": mean, "var": var, "count": count}

    def _merge(self, old: dict, old_count: Any, new: dict, new_count: Any) -> tuple[dict, Any]:
        mean, var, count = merge_mean_var(
            (old["mean"], old["var"], old_count), (new["mean"], new["var"], new_count)
        )
        return {"mean": mean, "var": var}, count

    def _coeffs_from(self, mean: torch.Tensor, var: torch.Tensor,
                     count: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a = mean if self.with_mean else torch.zeros_like(mean)
        b = std_scale(var, mean, count) if self.with_std else torch.ones_like(var)
        return a, b

    def _global_coefficients(self) -> tuple[torch.Tensor, torch.Tensor]:
        assert self._stats is not None
        return self._coeffs_from(self._stats["mean"], self._stats["var"], self._count)

    def _group_coefficients(
        self, x: torch.Tensor, index: torch.Tensor, groups: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mean, var, count = group_mean_var(x, index, groups)
        return self._coeffs_from(mean, var, count)

    def _scale(self, x: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.sub(x, a).div_(b)

