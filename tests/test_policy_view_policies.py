"""Views with a policy each (``views: {policies: [...]}``, ``Policy(views=[[...], [...]])``):
view v draws from the streams of ``(seed, epoch, index, v)`` as ``views: n`` does, so a view
depends on its own steps only; the loader collates each view as ``views: n`` does; pretext
targets come back inside their view; ``augkit validate`` places every error."""

from __future__ import annotations

import jsonschema
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from augkit import Policy, load_policy, make
from augkit.cli import main
from augkit.data import AugmentedDataset
from augkit.errors import PolicyError
from augkit.schema import policy_schema
from augkit.search.space import load_space

from .graph_strategies import assert_same, graphs
from .loading_fixtures import graph_dataset
from .policy_strategies import tree

# Graph transforms that take any graph with x (the strategies below draw such graphs).
GRAPH_STEPS = ["edge_dropout", "node_dropout", "edge_adding", "node_shuffling",
               "feature_masking", "feature_dropout"]
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
view_steps = st.lists(tree(GRAPH_STEPS), max_size=2)
some_steps = st.lists(tree(GRAPH_STEPS), min_size=1, max_size=2)


def _run(policy: Policy, data, index: int, epoch: int = 0):
    try:
        return policy(data, index=index, epoch=epoch)
    except Exception as exc:  # a drawn step may refuse the drawn graph: both sides must
        return type(exc)


def _same(a, b) -> None:
    if isinstance(a, type) or isinstance(b, type):
        assert a is b
        return
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert_same(x, y)


# ---- streams ------------------------------------------------------------------------------


@SETTINGS
@given(steps=some_steps, n=st.integers(2, 3), graph=graphs(x=True, min_nodes=2, max_nodes=30),
       seed=st.integers(0, 2**32), index=st.integers(0, 10**6), epoch=st.integers(0, 5))
def test_equal_policies_give_what_views_n_gives(steps, n, graph, seed, index, epoch):
    per_view = load_policy({"seed": seed, "views": {"policies": [steps] * n}})
    shared = load_policy({"seed": seed, "views": n, "sample": steps})
    _same(_run(per_view, graph, index, epoch), _run(shared, graph, index, epoch))


@SETTINGS
@given(a=view_steps, b=view_steps, c=view_steps, graph=graphs(x=True, max_nodes=30),
       seed=st.integers(0, 2**32), index=st.integers(0, 10**6))
def test_a_view_depends_on_its_own_steps_only(a, b, c, graph, seed, index):
    ab = _run(load_policy({"seed": seed, "views": {"policies": [a, b]}}), graph, index)
    ac = _run(load_policy({"seed": seed, "views": {"policies": [a, c]}}), graph, index)
    cb = _run(load_policy({"seed": seed, "views": {"policies": [c, b]}}), graph, index)
    if isinstance(ab, type) or isinstance(ac, type) or isinstance(cb, type):
        return  # a drawn step refused the graph in some view
    assert_same(ab[0], ac[0])
    assert_same(ab[1], cb[1])


@SETTINGS
@given(a=view_steps, b=view_steps, seed=st.integers(0, 2**32), graph=graphs(x=True, max_nodes=30))
def test_round_trip_through_yaml_keeps_the_views(a, b, seed, graph):
    policy = load_policy({"seed": seed, "views": {"policies": [a, b]}})
    again = load_policy(policy.to_yaml())
    assert again == policy and again.views == 2 and len(again.view_policies) == 2
    _same(_run(again, graph, 7), _run(policy, graph, 7))


def test_python_api_matches_yaml():
    drop, mask = make("edge_dropout", p=0.4), make("feature_masking", p=0.5, mode="node",
                                                   return_mask=True, fill="token")
    policy = Policy(views=[[drop], [mask]], seed=5)
    text = load_policy("seed: 5\nviews:\n  policies:\n    - [{edge_dropout: {p: 0.4}}]\n"
                       "    - [{feature_masking: {p: 0.5, mode: node, return_mask: true, "
                       "fill: token}}]\n")
    assert policy == text
    graph = graph_dataset(1)[0]
    _same(policy(graph, index=3), text(graph, index=3))
    assert policy.transforms() == [drop, mask]


def test_an_empty_view_is_the_input_and_stage_runs_each_view():
    graph = graph_dataset(1)[0]
    policy = load_policy({"views": {"policies": [[], ["node_shuffling"]]}})
    first, second = policy(graph, index=0)
    assert first is graph and not torch.equal(second.x, graph.x)
    views = policy.stage("sample")(graph, generator=0)
    assert views[0] is graph and not torch.equal(views[1].x, graph.x)


# ---- distributions ------------------------------------------------------------------------


def test_each_view_draws_at_its_own_rate_independently_of_the_other():
    """feature_dropout zeroes each entry with its view's p; the two views' zeros are
    independent (a 2x2 table over every entry of every item)."""
    from torch_geometric.data import Data

    graph = Data(x=torch.ones(40, 8), edge_index=torch.zeros(2, 0, dtype=torch.long))
    policy = load_policy({"seed": 11, "views": {"policies": [
        [{"feature_dropout": {"p": 0.3}}], [{"feature_dropout": {"p": 0.6}}]]}})
    zeros = [[], []]
    for index in range(150):
        for v, view in enumerate(policy(graph, index=index)):
            zeros[v].append((view.x == 0).flatten())
    first, second = (torch.cat(z).numpy() for z in zeros)
    n = first.size
    for dropped, p in ((first, 0.3), (second, 0.6)):
        assert stats.binomtest(int(dropped.sum()), n, p).pvalue > 1e-3
    table = np.array([[np.sum(~first & ~second), np.sum(~first & second)],
                      [np.sum(first & ~second), np.sum(first & second)]])
    assert stats.chi2_contingency(table).pvalue > 1e-3


def test_pretext_targets_of_two_views_are_uniform_and_independent():
    policy = load_policy({"seed": 2, "views": {"policies": [["rotation_pretext"],
                                                            ["rotation_pretext"]]}})
    image = torch.rand(3, 6, 6)
    pairs = [policy(image, index=i) for i in range(800)]
    table = np.zeros((4, 4), dtype=np.int64)
    for (_, a), (_, b) in pairs:
        table[int(a), int(b)] += 1
    assert stats.chisquare(table.sum(1)).pvalue > 1e-3
    assert stats.chisquare(table.sum(0)).pvalue > 1e-3
    assert stats.chi2_contingency(table).pvalue > 1e-3


# ---- the loader ---------------------------------------------------------------------------


def test_graph_views_collate_as_batches_with_their_masks():
    from torch_geometric.data import Batch

    graphs_ = graph_dataset(8)
    policy = load_policy({"views": {"policies": [
        [{"feature_masking": {"p": 0.5, "mode": "node", "return_mask": True, "fill": "token"}}],
        [{"edge_dropout": {"p": 0.3}}]]}})
    data = AugmentedDataset(graphs_, policy)
    first, second = next(iter(data.loader(4)))
    assert isinstance(first, Batch) and isinstance(second, Batch)
    assert first.num_graphs == second.num_graphs == 4
    assert first.node_mask.dtype == torch.bool and first.node_mask.size(0) == first.num_nodes
    assert "node_mask" not in second
    items = [data[i] for i in range(4)]
    for v, got in enumerate((first, second)):
        want = Batch.from_data_list([item[v] for item in items])
        for key in want.keys():
            a, b = got[key], want[key]
            assert torch.equal(a, b) if isinstance(b, torch.Tensor) else a == b, key
    masked = first.x[first.node_mask]
    assert masked.numel() and not masked.any()  # token: zeros where the mask is true


def test_image_views_collate_as_tuples_with_their_targets():
    images = torch.rand(6, 3, 8, 8)
    dataset = [(images[i], i % 3) for i in range(6)]
    policy = load_policy({"views": {"policies": [["rotation_pretext"],
                                                 [{"patch_mask": {"patch": 4}}]]}})
    ((views0, angles), (views1, masks)), labels = next(iter(
        AugmentedDataset(dataset, policy).loader(3)))
    assert views0.shape == views1.shape == (3, 3, 8, 8)
    assert angles.dtype == torch.int64 and angles.shape == (3,)
    assert masks.dtype == torch.bool and masks.shape == (3, 4)
    assert labels.tolist() == [0, 1, 2]
    for i in range(3):
        (v0, a), (v1, m) = policy(images[i], index=i)
        assert torch.equal(v0, views0[i]) and int(a) == int(angles[i])
        assert torch.equal(v1, views1[i]) and torch.equal(m, masks[i])


# ---- validation ---------------------------------------------------------------------------

BAD = [
    ("views: {policies: []}\n", "views.policies", 1, "got 0 policies"),
    ("views: {n: 2}\n", "views.n", 1, "unknown key 'n'"),
    ("views: {}\n", "views", 1, "without policies"),
    ("views:\n  policies:\n    - [edge_dropout]\n    - 3\n", "views.policies[1]", 4,
     "got int 3; allowed: a list of transforms"),
    ("views:\n  policies:\n    - [edge_dropout]\n    - [gaussian_blur]\n",
     "views.policies[1][0].gaussian_blur", 4, "takes image data, but edge_dropout"),
    ("views:\n  policies:\n    - [edge_dropout]\n    -\n      - edge_dropout: {p: 2}\n",
     "views.policies[1][0].edge_dropout.p", 5, "got 2"),
    ("views:\n  policies:\n    - [edge_dropout]\nsample: [edge_dropout]\n", "sample", 4,
     "beside views.policies"),
    ("views:\n  policies:\n    - [smote]\n", "views.policies[0][0].smote", 3,
     "cannot stand in the sample stage"),
    ("views:\n  policies:\n    - - views: {transforms: [edge_dropout]}\n      - node_dropout\n",
     "views.policies[0][1].node_dropout", 4, "after views"),
]


@pytest.mark.parametrize(("text", "path", "line", "words"), BAD)
def test_errors_name_the_path_and_line(text, path, line, words):
    with pytest.raises(PolicyError) as info:
        load_policy(text)
    assert (info.value.path, info.value.line) == (path, line)
    assert words in str(info.value) and "allowed" in str(info.value)


def test_validate_prints_file_line_and_path(tmp_path, capsys):
    bad = tmp_path / "views.yaml"
    bad.write_text(BAD[5][0])
    good = tmp_path / "good.yaml"
    good.write_text("views:\n  policies:\n    - [edge_dropout]\n    - []\n")
    assert main(["validate", str(good)]) == 0
    assert main(["validate", str(bad)]) == 2
    assert f"{bad}:5: views.policies[1][0].edge_dropout.p: got 2" in capsys.readouterr().err


@pytest.mark.parametrize("views", [0, 1025, True, "2", [[1]], [], [[make("edge_dropout")]] * 1025])
def test_python_api_refuses_bad_views(views):
    with pytest.raises(PolicyError, match="allowed"):
        Policy(views=views)


def test_python_api_refuses_a_sample_stage_beside_view_policies():
    with pytest.raises(PolicyError, match="allowed: one of them"):
        Policy(sample=[make("edge_dropout")], views=[[make("node_dropout")]])


@pytest.mark.parametrize("text", [t for t, *_ in BAD[:4]] + [
    "views:\n  policies:\n    - [edge_dropout]\n    - []\n", "views: 2\n"])
def test_schema_agrees_with_the_loader(text):
    import yaml

    data = yaml.safe_load(text)
    try:
        load_policy(text)
        loads = True
    except PolicyError:
        loads = False
    assert jsonschema.Draft202012Validator(policy_schema()).is_valid(data) == loads


def test_a_search_space_may_vary_a_view_policy():
    space = load_space({"views": {"policies": [
        [{"edge_dropout": {"p": {"choice": [0.1, 0.4]}}}], []]}})
    points = space.grid()
    assert len(points) == 2
    policies = [space.policy(point) for point in points]
    assert [p.view_policies[0][0].get_params()["p"] for p in policies] == [0.1, 0.4]
