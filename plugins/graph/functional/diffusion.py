"""Graph diffusion (GDC, MVGRL's diffusion view): the dense personalized-PageRank or heat
kernel matrix of one graph, solved exactly, and its sparsification. Follows PyG's
``torch_geometric.transforms.GDC`` with ``exact=True``: self-loops of weight
``self_loop_weight`` added to every node, duplicate edges summed, the transition matrix
normalized (``sym``, ``col`` or ``row``), ``alpha (I + (alpha - 1) T)^-1`` for PPR or
``expm(t (T - I))`` for heat, then entries kept by threshold or top k per column, and the
result column-normalized. Dense ``[n, n]`` work: for small graphs only."""

from __future__ import annotations

import numpy as np
import torch

NORMALIZATIONS = ("sym", "col", "row")
METHODS = ("ppr", "heat")


def transition(edge_index: torch.Tensor, weight: torch.Tensor, n: int,
               normalization: str) -> torch.Tensor:
    """The edge weights of the normalized transition matrix (degrees by column for ``sym`` and
    ``col``, by row for ``row``; a zero degree leaves its edges at zero)."""
    row, col = edge_index
    by = row if normalization == "row" else col
    deg = torch.zeros(n, dtype=weight.dtype, device=weight.device).index_add_(0, by, weight)
    if normalization == "sym":
        inv = deg.pow(-0.5)
        inv[torch.isinf(inv)] = 0
        return inv[row] * inv[col] * weight  # the same product for (i, j) and (j, i)
    inv = 1.0 / deg
    inv[torch.isinf(inv)] = 0
    return weight * inv[by]


def diffusion_matrix(edge_index: torch.Tensor, weight: torch.Tensor | None, n: int, *,
                     method: str = "ppr", alpha: float = 0.15, t: float = 5.0,
                     self_loop_weight: float = 1.0, normalization: str = "sym",
                     dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The dense ``[n, n]`` diffusion matrix of one graph in ``dtype``, before sparsification.
    With ``normalization='row'``, every row of the PPR matrix sums to 1 (``col``: every
    column). The PPR system is well conditioned (``cond <= (2 - alpha) / alpha``), so float32,
    GDC's own dtype and the faster solve, is accurate to its rounding.

    >>> ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    >>> s = diffusion_matrix(ei, None, 3, method="ppr", alpha=0.2, normalization="row")
    >>> torch.allclose(s.sum(1), torch.ones(3, dtype=torch.float64))
    True
    """
    w = (torch.ones(edge_index.size(1), dtype=dtype, device=edge_index.device)
         if weight is None else weight.to(dtype))
    ei = edge_index
    if self_loop_weight:
        loops = torch.arange(n, device=ei.device)
        ei = torch.cat([ei, torch.stack([loops, loops])], 1)
        w = torch.cat([w, torch.full((n,), float(self_loop_weight), dtype=dtype,
                                     device=ei.device)])
    w = transition(ei, w, n, normalization)
    a = torch.zeros(n, n, dtype=dtype, device=ei.device)
    a.index_put_((ei[0], ei[1]), w, accumulate=True)  # duplicates summed, as coalesce does
    # In place from here on: every [n, n] buffer less is a large allocation less per graph.
    if method == "ppr":
        m = a.mul_(alpha - 1)
        m.diagonal().add_(1)
        if torch.equal(m, m.t()):
            # Symmetric (sym of an undirected graph): Cholesky does half the work of LU.
            factor, info = torch.linalg.cholesky_ex(m)
            if int(info) == 0:
                return torch.cholesky_inverse(factor).mul_(alpha)
        return torch.linalg.inv(m).mul_(alpha)
    a.diagonal().sub_(1)
    m = a.mul_(t)
    if torch.equal(m, m.t()):
        e, v = torch.linalg.eigh(m)
        return (v * e.exp()) @ v.t()
    return torch.linalg.matrix_exp(m)


def sparsify(matrix: torch.Tensor, *, top_k: int | None = None, eps: float | None = None,
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(edge_index, weight)`` of the entries kept: the ``top_k`` largest of every column
    (ties: the smaller row id first), or those ``>= eps``; sorted by (row, column) and then
    column-normalized, as GDC's ``normalization_out='col'``."""
    n = matrix.size(0)
    keep = top_per_column(matrix, min(n, int(top_k))) if top_k is not None else matrix >= eps
    rows, cols = keep.nonzero(as_tuple=True)  # row-major: sorted by (row, column)
    w = matrix[rows, cols]
    deg = torch.zeros(n, dtype=w.dtype, device=w.device).index_add_(0, cols, w)
    inv = 1.0 / deg
    inv[torch.isinf(inv)] = 0
    return torch.stack([rows, cols]), w * inv[cols]


def top_per_column(matrix: torch.Tensor, k: int) -> torch.Tensor:
    """The mask of the ``k`` largest entries of every column, ties to the smaller rows: all
    entries above the column's ``k``-th largest value, then its equals in row order."""
    if k <= 0:
        return torch.zeros_like(matrix, dtype=torch.bool)
    kth = torch.topk(matrix, k, dim=0).values[-1]
    keep = matrix >= kth
    over = (keep.sum(0) > k).nonzero().view(-1)  # columns with more equals at the cut than room
    if over.numel():
        part = matrix[:, over]
        above = part > kth[over]
        tied = part == kth[over]
        room = k - above.sum(0)
        keep[:, over] = above | (tied & (torch.cumsum(tied, 0) <= room))
    return keep


def ppr_push(edge_index: torch.Tensor, n: int, *, alpha: float = 0.15, eps: float = 1e-4,
             normalization: str = "sym") -> tuple[torch.Tensor, torch.Tensor]:
    """Approximate PPR without a dense matrix, as ``GDC(exact=False)`` computes it: self-loops
    added to every node, duplicate edges merged, then the push of PyG's ``get_ppr`` (Andersen,
    Chung and Lang's local push, residual below ``alpha * eps * degree``) from every node,
    which follows unweighted edges; ``col`` transposes the result, ``sym`` rescales it by
    ``D^1/2 . D^-1/2`` (the degrees with self-loops). Returns the entries and their weights,
    before sparsification. The push is augkit's numba kernel, which gives ``get_ppr``'s
    entries in its order and its values rounded to float32 as it returns them; sources are
    split over torch's threads. Needs numba; tensors on another device come back there."""
    from torch_geometric import EdgeIndex
    from torch_geometric.utils import coalesce, sort_edge_index

    from augkit._threads import parallel_ranges
    from augkit.plugins.graph.kernels.diffusion import ppr_push_rows

    dev = edge_index.device
    loops = torch.arange(n)
    ei = torch.cat([edge_index.cpu(), torch.stack([loops, loops])], 1)
    ones = torch.ones(ei.size(1), dtype=torch.float64)
    ei, w = coalesce(ei, ones, n)
    deg = torch.zeros(n, dtype=torch.float64).index_add_(0, ei[1], w)
    # get_ppr's CSR: its sort by row leaves each row's targets in the order the push follows.
    (rowptr, col), _ = EdgeIndex(ei, sparse_size=(n, n)).sort_by("row")[0].get_csr()
    rowptr_np, col_np = rowptr.numpy(), col.numpy()
    parts: dict[int, tuple] = {}

    def push(lo: int, hi: int) -> None:
        parts[lo] = ppr_push_rows(rowptr_np, col_np, float(alpha), float(eps), lo, hi)

    # A source's push visits about min(1 / (alpha * eps), edges) edges: that sets the split.
    parallel_ranges(push, n, max(1, min(int(1.0 / (alpha * eps)), col.numel())))
    counts, cols, vals = (np.concatenate([parts[lo][i] for lo in sorted(parts)])
                          for i in range(3))
    out = torch.stack([torch.arange(n).repeat_interleave(torch.from_numpy(counts)),
                       torch.from_numpy(cols)])
    weight = torch.from_numpy(vals).float().double()
    if normalization == "col":
        out, weight = sort_edge_index(out.flip([0]), weight, n)
    elif normalization == "sym":
        inv_sqrt = deg.pow(-0.5)
        inv_sqrt[torch.isinf(inv_sqrt)] = 0
        weight = deg.sqrt()[out[0]] * weight * inv_sqrt[out[1]]
    return out.to(dev), weight.to(dev)


def sparsify_entries(edge_index: torch.Tensor, weight: torch.Tensor, n: int, *,
                     top_k: int | None = None, eps: float | None = None,
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`sparsify` of a matrix given by its entries (the rest zero): the ``top_k``
    largest of every column (ties: the smaller row first), or those ``>= eps``; duplicates
    summed, sorted by (row, column), column-normalized."""
    from torch_geometric.utils import coalesce

    ei, w = coalesce(edge_index, weight, n)
    if top_k is not None:
        key = torch.sort(-w, stable=True).indices
        order = key[torch.sort(ei[1][key], stable=True).indices]  # by column, largest first
        col = ei[1][order]
        counts = torch.bincount(col, minlength=n)
        rank = torch.arange(col.numel(), device=col.device) - (torch.cumsum(counts, 0)
                                                                - counts)[col]
        keep = order[rank < int(top_k)]
    else:
        keep = (w >= eps).nonzero().view(-1)
    ei, w = coalesce(ei[:, keep], w[keep], n)
    deg = torch.zeros(n, dtype=w.dtype, device=w.device).index_add_(0, ei[1], w)
    inv = 1.0 / deg
    inv[torch.isinf(inv)] = 0
    return ei, w * inv[ei[1]]
