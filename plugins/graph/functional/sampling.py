"""Subgraph sampling: random nodes, random walks and k-hop balls, per graph of a Batch.

``batch``/``ptr`` as in ``functional.rewiring``. Every random choice is a counter draw of
``(seed, stream, key)`` (streams in ``kernels.streams``), so the CPU kernels
(``kernels.sampling``) and the torch ops (what CUDA runs) pick the same nodes.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from augkit._counter import derive_seed
from augkit.errors import InputError, ParamError
from augkit.plugins.graph._backend import HAVE_NUMBA, use_numba
from augkit.plugins.graph.functional._common import (
    _graph_info,
    _hash64_int,
    _priority,
    _randint,
    _rank_in_group,
    _take,
    _where,
    one_graph_ptr,
)
from augkit.plugins.graph.kernels.streams import (
    ROOT_SEED_OFFSET,
    STREAM_RANK,
    STREAM_ROOT,
    STREAM_WALK_STEP,
)

if HAVE_NUMBA:
    from augkit.plugins.graph.kernels import sampling as _kernels


SAMPLING_METHODS = ("random_walk", "khop", "random_node")


def _np(t: torch.Tensor) -> np.ndarray:
    """A CPU tensor as the contiguous int64 array the kernels take (no copy when it is one)."""
    return t.long().contiguous().numpy()


def csr(edge_index: torch.Tensor, num_nodes: int, *, backend: str = "auto",
        ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(rowptr, col)`` of the out-neighbours (edge_index[0] -> edge_index[1]), each node's
    targets in their stored order (a stable sort by source; none when the edges are already
    ordered by source). With numba a counting sort.

    >>> csr(torch.tensor([[1, 0, 1], [2, 1, 0]]), 3)
    (tensor([0, 1, 3, 3]), tensor([1, 2, 0]))
    """
    if use_numba(backend, edge_index):
        arr = _np(edge_index)
        rowptr = torch.zeros(num_nodes + 1, dtype=torch.long)
        col = torch.empty(arr.shape[1], dtype=torch.long)
        if not _kernels.csr(arr[0], arr[1], int(num_nodes), rowptr.numpy(), col.numpy()):
            raise InputError(f"csr: edge_index holds a node id outside 0..{num_nodes - 1}; "
                             f"allowed: ids in [0, num_nodes={num_nodes})")
        return rowptr, col
    src, dst = edge_index
    if src.numel() < 2 or bool((src[1:] >= src[:-1]).all()):
        order = torch.arange(src.numel(), device=src.device)
    else:
        order = torch.sort(src, stable=True).indices
    col = dst[order] if order.numel() and not bool(
        (order == torch.arange(order.numel(), device=order.device)).all()) else dst
    rowptr = torch.zeros(num_nodes + 1, dtype=torch.long, device=edge_index.device)
    rowptr[1:] = torch.cumsum(torch.bincount(src, minlength=num_nodes), 0)
    return rowptr, col


def target_sizes(ptr: torch.Tensor, ratio: float, *, backend: str = "auto") -> torch.Tensor:
    """Nodes to keep per graph: ``max(1, floor(ratio * n_g + 0.5))`` (at most ``n_g``), 0 for
    an empty graph.

    >>> target_sizes(torch.tensor([0, 10, 10, 13]), 0.25)
    tensor([3, 0, 1])
    """
    if use_numba(backend, ptr):
        out = np.empty(ptr.numel() - 1, np.int64)
        _kernels.target_sizes(_np(ptr), float(ratio), out)
        return torch.from_numpy(out)
    n_g = ptr[1:] - ptr[:-1]
    t = torch.floor(n_g.double() * ratio + 0.5).long().clamp(min=1)
    return torch.where(n_g > 0, torch.minimum(t, n_g), torch.zeros_like(n_g))


def _first_ranked(
    nodes: torch.Tensor, order_key: torch.Tensor, batch: torch.Tensor, cap: torch.Tensor,
    seed: int, num_nodes: int, backend: str = "auto",
) -> torch.Tensor:
    """Mask of the nodes kept: per graph, the ``cap[g]`` first of ``nodes`` by ``order_key``
    (smaller first), ties broken by a random priority."""
    mask = torch.zeros(num_nodes, dtype=torch.bool, device=batch.device)
    numba = use_numba(backend, nodes, order_key, batch, cap)
    if nodes.numel() == 0:
        return mask
    if numba:
        _kernels.first_ranked(_np(nodes), _np(order_key), _np(batch), _np(cap),
                              np.uint64(derive_seed(int(seed), STREAM_RANK)), mask.numpy())
        return mask
    g = batch[nodes]
    num_graphs = cap.numel()
    if bool((torch.bincount(g, minlength=num_graphs) <= cap).all()):
        # Every graph keeps all its candidates (khop with ratio 1): no ranking needed.
        mask[nodes] = True
        return mask
    sort_key = (g << 48) | (order_key << 32) | (_priority(seed, STREAM_RANK, nodes) >> 8)
    o = torch.sort(sort_key).indices
    nodes, g = nodes[o], g[o]
    keep = _rank_in_group(g, num_graphs) < cap[g]
    mask[nodes[keep]] = True
    return mask


def _one_root(ptr: torch.Tensor, count: torch.Tensor, seed: int, backend: str = "auto",
              ) -> torch.Tensor:
    """One uniform random node of every non-empty graph with ``count[g] == 1`` (``count`` is
    0 or 1): a draw per graph, not a hash and sort of every node."""
    if use_numba(backend, ptr, count):
        out = np.empty(ptr.numel() - 1, np.int64)
        k = _kernels.one_root(_np(ptr), _np(count),
                              np.uint64(derive_seed(int(seed), STREAM_ROOT)), out)
        return torch.from_numpy(out[:k])
    n_g = ptr[1:] - ptr[:-1]
    graphs = torch.arange(n_g.numel(), device=ptr.device)
    roots = ptr[:-1] + _randint(seed, STREAM_ROOT, graphs, n_g)
    return roots[(n_g > 0) & (count > 0)]


def _roots(batch: torch.Tensor, ptr: torch.Tensor, count: torch.Tensor, seed: int,
           backend: str = "auto") -> torch.Tensor:
    """``count[g]`` distinct random nodes of every graph g (fewer if it has fewer nodes),
    drawn under ``seed + ROOT_SEED_OFFSET``."""
    seed = seed + ROOT_SEED_OFFSET
    if bool((count <= 1).all()):
        return _one_root(ptr, count, seed, backend)
    n = batch.numel()
    nodes = torch.arange(n, device=batch.device)
    zero = torch.zeros(n, dtype=torch.long, device=batch.device)
    return _first_ranked(nodes, zero, batch, count, seed, n, backend).nonzero().view(-1)


def sample_random_nodes(
    num_nodes: int, ratio: float, seed: int, *,
    batch: torch.Tensor | None = None, ptr: torch.Tensor | None = None,
    device: torch.device | str = "cpu", backend: str = "auto",
) -> torch.Tensor:
    """Node mask keeping exactly ``max(1, floor(ratio * n_g + 0.5))`` random nodes of every graph.

    >>> int(sample_random_nodes(10, 0.3, seed=1).sum())
    3
    """
    batch, ptr = _graph_info(batch, ptr, num_nodes, torch.device(device))
    cap = target_sizes(ptr, ratio, backend=backend)
    return _mask_from(_roots(batch, ptr, cap, seed, backend), num_nodes, batch.device)


def _mask_from(idx: torch.Tensor, n: int, device: torch.device) -> torch.Tensor:
    m = torch.zeros(n, dtype=torch.bool, device=device)
    m[idx] = True
    return m


def random_walk_steps(
    rowptr: torch.Tensor, col: torch.Tensor, roots: torch.Tensor, walk_length: int, seed: int,
    backend: str = "auto",
) -> torch.Tensor:
    """Step at which every node is first visited by walks of ``walk_length`` steps started at
    ``roots`` (one walker per root, all walkers advanced together; a walker at a node without
    out-neighbours stops there); ``-1`` for nodes never visited. With numba the walk is one
    kernel call instead of a handful of torch ops per step; both give the same steps.

    >>> rowptr, col = csr(torch.tensor([[0, 1, 2], [1, 2, 3]]), 5)
    >>> random_walk_steps(rowptr, col, torch.tensor([0]), 2, seed=0)
    tensor([ 0,  1,  2, -1, -1])
    """
    n = rowptr.numel() - 1
    dev = rowptr.device
    never = walk_length + 1
    first = torch.full((n,), never, dtype=torch.long, device=dev)
    if use_numba(backend, rowptr, col, roots):
        salts = np.array([derive_seed(int(seed), STREAM_WALK_STEP + s)
                          for s in range(1, walk_length + 1)], dtype=np.uint64)
        _kernels.random_walk_first(_np(rowptr), _np(col), _np(roots), salts, first.numpy())
        return torch.where(first == never, torch.full_like(first, -1), first)
    first[roots] = 0
    cur = roots.clone()
    walker = torch.arange(roots.numel(), device=dev)
    for step in range(1, walk_length + 1):
        start = rowptr[cur]
        deg = rowptr[cur + 1] - start
        live = deg > 0
        if not bool(live.any()):
            break
        pick = _randint(seed, STREAM_WALK_STEP + step, walker, deg)
        cur = torch.where(live, col[(start + pick).clamp(max=max(col.numel() - 1, 0))], cur)
        first.scatter_reduce_(0, cur, torch.full_like(cur, step), reduce="amin")
    return torch.where(first == never, torch.full_like(first, -1), first)


def khop_distance_edges(
    edge_index: torch.Tensor, num_nodes: int, roots: torch.Tensor, num_hops: int,
    backend: str = "auto",
) -> torch.Tensor:
    """Hop distance from the nearest root along out-edges, ``-1`` beyond ``num_hops``. Each hop
    is one pass over the edges (as PyG's ``k_hop_subgraph`` does): cheaper than sorting the
    edges into CSR for the few hops khop uses. With numba the passes are one kernel call;
    both give the same distances.

    >>> khop_distance_edges(torch.tensor([[0, 1, 2], [1, 2, 3]]), 5, torch.tensor([0]), 2)
    tensor([ 0,  1,  2, -1, -1])
    """
    src, dst = edge_index
    dev = edge_index.device
    dist = torch.full((num_nodes,), -1, dtype=torch.long, device=dev)
    if use_numba(backend, edge_index, roots):
        arr = _np(edge_index)
        _kernels.khop_distances(arr[0], arr[1], _np(roots), int(num_hops), dist.numpy())
        return dist
    dist[roots] = 0
    frontier = torch.zeros(num_nodes, dtype=torch.bool, device=dev)
    frontier[roots] = True
    for hop in range(1, num_hops + 1):
        nb = dst[frontier[src]]
        nb = nb[dist[nb] < 0]
        if nb.numel() == 0:
            break
        dist[nb] = hop
        frontier = torch.zeros(num_nodes, dtype=torch.bool, device=dev)
        frontier[nb] = True
    return dist


def sample_subgraph_nodes(
    edge_index: torch.Tensor,
    num_nodes: int,
    method: str,
    ratio: float,
    seed: int,
    *,
    walk_length: int = 8,
    num_hops: int = 2,
    batch: torch.Tensor | None = None,
    ptr: torch.Tensor | None = None,
    backend: str = "auto",
) -> torch.Tensor:
    """Mask of the nodes of a sampled subgraph, per graph at most
    ``t_g = max(1, floor(ratio * n_g + 0.5))`` nodes and at least one (the first root).

    - ``random_node``: exactly ``t_g`` nodes, uniformly without replacement.
    - ``random_walk``: ``ceil(t_g / (walk_length + 1))`` distinct random roots per graph (so
      the walks can reach ``t_g`` nodes), one walk of ``walk_length`` steps from each; the
      visited nodes, earliest first visit first (ties in random order), up to ``t_g``.
    - ``khop``: one random root per graph; the nodes within ``num_hops`` hops, nearest first
      (ties in random order), up to ``t_g``.

    Walks and hops follow edges from ``edge_index[0]`` to ``edge_index[1]`` (both ways on an
    undirected graph).

    >>> ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    >>> int(sample_subgraph_nodes(ei, 4, "khop", 0.5, seed=0, num_hops=1).sum())
    2
    """
    use_numba(backend, edge_index)  # an unknown backend fails here, on any graph
    dev = edge_index.device
    n = int(num_nodes)
    if n == 0:
        return torch.zeros(0, dtype=torch.bool, device=dev)
    if method == "khop" and (ptr is None or ptr.numel() == 2):
        return _khop_one_graph(edge_index, n, ratio, seed, num_hops, backend)
    batch, ptr = _graph_info(batch, ptr, n, dev)
    cap = target_sizes(ptr, ratio, backend=backend)
    if method == "random_node":
        return _mask_from(_roots(batch, ptr, cap, seed, backend), n, dev)
    if method == "random_walk":
        rowptr, col = csr(edge_index, n, backend=backend)
        roots = _roots(batch, ptr, torch.div(cap + walk_length, walk_length + 1,
                                             rounding_mode="floor"), seed, backend)
        level = random_walk_steps(rowptr, col, roots, walk_length, seed, backend=backend)
    elif method == "khop":
        roots = _roots(batch, ptr, torch.ones_like(cap), seed, backend)
        level = khop_distance_edges(edge_index, n, roots, num_hops, backend=backend)
    else:
        raise ParamError(f"method: got {method!r}; allowed: {', '.join(SAMPLING_METHODS)}",
                         param="method", value=method)
    reached = (level >= 0).nonzero().view(-1)
    return _first_ranked(reached, level[reached], batch, cap, seed, n, backend)


def _khop_one_graph(
    edge_index: torch.Tensor, n: int, ratio: float, seed: int, num_hops: int, backend: str,
) -> torch.Tensor:
    """``sample_subgraph_nodes(..., "khop")`` of a single graph of ``n >= 1`` nodes, with
    the same draws: the root and the cap in Python integers instead of one-element tensor
    ops (those dominate a small graph's call), the ranking only when the ball is over the
    cap."""
    cap = min(n, max(1, math.floor(n * ratio + 0.5)))
    # _one_root's draw for graph 0: key 0 of the root stream under the roots' seed, modulo n.
    root = _hash64_int(seed + ROOT_SEED_OFFSET, STREAM_ROOT, 0) % n
    roots = torch.tensor([root], dtype=torch.long, device=edge_index.device)
    level = khop_distance_edges(edge_index, n, roots, num_hops, backend=backend)
    inside = level >= 0
    reached = _where(inside)
    if reached.numel() <= cap:
        return inside
    batch = torch.zeros(n, dtype=torch.long, device=edge_index.device)
    cap_t = torch.tensor([cap], dtype=torch.long, device=edge_index.device)
    return _first_ranked(reached, _take(level, reached), batch, cap_t, seed, n, backend)


def sample_subgraph_items(
    edge_index: torch.Tensor,
    ptr: torch.Tensor,
    edge_ptr: torch.Tensor,
    method: str,
    ratio: float,
    seeds: torch.Tensor,
    applied: torch.Tensor,
    *,
    walk_length: int = 8,
    num_hops: int = 2,
    backend: str = "auto",
) -> torch.Tensor:
    """Node mask of every graph of a Batch sampled on its own: graph ``g`` (nodes
    ``ptr[g]:ptr[g + 1]``, edges ``edge_ptr[g]:edge_ptr[g + 1]``, stored graph by graph)
    keeps what :func:`sample_subgraph_nodes` keeps of it alone with seed ``seeds[g]`` where
    ``applied[g]``, every node elsewhere. With numba one call for the whole Batch.

    >>> ei = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
    >>> keep = sample_subgraph_items(ei, torch.tensor([0, 2, 4]), torch.tensor([0, 2, 4]),
    ...                              "random_node", 0.5, torch.tensor([7, 7]),
    ...                              torch.tensor([True, False]))
    >>> keep.tolist()[2:], int(keep[:2].sum())
    ([True, True], 1)
    """
    if method not in SAMPLING_METHODS:
        raise ParamError(f"method: got {method!r}; allowed: {', '.join(SAMPLING_METHODS)}")
    n = int(ptr[-1]) if ptr.numel() else 0
    if use_numba(backend, edge_index, ptr, edge_ptr, seeds, applied):
        keep = torch.ones(n, dtype=torch.bool)
        arr = _np(edge_index)
        _kernels.subgraph_keep_items(
            arr[0], arr[1], _np(ptr), _np(edge_ptr), _np(seeds), applied.contiguous().numpy(),
            SAMPLING_METHODS.index(method), float(ratio), int(walk_length), int(num_hops),
            keep.numpy())
        return keep
    keep = torch.ones(n, dtype=torch.bool, device=edge_index.device)
    starts, ends, seed_list = ptr.tolist(), edge_ptr.tolist(), seeds.tolist()
    for g in applied.nonzero().view(-1).tolist():
        lo, hi = starts[g], starts[g + 1]
        local = edge_index[:, ends[g]:ends[g + 1]] - lo
        keep[lo:hi] = sample_subgraph_nodes(local, hi - lo, method, ratio, seed_list[g],
                                            walk_length=walk_length, num_hops=num_hops,
                                            backend=backend)
    return keep


def sample_typed_subgraph_nodes(
    edge_index: torch.Tensor,
    type_ptr: torch.Tensor,
    method: str,
    ratios: list[float],
    seed: int,
    *,
    walk_length: int = 8,
    num_hops: int = 2,
    backend: str = "auto",
) -> torch.Tensor:
    """Mask of the nodes of a subgraph of one graph whose nodes come in types (type ``t``:
    nodes ``type_ptr[t]:type_ptr[t + 1]``, ``ratios[t]`` its ratio): ``random_walk`` or
    ``khop`` search the whole graph, across the types, and every type keeps at most
    ``t_t = max(1, floor(ratios[t] * n_t + 0.5))`` of the nodes reached of it (none of an
    empty type), nearest (earliest visited) first, ties in random order. ``random_walk``
    starts ``ceil(sum(t_t) / (walk_length + 1))`` walks from distinct random nodes of the
    graph, ``khop`` searches around one random node. With one type it keeps what
    :func:`sample_subgraph_nodes` keeps of the graph.

    >>> ei = torch.tensor([[0, 1, 2, 3], [2, 3, 0, 1]])
    >>> keep = sample_typed_subgraph_nodes(ei, torch.tensor([0, 2, 4]), "khop", [0.5, 1.0],
    ...                                    seed=0, num_hops=1)
    >>> int(keep[:2].sum()), int(keep[2:].sum())
    (1, 1)
    """
    if method not in ("random_walk", "khop"):
        raise ParamError(f"method: got {method!r}; allowed: random_walk, khop",
                         param="method", value=method)
    use_numba(backend, edge_index)
    dev = edge_index.device
    type_ptr = type_ptr.to(dev)
    n = int(type_ptr[-1])
    if n == 0:
        return torch.zeros(0, dtype=torch.bool, device=dev)
    sizes = (type_ptr[1:] - type_ptr[:-1]).tolist()
    cap = torch.tensor([0 if s == 0 else min(s, max(1, math.floor(r * s + 0.5)))
                        for s, r in zip(sizes, ratios, strict=True)], dtype=torch.long,
                       device=dev)
    batch = torch.zeros(n, dtype=torch.long, device=dev)
    ptr = one_graph_ptr(n, dev)
    if method == "random_walk":
        rowptr, col = csr(edge_index, n, backend=backend)
        count = (cap.sum().view(1) + walk_length) // (walk_length + 1)
        roots = _roots(batch, ptr, count, seed, backend)
        level = random_walk_steps(rowptr, col, roots, walk_length, seed, backend=backend)
    else:
        roots = _roots(batch, ptr, torch.ones(1, dtype=torch.long, device=dev), seed, backend)
        level = khop_distance_edges(edge_index, n, roots, num_hops, backend=backend)
    types = torch.repeat_interleave(torch.arange(len(sizes), device=dev),
                                    type_ptr[1:] - type_ptr[:-1], output_size=n)
    reached = (level >= 0).nonzero().view(-1)
    return _first_ranked(reached, level[reached], types, cap, seed, n, backend)
