"""Graph diffusion (GDC, MVGRL's diffusion view): the dense personalized-PageRank or heat
kernel matrix of one graph, solved exactly, and its sparsification. Follows PyG's
``torch_geometric.transforms.GDC`` with ``exact=True``: self-loops of weight
``self_loop_weight`` added to every node, duplicate edges summed, the transition matrix
normalized (``sym``, ``col`` or ``row``), ``alpha (I + (alpha - 1) T)^-1`` for PPR or
``expm(t (T - I))`` for heat, then entries kept by threshold or top k per column, and the
result column-normalized. Dense ``[n, n]`` work: for small graphs only."""

from __future__ import annotations

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
        return inv[row] * weight * inv[col]
    inv = 1.0 / deg
    inv[torch.isinf(inv)] = 0
    return weight * inv[by]


def diffusion_matrix(edge_index: torch.Tensor, weight: torch.Tensor | None, n: int, *,
                     method: str = "ppr", alpha: float = 0.15, t: float = 5.0,
                     self_loop_weight: float = 1.0,
                     normalization: str = "sym") -> torch.Tensor:
    """The dense ``[n, n]`` diffusion matrix of one graph (float64), before sparsification.
    With ``normalization='row'``, every row of the PPR matrix sums to 1 (``col``: every
    column).

    >>> ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    >>> s = diffusion_matrix(ei, None, 3, method="ppr", alpha=0.2, normalization="row")
    >>> torch.allclose(s.sum(1), torch.ones(3, dtype=torch.float64))
    True
    """
    w = (torch.ones(edge_index.size(1), dtype=torch.float64, device=edge_index.device)
         if weight is None else weight.double())
    ei = edge_index
    if self_loop_weight:
        loops = torch.arange(n, device=ei.device)
        ei = torch.cat([ei, torch.stack([loops, loops])], 1)
        w = torch.cat([w, torch.full((n,), float(self_loop_weight), dtype=torch.float64,
                                     device=ei.device)])
    w = transition(ei, w, n, normalization)
    a = torch.zeros(n, n, dtype=torch.float64, device=ei.device)
    a.index_put_((ei[0], ei[1]), w, accumulate=True)  # duplicates summed, as coalesce does
    eye = torch.eye(n, dtype=torch.float64, device=ei.device)
    if method == "ppr":
        return alpha * torch.linalg.inv(eye + (alpha - 1) * a)
    m = t * (a - eye)
    if torch.equal(m, m.t()):
        e, v = torch.linalg.eigh(m)
        return v @ torch.diag(e.exp()) @ v.t()
    return torch.linalg.matrix_exp(m)


def sparsify(matrix: torch.Tensor, *, top_k: int | None = None, eps: float | None = None,
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(edge_index, weight)`` of the entries kept: the ``top_k`` largest of every column
    (ties: the smaller row id first), or those ``>= eps``; sorted by (row, column) and then
    column-normalized, as GDC's ``normalization_out='col'``."""
    n = matrix.size(0)
    if top_k is not None:
        k = min(n, int(top_k))
        # Stable descending sort per column: the smaller row first among equal weights.
        order = torch.sort(-matrix, dim=0, stable=True).indices[:k]
        rows = order.reshape(-1)
        cols = torch.arange(n, device=matrix.device).repeat(k)
    else:
        rows, cols = (matrix >= eps).nonzero(as_tuple=True)
    key = rows * n + cols
    key = torch.sort(key).values
    rows, cols = key // n, key % n
    w = matrix[rows, cols]
    deg = torch.zeros(n, dtype=w.dtype, device=w.device).index_add_(0, cols, w)
    inv = 1.0 / deg
    inv[torch.isinf(inv)] = 0
    return torch.stack([rows, cols]), w * inv[cols]
