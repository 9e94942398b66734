"""Checks across the steps of a stage, made at load time: what running a stage would refuse
whatever the data, so ``augkit validate`` says it before a training run does.

- ``views`` returns a tuple of views: a step that runs after it gets the tuple, which no
  transform takes, so ``views`` ends its stage (a container holding it, too).
- A stage runs on one kind of data: every transform in it (containers' children included)
  must take a common kind (graph, image or table).
- In the batch stage, image transforms take either images or an ``(images, labels)`` pair
  (mixup, cutmix): each transform's own input check is asked, with a tiny image batch and a
  pair of one, which form it takes; the stage needs one form all of them take.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from augkit.compose import Container, OneOf, SomeOf, Views
from augkit.errors import PolicyError
from augkit.transform import Transform

ErrorAt = Callable[[str, str], PolicyError]


def _join(path: str, key: Any) -> str:
    return f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}"


def stage_allows(cls: type[Transform], stage: str) -> bool:
    """Whether a transform may stand in a stage: the one rule the loader checks and the JSON
    Schema states (a container may stand anywhere; its children are checked in turn)."""
    return issubclass(cls, Container) or stage in cls.levels


def _leaves(steps: list[Transform], path: str) -> Iterator[tuple[Transform, str]]:
    """Every non-container transform of a list of steps, with its path, in order."""
    for i, t in enumerate(steps):
        step_path = _join(_join(path, i), t.label())
        if isinstance(t, Container):
            yield from _leaves(list(t.children), _join(step_path, "transforms"))
        else:
            yield t, step_path


def _may_end_in_views(t: Transform) -> bool:
    return isinstance(t, Views) or (
        isinstance(t, Container) and any(_may_end_in_views(c) for c in t.children))


def _runs_several(t: Container) -> bool:
    """Whether the container may run more than one child, one after another."""
    if isinstance(t, OneOf | Views):
        return False
    if isinstance(t, SomeOf):
        return t.get_params()["n"] > 1
    return True


def _check_views(steps: list[Transform], path: str, error: ErrorAt) -> None:
    for i, t in enumerate(steps):
        step_path = _join(_join(path, i), t.label())
        if isinstance(t, Container):
            children = list(t.children)
            if _runs_several(t) or isinstance(t, Views):
                _check_views(children, _join(step_path, "transforms"), error)
            if isinstance(t, SomeOf) and _runs_several(t) and len(children) > 1:
                for j, child in enumerate(children):
                    if _may_end_in_views(child):
                        raise error(
                            "got views among the children of some_of with n > 1: another "
                            "child may run after it, on its tuple of views; allowed: views "
                            "as the last step of its stage",
                            _join(_join(_join(step_path, "transforms"), j), child.label()))
        if _may_end_in_views(t) and i + 1 < len(steps):
            after = steps[i + 1]
            raise error(
                f"got {after.label()} after views (step {i}): views returns a tuple of views, "
                "which no transform takes; allowed: views as the last step of its stage (put "
                "the steps inside views, under its transforms)",
                _join(_join(path, i + 1), after.label()))


def _clash(items: Iterable[tuple[Transform, str, set[str]]]) -> tuple | None:
    """The first (transform, path, its set, the set before it, the first transform's name)
    whose set shares nothing with those of the transforms before it; empty sets are skipped."""
    common: set[str] | None = None
    first = ""
    for t, path, got in items:
        if not got:
            continue
        if common is None:
            common, first = got, t.label()
        elif not common & got:
            return t, path, got, common, first
        else:
            common &= got
    return None


def _check_kinds(stage: str, steps: list[Transform], error: ErrorAt) -> None:
    clash = _clash((t, path, set(t.kinds) - {"any"}) for t, path in _leaves(steps, stage))
    if clash:
        t, path, kinds, common, first = clash
        raise error(
            f"{t.label()} takes {'/'.join(sorted(kinds))} data, but {first} before it in the "
            f"{stage} stage takes {'/'.join(sorted(common))}; allowed: transforms of one data "
            "kind per stage (one policy per kind of data)",
            path)


def _forms(t: Transform) -> set[str]:
    """Which batch forms an image transform's input check takes: "images", "pair"."""
    import torch

    images = torch.zeros(2, 3, 4, 4)
    probes = {"images": images, "pair": (images, torch.zeros(2, dtype=torch.long))}
    out = set()
    for form, probe in probes.items():
        try:
            t.check_input(probe)
        except Exception:  # a refusal, whatever its class, says the form is not taken
            continue
        out.add(form)
    return out


def _check_batch_forms(steps: list[Transform], error: ErrorAt) -> None:
    clash = _clash((t, path, _forms(t) if "image" in t.kinds else set())
                   for t, path in _leaves(steps, "batch"))
    if clash:
        t, path, forms, common, first = clash
        words = {"images": "a batch of images", "pair": "an (images, labels) pair"}
        raise error(
            f"{t.label()} takes {' or '.join(words[f] for f in sorted(forms))}, but {first} "
            f"before it in the batch stage takes {' or '.join(words[f] for f in sorted(common))}"
            "; allowed: batch transforms that take the same form (blur or erase images in the "
            "sample stage, mix pairs in the batch stage)",
            path)


def check_stages(stages: dict[str, list[Transform]], error: ErrorAt,
                 views: int | None = None) -> None:
    """Raise ``error(message, path)`` for the first step its stage could never run."""
    for stage, steps in stages.items():
        _check_views(steps, stage, error)
        _check_kinds(stage, steps, error)
        if stage == "batch":
            _check_batch_forms(steps, error)
