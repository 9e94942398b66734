"""The graph plugin's backend seam: every transform gives the same bits with the numba kernels
and with the torch ops (what CUDA runs), checked end to end on the CPU under
``numba_disabled()``; the ``backend`` argument means the same everywhere."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from unittest import mock

import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.datasets import FakeDataset, KarateClub
from torch_geometric.utils import to_undirected

import augkit
from augkit.plugins.graph import _backend
from augkit.plugins.graph import functional as F

from .graph_strategies import assert_same

pytest.importorskip("numba")

_KERNEL_MODULES = ("adding", "common", "dropout", "feature_dropout", "masking", "rewiring",
                   "sampling", "shuffling", "swaps")


@contextlib.contextmanager
def _torch_only() -> Iterator[None]:
    """``numba_disabled()``, with every kernel made to fail if it were still called."""
    import importlib

    from numba.core.registry import CPUDispatcher

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a numba kernel ran under numba_disabled()")

    with contextlib.ExitStack() as stack:
        for name in _KERNEL_MODULES:
            module = importlib.import_module(f"augkit.plugins.graph.kernels.{name}")
            for attr, value in vars(module).items():
                if isinstance(value, CPUDispatcher):
                    stack.enter_context(mock.patch.object(module, attr, refuse))
        stack.enter_context(F.numba_disabled())
        yield


def _random_undirected(n: int, e: int, seed: int, x_dtype: torch.dtype) -> Data:
    g = torch.Generator().manual_seed(seed)
    ei = to_undirected(torch.randint(0, n, (2, e), generator=g), num_nodes=n)
    x = torch.randn(n, 16, generator=g) * 10
    x = x.to(x_dtype) if x_dtype.is_floating_point else x.round().to(x_dtype)
    return Data(x=x, edge_index=ei, edge_attr=torch.randn(ei.size(1), 3, generator=g),
                num_nodes=n)


def _graphs() -> dict[str, Data]:
    torch.manual_seed(0)
    fake = FakeDataset(num_graphs=5, avg_num_nodes=25, num_channels=8, edge_dim=3)
    karate = KarateClub()[0]
    return {
        "karate": karate,
        "karate_int": Data(x=(karate.x * 7).long(), edge_index=karate.edge_index),
        "fake_batch": Batch.from_data_list([fake[i] for i in range(len(fake))]),
        # 10k x 16 features: past the numba wrapper's size thresholds (select, torch AND).
        "random_float": _random_undirected(10_000, 30_000, 1, torch.float32),
        "random_int": _random_undirected(3_000, 9_000, 2, torch.int64),
        "random_double": _random_undirected(1_500, 4_000, 3, torch.float64),
    }


GRAPHS = _graphs()

TRANSFORMS = [
    ("edge_dropout", {"p": 0.3}),
    ("edge_dropout", {"p": 0.3, "undirected": False}),
    ("node_dropout", {"p": 0.3}),
    ("node_dropout", {"p": 0.9, "min_nodes": 3}),
    *[("feature_masking", {"p": 0.4, "mode": mode, "fill": fill})
      for mode in F.MASK_MODES for fill in F.FILL_MODES],
    ("feature_masking", {"p": 0.4, "mode": "feature", "fill": "mean", "target": "edge_attr"}),
    ("edge_rewiring", {"method": "random", "ratio": 0.3}),
    ("edge_rewiring", {"method": "random", "ratio": 1.0}),
    *[("subgraph_sampling", {"method": method, "ratio": 0.4})
      for method in F.SAMPLING_METHODS],
    *[("edge_adding", {"p": 0.3, "undirected": und, "self_loops": loops})
      for und in ("auto", False) for loops in (False, True)],
    ("edge_adding", {"p": 0.5, "duplicates": True}),
    ("node_shuffling", {}),
    ("feature_dropout", {"p": 0.3}),
]


@pytest.mark.parametrize("graph", list(GRAPHS))
@pytest.mark.parametrize(("name", "kwargs"), TRANSFORMS,
                         ids=[f"{n}-{'-'.join(map(str, k.values()))}" for n, k in TRANSFORMS])
def test_numba_and_torch_paths_give_the_same_bits(graph, name, kwargs):
    """The transform with the numba kernels and again with numba disabled (the torch ops,
    what CUDA runs; no kernel may run): bit-identical outputs, for a few seeds. The one
    documented exception is the normal fill's draws on float64 features, equal up to the
    rounding of libm's log and cos against torch's (float32 rounds that away)."""
    data = GRAPHS[graph]
    target = kwargs.get("target", "x")
    if name == "feature_masking" and getattr(data, target, None) is None:
        pytest.skip(f"no {target}")
    if name == "feature_dropout" and not data[target].is_floating_point():
        pytest.skip("feature_dropout takes floating features only")
    t = augkit.make(name, **kwargs)
    rounding = kwargs.get("fill") == "normal" and data[target].dtype == torch.float64
    for seed in (0, 1, 12345):
        got = t(data, generator=seed)
        with _torch_only():
            want = t(data, generator=seed)
        if rounding:
            assert torch.allclose(got[target], want[target], rtol=1e-12, atol=1e-12)
            assert not torch.equal(got[target], data[target])
            got[target] = want[target]
        assert_same(got, want)


@pytest.mark.parametrize("graph", list(GRAPHS))
def test_degree_preserving_torch_path_keeps_the_invariants(graph):
    """``double_edge_swap`` is the exception: numba runs swaps one after another (like
    networkx) and the torch ops run rounds of disjoint swaps, so their results differ by
    design. The torch path (under ``numba_disabled()``) must keep every degree, create no
    self-loop and no repeated pair, and keep the edge count."""
    data = GRAPHS[graph]
    t = augkit.make("edge_rewiring", method="degree_preserving", ratio=0.5)
    ei = data.edge_index
    n = data.num_nodes
    with _torch_only():
        out = t(data, generator=3).edge_index
    assert out.shape == ei.shape and not torch.equal(out, ei)
    for row in (0, 1):
        assert torch.equal(torch.bincount(out[row], minlength=n),
                           torch.bincount(ei[row], minlength=n))
    assert int((out[0] == out[1]).sum()) == int((ei[0] == ei[1]).sum())
    pairs = (out[0] * n + out[1]).tolist()
    before = (ei[0] * n + ei[1]).tolist()
    assert len(set(pairs)) == len(set(before))


def test_backend_argument_means_the_same_everywhere():
    ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    x = torch.randn(3, 2)
    calls = [
        lambda b: F.dropout_edge(ei, 0.5, 0, backend=b),
        lambda b: F.dropout_node(ei, 0.5, 0, backend=b),
        lambda b: F.is_symmetric(ei, backend=b),
        lambda b: F.mask_feature(x, 0.5, 0, backend=b),
        lambda b: F.rewire_random(ei, 3, 0.5, 0, backend=b),
        lambda b: F.double_edge_swap(ei, 3, 0.5, 0, backend=b),
        lambda b: F.sample_subgraph_nodes(ei, 3, "khop", 0.5, 0, backend=b),
        lambda b: F.random_walk_steps(*F.csr(ei, 3), torch.tensor([0]), 2, 0, backend=b),
        lambda b: F.node_id_range(ei, backend=b),
        lambda b: F.relabel_mask(torch.tensor([True, False]), backend=b),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="allowed: 'auto', 'torch', 'numba'"):
            call("fast")
        for backend in F.BACKENDS:
            call(backend)
        with mock.patch.object(_backend, "HAVE_NUMBA", False), \
                pytest.raises(ValueError, match="needs numba"):
            call("numba")
    meta = torch.zeros(2, 3, dtype=torch.long, device="meta")
    with pytest.raises(ValueError, match="CPU tensors only"):
        F.dropout_edge(meta, 0.5, 0, backend="numba")
    assert not _backend.use_numba("auto", meta) and _backend.use_numba("auto", ei)
    with F.numba_disabled():
        assert not _backend.use_numba("auto", ei) and _backend.use_numba("numba", ei)
    assert _backend.use_numba("auto", ei)


def test_swap_generator_is_splitmix64_on_the_shared_mix():
    """The swap kernel's generator steps splitmix64 in int64 and mixes through the one
    compiled spelling of augkit._counter: the same bits as the Python-int splitmix64."""
    import numpy as np

    from augkit import _counter
    from augkit.plugins.graph.kernels import swaps

    for s in (0, 1, -1, 2**63 - 1, -(2**63), 0x123456789ABCDEF, -987654321):
        state, u = swaps._next(np.int64(s))
        want_state = (s + _counter.GOLDEN) & _counter.M64
        assert int(state) & _counter.M64 == want_state
        assert u == (_counter.mix64(want_state) >> 11) * 2.0**-53


def test_compiled_mix_is_cached_on_disk(tmp_path):
    """kernels.common compiles augkit._counter.mix64_u64 with cache=True: a second process
    loads it from numba's cache instead of compiling it again."""
    import subprocess
    import sys

    code = ("import numpy as np; from augkit import _counter; "
            "from augkit.plugins.graph.kernels import common as c; "
            "assert int(c.mix64(np.uint64(5))) == _counter.mix64(5); "
            "print(sum(c.mix64.stats.cache_hits.values()))")
    env = {**__import__("os").environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, check=True).stdout.split()[-1] for _ in range(2)]
    assert runs == ["0", "1"]
