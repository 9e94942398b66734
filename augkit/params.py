"""Declared parameter schemas: validation with clear messages, and JSON Schema for editors.

A transform declares ``params = {"name": Param(spec, default, doc)}``. Each spec checks and
normalises a value (``spec.check(value)`` returns the value to store or raises ``ValueError``
whose text says what is allowed), describes itself in words (``allowed()``) and as JSON Schema
(``json_schema()``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from augkit.errors import ParamError, clip, did_you_mean


class Spec:
    """A kind of value a parameter accepts."""

    def check(self, value: Any) -> Any:
        raise NotImplementedError  # each concrete spec overrides it

    def allowed(self) -> str:
        raise NotImplementedError  # each concrete spec overrides it

    def json_schema(self) -> dict:
        return {}

    def fail(self, value: Any) -> ValueError:
        return ValueError(f"got {_short_repr(value)}; allowed: {self.allowed()}")


def _short_repr(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters (a 400-digit int stays one readable line)."""
    return clip(repr(value), limit)


def _is_number(value: Any) -> bool:
    """A Python or numpy integer or float; booleans (Python's and numpy's) are not numbers."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _plain_number(value: Any) -> Any:
    """numpy scalars -> the equal Python int or float (so a stored parameter dumps as YAML)."""
    return value.item() if isinstance(value, np.integer | np.floating) else value


def _fmt(x: float) -> str:
    return repr(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


@dataclass(frozen=True)
class Number(Spec):
    """A finite real number in [low, high] (either bound open with ``low_open``/``high_open``);
    ``allow_inf`` also accepts the infinities the bounds admit. numpy scalars are accepted and
    stored as Python numbers."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    allow_inf: bool = False

    def check(self, value: Any) -> Any:
        if not _is_number(value):
            raise self.fail(value)
        value = _plain_number(value)
        if self.integer:
            if isinstance(value, float):
                if not value.is_integer():  # NaN and the infinities included
                    raise self.fail(value)
                value = int(value)
        else:
            try:
                value = float(value)
            except OverflowError:  # an int beyond the float range
                raise self.fail(value) from None
            if math.isnan(value):
                raise self.fail(value)
            if math.isinf(value) and not self.allow_inf:
                raise ValueError(f"got {_short_repr(value)}; allowed: {self.allowed()}, finite")
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            raise self.fail(value)
        if self.high is not None and (
            value > self.high or (self.high_open and value == self.high)
        ):
            raise self.fail(value)
        return value

    def allowed(self) -> str:
        what = "an integer" if self.integer else "a number"
        if self.low is not None and self.high is not None:
            lb = "(" if self.low_open else "["
            hb = ")" if self.high_open else "]"
            return f"{what} in {lb}{_fmt(self.low)}, {_fmt(self.high)}{hb}"
        if self.low is not None:
            return f"{what} {'>' if self.low_open else '>='} {_fmt(self.low)}"
        if self.high is not None:
            return f"{what} {'<' if self.high_open else '<='} {_fmt(self.high)}"
        return what

    def json_schema(self) -> dict:
        out: dict[str, Any] = {"type": "integer" if self.integer else "number"}
        if self.low is not None:
            out["exclusiveMinimum" if self.low_open else "minimum"] = self.low
        if self.high is not None:
            out["exclusiveMaximum" if self.high_open else "maximum"] = self.high
        return out


def Integer(low: int | None = None, high: int | None = None) -> Number:
    """An integer in [low, high]."""
    return Number(low, high, integer=True)


def Probability() -> Number:
    return Number(0.0, 1.0)


@dataclass(frozen=True)
class Boolean(Spec):
    def check(self, value: Any) -> Any:
        if not isinstance(value, bool):
            raise self.fail(value)
        return value

    def allowed(self) -> str:
        return "true or false"

    def json_schema(self) -> dict:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Choice(Spec):
    """One of a fixed set of values (strings, booleans or numbers)."""

    options: tuple

    def __init__(self, *options: Any) -> None:
        object.__setattr__(self, "options", tuple(options))

    def check(self, value: Any) -> Any:
        value = _plain_number(value)
        for option in self.options:
            # 1 == True in Python: compare types too, so `true` never passes for `1`.
            if type(option) is type(value) and option == value:
                return value
        raise self.fail(value)

    def allowed(self) -> str:
        return "one of " + ", ".join(_yaml_repr(o) for o in self.options)

    def json_schema(self) -> dict:
        return {"enum": list(self.options)}


def _yaml_repr(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


@dataclass(frozen=True)
class Interval(Spec):
    """A pair [lo, hi] with lo <= hi inside the bounds of ``item``; a scalar x means [x, x]
    when ``allow_scalar``. Stored as a tuple."""

    item: Number = field(default_factory=Number)
    allow_scalar: bool = True

    def check(self, value: Any) -> Any:
        if _is_number(value) and self.allow_scalar:
            v = self.item.check(value)
            return (v, v)
        if isinstance(value, list | tuple) and len(value) == 2:
            try:
                lo, hi = self.item.check(value[0]), self.item.check(value[1])
            except ValueError:
                raise self.fail(value) from None
            if lo > hi:
                raise self.fail(value)
            return (lo, hi)
        raise self.fail(value)

    def allowed(self) -> str:
        pair = f"a pair [lo, hi] with lo <= hi, each {self.item.allowed()}"
        return f"{self.item.allowed()}, or {pair}" if self.allow_scalar else pair

    def json_schema(self) -> dict:
        pair = {"type": "array", "items": self.item.json_schema(), "minItems": 2, "maxItems": 2}
        if self.allow_scalar:
            return {"oneOf": [self.item.json_schema(), pair]}
        return pair


@dataclass(frozen=True)
class ListOf(Spec):
    item: Spec
    min_len: int = 0
    max_len: int | None = None

    def check(self, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise self.fail(value)
        if len(value) < self.min_len or (self.max_len is not None and len(value) > self.max_len):
            raise self.fail(value)
        out = []
        for v in value:
            try:
                out.append(self.item.check(v))
            except ValueError:
                raise self.fail(value) from None
        return tuple(out)

    def allowed(self) -> str:
        n = f" of {self.min_len} or more" if self.min_len else ""
        if self.max_len is not None:
            n = f" of {self.min_len} to {self.max_len}"
        return f"a list{n} (each {self.item.allowed()})"

    def json_schema(self) -> dict:
        out = {"type": "array", "items": self.item.json_schema(), "minItems": self.min_len}
        if self.max_len is not None:
            out["maxItems"] = self.max_len
        return out


@dataclass(frozen=True)
class AnyOf(Spec):
    """The first spec that accepts the value wins."""

    specs: tuple

    def __init__(self, *specs: Spec) -> None:
        object.__setattr__(self, "specs", tuple(specs))

    def check(self, value: Any) -> Any:
        for spec in self.specs:
            try:
                return spec.check(value)
            except ValueError:
                continue
        raise self.fail(value)

    def allowed(self) -> str:
        return ", or ".join(s.allowed() for s in self.specs)

    def json_schema(self) -> dict:
        return {"anyOf": [s.json_schema() for s in self.specs]}


@dataclass(frozen=True)
class Nullable(Spec):
    spec: Spec

    def check(self, value: Any) -> Any:
        return None if value is None else self.spec.check(value)

    def allowed(self) -> str:
        return f"null, or {self.spec.allowed()}"

    def json_schema(self) -> dict:
        return {"anyOf": [{"type": "null"}, self.spec.json_schema()]}


@dataclass(frozen=True)
class Text(Spec):
    """Any string (e.g. an attribute name)."""

    def check(self, value: Any) -> Any:
        if not isinstance(value, str) or not value:
            raise self.fail(value)
        return value

    def allowed(self) -> str:
        return "a non-empty string"

    def json_schema(self) -> dict:
        return {"type": "string", "minLength": 1}


@dataclass(frozen=True)
class Mapping(Spec):
    """A mapping whose keys and values are checked by ``key`` and ``value``."""

    key: Spec = field(default_factory=Text)
    value: Spec = field(default_factory=Number)

    def check(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise self.fail(value)
        try:
            return {self.key.check(k): self.value.check(v) for k, v in value.items()}
        except ValueError:
            raise self.fail(value) from None

    def allowed(self) -> str:
        return f"a mapping of {self.key.allowed()} to {self.value.allowed()}"

    def json_schema(self) -> dict:
        return {"type": "object", "additionalProperties": self.value.json_schema()}


@dataclass(frozen=True)
class Custom(Spec):
    """A check written as a function (for values YAML cannot hold, e.g. callables in Python);
    ``schema`` is what the JSON Schema says."""

    func: Callable[[Any], Any]
    description: str
    schema: dict = field(default_factory=dict)

    def check(self, value: Any) -> Any:
        try:
            return self.func(value)
        except (TypeError, ValueError, OverflowError):
            raise self.fail(value) from None

    def allowed(self) -> str:
        return self.description

    def json_schema(self) -> dict:
        return dict(self.schema)


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: Default of a parameter that must be given.
REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Param:
    """One declared parameter: its spec, default and one line of documentation."""

    spec: Spec
    default: Any = None
    doc: str = ""
    # Parameters that only make sense in Python (a callable, an array) are left out of YAML.
    yaml: bool = True


def check_params(
    declared: dict[str, Param], given: dict[str, Any], owner: str
) -> dict[str, Any]:
    """Validate ``given`` against ``declared``; return every parameter with defaults filled in.

    Raises ``ParamError`` naming the transform, the parameter, the value and what is allowed.
    """
    unknown = [k for k in given if k not in declared]
    if unknown:
        name = unknown[0]
        reason = (f"unknown parameter {name!r}{did_you_mean(name, declared)}; allowed "
                  f"parameters: {', '.join(declared) or 'none'}")
        raise ParamError(f"{owner}: {reason}", param=name, value=given[name], reason=reason)
    out: dict[str, Any] = {}
    for key, param in declared.items():
        if key in given:
            try:
                out[key] = param.spec.check(given[key])
            except ValueError as exc:
                raise ParamError(f"{owner}.{key}: {exc}", param=key, value=given[key],
                                 reason=str(exc)) from None
        elif param.default is REQUIRED:
            reason = f"missing required parameter {key!r}; allowed: {param.spec.allowed()}"
            raise ParamError(f"{owner}: {reason}", param=key, reason=reason)
        else:
            out[key] = param.default
    return out


def describe(declared: dict[str, Param]) -> list[dict[str, Any]]:
    """A list of {name, default, allowed, doc} rows, for `augkit show` and docs."""
    return [
        {"name": k, "default": p.default, "allowed": p.spec.allowed(), "doc": p.doc}
        for k, p in declared.items()
    ]
