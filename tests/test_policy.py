"""Policies: YAML round trips, and a corpus of malformed policies that must each raise a
PolicyError with a line and a path, never a KeyError/TypeError/AttributeError."""

from __future__ import annotations

import textwrap

import pytest
import torch
from hypothesis import given

from augkit import Policy, load_policy
from augkit.errors import ParamError, PolicyError

GOOD = """\
augkit: 1
seed: 7
dataset:
  - toy.resample
sample:
  - toy.add_noise: {scale: 0.5}
  - one_of:
      weights: [1, 3]
      transforms:
        - toy.shift: {amount: [0.0, 2.0], mode: sub}
        - random_apply:
            p: 0.3
            transforms:
              - toy.add_noise: {scale: 2.0}
batch:
  - some_of:
      n: 1
      transforms:
        - toy.shift: null
        - toy.tag: {id: 3}
"""


def test_good_policy_loads_and_round_trips(toys):
    policy = load_policy(GOOD)
    assert [t.name for t in policy.sample] == ["toy.add_noise", "one_of"]
    assert policy.seed == 7
    again = load_policy(policy.to_yaml())
    assert again == policy
    assert again.to_dict() == policy.to_dict()


def test_policy_from_file_and_dict(toys, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(GOOD)
    assert load_policy(path) == load_policy(str(path)) == load_policy(load_policy(GOOD).to_dict())


def test_policy_runs_stages(toys):
    policy = load_policy(GOOD)
    x = torch.zeros(4)
    a = policy(x, index=3)
    assert torch.equal(a, policy(x, index=3))
    assert not torch.equal(a, policy(x, index=4))
    assert not torch.equal(a, policy(x, index=3, epoch=1))
    X, y = torch.ones(3, 2), torch.zeros(3)
    Xr, yr = policy.fit_resample(X, y)
    assert Xr.shape == (6, 2) and X.shape == (3, 2)


# (policy text, expected path in the message, expected line)
MALFORMED = [
    ("", "", 1),                                                    # empty file
    ("# only a comment\n", "", 1),                                  # empty after comments
    ("- a\n- b\n", "", 1),                                          # not a mapping
    ("just a string\n", "", 1),                                     # a scalar
    ("sample: [\n", "", None),                                      # YAML syntax error
    ("augkit: 2\n", "augkit", 1),                                   # wrong version
    ("augkit: 1\nseed: -1\n", "seed", 2),                           # negative seed
    ("seed: abc\n", "seed", 1),                                     # seed wrong type
    ("samples:\n  - toy.tag\n", "samples", 1),                      # unknown top key
    ("sample: toy.tag\n", "sample", 1),                             # stage not a list
    ("sample:\n  - toy.ad_noise: {scale: 1}\n", "sample[0].toy.ad_noise", 2),  # unknown name
    ("sample:\n  - toy.add_noise: {scale: 11}\n", "sample[0].toy.add_noise.scale", 2),
    ("sample:\n  - toy.add_noise: {scale: 'big'}\n", "sample[0].toy.add_noise.scale", 2),
    ("sample:\n  - toy.add_noise: {scale: true}\n", "sample[0].toy.add_noise.scale", 2),
    ("sample:\n  - toy.add_noise: {scal: 1}\n", "sample[0].toy.add_noise.scal", 2),
    ("sample:\n  - toy.add_noise: 5\n", "sample[0].toy.add_noise", 2),   # params not a map
    ("sample:\n  - toy.add_noise: {p: 1.5}\n", "sample[0].toy.add_noise.p", 2),
    ("sample:\n  - toy.shift: {amount: [2, 1]}\n", "sample[0].toy.shift.amount", 2),
    ("sample:\n  - toy.shift: {amount: [1, 2, 3]}\n", "sample[0].toy.shift.amount", 2),
    ("sample:\n  - toy.shift: {mode: mul}\n", "sample[0].toy.shift.mode", 2),
    ("sample:\n  - {toy.tag: null, toy.shift: null}\n", "sample[0]", 2),  # two names in one
    ("sample:\n  - 42\n", "sample[0]", 2),                          # a number as a step
    ("sample:\n  - [toy.tag]\n", "sample[0]", 2),                   # a list as a step
    ("sample:\n  - toy.resample\n", "sample[0].toy.resample", 2),   # wrong stage
    ("dataset:\n  - toy.add_noise\n", "dataset[0].toy.add_noise", 2),  # wrong stage
    ("sample:\n  - one_of: {transforms: toy.tag}\n", "sample[0].one_of.transforms", 2),
    ("sample:\n  - one_of: {transforms: []}\n", "sample[0].one_of.transforms", 2),
    ("sample:\n  - one_of: {weights: [1]}\n", "sample[0].one_of", 2),  # missing transforms
    (  # bad nesting, deep
        "sample:\n  - toy.tag\n  - one_of:\n      transforms:\n"
        "        - node_dropot: {p: 0.1}\n",
        "sample[1].one_of.transforms[0].node_dropot",
        5,
    ),
    (  # out of range, deep
        "sample:\n  - toy.tag\n  - one_of:\n      transforms:\n"
        "        - toy.add_noise: {scale: 1.5e3}\n",
        "sample[1].one_of.transforms[0].toy.add_noise.scale",
        5,
    ),
    ("sample:\n  - one_of:\n      transforms: [toy.tag]\n      weights: [1, 2]\n",
     "sample[0].one_of.weights", 4),                                # weights count
    ("sample:\n  - some_of: {n: 3, transforms: [toy.tag]}\n", "sample[0].some_of.n", 2),
    ("seed: 1\nseed: 2\n", "seed", 2),                              # duplicate top key
    ("sample:\n  - toy.add_noise: {scale: 1, scale: 2}\n", "sample[0].toy.add_noise.scale", 2),
    ("sample:\n  - !!python/object/apply:os.system ['echo hi']\n", "sample[0]", 2),
    ("seed: !!python/name:os.system\n", "seed", 1),
    ("x: &a [1, 2]\ny: *a\n", "", 1),                               # anchors refused
    ("a: &a [\"lol\",\"lol\"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b]\n", "", 1),
    ("sample:\n  - toy.tag\n---\nsample: []\n", "", 3),            # two documents
    ("seed: 2020-01-01\n", "seed", 1),                              # timestamp tag
    ("views: 0\n", "views", 1),
    ("sample:\n  - <<: {toy.tag: null}\n", "sample[0]", 2),         # merge key
]


@pytest.mark.parametrize("text,path,line", MALFORMED)
def test_malformed_policy_raises_policy_error(toys, text, path, line):
    with pytest.raises(PolicyError) as info:
        load_policy(text)
    err = info.value
    assert not isinstance(err, KeyError | TypeError | AttributeError)
    message = str(err)
    assert err.path == path, message
    if line is not None:
        assert err.line == line, message
        assert f"<string>:{line}" in message
    else:
        assert err.line is not None
    assert "allowed" in message or "invalid YAML" in message, message


def test_malformed_corpus_is_large_enough():
    assert len(MALFORMED) >= 25


def test_unknown_name_suggests_nearest(toys):
    with pytest.raises(PolicyError, match="did you mean 'toy.add_noise'"):
        load_policy("sample:\n  - toy.add_nose\n")


# (step as YAML, the same step's parameters in Python, where the YAML error points)
SAME_WORDS = [
    ("toy.add_noise: {scal: 1}", ("toy.add_noise", {"scal": 1}), "sample[0].toy.add_noise.scal"),
    ("toy.add_noise: {scale: 11}", ("toy.add_noise", {"scale": 11}),
     "sample[0].toy.add_noise.scale"),
    ("one_of: {weights: [1]}", ("one_of", {"weights": [1]}), "sample[0].one_of"),
]


@pytest.mark.parametrize("step,python,path", SAME_WORDS)
def test_yaml_and_python_parameter_errors_read_the_same(toys, step, python, path):
    """One validation path: the loader calls the constructor and places its ParamError."""
    import augkit

    name, params = python
    with pytest.raises(ParamError) as py:
        augkit.make(name, **params)
    with pytest.raises(PolicyError) as yml:
        load_policy(f"sample:\n  - {step}\n")
    assert yml.value.path == path and yml.value.line == 2
    assert yml.value.reason == py.value.reason
    assert str(py.value).endswith(py.value.reason) and str(py.value).startswith(name)
    # A given parameter is pointed at; a missing one at its step, the reason naming it.
    assert path.endswith(f".{py.value.param}") == (py.value.param in params)
    assert repr(py.value.param) in py.value.reason or path.endswith(py.value.param)


def test_file_error_names_file_and_line(toys, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent("""\
        augkit: 1
        sample:
          - toy.tag
          - one_of:
              transforms:
                - toy.add_noise: {scale: 99}
    """))
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}:6: sample[1].one_of.transforms[0].toy.add_noise.scale:")
    assert "got 99" in msg and "[0, 10]" in msg


def test_missing_file_is_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "nope.yaml")


# ---- hypothesis round trip over every registered transform -------------------------------


def test_round_trip_over_registered_transforms(toys):
    from .policy_strategies import policies

    @given(policies())
    def check(policy_dict):
        policy = Policy.from_dict(policy_dict)
        again = load_policy(policy.to_yaml())
        assert again == policy
        assert load_policy(again.to_yaml()).to_yaml() == policy.to_yaml()

    check()
