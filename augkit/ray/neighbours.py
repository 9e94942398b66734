"""Exact k nearest neighbours ranked by (distance, row order), whatever the partitioning.

A point's distance to a query is the float64 sum of squared differences, computed the same
way for every pair, so it does not depend on which other points share its block. Points are
ranked by that distance, then by their row id (the earlier row first on a tie). So the k
nearest over all blocks are the k best of the blocks' own k best (:func:`merge`), and a
table cut into 1 or 100 blocks gives the same neighbours.

Within a block the ranking is screened with one matrix product (``|p|^2 - 2 q.p``) and only
the best candidates get the exact distance; a row whose screen cannot vouch for its
candidates (a margin under the product's rounding bound) is ranked over all points exactly.

``RowOrderNeighbors`` is the same ranking as a scikit-learn neighbours estimator: passed as
``k_neighbors`` / ``n_neighbors`` to an in-memory sampler, it gives the in-memory twin of the
distributed result. scikit-learn's own estimator orders points at equal distance by its heap,
not by row order; where no two of a query's k + 1 nearest are at the same distance the two
orders agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

_SPARE = 4  # candidates kept beyond k by the screen, for its exact recheck
_QUERY_CHUNK = 1024
_U64 = 2.0 ** -53


def exact_distances(queries: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``[len(queries), len(points)]`` float64 sums of squared differences, the same value for
    a pair whatever else the arrays hold (``points`` may also be ``[q, m, d]``: per query)."""
    q = queries.astype(np.float64, copy=False)
    p = points.astype(np.float64, copy=False)
    diff = q[:, None, :] - (p[None, :, :] if p.ndim == 2 else p)
    return (diff * diff).sum(axis=2)


def _ranked(dist: np.ndarray, ids: np.ndarray, k: int) -> np.ndarray:
    """Per row, the positions of the k smallest ``(dist, ids)`` pairs, in that order."""
    order = np.lexsort((ids, dist), axis=1)
    return order[:, :k]


def nearest(queries: np.ndarray, points: np.ndarray, ids: np.ndarray,
            k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``min(k, len(points))`` points nearest to each query, as ``(distances, ids)``
    arrays ``[len(queries), m]``, ranked by (exact distance, id). ``ids`` are the points'
    global row ids (int64)."""
    n_q, n = len(queries), len(points)
    m = min(k, n)
    out_d = np.empty((n_q, m), np.float64)
    out_i = np.empty((n_q, m), np.int64)
    if m == 0 or n_q == 0:
        return out_d, out_i
    pts = points.astype(np.float64, copy=False)
    ids = np.asarray(ids, np.int64)
    sq = np.einsum("nd,nd->n", pts, pts)
    take = min(n, m + _SPARE)
    d = pts.shape[1]
    for start in range(0, n_q, _QUERY_CHUNK):
        qs = queries[start:start + _QUERY_CHUNK].astype(np.float64, copy=False)
        if take == n:  # every point is a candidate
            dist = exact_distances(qs, pts)
            pos = _ranked(dist, np.broadcast_to(ids, dist.shape), m)
            out_d[start:start + len(qs)] = np.take_along_axis(dist, pos, 1)
            out_i[start:start + len(qs)] = ids[pos]
            continue
        screen = sq[None, :] - 2.0 * (qs @ pts.T)
        cand = np.argpartition(screen, take - 1, axis=1)[:, :take]
        dist = exact_distances(qs, pts[cand])
        pos = _ranked(dist, ids[cand], m)
        best_d = np.take_along_axis(dist, pos, 1)
        # Every point left out has a screened value >= the largest candidate's; its exact
        # distance is then above the m-th chosen one unless the two are within the rounding
        # bound of the screen and of the exact sums.
        worst = np.take_along_axis(screen, cand, 1).max(axis=1)
        qsq = np.einsum("qd,qd->q", qs, qs)
        err = (2 * d + 16) * _U64 * (qsq + float(sq.max())) * 4.0
        sure = worst + qsq - best_d[:, -1] > 2.0 * err
        out_d[start:start + len(qs)] = best_d
        out_i[start:start + len(qs)] = ids[np.take_along_axis(cand, pos, 1)]
        for r in np.flatnonzero(~sure):  # ranked over every point, exactly
            full = exact_distances(qs[r:r + 1], pts)
            p = _ranked(full, ids[None, :], m)
            out_d[start + r] = full[0, p[0]]
            out_i[start + r] = ids[p[0]]
    return out_d, out_i


def merge(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray],
          k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best per row of two ``(distances, ids)`` candidate lists, by (distance, id)."""
    dist = np.concatenate([a[0], b[0]], axis=1)
    ids = np.concatenate([a[1], b[1]], axis=1)
    pos = _ranked(dist, ids, min(k, dist.shape[1]))
    return np.take_along_axis(dist, pos, 1), np.take_along_axis(ids, pos, 1)


class RowOrderNeighbors(BaseEstimator):
    """A k-NN estimator (``fit`` / ``kneighbors``) ranking by (exact distance, row order):
    what ``augkit.ray.fit_resample`` computes over blocks, in memory. ``n_neighbors`` counts
    the query point itself, as imbalanced-learn's samplers expect (k + 1)."""

    def __init__(self, n_neighbors: int = 6) -> None:
        self.n_neighbors = n_neighbors

    def fit(self, X: Any, y: Any = None) -> RowOrderNeighbors:
        self.fit_X_ = np.asarray(X)
        return self

    def kneighbors(self, X: Any = None, n_neighbors: int | None = None,
                   return_distance: bool = True) -> Any:
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        queries = self.fit_X_ if X is None else np.asarray(X)
        dist, ids = nearest(queries, self.fit_X_, np.arange(len(self.fit_X_)), k)
        return (np.sqrt(dist), ids) if return_distance else ids

    def kneighbors_graph(self, X: Any = None, n_neighbors: int | None = None,
                         mode: str = "connectivity") -> Any:
        from scipy.sparse import csr_matrix

        ids = self.kneighbors(X, n_neighbors, return_distance=False)
        rows = np.repeat(np.arange(ids.shape[0]), ids.shape[1])
        return csr_matrix((np.ones(ids.size), (rows, ids.ravel())),
                          shape=(ids.shape[0], len(self.fit_X_)))
