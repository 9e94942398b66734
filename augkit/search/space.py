"""A search space: a policy file in which values may be distributions.

Any parameter value (or an item of a list value, such as a container's ``weights``) may be::

    {uniform: [a, b]}            a float in [a, b]; {uniform: [a, b], step: s} a float on a grid
    {log_uniform: [a, b]}        a float in [a, b], drawn on a log scale (0 < a)
    {int: [a, b]}                an integer in [a, b]
    {choice: [v1, v2, ...]}      one of the values

and a step may be ``{choice: [step1, step2, ..., null]}`` (``null``: no step), whose
alternatives may hold distributions of their own. Checking a space builds the policy once for
every candidate value of every distribution (both ends of a range, every value of a choice)
with the loader's own checks, so each candidate must be allowed by the parameter's spec; an
error names the file, the line, the path in the space and the candidate.

Each distribution is named by its path in the space (``sample[1].one_of.weights[0]``,
``dataset[0].choice[1].smote.k_neighbors``): the names of the study's parameters.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from augkit._policy_yaml import Limits, Located, decode, join, parse_yaml
from augkit.errors import ParamError, PolicyError, clip
from augkit.policy import Policy, _Builder, _is_path, _read
from augkit.transform import STAGES

KINDS = ("uniform", "log_uniform", "int", "choice")
_NUMBER = (int, float)


@dataclass(eq=False)
class Dist:
    """One distribution of a space, at ``name`` (its path in the space)."""

    kind: str
    values: list[Any]  # [low, high] for ranges; the choices for a choice
    name: str
    line: int | None
    step: float | None = None
    is_step: bool = False  # a choice among steps
    alternatives: list[Any] = field(default_factory=list)  # resolved trees of a step choice

    def labels(self) -> list[Any]:
        """The values Optuna sees for a choice: plain values as they are, others as text."""
        if self.is_step:
            names = [_step_label(v) for v in self.values]
            return [n if names.count(n) == 1 else f"{n}#{i}" for i, n in enumerate(names)]
        if all(v is None or isinstance(v, bool | int | float | str) for v in self.values):
            return list(self.values)
        return [json.dumps(v, sort_keys=True) for v in self.values]

    def candidates(self) -> list[Any]:
        """The values validation builds: both ends of a range, every label of a choice."""
        return self.labels() if self.kind == "choice" else list(self.values)

    def grid(self) -> list[Any]:
        """Every value a grid search visits (a finite distribution only)."""
        if self.kind == "choice":
            return self.labels()
        low, high = self.values
        if self.kind == "int":
            return list(range(low, high + 1))
        if self.kind == "uniform" and self.step is not None:
            count = int(round((high - low) / self.step))
            return [_tidy(low + i * self.step) for i in range(count + 1)]
        raise ParamError(
            f"{self.name}: grid search got {{{self.kind}: {self.values}}}; allowed: finite "
            "distributions only (int, choice, or uniform with a step: {uniform: [a, b], "
            "step: s})", param=self.name)

    def value_of(self, label: Any) -> Any:
        """The value in the policy for what Optuna suggested (a choice's label -> value)."""
        if self.kind != "choice":
            return label
        labels = self.labels()
        if label not in labels:
            raise ParamError(f"{self.name}: got {clip(repr(label))}; allowed: one of "
                             f"{clip(repr(labels))}", param=self.name)
        return labels.index(label)


def _tidy(x: float) -> float:
    return float(f"{x:.12g}")


def _step_label(step: Any) -> str:
    if step is None:
        return "none"
    if isinstance(step, str):
        return step
    if isinstance(step, dict) and len(step) == 1:
        return str(next(iter(step)))
    return "step"


Chooser = Callable[[Dist], Any]


class Space:
    """A parsed and checked search space. ``policy(params)`` builds the concrete policy for
    a set of chosen values; ``suggest(trial)`` asks an Optuna trial for them."""

    def __init__(self, located: Located, text: str | None = None) -> None:
        self.located = located
        self.source = located.source
        self.text = text if text is not None else yaml.safe_dump(located.value, sort_keys=False)
        self.dists: list[Dist] = []
        self.tree = _Reader(self).top(located.value)
        self.check()

    # -- what the space holds --

    def is_policy(self) -> bool:
        """True when the space has no distribution: it is a plain policy."""
        return not self.dists

    def distribution(self, name: str) -> Dist:
        for d in self.dists:
            if d.name == name:
                return d
        raise ParamError(f"got parameter {clip(repr(name))}; allowed: "
                         f"{', '.join(d.name for d in self.dists) or 'none'}", param=name)

    @property
    def hash(self) -> str:
        """A content hash of the space's canonical form (a stored study checks it on resume)."""
        return _digest(self.located.value)

    # -- concrete policies --

    def resolve(self, choose: Chooser) -> tuple[Any, dict[str, int]]:
        """The plain policy data for the values ``choose`` gives each active distribution,
        with the line of every path (for the loader's errors)."""
        lines: dict[str, int] = {}
        return _resolve(self.tree, choose, "", "", lines, self.located), lines

    def build(self, choose: Chooser) -> Policy:
        data, lines = self.resolve(choose)
        return _Builder(Located(data, lines, self.source)).policy()

    def policy(self, params: dict[str, Any] | None = None) -> Policy:
        """The policy for ``params`` (name -> the value Optuna records, as in
        ``trial.params``); a distribution left out takes its first candidate."""
        params = params or {}
        unknown = set(params) - {d.name for d in self.dists}
        if unknown:
            self.distribution(sorted(unknown)[0])  # raises, naming what is allowed
        return self.build(lambda d: params[d.name] if d.name in params else d.candidates()[0])

    def suggest(self, trial: Any) -> Policy:
        """The policy for the values an Optuna trial suggests."""
        return self.build(lambda d: _suggest(trial, d))

    def grid(self) -> list[dict[str, Any]]:
        """Every point of a finite space, each the active distributions' values (a step
        choice's alternatives bring their own distributions only where chosen)."""
        return [dict(p) for p in _points(self.tree)]

    # -- checking --

    def check(self) -> None:
        """Build the policy for every candidate of every distribution (the others at their
        first candidate); the first one the loader refuses raises a PolicyError."""
        if not self.dists:
            self.build(lambda d: d.candidates()[0])
        for dist in self.dists:
            for candidate in dist.candidates():
                forced = _forcing(dist, candidate)
                try:
                    self.build(lambda d, f=forced: f.get(id(d), d.candidates()[0]))
                except PolicyError as exc:
                    raise PolicyError(
                        f"candidate {clip(repr(candidate))} of {dist.name} "
                        f"({{{dist.kind}: {clip(repr(dist.values))}}}): {exc.reason}",
                        path=exc.path, line=exc.line, source=self.source) from None


def _forcing(dist: Dist, candidate: Any) -> dict[int, Any]:
    """The choices that make ``dist`` active with ``candidate``: its own, and the
    alternative of every step choice it sits in."""
    forced = {id(dist): candidate}
    child = dist
    parent = getattr(dist, "_parent", None)
    while parent is not None:
        owner, index = parent
        forced[id(owner)] = owner.labels()[index]
        child = owner
        parent = getattr(child, "_parent", None)
    return forced


def _suggest(trial: Any, d: Dist) -> Any:
    if d.kind == "choice":
        return trial.suggest_categorical(d.name, d.labels())
    low, high = d.values
    if d.kind == "int":
        return trial.suggest_int(d.name, low, high)
    return trial.suggest_float(d.name, float(low), float(high), log=d.kind == "log_uniform",
                               step=d.step)


# ---- reading: plain data -> a tree with Dist nodes ------------------------------------------


class _Reader:
    def __init__(self, space: Space) -> None:
        self.space = space
        self.located = space.located
        self.parents: list[tuple[Dist, int]] = []

    def error(self, msg: str, path: str) -> PolicyError:
        return PolicyError(msg, path=path, line=self.located.line(path), source=self.source)

    @property
    def source(self) -> str | None:
        return self.located.source

    def top(self, data: Any) -> Any:
        if not isinstance(data, dict):
            return data  # the loader says what a policy is
        out = dict(data)
        for stage in STAGES:
            steps = data.get(stage)
            if isinstance(steps, list):
                out[stage] = [self.step(s, join(stage, i)) for i, s in enumerate(steps)]
        views = data.get("views")
        if isinstance(views, dict) and isinstance(views.get("policies"), list):
            where = "views.policies"
            out["views"] = {**views, "policies": [
                [self.step(s, join(join(where, v), i)) for i, s in enumerate(steps)]
                if isinstance(steps, list) else steps
                for v, steps in enumerate(views["policies"])]}
        for key in ("seed", "views"):
            if _is_dist(data.get(key)):
                raise self.error("a distribution here is not allowed; allowed: distributions "
                                 "in step parameters and step choices", key)
        return out

    def step(self, spec: Any, path: str) -> Any:
        if _is_dist(spec):
            kind = _kind(spec)
            if kind != "choice":
                raise self.error(f"got {{{kind}: ...}} in place of a step; allowed: a step, or "
                                 "{choice: [step, ..., null]}", path)
            return self.step_choice(spec, path)
        if isinstance(spec, dict) and len(spec) == 1:
            name, params = next(iter(spec.items()))
            if isinstance(params, dict):
                return {name: self.params(params, join(path, name))}
        return spec

    def step_choice(self, spec: dict, path: str) -> Dist:
        self.only_keys(spec, "choice", path)
        choice_path = join(path, "choice")
        alternatives = spec["choice"]
        if not isinstance(alternatives, list) or not alternatives:
            raise self.error(f"got {clip(repr(alternatives))}; allowed: a non-empty list of "
                             "steps (null: no step)", choice_path)
        dist = Dist("choice", list(alternatives), path, self.located.line(choice_path),
                    is_step=True)
        self.add(dist)
        for i, alt in enumerate(alternatives):
            self.parents.append((dist, i))
            dist.alternatives.append(None if alt is None else self.step(alt, join(choice_path, i)))
            self.parents.pop()
        return dist

    def params(self, params: dict, path: str) -> dict:
        out = {}
        for key, value in params.items():
            p = join(path, key)
            if key == "transforms" and isinstance(value, list):
                out[key] = [self.step(s, join(p, i)) for i, s in enumerate(value)]
            else:
                out[key] = self.value(value, p)
        return out

    def value(self, value: Any, path: str) -> Any:
        if _is_dist(value):
            return self.dist(value, path)
        if isinstance(value, list):
            return [self.value(v, join(path, i)) for i, v in enumerate(value)]
        return value

    def dist(self, spec: dict, path: str) -> Dist:
        kind = _kind(spec)
        self.only_keys(spec, kind, path, step=kind == "uniform")
        values = spec[kind]
        where = join(path, kind)
        if kind == "choice":
            if not isinstance(values, list) or not values:
                raise self.error(f"got {clip(repr(values))}; allowed: a non-empty list of "
                                 "values", where)
            if any(_is_dist(v) for v in values):
                raise self.error("a distribution inside a value choice is not allowed; "
                                 "allowed: plain values (a choice of steps may nest)", where)
            dist = Dist(kind, list(values), path, self.located.line(where))
        else:
            dist = Dist(kind, self.bounds(kind, values, where), path, self.located.line(where),
                        step=self.step_size(spec, kind, where))
        self.add(dist)
        return dist

    def bounds(self, kind: str, values: Any, where: str) -> list[Any]:
        number = "integers" if kind == "int" else "numbers"
        allowed = f"allowed: [low, high], two {number} with low < high"
        if kind == "log_uniform":
            allowed += " and 0 < low"
        if kind == "int":
            allowed = allowed.replace("low < high", "low <= high")
        ok_type = (lambda v: isinstance(v, int) and not isinstance(v, bool)) if kind == "int" \
            else (lambda v: isinstance(v, _NUMBER) and not isinstance(v, bool)
                  and math.isfinite(v))
        if not (isinstance(values, list) and len(values) == 2 and all(map(ok_type, values))):
            raise self.error(f"got {clip(repr(values))}; {allowed}", where)
        low, high = values
        if (kind == "int" and low > high) or (kind != "int" and low >= high) or (
                kind == "log_uniform" and low <= 0):
            raise self.error(f"got {clip(repr(values))}; {allowed}", where)
        return [low, high]

    def step_size(self, spec: dict, kind: str, where: str) -> float | None:
        if "step" not in spec:
            return None
        step = spec["step"]
        low, high = spec[kind]
        ok = isinstance(step, _NUMBER) and not isinstance(step, bool) and 0 < step <= high - low
        if ok:
            count = (high - low) / step
            ok = abs(count - round(count)) < 1e-9
        if not ok:
            raise self.error(f"got step {clip(repr(step))}; allowed: a number > 0 that divides "
                             f"high - low ({high} - {low})", where.rsplit(".", 1)[0] + ".step")
        return float(step)

    def only_keys(self, spec: dict, kind: str, path: str, step: bool = False) -> None:
        allowed = {kind, "step"} if step else {kind}
        extra = [k for k in spec if k not in allowed]
        if extra:
            raise self.error(
                f"got key {clip(repr(extra[0]))} beside {kind}; allowed: "
                f"{'{' + kind + ': [...]' + (', step: s' if step else '') + '}'} only",
                join(path, str(extra[0])))

    def add(self, dist: Dist) -> None:
        if self.parents:
            dist._parent = self.parents[-1]  # type: ignore[attr-defined]
        self.space.dists.append(dist)


def _is_dist(value: Any) -> bool:
    """A mapping with a distribution's key (its other keys are checked when it is read)."""
    return isinstance(value, dict) and any(k in KINDS for k in value)


def _kind(spec: dict) -> str:
    return next(k for k in spec if k in KINDS)


# ---- resolving and enumerating -----------------------------------------------------------


def _resolve(node: Any, choose: Chooser, path: str, where: str, lines: dict[str, int],
             located: Located) -> Any:
    """The plain data for ``node`` (at ``path`` in the policy, ``where`` in the space): each
    Dist replaced by the chosen value; ``lines`` gets the space's line of each policy path."""
    line = located.lines.get(where)
    if line is not None:
        lines.setdefault(path, line)
    if isinstance(node, Dist):
        if node.line is not None:
            lines.setdefault(path, node.line)
        picked = choose(node)
        index = node.value_of(picked)
        if node.is_step:
            alt = node.alternatives[index]
            if alt is None:
                return _NO_STEP
            return _resolve(alt, choose, path, join(join(where, "choice"), index), lines,
                            located)
        return node.values[index] if node.kind == "choice" else picked
    if isinstance(node, dict):
        return {k: _resolve(v, choose, join(path, k), join(where, k), lines, located)
                for k, v in node.items()}
    if isinstance(node, list):
        out: list[Any] = []
        for i, v in enumerate(node):
            value = _resolve(v, choose, join(path, len(out)), join(where, i), lines, located)
            if value is not _NO_STEP:
                out.append(value)
        return out
    return node


_NO_STEP = object()  # a chosen "no step" (null) alternative: left out of its step list


def _points(node: Any) -> Iterator[tuple[tuple[str, Any], ...]]:
    """Every assignment of the active distributions under ``node`` (name, value) pairs."""
    if isinstance(node, Dist):
        if node.is_step:
            for label, alt in zip(node.labels(), node.alternatives, strict=True):
                for rest in _points(alt):
                    yield ((node.name, label), *rest)
        else:
            for value in node.grid():
                yield ((node.name, value),)
        return
    children = list(node.values()) if isinstance(node, dict) else (
        node if isinstance(node, list) else [])
    parts = [list(_points(c)) for c in children]
    for combo in itertools.product(*parts):
        yield tuple(itertools.chain.from_iterable(combo))


# ---- loading and hashing ---------------------------------------------------------------------


def load_space(source: str | os.PathLike | dict) -> Space:
    """A Space from a path (``-``: standard input), YAML text or a dict, read as
    :func:`augkit.load_policy` reads a policy (same limits); a PolicyError (file:line, path,
    what is allowed) when the space or any candidate policy in it is invalid. A policy
    without distributions is a space of one point."""
    if isinstance(source, dict):
        return Space(Located(source, {}, None))
    if isinstance(source, os.PathLike) or _is_path(source):
        path = Path(source)
        name = "<stdin>" if str(path) == "-" else str(path)
        text = decode(_read(path, Limits()), name, Limits())
        return Space(parse_yaml(text, name), text)
    return Space(parse_yaml(source, "<string>"), source)


def canonical(data: Any) -> str:
    """The canonical text of plain policy data: JSON, keys sorted, no spaces."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _digest(data: Any) -> str:
    return hashlib.sha256(canonical(data).encode()).hexdigest()[:16]


def policy_hash(policy: Policy) -> str:
    """The content hash of a policy's canonical form (the first 16 hex digits of SHA-256)."""
    return _digest(policy.to_dict(include_state=True))


def space_schema() -> dict[str, Any]:
    """The JSON Schema of a space: the policy schema in which every parameter value may be a
    distribution and every step a choice of steps."""
    from augkit.schema import policy_schema

    schema = policy_schema()
    pair = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
    dist = {"oneOf": [
        {"type": "object", "properties": {"uniform": pair, "step": {"type": "number",
         "exclusiveMinimum": 0}}, "required": ["uniform"], "additionalProperties": False},
        {"type": "object", "properties": {"log_uniform": pair}, "required": ["log_uniform"],
         "additionalProperties": False},
        {"type": "object", "properties": {"int": {**pair, "items": {"type": "integer"}}},
         "required": ["int"], "additionalProperties": False},
        {"type": "object", "properties": {"choice": {"type": "array", "minItems": 1}},
         "required": ["choice"], "additionalProperties": False},
    ]}
    schema["title"] = "augkit search space"
    schema["$defs"]["distribution"] = dist
    ref = {"$ref": "#/$defs/distribution"}
    for key, defs in schema["$defs"].items():
        if not key.startswith("step_") and key != "step":
            continue
        for step in defs["anyOf"][1:]:
            (name, value), = step["properties"].items()
            body = value["anyOf"][0]
            for param, sub in body["properties"].items():
                if param not in ("transforms", "fitted_state"):
                    body["properties"][param] = {"anyOf": [_items_may_be(sub, ref), ref]}
        defs["anyOf"].append({
            "type": "object", "required": ["choice"], "additionalProperties": False,
            "properties": {"choice": {"type": "array", "minItems": 1, "items": {
                "anyOf": [{"$ref": f"#/$defs/{key}"}, {"type": "null"}]}}}})
    return schema


def _items_may_be(schema: Any, ref: dict) -> Any:
    """``schema`` with every item of its lists allowed to be ``ref`` too."""
    if isinstance(schema, list):
        return [_items_may_be(s, ref) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _items_may_be(v, ref) if k in ("anyOf", "oneOf", "allOf") else v
           for k, v in schema.items()}
    if isinstance(out.get("items"), dict):
        out["items"] = {"anyOf": [_items_may_be(out["items"], ref), ref]}
    if isinstance(out.get("prefixItems"), list):
        out["prefixItems"] = [{"anyOf": [_items_may_be(s, ref), ref]} for s in out["prefixItems"]]
    return out
