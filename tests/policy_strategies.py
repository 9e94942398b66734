"""Hypothesis strategies: valid policies over every registered transform, values drawn from
each parameter's declared spec."""

from __future__ import annotations

from hypothesis import strategies as st

from augkit import registry
from augkit.compose import Container
from augkit.params import (
    REQUIRED,
    AnyOf,
    Boolean,
    Choice,
    Custom,
    Interval,
    ListOf,
    Mapping,
    Nullable,
    Number,
    Text,
)

_BIG = 1e6


def values(spec):
    """A strategy of values the spec accepts (None where it cannot be generated)."""
    if isinstance(spec, Number):
        lo = spec.low if spec.low is not None else -_BIG
        hi = spec.high if spec.high is not None else _BIG
        if spec.integer:
            return st.integers(int(lo) + spec.low_open, int(min(hi, 1000)) - spec.high_open)
        return st.floats(lo, min(hi, _BIG), exclude_min=spec.low_open,
                         exclude_max=spec.high_open, allow_nan=False)
    if isinstance(spec, Boolean):
        return st.booleans()
    if isinstance(spec, Choice):
        return st.sampled_from(spec.options)
    if isinstance(spec, Interval):
        item = values(spec.item)
        return st.tuples(item, item).map(lambda t: sorted(t))
    if isinstance(spec, Nullable):
        inner = values(spec.spec)
        return st.none() if inner is None else st.one_of(st.none(), inner)
    if isinstance(spec, AnyOf):
        parts = [s for s in (values(x) for x in spec.specs) if s is not None]
        return st.one_of(*parts) if parts else None
    if isinstance(spec, ListOf):
        inner = values(spec.item)
        if inner is None:
            return None
        return st.lists(inner, min_size=spec.min_len, max_size=spec.max_len or 4)
    if isinstance(spec, Text):
        return st.sampled_from(["x", "edge_attr", "y"])
    if isinstance(spec, Mapping | Custom):
        return None
    return None


def step(name, children=None):
    cls = registry.get(name)
    fields = {}
    for key, param in cls.declared_params().items():
        if not param.yaml or key in ("transforms", "weights", "n"):
            continue
        strat = values(param.spec)
        if strat is not None:
            fields[key] = strat

    @st.composite
    def build(draw):
        params = {}
        for key, strat in fields.items():
            if draw(st.booleans()):
                value = draw(strat)
                try:
                    cls.declared_params()[key].spec.check(value)
                except ValueError:
                    continue
                params[key] = value
        if children is not None:
            kids = draw(st.lists(children, min_size=1, max_size=3))
            params["transforms"] = kids
            if name == "one_of" and draw(st.booleans()):
                params["weights"] = [draw(st.floats(0.1, 5)) for _ in kids]
            if name in ("some_of",):
                params["n"] = draw(st.integers(0, len(kids)))
        if children is None:
            try:  # cross-parameter rules (checked in __init__) may refuse a combination
                cls(**params)
            except Exception:
                params = {}
        return {name: params}

    return build()


def _constructible(name):
    cls = registry.get(name)
    return not any(p.default is REQUIRED for k, p in cls.declared_params().items()
                   if k != "transforms")


def _takes(cls, kind):
    return kind in cls.kinds or "any" in cls.kinds


def _pair_transform(cls):
    """mixup and cutmix: batch-only image transforms taking (images, labels)."""
    return tuple(cls.levels) == ("batch",) and "image" in cls.kinds


def leaf_names(level, kind=None, pairs=None):
    """Constructible leaf transforms of a stage, of one data kind (and, for images in the
    batch stage, all taking pairs or all taking images: a stage runs on one form of data)."""
    out = []
    for n in registry.list_transforms():
        cls = registry.get(n)
        if issubclass(cls, Container) or level not in cls.levels or not _constructible(n):
            continue
        if kind is not None and not _takes(cls, kind):
            continue
        if pairs is not None and "image" in cls.kinds and _pair_transform(cls) != pairs:
            continue
        out.append(n)
    return out


CONTAINERS = ["compose", "one_of", "some_of", "random_apply"]


def tree(names):
    leaf = st.one_of(*[step(n) for n in names])
    return st.recursive(leaf, lambda kids: st.one_of(*[step(c, kids) for c in CONTAINERS]),
                        max_leaves=4)


def stage(level):
    """Valid steps of one stage: a data kind (and form) drawn first, then trees over it."""
    choices = [(k, p) for k in ("graph", "image", "table") for p in (False, True)
               if leaf_names(level, k, p)]
    if not choices:
        return st.just([])
    return st.sampled_from(choices).flatmap(
        lambda kp: st.lists(tree(leaf_names(level, *kp)), max_size=3))


def policies():
    return st.builds(
        lambda seed, d, s, b: {"augkit": 1, "seed": seed, "dataset": d, "sample": s, "batch": b},
        st.integers(0, 2**31), stage("dataset"), stage("sample"), stage("batch"),
    )
