"""graph_diffusion: the PPR matrix is stochastic before sparsification, the result equals
PyG's GDC (exact) on small graphs, and a Batch is diffused graph by graph."""

from __future__ import annotations

import pytest
import torch
import torch_geometric.transforms as T
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch_geometric.data import Data

import augkit
from augkit.errors import InputError, ParamError
from augkit.plugins.graph.functional.diffusion import (
    diffusion_matrix,
    ppr_push,
    sparsify,
    sparsify_entries,
    top_per_column,
    transition,
)

from .graph_strategies import assert_valid, batches, graphs

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def _plain(g: Data) -> Data:
    """Only the structure and x (GDC reads edge_attr as weights)."""
    return Data(x=torch.ones(g.num_nodes, 1), edge_index=g.edge_index, num_nodes=g.num_nodes)


@SETTINGS
@given(g=graphs(min_nodes=1, max_nodes=15), alpha=st.sampled_from([0.05, 0.15, 0.5]),
       norm=st.sampled_from(["row", "col"]))
def test_ppr_is_stochastic_before_sparsification(g, alpha, norm):
    """Row normalization: every row of the PPR matrix sums to 1; col: every column."""
    s = diffusion_matrix(g.edge_index, None, g.num_nodes, method="ppr", alpha=alpha,
                         normalization=norm)
    sums = s.sum(1 if norm == "row" else 0)
    torch.testing.assert_close(sums, torch.ones_like(sums), rtol=1e-9, atol=1e-9)
    assert bool((s >= -1e-12).all())


def _gdc(g, method, kw, spars):
    return T.GDC(exact=True, diffusion_kwargs={"method": method, **kw},
                 sparsification_kwargs=spars)(g.clone())


@SETTINGS
@given(g=graphs(min_nodes=2, max_nodes=15), method=st.sampled_from(["ppr", "heat"]),
       eps=st.sampled_from([1e-4, 1e-2, 0.05]))
def test_threshold_equals_gdc(g, method, eps):
    g = _plain(g)
    kw = {"alpha": 0.15} if method == "ppr" else {"t": 3.0}
    s = diffusion_matrix(g.edge_index, None, g.num_nodes, method=method, **kw)
    assume(bool(((s - eps).abs() > 1e-5).all()))  # float32 (GDC) and float64 agree on the cut
    out = augkit.make("graph_diffusion", method=method, top_k=None, eps=eps, **kw)(g, generator=0)
    ref = _gdc(g, method, kw, {"method": "threshold", "eps": eps})
    assert torch.equal(out.edge_index, ref.edge_index)
    torch.testing.assert_close(out.edge_weight, ref.edge_attr, rtol=1e-4, atol=1e-5)


@SETTINGS
@given(g=graphs(min_nodes=2, max_nodes=15), method=st.sampled_from(["ppr", "heat"]),
       k=st.integers(1, 6))
def test_top_k_equals_gdc_without_ties(g, method, k):
    g = _plain(g)
    kw = {"alpha": 0.15} if method == "ppr" else {"t": 3.0}
    s = diffusion_matrix(g.edge_index, None, g.num_nodes, method=method, **kw)
    top = torch.sort(s, dim=0, descending=True).values
    if k < g.num_nodes:  # GDC's order among equal weights is arbitrary: no tie at the cut
        assume(bool(((top[k - 1] - top[k]).abs() > 1e-5).all()))
    out = augkit.make("graph_diffusion", method=method, top_k=k, **kw)(g, generator=0)
    ref = _gdc(g, method, kw, {"method": "topk", "k": k, "dim": 0})
    assert torch.equal(out.edge_index, ref.edge_index)
    torch.testing.assert_close(out.edge_weight, ref.edge_attr, rtol=1e-4, atol=1e-5)


@SETTINGS
@given(g=graphs(min_nodes=3, max_nodes=15), method=st.sampled_from(["ppr", "heat"]),
       weighted=st.sampled_from([None, torch.float32, torch.float64]))
def test_exact_diffusion_solves_in_the_dtype_of_its_weights(g, method, weighted):
    """No edge_weight: the default dtype (float32, as GDC); a float edge_weight: its own."""
    g = _plain(g)
    w = None
    if weighted is not None:
        w = torch.linspace(0.5, 2.0, g.edge_index.size(1), dtype=weighted)
        g.edge_weight = w
    dtype = weighted or torch.get_default_dtype()
    kw = {"alpha": 0.15} if method == "ppr" else {"t": 3.0}
    out = augkit.make("graph_diffusion", method=method, top_k=4, **kw)(g, generator=0)
    s = diffusion_matrix(g.edge_index, w, g.num_nodes, method=method, dtype=dtype, **kw)
    want_ei, want_w = sparsify(s, top_k=4)
    assert out.edge_weight.dtype == dtype
    assert torch.equal(out.edge_index, want_ei)
    assert torch.equal(out.edge_weight, want_w)


@SETTINGS
@given(batch=batches(max_graphs=5, max_nodes=12, x=True), method=st.sampled_from(["ppr", "heat"]))
def test_batch_is_diffused_graph_by_graph(batch, method):
    snap = {key: value.clone() for key, value in batch.items() if torch.is_tensor(value)}
    t = augkit.make("graph_diffusion", method=method, top_k=4)
    out = t(batch, generator=0)
    for key, value in snap.items():
        assert torch.equal(batch[key], value)
    assert_valid(out, graphs=batch.num_graphs)
    src, dst = out.edge_index
    assert torch.equal(out.batch[src], out.batch[dst])  # no edge between graphs
    for part, item in zip(out.to_data_list(), batch.to_data_list(), strict=True):
        alone = t(item, generator=0)  # graph_y is kept by both (the Batch tells its kind)
        for key in ("x", "edge_index", "edge_weight"):
            assert torch.equal(part[key], alone[key])
        cols = torch.bincount(part.edge_index[1], weights=part.edge_weight.double(),
                              minlength=part.num_nodes)
        nonempty = torch.bincount(part.edge_index[1], minlength=part.num_nodes) > 0
        torch.testing.assert_close(cols[nonempty], torch.ones_like(cols[nonempty]))


def test_input_unchanged_and_edge_attributes_replaced():
    g = Data(x=torch.ones(4, 2), edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]),
             edge_attr=torch.ones(3, 5))
    snap = {key: value.clone() for key, value in g.items()}
    out = augkit.make("graph_diffusion", top_k=2)(g, generator=0)
    for key, value in snap.items():
        assert torch.equal(g[key], value)
    assert "edge_attr" not in out and out.edge_weight.size(0) == out.edge_index.size(1)


def test_bad_input_is_refused():
    big = Data(edge_index=torch.tensor([[0], [1]]), num_nodes=50)
    with pytest.raises(InputError, match="max_nodes"):
        augkit.make("graph_diffusion", solver="exact", max_nodes=20)(big, generator=0)
    weighted = Data(edge_index=torch.tensor([[0], [1]]), edge_weight=torch.ones(1, 2),
                    num_nodes=2)
    with pytest.raises(InputError, match="one weight per edge"):
        augkit.make("graph_diffusion")(weighted, generator=0)


# ---- push-based approximate PPR ---------------------------------------------------------


@SETTINGS
@given(g=graphs(min_nodes=2, max_nodes=30), norm=st.sampled_from(["sym", "col", "row"]),
       eps=st.sampled_from([1e-3, 1e-2]))
def test_push_equals_gdc_approximate(g, norm, eps):
    """solver: push is GDC(exact=False) (PyG's get_ppr), also on a Batch-free Data."""
    g = _plain(g)
    entries, values = ppr_push(g.edge_index, g.num_nodes, alpha=0.15, eps=1e-4,
                               normalization=norm)
    assume(bool(((values - eps).abs() > 1e-5).all()))  # float32 (GDC) agrees on the cut
    out = augkit.make("graph_diffusion", solver="push", alpha=0.15, push_eps=1e-4,
                      top_k=None, eps=eps, normalization=norm)(g, generator=0)
    ref = T.GDC(exact=False, normalization_in=norm,
                diffusion_kwargs={"method": "ppr", "alpha": 0.15, "eps": 1e-4},
                sparsification_kwargs={"method": "threshold", "eps": eps})(g.clone())
    assert torch.equal(out.edge_index, ref.edge_index)
    torch.testing.assert_close(out.edge_weight, ref.edge_attr, rtol=1e-4, atol=1e-5)


def _pyg_push(edge_index: torch.Tensor, n: int, alpha: float, eps: float):
    """PyG's get_ppr on the graph ppr_push pushes on (self-loops added, duplicates merged)."""
    from torch_geometric.utils import coalesce, get_ppr

    loops = torch.arange(n)
    ei = coalesce(torch.cat([edge_index, torch.stack([loops, loops])], 1), num_nodes=n)
    return get_ppr(ei, alpha=alpha, eps=eps, num_nodes=n)


@SETTINGS
@given(g=graphs(min_nodes=1, max_nodes=30), alpha=st.sampled_from([0.05, 0.15, 0.5]),
       eps=st.sampled_from([1e-2, 1e-4, 1e-6]))
def test_push_gives_pyg_get_ppr_entries_in_its_order(g, alpha, eps):
    """The push kernel replays PyG's get_ppr: the same entries, in the same order, with the
    same float32 values (row normalization leaves them as pushed)."""
    entries, values = ppr_push(g.edge_index, g.num_nodes, alpha=alpha, eps=eps,
                               normalization="row")
    ref, ref_values = _pyg_push(g.edge_index, g.num_nodes, alpha, eps)
    assert torch.equal(entries, ref)
    assert torch.equal(values, ref_values.double())


def test_push_gives_pyg_get_ppr_entries_on_a_graph_split_over_threads():
    from augkit._threads import workers_for

    gen = torch.Generator().manual_seed(0)
    n = 3000
    ei = torch.randint(0, n, (2, 12000), generator=gen)
    assert workers_for(n, ei.size(1)) == torch.get_num_threads()  # split when threads allow
    entries, values = ppr_push(ei, n, alpha=0.15, eps=1e-4, normalization="row")
    ref, ref_values = _pyg_push(ei, n, 0.15, 1e-4)
    assert torch.equal(entries, ref)
    assert torch.equal(values, ref_values.double())


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(g=graphs(min_nodes=2, max_nodes=30, duplicates=False, self_loops=False))
def test_push_approximates_the_exact_ppr(g):
    """With a small tolerance the push's PPR is the exact solve's (row normalization, a
    simple graph: the push follows unweighted edges, the solve sums repeated ones)."""
    n = g.num_nodes
    entries, values = ppr_push(g.edge_index, n, alpha=0.15, eps=1e-8, normalization="row")
    dense = torch.zeros(n, n, dtype=torch.float64)
    dense.index_put_((entries[0], entries[1]), values, accumulate=True)
    exact = diffusion_matrix(g.edge_index, None, n, method="ppr", alpha=0.15,
                             normalization="row")
    torch.testing.assert_close(dense, exact, rtol=0, atol=1e-5)


@SETTINGS
@given(g=graphs(min_nodes=2, max_nodes=15), k=st.integers(1, 5))
def test_sparse_top_k_equals_the_dense_one(g, k):
    s = diffusion_matrix(g.edge_index, None, g.num_nodes, method="ppr", alpha=0.2)
    rows, cols = torch.ones_like(s).nonzero(as_tuple=True)
    want = sparsify(s, top_k=k)
    got = sparsify_entries(torch.stack([rows, cols]), s[rows, cols], g.num_nodes, top_k=k)
    assert torch.equal(got[0], want[0])
    torch.testing.assert_close(got[1], want[1])


@SETTINGS
@given(matrix=st.integers(1, 8).flatmap(lambda n: st.lists(
    st.integers(0, 2), min_size=n * n, max_size=n * n).map(
    lambda v: torch.tensor(v, dtype=torch.float64).view(n, n))), k=st.integers(0, 9))
def test_top_per_column_breaks_ties_by_row(matrix, k):
    """Against a stable sort per column: small integers make many ties at the cut."""
    n = matrix.size(0)
    want = torch.zeros_like(matrix, dtype=torch.bool)
    order = torch.sort(-matrix, dim=0, stable=True).indices[: min(k, n)]
    want.scatter_(0, order, True)
    assert torch.equal(top_per_column(matrix, min(k, n)), want)


@SETTINGS
@given(g=graphs(min_nodes=1, max_nodes=15), alpha=st.sampled_from([0.05, 0.15, 0.5]),
       loops=st.sampled_from([0.0, 1.0, 2.5]))
def test_ppr_of_an_undirected_graph_is_the_inverse(g, alpha, loops):
    """The symmetric case (solved by Cholesky) against ``alpha (I + (alpha - 1) T)^-1``."""
    ei = torch.cat([g.edge_index, g.edge_index.flip(0)], 1)
    n = g.num_nodes
    s = diffusion_matrix(ei, None, n, method="ppr", alpha=alpha, self_loop_weight=loops)
    loop = torch.arange(n)
    full = torch.cat([ei, torch.stack([loop, loop])], 1)
    w = torch.cat([torch.ones(ei.size(1)), torch.full((n,), loops)]).double()
    a = torch.zeros(n, n, dtype=torch.float64)
    a.index_put_((full[0], full[1]), transition(full, w, n, "sym"), accumulate=True)
    want = alpha * torch.linalg.inv(torch.eye(n, dtype=torch.float64) + (alpha - 1) * a)
    torch.testing.assert_close(s, want, rtol=1e-10, atol=1e-12)


def test_auto_pushes_past_max_nodes_and_heat_refuses():
    ring = torch.arange(40)
    g = Data(x=torch.ones(40, 1), edge_index=torch.stack([ring, (ring + 1) % 40]))
    out = augkit.make("graph_diffusion", max_nodes=10, top_k=3)(g, generator=0)
    assert out.edge_index.size(1) == 3 * 40
    with pytest.raises(InputError, match="max_nodes"):
        augkit.make("graph_diffusion", method="heat", max_nodes=10)(g, generator=0)
    with pytest.raises(ParamError, match="PPR only"):
        augkit.make("graph_diffusion", method="heat", solver="push")
