"""feature_masking's ``return_mask`` and ``fill: token`` on HeteroData: each node (edge) type
holds its own mask under ``mask_key``, true exactly where its target was masked, drawn as the
homogeneous transform draws that type; it collates in a Batch of HeteroData, and the batch
stage gives a graph it skips all-false masks."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest
from torch_geometric.data import Batch, Data, HeteroData

import augkit
from augkit.plugins.graph import hetero

from .hetero_strategies import (
    assert_unchanged,
    assert_valid_hetero,
    hetero_batches,
    hetero_graphs,
    snapshot,
)

ALPHA = 1e-3
MODES = ("feature", "node", "element")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


def _positive(data, target):
    """A copy whose target is non-zero everywhere: a zero then marks a masked entry."""
    data = data.clone()
    keys = data.node_types if target == "x" else data.edge_types
    for key in keys:
        value = data[key].get(target)
        if value is not None:
            data[key][target] = value.abs() + 1.0
    return data, keys


def _expanded(mask, value, mode):
    if mode == "node":
        assert mask.shape == (value.size(0),)
        return mask.view(-1, *([1] * (value.dim() - 1))).expand_as(value)
    assert mask.shape == value.shape
    return mask


@SETTINGS
@given(data=st.one_of(hetero_graphs(), hetero_batches()), p=st.sampled_from([0.0, 0.4, 1.0]),
       mode=st.sampled_from(MODES), target=st.sampled_from(["x", "edge_attr"]),
       fill=st.sampled_from(["zero", "token"]), seed=st.integers(0, 2**31))
def test_each_type_holds_the_mask_of_its_masked_entries(data, p, mode, target, fill, seed):
    data, keys = _positive(data, target)
    snap = snapshot(data)
    t = augkit.make("feature_masking", p=p, mode=mode, target=target, fill=fill,
                    return_mask=True, mask_key="m")
    assert_valid_hetero(t(data, generator=seed))  # checks the input, draws a seed
    out = t.apply(data, {"seed": seed})
    assert_unchanged(data, snap)
    assert_valid_hetero(out)
    for key in keys:
        before = data[key].get(target)
        if before is None:
            assert "m" not in out[key]
            continue
        value, mask = out[key][target], out[key].m
        assert mask.dtype == torch.bool
        mask = _expanded(mask, value, mode)
        assert torch.equal(mask, value == 0)
        assert torch.equal(value[~mask], before[~mask])
        if p == 0.0:
            assert not mask.any()
    if isinstance(out, Batch):  # collates: every graph keeps its own rows of each mask
        for g, part in enumerate(out.to_data_list()):
            alone = t.apply(data.get_example(g), {"seed": hetero.derive_seed(
                seed, hetero.HETERO_BATCH_KEY, g)})
            for key in keys:
                if "m" in alone[key]:
                    assert torch.equal(part[key].m, alone[key].m)


@pytest.mark.parametrize("target", ["x", "edge_attr"])
@pytest.mark.parametrize("mode", MODES)
def test_one_type_mask_equals_the_homogeneous_mask(target, mode):
    g = torch.Generator().manual_seed(3)
    h = HeteroData()
    h["a"].x = torch.randn(40, 6, generator=g)
    h["a", "r", "a"].edge_index = torch.randint(0, 40, (2, 90), generator=g)
    h["a", "r", "a"].edge_attr = torch.randn(90, 5, generator=g)
    homo = Data(x=h["a"].x, edge_index=h["a", "r", "a"].edge_index,
                edge_attr=h["a", "r", "a"].edge_attr)
    t = augkit.make("feature_masking", p=0.4, mode=mode, target=target, fill="token",
                    return_mask=True)
    name, store = ("a", "a") if target == "x" else ("a__r__a", ("a", "r", "a"))
    for seed in (0, 11, 2**40):
        out = t.apply(h, {"seed": seed})
        want = t.apply(homo, {"seed": hetero.type_seed(seed, name)})
        assert torch.equal(out[store].node_mask, want.node_mask)
        assert torch.equal(out[store][target], want[target])


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=hetero_batches(), mode=st.sampled_from(MODES), seed=st.integers(0, 2**31))
def test_batch_stage_gives_skipped_graphs_all_false_masks(batch, mode, seed):
    step = {"feature_masking": {"p": 0.5, "mode": mode, "return_mask": True, "apply_p": 0.5}}
    out = augkit.Policy.from_dict({"seed": seed, "batch": [step]}).apply_batch(
        batch, indices=list(range(batch.num_graphs)))
    sample = augkit.Policy.from_dict({"seed": seed, "sample": [step]})
    for g, part in enumerate(out.to_data_list()):
        graph = batch.get_example(g)
        alone = sample(graph, index=g)
        for nt in graph.node_types:
            assert torch.equal(part[nt].x, alone[nt].x)
            if "node_mask" in alone[nt]:
                assert torch.equal(part[nt].node_mask, alone[nt].node_mask)
            else:  # skipped in the sample stage: the batch stage marks nothing
                assert not part[nt].node_mask.any()
                assert part[nt].node_mask.size(0) == graph[nt].num_nodes


def test_per_type_rates_of_the_masks():
    h = HeteroData()
    h["a"].x = torch.ones(3000, 2)
    h["b"].x = torch.ones(3000, 2)
    h["a", "r", "b"].edge_index = torch.zeros(2, 0, dtype=torch.long)
    t = augkit.make("feature_masking", p={"a": 0.2, "b": 0.7}, mode="node", return_mask=True)
    out = t(h, generator=5)
    assert binomtest(int(out["a"].node_mask.sum()), 3000, 0.2).pvalue > ALPHA
    assert binomtest(int(out["b"].node_mask.sum()), 3000, 0.7).pvalue > ALPHA


@pytest.mark.parametrize("kind", ["data", "hetero"])
def test_a_batch_stage_that_skips_every_graph_still_returns_the_masks(kind):
    if kind == "data":
        graphs = [Data(x=torch.ones(n, 3), edge_index=torch.zeros(2, 0, dtype=torch.long))
                  for n in (2, 5, 3)]
    else:
        graphs = []
        for n in (2, 5, 3):
            h = HeteroData()
            h["a"].x = torch.ones(n, 3)
            h["a", "r", "a"].edge_index = torch.zeros(2, 0, dtype=torch.long)
            graphs.append(h)
    batch = Batch.from_data_list(graphs)
    step = {"feature_masking": {"mode": "node", "return_mask": True, "apply_p": 0.0}}
    out = augkit.Policy.from_dict({"batch": [step]}).apply_batch(batch, indices=[0, 1, 2])
    mask = out.node_mask if kind == "data" else out["a"].node_mask
    assert mask.shape == (10,) and not mask.any()
    assert [int(m.sum()) for m in (g.node_mask if kind == "data" else g["a"].node_mask
                                   for g in out.to_data_list())] == [0, 0, 0]
