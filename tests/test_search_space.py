"""Search spaces: parsing every distribution, nested step choices, checking every candidate
against the parameter's spec (errors with file:line and path), exact grid enumeration, the
content hash, and `augkit validate` / `augkit schema --space`."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit import load_policy
from augkit.cli import main
from augkit.errors import ParamError, PolicyError
from augkit.search.space import load_space, policy_hash, space_schema

SPACE = """\
augkit: 1
seed: 0
sample:
  - edge_dropout: {p: {uniform: [0.0, 0.4], step: 0.1}}
  - choice:
      - node_dropout: {p: {log_uniform: [0.01, 0.3]}, min_nodes: {int: [1, 3]}}
      - feature_masking: {p: {choice: [0.1, 0.2]}, mode: feature}
      - null
  - one_of:
      weights: [{int: [1, 3]}, 1]
      transforms:
        - edge_rewiring: {method: degree_preserving, ratio: 0.2}
        - subgraph_sampling: {method: random_walk, ratio: {uniform: [0.5, 1.0]}}
"""


def test_every_distribution_is_read_with_its_name_and_line():
    space = load_space(SPACE)
    got = {d.name: (d.kind, d.values, d.line) for d in space.dists}
    assert got == {
        "sample[0].edge_dropout.p": ("uniform", [0.0, 0.4], 4),
        "sample[1]": ("choice", got["sample[1]"][1], 5),
        "sample[1].choice[0].node_dropout.p": ("log_uniform", [0.01, 0.3], 6),
        "sample[1].choice[0].node_dropout.min_nodes": ("int", [1, 3], 6),
        "sample[1].choice[1].feature_masking.p": ("choice", [0.1, 0.2], 7),
        "sample[2].one_of.weights[0]": ("int", [1, 3], 10),
        "sample[2].one_of.transforms[1].subgraph_sampling.ratio": ("uniform", [0.5, 1.0], 13),
    }
    assert space.distribution("sample[1]").labels() == ["node_dropout", "feature_masking",
                                                        "none"]


def test_a_chosen_alternative_and_no_step_build_the_right_policy():
    space = load_space(SPACE)
    policy = space.policy({"sample[1]": "feature_masking",
                           "sample[1].choice[1].feature_masking.p": 0.2,
                           "sample[2].one_of.weights[0]": 3})
    names = [next(iter(s.to_dict())) for s in policy.sample]
    assert names == ["edge_dropout", "feature_masking", "one_of"]
    assert policy.sample[1].p == 0.2 and list(policy.sample[2].weights) == [3, 1]
    without = space.policy({"sample[1]": "none"})
    assert [next(iter(s.to_dict())) for s in without.sample] == ["edge_dropout", "one_of"]


def test_a_policy_is_a_space_of_one_point():
    text = open("examples/policies/graph.yaml").read()
    space = load_space(text)
    assert space.is_policy() and space.grid() == [{}]
    assert space.policy() == load_policy(text)


@pytest.mark.parametrize("bad, line, words", [
    ("  - edge_dropout: {p: {uniform: [0.0, 1.5]}}", 2, "candidate 1.5 of sample[0]"),
    ("  - edge_dropout: {p: {uniform: [0.5, 0.1]}}", 2, "low < high"),
    ("  - edge_dropout: {p: {log_uniform: [0.0, 0.5]}}", 2, "0 < low"),
    ("  - edge_dropout: {p: {int: [0.5, 1]}}", 2, "two integers"),
    ("  - edge_dropout: {p: {choice: []}}", 2, "non-empty list"),
    ("  - edge_dropout: {p: {choice: [0.1, 2]}}", 2, "candidate 2 of"),
    ("  - edge_dropout: {p: {uniform: [0.0, 0.5], step: 0.3}}", 2, "divides"),
    ("  - edge_dropout: {p: {uniform: [0.0, 0.5], seed: 1}}", 2, "beside uniform"),
    ("  - edge_dropout:\n      p: 0.1\n  - uniform: [0, 1]", 4, "in place of a step"),
    ("  - choice:\n      - edge_dropout: {p: 0.1}\n      - node_dropout: {p: 3}", 4,
     "candidate 'node_dropout'"),
    ("  - choice:\n      - node_dropout: {p: {uniform: [0.0, 2.0]}}", 3,
     "candidate 2.0 of sample[0].choice[0].node_dropout.p"),
    ("  - choice:\n      - null\n      - node_dropout: {p: {uniform: [0.0, 2.0]}}", 4,
     "candidate 2.0 of sample[0].choice[1].node_dropout.p"),
    ("  - one_of:\n      weights: [{uniform: [-1.0, 1.0]}, 1]\n      transforms: [node_dropout,"
     " edge_dropout]", 3, "candidate -1.0 of sample[0].one_of.weights[0]"),
])
def test_errors_name_the_file_line_path_and_what_is_allowed(tmp_path, bad, line, words):
    path = tmp_path / "space.yaml"
    path.write_text("sample:\n" + bad + "\n")
    with pytest.raises(PolicyError) as info:
        load_space(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}:"), message
    assert words in message and "allowed" in message


def test_a_distribution_in_seed_is_refused():
    with pytest.raises(PolicyError, match="seed: a distribution here is not allowed"):
        load_space("seed: {int: [0, 3]}\nsample: [node_dropout]\n")


def test_grid_enumeration_is_exact():
    space = load_space(SPACE.replace("{log_uniform: [0.01, 0.3]}", "{choice: [0.1, 0.2]}")
                       .replace("{uniform: [0.5, 1.0]}", "{uniform: [0.5, 1.0], step: 0.25}"))
    points = space.grid()
    # edge p: 5 values; step choice: node_dropout 2 x 3 + feature_masking 2 + none 1 = 9;
    # weights: 3; ratio: 3.
    assert len(points) == 5 * 9 * 3 * 3
    assert len({json.dumps(p, sort_keys=True) for p in points}) == len(points)
    assert sorted({p["sample[0].edge_dropout.p"] for p in points}) == [0.0, 0.1, 0.2, 0.3, 0.4]
    nones = [p for p in points if p["sample[1]"] == "none"]
    assert len(nones) == 5 * 3 * 3 and all(not any("choice" in k for k in p) for p in nones)
    for p in points[:40]:
        space.policy(p)  # every point builds


def test_grid_refuses_a_continuous_range():
    with pytest.raises(ParamError, match="uniform with a step"):
        load_space(SPACE).grid()


@settings(max_examples=30, deadline=None)
@given(low=st.floats(0, 1), width=st.floats(0.001, 1), seed=st.integers(0, 1000))
def test_values_inside_a_checked_range_always_build(low, width, seed):
    high = min(1.0, low + width)
    if high <= low:
        return
    space = load_space({"sample": [{"edge_dropout": {"p": {"uniform": [low, high]}}}]})
    import random

    value = random.Random(seed).uniform(low, high)
    assert space.policy({"sample[0].edge_dropout.p": value}).sample[0].p == value


def test_best_policy_yaml_round_trips_with_the_same_hash(tmp_path):
    space = load_space(SPACE)
    policy = space.policy({"sample[0].edge_dropout.p": 0.30000000000000004,
                           "sample[1]": "node_dropout",
                           "sample[1].choice[0].node_dropout.p": 0.0123456789})
    path = tmp_path / "best.yaml"
    policy.save(path)
    again = load_policy(path)
    assert again == policy and policy_hash(again) == policy_hash(policy)
    assert policy_hash(space.policy({"sample[1]": "none"})) != policy_hash(policy)


def test_the_user_data_is_not_modified():
    data = yaml.safe_load(SPACE)
    before = json.dumps(data, sort_keys=True)
    load_space(data).policy({"sample[1]": "none"})
    assert json.dumps(data, sort_keys=True) == before


def test_space_schema_accepts_the_example_spaces_and_refuses_a_bad_one():
    schema = space_schema()
    for name in ("imbalance", "graphs", "images"):
        jsonschema.validate(yaml.safe_load(open(f"examples/spaces/{name}.yaml")), schema)
    jsonschema.validate(yaml.safe_load(SPACE), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"sample": [{"edge_dropout": {"p": {"normal": [0, 1]}}}]}, schema)


def test_cli_validate_and_schema_cover_spaces(tmp_path, capsys):
    good = tmp_path / "good.yaml"
    good.write_text(SPACE)
    assert main(["validate", str(good), "examples/policies/graph.yaml"]) == 0
    out = capsys.readouterr().out
    assert "space of 7 distributions" in out and "graph.yaml: ok" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(SPACE.replace("[0.0, 0.4]", "[0.0, 1.4]"))
    assert main(["validate", str(bad)]) == 2
    assert f"{bad}:4: sample[0].edge_dropout.p" in capsys.readouterr().err
    assert main(["schema", "--space"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "augkit search space"
