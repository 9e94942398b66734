"""Containers: Compose, OneOf, SomeOf, RandomApply and Views. Each is a Transform itself, so
they nest freely, serialise to YAML, and return their children's drawn parameters for replay."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from augkit.errors import InputError, ParamError
from augkit.params import REQUIRED, Boolean, Custom, Integer, ListOf, Nullable, Number, Param
from augkit.random import ItemStream, ItemStreams, as_torch, draw_seed, uniform
from augkit.transform import Transform


def _as_transforms(value: Any) -> tuple[Transform, ...]:
    """A list of transforms (or one transform) -> tuple. Steps written as YAML or dicts are
    built by the policy loader, which hands containers their children built."""
    items = value if isinstance(value, list | tuple) else [value]
    if not items or not all(isinstance(item, Transform) for item in items):
        raise ValueError(value)
    return tuple(items)


#: The most views ``Views`` (and a policy's top-level ``views:``) makes of one input: far above
#: any contrastive setup, low enough that a typo cannot fill memory.
MAX_VIEWS = 1024
#: The most children one ``SomeOf`` call applies (its ``n``), for the same reason.
MAX_SOME_OF = 1024

_TRANSFORMS = Custom(
    _as_transforms,
    "a non-empty list of transforms",
    {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}},
)


class Container(Transform):
    """Base of the containers: holds ``transforms`` and replays children's parameters."""

    kinds: ClassVar[tuple[str, ...]] = ("any",)
    levels: ClassVar[tuple[str, ...]] = ("sample", "batch", "dataset")
    params: ClassVar[dict[str, Param]] = {
        "transforms": Param(_TRANSFORMS, REQUIRED, "the child transforms"),
    }

    def __init__(self, transforms: Any = REQUIRED, **params: Any) -> None:
        if transforms is not REQUIRED:
            params["transforms"] = transforms
        super().__init__(**params)
        self._every_child = tuple(range(len(self._params["transforms"])))

    @property
    def children(self) -> tuple[Transform, ...]:
        return self._params["transforms"]

    def forward(self, data: Any, generator: Any) -> tuple[Any, dict[str, Any]]:
        if type(generator) is not ItemStream and len(self._params["transforms"]) > 1:
            # Called on its own with a torch.Generator: one seed from it, then the children's
            # decisions from the counter stream a policy step gets (a torch draw per child
            # would cost more than a cheap child). A lone child draws from the generator
            # itself, as it would called alone: a seed and a stream would cost it more.
            generator = ItemStream(draw_seed(generator))
        prob = self._apply_p
        if prob < 1.0 and uniform(generator) >= prob:
            return data, {"applied": False}
        return self.run(data, generator)

    def run(self, data: Any, generator: Any) -> tuple[Any, dict[str, Any]]:
        """Apply the chosen children; return (output, the params of an applied call, naming
        what was chosen)."""
        order = self.choose(generator)
        kids = self._params["transforms"]
        children = []
        for i in order:
            data, child = kids[i].forward(data, generator)
            children.append(child)
        return data, {"applied": True, "order": order, "children": children}

    def choose(self, generator: Any) -> list[int]:
        return list(self._every_child)

    @classmethod
    def batch_only(cls) -> bool:
        return False

    def holds_batch_only(self) -> bool | None:
        """True when every child acts on whole batches (``one_of: [mixup, cutmix]``), False
        when none does, None when they are mixed (no batch stage can run that)."""
        kinds = {t.holds_batch_only() if isinstance(t, Container) else t.batch_only()
                 for t in self.children}
        return kinds.pop() if len(kinds) == 1 else None

    def forward_items(self, batch: Any, generators: Sequence[Any],
                      active: Sequence[bool] | None = None) -> Any:
        """Per item, as :meth:`forward`: the apply decision and the choice of children are
        drawn from each item's own generator; the items that run a child at the same place
        of their order run it together, in one call."""
        prob = self._apply_p
        if type(generators) is ItemStreams and generators.vectorized:
            chosen = np.ones(len(generators), dtype=bool) if active is None \
                else np.array(active, dtype=bool)
            if prob < 1.0:
                u = (generators.draws(chosen) >> np.uint64(11)).astype(np.float64) * 2.0**-53
                chosen[chosen] = u < prob
            table = self.choose_items(generators, chosen)
            if table is not None:
                return self._run_table(batch, generators, chosen, table)
            # No vectorized choice: the items draw it one by one from here on.
            orders: list[list[int] | None] = [None] * len(generators)
            for i in np.flatnonzero(chosen).tolist():
                orders[i] = self.choose(generators[i])
            return self._run_orders(batch, generators, orders)
        orders = [None] * len(generators)
        for i, generator in enumerate(generators):
            if active is not None and not active[i]:
                continue
            if prob < 1.0 and uniform(generator) >= prob:
                continue
            orders[i] = self.choose(generator)
        return self._run_orders(batch, generators, orders)

    def choose_items(self, streams: ItemStreams, chosen: np.ndarray) -> np.ndarray | None:
        """:meth:`choose` of every ``chosen`` item at once, as a table (a row per item, a
        column per place of its order; rows not chosen are ignored), drawing from each
        item's stream exactly what :meth:`choose` draws from it; None when this container's
        choice has no vectorized form (the items then choose one by one)."""
        if type(self).choose is not Container.choose:
            return None
        return np.broadcast_to(np.arange(len(self.children)), (len(streams), len(self.children)))

    def _run_table(self, batch: Any, generators: ItemStreams, chosen: np.ndarray,
                   table: np.ndarray) -> Any:
        """:meth:`_run_orders` of the orders ``table`` holds for the ``chosen`` items."""
        kids = self.children
        for place in range(table.shape[1]):
            column = table[:, place]
            for child in np.unique(column[chosen]).tolist():
                batch = kids[child].forward_items(batch, generators, chosen & (column == child))
        return batch

    def _run_orders(self, batch: Any, generators: Sequence[Any],
                    orders: Sequence[list[int] | None]) -> Any:
        kids = self.children
        longest = max((len(o) for o in orders if o is not None), default=0)
        for place in range(longest):
            groups: dict[int, list[bool]] = {}
            for i, order in enumerate(orders):
                if order is not None and place < len(order):
                    groups.setdefault(order[place], [False] * len(orders))[i] = True
            # An item is in one group per place, so the groups' order cannot change a result.
            for child in sorted(groups):
                batch = kids[child].forward_items(batch, generators, groups[child])
        return batch

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        out = data
        for i, child in zip(params["order"], params["children"], strict=True):
            out = self.children[i].replay(out, child)
        return out

    def __repr__(self) -> str:
        inner = ",\n".join("  " + repr(t).replace("\n", "\n  ") for t in self.children)
        rest = ", ".join(f"{k}={v!r}" for k, v in self._params.items() if k != "transforms")
        return f"{type(self).__name__}([\n{inner}\n], {rest})"

    def __len__(self) -> int:
        return len(self.children)


class Compose(Container):
    """Apply every child in order."""

    name = "compose"


class RandomApply(Container):
    """Apply all children in order, with probability ``p`` (default 0.5), else none."""

    name = "random_apply"
    apply_default = 0.5


class OneOf(Container):
    """Apply exactly one child, picked with probability proportional to ``weights``."""

    name = "one_of"
    params = {
        **Container.params,
        "weights": Param(
            Nullable(ListOf(Number(0.0, low_open=False), min_len=1)),
            None,
            "relative weight of each child (default: equal)",
        ),
    }

    def __init__(self, transforms: Any = REQUIRED, **params: Any) -> None:
        super().__init__(transforms, **params)
        weights = self._params["weights"]
        if weights is not None:
            if len(weights) != len(self.children):
                raise ParamError(
                    f"one_of.weights: got {len(weights)} weights for {len(self.children)} "
                    "transforms; allowed: one weight per transform"
                )
            total = sum(weights)
            if total <= 0:
                raise ParamError("one_of.weights: got all zero; allowed: a positive sum")
            if total == float("inf"):
                raise ParamError(f"one_of.weights: got {list(weights)!r}, whose sum overflows; "
                                 "allowed: weights with a finite sum")
        self._cumulative = list(itertools.accumulate(weights or [1.0] * len(self.children)))
        self._total = self._cumulative[-1]

    def choose(self, generator: Any) -> list[int]:
        # One uniform against the running sums of the weights: child j with probability
        # weights[j] / sum (a zero weight is never picked).
        weights = self._params["weights"] or [1.0] * len(self.children)
        target = uniform(generator) * self._total
        return [min(bisect.bisect_right(self._cumulative, target), len(weights) - 1)]

    def choose_items(self, streams: ItemStreams, chosen: np.ndarray) -> np.ndarray | None:
        u = (streams.draws(chosen) >> np.uint64(11)).astype(np.float64) * 2.0**-53
        picked = np.searchsorted(np.asarray(self._cumulative), u * self._total, side="right")
        table = np.zeros((len(streams), 1), dtype=np.int64)
        table[chosen, 0] = np.minimum(picked, len(self.children) - 1)
        return table


class SomeOf(Container):
    """Apply ``n`` children picked at random (without replacement unless ``replace``), in the
    order drawn."""

    name = "some_of"
    params = {
        **Container.params,
        "n": Param(Integer(0, MAX_SOME_OF), 1,
                   f"how many children to apply (at most {MAX_SOME_OF})"),
        "replace": Param(Boolean(), False, "may one child be picked more than once"),
    }

    def __init__(self, transforms: Any = REQUIRED, **params: Any) -> None:
        super().__init__(transforms, **params)
        n, replace = self._params["n"], self._params["replace"]
        if not replace and n > len(self.children):
            raise ParamError(
                f"some_of.n: got {n} with {len(self.children)} transforms and replace=false; "
                f"allowed: an integer in [0, {len(self.children)}], or set replace: true"
            )

    def choose(self, generator: Any) -> list[int]:
        n, k = self._params["n"], len(self.children)
        if self._params["replace"]:
            return torch.randint(0, k, (n,), generator=as_torch(generator)).tolist()
        return torch.randperm(k, generator=as_torch(generator))[:n].tolist()


class Views(Container):
    """``n`` independently augmented views of one input (GraphCL, GRACE, SimCLR, BYOL): each
    view runs the children as a Compose with its own draws. Returns a tuple of n outputs."""

    name = "views"
    params = {
        **Container.params,
        "n": Param(Integer(1, MAX_VIEWS), 2, f"number of views (at most {MAX_VIEWS})"),
    }

    def run(self, data: Any, generator: Any) -> tuple[Any, dict[str, Any]]:
        outs, views = [], []
        for _ in range(self._params["n"]):
            out, params = Container.run(self, data, generator)
            outs.append(out)
            views.append(params)
        return tuple(outs), {"applied": True, "views": views}

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        return tuple(Container.apply(self, data, view) for view in params["views"])

    def forward_items(self, batch: Any, generators: Sequence[Any],
                      active: Sequence[bool] | None = None) -> Any:
        raise InputError("views: makes several outputs of each item, and a batch stage keeps "
                         "one item per item; allowed: views in the sample stage (or a "
                         "policy's top-level views:)")

    def forward(self, data: Any, generator: Any) -> tuple[Any, dict[str, Any]]:
        # Not applied still means n views (each the input), so callers always get a tuple.
        out, params = super().forward(data, generator)
        if not params["applied"]:
            return tuple(data for _ in range(self._params["n"])), params
        return out, params

    def replay(self, data: Any, params: dict[str, Any]) -> Any:
        if not params.get("applied", True):
            return tuple(data for _ in range(self._params["n"]))
        return self.apply(data, params)

