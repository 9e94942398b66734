"""Exact k nearest neighbours within one point set, for the rows that are asked for only.

Brute force on BLAS (``addmm``), because the features graph_smote sees are usually
16-plus dimensions of roughly isotropic noise, where a KD-tree or ball tree prunes almost
nothing and is slower than brute force (as scipy's cKDTree is on 16-d Gaussian points).
The cost is O(queries x points x d): exact k-NN in that regime has no n log n method.
Distances are computed in float64 (as scikit-learn does for float32 input), so the ranking is
the exact one up to ties. Large point sets are screened in float32 by group minima first
(``_knn_grouped``); when most points are queried, each distance of that screen is computed
once for both of its ends (``_screen_symmetric``), holding points x points / 64 float32 minima
up to ``_SYMMETRIC_MAX_BYTES``.
"""

from __future__ import annotations

from typing import Any

import torch

# Elements of the distance buffer per block of query rows (float64: 8 MiB): large enough for
# BLAS, small enough to stay reused rather than freshly allocated for every block.
_BLOCK_ELEMS = 1 << 20
# Above this many points per row, take the top k over group minima first (see below).
_GROUPED_FROM = 2048
_GROUP = 64
# The grouped path works on tiles of query rows x point columns (float64: 4 MiB). A strip of
# 34 rows across 3e4 points (the block above) makes a GEMM with 16-long inner products whose
# output dominates; 512 x 1024 tiles cover the same distances faster, reusing each row of
# points over many queries (bench imbalance/graph_smote/sweep).
_TILE_ROWS = 512
_TILE_COLS = 1024


def knn_within(points: torch.Tensor, rows: torch.Tensor, k: int) -> torch.Tensor:
    """For each index ``i`` in ``rows``: the positions of the ``k`` points of ``points``
    nearest to ``points[i]``, nearest first, ``i`` itself left out (a duplicate of it at
    distance 0 is not: as scikit-learn's ``kneighbors()`` without X). ``points`` is a float
    tensor ``[m, d]`` with ``m > k``; ``rows`` a long tensor of distinct indices. Returns a
    long tensor ``[len(rows), k]``.
    """
    pts = points.to(torch.float64)
    m = pts.size(0)
    # |p|^2 - 2 q.p ranks the points p as |q - p|^2 does (|q|^2 is the same along a row).
    sq = (pts * pts).sum(1)
    if m >= _GROUPED_FROM:
        return _knn_grouped(pts, sq, rows, k)
    q = rows.numel()
    block = max(1, min(q, _BLOCK_ELEMS // m))
    buf = pts.new_empty(block, m)
    out = torch.empty(q, k, dtype=torch.long)
    lane = torch.arange(block)
    for start in range(0, q, block):
        idx = rows[start:start + block]
        b = buf[:idx.numel()]
        torch.addmm(sq.unsqueeze(0), pts[idx], pts.T, beta=1.0, alpha=-2.0, out=b)
        b[lane[:idx.numel()], idx] = float("inf")  # leave the query point itself out
        out[start:start + idx.numel()] = b.topk(k, dim=1, largest=False).indices
    return out


# The grouped path screens in float32 (GEMM and group minima at twice the float64 rate) and
# keeps this many groups beyond the k + 1 best, so that rounding cannot hide one that the
# exact float64 recheck needs (see _knn_grouped); rows where the margin is too thin for that
# are redone wholly in float64.
_EXTRA_GROUPS = 1
_TILE_COLS32 = 2048  # float32 tiles of 512 x 2048: the same 4 MiB, half the Python loop
_U32 = 2.0 ** -24  # float32 unit roundoff
# When most points are queried, the screen computes each distance once for both its ends
# (:func:`_screen_symmetric`): half the GEMM, but the minima of every point's groups are held
# at once (points x groups float32), so only up to this many bytes of them (~65k points).
_SYMMETRIC_MAX_BYTES = 256 << 20
_SYM_TILE_ROWS = 1024  # 1024 x 2048 float32 tiles: fastest of 256..2048 x 1024..4096 on 3e4


def _knn_grouped(pts: torch.Tensor, sq: torch.Tensor, rows: torch.Tensor,
                 k: int) -> torch.Tensor:
    """The k smallest distances all lie in the k groups (of 64 consecutive points) with the
    smallest minima: each of those minima is a distance <= the k-th smallest group minimum.
    So per tile of distances keep only the group minima, then compute the distances to the
    points of the best groups again and take the top k among those candidates. The query
    itself stays in the tiles (finding it in each cost more than the GEMM) and is left out
    only among the candidates: with it, k + 1 groups hold the k nearest other points (the
    k + 1 smallest minima belong to k + 1 distinct points, at most one of them the query).

    The tiles are computed in float32, each value within ``E`` of the exact one, ``E`` a
    bound from the row's and the largest squared norms (below). Every group whose exact
    minimum is at most the exact (k+1)-th smallest then has a float32 minimum at most
    ``T + 2E``, ``T`` the float32 (k+1)-th smallest, so the candidates (the
    ``k + 1 + _EXTRA_GROUPS`` best float32 groups) hold all the groups the argument above
    needs whenever the first group left out is above ``T + 2E``; the few rows where it is
    not are redone with float64 tiles. The candidates' distances are then exact float64."""
    m, d = pts.shape
    pad = -m % _GROUP
    if pad:  # whole groups, padded with points at +inf distance (m > k real ones exist)
        pts = torch.cat([pts, pts.new_zeros(pad, d)])
        sq = torch.cat([sq, sq.new_full((pad,), float("inf"))])
    width = pts.size(0)
    groups_n = width // _GROUP
    q = rows.numel()
    out = torch.empty(q, k, dtype=torch.long)
    pts32 = pts.float()
    sq32 = sq.float()
    # |fl32(sq_p - 2 q.p) - (sq_p - 2 q.p)| <= E: rounding of sq_p, of the d + 1 products
    # and their sums in any order (BLAS chooses), and of q, p themselves when the input was
    # float64; all bounded by multiples of u * (|q|^2 + max |p|^2), with slack.
    max_sq = float(sq[:m].max())
    take = min(k + 1 + _EXTRA_GROUPS, groups_n)
    redo = []
    kernel = _exact_kernel()
    all_groups = torch.empty(q, take, dtype=torch.long) if kernel is not None else None
    every = None
    if 2 * q >= width and width * groups_n * 4 <= _SYMMETRIC_MAX_BYTES:
        every = _screen_symmetric(pts32, sq32)
    else:
        # One plain GEMM per tile: [q, 1] . [-2 p; sq_p] (d + 1 long) is sq_p - 2 q.p, and
        # without addmm's broadcast of sq over the tile first (a whole extra pass over the
        # tile). -2 p is exact in float32.
        ptT32 = torch.cat([pts32.T * -2.0, sq32.unsqueeze(0)]).contiguous()
        ones = pts32.new_ones(_TILE_ROWS, 1)
        tile = pts32.new_empty(_TILE_ROWS, _TILE_COLS32)
    for start in range(0, q, _TILE_ROWS):
        idx = rows[start:start + _TILE_ROWS]
        r = idx.numel()
        if every is not None:
            mins = every.index_select(0, idx)
        else:
            qp = torch.cat([pts32.index_select(0, idx), ones[:r]], dim=1)
            mins = pts32.new_empty(r, groups_n)
            for c0 in range(0, width, _TILE_COLS32):
                c1 = min(width, c0 + _TILE_COLS32)
                t = tile[:r, :c1 - c0]
                torch.mm(qp, ptT32[:, c0:c1], out=t)
                torch.amin(t.view(r, -1, _GROUP), dim=2,
                           out=mins[:, c0 // _GROUP:c1 // _GROUP])
        vals, groups = mins.topk(take, dim=1, largest=False, sorted=True)
        err = (2 * d + 16) * _U32 * (sq.index_select(0, idx) + 3.0 * max_sq)
        if take < groups_n:
            ok = vals[:, -1].double() > vals[:, k].double() + 2.0 * err
        else:
            ok = torch.ones(r, dtype=torch.bool)
        if all_groups is not None:
            all_groups[start:start + r] = groups
        else:
            best, sure = _best_in_groups32(pts, pts32, sq, sq32, idx, groups, k, err)
            out[start:start + r] = best
            if not bool(sure.all()):  # the float32 candidate ranking too close to call
                unsure = (~sure).nonzero().view(-1)
                out[start + unsure] = _best_in_groups(pts, sq, idx.index_select(0, unsure),
                                                      groups.index_select(0, unsure), k)
        if not bool(ok.all()):
            redo.append(start + (~ok).nonzero().view(-1))
    if all_groups is not None:
        _exact_in_groups(kernel, pts, sq, rows, all_groups, k, out)
    if redo:
        # Redone together: a float64 pass over all points for a few rows at a time wastes
        # most of the GEMM's width.
        at = torch.cat(redo)
        out[at] = _knn_grouped64(pts, sq, rows.index_select(0, at), k)
    return out


def _screen_symmetric(pts32: torch.Tensor, sq32: torch.Tensor) -> torch.Tensor:
    """``mins[i, g]``: the smallest float32 ``|p_i|^2 + |p|^2 - 2 p_i.p`` over the points p of
    group g, for every (padded) point i. Each tile of rows I x columns J (J from I on) is one
    GEMM of ``[p, 1, |p|^2]`` by ``[-2 p; |p|^2; 1]``: its group minima along the rows are
    those of the rows I, and along the columns (in blocks of 64 rows) those of the points J
    beyond I over the groups of I, the same distance from its other end. So every distance
    is computed once, not twice. The full form (|p_i|^2 included, which ranks a row's groups
    as before) is what makes the tile symmetric; its float32 error stays within the bound
    ``_knn_grouped`` uses (a sum of d + 2 terms whose magnitudes add up to at most
    ``2 (|p_i|^2 + |p|^2)``). Padding (zeros, ``|p|^2 = +inf``) gives +inf, never NaN."""
    width = pts32.size(0)
    one = pts32.new_ones(width, 1)
    a_all = torch.cat([pts32, one, sq32.unsqueeze(1)], dim=1)
    b_all = torch.cat([pts32.T * -2.0, sq32.unsqueeze(0), one.T]).contiguous()
    mins = pts32.new_empty(width, width // _GROUP)
    tile = pts32.new_empty(_SYM_TILE_ROWS, _TILE_COLS32)
    col_mins = pts32.new_empty(_SYM_TILE_ROWS // _GROUP, _TILE_COLS32)
    for r0 in range(0, width, _SYM_TILE_ROWS):  # width and the tile: multiples of _GROUP
        r1 = min(width, r0 + _SYM_TILE_ROWS)
        r, g0, g1 = r1 - r0, r0 // _GROUP, r1 // _GROUP
        for c0 in range(r0, width, _TILE_COLS32):
            c1 = min(width, c0 + _TILE_COLS32)
            t = tile[:r, :c1 - c0]
            torch.mm(a_all[r0:r1], b_all[:, c0:c1], out=t)
            torch.amin(t.view(r, -1, _GROUP), dim=2, out=mins[r0:r1, c0 // _GROUP:c1 // _GROUP])
            lo = max(c0, r1)  # the columns past this row tile: rows of later tiles
            if lo < c1:
                cm = col_mins[:g1 - g0, :c1 - lo]
                torch.amin(t[:, lo - c0:].view(g1 - g0, _GROUP, c1 - lo), dim=1, out=cm)
                mins[lo:c1, g0:g1] = cm.T
    return mins


def _exact_kernel() -> Any:
    """The numba kernel of the candidates' exact ranking, or None without numba."""
    try:
        from ._knn_kernel import best_in_groups
    except ImportError:  # pragma: no cover - numba comes with the graph extra
        return None
    return best_in_groups


def _exact_in_groups(kernel: Any, pts: torch.Tensor, sq: torch.Tensor, rows: torch.Tensor,
                     groups: torch.Tensor, k: int, out: torch.Tensor) -> None:
    """``out[i]`` = the k nearest points (exact float64, the query left out) among the
    points of ``groups[i]``: :func:`_best_in_groups` in one pass per query, reading the
    points where they lie instead of gathering each query's candidates (and pre-ranking
    them in float32) into new tensors first, over torch's threads."""
    from augkit._threads import parallel_ranges

    p, s_, ix, g, o = (t.numpy() for t in (pts.contiguous(), sq, rows.contiguous(),
                                              groups, out))
    work = groups.size(1) * _GROUP * pts.size(1)
    parallel_ranges(lambda lo, hi: kernel(p, s_, ix, g, _GROUP, k, lo, hi, o),
                    ix.shape[0], work)


_SPARE = 3  # candidates kept beyond k by the float32 ranking, for its exact recheck


def _best_in_groups32(pts: torch.Tensor, pts32: torch.Tensor, sq: torch.Tensor,
                      sq32: torch.Tensor, idx: torch.Tensor, groups: torch.Tensor, k: int,
                      err: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`_best_in_groups` ranking the candidates in float32 first (whole groups
    gathered as blocks: half the bytes of float64 points) and recomputing exactly only the
    ``k + _SPARE`` best; returns ``(best, sure)``, ``sure`` false on the rows where the
    float32 ranking cannot vouch that the exact k nearest are among those (its
    ``(k + _SPARE)``-th distance within ``2 * err`` of its k-th)."""
    r, d = idx.numel(), pts.size(1)
    take = groups.size(1)
    blocks = pts32.view(-1, _GROUP, d).index_select(0, groups.reshape(-1))
    qp32 = pts32.index_select(0, idx)
    cols = (groups.unsqueeze(2) * _GROUP + torch.arange(_GROUP)).view(r, -1)
    sqc = sq32.view(-1, _GROUP).index_select(0, groups.reshape(-1)).view(r, -1)
    dist = sqc - 2.0 * torch.bmm(blocks.view(r, take * _GROUP, d),
                                 qp32.unsqueeze(2)).squeeze(2)
    dist.masked_fill_(cols == idx.unsqueeze(1), float("inf"))
    keep = min(k + _SPARE, dist.size(1))
    vals, pos = dist.topk(keep, dim=1, largest=False, sorted=True)
    sure = (vals[:, -1].double() > vals[:, k - 1].double() + 2.0 * err) | (keep == dist.size(1))
    cand = cols.gather(1, pos)
    flat = cand.reshape(-1)
    exact = sq.index_select(0, flat).view(r, keep) - 2.0 * torch.bmm(
        pts.index_select(0, flat).view(r, keep, d), pts.index_select(0, idx).unsqueeze(2)
    ).squeeze(2)
    exact.masked_fill_(cand == idx.unsqueeze(1), float("inf"))
    best = exact.topk(k, dim=1, largest=False).indices
    return cand.gather(1, best), sure


def _best_in_groups(pts: torch.Tensor, sq: torch.Tensor, idx: torch.Tensor,
                    groups: torch.Tensor, k: int) -> torch.Tensor:
    """Per query ``idx[i]``: the k nearest points (exact float64 distances, the query left
    out) among the points of the groups ``groups[i]``."""
    r, d = idx.numel(), pts.size(1)
    offsets = torch.arange(_GROUP)
    cols = (groups.unsqueeze(2) * _GROUP + offsets).view(r, -1)
    # index_select, not pts[cols]: advanced indexing with a 2-D index was most of the time
    # of this step.
    flat = cols.reshape(-1)
    qp = pts.index_select(0, idx)
    cand = pts.index_select(0, flat).view(r, -1, d)
    dist = sq.index_select(0, flat).view(r, -1) - 2.0 * torch.bmm(
        cand, qp.unsqueeze(2)).squeeze(2)
    dist.masked_fill_(cols == idx.unsqueeze(1), float("inf"))
    best = dist.topk(k, dim=1, largest=False).indices
    return cols.gather(1, best)


def _knn_grouped64(pts: torch.Tensor, sq: torch.Tensor, rows: torch.Tensor,
                   k: int) -> torch.Tensor:
    """:func:`_knn_grouped` with float64 tiles and exactly the k + 1 best groups (``pts``
    and ``sq`` already padded to whole groups): the rows the float32 screen cannot vouch
    for."""
    width = pts.size(0)
    q = rows.numel()
    out = torch.empty(q, k, dtype=torch.long)
    ptT = pts.T.contiguous()
    tile = pts.new_empty(_TILE_ROWS, _TILE_COLS)
    for start in range(0, q, _TILE_ROWS):
        idx = rows[start:start + _TILE_ROWS]
        r = idx.numel()
        qp = pts.index_select(0, idx)
        mins = pts.new_empty(r, width // _GROUP)
        for c0 in range(0, width, _TILE_COLS):
            c1 = min(width, c0 + _TILE_COLS)
            t = tile[:r, :c1 - c0]
            torch.addmm(sq[c0:c1].unsqueeze(0), qp, ptT[:, c0:c1], beta=1.0, alpha=-2.0, out=t)
            torch.amin(t.view(r, -1, _GROUP), dim=2, out=mins[:, c0 // _GROUP:c1 // _GROUP])
        groups = mins.topk(min(k + 1, mins.size(1)), dim=1, largest=False, sorted=False).indices
        out[start:start + r] = _best_in_groups(pts, sq, idx, groups, k)
    return out
