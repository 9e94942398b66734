"""feature_masking: masked entries hold the fill, the rest is untouched, columns are drawn per
graph on a Batch, rates match p, and the numba and torch kernels agree."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from torch_geometric.data import Batch, Data

import augkit
from augkit.plugins.graph import functional as F

from .graph_strategies import assert_unchanged, assert_valid, graphs_or_batches, snapshot

ALPHA = 1e-3
MODES = ("feature", "node", "element")
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _shifted(data):
    """x and edge_attr kept away from 0, so a zero marks a masked entry."""
    data = data.clone()
    if "x" in data:
        data.x = data.x.abs() + 1.0
    if "edge_attr" in data:
        data.edge_attr = data.edge_attr.abs() + 1.0
    return data


@settings(max_examples=40)
@given(graphs_or_batches(x=True, edge_attr=True), st.sampled_from([0.0, 0.3, 1.0]),
       st.sampled_from(MODES), st.sampled_from(["x", "edge_attr"]), st.integers(0, 2**31))
def test_masking_zero_fill_properties(data, p, mode, target, seed):
    data = _shifted(data)
    snap = snapshot(data)
    t = augkit.make("feature_masking", p=p, mode=mode, target=target)
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid(out)
    before, after = data[target], out[target]
    assert after.shape == before.shape and after.dtype == before.dtype
    masked = after == 0
    assert torch.equal(after[~masked], before[~masked])
    # Everything else is the input's.
    other = "edge_attr" if target == "x" else "x"
    assert torch.equal(out[other], data[other])
    assert torch.equal(out.edge_index, data.edge_index)
    if before.numel():
        if mode == "node":
            assert bool((masked.all(1) | ~masked.any(1)).all()), "rows masked partly"
        if mode == "feature":
            groups = (data.batch if target == "x" else data.batch[data.edge_index[0]]) \
                if isinstance(data, Batch) else torch.zeros(before.size(0), dtype=torch.long)
            for g in groups.unique():
                cols = masked[groups == g]
                assert bool((cols.all(0) | ~cols.any(0)).all()), "columns masked partly"
    if p == 0.0:
        assert torch.equal(after, before)
    if p == 1.0:
        assert bool(masked.all())
    assert torch.equal(after, t(data, generator=seed)[target])


def test_feature_mode_draws_columns_per_graph():
    graphs = [Data(x=torch.ones(5, 64), edge_index=torch.zeros(2, 0, dtype=torch.long))
              for _ in range(8)]
    batch = Batch.from_data_list(graphs)
    out = augkit.make("feature_masking", p=0.5)(batch, generator=0)
    masks = [(out.x[out.batch == g] == 0).all(0) for g in range(8)]
    assert len({tuple(m.tolist()) for m in masks}) > 1


def test_mean_and_normal_fill():
    g = torch.Generator().manual_seed(0)
    x1 = torch.randn(4000, 6, generator=g) * 3 + 10
    x2 = torch.randn(3000, 6, generator=g) * 0.5 - 4
    batch = Batch.from_data_list([Data(x=x1, num_nodes=4000), Data(x=x2, num_nodes=3000)])
    out, keep = F.mask_feature(batch.x, 1.0, 3, mode="element", fill="mean", group=batch.batch)
    assert torch.allclose(out[:4000], x1.mean(0).expand(4000, 6), atol=1e-4)
    assert torch.allclose(out[4000:], x2.mean(0).expand(3000, 6), atol=1e-4)
    out, _ = F.mask_feature(batch.x, 1.0, 3, mode="node", fill="normal", group=batch.batch)
    # Fresh draws with each graph's column mean and std, not copies of the input.
    assert not torch.equal(out, batch.x)
    for part, ref in ((out[:4000], x1), (out[4000:], x2)):
        assert torch.allclose(part.mean(0), ref.mean(0), atol=0.2)
        assert torch.allclose(part.std(0), ref.std(0), rtol=0.1)


@pytest.mark.parametrize("mode", MODES)
def test_masking_rates_match_p(mode):
    p = 0.3
    k = 40
    x = torch.ones(20000, k)
    group = torch.arange(20000) // 100  # 200 graphs: 200 * 40 column draws
    out, keep = F.mask_feature(x, p, 5, mode=mode, group=group, num_groups=200)
    total = keep.numel()
    assert binomtest(int((~keep).sum()), total, p).pvalue > ALPHA
    assert torch.equal(out == 0, ~keep.index_select(0, group).expand_as(x) if mode == "feature"
                       else ~keep.expand_as(x))


@settings(max_examples=30)
@given(graphs_or_batches(x=True), st.sampled_from(MODES), st.sampled_from(["zero", "mean"]),
       st.integers(0, 99))
def test_masking_numba_and_torch_agree(data, mode, fill, seed):
    group = data.batch if isinstance(data, Batch) else None
    k = data.num_graphs if isinstance(data, Batch) else 1
    a = F.mask_feature(data.x, 0.4, seed, mode=mode, fill=fill, group=group, num_groups=k)
    b = F.mask_feature(data.x, 0.4, seed, mode=mode, fill=fill, group=group, num_groups=k,
                       backend="torch")
    assert torch.equal(a[1], b[1])
    assert torch.equal(a[0], b[0])  # the same selection of the same values: bit for bit


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64,
                                   torch.int64, torch.uint8])
@pytest.mark.parametrize("mode", ["feature", "node"])
@pytest.mark.parametrize("fill", ["zero", "mean"])
@pytest.mark.parametrize("grouped", [False, True])
def test_bitwise_select_equals_where_bit_for_bit(dtype, mode, fill, grouped):
    """The CPU's bitwise select ((x & m) | (fill & ~m)) is torch.where exactly: NaN, -0.0 and
    infinities kept as they are, masked entries exactly the fill, for every dtype it takes."""
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(300, 7, generator=g) * 50).to(dtype)
    if dtype.is_floating_point:
        x[0, 0], x[1, 1], x[2, 2], x[3, 3] = float("nan"), -0.0, float("inf"), float("-inf")
        x[:, 4] = x[:, 4].nan_to_num()  # a column without NaN, so its mean is a number
    group = torch.arange(300) // 100 if grouped else None
    k = 3 if grouped else None
    before = x.clone()
    a, ka = F.mask_feature(x, 0.5, 11, mode=mode, fill=fill, group=group, num_groups=k)
    b, kb = F.mask_feature(x, 0.5, 11, mode=mode, fill=fill, group=group, num_groups=k,
                           backend="torch")
    assert torch.equal(ka, kb) and a.dtype == dtype and a.shape == x.shape
    bits = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[dtype.itemsize]
    assert torch.equal(a.view(bits), b.view(bits))
    assert torch.equal(x.view(bits), before.view(bits))
    full = ka.expand_as(x) if mode == "node" else (
        ka.index_select(0, group) if grouped else ka.expand_as(x))
    assert torch.equal(a.view(bits)[full], x.view(bits)[full])
    assert 0 < int(full.sum()) < x.numel()


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64, torch.int64])
@pytest.mark.parametrize(("mode", "layout"), [
    ("feature", "contiguous"), ("feature", "strided"), ("node", "contiguous"),
    ("node", "strided"), ("node", "batch")])  # per-graph columns take the numba pass
def test_large_zero_fill_select_equals_where_bit_for_bit(dtype, mode, layout):
    """From F.masking._TORCH_AND_MIN entries a zero fill without per-graph masks is one torch AND of
    the bits: the same output as torch.where, on strided x too, and for node mode on a Batch
    (its rows need no group ids)."""
    rows = F.masking._TORCH_AND_MIN // 6 + 7
    g = torch.Generator().manual_seed(3)
    x = (torch.randn(rows, 12, generator=g) * 50).to(dtype)
    if dtype.is_floating_point:
        x[0, 0], x[1, 1], x[2, 2], x[3, 3] = float("nan"), -0.0, float("inf"), float("-inf")
    x = x[:, ::2] if layout == "strided" else x[:, :7]
    group = num = None
    if layout == "batch":
        group, num = torch.arange(rows) * 3 // rows, 3
    assert x.numel() >= F.masking._TORCH_AND_MIN
    before = x.clone()
    a, ka = F.mask_feature(x, 0.3, 5, mode=mode, group=group, num_groups=num)
    b, kb = F.mask_feature(x, 0.3, 5, mode=mode, group=group, num_groups=num, backend="torch")
    bits = {2: torch.int16, 4: torch.int32, 8: torch.int64}[x.element_size()]
    assert torch.equal(ka, kb) and a.shape == x.shape and a.is_contiguous()
    assert torch.equal(a.view(bits), b.view(bits))
    assert torch.equal(x.view(bits), before.view(bits))
    kept = ka.expand_as(x)
    assert torch.equal(a.view(bits)[kept], x.view(bits)[kept])
    assert bool((a.view(bits)[~kept] == 0).all()) and 0 < int(kept.sum()) < x.numel()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.int64, torch.float16])
@pytest.mark.parametrize("groups", [None, 1, 4])
def test_group_stats_are_index_adds_in_row_order(dtype, groups):
    """The fill statistics (numba's pass on the CPU, column sums for one group elsewhere) are
    what index_add_ of the rows in order gives, bit for bit where the order is the same, and
    a group without rows has mean and std 0."""
    g = torch.Generator().manual_seed(4)
    x = (torch.randn(500, 6, generator=g) * 30).to(dtype)
    gid = None if groups is None else torch.randint(0, groups, (500,), generator=g)
    k = 1 if groups is None else groups + 1  # the last group has no rows
    mean, std = F.masking._group_stats(x, gid, k)
    rows = torch.zeros(500, dtype=torch.long) if gid is None else gid
    xd = x.double()
    cnt = torch.zeros(k, dtype=torch.float64).index_add_(
        0, rows, torch.ones(500, dtype=torch.float64)).clamp_(min=1).unsqueeze(1)
    want_mean = torch.zeros(k, 6, dtype=torch.float64).index_add_(0, rows, xd) / cnt
    sq = torch.zeros(k, 6, dtype=torch.float64).index_add_(0, rows, xd * xd)
    want_std = (sq / cnt - want_mean * want_mean).clamp_(min=0).sqrt_()
    exact = dtype != torch.float16  # float16 takes the torch ops: another summation order
    check = torch.equal if exact else (lambda a, b: torch.allclose(a, b, rtol=1e-12))
    assert check(mean, want_mean) and check(std, want_std)
    if groups:
        assert not mean[-1].any() and not std[-1].any()
        if exact:  # an id past the groups is an error, not a write past the sums
            with pytest.raises(ValueError, match="outside 0"):
                F.masking._group_stats(x, gid, groups - 1 if groups > 1 else 0)


def test_graph_without_target_and_other_dtypes():
    data = Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2)
    with pytest.raises(augkit.InputError, match="no tensor x"):
        augkit.make("feature_masking", p=0.5)(data, generator=0)
    # Integer and 1-d features go through the torch path with the same decisions.
    xi = torch.arange(1, 13).view(6, 2)
    a, ka = F.mask_feature(xi, 0.5, 1, mode="element")
    b, kb = F.mask_feature(xi.double(), 0.5, 1, mode="element")
    assert torch.equal(ka, kb) and torch.equal(a.double(), b)
    flat, _ = F.mask_feature(torch.ones(10), 1.0, 0, mode="node")
    assert flat.shape == (10,) and not flat.any()


@cuda
@pytest.mark.cuda
def test_cuda_matches_cpu():
    x = torch.randn(300, 8)
    batch = Batch.from_data_list([Data(x=x[:100], num_nodes=100), Data(x=x[100:], num_nodes=200)])
    for mode in MODES:
        t = augkit.make("feature_masking", p=0.3, mode=mode, fill="mean")
        assert torch.allclose(t(batch, generator=2).x, t(batch.cuda(), generator=2).x.cpu(),
                              atol=1e-5)


@pytest.mark.parametrize("mode", ["feature", "node"])
def test_masking_a_large_x_into_recycled_memory(mode):
    """From 8 MiB on the masked copy is written into augkit._memory's recycled buffers: the
    values of the plain broadcast, the input untouched, and a held result never reused."""
    from augkit.plugins.graph.functional import mask_feature

    x = torch.randn(600_000, 4, generator=torch.Generator().manual_seed(0))  # 9.6 MB
    before = x.clone()
    out, keep = mask_feature(x, 0.5, 3, mode=mode)
    again, _ = mask_feature(x, 0.5, 3, mode=mode)
    assert torch.equal(out, torch.where(keep, x, torch.zeros(()))) and torch.equal(out, again)
    assert out.data_ptr() != again.data_ptr() and torch.equal(x, before)
