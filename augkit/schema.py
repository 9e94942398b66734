"""A JSON Schema of the policy format, generated from the registry (for editor completion:
point the YAML language server at the output of ``augkit schema``)."""

from __future__ import annotations

from typing import Any

from augkit import registry
from augkit.compose import Container
from augkit.params import REQUIRED
from augkit.transform import STAGES


def transform_schema(name: str) -> dict[str, Any]:
    cls = registry.get(name)
    props: dict[str, Any] = {}
    required = []
    for key, param in cls.declared_params().items():
        if not param.yaml:
            continue
        schema = dict(param.spec.json_schema())
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


def policy_schema() -> dict[str, Any]:
    """The whole policy format as JSON Schema (draft 2020-12)."""
    names = registry.list_transforms()
    steps = [transform_schema(n) for n in names]
    bare = [n for n in names if not any(
        p.default is REQUIRED for p in registry.get(n).declared_params().values())]
    stage = {"type": "array", "items": {"$ref": "#/$defs/step"}}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "augkit policy",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "augkit": {"const": 1, "description": "format version"},
            "seed": {"type": "integer", "minimum": 0},
            "views": {"type": "integer", "minimum": 1},
            **{name: stage for name in STAGES},
        },
        "$defs": {"step": {"anyOf": [{"enum": bare}, *steps]}},
    }
