"""Kernels of the imbalance family: no hidden state, randomness from an explicit seed.

- ``resolve_neighbours``: the one place where a neighbour count (``k_neighbors`` of SMOTE and
  graph_smote, ``n_neighbors`` of ADASYN) is checked against the classes it is used on, and
  where ``"auto"`` is lowered to what the smallest class allows.
- ``graph_smote``: synthetic minority nodes for node classification on a PyG ``Data``, from
  training nodes only, with ``O(E + M log M)`` edge work and an exact per-class k-NN for
  the drawn source nodes only (``knn.knn_within``, blocked brute force: no N x N matrix).
- ``incident_edges``: the edges owned by a list of query nodes, vectorised (CSR on the fly over
  only the edges that touch a query node).

sklearn is imported inside the functions that need it, so importing this module stays light.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import torch

from augkit import _counter
from augkit._balance import resolve_sampling_strategy
from augkit._memory import empty_output
from augkit.errors import InputError

#: The neighbour count ``"auto"`` starts from: imbalanced-learn's default.
DEFAULT_NEIGHBOURS = 5

_EDGE_RULES = ("copy_source", "mix")


def _label(c: Any) -> Any:
    return c.item() if isinstance(c, np.generic) else c


def resolve_neighbours(
    k: Any,
    counts: dict[Any, int],
    plan: dict[Any, int],
    *,
    param: str = "k_neighbors",
    owner: str = "smote",
) -> Any:
    """The neighbour count to use, given ``counts`` (class -> samples the k-NN runs on) and
    ``plan`` (class -> samples to generate).

    An integer k needs k + 1 samples (the point itself and k others) in every class that is
    over-sampled; a class with fewer raises ``InputError`` naming the class, its count and k.
    ``"auto"`` means ``DEFAULT_NEIGHBOURS`` lowered to what the smallest over-sampled class
    allows, with a warning when it is lowered. Anything else (a k-NN estimator object) is
    returned unchanged.
    """
    targeted = {c: counts[c] for c, n in plan.items() if n > 0}
    if isinstance(k, str):
        if k != "auto":
            raise InputError(f"{owner}: {param} got {k!r}; allowed: an integer >= 1 or 'auto'")
        if not targeted:
            return DEFAULT_NEIGHBOURS
        smallest = min(targeted, key=targeted.get)
        n_min = targeted[smallest]
        if n_min < 2:
            raise InputError(
                f"{owner}: class {_label(smallest)!r} has {n_min} sample; interpolation needs at "
                f"least 2 samples of each class it over-samples ({param}='auto'); allowed: add "
                "samples of that class or leave it out of sampling_strategy"
            )
        chosen = min(DEFAULT_NEIGHBOURS, n_min - 1)
        if chosen < DEFAULT_NEIGHBOURS:
            warnings.warn(
                f"{owner}: {param}='auto' uses {param}={chosen}: class {_label(smallest)!r} has "
                f"only {n_min} samples (the default is {DEFAULT_NEIGHBOURS})",
                UserWarning,
                stacklevel=3,
            )
        return chosen
    if isinstance(k, int | np.integer) and not isinstance(k, bool):
        k = int(k)
        if k < 1:
            raise InputError(f"{owner}: {param} got {k}; allowed: an integer >= 1 or 'auto'")
        small = {c: n for c, n in targeted.items() if n <= k}
        if small:
            c = min(small, key=small.get)
            n = small[c]
            fix = (f"{param} <= {n - 1}, {param}='auto', or " if n > 1
                   else "more samples of that class, or ")
            raise InputError(
                f"{owner}: class {_label(c)!r} has {n} sample{'s' if n != 1 else ''}, too few "
                f"for {param}={k} (a class needs {param} + 1 = {k + 1} samples to be "
                f"over-sampled); allowed: {fix}leave class {_label(c)!r} out of "
                "sampling_strategy"
            )
        return k
    return k  # a k-NN estimator object: imbalanced-learn uses it as given


# ---- graphs --------------------------------------------------------------------------------


def incident_edges(owner: np.ndarray, query: np.ndarray, num_nodes: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (q, e): edge ``e`` has ``owner[e] == query[q]``, for every q (a node may be
    queried several times), q ascending and each node's edges in storage order. Only the
    edges of queried nodes are sorted; in numba when it is installed (a counting sort)."""
    if len(query) == 0 or len(owner) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    try:
        from ._edges_kernel import incident_edges as kernel
    except ImportError:  # pragma: no cover - numba comes with the graph extra
        return _incident_edges_numpy(owner, query, num_nodes)
    return kernel(np.ascontiguousarray(owner, dtype=np.int64),
                  np.ascontiguousarray(query, dtype=np.int64), int(num_nodes))


def _incident_edges_numpy(owner: np.ndarray, query: np.ndarray, num_nodes: int
                          ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`incident_edges` in numpy (a stable argsort of the queried nodes' edges)."""
    if len(query) == 0 or len(owner) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    wanted = np.zeros(num_nodes, dtype=bool)
    wanted[query] = True
    sel = np.flatnonzero(wanted[owner])
    sel = sel[np.argsort(owner[sel], kind="stable")]
    counts = np.bincount(owner[sel], minlength=num_nodes)
    ptr = np.zeros(num_nodes + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    deg = counts[query]
    total = int(deg.sum())
    q = np.repeat(np.arange(len(query), dtype=np.int64), deg)
    first = np.cumsum(deg) - deg
    offset = np.arange(total, dtype=np.int64) - np.repeat(first, deg)
    return q, sel[np.repeat(ptr[query], deg) + offset]


_GOLDEN = np.uint64(_counter.GOLDEN)
#: The pre-mix's multiplier: the finaliser's first one (``augkit._counter``), as it always was.
_PRE_MUL = np.uint64(_counter.C1)


def _hash_uniform(seed: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A uniform in [0, 1) per pair (a, b), from the splitmix64 finaliser of (seed, a, b): a
    counter-based draw, so both directions of an edge get the same number without a sort.
    ``a`` is folded in by a golden-ratio step and a partial mix (not the finaliser: a shift
    of 31, then ``b`` added), and the sum goes through ``augkit._counter.mix64_u64``."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed & _counter.M64) + a.astype(np.uint64) * _GOLDEN
        z = (z ^ (z >> np.uint64(31))) * _PRE_MUL + b.astype(np.uint64)
        z = _counter.mix64_u64(z)
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _check_graph(data: Any, owner: str) -> tuple[int, torch.Tensor, torch.Tensor, torch.Tensor]:
    from torch_geometric.data import Batch, Data

    if isinstance(data, Batch):
        # The synthetic nodes would be appended after the last graph's, out of batch order.
        raise InputError(f"{owner}: got a Batch of {data.num_graphs} graphs; allowed: one "
                         "torch_geometric Data with x, y and train_mask (apply graph_smote to "
                         "the training graph before batching, or to each graph of "
                         "batch.to_data_list())")
    if not isinstance(data, Data):
        raise InputError(f"{owner}: got {type(data).__name__}; allowed: a torch_geometric Data "
                         "with x, y and train_mask (node classification on one graph)")
    n = int(data.num_nodes or 0)
    x, y, train = data.x, data.y, getattr(data, "train_mask", None)
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.size(0) != n \
            or not x.is_floating_point():
        raise InputError(f"{owner}: x got {_what(x)}; allowed: a float tensor "
                         f"[num_nodes={n}, num_features]")
    if not isinstance(y, torch.Tensor) or y.dim() != 1 or y.size(0) != n:
        raise InputError(f"{owner}: y got {_what(y)}; allowed: one class label per node, "
                         f"shape [{n}]")
    if not isinstance(train, torch.Tensor) or train.dtype != torch.bool or train.shape != (n,):
        raise InputError(f"{owner}: train_mask got {_what(train)}; allowed: a bool tensor of "
                         f"shape [{n}] (synthetic nodes are made from training nodes only)")
    _check_edge_index(data.edge_index, n, owner)
    return n, x, y, train


def _what(value: Any) -> str:
    """A tensor's shape and dtype, or another object's type: what an error says it got."""
    if isinstance(value, torch.Tensor):
        return f"shape {tuple(value.shape)} and dtype {value.dtype}"
    return type(value).__name__


def _check_edge_index(ei: Any, n: int, owner: str) -> None:
    """A LongTensor ``[2, E]`` of ids in ``0..n-1`` (or None): checked before any kernel
    runs, as the numba kernels index node arrays with these ids unchecked."""
    if ei is None:
        return
    if not isinstance(ei, torch.Tensor) or ei.dim() != 2 or ei.size(0) != 2 \
            or ei.dtype != torch.long:
        raise InputError(f"{owner}: edge_index got {_what(ei)}; allowed: a LongTensor "
                         "[2, num_edges]")
    if ei.numel() == 0:
        return
    lo, hi = (int(v) for v in torch.aminmax(ei))
    if lo < 0 or hi >= n:
        bad = lo if lo < 0 else hi
        raise InputError(f"{owner}: edge_index got node id {bad}; allowed: ids in [0, {n}) (the "
                         f"graph has {n} nodes)")


def _split_keys(data: Any, n: int, e: int) -> tuple[list[str], list[str]]:
    """Node-level and edge-level tensor attributes (first dimension = nodes / edges); when
    nodes == edges, a name containing 'edge' decides, as in PyG."""
    nodes, edges = [], []
    for key, value in data.items():
        if key in ("edge_index", "num_nodes") or not isinstance(value, torch.Tensor) \
                or value.dim() == 0:
            continue
        size = value.size(0)
        if size == e and (n != e or "edge" in key):
            edges.append(key)
        elif size == n:
            nodes.append(key)
    return nodes, edges


def graph_smote(
    data: Any,
    *,
    k_neighbors: Any = DEFAULT_NEIGHBOURS,
    sampling_strategy: Any = "auto",
    edges: str = "copy_source",
    seed: int = 0,
    owner: str = "graph_smote",
    return_info: bool = False,
) -> Any:
    """SMOTE for node classification: new minority nodes appended after the N original ones.

    Class counts come from the training nodes (``train_mask``); ``sampling_strategy`` takes
    every imbalanced-learn form. For each synthetic node a training node ``s`` of the class is
    drawn, and one of its ``k_neighbors`` nearest same-class *training* nodes ``t`` (per-class
    k-NN on ``x``, as SMOTE draws them); ``x_new = x_s + u (x_t - x_s)``, ``u ~ U[0, 1)``.
    Validation and test nodes are never read.

    Edges (``edges``): ``copy_source`` gives the new node every out-edge and in-edge of ``s``
    (``(s, v)`` -> ``(new, v)``, ``(v, s)`` -> ``(v, new)``), so an undirected graph stays
    undirected. ``mix`` takes each neighbour v of ``s`` with probability ``1 - u`` and each
    neighbour of ``t`` with probability ``u``, decided once per (new node, v) by a
    counter-based draw: a neighbour of both parents is taken exactly once, and both directions
    of an edge agree. Synthetic nodes are not linked to each other.

    New-node attributes: ``y`` the class, ``train_mask`` true, ``val_mask`` and ``test_mask``
    false, every other node-level tensor (``pos``, custom ones) copied from ``s``. Edge-level
    tensors (``edge_attr``, ``edge_weight``) are copied from the edge each new edge copies.
    The original N nodes and E edges come first, unchanged; ``data`` is not modified.

    With ``return_info=True`` the result is ``(data, info)``; ``info`` holds, per new node,
    ``source`` and ``neighbour`` (node ids of its two parents) and ``step`` (its u).
    """
    from .knn import knn_within

    if edges not in _EDGE_RULES:
        raise InputError(f"{owner}: edges got {edges!r}; allowed: {', '.join(_EDGE_RULES)}")
    n, x, y, train = _check_graph(data, owner)
    device = x.device
    train_idx_t = torch.nonzero(train.cpu(), as_tuple=False).view(-1)
    train_idx = train_idx_t.numpy()
    if train_idx.size == 0:
        raise InputError(f"{owner}: train_mask selects no node; allowed: at least two classes "
                         "of training nodes")
    x_train = x[train_idx_t.to(device)].detach().cpu()
    bad = ~torch.isfinite(x_train).all(dim=1)
    if bool(bad.any()):
        raise InputError(
            f"{owner}: x of {int(bad.sum())} training node(s) is NaN or infinite (first: node "
            f"{int(train_idx[int(bad.int().argmax())])}); allowed: finite features on training "
            "nodes"
        )
    y_train = y[train_idx_t.to(y.device)].cpu().numpy()
    plan = resolve_sampling_strategy(sampling_strategy, y_train, f"{owner}: sampling_strategy")
    classes, counts = np.unique(y_train, return_counts=True)
    k = resolve_neighbours(k_neighbors, dict(zip(classes, counts.tolist(), strict=True)), plan,
                           param="k_neighbors", owner=owner)

    rng = np.random.default_rng(seed)
    src_parts, nbr_parts, step_parts, cls_parts = [], [], [], []
    for c, n_new in plan.items():
        if n_new <= 0:
            continue
        in_class = np.flatnonzero(y_train == c)
        members = train_idx[in_class]
        # The same draws as picking uniformly among the (member, neighbour) pairs of a full
        # k-NN table; the k-NN then runs for the members actually drawn only.
        pick = rng.integers(0, len(members) * k, size=n_new)
        rows, cols = pick // k, pick % k
        drawn = np.zeros(len(members), dtype=bool)
        drawn[rows] = True
        used = np.flatnonzero(drawn)
        slot = np.cumsum(drawn) - 1  # member -> its row among `used`
        neighbours = knn_within(x_train[torch.from_numpy(in_class)], torch.from_numpy(used),
                                k).numpy()
        src_parts.append(members[rows])
        nbr_parts.append(members[neighbours[slot[rows], cols]])
        step_parts.append(rng.random(n_new))
        cls_parts.append(np.full(n_new, c))
    if not src_parts:
        empty = np.empty(0, dtype=np.int64)
        return _finish(copy.copy(data), empty, empty, np.empty(0), return_info)
    src = np.concatenate(src_parts)
    nbr = np.concatenate(nbr_parts)
    steps = np.concatenate(step_parts)
    m = len(src)

    # Features: computed in float64 and cast back, as imbalanced-learn does.
    src_t = torch.as_tensor(src, device=device)
    nbr_t = torch.as_tensor(nbr, device=device)
    u = torch.as_tensor(steps, device=device).unsqueeze(1)
    xs = x[src_t].double()
    x_new = (xs + u * (x[nbr_t].double() - xs)).to(x.dtype)
    y_new = torch.as_tensor(np.concatenate(cls_parts), device=y.device).to(y.dtype)

    ei = data.edge_index
    num_edges = 0 if ei is None else ei.size(1)
    node_keys, edge_keys = _split_keys(data, n, num_edges)
    out = copy.copy(data)

    if ei is not None:
        grown = _grown_by_source(ei, src, n) if edges == "copy_source" else None
        if grown is not None:
            out.edge_index, copied_t = grown
        else:
            row, col = ei.cpu().numpy()
            new_row, new_col, copied = _new_edges(row, col, src, nbr, steps, n, edges, seed)
            added = torch.as_tensor(np.stack([new_row, new_col]), device=ei.device)
            out.edge_index = _cat([ei, added], dim=1)
            copied_t = torch.as_tensor(copied, device=ei.device)
        for key in edge_keys:
            value = data[key]
            out[key] = _cat([value, value[copied_t.to(value.device)]], dim=0)

    for key in node_keys:
        value = data[key]
        if key == "x":
            extra = x_new
        elif key == "y":
            extra = y_new
        elif key == "train_mask":
            extra = torch.ones(m, dtype=value.dtype, device=value.device)
        elif key in ("val_mask", "test_mask"):
            extra = torch.zeros(m, dtype=value.dtype, device=value.device)
        else:
            extra = value[src_t.to(value.device)]
        out[key] = _cat([value, extra], dim=0)
    if "num_nodes" in data.keys():
        out.num_nodes = n + m
    return _finish(out, src, nbr, steps, return_info)


def _cat(parts: list[torch.Tensor], dim: int) -> torch.Tensor:
    """``torch.cat``; a large CPU result goes into augkit._memory's recycled buffers (else
    the grown edge_index of a large graph is all fresh pages, each faulted in on first write)."""
    first = parts[0]
    if (first.device.type != "cpu" or any(p.requires_grad for p in parts)
            or any(p.dtype != first.dtype for p in parts)):
        return torch.cat(parts, dim=dim)
    shape = list(first.shape)
    shape[dim] = sum(p.shape[dim] for p in parts)
    return torch.cat(parts, dim=dim, out=empty_output(tuple(shape), first.dtype))


def _finish(out: Any, src: np.ndarray, nbr: np.ndarray, steps: np.ndarray, info: bool) -> Any:
    if not info:
        return out
    return out, {"source": torch.from_numpy(src), "neighbour": torch.from_numpy(nbr),
                 "step": torch.from_numpy(steps)}


def _grown_by_source(ei: torch.Tensor, src: np.ndarray, n: int
                     ) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``copy_source`` on the CPU with numba: ``(edge_index, copied)``, the original edges
    followed by what :func:`_new_edges` gives, written straight into the (recycled) output
    after two passes over the edges; None where that path does not apply."""
    if ei.device.type != "cpu" or ei.requires_grad:
        return None
    try:
        from ._edges_kernel import source_edge_counts, write_source_edges
    except ImportError:  # pragma: no cover - numba comes with the graph extra
        return None
    arr = ei.numpy()
    row, col = np.ascontiguousarray(arr[0]), np.ascontiguousarray(arr[1])
    query = np.ascontiguousarray(src, dtype=np.int64)
    csr, t_o, t_i = source_edge_counts(row, col, query, int(n))
    e = row.size
    out = empty_output((2, e + int(t_o + t_i)), torch.long)
    out[:, :e].copy_(ei)
    ids = np.empty(int(t_o + t_i), dtype=np.int64)
    write_source_edges(query, int(n), csr, out.numpy(), ids, e)
    return out, torch.from_numpy(ids)


def _new_edges(row: np.ndarray, col: np.ndarray, src: np.ndarray, nbr: np.ndarray,
               steps: np.ndarray, n: int, rule: str, seed: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(new rows, new cols, id of the original edge each copies) for new nodes n, n+1, ..."""
    rows, cols, ids = [], [], []
    parents = [(src, None)] if rule == "copy_source" else [(src, True), (nbr, False)]
    for parent, from_source in parents:
        q_out, e_out = incident_edges(row, parent, n)  # (parent, v) -> (new, v)
        q_in, e_in = incident_edges(col, parent, n)  # (v, parent) -> (v, new)
        if from_source is not None:
            keep_out = _mix_keep(seed, q_out, col[e_out], steps, from_source)
            keep_in = _mix_keep(seed, q_in, row[e_in], steps, from_source)
            q_out, e_out = q_out[keep_out], e_out[keep_out]
            q_in, e_in = q_in[keep_in], e_in[keep_in]
        rows += [n + q_out, row[e_in]]
        cols += [col[e_out], n + q_in]
        ids += [e_out, e_in]
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(ids)


def _mix_keep(seed: int, q: np.ndarray, other: np.ndarray, steps: np.ndarray,
              from_source: bool) -> np.ndarray:
    """With one draw h per (new node, other end): the source's edge is kept when h < 1 - u,
    the neighbour's when h >= 1 - u, so a shared neighbour is kept exactly once."""
    h = _hash_uniform(seed, q, other)
    threshold = 1.0 - steps[q]
    return h < threshold if from_source else h >= threshold
