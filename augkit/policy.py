"""Policies: YAML text or a dict <-> ``Policy`` with ``dataset``, ``sample`` and ``batch`` stages.

Loading uses PyYAML's safe composer only and builds values itself, so it can refuse what a
policy never needs (python tags, anchors and aliases, merge keys, duplicate keys) and report
every error with the file, the line, the path inside the policy and what is allowed::

    policy.yaml:7: sample[1].one_of.transforms[0].node_dropout.p: got 1.5; allowed: a number
    in [0, 1]
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from augkit import _items, registry
from augkit._checked import begin_call, end_call
from augkit._policy_checks import check_stages, stage_allows
from augkit._policy_yaml import (
    ALLOWED_TOP,
    MAX_BYTES,
    MAX_DEPTH,
    MAX_SEED,
    MAX_STEPS,
    Limits,
    Located,
    clip_message,
    decode,
    join,
    parse_yaml,
    too_deep,
)
from augkit.compose import MAX_VIEWS, Compose, Container, Views
from augkit.errors import (
    MAX_ECHO,
    AugkitError,
    ParamError,
    PolicyError,
    RegistryError,
    clip,
    did_you_mean,
)
from augkit.random import (
    GeneratorLike,
    ItemStream,
    ItemStreams,
    as_generator,
    batch_stream,
    draw_seed,
    item_keys,
    item_prefix,
    policy_root,
    process_key,
    process_stream,
    stage_stream,
)
from augkit.transform import STAGES, Transform

FORMAT_VERSION = 1
TOP_KEYS = ("augkit", "seed", "views", *STAGES)
ALLOWED_VIEWS = (f"an integer in [1, {MAX_VIEWS}] (MAX_VIEWS), or {{policies: [steps of view 0, "
                 "steps of view 1, ...]}, each a list of transforms")
__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_ECHO", "MAX_SEED", "MAX_STEPS", "MAX_VIEWS",
           "Located", "Policy", "build_step", "load_policy", "parse_yaml"]


# ---- plain data -> transforms ------------------------------------------------------------


class _Builder:
    def __init__(self, located: Located, limits: Limits | None = None) -> None:
        self.located = located
        self.limits = limits or Limits()
        self.steps = 0

    def error(self, msg: str, path: str) -> PolicyError:
        return PolicyError(clip_message(msg), path=path, line=self.located.line(path),
                           source=self.located.source)

    def step(self, spec: Any, path: str, stage: str | None) -> Transform:
        """One step: ``name``, ``{name: null}`` or ``{name: {param: value}}``."""
        self.steps += 1
        if self.steps > self.limits.max_steps:
            raise self.error(
                f"got more than {self.limits.max_steps} steps; allowed: at most "
                f"{self.limits.max_steps} (MAX_STEPS; load_policy(..., max_steps=N) raises it)",
                path,
            )
        if isinstance(spec, str):
            name, params = spec, {}
        elif isinstance(spec, dict) and len(spec) == 1:
            name, params = next(iter(spec.items()))
            if params is None:
                params = {}
        else:
            raise self.error(f"got {_describe_step(spec)}; allowed: a transform, written "
                             "`name: {param: value}` (one name per list item)", path)
        if not isinstance(name, str):
            raise self.error(f"got transform name {name!r}; allowed: a string", path)
        step_path = join(path, name)
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
        if stage is not None and not stage_allows(cls, stage):
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
            key_path = join(path, "transforms")
            params["transforms"] = [
                self.step(v, join(key_path, i), stage) for i, v in enumerate(children)
            ]
        try:
            transform = cls(**params)
            if state is not None:
                transform.load_fitted_state(state)
        except ParamError as exc:
            if exc.param is None:
                where, reason = _placed(cls.label(), str(exc), params)
                raise self.error(reason, join(path, where) if where else path) from None
            where = join(path, exc.param) if exc.param in params else path
            raise self.error(exc.reason, where) from None
        except AugkitError as exc:
            raise self.error(str(exc), path) from None
        except (TypeError, ValueError, KeyError) as exc:
            raise self.error(f"{name}: {exc}", path) from None
        return transform

    def policy(self) -> Policy:
        data = self.located.value
        if not isinstance(data, dict):
            raise self.error(f"got {type(data).__name__} {data!r}; allowed: {ALLOWED_TOP}", "")
        for key in data:
            if key not in TOP_KEYS:
                hint = did_you_mean(key, TOP_KEYS, n=1)
                raise self.error(
                    f"unknown key {clip(repr(key))}{hint}; allowed keys: {', '.join(TOP_KEYS)}",
                    str(key),
                )
        version = data.get("augkit", FORMAT_VERSION)
        if version != FORMAT_VERSION or isinstance(version, bool):
            raise self.error(
                f"got format version {version!r}; allowed: {FORMAT_VERSION}", "augkit"
            )
        seed = data.get("seed", 0)
        if not _integer_in(seed, 0, MAX_SEED):
            raise self.error(
                f"got {seed!r}; allowed: an integer in [0, 2**64 - 1] (streams use the seed's "
                "64 bits, so a larger one would repeat a smaller one's draws)",
                "seed",
            )
        views = data.get("views")
        if isinstance(views, dict):
            views = self.view_policies(views)
        elif views is not None and not _integer_in(views, 1, MAX_VIEWS):
            raise self.error(f"got {views!r}; allowed: {ALLOWED_VIEWS}, or leave it out",
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
            stages[stage] = [self.step(s, join(stage, i), stage) for i, s in enumerate(steps)]
        per_view = views if isinstance(views, list) else None
        if per_view is not None and stages["sample"]:
            raise self.error(
                "got a sample stage beside views.policies; allowed: the steps of each view "
                "under views.policies (each view's own sample stage), or views: n with a "
                "sample stage", "sample")
        check_stages(stages, self.error, per_view)
        return Policy(seed=seed, views=views, **stages)

    def view_policies(self, views: dict) -> list[list[Transform]]:
        """``views: {policies: [steps of view 0, steps of view 1, ...]}``: each view's sample
        steps (an empty list or null: the input as it is)."""
        for key in views:
            if key != "policies":
                raise self.error(f"unknown key {clip(repr(key))}; allowed: {ALLOWED_VIEWS}",
                                 join("views", key))
        policies = views.get("policies")
        path = "views.policies"
        if not isinstance(policies, list) or not 1 <= len(policies) <= MAX_VIEWS:
            shown = "a mapping without policies" if policies is None else (
                f"{len(policies)} policies" if isinstance(policies, list) else repr(policies))
            raise self.error(f"got {shown}; allowed: a list of 1 to {MAX_VIEWS} policies, each "
                             "a list of transforms (the steps of one view)",
                             path if "policies" in views else "views")
        out = []
        for v, steps in enumerate(policies):
            where = join(path, v)
            if steps is None:
                steps = []
            if not isinstance(steps, list):
                raise self.error(
                    f"got {type(steps).__name__} {steps!r}; allowed: a list of transforms (the "
                    f"steps of view {v}, each item `- name: {{param: value}}`), or [] for the "
                    "input as it is", where)
            out.append([self.step(s, join(where, i), "sample") for i, s in enumerate(steps)])
        return out


def _integer_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _describe_step(spec: Any) -> str:
    """What a malformed step is, in words: the keys of a mapping (the usual cause, a
    parameter written at the column of its transform's name instead of under it)."""
    if not isinstance(spec, dict):
        return repr(spec)
    if not spec:
        return "an empty mapping"
    keys = [str(k) for k in spec]
    named = ", ".join(clip(k, 40) for k in keys[:6]) + (", ..." if len(keys) > 6 else "")
    out = f"a mapping with {len(keys)} keys ({named})"
    first, rest = keys[0], keys[1:]
    if spec[keys[0]] is None and rest:
        one = len(rest) == 1
        out += (f"; if {', '.join(rest[:3])} {'is a parameter' if one else 'are parameters'} "
                f"of {first}, indent {'it' if one else 'them'} under it")
    return out


_CROSS = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_]*): (?P<rest>.*)", re.S)


def _placed(label: str, message: str, params: dict) -> tuple[str, str]:
    """A constructor's cross-parameter message (``one_of.weights: got ...``) split into the
    parameter it names, when the policy gave that parameter, and the message without the
    prefix, so the path is not written twice; else ("", the message without the label)."""
    if message.startswith(label + "."):
        match = _CROSS.fullmatch(message[len(label) + 1:])
        if match and match["key"] in params:
            return match["key"], match["rest"]
    if message.startswith(label + ": "):
        return "", message[len(label) + 2:]
    return "", message


def build_step(spec: Any, stage: str | None = None) -> Transform:
    """A transform from its policy form: ``"name"`` or ``{name: {params}}``."""
    return _Builder(Located(spec)).step(spec, "", stage)


# ---- the Policy ---------------------------------------------------------------------------


class Policy:
    """A loaded policy: ``dataset`` steps (once over the training set), ``sample`` steps (per
    item, in the dataset or loader worker) and ``batch`` steps (per collated batch).

    ``views``: n gives a tuple of n views of each item, each the sample stage with its own
    draws; a list of step lists (``views: {policies: [...]}`` in YAML) gives one view per
    list, view v made by list v (GraphCL's two augmentation pools, BYOL's asymmetric views;
    ``[]`` is the input as it is), and then ``sample`` stays empty. ``views`` is then the
    count and ``view_policies`` the lists.

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
        views: int | Sequence[Sequence[Transform]] | None = None,
    ) -> None:
        self.dataset = list(dataset or [])
        self.sample = list(sample or [])
        self.batch = list(batch or [])
        self.seed = int(seed)
        self.views, self.view_policies = _views_of(views, self.sample)
        self._process_key: tuple | None = None
        self._process_generator: Any = None
        self._stage_cache: dict[str, tuple[tuple, Transform | None]] = {}

    # -- construction / serialisation --

    @classmethod
    def from_dict(cls, data: dict, source: str | None = None) -> Policy:
        return _Builder(Located(data, {}, source)).policy()

    def to_dict(self, *, include_state: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"augkit": FORMAT_VERSION, "seed": self.seed}
        if self.view_policies is not None:
            out["views"] = {"policies": [[t.to_dict(include_state=include_state) for t in steps]
                                         for steps in self.view_policies]}
        elif self.views is not None:
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
        views = self.views if self.view_policies is None else self.view_policies
        return f"Policy(seed={self.seed}, views={views!r}, " + ", ".join(
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
            if stage == "sample":
                for steps in self.view_policies or []:
                    for t in steps:
                        walk(t)
        return out

    def stage(self, name: str) -> Transform | None:
        """The stage as one transform (a Compose; Views(n) for the sample stage when the
        policy has ``views``, a view per list when it has ``view_policies``), or None when the
        stage is empty."""
        if name not in STAGES:
            raise AugkitError(f"stage: got {name!r}; allowed: {', '.join(STAGES)}")
        steps = getattr(self, name)
        # Built once per content of the stage (the lists may be edited): a policy is called
        # once per item, and building a container costs more than running a cheap transform.
        per_view = self.view_policies
        key = (tuple(map(id, steps)), self.views,
               None if per_view is None else tuple(tuple(map(id, p)) for p in per_view))
        cached = self._stage_cache.get(name)
        if cached is not None and cached[0] == key:
            return cached[1]
        if name == "sample" and per_view is not None:
            built: Transform | None = _PerView([Compose(p or [_Identity()]) for p in per_view])
        elif name == "sample" and self.views:
            built = Views(steps or [Compose([_Identity()])], n=self.views)
        else:
            built = Compose(steps) if steps else None
        self._stage_cache[name] = (key, built)
        return built

    @property
    def root(self) -> int:
        """The root of this policy's item streams (:func:`augkit.random.item_stream`)."""
        cached = self.__dict__.get("_root_of")
        if cached is None or cached[0] != self.seed:  # the seed may be set after loading
            cached = self._root_of = (self.seed, policy_root(self.seed))
        return cached[1]

    def _call_root(self, generator: GeneratorLike, index: Any) -> int:
        """The root of one call's item streams: drawn from the call's generator; else, with
        an index, the policy's own; else drawn from the stream private to this process."""
        if generator is not None:
            return draw_seed(as_generator(generator))
        if index is not None:
            return self.root
        # No generator and no index: a bare transform= in a DataLoader. A stream private to
        # this process (rank, worker), so no two workers repeat each other.
        key = process_key()
        if self._process_key != key:
            self._process_key = key
            self._process_generator = process_stream(self.seed)
        return draw_seed(self._process_generator)

    def __call__(
        self, data: Any, *, generator: GeneratorLike = None, index: int | None = None,
        epoch: int = 0,
    ) -> Any:
        """Apply the sample stage (n views when the policy has ``views``).

        Step k of the policy draws for item ``index`` of ``epoch`` from its own stream
        (:func:`augkit.random.item_stream`): the same stream the step would draw from in the
        batch stage, so where a step stands does not change what it does to an item.
        """
        if not self.sample and not self.views:
            return data
        root = self._call_root(generator, index)
        return self.run_sample(data, root, epoch, 0 if index is None else int(index))

    def run_sample(self, data: Any, root: int, epoch: int, index: int) -> Any:
        """The sample stage on one item, from the item streams under ``root``: view v draws
        from the streams of ``(root, epoch, index, v)``, whether its steps are the sample
        stage or its own list."""
        before = begin_call()  # the input is checked once, not by every step
        try:
            if self.view_policies is not None:
                return tuple(self._run_steps(data, root, epoch, index, steps, view=v)
                             for v, steps in enumerate(self.view_policies))
            if self.views:
                return tuple(self._run_steps(data, root, epoch, index, self.sample, view=v)
                             for v in range(self.views))
            return self._run_steps(data, root, epoch, index, self.sample)
        finally:
            end_call(before)

    def _run_steps(self, data: Any, root: int, epoch: int, index: int,
                   steps: list[Transform], view: int | None = None) -> Any:
        key = item_prefix(root, epoch, index, view)
        for position, step in enumerate(steps):
            data, _ = step.forward(data, ItemStream(key, position))
        return data

    def apply_batch(self, batch: Any, *, generator: GeneratorLike = None,
                    indices: Any = None, epoch: int = 0) -> Any:
        """Apply the batch stage to a collated batch (on whatever device it lives).

        Every random decision is taken per item (a graph of a PyG Batch, an image of an NCHW
        batch, a row of a table) from the stream the step would draw from in the sample stage,
        so item i comes out as ``policy`` with the step in ``sample`` would give it.
        ``indices`` holds each item's dataset index (a 1-D tensor or sequence); without it the
        items are numbered 0, 1, ... under a root drawn from ``generator`` (with neither, from
        the stream private to this process, as a bare policy draws). Batch-only steps (mixup,
        cutmix) act on the whole batch, or on ``(inputs, labels)`` where the per-item steps
        act on the inputs.
        """
        if not self.batch:
            return batch
        return self.run_batch(batch, self._call_root(generator, indices), epoch, indices)

    def run_batch(self, batch: Any, root: int, epoch: int, indices: Any = None) -> Any:
        """The batch stage on ``batch`` from the item streams under ``root``."""
        count = _items.count_items(_items.item_part(batch))
        keys = _batch_indices(indices, count)
        first = len(self.sample)  # positions go on from the sample stage's steps
        keys_of_items = item_keys(root, epoch, keys)
        before = begin_call()  # the batch is checked once, not by every step
        try:
            for k, step in enumerate(self.batch):
                position = first + k
                if _acts_on_whole_batch(step):
                    batch, _ = step.forward(batch, batch_stream(root, epoch, position, keys))
                    continue
                generators = ItemStreams(keys_of_items, position)
                part = step.forward_items(_items.item_part(batch), generators)
                batch = _items.with_item_part(batch, part)
        finally:
            end_call(before)
        return batch

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


def _acts_on_whole_batch(step: Transform) -> bool:
    if isinstance(step, Container):
        whole = step.holds_batch_only()
        if whole is None:
            raise PolicyError(f"batch: {step.label()} mixes batch-only transforms (mixup, "
                              "cutmix) with per-item ones; allowed: one or the other in one "
                              "container")
        return whole
    return step.batch_only()


def _batch_indices(indices: Any, count: int) -> list[int]:
    if indices is None:
        return list(range(count))
    values = indices.tolist() if hasattr(indices, "tolist") else list(indices)
    if len(values) != count or not all(isinstance(v, int) and not isinstance(v, bool)
                                       for v in values):
        raise AugkitError(f"apply_batch: indices: got {clip(repr(values))} for {count} items; "
                          "allowed: one integer dataset index per item (a 1-D tensor or "
                          "sequence)")
    return values


def _views_of(views: Any, sample: list[Transform]) -> tuple[int | None, list | None]:
    """(the number of views, each view's steps or None) from ``Policy(views=...)``."""
    if views is None:
        return None, None
    if isinstance(views, int) and not isinstance(views, bool):
        if not 1 <= views <= MAX_VIEWS:
            raise PolicyError(f"views: got {views}; allowed: {ALLOWED_VIEWS}")
        return views, None
    if isinstance(views, list | tuple) and 1 <= len(views) <= MAX_VIEWS and all(
            isinstance(steps, list | tuple) and all(isinstance(t, Transform) for t in steps)
            for steps in views):
        if sample:
            raise PolicyError("views: got a list of each view's steps and a sample stage; "
                              "allowed: one of them (each view's steps are its sample stage)")
        return len(views), [list(steps) for steps in views]
    raise PolicyError(f"views: got {clip(repr(views))}; allowed: an integer in [1, "
                      f"{MAX_VIEWS}], or a list of 1 to {MAX_VIEWS} lists of transforms (the "
                      "steps of each view)")


class _PerView(Views):
    """A policy's ``view_policies`` as one transform: view v runs child v (a Compose)."""

    def __init__(self, children: list[Transform]) -> None:
        super().__init__(children, n=len(children))

    def run(self, data: Any, generator: Any) -> tuple[Any, dict[str, Any]]:
        outs, views = [], []
        for child in self.children:
            out, params = child.forward(data, generator)
            outs.append(out)
            views.append(params)
        return tuple(outs), {"applied": True, "views": views}

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        return tuple(child.replay(data, p)
                     for child, p in zip(self.children, params["views"], strict=True))


class _Identity(Transform):
    """Stands in a Views of an empty sample stage: each view is the input."""

    name = "identity"
    kinds = ("any",)

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        return data


def load_policy(
    source: str | bytes | os.PathLike | dict,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_steps: int = MAX_STEPS,
) -> Policy:
    """A Policy from a YAML file path, YAML text, YAML bytes or a dict. Raises ``PolicyError``.

    Which ``source`` is a path, by type first:

    - a ``pathlib.Path`` (any ``os.PathLike``) is always a path;
    - ``bytes`` are the content of a policy file (UTF-8; a byte-order mark is dropped);
    - a ``dict`` is the policy as data;
    - a ``str`` containing a newline, or empty, is YAML text;
    - any other ``str`` is a path, unless it starts with ``{`` or contains ``": "`` (a
      one-line YAML mapping such as ``"seed: 3"``), which is YAML text.

    The path ``-`` reads standard input. A path that does not exist or is a folder is an
    error about the path. The limits bound
    the work one load may do (the module's ``MAX_BYTES``, ``MAX_DEPTH`` and ``MAX_STEPS``).
    """
    limits = Limits(max_bytes, max_depth, max_steps)
    if isinstance(source, dict):
        return _Builder(Located(source), limits).policy()
    if isinstance(source, bytes | bytearray):
        return _from_text(decode(bytes(source), "<bytes>", limits), "<bytes>", limits)
    if isinstance(source, os.PathLike) or (isinstance(source, str) and _is_path(source)):
        path = Path(source)
        name = "<stdin>" if str(path) == "-" else str(path)
        return _from_text(decode(_read(path, limits), name, limits), name, limits)
    if not isinstance(source, str):
        raise PolicyError(
            f"load_policy: got {type(source).__name__}; allowed: a path, YAML text, YAML bytes "
            "or a dict"
        )
    return _from_text(source, "<string>", limits)


def _is_path(text: str) -> bool:
    return bool(text) and "\n" not in text and not text.startswith("{") and ": " not in text


def _from_text(text: str, source: str, limits: Limits) -> Policy:
    located = parse_yaml(text, source, limits)
    try:
        return _Builder(located, limits).policy()
    except RecursionError:
        raise too_deep(source) from None


def _read(path: Path, limits: Limits) -> bytes:
    """The file's bytes, at most one more than the limit (the size error says so)."""
    if str(path) == "-":
        return sys.stdin.buffer.read(limits.max_bytes + 1)
    allowed = "allowed: the path of a policy file (YAML), or YAML text"
    if path.is_dir():
        raise PolicyError(f"got a folder, not a file; {allowed}", source=str(path))
    try:
        with path.open("rb") as f:
            return f.read(limits.max_bytes + 1)
    except FileNotFoundError:
        raise PolicyError(f"cannot read the policy file: no such file; {allowed}",
                          source=str(path)) from None
    except OSError as exc:
        raise PolicyError(f"cannot read the policy file: {exc.strerror}; {allowed}",
                          source=str(path)) from None
