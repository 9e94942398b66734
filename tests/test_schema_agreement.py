"""The JSON Schema and the loader agree: both come from the registry's levels per transform
and the stage list, so a step the loader refuses in a stage the schema refuses there too."""

from __future__ import annotations

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from augkit import load_policy, registry
from augkit.compose import Container
from augkit.errors import PolicyError
from augkit.schema import policy_schema, stage_names
from augkit.transform import STAGES


def _loader_accepts_in(stage: str, name: str) -> bool:
    try:
        load_policy({stage: [name]})
    except PolicyError as exc:
        return "cannot stand in" not in str(exc)
    return True


@pytest.mark.parametrize("stage", STAGES)
def test_schema_stage_names_are_what_the_loader_accepts(stage):
    leaves = [n for n in registry.list_transforms()
              if not issubclass(registry.get(n), Container)]
    want = {n for n in leaves if _loader_accepts_in(stage, n)}
    assert {n for n in stage_names(stage) if n in leaves} == want
    defs = policy_schema()["$defs"][f"step_{stage}"]["anyOf"]
    named = {next(iter(d["properties"])) for d in defs[1:]}
    assert named & set(leaves) == want


def test_null_stage_is_valid_for_both():
    assert load_policy("sample:\n").sample == []
    schema = policy_schema()
    for stage in STAGES:
        assert "null" in schema["properties"][stage]["type"]
        assert schema["properties"][stage]["items"] == {"$ref": f"#/$defs/step_{stage}"}


def test_container_children_are_checked_against_their_stage():
    schema = policy_schema()["$defs"]["step_dataset"]["anyOf"]
    compose = next(d for d in schema[1:] if "compose" in d["properties"])
    body = compose["properties"]["compose"]["anyOf"][0]
    assert body["properties"]["transforms"]["items"] == {"$ref": "#/$defs/step_dataset"}


def _mixed_policies():
    """One step per stage, from every registered leaf: right and wrong stages mixed."""
    leaves = [n for n in registry.list_transforms()
              if not issubclass(registry.get(n), Container)]
    step = st.sampled_from(leaves)
    return st.dictionaries(st.sampled_from(STAGES), st.one_of(st.none(), st.lists(step,
                           max_size=1)), max_size=3)


def test_schema_and_loader_agree_on_generated_policies():
    validator = jsonschema.Draft202012Validator(policy_schema())

    @given(_mixed_policies())
    def check(policy):
        try:
            load_policy(policy)
            loader = True
        except PolicyError as exc:
            if "cannot stand in" not in str(exc):
                return  # a rule the schema does not state (data kinds, forms)
            loader = False
        assert validator.is_valid(policy) == loader, policy

    check()
