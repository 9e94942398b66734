"""Exact k nearest neighbours within one point set, for the rows that are asked for only.

Brute force on BLAS (``addmm``), because the features graph_smote sees are usually
16-plus dimensions of roughly isotropic noise, where a KD-tree or ball tree prunes almost
nothing and is slower than brute force (scipy's cKDTree, measured on 16-d Gaussian points:
3x slower than this at 1e3 to 1e4 points). The cost is O(queries x points x d): exact k-NN
in that regime has no n log n method. Distances are computed in float64 (as scikit-learn
does for float32 input), so the ranking is the exact one up to ties.
"""

from __future__ import annotations

import torch

# Elements of the distance buffer per block of query rows (float64: 8 MiB): large enough for
# BLAS, small enough to stay reused rather than freshly allocated for every block.
_BLOCK_ELEMS = 1 << 20
# Above this many points per row, take the top k over group minima first (see below).
_GROUPED_FROM = 2048
_GROUP = 64
# The grouped path works on tiles of query rows x point columns (float64: 4 MiB). A strip of
# 34 rows across 3e4 points (the block above) made a GEMM with 16-long inner products that ran
# at ~2 GB/s of output; 512 x 1024 tiles cover the same distances ~1.6x faster (measured on
# 3e4 16-d points, one or two threads).
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


def _knn_grouped(pts: torch.Tensor, sq: torch.Tensor, rows: torch.Tensor,
                 k: int) -> torch.Tensor:
    """The k smallest distances all lie in the k groups (of 64 consecutive points) with the
    smallest minima: each of those minima is a distance <= the k-th smallest group minimum.
    So per tile of distances keep only the group minima, then compute the distances to the
    points of the best groups again and take the top k among those candidates. The query
    itself stays in the tiles (finding it in each cost more than the GEMM) and is left out
    only among the candidates: with it, k + 1 groups hold the k nearest other points (the
    k + 1 smallest minima belong to k + 1 distinct points, at most one of them the query)."""
    m, d = pts.shape
    pad = -m % _GROUP
    if pad:  # whole groups, padded with points at +inf distance (m > k real ones exist)
        pts = torch.cat([pts, pts.new_zeros(pad, d)])
        sq = torch.cat([sq, sq.new_full((pad,), float("inf"))])
    width = pts.size(0)
    q = rows.numel()
    out = torch.empty(q, k, dtype=torch.long)
    ptT = pts.T.contiguous()
    tile = pts.new_empty(_TILE_ROWS, _TILE_COLS)
    offsets = torch.arange(_GROUP)
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
        cols = (groups.unsqueeze(2) * _GROUP + offsets).view(r, -1)
        # index_select, not pts[cols]: advanced indexing with a 2-D index was most of the
        # time of this loop.
        flat = cols.reshape(-1)
        cand = pts.index_select(0, flat).view(r, -1, d)
        dist = sq.index_select(0, flat).view(r, -1) - 2.0 * torch.bmm(
            cand, qp.unsqueeze(2)).squeeze(2)
        dist.masked_fill_(cols == idx.unsqueeze(1), float("inf"))
        best = dist.topk(k, dim=1, largest=False).indices
        out[start:start + r] = cols.gather(1, best)
    return out
