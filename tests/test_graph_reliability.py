"""Bad graph input gets an InputError before any kernel runs, on every call (no cached answer
to go stale), huge size parameters are ParamErrors, and the odd but valid inputs (float16,
NaN, non-contiguous tensors) give correct outputs. Repros that crashed the interpreter run
in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import torch
from torch_geometric.data import Batch, Data

import augkit
from augkit.errors import InputError, ParamError

from .graph_strategies import GRAPH_TRANSFORMS, assert_unchanged, assert_valid, snapshot

ALL_VARIANTS = [*GRAPH_TRANSFORMS, ("feature_masking", {"target": "edge_attr"}),
                ("feature_masking", {"fill": "mean"}),
                ("feature_masking", {"mode": "element", "fill": "normal"}),
                ("edge_dropout", {"undirected": True})]


def _run(code: str) -> dict:
    """Runs ``code`` in a fresh interpreter (a crash must not take the test run down) and
    returns the JSON it prints last."""
    proc = subprocess.run([sys.executable, "-W", "ignore", "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


_PRELUDE = f"VARIANTS = {ALL_VARIANTS!r}\n" + """
import json, torch, augkit
from torch_geometric.data import Batch, Data

def outcome(name, kw, data):
    try:
        augkit.make(name, p=1.0, **kw)(data, generator=0) if name == "feature_masking" \\
            else augkit.make(name, **kw)(data, generator=0)
    except augkit.AugkitError as e:
        return type(e).__name__
    except Exception as e:
        return "plain " + type(e).__name__ + ": " + str(e)[:80]
    return "ok"
"""


def test_malformed_batches_are_input_errors():
    """Out-of-range, unsorted or negative ``batch`` ids, a decreasing or short ``ptr``, a
    ``ptr`` of the wrong length, a Batch without ``ptr`` and more ``edge_attr`` rows than
    edges: an InputError from every transform (before the fix: segfaults, glibc aborts,
    garbage ids)."""
    got = _run(_PRELUDE + textwrap.dedent("""
    def base():
        graphs = []
        for n in (5, 4, 6):
            ei = torch.stack([torch.arange(n), (torch.arange(n) + 1) % n])
            ei = torch.cat([ei, ei.flip(0)], 1)
            graphs.append(Data(x=torch.randn(n, 3), edge_index=ei,
                               edge_attr=torch.randn(ei.size(1), 2)))
        return Batch.from_data_list(graphs)

    def bad(case):
        b = base()
        if case == "batch_past_graphs":
            b.batch = b.batch.clone(); b.batch[-1] = 7
        elif case == "batch_negative":
            b.batch = b.batch.clone(); b.batch[0] = -1
        elif case == "batch_unsorted":
            b.batch = b.batch.flip(0).contiguous()
        elif case == "ptr_decreasing":
            b.ptr = torch.tensor([0, 12, 4, 15])
        elif case == "ptr_short":
            b.ptr = torch.tensor([0, 5, 9, 13])
        elif case == "ptr_length":
            b.ptr = torch.tensor([0, 5, 15])
        elif case == "ptr_missing":
            del b.ptr
        elif case == "edge_attr_rows":
            b.edge_attr = torch.randn(b.edge_index.size(1) + 50, 2)
        return b

    cases = ["batch_past_graphs", "batch_negative", "batch_unsorted", "ptr_decreasing",
             "ptr_short", "ptr_length", "ptr_missing", "edge_attr_rows"]
    print(json.dumps({f"{c} {n} {kw}": outcome(n, kw, bad(c))
                      for c in cases for n, kw in VARIANTS}))
    """))
    wrong = {k: v for k, v in got.items() if v != "InputError"}
    assert not wrong


def test_writes_torch_does_not_see_are_checked_again():
    """A write through ``.numpy()`` does not bump a tensor's version: after one checked call
    an out-of-range id must still be an InputError (it segfaulted node_dropout), and
    degree-preserving rewiring must rewire the graph as it is now (it reused stale swap
    units: degrees changed)."""
    got = _run("""
    import json, torch, augkit
    from torch_geometric.data import Data
    g = torch.Generator().manual_seed(0)
    n = 4000
    ei = torch.randint(0, n, (2, 40000), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    data = Data(edge_index=ei.clone(), num_nodes=n)
    augkit.make("edge_dropout")(data, generator=0)
    data.edge_index.numpy()[0, 0] = 10**9
    try:
        augkit.make("node_dropout")(data, generator=0)
        ids = "ok"
    except augkit.InputError:
        ids = "InputError"

    data = Data(edge_index=ei.clone(), num_nodes=n)
    t = augkit.make("edge_rewiring", method="degree_preserving", ratio=0.5)
    t(data, generator=0)
    other = torch.randint(0, n, ei.shape, generator=g)
    other = torch.where(other[0] == other[1], (other + 1) % n, other)
    data.edge_index.numpy()[:] = other.numpy()
    out = t(data, generator=1).edge_index
    fresh = t(Data(edge_index=other.clone(), num_nodes=n), generator=1).edge_index
    deg = lambda e, r: torch.bincount(e[r], minlength=n)
    print(json.dumps({"ids": ids, "same_as_fresh": bool(torch.equal(out, fresh)),
                      "degrees": all(torch.equal(deg(out, r), deg(other, r)) for r in (0, 1))}))
    """)
    assert got == {"ids": "InputError", "same_as_fresh": True, "degrees": True}


@pytest.mark.parametrize(("name", "kw"), ALL_VARIANTS)
def test_inference_mode_on_large_graphs(name, kw):
    """Inference tensors have no version counter: every transform runs under
    ``torch.inference_mode()`` at 2**15 edges and more."""
    g = torch.Generator().manual_seed(1)
    n, e = 3000, 1 << 15
    with torch.inference_mode():
        ei = torch.randint(0, n, (2, e), generator=g)
        data = Data(x=torch.randn(n, 4, generator=g), edge_index=ei,
                    edge_attr=torch.randn(e, 2, generator=g))
        out = augkit.make(name, **kw)(data, generator=0)
        again = augkit.make(name, **kw)(data, generator=0)
    assert_valid(out)
    assert torch.equal(out.edge_index, again.edge_index)


@pytest.mark.parametrize(("name", "kw"), [
    ("subgraph_sampling", {"walk_length": 10**6}),
    ("subgraph_sampling", {"num_hops": 10**7}),
    ("subgraph_sampling", {"num_hops": 2**64}),
    ("node_dropout", {"min_nodes": 2**63}),
])
def test_huge_size_parameters_are_param_errors(name, kw):
    with pytest.raises(ParamError, match="allowed: an integer in"):
        augkit.make(name, **kw)


def _graph() -> Data:
    ei = torch.tensor([[0, 1, 1, 2, 3, 4, 4, 0], [1, 0, 2, 1, 4, 3, 0, 4]])
    return Data(x=torch.randn(6, 3, generator=torch.Generator().manual_seed(2)),
                edge_index=ei, edge_attr=torch.randn(8, 2))


@pytest.mark.parametrize("num_nodes", [5, 10])
@pytest.mark.parametrize(("name", "kw"), ALL_VARIANTS)
def test_num_nodes_disagreeing_with_x_is_an_input_error(name, kw, num_nodes):
    data = _graph()
    data.num_nodes = num_nodes
    with pytest.raises(InputError, match=f"x has 6 rows but the graph has {num_nodes} nodes"):
        augkit.make(name, **kw)(data, generator=0)


@pytest.mark.parametrize("fill", ["zero", "mean", "normal"])
def test_feature_masking_of_3d_x_is_an_input_error(fill):
    data = _graph()
    data.x = torch.randn(6, 2, 3)
    with pytest.raises(InputError, match=r"x has shape \(6, 2, 3\); allowed"):
        augkit.make("feature_masking", fill=fill)(data, generator=0)


def test_int32_edge_index_is_an_input_error():
    data = _graph()
    data.edge_index = data.edge_index.int()
    for name, kw in ALL_VARIANTS:
        with pytest.raises(InputError, match="dtype torch.int32; allowed: a LongTensor"):
            augkit.make(name, **kw)(data, generator=0)


@pytest.mark.parametrize("variant", ["noncontiguous", "float16", "bfloat16", "nan_inf", "int"])
@pytest.mark.parametrize(("name", "kw"), ALL_VARIANTS)
def test_odd_valid_inputs_give_correct_outputs(name, kw, variant):
    """Each gives what the plain contiguous float32 graph gives (in the same dtype), and
    leaves its input alone."""
    data = _graph()
    plain = data.clone()
    if variant == "noncontiguous":
        data.edge_index = data.edge_index.t().contiguous().t()
        data.x = data.x.t().contiguous().t()
    elif variant == "nan_inf":
        data.x[0, 0], data.x[2, 1] = float("nan"), float("inf")
    else:
        dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16, "int": torch.int64}
        data.x = (data.x * 4).to(dtype[variant])
    snap = snapshot(data)
    out = augkit.make(name, **kw)(data, generator=3)
    assert_unchanged(data, snap)
    assert_valid(out)
    assert out.x.dtype == data.x.dtype
    want = augkit.make(name, **kw)(plain, generator=3)
    assert torch.equal(out.edge_index, want.edge_index)
    assert out.x.shape == want.x.shape
    if variant == "noncontiguous":
        assert torch.equal(out.x, want.x)


def test_functional_batch_mismatch():
    from augkit.plugins.graph import functional as F

    ptr = torch.tensor([0, 2, 2, 5])
    for backend in ("torch", "numba"):
        assert F.batch_mismatch(torch.tensor([0, 0, 2, 2, 2]), ptr, backend=backend) == -1
        assert F.batch_mismatch(torch.tensor([0, 0, 2, 1, 2]), ptr, backend=backend) == 3
        assert F.batch_mismatch(torch.tensor([0, 9, 2, 2, 2]), ptr, backend=backend) == 1


def test_batch_error_names_the_attribute_and_value():
    b = Batch.from_data_list([_graph(), _graph()])
    b.batch = b.batch.clone()
    b.batch[3] = 5
    with pytest.raises(InputError, match=r"node_dropout: batch\[3\] is 5 but ptr puts node 3 "
                                         r"in graph 0; allowed: graph ids 0\.\.1"):
        augkit.make("node_dropout")(b, generator=0)
    b = Batch.from_data_list([_graph(), _graph()])
    b.ptr = torch.tensor([0, 8, 6])
    with pytest.raises(InputError, match="ptr runs from 0 to 6; allowed: node offsets from 0 "
                                         "to num_nodes=12"):
        augkit.make("node_dropout")(b, generator=0)


def test_swap_units_are_reused_only_while_the_edges_are_unchanged(monkeypatch):
    """The units of a large graph are found once per content of its edge_index: a second
    call on the same tensor reuses them; a write through ``.numpy()`` (no version bump)
    makes the next call find them again."""
    from augkit.plugins.graph.functional import swaps

    calls = []
    real = swaps._units_numba
    monkeypatch.setattr(swaps, "_units_numba", lambda *a: calls.append(1) or real(*a))
    g = torch.Generator().manual_seed(0)
    n = 4000
    ei = torch.randint(0, n, (2, swaps._CACHE_MIN_EDGES + 100), generator=g)
    ei = ei[:, ei[0] != ei[1]].contiguous()
    first, _ = swaps.double_edge_swap(ei, n, 0.3, seed=1)
    again, _ = swaps.double_edge_swap(ei, n, 0.3, seed=1)
    assert len(calls) == 1 and torch.equal(first, again)
    ei.numpy()[1, 0] = (int(ei[1, 0]) + 1) % n if int(ei[0, 0]) != (int(ei[1, 0]) + 1) % n \
        else (int(ei[1, 0]) + 2) % n
    changed, _ = swaps.double_edge_swap(ei, n, 0.3, seed=1)
    assert len(calls) == 2
    assert torch.equal(changed, swaps.double_edge_swap(ei.clone(), n, 0.3, seed=1)[0])
