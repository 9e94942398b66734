"""Policies: YAML text or a dict <-> ``Policy`` with ``dataset``, ``sample`` and ``batch`` stages.

Loading uses PyYAML's safe composer only and builds values itself, so it can refuse what a
policy never needs (python tags, anchors and aliases, merge keys, duplicate keys) and report
every error with the file, the line, the path inside the policy and what is allowed::

    policy.yaml:7: sample[1].one_of.transforms[0].node_dropout.p: got 1.5; allowed: a number
    in [0, 1]
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from augkit import registry
from augkit.compose import Compose, Container, Views
from augkit.errors import AugkitError, ParamError, PolicyError, RegistryError, did_you_mean
from augkit.random import (
    GeneratorLike,
    as_generator,
    process_key,
    process_stream,
    stage_stream,
)
from augkit.transform import STAGES, Transform

FORMAT_VERSION = 1
TOP_KEYS = ("augkit", "seed", "views", *STAGES)
_ALLOWED_TOP = (
    "a mapping with keys augkit (format version 1), seed (an integer >= 0), views (an integer "
    f">= 1, optional) and stages {', '.join(STAGES)} (each a list of transforms)"
)

_T = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"}


# ---- YAML -> plain data with line numbers ------------------------------------------------


@dataclass
class Located:
    """Plain data from YAML plus the line of every path inside it."""

    value: Any
    lines: dict[str, int] = field(default_factory=dict)
    source: str | None = None

    def line(self, path: str) -> int | None:
        # The nearest enclosing path that has a line.
        while path:
            if path in self.lines:
                return self.lines[path]
            path = _parent(path)
        return self.lines.get("")


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def parse_yaml(text: str, source: str | None = None) -> Located:
    """Parse policy YAML safely; refuse anchors/aliases, non-plain tags and duplicate keys."""

    def fail(msg: str, mark: Any = None, path: str = "") -> PolicyError:
        line = mark.line + 1 if mark is not None else None
        return PolicyError(msg, path=path, line=line, source=source)

    try:
        # Anchors and aliases first, from the event stream, before anything is built: an
        # alias bomb (billion laughs) never expands.
        documents = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise fail(
                        "a policy is one YAML document; got several; allowed: one "
                        "(remove the ---)",
                        event.start_mark,
                    )
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise fail(
                    "YAML anchors and aliases (&, *) are not allowed in a policy; "
                    "allowed: write each value out",
                    event.start_mark,
                )
        doc = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or str(exc)
        raise fail(f"invalid YAML: {problem}", mark) from None
    except yaml.YAMLError as exc:
        raise fail(f"invalid YAML: {exc}") from None
    if doc is None:
        raise PolicyError(f"the policy is empty; allowed: {_ALLOWED_TOP}", line=1, source=source)

    located = Located(None, {}, source)
    constructor = yaml.constructor.SafeConstructor()

    def build(node: yaml.Node, path: str) -> Any:
        located.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                raise fail(
                    f"the tag {node.tag.replace(_T, '!!')} is not allowed; allowed: plain "
                    "strings, numbers, booleans and null",
                    node.start_mark,
                    path,
                )
            return constructor.construct_object(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _T + "seq":
                raise fail(f"the tag {node.tag} is not allowed", node.start_mark, path)
            return [build(child, _join(path, i)) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != _T + "map":
                raise fail(
                    f"the tag {node.tag.replace(_T, '!!')} is not allowed; allowed: plain "
                    "mappings",
                    node.start_mark,
                    path,
                )
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _T + "merge":
                    raise fail("merge keys (<<) are not allowed", key_node.start_mark, path)
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _SCALAR_TAGS:
                    raise fail("a key must be a plain string", key_node.start_mark, path)
                key = constructor.construct_object(key_node)
                child_path = _join(path, key)
                if key in out:
                    raise fail(
                        f"duplicate key {key!r} (first on line {located.lines[child_path]}); "
                        "allowed: each key once",
                        key_node.start_mark,
                        child_path,
                    )
                located.lines[child_path] = key_node.start_mark.line + 1
                out[key] = build(value_node, child_path)
            return out
        raise fail("unsupported YAML node", node.start_mark, path)  # pragma: no cover

    located.value = build(doc, "")
    return located


# ---- plain data -> transforms ------------------------------------------------------------


class _Builder:
    def __init__(self, located: Located) -> None:
        self.located = located

    def error(self, msg: str, path: str) -> PolicyError:
        return PolicyError(msg, path=path, line=self.located.line(path), source=self.located.source)

    def step(self, spec: Any, path: str, stage: str | None) -> Transform:
        """One step: ``name``, ``{name: null}`` or ``{name: {param: value}}``."""
        if isinstance(spec, str):
            name, params = spec, {}
        elif isinstance(spec, dict) and len(spec) == 1:
            name, params = next(iter(spec.items()))
            if params is None:
                params = {}
        else:
            got = f"a mapping with {len(spec)} keys" if isinstance(spec, dict) else repr(spec)
            raise self.error(
                f"got {got}; allowed: a transform, written `name: {{param: value}}` "
                "(one name per list item)",
                path,
            )
        if not isinstance(name, str):
            raise self.error(f"got transform name {name!r}; allowed: a string", path)
        step_path = _join(path, name)
        try:
            cls = registry.get(name)
        except RegistryError as exc:
            raise self.error(str(exc), step_path) from None
        if not isinstance(params, dict):
            raise self.error(
                f"got {params!r}; allowed: a mapping of parameters of {name} "
                f"({', '.join(cls.declared_params())}) or null",
                step_path,
            )
        if stage is not None and not issubclass(cls, Container) and stage not in cls.levels:
            raise self.error(
                f"{name} is a {'/'.join(cls.levels)}-level transform and cannot stand in the "
                f"{stage} stage; allowed stage(s): {', '.join(cls.levels)}",
                step_path,
            )
        return self.instantiate(cls, name, dict(params), step_path, stage)

    def instantiate(
        self, cls: type[Transform], name: str, params: dict, path: str, stage: str | None
    ) -> Transform:
        """Build with the constructor, which validates; its ParamError is reported at the
        parameter's path (or the step's, for a missing or cross-parameter one)."""
        state = params.pop("fitted_state", None)
        params = {str(k): v for k, v in params.items()}
        children = params.get("transforms")
        if issubclass(cls, Container) and isinstance(children, list):
            key_path = _join(path, "transforms")
            params["transforms"] = [
                self.step(v, _join(key_path, i), stage) for i, v in enumerate(children)
            ]
        try:
            transform = cls(**params)
            if state is not None:
                transform.load_fitted_state(state)
        except ParamError as exc:
            if exc.param is None:
                raise self.error(str(exc), path) from None
            where = _join(path, exc.param) if exc.param in params else path
            raise self.error(exc.reason, where) from None
        except AugkitError as exc:
            raise self.error(str(exc), path) from None
        except (TypeError, ValueError, KeyError) as exc:
            raise self.error(f"{name}: {exc}", path) from None
        return transform

    def policy(self) -> Policy:
        data = self.located.value
        if not isinstance(data, dict):
            raise self.error(f"got {type(data).__name__} {data!r}; allowed: {_ALLOWED_TOP}", "")
        for key in data:
            if key not in TOP_KEYS:
                hint = did_you_mean(key, TOP_KEYS, n=1)
                raise self.error(
                    f"unknown key {key!r}{hint}; allowed keys: {', '.join(TOP_KEYS)}", str(key)
                )
        version = data.get("augkit", FORMAT_VERSION)
        if version != FORMAT_VERSION or isinstance(version, bool):
            raise self.error(
                f"got format version {version!r}; allowed: {FORMAT_VERSION}", "augkit"
            )
        seed = data.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise self.error(f"got {seed!r}; allowed: an integer >= 0", "seed")
        views = data.get("views")
        if views is not None and (not isinstance(views, int) or isinstance(views, bool)
                                  or views < 1):
            raise self.error(f"got {views!r}; allowed: an integer >= 1, or leave it out",
                             "views")
        stages: dict[str, list[Transform]] = {}
        for stage in STAGES:
            steps = data.get(stage)
            if steps is None:
                stages[stage] = []
                continue
            if not isinstance(steps, list):
                raise self.error(
                    f"got {type(steps).__name__} {steps!r}; allowed: a list of transforms "
                    f"(each item `- name: {{param: value}}`)",
                    stage,
                )
            stages[stage] = [self.step(s, _join(stage, i), stage) for i, s in enumerate(steps)]
        return Policy(seed=seed, views=views, **stages)


def build_step(spec: Any, stage: str | None = None) -> Transform:
    """A transform from its policy form: ``"name"`` or ``{name: {params}}``."""
    return _Builder(Located(spec)).step(spec, "", stage)


# ---- the Policy ---------------------------------------------------------------------------


class Policy:
    """A loaded policy: ``dataset`` steps (once over the training set), ``sample`` steps (per
    item, in the dataset or loader worker) and ``batch`` steps (per collated batch).

    Calling the policy applies the sample stage. Randomness: an explicit ``generator``; else
    ``index`` (and ``epoch``) select the stream ``(seed, epoch, index)``; else a stream private
    to this process (rank and DataLoader worker), so workers never repeat each other.
    """

    def __init__(
        self,
        dataset: list[Transform] | None = None,
        sample: list[Transform] | None = None,
        batch: list[Transform] | None = None,
        *,
        seed: int = 0,
        views: int | None = None,
    ) -> None:
        self.dataset = list(dataset or [])
        self.sample = list(sample or [])
        self.batch = list(batch or [])
        self.seed = int(seed)
        self.views = views
        self._process_key: tuple | None = None
        self._process_generator: Any = None
        self._stage_cache: dict[str, tuple[tuple, Transform | None]] = {}

    # -- construction / serialisation --

    @classmethod
    def from_dict(cls, data: dict, source: str | None = None) -> Policy:
        return _Builder(Located(data, {}, source)).policy()

    def to_dict(self, *, include_state: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"augkit": FORMAT_VERSION, "seed": self.seed}
        if self.views is not None:
            out["views"] = self.views
        for stage in STAGES:
            steps = getattr(self, stage)
            if steps:
                out[stage] = [t.to_dict(include_state=include_state) for t in steps]
        return out

    def to_yaml(self, *, include_state: bool = False) -> str:
        return yaml.safe_dump(
            self.to_dict(include_state=include_state), sort_keys=False, default_flow_style=None
        )

    def save(self, path: str | os.PathLike) -> None:
        """Write the policy with every fitted state (scaler statistics), so ``load_policy``
        gives back exactly the policy used at training time."""
        Path(path).write_text(self.to_yaml(include_state=True))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Policy):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Policy(seed={self.seed}, " + ", ".join(
            f"{s}={getattr(self, s)!r}" for s in STAGES
        ) + ")"

    # -- running --

    def transforms(self) -> list[Transform]:
        """Every transform of every stage, containers' children included (depth first)."""
        out: list[Transform] = []

        def walk(t: Transform) -> None:
            out.append(t)
            if isinstance(t, Container):
                for child in t.children:
                    walk(child)

        for stage in STAGES:
            for t in getattr(self, stage):
                walk(t)
        return out

    def stage(self, name: str) -> Transform | None:
        """The stage as one transform (a Compose; Views(n) for the sample stage when the
        policy has ``views``), or None when the stage is empty."""
        if name not in STAGES:
            raise AugkitError(f"stage: got {name!r}; allowed: {', '.join(STAGES)}")
        steps = getattr(self, name)
        # Built once per content of the stage (the lists may be edited): a policy is called
        # once per item, and building a container costs more than running a cheap transform.
        key = (tuple(map(id, steps)), self.views)
        cached = self._stage_cache.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        if name == "sample" and self.views:
            built: Transform | None = Views(steps or [Compose([_Identity()])], n=self.views)
        else:
            built = Compose(steps) if steps else None
        self._stage_cache[name] = (key, built)
        return built

    def generator_for(
        self, generator: GeneratorLike = None, index: int | None = None, epoch: int = 0,
        stage: str = "sample",
    ) -> Any:
        if generator is not None:
            return as_generator(generator)
        if index is not None:
            return stage_stream(self.seed, stage, epoch, index)
        key = process_key()
        if self._process_key != key:
            self._process_key = key
            self._process_generator = process_stream(self.seed)
        return self._process_generator

    def __call__(
        self, data: Any, *, generator: GeneratorLike = None, index: int | None = None,
        epoch: int = 0,
    ) -> Any:
        """Apply the sample stage (n views when the policy has ``views``)."""
        t = self.stage("sample")
        if t is None:
            return data
        return t(data, generator=self.generator_for(generator, index, epoch))

    def apply_batch(self, batch: Any, *, generator: GeneratorLike = None,
                    index: int | None = None, epoch: int = 0) -> Any:
        """Apply the batch stage to a collated batch (on whatever device it lives)."""
        t = self.stage("batch")
        if t is None:
            return batch
        return t(batch, generator=self.generator_for(generator, index, epoch, "batch"))

    def fit_resample(self, X: Any, y: Any, *, generator: GeneratorLike = None) -> Any:
        """Run the dataset stage over (X, y): SMOTE, ADASYN and the like. Without a generator
        the stream comes from the policy's seed, so a policy run twice gives the same data."""
        t = self.stage("dataset")
        if t is None:
            return X, y
        g = stage_stream(self.seed, "dataset") if generator is None else as_generator(generator)
        return t((X, y), generator=g)

    def fit(self, data: Any) -> Policy:
        """Fit every transform that learns statistics (scalers) on ``data``; returns self."""
        for t in self.transforms():
            fit = getattr(t, "fit", None)
            if callable(fit):
                fit(data)
        return self


class _Identity(Transform):
    """Stands in a Views of an empty sample stage: each view is the input."""

    name = "identity"
    kinds = ("any",)

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        return data


def load_policy(source: str | os.PathLike | dict) -> Policy:
    """A Policy from a YAML file path, YAML text, or a dict. Raises ``PolicyError``."""
    if isinstance(source, dict):
        return Policy.from_dict(source)
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and "\n" not in source and (
            os.path.isfile(source) or source.endswith((".yaml", ".yml"))
        )
    ):
        path = Path(source)
        try:
            text = path.read_text()
        except OSError as exc:
            raise PolicyError(f"cannot read the policy file: {exc.strerror}",
                              source=str(path)) from None
        return _Builder(parse_yaml(text, str(path))).policy()
    if not isinstance(source, str):
        raise PolicyError(
            f"load_policy: got {type(source).__name__}; allowed: a path, YAML text or a dict"
        )
    return _Builder(parse_yaml(source, "<string>")).policy()
