"""edge_rewiring: properties of both methods on generated graphs and Batches (degree sequence,
no self-loop or multi-edge created, undirected stays undirected, attributes follow their
edge), the documented attribute rule, the rewired share, and the numba and torch swap kernels."""

from __future__ import annotations

import unittest.mock as mock
from collections import Counter

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from torch_geometric.data import Batch, Data

import augkit
from augkit.errors import InputError
from augkit.plugins.graph import functional as F
from augkit.plugins.graph.functional import rewiring as FR
from augkit.plugins.graph.functional import swaps as FS

from .graph_strategies import (
    assert_same,
    assert_unchanged,
    assert_valid,
    graphs_or_batches,
    is_undirected,
    snapshot,
)

ALPHA = 1e-3  # fixed seeds: a failure means the rate is wrong, not bad luck
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _random_undirected(n: int, m: int, seed: int) -> torch.Tensor:
    """A simple undirected graph (no loops, no duplicates), both directions stored."""
    g = torch.Generator().manual_seed(seed)
    u = torch.randint(0, n, (m,), generator=g)
    v = torch.randint(0, n, (m,), generator=g)
    k = torch.unique(torch.minimum(u, v) * n + torch.maximum(u, v))
    k = k[k // n != k % n]
    a, b = k // n, k % n
    return torch.cat([torch.stack([a, b]), torch.stack([b, a])], 1)


def _graph_of(data) -> torch.Tensor:
    if isinstance(data, Batch):
        return data.batch
    return torch.zeros(data.num_nodes, dtype=torch.long)


def _check_common(out, data) -> None:
    """What both methods promise: same nodes, same edge count, every edge-level attribute
    still at its edge's position, self-loops untouched, edges inside their own graph."""
    assert_valid(out, graphs=data.num_graphs if isinstance(data, Batch) else None)
    assert out.num_nodes == data.num_nodes
    assert out.edge_index.size(1) == data.edge_index.size(1)
    for key in ("x", "y", "train_mask", "node_id", "edge_attr", "edge_weight", "edge_id"):
        if key in data:
            assert out[key] is data[key] or torch.equal(out[key], data[key])
    loop_in = data.edge_index[0] == data.edge_index[1]
    assert torch.equal(out.edge_index[:, loop_in], data.edge_index[:, loop_in])
    moved = (out.edge_index != data.edge_index).any(0)
    assert not bool((out.edge_index[0] == out.edge_index[1])[moved].any()), "self-loop made"
    if is_undirected(data.edge_index):
        assert is_undirected(out.edge_index)


def _multiplicity(ei: torch.Tensor) -> Counter:
    return Counter(map(tuple, ei.t().tolist()))


@settings(max_examples=15)
@given(graphs_or_batches(ids=True), st.sampled_from([0.0, 0.2, 0.6, 1.0]),
       st.integers(0, 2**31))
def test_random_rewiring_properties(data, ratio, seed):
    snap = snapshot(data)
    t = augkit.make("edge_rewiring", method="random", ratio=ratio)
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    _check_common(out, data)
    und = is_undirected(data.edge_index)
    moved = (out.edge_index != data.edge_index).any(0)
    old = set(map(tuple, data.edge_index.t().tolist()))
    new = out.edge_index[:, moved]
    # Moved edges land on pairs that were not edges of the input ...
    assert not any(p in old for p in map(tuple, new.t().tolist()))
    # ... and every moved pair is distinct: one new pair per old pair, copies moving together.
    def canon(ei):
        if und:
            return torch.stack([ei.min(0).values, ei.max(0).values])
        return ei
    src_pairs = set(map(tuple, canon(data.edge_index[:, moved]).t().tolist()))
    dst_pairs = set(map(tuple, canon(new).t().tolist()))
    assert len(src_pairs) == len(dst_pairs)
    if ratio == 0.0:
        assert_same(out, data)
    again = t(data, generator=seed)
    assert_same(out, again)


@settings(max_examples=15)
@given(graphs_or_batches(ids=True), st.sampled_from([0.0, 0.3, 1.0]), st.integers(0, 2**31),
       st.sampled_from(["numba", "torch"]))
def test_degree_preserving_properties(data, ratio, seed, backend):
    snap = snapshot(data)
    batch = data.batch if isinstance(data, Batch) else None
    ptr = data.ptr if isinstance(data, Batch) else None
    n = data.num_nodes
    ei, done = F.double_edge_swap(data.edge_index, n, ratio, seed, batch=batch, ptr=ptr,
                                  backend=backend)
    out = data.clone()
    out.edge_index = ei
    assert_unchanged(data, snap)
    _check_common(out, data)
    # Every node keeps its in- and out-degree exactly.
    assert torch.equal(torch.bincount(ei[0], minlength=n), torch.bincount(data.edge_index[0],
                                                                        minlength=n))
    assert torch.equal(torch.bincount(ei[1], minlength=n), torch.bincount(data.edge_index[1],
                                                                        minlength=n))
    # No multi-edge made: a pair stored k > 1 times in the output was stored k times before.
    before, after = _multiplicity(data.edge_index), _multiplicity(ei)
    for pair, k in after.items():
        if k > 1:
            assert before[pair] == k, f"multi-edge {pair} created"
    if not is_undirected(data.edge_index):
        assert torch.equal(ei[0], data.edge_index[0]), "a directed edge changed its source"
    if ratio == 0.0:
        assert torch.equal(ei, data.edge_index) and done == 0
    again, _ = F.double_edge_swap(data.edge_index, n, ratio, seed, batch=batch, ptr=ptr,
                                  backend=backend)
    assert torch.equal(ei, again)


@settings(max_examples=12)
@given(graphs_or_batches(ids=True), st.sampled_from([0.3, 1.0]), st.integers(0, 2**31))
def test_degree_preserving_transform(data, ratio, seed):
    snap = snapshot(data)
    t = augkit.make("edge_rewiring", method="degree_preserving", ratio=ratio)
    out, params = t(data, generator=seed, return_params=True)
    assert_unchanged(data, snap)
    _check_common(out, data)
    assert_same(out, t.replay(data, params))


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_swap_attribute_rule_undirected(backend):
    # Few swaps on a large graph: every swapped pair keeps the endpoint it did not give away,
    # and both stored directions keep their own attribute rows.
    n = 2000
    ei = _random_undirected(n, 6000, seed=3)
    attr = torch.arange(ei.size(1))
    out, done = F.double_edge_swap(ei, n, 0.002, seed=11, backend=backend)
    changed = (out != ei).any(0)
    assert done > 0 and int(changed.sum()) == 4 * done  # two pairs, two directions each
    share = (out[0] == ei[0]) | (out[0] == ei[1]) | (out[1] == ei[0]) | (out[1] == ei[1])
    assert bool(share.all())
    data = Data(edge_index=ei, edge_attr=attr, num_nodes=n)
    res = augkit.make("edge_rewiring", method="degree_preserving", ratio=0.002)(data, generator=1)
    assert torch.equal(res.edge_attr, attr)


def test_swap_rule_directed_keeps_sources():
    n = 500
    g = torch.Generator().manual_seed(0)
    ei = torch.unique(torch.randint(0, n, (2, 3000), generator=g), dim=1)
    ei = ei[:, ei[0] != ei[1]]
    for backend in ("numba", "torch"):
        out, done = F.double_edge_swap(ei, n, 1.0, seed=5, undirected=False, backend=backend)
        assert done > 0.9 * (ei.size(1) // 2)
        assert torch.equal(out[0], ei[0])
        assert torch.equal(torch.sort(out[1]).values, torch.sort(ei[1]).values)


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_swap_count_matches_ratio(backend):
    n = 5000
    ei = _random_undirected(n, 20000, seed=1)
    pairs = ei.size(1) // 2
    for ratio in (0.1, 0.5, 1.0):
        _, done = F.double_edge_swap(ei, n, ratio, seed=2, backend=backend)
        assert done == int(ratio * pairs / 2 + 0.5)


def test_swaps_impossible_on_star_and_complete_graph():
    star = torch.tensor([[0, 0, 0, 1, 2, 3], [1, 2, 3, 0, 0, 0]])
    k4 = torch.tensor([(i, j) for i in range(4) for j in range(4) if i != j]).t()
    for ei, n in ((star, 4), (k4, 4)):
        for backend in ("numba", "torch"):
            out, done = F.double_edge_swap(ei, n, 1.0, seed=0, backend=backend)
            assert done == 0 and torch.equal(out, ei)


def test_random_rewired_share_matches_ratio():
    n = 20000
    ei = _random_undirected(n, 50000, seed=4)
    pairs = ei.size(1) // 2
    for ratio in (0.05, 0.3, 0.8):
        out, moved = F.rewire_random(ei, n, ratio, seed=7)
        k = int(moved.sum()) // 2  # both directions of a pair move together
        assert int((out != ei).any(0).sum()) == 2 * k
        assert binomtest(k, pairs, ratio).pvalue > ALPHA
        assert F.is_undirected_fast(out, n)


def test_random_rewiring_fills_a_dense_graph_exactly():
    # 6 nodes, 12 of 15 pairs present: only 3 free pairs, so at most 3 pairs can move, and
    # they must take exactly the free ones.
    n = 6
    all_pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    present = all_pairs[:12]
    ei = torch.tensor(present + [(b, a) for a, b in present]).t()
    out, moved = F.rewire_random(ei, n, 1.0, seed=0)
    got = {tuple(sorted(p)) for p in out.t().tolist()}
    assert int(moved.sum()) == 6
    assert len(got) == 12  # still 12 distinct pairs: nothing duplicated
    assert set(all_pairs[12:]) <= got


def test_random_rewiring_stays_inside_each_graph_of_a_batch():
    parts = [Data(edge_index=_random_undirected(30, 60, seed=s), num_nodes=30) for s in range(6)]
    batch = Batch.from_data_list(parts)
    out = augkit.make("edge_rewiring", method="random", ratio=0.9)(batch, generator=3)
    assert torch.equal(out.batch[out.edge_index[0]], out.batch[out.edge_index[1]])
    assert bool((out.edge_index != batch.edge_index).any())
    for before, after in zip(batch.to_data_list(), out.to_data_list(), strict=True):
        assert after.edge_index.size(1) == before.edge_index.size(1)


def test_empty_and_edgeless_graphs():
    for data in (Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=0),
                 Data(edge_index=torch.empty(2, 0, dtype=torch.long), num_nodes=5),
                 Data(edge_index=torch.tensor([[0], [0]]), num_nodes=1)):
        for method in ("random", "degree_preserving"):
            out = augkit.make("edge_rewiring", method=method, ratio=1.0)(data, generator=0)
            assert torch.equal(out.edge_index, data.edge_index)
            assert out.num_nodes == data.num_nodes


def test_rejects_non_graph_input():
    with pytest.raises(InputError, match="edge_rewiring"):
        augkit.make("edge_rewiring")(torch.zeros(3, 3), generator=0)


@cuda
@pytest.mark.cuda
@pytest.mark.parametrize("method", ["random", "degree_preserving"])
def test_cuda_matches_properties(method):
    n = 3000
    ei = _random_undirected(n, 10000, seed=0)
    data = Data(edge_index=ei, edge_attr=torch.arange(ei.size(1)), num_nodes=n).to("cuda")
    out = augkit.make("edge_rewiring", method=method, ratio=0.5)(data, generator=0)
    assert out.edge_index.is_cuda
    cpu = out.cpu()
    assert is_undirected(cpu.edge_index)
    assert not bool((cpu.edge_index[0] == cpu.edge_index[1]).any())
    if method == "degree_preserving":
        assert torch.equal(torch.bincount(cpu.edge_index[0], minlength=n),
                           torch.bincount(ei[0], minlength=n))
    else:
        # Counter-based draws: the same result as on the CPU.
        assert torch.equal(cpu.edge_index,
                           augkit.make("edge_rewiring", method=method, ratio=0.5)(
                               data.cpu(), generator=0).edge_index)


@settings(max_examples=25)
@given(graphs_or_batches(ids=True), st.integers(0, 2**31))
def test_numba_key_sort_equals_torch_sort(data, seed):
    """The CPU path finds the swap units by counting sorts and merges in numba (O(E + n)); the
    keys, the positions of keys stored once, the units and so the swaps must be what the torch
    path gives."""
    from augkit.plugins.graph.kernels import swaps as K

    ei, n = data.edge_index, data.num_nodes
    src, dst = ei[0].contiguous().numpy(), ei[1].contiguous().numpy()
    fk, fpos, rk, rpos = (torch.from_numpy(t) for t in K.sorted_pair_keys(src, dst, n))
    for got_k, got_p, (want_k, want_p) in ((fk, fpos, FS._direction_keys(ei, n)[:2]),
                                           (rk, rpos, FS._direction_keys(ei, n)[2:])):
        assert torch.equal(got_k, want_k)
        single = FS._single_mask(want_k)
        assert torch.equal(got_p[single], want_p[single])
        # Among a repeated key, the same set of positions.
        assert torch.equal(torch.sort(got_p).values, torch.sort(want_p).values)
    sk, spos = (torch.from_numpy(t) for t in K.sorted_keys_directed(src, dst, n))
    loops = ei[0] == ei[1]
    want = torch.sort(ei[0][~loops] * n + ei[1][~loops]).values
    assert torch.equal(sk, want) and torch.equal(ei[0][spos] * n + ei[1][spos], sk)
    batch = data.batch if isinstance(data, Batch) else None
    ptr = data.ptr if isinstance(data, Batch) else None
    for undirected in (None, False):
        new, done = F.double_edge_swap(ei, n, 0.5, seed, batch=batch, ptr=ptr,
                                       undirected=undirected, backend="numba")
        units = FS._units_numba(ei[0], ei[1], n, undirected)
        want = FS._units_torch(ei, n, undirected)
        assert units[4] == want[4]
        for got_t, want_t in zip(units[:4], want[:4], strict=True):
            assert (got_t is None and want_t is None) or torch.equal(got_t, want_t)
        with mock.patch.object(FS, "_units_numba",
                               lambda s, d, n, u: FS._units_torch(torch.stack([s, d]), n, u)):
            old, done_old = F.double_edge_swap(ei, n, 0.5, seed, batch=batch, ptr=ptr,
                                               undirected=undirected, backend="numba")
        assert torch.equal(new, old) and done == done_old


@settings(max_examples=25)
@given(graphs_or_batches(ids=True), st.sampled_from([0.2, 0.6, 1.0]), st.integers(0, 2**31))
def test_random_rewiring_numba_pairs_equal_torch_sort(data, ratio, seed):
    """On the CPU, random rewiring takes the direction and the set of pairs present from the
    counting-sort units instead of sorting the keys: the result must be the sorted path's
    exactly, also when writing its moves beside the units (as large graphs do), and after an
    in-place change."""
    ei, n = data.edge_index.clone(), data.num_nodes
    batch = data.batch if isinstance(data, Batch) else None
    ptr = data.ptr if isinstance(data, Batch) else None
    def pairs_present(ei):  # what the torch path sorts: the distinct non-loop keys
        src, dst = ei
        und = F.is_undirected_fast(ei, n)
        key = torch.minimum(src, dst) * n + torch.maximum(src, dst) if und else src * n + dst
        return und, torch.unique(key[src != dst])

    for walk in (1 << 62, 0):
        with mock.patch.object(FR, "_UNIT_WALK_EDGES", walk):
            got = F.rewire_random(ei, n, ratio, seed, batch=batch, ptr=ptr)
        want = F.rewire_random(ei, n, ratio, seed, batch=batch, ptr=ptr, backend="torch")
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])
        units = FS._units_numba(ei[0], ei[1], n, None)
        und, keys = pairs_present(ei)
        assert units[4] == und and torch.equal(units[0], keys)
    if ei.size(1) >= 2:  # make the graph directed in place
        ei[1, 0] = ei[0, 0]
        got = F.rewire_random(ei, n, ratio, seed, batch=batch, ptr=ptr)
        want = F.rewire_random(ei, n, ratio, seed, batch=batch, ptr=ptr, backend="torch")
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])


@pytest.mark.parametrize("seed", range(6))
def test_random_rewiring_numba_pairs_on_dense_graphs(seed):
    """Dense graphs deal out their free pairs by enumeration, so every pair present counts:
    the counting-sort pairs must give the sorted path's result there too."""
    ei = _random_undirected(12, 60, seed)
    for e in (ei, ei[:, : ei.size(1) // 2 + 3]):  # undirected, then directed
        got = F.rewire_random(e, 12, 1.0, seed)
        want = F.rewire_random(e, 12, 1.0, seed, backend="torch")
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])


@pytest.mark.parametrize("walk_units", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_random_rewiring_kernel_equals_torch_when_proposals_collide(monkeypatch, seed,
                                                                    walk_units):
    """Sparse graphs with little room, so that two moved pairs often propose the same new pair
    in one round: the CPU kernel (proposals in order) keeps the one the torch ops keep (the
    first of equal proposals), on one graph and on a Batch of three, directed and not, with
    pairs stored twice; its moves written by edge lookups or, as large graphs do, beside the
    swap units (``walk_units``)."""
    if walk_units:
        monkeypatch.setattr(FR, "_UNIT_WALK_EDGES", 0)
    base = _random_undirected(40, 36, seed)
    half = base[:, : base.size(1) // 2]  # one direction only: a directed graph
    ei = base
    if seed % 2:  # a pair stored twice in each direction, and a self-loop
        ei = torch.cat([base, base[:, :1], base[:, base.size(1) // 2:][:, :1],
                        torch.tensor([[3], [3]])], 1)
        half = torch.cat([half, half[:, :2]], 1)
    three = torch.cat([ei, ei + 40, ei + 80], 1)
    batch = torch.arange(3).repeat_interleave(40)
    ptr = torch.tensor([0, 40, 80, 120])
    for e, n, b, p in ((ei, 40, None, None), (three, 120, batch, ptr),
                       (half, 40, None, None)):
        got = F.rewire_random(e, n, 1.0, seed, batch=b, ptr=p)
        want = F.rewire_random(e, n, 1.0, seed, batch=b, ptr=p, backend="torch")
        assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])


def test_swap_kernel_hands_its_state_back_unchanged():
    """The swap kernel logs and undoes its writes to the unit rows and the pair table: both
    come back exactly as they went in, so two calls of one seed agree."""
    import numpy as np

    from augkit.plugins.graph.kernels import swaps as K

    ei = _random_undirected(300, 1500, seed=4)
    n = 300
    units = FS._units_numba(ei[0], ei[1], n, None)
    rows, table = FS._swap_state(ei, units, 2 * 300)
    before = rows.copy(), table.copy()
    first, k1 = F.double_edge_swap(ei, n, 0.7, 11, backend="numba")
    out = torch.empty_like(ei)
    done = np.zeros(1, dtype=np.int64)
    remaining = np.array([int(0.7 * units[1].numel() / 2 + 0.5)])
    K.swap_units(rows, units[3].numpy(), table, np.array([units[1].numel()]), remaining, n,
                 True, 11, done, out[0].numpy(), out[1].numpy())
    assert (rows == before[0]).all() and (table == before[1]).all()
    again, k2 = F.double_edge_swap(ei, n, 0.7, 11, backend="numba")
    assert torch.equal(first, again) and k1 == k2
