"""Checks across the steps of a stage, made at load time: what running a stage would refuse
whatever the data, so ``augkit validate`` says it before a training run does.

- ``views`` returns a tuple of views: a step that runs after it gets the tuple, which no
  transform takes, so ``views`` ends its stage (a container holding it, too).
- A stage runs on one kind of data: every transform in it (containers' children included)
  must take a common kind (graph, image or table); so must the steps of all the views of
  ``views: {policies: [...]}`` together, each view's steps being checked as a sample stage.
- In the batch stage, a step acts either on whole batches (mixup, cutmix: batch-only, given
  ``(images, labels)``) or on each item on its own (every other step, given the images of a
  pair): a container holding both kinds has no one input to run its children on.
- In the batch stage, a per-item step never comes after a batch-only one: a batch-only step
  mixes items (image i becomes a blend of several images, its label a soft label), so what a
  per-item step then gets is no longer an item of the dataset, which is what its input must
  be: it draws as item i (the stream of item i's dataset index) and gives what it gives item i
  in the sample stage, where it could never follow mixup.
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


def _check_kinds(stage: str, leaves: Iterable[tuple[Transform, str]], error: ErrorAt) -> None:
    clash = _clash((t, path, set(t.kinds) - {"any"}) for t, path in leaves)
    if clash:
        t, path, kinds, common, first = clash
        raise error(
            f"{t.label()} takes {'/'.join(sorted(kinds))} data, but {first} before it in the "
            f"{stage} takes {'/'.join(sorted(common))}; allowed: transforms of one data "
            "kind per stage, the views of a policy included (one policy per kind of data)",
            path)


def _whole(t: Transform) -> bool | None:
    """True for a batch-only step (or a container of only those), False for a per-item one,
    None for a container that holds both."""
    return t.holds_batch_only() if isinstance(t, Container) else t.batch_only()


def _check_mixed_containers(steps: list[Transform], path: str, error: ErrorAt) -> None:
    for i, t in enumerate(steps):
        if not isinstance(t, Container) or _whole(t) is not None:
            continue
        step_path = _join(_join(path, i), t.label())
        children = list(t.children)
        if any(isinstance(c, Container) and _whole(c) is None for c in children):
            # The innermost container that holds both is the one to name.
            _check_mixed_containers(children, _join(step_path, "transforms"), error)
            continue
        j, other = next((j, c) for j, c in enumerate(children)
                        if _whole(c) != _whole(children[0]))
        whole = _first_leaf(next(c for c in children if _whole(c)))
        item = _first_leaf(next(c for c in children if not _whole(c)))
        raise error(
            f"{t.label()} holds {whole}, which mixes whole batches, and {item}, which acts "
            "on each item, but a container runs its children on one input; allowed: "
            "batch-only and per-item transforms in separate containers (e.g. one_of: "
            "[mixup, cutmix] after the per-item steps)",
            _join(_join(_join(step_path, "transforms"), j), other.label()))


def _first_leaf(t: Transform) -> str:
    return _first_leaf(t.children[0]) if isinstance(t, Container) else t.label()


def _check_item_after_batch(steps: list[Transform], error: ErrorAt) -> None:
    mixer = None
    for i, t in enumerate(steps):
        whole = _whole(t)
        if whole:
            mixer = mixer or _first_leaf(t)
        elif whole is False and mixer is not None:
            prefix = _join(_join("batch", i), t.label())
            leaf, path = next((leaf, p) for leaf, p in _leaves(steps, "batch")
                              if p == prefix or p.startswith(prefix + "."))
            raise error(
                f"{leaf.label()} acts on each item, but {mixer} before it mixes items (an "
                "image becomes a blend of several, its label soft), so what it gets is no "
                "longer an item; allowed: per-item steps before the batch-only ones (mixup, "
                "cutmix last in the batch stage)",
                path)


def check_stages(stages: dict[str, list[Transform]], error: ErrorAt,
                 view_policies: list[list[Transform]] | None = None) -> None:
    """Raise ``error(message, path)`` for the first step its stage could never run; each of
    ``view_policies`` (``views.policies``) is checked as a sample stage, and the views
    together take one kind of data, as one stage does."""
    per_view = [(steps, f"views.policies[{v}]") for v, steps in enumerate(view_policies or [])]
    for steps, path in per_view:
        _check_views(steps, path, error)
    _check_kinds("views of views.policies", (leaf for steps, path in per_view
                                    for leaf in _leaves(steps, path)), error)
    for stage, steps in stages.items():
        _check_views(steps, stage, error)
        _check_kinds(f"{stage} stage", _leaves(steps, stage), error)
        if stage == "batch":
            _check_mixed_containers(steps, stage, error)
            _check_item_after_batch(steps, error)
