"""SMOTE and ADASYN on torch tensors where they lie (CUDA): imbalanced-learn's algorithms and
its random draws, with the k-NN and the interpolation in torch.

Everything that decides *what* is drawn runs on the CPU exactly as imbalanced-learn runs it:
the checks on y, ``sampling_strategy_``, the class order, and the numpy ``RandomState`` draws
(SMOTE: ``randint`` for the (row, neighbour) pairs and ``uniform`` for the steps, from a fresh
``check_random_state(random_state)`` per class as imbalanced-learn's ``_make_samples`` does;
ADASYN: one state for all classes, the ``rint`` weights, ``choice`` and ``uniform``). Only the
k-NN and the gather / interpolation run in torch, on X's device. The output is imbalanced-
learn's layout: the input rows first, then each over-sampled class's new rows in turn.

The k-NN is exact brute force (``|p|^2 - 2 q.p`` by GEMM, ``topk``) in X's dtype (float32 for
float16 / bfloat16, float64 for integers), in blocks of query rows so that a block's distances
stay within ``_BLOCK_BYTES``. The query point itself is left out by its index, which is what
imbalanced-learn's ``kneighbors(X)[:, 1:]`` does whenever the point comes back first. Where
results can differ from imbalanced-learn: where distances tie or differ by rounding only
(duplicated rows, or float32 neighbours at equal distance), the neighbours' order, and so the
chosen neighbour, may differ; the draws themselves never do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from imblearn.utils import check_sampling_strategy
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_y

from augkit.errors import InputError

from .functional import _label

# One block of query rows x points of distances: large enough that the GEMM and topk keep the
# device busy, bounded so that memory use does not grow with the table.
_BLOCK_BYTES = {"cpu": 64 << 20}
_DEVICE_BLOCK_BYTES = 1 << 30


def fits_torch_path(X: Any, y: Any, neighbours: Any) -> bool:
    """Whether ``(X, y)`` goes through :func:`resample_torch`: X a non-empty real tensor on a
    non-CPU device, y one label per row (numpy or torch), k an integer or ``"auto"`` (a k-NN
    estimator object is used as given, by imbalanced-learn on the CPU)."""
    if not isinstance(X, torch.Tensor) or X.device.type == "cpu":
        return False
    if X.is_complex() or X.ndim != 2 or X.numel() == 0:
        return False  # the CPU path gives these their errors
    if not isinstance(y, torch.Tensor | np.ndarray) or y.ndim != 1:
        return False
    return isinstance(neighbours, str | int | np.integer) and not isinstance(neighbours, bool)


def resample_torch(sampler: Any, X: torch.Tensor, y: Any) -> tuple[torch.Tensor, Any]:
    """``sampler.fit_resample(X, y)`` computed in torch on X's device (any device, CPU
    included): ``sampler`` an augkit ``SMOTE`` or ``ADASYN`` (its learned state is set as
    ``fit_resample`` sets it), X a 2-D tensor, y a 1-D numpy array or tensor. Returns X's
    dtype and device, and y as given (a tensor of y's dtype and device, or a numpy array)."""
    sampler._validate_params()
    y_np = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    check_classification_targets(y_np)
    sampler._check_rows(X, y_np)
    y_np = _check_y(y_np)
    sampler._check_not_bool(X.dtype == torch.bool)
    _check_finite(sampler, X)
    sampler._check_classes(y_np)
    sampler.n_features_in_ = X.shape[1]
    sampler.sampling_strategy_ = check_sampling_strategy(
        sampler.sampling_strategy, y_np, sampler._sampling_type)
    k = sampler._resolve_neighbours(y_np)
    setattr(sampler, f"{sampler._neighbours_param}_", k)
    sampler._validate_estimator()

    work = _work_dtype(X.dtype)
    Xw = X.detach().to(work)  # no copy when X is already of the work dtype
    classes, codes = np.unique(y_np, return_inverse=True)
    if sampler._augkit_name == "adasyn":
        parts, labels = _adasyn(sampler, Xw, y_np, classes, codes, k)
    else:
        parts, labels = _smote(sampler, Xw, y_np, k)
    X_res = torch.cat([X.detach(), *(p.to(X.dtype) for p in parts)])
    counts = [p.size(0) for p in parts]
    if isinstance(y, torch.Tensor):
        y_res = torch.cat([y.detach(), *(torch.full((n,), _label(c), dtype=y.dtype,
                                                    device=y.device)
                                         for c, n in zip(labels, counts, strict=True))])
    else:
        y_res = np.hstack([y_np.copy(), *(np.full(n, c, dtype=y_np.dtype)
                                          for c, n in zip(labels, counts, strict=True))])
    return X_res, y_res


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    if dtype in (torch.float16, torch.bfloat16):
        return torch.float32  # too coarse for distances; rounded back at the end
    if dtype.is_floating_point:
        return dtype
    return torch.float64  # integers: exact differences, as numpy's integer subtraction


def _check_finite(sampler: Any, X: torch.Tensor) -> None:
    if not X.is_floating_point():
        return
    finite = torch.isfinite(X)
    if bool(finite.all()):
        return
    bad = ~finite
    row = int(bad.any(dim=1).nonzero()[0, 0])
    raise sampler._nonfinite_error(bool(torch.isnan(X).any()), int(bad.sum()), row)


def _smote(sampler: Any, Xw: torch.Tensor, y_np: np.ndarray,
           k: int) -> tuple[list[torch.Tensor], list[Any]]:
    parts, labels = [], []
    for c, n_samples in sampler.sampling_strategy_.items():
        if n_samples == 0:
            continue
        idx = torch.from_numpy(np.flatnonzero(y_np == c)).to(Xw.device)
        X_class = Xw.index_select(0, idx)
        nns = knn(X_class, X_class, torch.arange(idx.numel(), device=Xw.device), k)
        # A fresh state per class, as imbalanced-learn's _make_samples builds one per call.
        random_state = check_random_state(sampler.random_state)
        samples_indices = random_state.randint(low=0, high=nns.numel(), size=n_samples)
        steps = random_state.uniform(size=n_samples)
        rows = np.floor_divide(samples_indices, k)
        cols = np.mod(samples_indices, k)
        parts.append(_interpolate(X_class, nns, rows, cols, steps))
        labels.append(c)
    return parts, labels


def _adasyn(sampler: Any, Xw: torch.Tensor, y_np: np.ndarray, classes: np.ndarray,
            codes: np.ndarray, k: int) -> tuple[list[torch.Tensor], list[Any]]:
    random_state = check_random_state(sampler.random_state)  # one state for all classes
    codes_dev = torch.from_numpy(codes).to(Xw.device)
    parts, labels = [], []
    for c, n_samples in sampler.sampling_strategy_.items():
        if n_samples == 0:
            continue
        where = np.flatnonzero(y_np == c)
        idx = torch.from_numpy(where).to(Xw.device)
        # The weights: neighbours among all rows, of another class.
        nns = knn(Xw, Xw.index_select(0, idx), idx, k)
        code = int(np.searchsorted(classes, c))
        others = (codes_dev[nns] != code).sum(dim=1).cpu().numpy()
        ratio_nn = others / k
        if not np.sum(ratio_nn):
            raise InputError(sampler._isolated_text(c, k))
        ratio_nn /= np.sum(ratio_nn)
        n_samples_generate = np.rint(ratio_nn * n_samples).astype(int)
        n_samples = np.sum(n_samples_generate)
        if not n_samples:
            raise ValueError("No samples will be generated with the provided ratio settings.")
        X_class = Xw.index_select(0, idx)
        nns = knn(X_class, X_class, torch.arange(idx.numel(), device=Xw.device), k)
        rows = np.repeat(np.arange(len(where)), n_samples_generate)
        cols = random_state.choice(k, size=n_samples)
        steps = random_state.uniform(size=(n_samples, 1))[:, 0]
        parts.append(_interpolate(X_class, nns, rows, cols, steps))
        labels.append(c)
    return parts, labels


def _interpolate(X_class: torch.Tensor, nns: torch.Tensor, rows: np.ndarray, cols: np.ndarray,
                 steps: np.ndarray) -> torch.Tensor:
    """``X_class[rows] + steps * (X_class[nns[rows, cols]] - X_class[rows])`` as numpy forms
    it: the difference in X's dtype, the float64 steps promoting the rest to float64."""
    dev = X_class.device
    rows_t = torch.from_numpy(rows).to(dev)
    cols_t = torch.from_numpy(cols).to(dev)
    steps_t = torch.from_numpy(steps).to(dev, torch.float64).unsqueeze(1)
    base = X_class.index_select(0, rows_t)
    diffs = X_class.index_select(0, nns[rows_t, cols_t]) - base
    # Two rounded operations, not a fused addcmul: numpy's rounding, so float64 matches bit
    # for bit.
    return base.to(torch.float64) + steps_t * diffs.to(torch.float64)


def knn(points: torch.Tensor, queries: torch.Tensor, self_index: torch.Tensor,
        k: int) -> torch.Tensor:
    """For each query row ``queries[i]`` (which is ``points[self_index[i]]``): the indices of
    its ``k`` nearest points, nearest first, itself left out by its index. Exact brute force
    in the points' dtype, in blocks of queries bounded by ``_BLOCK_BYTES``.

    (knn.knn_within answers the same question for graph_smote, but always in float64 and with
    a CPU-side exact recheck, so it does not carry over to the device.)"""
    m = points.size(0)
    q = queries.size(0)
    budget = _BLOCK_BYTES.get(points.device.type, _DEVICE_BLOCK_BYTES)
    block = max(1, min(q, budget // (m * points.element_size())))
    # |q|^2 is the same along a row, so |p|^2 - 2 q.p ranks the points as |q - p|^2 does.
    sq = (points * points).sum(1)
    out = torch.empty(q, k, dtype=torch.long, device=points.device)
    buf = points.new_empty(block, m)
    lane = torch.arange(block, device=points.device)
    pT = points.T
    for start in range(0, q, block):
        stop = min(q, start + block)
        b = buf[:stop - start]
        torch.addmm(sq.unsqueeze(0), queries[start:stop], pT, beta=1.0, alpha=-2.0, out=b)
        b[lane[:stop - start], self_index[start:stop]] = float("inf")
        out[start:stop] = b.topk(k, dim=1, largest=False, sorted=True).indices
    return out
