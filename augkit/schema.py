"""A JSON Schema of the policy format, generated from the registry (for editor completion:
point the YAML language server at the output of ``augkit schema``).

Generated from the same sources the loader checks: the registry's levels per transform (through
``stage_allows``), the stage list ``STAGES`` and the limits on ``seed`` and ``views``; each stage
has its own step definition, so a transform in a stage it cannot stand in fails both."""

from __future__ import annotations

from typing import Any

from augkit import registry
from augkit._policy_checks import stage_allows
from augkit._policy_yaml import MAX_SEED
from augkit.compose import MAX_VIEWS, Container
from augkit.params import REQUIRED
from augkit.transform import STAGES


def _step_ref(stage: str | None) -> str:
    return "#/$defs/step" if stage is None else f"#/$defs/step_{stage}"


def transform_schema(name: str, stage: str | None = None) -> dict[str, Any]:
    """The schema of one step ``{name: {params}}``; a container's children are steps of
    ``stage`` (any step when ``stage`` is None)."""
    cls = registry.get(name)
    props: dict[str, Any] = {}
    required = []
    for key, param in cls.declared_params().items():
        if not param.yaml:
            continue
        schema = dict(param.spec.json_schema())
        if key == "transforms" and issubclass(cls, Container):
            schema["items"] = {"$ref": _step_ref(stage)}
        if param.doc:
            schema["description"] = param.doc
        if param.default is not REQUIRED and param.default is not None:
            default = param.default
            schema["default"] = list(default) if isinstance(default, tuple) else default
        if param.default is REQUIRED:
            required.append(key)
        props[key] = schema
    if not issubclass(cls, Container):
        props["fitted_state"] = {"type": "object", "description": "statistics saved by a fit"}
    body: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        body["required"] = required
    doc = (cls.__doc__ or "").strip().splitlines()
    step = {
        "type": "object",
        "properties": {name: {"anyOf": [body, {"type": "null"}] if not required else [body]}},
        "required": [name],
        "additionalProperties": False,
    }
    if doc:
        step["description"] = doc[0]
    return step


def stage_names(stage: str | None) -> list[str]:
    """The registered names that may stand in ``stage`` (every name when None)."""
    names = registry.list_transforms()
    return [n for n in names if stage is None or stage_allows(registry.get(n), stage)]


def _steps(stage: str | None) -> dict[str, Any]:
    names = stage_names(stage)
    bare = [n for n in names if not any(
        p.default is REQUIRED for p in registry.get(n).declared_params().values())]
    return {"anyOf": [{"enum": bare}, *(transform_schema(n, stage) for n in names)]}


def policy_schema() -> dict[str, Any]:
    """The whole policy format as JSON Schema (draft 2020-12)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "augkit policy",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "augkit": {"const": 1, "description": "format version"},
            "seed": {"type": "integer", "minimum": 0, "maximum": MAX_SEED},
            "views": {"anyOf": [
                {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_VIEWS},
                {"type": "object", "additionalProperties": False, "required": ["policies"],
                 "properties": {"policies": {
                     "type": "array", "minItems": 1, "maxItems": MAX_VIEWS,
                     "description": "the steps of each view (its own sample stage)",
                     "items": {"type": ["array", "null"], "items": {"$ref": _step_ref("sample")}},
                 }}},
            ]},
            **{name: {"type": ["array", "null"], "items": {"$ref": _step_ref(name)}}
               for name in STAGES},
        },
        "$defs": {"step": _steps(None), **{f"step_{s}": _steps(s) for s in STAGES}},
    }
