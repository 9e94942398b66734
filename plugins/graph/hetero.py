"""PyG ``HeteroData`` (and Batches of it) for the graph transforms: per-type parameters,
per-type seeds, the input check, and ``edge_dropout``, ``node_dropout``, ``feature_masking``,
``edge_rewiring`` and ``subgraph_sampling`` run type by type with the
homogeneous functional kernels (the self-supervised views: ``hetero_views``).

Per-type parameters (:class:`PerType`): a number applies to every type; a mapping
``{type: value}`` sets the types it names, ``"*"`` every type it does not name, and the
others keep the parameter's default. Node types are named by their string, edge types by a
``(src, rel, dst)`` tuple or by PyG's ``EdgeTypeStr`` spelling ``"src__rel__dst"``, which is
the form stored (so a policy dumps to YAML and loads back equal).

Seeds: a call draws one seed, as on a ``Data``; each type draws with
``augkit.random.type_seed`` (keyed by a hash of its name), so adding or
removing a type does not change what the other types draw, and a HeteroData with one node
type and one edge type gets exactly what the homogeneous transform gives the equal ``Data``
under the type's seed. A Batch of HeteroData is augmented graph by graph (``to_data_list``,
graph ``g`` with ``derive_seed(seed, HETERO_BATCH_KEY, g)``, ``Batch.from_data_list``); in a
policy's batch stage every graph gets the parameters the sample stage would give it alone.

Reverse relations: ``(a, rel, b)`` and ``(b, rev_rel, a)`` (the names ``T.ToUndirected``
gives) form a pair, and a relation from a node type to itself pairs with itself when it has
no reverse relation. With ``undirected`` true (or ``auto`` and the pair's edges are each
other's reverse, or a same-type relation's edges are symmetric) edge ``(u, v)`` of one and
``(v, u)`` of the other share one draw, keyed by the unordered pair as on a ``Data``.

Sampled mini-batches (``NeighborLoader``, ``LinkNeighborLoader``, ``HGTLoader`` output):
``node_dropout`` and ``subgraph_sampling`` keep every node type's seed nodes, first, and
``edge_dropout``, ``node_dropout`` and ``subgraph_sampling`` keep ``n_id``/``e_id`` and the
per-hop counts right, type by type (``_hetero_sampled``).

Nothing here changes its input: outputs are ``copy.copy`` of the HeteroData (PyG copies
every store) with new tensors in the copied stores.
"""

from __future__ import annotations

import copy
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from augkit.errors import InputError
from augkit.params import Number, Spec
from augkit.random import HETERO_TYPE_KEY, derive_seed, type_seed

#: The key after the call's seed that names the whole graph's stream (typed subgraph walks).
HETERO_KEY = HETERO_TYPE_KEY
#: The key after the call's seed that names a graph's stream in a Batch of HeteroData.
HETERO_BATCH_KEY = 0x4E7B
#: What a mapping names every type it does not name with.
OTHERS = "*"
SEP = "__"  # PyG's EdgeTypeStr separator
#: The transforms that take HeteroData (the self-supervised views through ``hetero_views``);
#: the others refuse it with an InputError.
SUPPORTED = ("edge_dropout", "node_dropout", "feature_masking", "edge_rewiring",
             "subgraph_sampling", "node_shuffling", "feature_dropout", "edge_adding",
             "graph_diffusion")

EdgeType = tuple[str, str, str]


# ---- per-type parameters ----------------------------------------------------------------


def edge_type_str(edge_type: EdgeType) -> str:
    """``"src__rel__dst"``, PyG's ``EdgeTypeStr`` spelling of an edge type."""
    return SEP.join(edge_type)


def _edge_key(key: Any) -> str:
    if isinstance(key, str):
        parts = key.split(SEP)
    elif isinstance(key, tuple | list):
        parts = list(key)
    else:
        raise ValueError(key)
    if len(parts) != 3 or not all(isinstance(p, str) and p and SEP not in p for p in parts):
        raise ValueError(key)
    return SEP.join(parts)


def _node_key(key: Any) -> str:
    if not isinstance(key, str) or not key or SEP in key:
        raise ValueError(key)
    return key


@dataclass(frozen=True)
class PerType(Spec):
    """A value for every node or edge type: ``item``, or a mapping ``{type: item}`` (see the
    module docstring); ``kind`` is ``"node"``, ``"edge"`` or ``"node or edge"``. Mapping keys
    are stored as strings, edge types as ``"src__rel__dst"``."""

    item: Spec = field(default_factory=Number)
    kind: str = "edge"

    def check(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return self.item.check(value)
        if not value:
            raise self.fail(value)
        out: dict[str, Any] = {}
        for key, v in value.items():
            try:
                name = key if key == OTHERS else self._key(key)
                if name in out:  # one type named twice: ("a", "to", "b") and "a__to__b"
                    raise ValueError(key)
                out[name] = self.item.check(v)
            except ValueError:
                raise self.fail(value) from None
        return out

    def _key(self, key: Any) -> str:
        if self.kind == "node":
            return _node_key(key)
        if self.kind == "edge":
            return _edge_key(key)
        try:
            return _node_key(key)
        except ValueError:
            return _edge_key(key)

    def allowed(self) -> str:
        what = {"node": 'a node type', "edge": 'an edge type ("src__rel__dst")'}.get(
            self.kind, 'a node type or an edge type ("src__rel__dst")')
        return (f"{self.item.allowed()}, or (HeteroData) a mapping of {what} or \"*\" (every "
                f"other type) to {self.item.allowed()}")

    def json_schema(self) -> dict:
        item = self.item.json_schema()
        return {"anyOf": [item, {"type": "object", "additionalProperties": item,
                                 "minProperties": 1}]}


def per_type_params(transform: Any) -> list[str]:
    """The parameters of ``transform`` given as a per-type mapping (HeteroData only)."""
    return [key for key, value in transform.get_params().items() if isinstance(value, dict)
            and isinstance(type(transform).declared_params()[key].spec, PerType)]


def resolve(transform: Any, key: str, names: list[str]) -> tuple[dict[str, Any], set[str]]:
    """``(value per type name, the names the mapping names explicitly)`` of parameter
    ``key`` over the types ``names``; an InputError when the mapping names a type the graph
    does not have."""
    value = transform.get_params()[key]
    if not isinstance(value, dict):
        return dict.fromkeys(names, value), set()
    unknown = [k for k in value if k != OTHERS and k not in names]
    if unknown:
        raise InputError(
            f"{transform.label()}: {key} names type {unknown[0]!r}, which the graph does not "
            f"have; allowed: its types {', '.join(names) or 'none'}, or \"*\"")
    default = value.get(OTHERS, type(transform).declared_params()[key].default)
    return {n: value.get(n, default) for n in names}, {k for k in value if k != OTHERS}


# ---- HeteroData ---------------------------------------------------------------------------


@functools.cache
def _classes() -> tuple[type, type]:
    from torch_geometric.data import Batch, HeteroData

    return HeteroData, Batch


def is_hetero(data: Any) -> bool:
    """Whether ``data`` is a PyG HeteroData (a Batch of HeteroData included)."""
    return isinstance(data, _classes()[0])


def _is_batch(data: Any) -> bool:
    return isinstance(data, _classes()[1])


def _num_nodes(data: Any, node_type: str) -> int:
    n = data[node_type].num_nodes
    return int(n) if n is not None else 0


def _tensors(data: Any, store: Any, rows: int) -> list[tuple[str, torch.Tensor, int]]:
    """``(key, value, dim)`` of the tensors of ``store`` with ``rows`` entries along PyG's
    concatenation dimension (its node- or edge-level attributes), ``edge_index`` left out."""
    out = []
    for key, value in store.items():
        if key == "edge_index" or not isinstance(value, torch.Tensor) or value.dim() == 0:
            continue
        dim = data.__cat_dim__(key, value, store)
        dim = 0 if dim is None else dim
        if value.size(dim) == rows:
            out.append((key, value, dim))
    return out


def _copy(data: Any) -> Any:
    out = copy.copy(data)  # copies every store, so writes below stay in the copy
    for store in (*out.node_stores, *out.edge_stores):
        store.__dict__.pop("_cached_attr", None)  # kinds are re-read from the new sizes
    return out


def check_input(transform: Any, data: Any) -> None:
    """The input check of a graph transform given HeteroData, or given a per-type parameter."""
    owner = transform.label()
    if not is_hetero(data):
        typed = per_type_params(transform)
        if typed:
            raise InputError(
                f"{owner}: {typed[0]} is a per-type mapping, which applies to HeteroData; got "
                f"{type(data).__name__}; allowed: a number for Data or Batch")
        return
    if transform.name not in SUPPORTED:
        raise InputError(
            f"{owner}: got {type(data).__name__}, which {owner} does not take; allowed: a "
            f"torch_geometric Data or Batch ({', '.join(SUPPORTED)} take HeteroData)")
    graphs = data.to_data_list() if _is_batch(data) else [data]
    for graph in graphs:
        check_hetero(graph, owner, node_ids=transform.reads_edge_ids())
        if transform.name == "feature_masking":
            check_masking(transform, graph)
        elif transform.name == "subgraph_sampling":
            check_sampling(transform, graph)
        else:
            from augkit.plugins.graph import hetero_views

            if transform.name in hetero_views.VIEWS:
                hetero_views.check(transform, graph)


def check_hetero(data: Any, owner: str, *, node_ids: bool = True) -> None:
    """An InputError naming ``owner`` and the type unless every edge type's ``edge_index`` is
    a ``[2, num_edges]`` LongTensor of source ids below its source type's node count and
    destination ids below its destination type's (the ids scanned only with ``node_ids``, as
    in ``check_graph``), and ``x``/``pos`` have one row per node, ``edge_attr``/``edge_weight``
    one row per edge of their type."""
    counts = {}
    for nt, store in data.node_items():  # (type, store) pairs: no type lookup per store
        n = store.num_nodes
        n = counts[nt] = int(n) if n is not None else 0
        for key in ("x", "pos"):
            value = store.get(key)
            if isinstance(value, torch.Tensor) and (value.dim() == 0 or value.size(0) != n):
                got = "a 0-d tensor" if value.dim() == 0 else f"{value.size(0)} rows"
                raise InputError(f"{owner}: {key} of node type {nt!r} has {got} but the type "
                                 f"has {n} nodes; allowed: one row per node")
    for et, store in data.edge_items():
        ei = store.get("edge_index")
        if ei is None:
            continue
        name = edge_type_str(et)
        if not isinstance(ei, torch.Tensor) or ei.dim() != 2 or ei.size(0) != 2 \
                or ei.dtype != torch.long:
            what = (f"shape {tuple(ei.shape)} and dtype {ei.dtype}"
                    if isinstance(ei, torch.Tensor) else f"a {type(ei).__name__}")
            raise InputError(f"{owner}: edge_index of edge type {name!r} has {what}; allowed: "
                             "a LongTensor of shape [2, num_edges]")
        e = ei.size(1)
        if node_ids and e:
            _check_type_ids(ei, et, counts, owner)
        for key in ("edge_attr", "edge_weight"):
            value = store.get(key)
            if isinstance(value, torch.Tensor) and (value.dim() == 0 or value.size(0) != e):
                got = "a 0-d tensor" if value.dim() == 0 else f"{value.size(0)} rows"
                raise InputError(f"{owner}: {key} of edge type {name!r} has {got} but the "
                                 f"type has {e} edges; allowed: one row per edge")


def _check_type_ids(ei: torch.Tensor, et: tuple, counts: dict, owner: str) -> None:
    """Source ids below the source type's node count, destination ids below the
    destination type's: one pass over each row."""
    for row, nt in ((0, et[0]), (1, et[2])):
        n = counts.get(nt, 0)
        lo, hi = (int(v) for v in torch.aminmax(ei[row]))
        if lo < 0 or hi >= n:
            bad = lo if lo < 0 else hi
            end = "source" if row == 0 else "destination"
            raise InputError(
                f"{owner}: edge type {edge_type_str(et)!r} holds {end} id {bad}, outside "
                f"0..{n - 1} (node type {nt!r} has {n} nodes); allowed: ids in [0, num_nodes)")


def per_graph(transform: Any, data: Any, params: dict[str, Any],
              apply: Callable[[Any, Any, dict[str, Any]], Any]) -> Any:
    """``apply`` on every graph of a Batch of HeteroData, graph ``g`` with its own seed, joined
    again; a single HeteroData goes to ``apply`` as it is."""
    if not _is_batch(data):
        return apply(transform, data, params)
    seed = int(params["seed"])
    out = [apply(transform, graph, {**params, "seed": derive_seed(seed, HETERO_BATCH_KEY, g)})
           for g, graph in enumerate(data.to_data_list())]
    return _classes()[1].from_data_list(out)


def _gather_store(data: Any, store: Any, out_store: Any, rows: int,
                  index: torch.Tensor) -> int:
    """Writes into ``out_store`` every attribute of ``store`` with ``rows`` entries, taken
    at ``index``; returns how many it wrote."""
    from augkit.plugins.graph._subset import gather

    items = _tensors(data, store, rows)
    for key, value, dim in items:
        out_store[key] = gather(value, dim, index.to(value.device))
    return len(items)


# ---- edge_dropout -------------------------------------------------------------------------


def reverse_pairs(data: Any) -> list[tuple[EdgeType, EdgeType | None]]:
    """Every edge type with an ``edge_index``, once: a relation ``(src, rel, dst)`` with its
    reverse ``(dst, "rev_" + rel, src)`` where the graph has both (the forward one first),
    else alone with None; in the order of the first of each group in ``edge_types``."""
    types = [et for et in data.edge_types if data[et].get("edge_index") is not None]
    present = set(types)
    seen: set[EdgeType] = set()
    out: list[tuple[EdgeType, EdgeType | None]] = []
    for et in types:
        if et in seen:
            continue
        rev = (et[2], f"rev_{et[1]}", et[0])
        fwd = (et[2], et[1][4:], et[0]) if et[1].startswith("rev_") else None
        if rev in present and rev not in seen:
            pair: tuple[EdgeType, EdgeType | None] = (et, rev)
        elif fwd is not None and fwd in present and fwd not in seen:
            pair = (fwd, et)
        else:
            pair = (et, None)
        seen.update(t for t in pair if t is not None)
        out.append(pair)
    return out


def _joined(data: Any, fwd: EdgeType, rev: EdgeType | None) -> tuple[torch.Tensor, int]:
    """The edges of ``fwd`` (and ``rev``) as one homogeneous edge list over the nodes of
    both end types (destination ids shifted past the source type's where the types differ),
    and that node count: an edge and its reverse then have the same unordered pair."""
    src, dst = fwd[0], fwd[2]
    ns = _num_nodes(data, src)
    shift = 0 if src == dst else ns
    n = ns + (0 if src == dst else _num_nodes(data, dst))
    ei = data[fwd].edge_index
    parts = [torch.stack([ei[0], ei[1] + shift])]
    if rev is not None:
        er = data[rev].edge_index
        parts.append(torch.stack([er[0] + shift, er[1]]))
    return (parts[0] if len(parts) == 1 else torch.cat(parts, 1)), n


def _pair_rate(transform: Any, p: dict[str, float], named: set[str], fwd: str,
               rev: str) -> float:
    if p[fwd] == p[rev]:
        return p[fwd]
    if (fwd in named) != (rev in named):
        return p[fwd] if fwd in named else p[rev]
    raise InputError(
        f"{transform.label()}: p is {p[fwd]} for {fwd!r} and {p[rev]} for its reverse "
        f"relation {rev!r}, which are dropped together (undirected); allowed: one rate for "
        "both, or undirected: false")


def edge_dropout(transform: Any, data: Any, params: dict[str, Any]) -> Any:
    """``edge_dropout`` of a HeteroData or a Batch of HeteroData (see the module docstring)."""
    return per_graph(transform, data, params, _edge_dropout)


def _edge_dropout(transform: Any, data: Any, params: dict[str, Any]) -> Any:
    from augkit.plugins.graph import functional as F

    names = [edge_type_str(et) for et in data.edge_types]
    p, named = resolve(transform, "p", names)
    seed = int(params["seed"])
    mode = transform.undirected
    keeps: dict[EdgeType, torch.Tensor] = {}

    def alone(et: EdgeType) -> torch.Tensor:
        # A relation without its pair: per unordered pair when undirected is true, or auto
        # and a same-type relation whose edges are symmetric; else per stored edge.
        name = edge_type_str(et)
        joined, n = _joined(data, et, None)
        undirected = mode is True or (mode == "auto" and et[0] == et[2]
                                      and F.is_symmetric(joined))
        return F.edge_keep_mask(joined, p[name], type_seed(seed, name),
                                undirected=bool(undirected), num_nodes=max(n, 1))

    for fwd, rev in reverse_pairs(data):
        if rev is not None and mode is not False:
            joined, n = _joined(data, fwd, rev)
            if mode is True or F.is_symmetric(joined):
                f = edge_type_str(fwd)
                rate = _pair_rate(transform, p, named, f, edge_type_str(rev))
                keep = F.edge_keep_mask(joined, rate, type_seed(seed, f), undirected=True,
                                        num_nodes=max(n, 1))
                e = data[fwd].edge_index.size(1)
                keeps[fwd], keeps[rev] = keep[:e], keep[e:]
                continue
        keeps[fwd] = alone(fwd)
        if rev is not None:
            keeps[rev] = alone(rev)
    out = _copy(data)
    eids = {}
    for et, keep in keeps.items():
        store = data[et]
        ei = store.edge_index
        eid = keep.nonzero().view(-1).to(ei.device)
        if eid.numel() == ei.size(1):
            continue  # nothing dropped: the store keeps its tensors
        eids[et] = eid
        _gather_store(data, store, out[et], ei.size(1), eid)
        out[et].edge_index = ei.index_select(1, eid)
    if _sampled_batch(data):  # a NeighborLoader batch: e_id, num_sampled_edges follow
        from augkit.plugins.graph import _hetero_sampled

        return _hetero_sampled.finish(data, out, None, eids)
    return out


# ---- node_dropout -------------------------------------------------------------------------


def node_dropout(transform: Any, data: Any, params: dict[str, Any]) -> Any:
    """``node_dropout`` of a HeteroData or a Batch of HeteroData: each node type drops its
    nodes at its own rate (keeping at least ``min_nodes`` of its nodes, fewer only when it
    has fewer), relabels the rest and compacts its node-level attributes; every edge type
    keeps the edges whose two ends are kept, relabelled, with their attributes. On a sampled
    mini-batch every type keeps its seed nodes, first, and they count towards ``min_nodes``
    (``_hetero_sampled``)."""
    return per_graph(transform, data, params, _node_dropout)


def _sampled_batch(data: Any) -> bool:
    from augkit.plugins.graph import _hetero_sampled

    return _hetero_sampled.is_sampled(data)


def _seed_masks(transform: Any, data: Any) -> dict[str, torch.Tensor] | None:
    """Per node type, the seed nodes of a sampled mini-batch; None for any other graph."""
    from augkit.plugins.graph import _hetero_sampled

    if not _hetero_sampled.is_sampled(data):
        return None
    return _hetero_sampled.seed_masks(data, transform.label())


def _node_dropout(transform: Any, data: Any, params: dict[str, Any]) -> Any:
    from augkit.plugins.graph import functional as F
    from augkit.plugins.graph.functional._common import one_graph_ptr

    p, _ = resolve(transform, "p", list(data.node_types))
    seed = int(params["seed"])
    seeds = _seed_masks(transform, data)
    masks: dict[str, torch.Tensor] = {}
    for nt in data.node_types:
        ptr = one_graph_ptr(_num_nodes(data, nt))
        floor = transform.min_nodes
        if seeds is not None and int(seeds[nt].sum()) >= floor:
            floor = 0  # the seeds are enough: no random extra node
        new_id, _ = F.node_keep_ids(ptr, p[nt], type_seed(seed, nt), min_nodes=floor)
        masks[nt] = new_id.cpu() >= 0
    return _keep_nodes(data, masks, seeds)


def _keep_nodes(data: Any, masks: dict[str, torch.Tensor],
                seeds: dict[str, torch.Tensor] | None) -> Any:
    """:func:`_induced` of the nodes where ``masks`` is true, and on a sampled mini-batch
    (``seeds`` given) its seeds too, with the sampler's bookkeeping."""
    from augkit.plugins.graph import _hetero_sampled
    from augkit.plugins.graph import functional as F

    if seeds is not None:
        masks = {nt: mask | seeds[nt] for nt, mask in masks.items()}
    out, eids = _induced(data, {nt: F.relabel_mask(mask)[0] for nt, mask in masks.items()})
    return out if seeds is None else _hetero_sampled.finish(data, out, masks, eids)


def _induced(data: Any, new_ids: dict[str, torch.Tensor]
             ) -> tuple[Any, dict[EdgeType, torch.Tensor]]:
    """A copy of ``data`` with, per node type, the nodes whose ``new_ids`` entry is not -1
    (relabelled to it) and their node-level attributes, and per edge type the edges whose two
    ends are kept, relabelled, with their edge-level attributes; and the ids of the kept
    edges of every edge type that lost some."""
    from augkit.plugins.graph import functional as F

    out = _copy(data)
    eids: dict[EdgeType, torch.Tensor] = {}
    for nt in data.node_types:
        new_id = new_ids[nt]
        n = new_id.numel()
        kept = (new_id >= 0).nonzero().view(-1)
        if kept.numel() == n:
            continue  # nothing dropped: the store keeps its tensors
        store = data[nt]
        written = _gather_store(data, store, out[nt], n, kept)
        if "num_nodes" in store or not written:
            out[nt].num_nodes = int(kept.numel())
    for et in data.edge_types:
        store = data[et]
        ei = store.get("edge_index")
        if ei is None:
            continue
        src, dst = new_ids[et[0]], new_ids[et[2]]
        if bool((src >= 0).all()) and bool((dst >= 0).all()):
            continue
        # One id space over both end types, so the homogeneous kernel keeps and relabels.
        ns, ks = src.numel(), int((src >= 0).sum())
        shift = 0 if et[0] == et[2] else ns
        joined_id = src if et[0] == et[2] else torch.cat(
            [src, torch.where(dst >= 0, dst + ks, dst)])
        joined = torch.stack([ei[0], ei[1] + shift]) if shift else ei
        kept_edges, eid = F.induced_edges(joined.cpu(), joined_id)
        if shift:
            kept_edges = torch.stack([kept_edges[0], kept_edges[1] - ks])
        _gather_store(data, store, out[et], ei.size(1), eid)
        out[et].edge_index = kept_edges.to(ei.device)
        eids[et] = eid
    return out, eids


# ---- feature_masking ----------------------------------------------------------------------


def _masking_targets(transform: Any, data: Any) -> list[tuple[Any, str]]:
    """``(type, name)`` of the stores ``feature_masking`` reads its target from: node types
    for ``x``, edge types for ``edge_attr``."""
    if transform.target == "edge_attr":
        return [(et, edge_type_str(et)) for et in data.edge_types]
    return [(nt, nt) for nt in data.node_types]


def check_masking(transform: Any, data: Any) -> None:
    """The target of every type named in ``p`` exists, and every target is 1-D or 2-D."""
    target = transform.target
    owner = transform.label()
    types = _masking_targets(transform, data)
    _, named = resolve(transform, "p", [name for _, name in types])
    for key, name in types:
        value = data[key].get(target)
        if value is None and name in named:
            raise InputError(f"{owner}: p names type {name!r}, which has no {target}; allowed: "
                             f"types with {target}, or \"*\"")
        if isinstance(value, torch.Tensor) and value.dim() not in (1, 2):
            raise InputError(f"{owner}: {target} of type {name!r} has shape "
                             f"{tuple(value.shape)}; allowed: [rows] or [rows, features]")


def feature_masking(transform: Any, data: Any, params: dict[str, Any] | None) -> Any:
    """``feature_masking`` of a HeteroData or a Batch of HeteroData: the target of every type
    that has it masked at the type's rate with the type's seed; the other types pass. With
    ``return_mask`` each such type's store gets its mask under ``mask_key``; ``params`` None
    (a graph the batch stage skips) gives the graph as it is with all-false masks."""
    return per_graph(transform, data, params, _feature_masking)


def _feature_masking(transform: Any, data: Any, params: dict[str, Any] | None) -> Any:
    from augkit.plugins.graph import functional as F

    target = transform.target
    types = _masking_targets(transform, data)
    p, _ = resolve(transform, "p", [name for _, name in types])
    out = _copy(data)
    for key, name in types:
        value = data[key].get(target)
        if not isinstance(value, torch.Tensor):
            continue
        keep = None
        if params is not None:
            masked, keep = F.mask_feature(value, p[name], type_seed(int(params["seed"]), name),
                                          mode=transform.mode, fill=transform._fill_mode)
            out[key][target] = masked.to(value.device)
        if transform.return_mask:
            out[key][transform.mask_key] = transform.mask_of(value, keep)
    return out


# ---- edge_rewiring ------------------------------------------------------------------------


def edge_rewiring(transform: Any, data: Any, params: dict[str, Any]) -> Any:
    """``edge_rewiring`` of a HeteroData or a Batch of HeteroData, relation by relation,
    every moved edge still from a node of its source type to one of its destination type.
    ``degree_preserving`` swaps a relation's own edges' ends, keeping every node's in- and
    out-degree per edge type (a relation between two types exchanges targets only; a
    same-type relation swaps as the homogeneous transform does). ``random`` moves picked
    edges to free pairs of the relation: a same-type relation as the homogeneous transform
    does (pairs of a symmetric one move with both directions), a relation between two types
    to a free (source, destination) pair (``F.rewire_random_bipartite``). A reverse relation
    holding the transposed edges follows its relation, edge by edge, so the pair stays
    mirrored."""
    return per_graph(transform, data, params, _edge_rewiring)


def _mirrored(data: Any, fwd: EdgeType, rev: EdgeType) -> bool:
    """Whether ``rev`` holds exactly the transposed edges of ``fwd`` (as multisets)."""
    ei, er = data[fwd].edge_index, data[rev].edge_index
    if ei.size(1) != er.size(1):
        return False
    n = max(_num_nodes(data, fwd[2]), 1)
    return torch.equal(torch.sort(ei[0] * n + ei[1]).values,
                       torch.sort(er[1] * n + er[0]).values)


def _order(ei: torch.Tensor, n: int) -> torch.Tensor:
    return torch.sort(ei[0] * max(n, 1) + ei[1], stable=True).indices


def _edge_rewiring(transform: Any, data: Any, params: dict[str, Any]) -> Any:
    from augkit.plugins.graph import _sampled

    seed = int(params["seed"])
    out = _copy(data)
    if transform.ratio == 0.0:
        return out
    sampled = _sampled_batch(data)
    for fwd, rev in reverse_pairs(data):
        groups: list[tuple[EdgeType, EdgeType | None]] = [(fwd, None)]
        if rev is not None:
            groups = ([(fwd, rev)] if _mirrored(data, fwd, rev)
                      else [(fwd, None), (rev, None)])
        for et, follower in groups:
            ei = data[et].edge_index
            if ei.size(1) == 0:
                continue
            new = _rewired(transform, data, et, type_seed(seed, edge_type_str(et)))
            out[et].edge_index = new
            if sampled:  # a moved edge has no id in the full graph
                _sampled.forget_edge_ids(out[et])
                if follower is not None:
                    _sampled.forget_edge_ids(out[follower])
            if follower is not None:
                # Match the follower's edges to the relation's (their transposed multisets
                # are equal): the k-th of each in sorted order are one pair.
                er = data[follower].edge_index
                nd = _num_nodes(data, et[2])
                f_order, r_order = _order(ei, nd), _order(er.flip(0), nd)
                moved = er.clone()
                moved[:, r_order] = new[:, f_order].flip(0)
                out[follower].edge_index = moved
    return out


def _rewired(transform: Any, data: Any, et: EdgeType, seed: int) -> torch.Tensor:
    """The rewired ``edge_index`` of relation ``et`` alone under ``seed``."""
    from augkit.plugins.graph import functional as F

    ei = data[et].edge_index
    same = et[0] == et[2]
    if transform.method == "random":
        if same:
            new, _ = F.rewire_random(ei, _num_nodes(data, et[0]), transform.ratio, seed)
        else:
            new, _ = F.rewire_random_bipartite(ei, _num_nodes(data, et[0]),
                                               _num_nodes(data, et[2]), transform.ratio, seed)
        return new.to(ei.device)
    joined, n = _joined(data, et, None)
    new, _ = F.double_edge_swap(joined, n, transform.ratio, seed,
                                undirected=None if same else False)
    new = new.to(ei.device)
    if not same:
        new = torch.stack([new[0], new[1] - _num_nodes(data, et[0])])
    return new


# ---- subgraph_sampling --------------------------------------------------------------------


def check_sampling(transform: Any, data: Any) -> None:
    resolve(transform, "ratio", list(data.node_types))  # names only types the graph has


def subgraph_sampling(transform: Any, data: Any, params: dict[str, Any]) -> Any:
    """``subgraph_sampling`` of a HeteroData or a Batch of HeteroData; ``ratio`` is per node
    type, and every node type keeps at most ``max(1, round(ratio * n))`` of its ``n`` nodes.
    ``random_node`` keeps that many random nodes of every type; ``khop`` and ``random_walk``
    search the graph of every node of every type and every edge of every relation (so they
    follow the metapaths the graph has, ``(a, to, b)`` then ``(b, rev_to, a)`` and so on) and
    every type keeps its nodes reached nearest (earliest) first, up to its share
    (``F.sample_typed_subgraph_nodes``); then every relation keeps the edges between kept
    nodes, relabelled, with their attributes. On a sampled mini-batch the seed nodes of every
    type join the sample, first (``_hetero_sampled``)."""
    return per_graph(transform, data, params, _subgraph_sampling)


def _subgraph_sampling(transform: Any, data: Any, params: dict[str, Any]) -> Any:
    from augkit.plugins.graph import functional as F

    seed = int(params["seed"])
    types = list(data.node_types)
    sizes = [_num_nodes(data, nt) for nt in types]
    masks: dict[str, torch.Tensor] = {}
    ratio, _ = resolve(transform, "ratio", types)
    if transform.method == "random_node":
        for nt, n in zip(types, sizes, strict=True):
            masks[nt] = F.sample_random_nodes(n, ratio[nt], type_seed(seed, nt))
    else:
        offsets = dict(zip(types, [sum(sizes[:i]) for i in range(len(sizes))], strict=True))
        parts = [torch.stack([ei[0] + offsets[et[0]], ei[1] + offsets[et[2]]])
                 for et in data.edge_types
                 if (ei := data[et].get("edge_index")) is not None]
        joined = torch.cat(parts, 1) if parts else torch.zeros(2, 0, dtype=torch.long)
        type_ptr = torch.tensor([0, *itertools.accumulate(sizes)], dtype=torch.long)
        keep = F.sample_typed_subgraph_nodes(
            joined.cpu(), type_ptr, transform.method, [ratio[nt] for nt in types],
            derive_seed(seed, HETERO_KEY), walk_length=transform.walk_length,
            num_hops=transform.num_hops).cpu()
        for nt, n in zip(types, sizes, strict=True):
            masks[nt] = keep[offsets[nt]:offsets[nt] + n]
    return _keep_nodes(data, {nt: mask.cpu() for nt, mask in masks.items()},
                       _seed_masks(transform, data))
