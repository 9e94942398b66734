"""feature_masking's GraphMAE options: ``return_mask`` (the mask as a node-/edge-level
attribute that collates) and ``fill: token``."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from torch_geometric.data import Batch, Data

import augkit
from augkit.errors import ParamError
from augkit.transform import Transform

from .graph_strategies import (
    assert_same,
    assert_unchanged,
    assert_valid,
    batches,
    graphs_or_batches,
    snapshot,
)

ALPHA = 1e-3
MODES = ("feature", "node", "element")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(data=graphs_or_batches(max_nodes=20, x=True, edge_attr=True),
       p=st.sampled_from([0.0, 0.4, 1.0]), mode=st.sampled_from(MODES),
       target=st.sampled_from(["x", "edge_attr"]), fill=st.sampled_from(["zero", "token"]),
       seed=st.integers(0, 2**31))
def test_mask_marks_exactly_the_masked_entries(data, p, mode, target, fill, seed):
    data = data.clone()
    data[target] = data[target].abs() + 1.0  # a zero marks a masked entry
    snap = snapshot(data)
    t = augkit.make("feature_masking", p=p, mode=mode, target=target, fill=fill,
                    return_mask=True, mask_key="m")
    out = t(data, generator=seed)
    assert_unchanged(data, snap)
    assert_valid(out)
    value, mask = out[target], out.m
    assert mask.dtype == torch.bool
    rows = value.size(0)
    if mode == "node":
        assert mask.shape == (rows,)
        mask = mask.view(rows, *([1] * (value.dim() - 1))).expand_as(value)
    else:
        assert mask.shape == value.shape
    assert torch.equal(mask, value == 0)
    assert torch.equal(value[~mask], data[target][~mask])
    if isinstance(out, Batch):  # collates: every graph keeps its own rows of the mask
        for part, whole in zip(out.to_data_list(), _split(out, target), strict=True):
            assert torch.equal(part.m, whole)


def _split(batch, target):
    rows = batch._slice_dict[target].tolist()
    return [batch.m[a:b] for a, b in zip(rows[:-1], rows[1:], strict=True)]


@pytest.mark.parametrize("mode", MODES)
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=batches(max_graphs=8, max_nodes=15, x=True), data=st.data())
def test_batch_stage_mask_equals_each_graph_alone(mode, batch, data):
    """apply_items: every graph's view and mask as apply gives them alone; a skipped graph
    keeps its features and gets an all-false mask, so the Batch collates."""
    t = augkit.make("feature_masking", p=0.5, mode=mode, return_mask=True)
    k = batch.num_graphs
    seeds = data.draw(st.lists(st.one_of(st.none(), st.integers(0, 2**62)), min_size=k,
                               max_size=k))
    params = [None if s is None else {"seed": s} for s in seeds]
    snap = snapshot(batch)
    got = t.apply_items(batch, params)
    assert_unchanged(batch, snap)
    assert_valid(got, graphs=k)
    for item, part, prm in zip(batch.to_data_list(), got.to_data_list(), params, strict=True):
        if prm is None:
            assert torch.equal(part.x, item.x)
            assert not bool(part.node_mask.any())
        else:
            assert_same(part, t.apply(item, prm))
    full = [{"seed": s if s is not None else 1} for s in seeds]
    assert_same(t.apply_items(batch, full), Transform.apply_items(t, batch, full))


def test_policy_batch_stage_returns_the_mask():
    g = Data(x=torch.ones(6, 3), edge_index=torch.tensor([[0, 1], [1, 2]]))
    policy = augkit.load_policy({"augkit": 1, "seed": 0, "batch": [
        {"feature_masking": {"p": 0.5, "mode": "node", "fill": "token",
                             "return_mask": True}}]})
    out = policy.apply_batch(Batch.from_data_list([g] * 5), indices=torch.arange(5), epoch=0)
    assert out.node_mask.shape == (30,)
    assert torch.equal(out.x[out.node_mask], torch.zeros(int(out.node_mask.sum()), 3))


def test_node_mask_rate():
    g = Data(x=torch.ones(4000, 2), num_nodes=4000)
    out = augkit.make("feature_masking", p=0.3, mode="node", return_mask=True)(g, generator=4)
    assert binomtest(int(out.node_mask.sum()), 4000, 0.3).pvalue > ALPHA


def test_token_fill_needs_the_mask():
    with pytest.raises(ParamError, match="needs return_mask"):
        augkit.make("feature_masking", fill="token")


def test_graphmae_example_trains():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, str(root / "examples" / "graphmae_pretrain.py"),
                           "--steps", "3", "--batch-size", "8"],
                          capture_output=True, text=True, cwd=root, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    losses = [float(line.split()[-1]) for line in proc.stdout.splitlines()
              if line.startswith("step")]
    assert len(losses) == 3 and all(loss > 0 for loss in losses)
