"""Pair keys and the two undirectedness tests of the graph plugin.

The key of an unordered pair ``{u, v}`` is ``min(u, v) * num_nodes + max(u, v)``
(:func:`pair_keys`): both stored directions of an edge share it. Two questions are asked of
an edge list, and they differ on multiplicities:

- :func:`is_symmetric`: is it a symmetric multiset (every ``(u, v)`` stored as many times as
  ``(v, u)``)? What ``edge_dropout(undirected="auto")`` calls undirected.
- :func:`is_undirected_fast`: does every stored edge have its reverse (multiplicity
  ignored)? What rewiring calls undirected.
"""

from __future__ import annotations

import torch

from augkit._counter import GOLDEN, M64, hash_bits24, salt_of
from augkit.plugins.graph._backend import HAVE_NUMBA, use_numba
from augkit.plugins.graph.functional._common import _argsorted, _rows, _take, _u64, _where
from augkit.plugins.graph.kernels.streams import SYMMETRY_SEED

if HAVE_NUMBA:
    from augkit.plugins.graph.kernels import dropout as _kernels

_GOLDEN_I64 = GOLDEN - (M64 + 1)  # the golden increment as the int64 torch multiplies by


def pair_keys(src: torch.Tensor, dst: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """The key ``min * num_nodes + max`` of every pair ``(src[i], dst[i])``.

    >>> pair_keys(torch.tensor([0, 2]), torch.tensor([2, 0]), 3).tolist()
    [2, 2]
    """
    return torch.minimum(src, dst) * num_nodes + torch.maximum(src, dst)


def is_symmetric(edge_index: torch.Tensor, backend: str = "auto") -> bool:
    """True when the edges form a symmetric multiset: every ``(u, v)`` is stored as many times
    as ``(v, u)`` (self-loops any number of times). One pass, no sort; a directed graph is
    reported symmetric only with probability about 2**-64. This is what
    ``edge_dropout(undirected="auto")`` calls undirected; a graph whose two directions have
    different multiplicities counts as directed there (pass ``undirected=True``).

    Example:
        >>> is_symmetric(torch.tensor([[0, 1, 2], [1, 0, 2]]))
        True
        >>> is_symmetric(torch.tensor([[0, 1], [1, 2]]))
        False
    """
    numba = use_numba(backend, edge_index)
    if edge_index.numel() == 0:
        return True
    if numba:
        return bool(_kernels.symmetric_sums_equal(*_rows(edge_index), _u64(salt_of(SYMMETRY_SEED))))
    u, v = edge_index
    # Sums of int64 wrap like the numba uint64 ones, so the answer is the same.
    a = (hash_bits24(SYMMETRY_SEED, (u * _GOLDEN_I64) ^ v) * (v + 1)).sum()
    b = (hash_bits24(SYMMETRY_SEED, (v * _GOLDEN_I64) ^ u) * (u + 1)).sum()
    return bool(a == b)


def is_undirected_fast(edge_index: torch.Tensor, num_nodes: int) -> bool:
    """True when every edge has its reverse (multiplicity ignored), via two sorts.

    >>> is_undirected_fast(torch.tensor([[0, 1, 2], [1, 0, 2]]), 3)
    True
    >>> is_undirected_fast(torch.tensor([[0, 1, 1], [1, 0, 0]]), 2)
    True
    """
    fk, _, rk, _ = _direction_keys(edge_index, num_nodes)
    return _symmetric(fk, rk)


def _direction_keys(edge_index: torch.Tensor, n: int) -> tuple[torch.Tensor, ...]:
    """The sorted pair keys of the edges stored as (small, large) and of those stored as
    (large, small), each with the positions of its edges; self-loops left out."""
    src, dst = edge_index
    keys = pair_keys(src, dst, n)
    fwd = _where(src < dst)
    rev = _where(src > dst)
    fk, rk = _take(keys, fwd), _take(keys, rev)
    fo, ro = _argsorted(fk), _argsorted(rk)
    return _take(fk, fo), _take(fwd, fo), _take(rk, ro), _take(rev, ro)


def _symmetric(fk: torch.Tensor, rk: torch.Tensor) -> bool:
    """Whether the sorted keys of both directions (:func:`_direction_keys`) hold the same
    pairs."""
    if fk.numel() == rk.numel() and torch.equal(fk, rk):
        return True
    return torch.equal(_unique_sorted(fk), _unique_sorted(rk))


def _unique_sorted(sk: torch.Tensor) -> torch.Tensor:
    """The distinct values of the sorted ``sk``."""
    if sk.numel() < 2:
        return sk
    keep = torch.ones_like(sk, dtype=torch.bool)
    keep[1:] = sk[1:] != sk[:-1]
    return sk[keep]


def _single_mask(sk: torch.Tensor) -> torch.Tensor:
    """True where a sorted key occurs exactly once."""
    single = torch.ones_like(sk, dtype=torch.bool)
    if sk.numel() > 1:
        same = sk[1:] == sk[:-1]
        single[1:] &= ~same
        single[:-1] &= ~same
    return single
