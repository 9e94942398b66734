"""Edge adding: ``round(p * E)`` new edges per graph, between nodes of that graph only.

Graph ``g`` (``n`` nodes) draws candidate ``c = 0, 1, 2, ...`` as the node pair
``(draw(2c) % n, draw(2c + 1) % n)`` under its own seed and keeps the first ones, in counter
order, that are allowed: no self-loop unless asked, and, unless duplicates are asked, no edge
the graph has and none drawn before. So the result is a pure function of the graph and its
seed, whatever Batch it is in. An undirected graph draws unordered pairs, each equally likely
(with self-loops, the second node is drawn among ``n + 1`` values, the last meaning the first
node), and stores each new pair in both directions (a self-loop once).
:func:`add_bipartite_edges` does the same for a relation between two node types of a
``HeteroData``: candidate ``c`` is ``(draw(2c) % num_src, draw(2c + 1) % num_dst)``.
"""

from __future__ import annotations

import numpy as np
import torch

from augkit.plugins.graph._backend import HAVE_NUMBA, use_numba
from augkit.plugins.graph.functional._common import _first_of_equal, _member, _take, segments
from augkit.plugins.graph.functional._items import draw63, graph_salts
from augkit.plugins.graph.kernels.streams import STREAM_ADD_EDGE

if HAVE_NUMBA:
    from augkit.plugins.graph.kernels import adding as _kernels

MAX_ROUND_DRAWS = 1 << 22  # candidates one graph draws per round at most (memory bound)


def add_edge_items(
    edge_index: torch.Tensor,
    ptr: torch.Tensor,
    p: float,
    seeds: torch.Tensor,
    applied: torch.Tensor,
    undirected: torch.Tensor,
    *,
    self_loops: bool = False,
    duplicates: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The new edges of every graph of a Batch: ``(new_edge_index, new_graph, pairs)``, the
    new stored edges in global node ids grouped by graph, the graph of each, and the new edges
    (or undirected pairs) per graph.

    ``edge_index``: the Batch's edges, grouped by graph; ``ptr``: node offsets; ``seeds``,
    ``applied``, ``undirected``: per graph. A graph adds ``round(p * E)`` edges (``E`` its
    stored edges), or on an undirected graph ``round(p * E / 2)`` pairs, capped at the pairs
    it has room for (every allowed pair without duplicates). Rounding is half to even.

    >>> ei = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
    >>> new, graph, pairs = add_edge_items(ei, torch.tensor([0, 2, 5]), 1.0,
    ...     torch.tensor([1, 2]), torch.tensor([True, True]), torch.tensor([True, True]))
    >>> pairs.tolist(), graph.tolist()  # graph 0 (2 nodes) has no room left
    ([0, 1], [1, 1])
    """
    if use_numba("auto", edge_index, ptr):
        src, dst, graph, count = _kernels.add_edges(
            edge_index[0].numpy(), edge_index[1].numpy(), ptr.long().numpy(), float(p),
            seeds.cpu().numpy(),
            applied.cpu().numpy(), undirected.cpu().numpy(), bool(self_loops),
            bool(duplicates))
        return (torch.from_numpy(np.stack([src, dst])), torch.from_numpy(graph),
                torch.from_numpy(count))
    dev = edge_index.device
    k = ptr.numel() - 1
    n = (ptr[1:] - ptr[:-1]).to(dev)
    node_graph = torch.repeat_interleave(torch.arange(k, device=dev), n)
    edge_graph = _take(node_graph, edge_index[0])
    und = undirected.to(dev)
    e = torch.bincount(edge_graph, minlength=k)
    pairs = torch.where(und, e.double() / 2, e.double()) * float(p)
    want = torch.where(applied.to(dev), torch.round(pairs).long(), 0)
    big_n = max(int(ptr[-1]), 1)
    loop_ok = bool(self_loops)
    # The pairs a graph may add: all allowed pairs less the distinct ones it has.
    allowed = torch.where(und, n * (n - 1) // 2 + (n if loop_ok else 0),
                          n * (n - 1) + (n if loop_ok else 0))
    if duplicates:
        existing = torch.empty(0, dtype=torch.long, device=dev)
        free = torch.where(allowed > 0, want, 0)
    else:
        existing = _keys(edge_index[0], edge_index[1], _take(und, edge_graph), big_n)
        if not loop_ok:
            existing = existing[edge_index[0] != edge_index[1]]
        existing = torch.unique(existing)
        have = torch.bincount(_take(node_graph, existing // big_n), minlength=k)
        free = allowed - have
    count = torch.minimum(want, free.clamp(min=0))
    salts = graph_salts(seeds.cpu(), STREAM_ADD_EDGE).to(dev)
    start = (ptr[:-1]).to(dev)
    # Draws per candidate: n * n ordered pairs, or n * (n + 1) for undirected with loops.
    span = torch.where(und & loop_ok, n + 1, n)
    draws = (n * span).double()
    good = torch.where(und, 2 * free.double(), free.double()).clamp(min=1)  # allowed draws
    need = count.clone()
    offset = torch.zeros(k, dtype=torch.long, device=dev)
    taken_u, taken_v, taken_key = [], [], []
    accepted = torch.empty(0, dtype=torch.long, device=dev)
    while bool((need > 0).any()):
        size = torch.where(need > 0, (1.5 * need.double() * draws / good).ceil().long() + 8, 0)
        size = size.clamp(max=MAX_ROUND_DRAWS)
        graph = torch.repeat_interleave(torch.arange(k, device=dev), size)
        local, _, _ = segments(graph, k)
        c = _take(offset, graph) + local
        salt = _take(salts, graph)
        u = draw63(salt, 2 * c) % _take(n, graph)
        v = draw63(salt, 2 * c + 1) % _take(span, graph)
        gu = _take(n, graph)
        v = torch.where(v == gu, u, v)  # the extra value of an undirected draw: a self-loop
        base = _take(start, graph)
        u, v = u + base, v + base
        gund = _take(und, graph)
        key = _keys(u, v, gund, big_n)
        ok = torch.ones_like(u, dtype=torch.bool) if loop_ok else u != v
        if not duplicates:
            ok &= ~_member(existing, key) & ~_member(accepted, key)
            ok &= _first_of_equal(torch.where(ok, key, -1 - torch.arange(key.numel(),
                                                                         device=dev)))
        rank = torch.cumsum(ok.long(), 0) - ok.long()
        first_ok = torch.zeros(k, dtype=torch.long, device=dev)
        seg_start = torch.cumsum(size, 0) - size
        first_ok = torch.where(size > 0, _take(torch.cat([rank, rank.new_zeros(1)]),
                                               seg_start.clamp(max=rank.numel())), first_ok)
        pick = ok & ((rank - _take(first_ok, graph)) < _take(need, graph))
        idx = pick.nonzero().view(-1)
        taken_u.append(_take(u, idx))
        taken_v.append(_take(v, idx))
        got = torch.bincount(_take(graph, idx), minlength=k)
        if not duplicates:
            taken_key.append(_take(key, idx))
            accepted = torch.sort(torch.cat([accepted, _take(key, idx)])).values
        need -= got
        offset += size
    if taken_u:
        nu, nv = torch.cat(taken_u), torch.cat(taken_v)
    else:
        nu = nv = torch.empty(0, dtype=torch.long, device=dev)
    ng = _take(node_graph, nu)
    order = torch.sort(ng, stable=True).indices  # rounds appended: group by graph
    nu, nv, ng = _take(nu, order), _take(nv, order), _take(ng, order)
    # Undirected pairs in both directions (a self-loop once), each pair's two next to each other.
    both = _take(und, ng) & (nu != nv)
    reps = 1 + both.long()
    src = torch.repeat_interleave(nu, reps)
    dst = torch.repeat_interleave(nv, reps)
    second = torch.zeros_like(src, dtype=torch.bool)
    second[(torch.cumsum(reps, 0) - 1)[both]] = True
    src, dst = torch.where(second, dst, src), torch.where(second, src, dst)
    return torch.stack([src, dst]), torch.repeat_interleave(ng, reps), count


def _keys(u: torch.Tensor, v: torch.Tensor, und: torch.Tensor, n: int) -> torch.Tensor:
    """A key per edge in global node ids: ``u * n + v``, the smaller node first where
    ``und``."""
    lo = torch.where(und, torch.minimum(u, v), u)
    hi = torch.where(und, torch.maximum(u, v), v)
    return lo * n + hi


def add_bipartite_edges(
    edge_index: torch.Tensor,
    num_src: int,
    num_dst: int,
    p: float,
    seed: int,
    *,
    duplicates: bool = False,
) -> torch.Tensor:
    """The new edges ``[2, count]`` of a relation from ``num_src`` source nodes to ``num_dst``
    destination nodes (two node types of a HeteroData): ``round(p * E)`` pairs, ``E`` the
    relation's stored edges, candidate ``c`` drawn as ``(draw(2c) % num_src,
    draw(2c + 1) % num_dst)`` under ``seed`` and kept in counter order when allowed (unless
    ``duplicates``: not an edge of the relation and not drawn before), capped at the free
    pairs.

    >>> add_bipartite_edges(torch.tensor([[0, 1], [0, 1]]), 2, 2, 1.0, 7).shape
    torch.Size([2, 2])
    """
    dev = edge_index.device
    total = num_src * num_dst
    want = round(edge_index.size(1) * float(p)) if total else 0
    existing = torch.empty(0, dtype=torch.long, device=dev)
    if not duplicates:
        existing = torch.unique(edge_index[0] * num_dst + edge_index[1])
        want = min(want, total - existing.numel())
    salt = graph_salts(torch.tensor([int(seed)]), STREAM_ADD_EDGE).to(dev)
    accepted = torch.empty(0, dtype=torch.long, device=dev)
    taken = []
    need, offset = want, 0
    while need > 0:
        free = total - existing.numel() - accepted.numel() if not duplicates else total
        size = min(int(1.5 * need * total / max(free, 1)) + 8, MAX_ROUND_DRAWS)
        c = torch.arange(offset, offset + size, device=dev)
        salts = salt.expand(size)
        key = (draw63(salts, 2 * c) % num_src) * num_dst + draw63(salts, 2 * c + 1) % num_dst
        ok = torch.ones_like(key, dtype=torch.bool)
        if not duplicates:
            ok = ~_member(existing, key) & ~_member(accepted, key)
            ok &= _first_of_equal(torch.where(ok, key, -1 - torch.arange(size, device=dev)))
        picked = _take(key, ok.nonzero().view(-1)[:need])
        taken.append(picked)
        if not duplicates:
            accepted = torch.sort(torch.cat([accepted, picked])).values
        need -= picked.numel()
        offset += size
    keys = torch.cat(taken) if taken else torch.empty(0, dtype=torch.long, device=dev)
    return torch.stack([keys // max(num_dst, 1), keys % max(num_dst, 1)])
