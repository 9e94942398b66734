"""On a CUDA device every transform gives what it gives on the CPU for the same seed: the
outputs stay on the device, the input is left as it was, and the values are the CPU's bits
(the draws are counter-based, so they do not depend on the device). Where the device's maths
rounds differently (the normal fill's log and cos, convolutions, blends) the values agree to
float rounding. Skipped without a CUDA device; CI has none, the GPU check runs them."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import augkit

from .graph_strategies import assert_unchanged, assert_valid, graphs_or_batches, snapshot

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

GRAPH_TRANSFORMS = [
    ("edge_dropout", {"p": 0.3}),
    ("edge_dropout", {"p": 0.3, "undirected": False}),
    ("node_dropout", {"p": 0.3}),
    ("node_dropout", {"p": 0.9, "min_nodes": 2}),
    ("feature_masking", {"p": 0.4, "mode": "feature"}),
    ("feature_masking", {"p": 0.4, "mode": "node", "fill": "mean"}),
    ("feature_masking", {"p": 0.4, "mode": "element", "fill": "normal"}),
    ("edge_rewiring", {"method": "random", "ratio": 0.3}),
    ("subgraph_sampling", {"method": "khop", "ratio": 0.5}),
    ("subgraph_sampling", {"method": "random_walk", "ratio": 0.5}),
    ("subgraph_sampling", {"method": "random_node", "ratio": 0.5}),
]
# Float rounding of the device's maths, where a transform computes values rather than moving
# them: the normal fill (log, cos).
ROUNDED = {"normal"}


def _cpu(data: Any) -> Any:
    return data.to("cpu")


def _assert_close_graphs(got: Any, want: Any, rounded: bool) -> None:
    assert sorted(got.keys()) == sorted(want.keys())
    assert got.num_nodes == want.num_nodes
    for key, value in want:
        other = got[key]
        if not isinstance(value, torch.Tensor):
            assert other == value, key
        elif rounded and value.is_floating_point():
            torch.testing.assert_close(other, value, rtol=1e-5, atol=1e-5, msg=key)
        else:
            assert other.dtype == value.dtype and torch.equal(other, value), key


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=graphs_or_batches(max_nodes=40), which=st.sampled_from(GRAPH_TRANSFORMS),
       seed=st.integers(0, 2**31 - 1))
def test_graph_transforms_on_cuda_give_the_cpu_result(data, which, seed):
    name, kwargs = which
    if name == "feature_masking" and getattr(data, "x", None) is None:
        return
    t = augkit.make(name, **kwargs)
    want = t(data, generator=seed)
    on_device = data.to("cuda")
    before = snapshot(on_device)
    got = t(on_device, generator=seed)
    assert_unchanged(on_device, before)
    for _, value in got:
        if isinstance(value, torch.Tensor):
            assert value.is_cuda
    _assert_close_graphs(_cpu(got), want, kwargs.get("fill") in ROUNDED)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=graphs_or_batches(max_nodes=40, directed=False, self_loops=False,
                              duplicates=False), seed=st.integers(0, 2**31 - 1))
def test_degree_preserving_swaps_on_cuda_keep_the_invariants(data, seed):
    """The swaps run as rounds of disjoint swaps on the device (the CPU runs them one by one
    in numba): each degree, the edge count and the simple-graph property are kept."""
    t = augkit.make("edge_rewiring", method="degree_preserving", ratio=0.5)
    on_device = data.to("cuda")
    out = t(on_device, generator=seed)
    ei, got = data.edge_index, out.edge_index.cpu()
    n = data.num_nodes
    assert out.edge_index.is_cuda and got.shape == ei.shape
    for row in (0, 1):
        assert torch.equal(torch.bincount(got[row], minlength=n),
                           torch.bincount(ei[row], minlength=n))
    assert int((got[0] == got[1]).sum()) == 0
    assert len(set((got[0] * n + got[1]).tolist())) == got.size(1)
    assert_valid(_cpu(out))


def test_a_large_graph_on_cuda_gives_the_cpu_bits():
    """Past the size thresholds of the CPU kernels: one graph of 2e5 edges."""
    from torch_geometric.data import Data
    from torch_geometric.utils import to_undirected

    g = torch.Generator().manual_seed(0)
    ei = to_undirected(torch.randint(0, 20_000, (2, 100_000), generator=g), num_nodes=20_000)
    data = Data(x=torch.randn(20_000, 8, generator=g), edge_index=ei,
                edge_attr=torch.randn(ei.size(1), 3, generator=g), num_nodes=20_000)
    for name, kwargs in GRAPH_TRANSFORMS:
        t = augkit.make(name, **kwargs)
        _assert_close_graphs(_cpu(t(data.to("cuda"), generator=7)), t(data, generator=7),
                             kwargs.get("fill") in ROUNDED)


def test_the_readme_graph_policy_runs_as_a_batch_stage_on_cuda():
    """examples/policies/graph.yaml as a batch stage on a Batch on the device: the CPU's
    result (swaps excepted: their invariants), the output on the device."""
    from torch_geometric.data import Batch

    from augkit.benchmarks.suites.loader import make_graphs, readme_graph_policy

    policy = augkit.load_policy(readme_graph_policy("batch"))
    batch = Batch.from_data_list(make_graphs(128, 30, degree=8, features=16))
    for epoch in range(6):
        got = policy.apply_batch(batch.to("cuda"), indices=range(128), epoch=epoch)
        assert got.x.is_cuda and got.num_graphs == 128
        assert_valid(_cpu(got), graphs=128)


IMAGE_TRANSFORMS = [
    ("gaussian_blur", {}),
    ("random_erasing", {"value": "random", "count": 3}),
    ("random_erasing", {"value": "mean"}),
    ("mixup", {"alpha": 0.4, "num_classes": 10}),
    ("cutmix", {"alpha": 1.0, "num_classes": 10}),
]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(which=st.sampled_from(IMAGE_TRANSFORMS), n=st.integers(1, 6), side=st.integers(8, 40),
       dtype=st.sampled_from([torch.float32, torch.uint8]), seed=st.integers(0, 2**31 - 1))
def test_image_transforms_on_cuda_give_the_cpu_result(which, n, side, dtype, seed):
    name, kwargs = which
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, 3, side, side), generator=g, dtype=torch.uint8)
    x = x.float() / 255 if dtype.is_floating_point else x
    labels = torch.randint(0, 10, (n,), generator=g)
    t = augkit.make(name, **kwargs)
    mixing = name in ("mixup", "cutmix")
    if mixing and not dtype.is_floating_point:
        x = x.float() / 255
    args = (x, labels) if mixing else (x,)
    want = t(*args, generator=seed)
    on_device = [a.to("cuda") for a in args]
    before = [a.clone() for a in on_device]
    got = t(*on_device, generator=seed)
    for a, b in zip(on_device, before, strict=True):
        assert torch.equal(a, b)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    for w, o in zip(want, got, strict=True):
        assert o.is_cuda and o.dtype == w.dtype and o.shape == w.shape
        if w.is_floating_point():
            torch.testing.assert_close(o.cpu(), w, rtol=1e-5, atol=1e-5)
        else:  # uint8 blur may round a value the other way
            assert (o.cpu().int() - w.int()).abs().max() <= 1


@pytest.mark.parametrize("name", ["smote", "adasyn"])
def test_oversamplers_keep_cuda_tensors_on_the_device(name):
    import numpy as np

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [300, 60, 30])
    X = rng.standard_normal((y.size, 6)) + y[:, None]
    Xc, yc = torch.tensor(X, device="cuda"), torch.tensor(y, device="cuda")
    X_res, y_res = augkit.make(name, random_state=0).fit_resample(Xc, yc)
    assert X_res.is_cuda and y_res.is_cuda
    want_X, want_y = augkit.make(name, random_state=0).fit_resample(X, y)
    assert torch.equal(y_res.cpu(), torch.from_numpy(want_y))
    torch.testing.assert_close(X_res.cpu(), torch.from_numpy(want_X), rtol=1e-9, atol=1e-9)
