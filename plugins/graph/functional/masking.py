"""Feature masking: whole columns, whole rows or single entries of ``x`` replaced by a fill.

A key's draw is ``augkit._counter.hash_bits24(seed, key)``, kept at or above
``threshold24(p)``. The key of a column is ``graph * num_features + column`` (one draw per
graph of a Batch), of a row its index, of an entry ``row * num_features + column``. The same
seed gives the same result on the CPU and on CUDA, bit for bit (except the ``normal`` fill,
equal up to float rounding).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from augkit._counter import hash_bits24, salt_of, threshold24
from augkit._memory import empty_array, empty_output_like
from augkit._threads import parallel_ranges
from augkit.errors import InputError, ParamError
from augkit.plugins.graph._backend import HAVE_NUMBA, use_numba
from augkit.plugins.graph.functional._common import (
    _take,
    _u64,
    item_salts,
    salted_bits24,
    segments,
)
from augkit.plugins.graph.kernels.streams import NORMAL_FILL_SEED_OFFSET

if HAVE_NUMBA:
    from augkit.plugins.graph.kernels import masking as _kernels

FILL_MODES = ("zero", "mean", "normal")
MASK_MODES = ("feature", "node", "element")

# The numba wrapper's choices (bench graph/feature_masking shows each):
# up to this many entries, ungrouped zero-fill masking of float x is one fused call (the
# broadcast select's tensor ops cost more than the work);
_SMALL_MASK = 1 << 15
# from this many entries an ungrouped zero fill is torch's bitwise_and, which splits over
# torch's OpenMP threads (they wake faster than augkit's pool);
_TORCH_AND_MIN = 1 << 17
# from this many entries the numba select is split over threads (below, the pass is bound by
# memory and a hand-off to a sleeping thread costs more than it saves);
_SELECT_SPLIT_MIN = 1 << 23
# the dtypes the fill statistics' numba pass reads.
_STATS_DTYPES = (torch.float32, torch.float64, torch.int32, torch.int64)

_NO_GROUPS = np.zeros(1, np.int64)  # the group ids the kernels ignore when ungrouped
_INT_OF_SIZE = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def mask_feature(
    x: torch.Tensor,
    p: float,
    seed: int,
    *,
    mode: str = "feature",
    fill: str = "zero",
    group: torch.Tensor | None = None,
    num_groups: int | None = None,
    backend: str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Masks features of ``x`` (``[num_rows, num_features]`` or ``[num_rows]``) at rate ``p``.

    Modes: ``feature`` masks whole columns (GraphCL attribute masking; PyG ``mode='col'``),
    drawn per group when ``group`` (the graph of each row, e.g. a Batch's ``batch``) is given;
    ``node`` whole rows (``'row'``); ``element`` single entries (``'all'``). Fills: ``zero``;
    ``mean``, the column's mean over the row's group; ``normal``, draws from a normal with the
    column's mean and standard deviation over the group. Returns ``(x, keep)`` with ``keep``
    broadcastable to ``x`` (``[groups, F]`` for ``feature`` mode, ``[N, 1]`` for ``node``,
    ``[N, F]`` for ``element``).

    Example:
        >>> x = torch.arange(6.0).view(3, 2)
        >>> out, keep = mask_feature(x, 1.0, seed=0, mode="node")
        >>> out.tolist(), keep.view(-1).tolist()
        ([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0]], [False, False, False])
        >>> out, keep = mask_feature(x, 1.0, seed=0, mode="feature", fill="mean")
        >>> out.tolist()
        [[2.0, 3.0], [2.0, 3.0], [2.0, 3.0]]
    """
    if mode not in MASK_MODES:
        raise ParamError(f"mode: got {mode!r}; allowed: {', '.join(MASK_MODES)}",
                         param="mode", value=mode)
    if fill not in FILL_MODES:
        raise ParamError(f"fill: got {fill!r}; allowed: {', '.join(FILL_MODES)}",
                         param="fill", value=fill)
    flat = x.dim() == 1
    x2 = x.view(-1, 1) if flat else x
    if x2.dim() != 2:
        raise InputError(f"x has shape {tuple(x.shape)}; allowed: [N] or [N, F]")
    if use_numba(backend, x2):
        result, keep = _mask_numba(x2, p, seed, mode, fill, group, num_groups)
    else:
        gid, k = _groups(x2, group, num_groups)
        mean, std, fvals = _fill_values(x2, gid, k, fill, _group_stats_torch)
        keep = _keep_torch(x2, seed, threshold24(p), mode, k)
        result = _apply_torch(x2, keep, fvals, mean, std, seed, mode, fill, gid)
    return (result.view(-1) if flat else result), keep


# ---- shared steps ---------------------------------------------------------------------------


def _groups(x2: torch.Tensor, group: torch.Tensor | None, num_groups: int | None,
            ) -> tuple[torch.Tensor | None, int]:
    """The group of every row on ``x2``'s device (None: one group, no per-row ids) and the
    number of groups."""
    if group is None:
        return None, 1
    gid = group.to(x2.device)
    n = x2.size(0)
    return gid, int(num_groups) if num_groups is not None else (int(gid.max()) + 1 if n else 1)


def _fill_values(x2: torch.Tensor, gid: torch.Tensor | None, k: int, fill: str,
                 stats: object) -> tuple:
    """``(mean, std, fvals)``: the groups' column statistics (None for the zero fill) and the
    fill value per group and column, zeros or the means (also the normal's centre)."""
    if fill == "zero":
        return None, None, torch.zeros(k, x2.size(1), dtype=x2.dtype, device=x2.device)
    mean, std = stats(x2, gid, k)
    fvals = mean.to(x2.dtype) if x2.is_floating_point() else mean.round().to(x2.dtype)
    return mean, std, fvals


def _group_stats_torch(x: torch.Tensor, gid: torch.Tensor | None, k: int,
                       in_order: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-group column mean and standard deviation (ddof 0), computed in float64 (``gid``
    None: one group). ``in_order`` (default: on the CPU): index_add_ even for one group,
    which on the CPU adds the rows in order, the numba pass's order, so the figures are the
    same; otherwise one group is column reductions (no atomics onto one row on CUDA)."""
    n, f = x.shape
    xd = x.detach().double()
    if in_order is None:
        in_order = x.device.type == "cpu"
    if (gid is None or k == 1) and not in_order:
        c = max(n, 1)
        mean = xd.sum(0, keepdim=True) / c
        sq = (xd * xd).sum(0, keepdim=True)
        return mean, (sq / c - mean * mean).clamp_(min=0).sqrt_()
    gid = _rows_gid(gid, n, x.device)
    cnt = torch.zeros(k, dtype=torch.float64, device=x.device).index_add_(
        0, gid, torch.ones_like(gid, dtype=torch.float64)).clamp_(min=1).unsqueeze(1)
    s = torch.zeros(k, f, dtype=torch.float64, device=x.device).index_add_(0, gid, xd)
    mean = s / cnt
    sq = torch.zeros_like(s).index_add_(0, gid, xd * xd)
    std = (sq / cnt - mean * mean).clamp_(min=0).sqrt_()
    return mean, std


def _keep_torch(x2: torch.Tensor, seed: int, thresh: int, mode: str, k: int) -> torch.Tensor:
    """The keep mask: ``[k, F]`` per (group, column), ``[N, 1]`` per row, ``[N, F]`` per
    entry."""
    n, f = x2.shape
    count = {"feature": k * f, "node": n, "element": n * f}[mode]
    keep = hash_bits24(seed, torch.arange(count, device=x2.device)) >= thresh
    return keep.view({"feature": (k, f), "node": (n, 1), "element": (n, f)}[mode])


def _rows_gid(gid: torch.Tensor | None, n: int, dev: torch.device) -> torch.Tensor:
    """The group of every row: ``gid``, or zeros for one group."""
    return gid if gid is not None else torch.zeros(n, dtype=torch.long, device=dev)


def _apply_torch(x2: torch.Tensor, keep: torch.Tensor, fvals: torch.Tensor,
                 mean: torch.Tensor | None, std: torch.Tensor | None, seed: int, mode: str,
                 fill: str, gid: torch.Tensor | None) -> torch.Tensor:
    """``x2`` with its masked entries replaced by their fill, in torch ops."""
    n, f = x2.shape
    dev = x2.device
    k = fvals.size(0)
    if mode != "element" and fill != "normal":
        # One broadcast pass over x, as PyG's masked_fill: faster than a loop per row.
        keep_b = keep if mode == "node" or k == 1 else keep.index_select(0, gid)
        fill_b = fvals[:1] if fill == "zero" or k == 1 else fvals.index_select(0, gid)
        bits = _bits_dtype(x2.dtype)
        if dev.type == "cpu" and not x2.requires_grad and bits is not None:
            return _select_bits(keep_b, x2, fill_b, bits, zero=fill == "zero")
        if dev.type == "cpu" and not x2.requires_grad:
            # Into recycled memory when large (augkit._memory).
            return torch.where(keep_b, x2, fill_b, out=empty_output_like(x2))
        return torch.where(keep_b.to(dev), x2, fill_b)
    gid = _rows_gid(gid, n, dev)
    full = keep.index_select(0, gid) if mode == "feature" else keep.expand(n, f)
    if fill == "normal" and x2.is_floating_point():
        key = 2 * torch.arange(n * f, device=dev)
        s1 = seed + NORMAL_FILL_SEED_OFFSET
        u1 = (hash_bits24(s1, key) + 1).double() * (1.0 / (1 << 24))
        u2 = hash_bits24(s1, key + 1).double() * (1.0 / (1 << 24))
        z = (torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(2.0 * math.pi * u2)).view(n, f)
        filler = (mean.index_select(0, gid) + std.index_select(0, gid) * z).to(x2.dtype)
    else:
        filler = fvals.index_select(0, gid)
    return torch.where(full, x2, filler)


def _bits_dtype(dtype: torch.dtype) -> torch.dtype | None:
    """The integer dtype whose bits :func:`_select_bits` works on, or None (bool, complex)."""
    if dtype == torch.bool or dtype.is_complex:
        return None
    if dtype.is_floating_point:
        return _INT_OF_SIZE.get(dtype.itemsize)
    return dtype


def _select_bits(keep: torch.Tensor, x: torch.Tensor, fill: torch.Tensor, bits: torch.dtype,
                 zero: bool) -> torch.Tensor:
    """``torch.where(keep, x, fill)`` on the CPU as bitwise ops on ``x``'s bits, exactly (NaN,
    -0.0 and every other value kept bit for bit): ``(x & m) | (fill & ~m)`` with ``m`` all ones
    where kept. torch's broadcast ``bitwise_and`` runs vectorised on all threads, where its
    ``where`` does not. The output is recycled memory when large (augkit._memory)."""
    m = keep.to(bits).neg_()  # True -> all ones, False -> 0
    out = empty_output_like(x)
    ob = out.view(bits)
    torch.bitwise_and(x.view(bits), m, out=ob)
    if not zero:
        ob.bitwise_or_(fill.view(bits) & ~m)
    return out


# ---- numba ----------------------------------------------------------------------------------


def _mask_numba(x2: torch.Tensor, p: float, seed: int, mode: str, fill: str,
                group: torch.Tensor | None, num_groups: int | None,
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`mask_feature` on a CPU ``x2`` with the numba kernels where they apply (float
    or bit-selectable dtypes, no autograd for the selects), torch ops for the rest: the
    same bits as the torch path."""
    n, f = x2.shape
    salt, thresh = _u64(salt_of(seed)), threshold24(p)
    floats = x2.dtype in (torch.float32, torch.float64)
    if group is None and fill == "zero" and n * f <= _SMALL_MASK and floats \
            and not x2.requires_grad:
        return _mask_small_numba(x2, salt, thresh, mode)
    gid, k = _groups(x2, group, num_groups)
    mean, std, fvals = _fill_values(x2, gid, k, fill, _group_stats)
    if mode != "element":
        count = k * f if mode == "feature" else n
        if floats:
            kk = np.empty(count, dtype=np.bool_)
            _kernels.hash_keep(count, salt, thresh, kk)
            keep = torch.from_numpy(kk)
        else:
            keep = hash_bits24(seed, torch.arange(count))
            keep = keep >= thresh
        keep = keep.view(k, f) if mode == "feature" else keep.view(n, 1)
        bits = _bits_dtype(x2.dtype)
        if fill != "normal" and not x2.requires_grad and bits is not None:
            # Group ids only where a row's mask or fill depends on its graph.
            by_graph = k > 1 and (mode == "feature" or fill != "zero")
            if fill == "zero" and not by_graph and n * f >= _TORCH_AND_MIN:
                result = empty_output_like(x2)
                torch.bitwise_and(x2.view(bits), keep.to(bits).neg_(), out=result.view(bits))
                return result, keep
            return _select_bits_numba(keep, x2, fvals, bits, mode == "feature",
                                      gid if by_graph else None, zero=fill == "zero"), keep
    elif not floats:
        keep = _keep_torch(x2, seed, thresh, mode, k)
    if not floats or (mode != "element" and fill != "normal"):
        return _apply_torch(x2, keep, fvals, mean, std, seed, mode, fill, gid), keep
    xs = x2.detach().numpy()
    out = empty_array((n, f), xs.dtype)
    if mode != "element":
        gid = _rows_gid(gid, n, x2.device)
    g = gid.numpy() if gid is not None else None
    fv = fvals.numpy()
    if mode == "feature":
        _kernels.mask_cols(xs, out, keep.numpy(), g, fv)
    elif mode == "node":
        _kernels.mask_rows(xs, out, keep.view(-1).numpy(), g, fv)
    else:
        kk = np.empty((n, f), dtype=np.bool_)
        grouped = gid is not None
        ge = gid.numpy() if grouped else _NO_GROUPS
        # A hash per entry: the rows split over torch's threads (in a DataLoader worker, one
        # thread, no split).
        parallel_ranges(lambda lo, hi: _kernels.mask_elements(
            xs[lo:hi], out[lo:hi], ge[lo:hi] if grouped else ge, fv, salt, thresh,
            kk[lo:hi], lo, grouped), n, f)
        keep = torch.from_numpy(kk)
    result = torch.from_numpy(out)
    if fill == "normal":
        if gid is None:
            gid = _rows_gid(gid, n, x2.device)
            g = gid.numpy()
        full = keep.index_select(0, gid) if mode == "feature" else keep.expand(n, f)
        _kernels.normal_fill(out, np.ascontiguousarray(full.numpy()), g, mean.numpy(),
                             std.numpy(), _u64(salt_of(seed + NORMAL_FILL_SEED_OFFSET)))
    return result, keep


def _mask_small_numba(x2: torch.Tensor, salt: np.uint64, thresh: int, mode: str,
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Ungrouped zero-fill masking of a small float ``x2``: draws and masking in one call."""
    n, f = x2.shape
    xs = x2.numpy()  # the caller took this path only without autograd: no detach needed
    out = np.empty((n, f), dtype=xs.dtype)
    if mode == "element":
        kk = np.empty((n, f), dtype=np.bool_)
        _kernels.mask_elements(xs, out, _NO_GROUPS, np.zeros((1, f), xs.dtype), salt, thresh,
                               kk, 0, False)
        keep = torch.from_numpy(kk)
    else:
        kk = np.empty(f if mode == "feature" else n, dtype=np.bool_)
        _kernels.mask_zero(xs, salt, thresh, mode == "feature", out, kk)
        keep = torch.from_numpy(kk.reshape((1, f) if mode == "feature" else (n, 1)))
    return torch.from_numpy(out), keep


def _group_stats(x: torch.Tensor, gid: torch.Tensor | None, k: int,
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`_group_stats_torch` as one numba pass adding the rows in order, as index_add_
    does (torch's CPU index_add_ adds row by row), for the dtypes it reads; the torch ops
    otherwise."""
    if x.dtype not in _STATS_DTYPES or x.requires_grad:
        return _group_stats_torch(x, gid, k, in_order=False)
    f = x.size(1)
    s = np.zeros((k, f), np.float64)
    sq = np.zeros((k, f), np.float64)
    cnt = np.zeros(k, np.float64)
    g = gid.numpy() if gid is not None else _NO_GROUPS
    if not _kernels.group_sums(x.numpy(), g, gid is not None, s, sq, cnt):
        raise InputError(f"group holds ids outside 0..{k - 1}; allowed: one id in "
                         f"[0, num_groups={k}) per row")
    c = np.maximum(cnt, 1.0)[:, None]
    mean = s / c
    with np.errstate(invalid="ignore", over="ignore"):  # inf and NaN columns, as torch
        std = np.sqrt(np.maximum(sq / c - mean * mean, 0.0))
    return torch.from_numpy(mean), torch.from_numpy(std)


def _select_bits_numba(keep: torch.Tensor, x: torch.Tensor, fvals: torch.Tensor,
                       bits: torch.dtype, by_col: bool, gid: torch.Tensor | None,
                       zero: bool) -> torch.Tensor:
    """:func:`_select_bits` in numba (rows split over torch's threads from
    ``_SELECT_SPLIT_MIN`` entries): the same bits, without waking torch's threads for a
    broadcast."""
    n, f = x.shape
    out = empty_output_like(x)
    mb = keep.to(bits).neg_().numpy()  # True -> all ones
    fb = fvals.view(bits).numpy()
    g = gid.numpy() if gid is not None else _NO_GROUPS
    xb, ob = x.view(bits).numpy(), out.view(bits).numpy()
    grouped = gid is not None
    if n * f < _SELECT_SPLIT_MIN:
        _kernels.select_bits(xb, ob, mb, fb, g, by_col, grouped, zero, 0, n)
    else:
        parallel_ranges(lambda lo, hi: _kernels.select_bits(xb, ob, mb, fb, g, by_col,
                                                            grouped, zero, lo, hi), n, f)
    return out


# ---- per-graph seeds: every graph of a Batch as if alone ------------------------------------


def mask_feature_items(
    x: torch.Tensor,
    p: float,
    seeds: torch.Tensor,
    applied: torch.Tensor,
    group: torch.Tensor,
    num_groups: int,
    *,
    mode: str = "feature",
    fill: str = "zero",
) -> torch.Tensor:
    r""":func:`mask_feature` on every group of rows at once (the graphs of a Batch: ``group``
    sorted, the rows of each graph together), group ``g`` drawing with ``seeds[g]`` and keys
    local to it (its row index, its columns), with its own fill statistics, so each group
    comes out as :func:`mask_feature` gives it alone. Groups whose ``applied`` is false are
    left as they are. ``seeds``/``applied`` lie on ``x``'s device.

    Example:
        >>> x = torch.arange(6.0).view(3, 2)
        >>> out = mask_feature_items(x, 1.0, torch.tensor([0, 0]), torch.tensor([True, False]),
        ...                          torch.tensor([0, 0, 1]), 2, mode="node")
        >>> out.tolist()
        [[0.0, 0.0], [0.0, 0.0], [4.0, 5.0]]
    """
    if mode not in MASK_MODES:
        raise ParamError(f"mode: got {mode!r}; allowed: {', '.join(MASK_MODES)}",
                         param="mode", value=mode)
    if fill not in FILL_MODES:
        raise ParamError(f"fill: got {fill!r}; allowed: {', '.join(FILL_MODES)}",
                         param="fill", value=fill)
    flat = x.dim() == 1
    x2 = x.view(-1, 1) if flat else x
    n, f = x2.shape
    dev = x2.device
    k = int(num_groups)
    gid = group.to(dev)
    if use_numba("auto", x2, gid, seeds, applied) and x2.dtype in _STATS_DTYPES \
            and not x2.requires_grad:
        result = _mask_items_numba(x2, p, seeds, applied, gid, k, mode, fill)
        return result.view(-1) if flat else result
    local, start, counts = segments(gid, k)
    full = _keep_items(n, f, p, seeds, applied, gid, k, mode, local)
    if fill == "zero":
        result = torch.where(full, x2, torch.zeros((), dtype=x2.dtype, device=dev))
        return result.view(-1) if flat else result
    mean, std = _item_stats(x2, gid, k, start, counts)
    fvals = mean.to(x2.dtype) if x2.is_floating_point() else mean.round().to(x2.dtype)
    result = torch.where(full, x2, _take(fvals, gid))
    if fill == "normal" and x2.is_floating_point():
        nsalts = item_salts(seeds + NORMAL_FILL_SEED_OFFSET)
        if use_numba("auto", x2) and x2.dtype in (torch.float32, torch.float64):
            # The kernel the graph alone runs (libm's log and cos, not torch's).
            _kernels.normal_fill_items(result.detach().numpy(), np.ascontiguousarray(full.numpy()),
                                       gid.numpy(), local.numpy(), mean.numpy(), std.numpy(),
                                       nsalts.numpy().view(np.uint64))
        else:
            key = 2 * (local.view(n, 1) * f + torch.arange(f, device=dev))
            s = _take(nsalts, gid).view(n, 1)
            u1 = (salted_bits24(key + s) + 1).double() * (1.0 / (1 << 24))
            u2 = salted_bits24(key + 1 + s).double() * (1.0 / (1 << 24))
            z = torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(2.0 * math.pi * u2)
            filler = (_take(mean, gid) + _take(std, gid) * z).to(x2.dtype)
            result = torch.where(full, x2, filler)
    return result.view(-1) if flat else result


def mask_keep_items(
    shape: tuple[int, int],
    p: float,
    seeds: torch.Tensor,
    applied: torch.Tensor,
    group: torch.Tensor,
    num_groups: int,
    *,
    mode: str = "feature",
) -> torch.Tensor:
    """The ``[rows, features]`` keep mask :func:`mask_feature_items` applies to an ``x`` of
    ``shape`` (true: the entry stays; groups whose ``applied`` is false keep everything); the
    same draws as :func:`mask_feature` of every group alone.

    >>> keep = mask_keep_items((3, 2), 1.0, torch.tensor([0, 0]), torch.tensor([True, False]),
    ...                        torch.tensor([0, 0, 1]), 2, mode="node")
    >>> keep.tolist()
    [[False, False], [False, False], [True, True]]
    """
    n, f = shape
    gid = group.to(seeds.device)
    local, _, _ = segments(gid, int(num_groups))
    return _keep_items(n, f, p, seeds, applied, gid, int(num_groups), mode, local)


def _keep_items(n: int, f: int, p: float, seeds: torch.Tensor, applied: torch.Tensor,
                gid: torch.Tensor, k: int, mode: str, local: torch.Tensor) -> torch.Tensor:
    """The torch ops of :func:`mask_keep_items` (``local``: each row's index in its group)."""
    dev = gid.device
    salts = item_salts(seeds)
    thresh = threshold24(p)
    row_salt = _take(salts, gid)
    if mode == "feature":
        cols = torch.arange(f, device=dev)
        keep_g = salted_bits24(salts.view(k, 1) + cols) >= thresh
        return _take(keep_g | ~applied.view(k, 1), gid)
    if mode == "node":
        return ((salted_bits24(local + row_salt) >= thresh)
                | ~_take(applied, gid)).view(n, 1).expand(n, f)
    keys = local.view(n, 1) * f + torch.arange(f, device=dev)
    return (salted_bits24(keys + row_salt.view(n, 1)) >= thresh) \
        | ~_take(applied, gid).view(n, 1)


def _mask_items_numba(x2: torch.Tensor, p: float, seeds: torch.Tensor, applied: torch.Tensor,
                      gid: torch.Tensor, k: int, mode: str, fill: str) -> torch.Tensor:
    """:func:`mask_feature_items` on the CPU in one kernel call (draws, mask and select; the
    statistics and the normal fill in the kernels the graph alone runs): the many small
    graphs of a Batch make the torch path's dozen tensor ops cost more than the work."""
    n, f = x2.shape
    xs = x2.numpy()
    g = gid.contiguous().numpy()
    if fill == "zero":
        fvals = np.zeros((k, f), xs.dtype)
    else:
        mean, std = _group_stats(x2, gid, k)
        fv = mean.to(x2.dtype) if x2.is_floating_point() else mean.round().to(x2.dtype)
        fvals = fv.numpy()
    out = np.empty((n, f), xs.dtype)
    keep = np.empty((n, f), np.bool_)
    salts = item_salts(seeds).numpy().view(np.uint64)
    if not _kernels.mask_items(xs, g, salts, applied.contiguous().numpy(), threshold24(p),
                               MASK_MODES.index(mode), fvals, out, keep):
        raise InputError(f"group holds ids outside 0..{k - 1}; allowed: one id in "
                         f"[0, num_groups={k}) per row")
    if fill == "normal" and x2.is_floating_point():
        local = segments(gid, k)[0]
        nsalts = item_salts(seeds + NORMAL_FILL_SEED_OFFSET).numpy().view(np.uint64)
        _kernels.normal_fill_items(out, keep, g, local.numpy(), mean.numpy(), std.numpy(),
                                   nsalts)
    return torch.from_numpy(out)


def _item_stats(x2: torch.Tensor, gid: torch.Tensor, k: int, start: torch.Tensor,
                counts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every group's column mean and standard deviation, computed as :func:`mask_feature`
    computes them for that group alone: rows added in order where it adds them in order
    (numba, and torch on the CPU), else its column reductions on each group's own rows."""
    in_order = x2.device.type == "cpu" and (
        not use_numba("auto", x2) or (x2.dtype in _STATS_DTYPES and not x2.requires_grad))
    if in_order:
        if use_numba("auto", x2):
            return _group_stats(x2, gid, k)
        return _group_stats_torch(x2, gid, k, in_order=True)
    # Reductions whose order depends on the rows they see: one per group, as alone.
    means, stds = [], []
    for a, c in zip(start.tolist(), counts.tolist(), strict=True):
        m, s = _group_stats_torch(x2[a:a + c], None, 1, in_order=False)
        means.append(m)
        stds.append(s)
    if not means:
        empty = torch.zeros(0, x2.size(1), dtype=torch.float64, device=x2.device)
        return empty, empty
    return torch.cat(means), torch.cat(stds)
