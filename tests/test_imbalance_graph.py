"""graph_smote: minority nodes from training nodes only, original graph untouched."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import augkit
from augkit.errors import InputError

pytest.importorskip("torch_geometric")
pytest.importorskip("sklearn")
from torch_geometric.data import Data
from torch_geometric.utils import is_undirected

from augkit.plugins.imbalance.functional import graph_smote, incident_edges
from augkit.plugins.imbalance.synthetic import imbalanced_sbm


@pytest.fixture(autouse=True)
def _one_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def _graph(n=300, seed=0, **kw):
    data = imbalanced_sbm(n, avg_degree=6, class_fractions=(0.7, 0.2, 0.1), num_features=5,
                          train_fraction=0.5, seed=seed, **kw)
    g = torch.Generator().manual_seed(seed)
    data.edge_attr = torch.randn(data.num_edges, 3, generator=g)
    data.pos = torch.randn(data.num_nodes, 2, generator=g)
    return data


def _snapshot(data):
    return {k: v.clone() for k, v in data.items() if isinstance(v, torch.Tensor)}


def _same(data, snap):
    return all(torch.equal(data[k], v) for k, v in snap.items())


def _neighbours(edge_index, node, out=True):
    row, col = edge_index
    return sorted((col[row == node] if out else row[col == node]).tolist())


graphs = st.builds(
    _graph,
    n=st.integers(60, 250),
    seed=st.integers(0, 2**16),
    p_within=st.floats(0.2, 1.0),
)


@pytest.mark.filterwarnings("ignore:graph_smote. k_neighbors='auto'")
@settings(max_examples=25, deadline=None)
@given(data=graphs, rule=st.sampled_from(["copy_source", "mix"]), seed=st.integers(0, 2**30),
       k=st.sampled_from([1, 3, "auto"]))
def test_original_graph_untouched_and_new_nodes_well_formed(data, rule, seed, k):
    snap = _snapshot(data)
    n, e = data.num_nodes, data.num_edges
    try:
        out, info = graph_smote(data, k_neighbors=k, edges=rule, seed=seed, return_info=True)
    except InputError as exc:  # a hypothesis graph may leave a class with too few train nodes
        assert "too few" in str(exc) or "sample" in str(exc)
        return
    assert _same(data, snap)  # the input is unchanged
    m = out.num_nodes - n
    for key, value in snap.items():  # the first N nodes / E edges are the originals
        if key == "edge_index":
            assert torch.equal(out.edge_index[:, :e], value)
        elif value.size(0) == e and key == "edge_attr":
            assert torch.equal(out[key][:e], value)
        else:
            assert torch.equal(out[key][:n], value), key
    new = out.edge_index[:, e:]
    assert new.numel() == 0 or (new.min() >= 0 and new.max() < n + m)  # inside the graph
    touches_new = (new >= n).sum(0)
    assert bool((touches_new == 1).all())  # one new endpoint per new edge, never two
    assert is_undirected(out.edge_index, num_nodes=out.num_nodes)  # undirected stays so
    assert bool(out.train_mask[n:].all()) and not bool(out.val_mask[n:].any())
    assert not bool(out.test_mask[n:].any())
    src, nbr = info["source"], info["neighbour"]
    assert bool(data.train_mask[src].all()) and bool(data.train_mask[nbr].all())
    assert torch.equal(data.y[src], out.y[n:]) and torch.equal(data.y[nbr], out.y[n:])
    assert torch.equal(out.pos[n:], data.pos[src])  # other node attributes: from the source
    # Counts on the training nodes: every class up to the majority (sampling_strategy=auto).
    counts = Counter(out.y[out.train_mask].tolist())
    assert len(set(counts.values())) == 1


@settings(max_examples=20, deadline=None)
@given(data=graphs, seed=st.integers(0, 2**30))
def test_copy_source_gives_exactly_the_source_neighbourhood(data, seed):
    # A directed version: out- and in-edges are both copied.
    keep = torch.rand(data.num_edges, generator=torch.Generator().manual_seed(seed)) < 0.7
    directed = Data(x=data.x, y=data.y, train_mask=data.train_mask, val_mask=data.val_mask,
                    test_mask=data.test_mask, edge_index=data.edge_index[:, keep])
    try:
        out, info = graph_smote(directed, k_neighbors=1, seed=seed, return_info=True)
    except InputError:
        return
    n = directed.num_nodes
    for j in range(0, out.num_nodes - n, 7):  # a sample of the new nodes
        s = int(info["source"][j])
        assert _neighbours(out.edge_index, n + j) == _neighbours(directed.edge_index, s)
        assert _neighbours(out.edge_index, n + j, out=False) == \
            _neighbours(directed.edge_index, s, out=False)


@settings(max_examples=15, deadline=None)
@given(data=graphs, seed=st.integers(0, 2**30))
def test_mix_draws_from_both_parents_without_duplicates(data, seed):
    data.edge_index = torch.unique(data.edge_index, dim=1)  # a simple graph
    try:
        out, info = graph_smote(data, k_neighbors=2, edges="mix", seed=seed, return_info=True)
    except InputError:
        return
    n = data.num_nodes
    new = out.edge_index[:, data.num_edges:]
    assert torch.unique(new, dim=1).size(1) == new.size(1)  # no duplicate edge
    for j in range(0, out.num_nodes - n, 5):
        s, t = int(info["source"][j]), int(info["neighbour"][j])
        got = set(_neighbours(out.edge_index, n + j))
        ns, nt = set(_neighbours(data.edge_index, s)), set(_neighbours(data.edge_index, t))
        assert got <= ns | nt
        assert ns & nt <= got  # a shared neighbour is always kept, once


def test_mix_keeps_each_parent_in_proportion():
    # Over many new nodes, the share of the source's private neighbours kept is E[1 - u] = 1/2.
    data = _graph(n=2000, seed=1)
    out, info = graph_smote(data, k_neighbors=3, edges="mix", seed=4, return_info=True)
    n = data.num_nodes
    kept = total = 0.0
    for j in range(0, out.num_nodes - n, 3):
        s, t = int(info["source"][j]), int(info["neighbour"][j])
        ns = set(_neighbours(data.edge_index, s)) - set(_neighbours(data.edge_index, t))
        got = set(_neighbours(out.edge_index, n + j))
        kept += len(ns & got)
        total += len(ns)
    assert 0.4 < kept / total < 0.6


def test_features_are_interpolations_between_the_two_parents():
    data = _graph()
    out, info = graph_smote(data, k_neighbors=3, seed=0, return_info=True)
    n = data.num_nodes
    xs, xt = data.x[info["source"]].double(), data.x[info["neighbour"]].double()
    u = info["step"].unsqueeze(1)
    assert torch.allclose(out.x[n:].double(), xs + u * (xt - xs), atol=1e-6)
    assert bool(((info["step"] >= 0) & (info["step"] < 1)).all())
    # The neighbour is one of the source's 3 nearest same-class training nodes.
    from sklearn.neighbors import NearestNeighbors

    train = data.train_mask
    for j in range(0, out.num_nodes - n, 11):
        s, t = int(info["source"][j]), int(info["neighbour"][j])
        members = torch.nonzero(train & (data.y == data.y[s])).view(-1)
        nn = NearestNeighbors(n_neighbors=4).fit(data.x[members].numpy())
        idx = nn.kneighbors(data.x[s:s + 1].numpy(), return_distance=False)[0]
        assert t in members[idx].tolist() and t != s


def test_never_reads_validation_or_test_nodes():
    data = _graph()
    poisoned = data.clone()
    hidden = ~data.train_mask
    poisoned.x[hidden] = float("nan")
    poisoned.x[hidden.nonzero()[::2].view(-1)] = 1e30
    poisoned.y[hidden] = 2  # labels outside training do not count either
    a = graph_smote(data, seed=5)
    b = graph_smote(poisoned, seed=5)
    n = data.num_nodes
    assert torch.equal(a.x[n:], b.x[n:]) and torch.isfinite(b.x[n:]).all()
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.y[n:], b.y[n:])


def test_transform_is_reproducible_and_registered():
    data = _graph()
    t = augkit.make("graph_smote", k_neighbors=2, sampling_strategy="minority")
    a, params = t(data, generator=3, return_params=True)
    b = t.replay(data, params)
    c = t(data, generator=4)
    assert torch.equal(a.x, b.x) and torch.equal(a.edge_index, b.edge_index)
    assert not torch.equal(a.x, c.x)
    counts = Counter(a.y[a.train_mask].tolist())
    assert counts[2] == counts[0] and counts[1] == Counter(data.y[data.train_mask].tolist())[1]
    policy = augkit.load_policy("dataset:\n  - graph_smote: {edges: mix, k_neighbors: auto}\n")
    out = policy.stage("dataset")(data, generator=0)
    assert out.num_nodes > data.num_nodes


def test_errors_name_what_is_wrong():
    data = _graph()
    tiny = data.clone()
    minority = torch.nonzero(data.train_mask & (data.y == 2)).view(-1)
    tiny.train_mask = data.train_mask.clone()
    tiny.train_mask[minority[4:]] = False  # four training nodes of class 2 left
    with pytest.raises(InputError, match=r"class 2 has 4 samples, too few for k_neighbors=9"):
        graph_smote(tiny, k_neighbors=9)
    with pytest.warns(UserWarning, match=r"k_neighbors='auto' uses k_neighbors=3: class 2"):
        graph_smote(tiny, k_neighbors="auto")
    no_mask = Data(x=data.x, y=data.y, edge_index=data.edge_index)
    with pytest.raises(InputError, match="train_mask"):
        graph_smote(no_mask)
    bad = data.clone()
    bad.x[data.train_mask.nonzero()[0]] = float("nan")
    with pytest.raises(InputError, match="NaN or infinite"):
        graph_smote(bad)
    with pytest.raises(InputError, match="edges got"):
        graph_smote(data, edges="both")


def test_incident_edges_against_a_loop():
    rng = np.random.default_rng(0)
    owner = rng.integers(0, 50, 400)
    query = rng.integers(0, 50, 30)
    q, e = incident_edges(owner, query, 50)
    expected = sorted((i, int(x)) for i, s in enumerate(query) for x in np.flatnonzero(owner == s))
    assert sorted(zip(q.tolist(), e.tolist(), strict=True)) == expected


def test_scales_without_a_dense_matrix():
    # 2e5 nodes: an N x N float matrix would need 160 GB; graph_smote runs in well under 1 GB.
    import tracemalloc

    data = imbalanced_sbm(200_000, avg_degree=10, seed=0, train_fraction=0.1)
    tracemalloc.start()
    out = graph_smote(data, k_neighbors=5, seed=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out.num_nodes > data.num_nodes
    assert peak < 1e9


@pytest.mark.parametrize(("m", "d", "k", "dup", "nrows"),
                         [(6, 2, 5, False, 400), (300, 16, 5, True, 400),
                          (2500, 8, 3, False, 400), (3000, 16, 5, True, 400),
                          (2100, 16, 5, True, 2100), (5000, 16, 5, True, 5000),
                          (4100, 8, 4, False, 3000)])
def test_knn_within_matches_sklearn_distances(m, d, k, dup, nrows):
    # The exact k-NN graph_smote uses (blocked brute force, grouped pruning over tiles from
    # 2048 points; the last case spans several row and column tiles): the same neighbour
    # distances as scikit-learn's kneighbors(), the query itself left out.
    from sklearn.neighbors import NearestNeighbors

    from augkit.plugins.imbalance.knn import knn_within

    g = torch.Generator().manual_seed(m)
    pts = torch.randn(m, d, generator=g)
    if dup:
        pts[1::7] = pts[0]  # exact duplicates: distance 0 to a point that is not the query
    rows = torch.randperm(m, generator=g)[: min(m, nrows)]
    got = knn_within(pts, rows, k)
    assert got.shape == (rows.numel(), k)
    assert not bool((got == rows.view(-1, 1)).any())
    ref_d, _ = NearestNeighbors(n_neighbors=k).fit(pts.double().numpy()).kneighbors(
        return_distance=True)
    p = pts.double()
    got_d = (p[got] - p[rows].unsqueeze(1)).norm(dim=-1)
    assert torch.allclose(got_d, torch.from_numpy(ref_d[rows.numpy()]), atol=1e-9)


def test_knn_symmetric_screen_equals_the_row_screen(monkeypatch):
    """When most points are queried the screen computes each distance once for both ends
    (several row tiles, column tiles and a last partial tile here): its group minima are
    those of the row-by-row screen plus the row's own |p|^2, within float32 rounding, and
    knn_within takes that path only then."""
    from augkit.plugins.imbalance import knn

    g = torch.Generator().manual_seed(5)
    m, d = 4 * knn._SYM_TILE_ROWS + 3 * knn._GROUP, 12
    pts = torch.randn(m, d, generator=g, dtype=torch.float64) * 3
    sq = (pts * pts).sum(1)
    p32, s32 = pts.float(), sq.float()
    got = knn._screen_symmetric(p32, s32)
    dist = (sq.view(-1, 1) + sq.view(1, -1) - 2.0 * pts @ pts.T).view(m, -1, knn._GROUP)
    want = dist.amin(2)
    assert got.shape == want.shape
    assert torch.allclose(got.double(), want, atol=1e-3 * float(sq.max()) * 2.0 ** -10)
    assert torch.equal(got.argmin(1), want.argmin(1))

    calls = []
    real = knn._screen_symmetric
    monkeypatch.setattr(knn, "_screen_symmetric", lambda *a: calls.append(1) or real(*a))
    knn.knn_within(pts, torch.arange(m), 3)  # every point queried: symmetric
    knn.knn_within(pts, torch.arange(m // 3), 3)  # a third: row by row
    assert calls == [1]


@pytest.mark.parametrize("nrows", [700, 3000])
@pytest.mark.parametrize("roundoff", [2.0 ** -24, 1e-3, 1.0])
def test_knn_float32_screen_falls_back_to_exact(monkeypatch, roundoff, nrows):
    """The grouped k-NN screens in float32 and redoes in float64 the rows its error bound
    cannot vouch for; with the bound inflated (1e-3: some rows, 1.0: every row) the answer
    must still be the exact one, and the fallbacks must actually run."""
    from sklearn.neighbors import NearestNeighbors

    from augkit.plugins.imbalance import knn

    calls = {"groups64": 0, "best64": 0}
    real64, real_best = knn._knn_grouped64, knn._best_in_groups

    def groups64(*a):
        calls["groups64"] += 1
        return real64(*a)

    def best64(*a):
        calls["best64"] += 1
        return real_best(*a)

    monkeypatch.setattr(knn, "_U32", roundoff)
    monkeypatch.setattr(knn, "_knn_grouped64", groups64)
    monkeypatch.setattr(knn, "_best_in_groups", best64)
    g = torch.Generator().manual_seed(7)
    pts = torch.randn(3000, 8, generator=g)
    rows = torch.randperm(3000, generator=g)[:nrows]  # 3000: the symmetric screen
    got = knn.knn_within(pts, rows, 4)
    ref_d, _ = NearestNeighbors(n_neighbors=4).fit(pts.double().numpy()).kneighbors()
    p = pts.double()
    got_d = (p[got] - p[rows].unsqueeze(1)).norm(dim=-1)
    assert torch.allclose(got_d, torch.from_numpy(ref_d[rows.numpy()]), atol=1e-9)
    if roundoff == 1.0:
        assert calls["groups64"] == 1 and calls["best64"] >= 1


def test_knn_exact_kernel_equals_the_torch_ranking(monkeypatch):
    """The numba kernel that ranks each query's candidate groups exactly gives the distances
    of the torch path it replaces (float32 pre-ranking + float64 recheck), on groups that
    hold the query itself, duplicates of it and padding at +inf; and knn_within without
    numba (the torch path) still matches scikit-learn."""
    from sklearn.neighbors import NearestNeighbors

    from augkit.plugins.imbalance import knn

    kernel = knn._exact_kernel()
    if kernel is None:
        pytest.skip("numba is not installed")
    g = torch.Generator().manual_seed(11)
    m, d, k = 2500, 6, 5
    pts = torch.randn(m, d, generator=g, dtype=torch.float64)
    pts[3::11] = pts[0]  # duplicates of a query
    pad = -m % knn._GROUP
    pts_p = torch.cat([pts, pts.new_zeros(pad, d)])
    sq = torch.cat([(pts * pts).sum(1), pts.new_full((pad,), float("inf"))])
    rows = torch.randperm(m, generator=g)[:300]
    rows[0] = 0
    groups_n = pts_p.size(0) // knn._GROUP
    groups = torch.stack([torch.randperm(groups_n, generator=g)[:4] for _ in range(300)])
    groups[:, 0] = rows // knn._GROUP  # the query's own group
    groups[1, 1] = groups_n - 1  # the padded group
    got = torch.empty(300, k, dtype=torch.long)
    knn._exact_in_groups(kernel, pts_p, sq, rows, groups, k, got)
    ref = knn._best_in_groups(pts_p, sq, rows, groups, k)
    dist = lambda idx: (pts_p[idx] - pts_p[rows].unsqueeze(1)).norm(dim=-1)  # noqa: E731
    assert not bool((got == rows.view(-1, 1)).any()) and int(got.max()) < m
    assert torch.allclose(dist(got), dist(ref), atol=1e-12)

    monkeypatch.setattr(knn, "_exact_kernel", lambda: None)
    pts32 = torch.randn(3000, 8, generator=g)
    rows = torch.randperm(3000, generator=g)[:500]
    out = knn.knn_within(pts32, rows, 4)
    ref_d, _ = NearestNeighbors(n_neighbors=4).fit(pts32.double().numpy()).kneighbors()
    p = pts32.double()
    got_d = (p[out] - p[rows].unsqueeze(1)).norm(dim=-1)
    assert torch.allclose(got_d, torch.from_numpy(ref_d[rows.numpy()]), atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(data=graphs, seed=st.integers(0, 2**30), extra=st.integers(0, 40))
def test_copy_source_kernel_equals_the_numpy_assembly(data, seed, extra):
    """copy_source writes the grown edge list straight into the output (numba): the same
    edge_index and edge attributes as the numpy assembly it replaces, also on a directed
    graph with self-loops and duplicate edges."""
    from augkit.plugins.imbalance import functional as F

    g = torch.Generator().manual_seed(seed)
    n = data.num_nodes
    more = torch.randint(0, n, (2, extra), generator=g)
    more[1, : extra // 3] = more[0, : extra // 3]  # self-loops
    data.edge_index = torch.cat([data.edge_index, more, more[:, :2]], dim=1)  # + duplicates
    data.edge_attr = torch.randn(data.edge_index.size(1), 3, generator=g)
    fused = F._grown_by_source(data.edge_index, np.arange(n)[::3], n)
    if fused is None:
        pytest.skip("numba is not installed")
    try:
        a = graph_smote(data, k_neighbors=1, seed=seed)
    except InputError:
        return
    original = F._grown_by_source
    try:
        F._grown_by_source = lambda *args: None
        b = graph_smote(data, k_neighbors=1, seed=seed)
    finally:
        F._grown_by_source = original
    assert torch.equal(a.edge_index, b.edge_index)
    assert torch.equal(a.edge_attr, b.edge_attr)


@settings(max_examples=40)
@given(st.integers(1, 30), st.lists(st.integers(0, 29), max_size=80),
       st.lists(st.integers(0, 29), max_size=20))
def test_incident_edges_kernel_equals_numpy(n, owner, query):
    """graph_smote finds the edges of its source nodes with a numba counting sort; it must
    give the numpy version's pairs in the same order (repeated and edgeless queries too)."""
    from augkit.plugins.imbalance.functional import _incident_edges_numpy, incident_edges

    owner_a = np.array([o % n for o in owner], dtype=np.int64)
    query_a = np.array([q % n for q in query], dtype=np.int64)
    got = incident_edges(owner_a, query_a, n)
    want = _incident_edges_numpy(owner_a, query_a, n)
    assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))


def test_mix_draw_is_the_counter_hash_of_seed_and_pair():
    """The per-(new node, neighbour) draw of ``edges="mix"``: a golden-ratio step and a
    partial mix fold in ``a``, ``b`` is added, and splitmix64's finaliser (``augkit._counter``)
    does the rest; written out here on Python ints, and pinned."""
    from augkit import _counter
    from augkit.plugins.imbalance.functional import _hash_uniform

    def reference(seed: int, a: int, b: int) -> float:
        z = (seed + a * _counter.GOLDEN) & _counter.M64
        z = (((z ^ (z >> 31)) * 0xBF58476D1CE4E5B9) + b) & _counter.M64
        return (_counter.mix64(z) >> 11) / (1 << 53)

    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 2**40, 200), rng.integers(0, 2**40, 200)
    for seed in (0, 7, 2**63 - 1, -5):
        want = [reference(seed & _counter.M64, i, j)
                for i, j in zip(a.tolist(), b.tolist(), strict=True)]
        assert _hash_uniform(seed, a, b).tolist() == want
    assert _hash_uniform(7, np.arange(4), np.arange(4)[::-1]).tolist() == [
        0.960001168849281, 0.17087389515781004, 0.21744605128022332, 0.6087915901976557]


@pytest.mark.parametrize("make_batch", ["from_data_list", "loader"])
def test_a_batch_is_refused_with_the_reason(make_batch):
    from torch_geometric.data import Batch
    from torch_geometric.loader import DataLoader

    graphs = [_graph(80, seed=s) for s in range(2)]
    batch = (Batch.from_data_list(graphs) if make_batch == "from_data_list"
             else next(iter(DataLoader(graphs, batch_size=2))))
    snap = _snapshot(batch)
    with pytest.raises(InputError, match=r"graph_smote: got a Batch of 2 graphs; allowed: one "):
        augkit.make("graph_smote")(batch, generator=torch.Generator().manual_seed(0))
    assert _same(batch, snap)
