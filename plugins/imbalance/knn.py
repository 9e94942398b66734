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
    grouped = m >= _GROUPED_FROM
    if grouped:
        # Pad to whole groups with points at +inf distance (never chosen: m > k real ones).
        pad = -m % _GROUP
        if pad:
            pts = torch.cat([pts, pts.new_zeros(pad, pts.size(1))])
            sq = torch.cat([sq, sq.new_full((pad,), float("inf"))])
    width = pts.size(0)
    q = rows.numel()
    block = max(1, min(q, _BLOCK_ELEMS // width))
    buf = pts.new_empty(block, width)
    out = torch.empty(q, k, dtype=torch.long)
    ptT = pts.T
    lane = torch.arange(block)
    offsets = torch.arange(_GROUP) if grouped else None
    for start in range(0, q, block):
        idx = rows[start:start + block]
        b = buf[:idx.numel()]
        torch.addmm(sq.unsqueeze(0), pts[idx], ptT, beta=1.0, alpha=-2.0, out=b)
        b[lane[:idx.numel()], idx] = float("inf")  # leave the query point itself out
        if not grouped:
            out[start:start + idx.numel()] = b.topk(k, dim=1, largest=False).indices
            continue
        # The k smallest distances all lie in the k groups with the smallest minima (each
        # of those minima is a distance <= the k-th smallest group minimum): one cheap
        # min-reduction, then a top k over k * 64 candidates instead of the whole row.
        mins = b.view(b.size(0), -1, _GROUP).amin(dim=2)
        groups = mins.topk(k, dim=1, largest=False, sorted=False).indices
        cols = (groups.unsqueeze(2) * _GROUP + offsets).view(b.size(0), -1)
        best = b.gather(1, cols).topk(k, dim=1, largest=False).indices
        out[start:start + idx.numel()] = cols.gather(1, best)
    return out
