"""Check a result document against ``results.schema.json``.

A small validator for the part of JSON Schema (2020-12) that the schema uses: ``type``,
``const``, ``enum``, ``required``, ``properties``, ``additionalProperties``, ``items``,
``minItems``/``maxItems``, ``minLength``, ``minimum``/``exclusiveMinimum``, ``anyOf`` and local
``$ref``. Written here rather than adding ``jsonschema`` as a dependency for one test; a
keyword it does not know raises, so the schema cannot silently outgrow it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("results.schema.json")

_ANNOTATIONS = {"$schema", "$id", "title", "description", "$defs"}
_KNOWN = _ANNOTATIONS | {
    "type", "const", "enum", "required", "properties", "additionalProperties", "items",
    "minItems", "maxItems", "minLength", "minimum", "exclusiveMinimum", "anyOf", "$ref",
}


def load_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def _is_type(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    raise ValueError(f"schema: unknown type {name!r}")


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"schema: only local $ref are supported, got {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def _check(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str,
           errors: list[str]) -> None:
    unknown = set(schema) - _KNOWN
    if unknown:
        raise ValueError(f"schema at {path or '$'}: unsupported keywords {sorted(unknown)}")
    where = path or "$"
    if "$ref" in schema:
        _check(value, _resolve(schema["$ref"], root), root, path, errors)
    if "anyOf" in schema:
        branches = []
        for sub in schema["anyOf"]:
            found: list[str] = []
            _check(value, sub, root, path, found)
            if not found:
                break
            branches.append("; ".join(found))
        else:
            errors.append(f"{where}: matches no alternative ({' | '.join(branches)})")
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, n) for n in names):
            errors.append(f"{where}: got {type(value).__name__} {value!r:.60}; "
                          f"allowed: {' or '.join(names)}")
            return
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: got {value!r}; allowed: {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: got {value!r}; allowed: one of {schema['enum']}")
    if _is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: got {value}; allowed: >= {schema['minimum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append(f"{where}: got {value}; allowed: > {schema['exclusiveMinimum']}")
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        errors.append(f"{where}: got {value!r}; allowed: at least {schema['minLength']} chars")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{where}: {len(value)} items; allowed: >= {schema['minItems']}")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(f"{where}: {len(value)} items; allowed: <= {schema['maxItems']}")
        if "items" in schema:
            for i, item in enumerate(value):
                _check(item, schema["items"], root, f"{path}[{i}]", errors)
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                errors.append(f"{where}: missing required key {key!r}")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            sub_path = f"{path}.{key}" if path else key
            if key in props:
                _check(item, props[key], root, sub_path, errors)
            elif extra is False:
                errors.append(f"{where}: unexpected key {key!r}")
            elif isinstance(extra, dict):
                _check(item, extra, root, sub_path, errors)


def validate(doc: Any, schema: dict[str, Any] | None = None) -> list[str]:
    """Every violation of the schema, as ``path: what is wrong``; empty when valid."""
    schema = schema if schema is not None else load_schema()
    errors: list[str] = []
    _check(doc, schema, schema, "", errors)
    return errors
