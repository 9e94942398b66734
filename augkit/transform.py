"""The Transform base: parameters are sampled from an explicit generator, then applied.

A transform subclass declares:

- ``name``: its registry name (``edge_dropout``);
- ``kinds``: the data kinds it accepts (``"graph"``, ``"image"``, ``"table"``);
- ``levels``: the policy stages it may stand in (``"sample"``, ``"batch"``, ``"dataset"``);
- ``params``: ``{name: Param(spec, default, doc)}``, validated on construction;

and implements ``make_params(data, generator) -> dict`` (small, replayable: a seed, a lambda,
a box) and ``apply(data, params) -> new data`` (deterministic given ``params``). ``apply`` must
not change ``data`` or any array inside it.

Every transform also takes an apply probability, ``p`` (default 1.0). Where a transform's own
documented parameter is called ``p`` (the drop rate of PyG's ``dropout_edge``, kept for the
graph dropouts), the apply probability is spelled ``apply_p``: see ``apply_key``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from augkit import _items
from augkit._checked import in_call, outside_calls
from augkit._counter import MASK63
from augkit.errors import InputError, ParamError
from augkit.params import Param, Probability, check_params, describe
from augkit.random import GeneratorLike, ItemStreams, as_generator, as_torch, uniform

#: The policy stages, in the order a policy file lists them.
STAGES = ("dataset", "sample", "batch")


class Transform:
    """Base class of every augkit transform and container."""

    name: ClassVar[str] = ""
    kinds: ClassVar[tuple[str, ...]] = ()
    levels: ClassVar[tuple[str, ...]] = ("sample",)
    params: ClassVar[dict[str, Param]] = {}
    #: Name of the apply-probability parameter; "apply_p" where ``p`` means something else.
    apply_key: ClassVar[str] = "p"
    #: Default of the apply probability (RandomApply uses 0.5).
    apply_default: ClassVar[float] = 1.0
    #: True when ``make_params`` draws only through ``augkit.random.uniform`` and
    #: ``draw_seed``: it is then handed a policy's :class:`~augkit.random.ItemStream` as is,
    #: else the stream's torch.Generator.
    counter_draws: ClassVar[bool] = False
    #: True when a call's parameters are ``{"seed": draw_seed(generator)}`` and nothing
    #: else: the batch stage then draws every item's seed in one pass.
    seed_only: ClassVar[bool] = False

    def __init__(self, **params: Any) -> None:
        self._params = check_params(self.declared_params(), params, self.label())
        # Read on every call; parameters never change after construction.
        self._apply_p = float(self._params[self.apply_key])
        # Parameters read as attributes (t.p, t.alpha) from the instance dict: a normal
        # lookup, not the slower __getattr__ fallback below (transforms read them every call).
        # Names the class or the instance already has keep their meaning.
        cls = type(self)
        for key, value in self._params.items():
            if key not in self.__dict__ and not hasattr(cls, key):
                self.__dict__[key] = value

    # ---- declaration ---------------------------------------------------------------------

    @classmethod
    def declared_params(cls) -> dict[str, Param]:
        """The transform's own parameters plus its apply probability."""
        apply = Param(Probability(), cls.apply_default, "probability that the transform is applied")
        return {**cls.params, cls.apply_key: apply}

    @classmethod
    def label(cls) -> str:
        return cls.name or cls.__name__

    @classmethod
    def describe_params(cls) -> list[dict[str, Any]]:
        return describe(cls.declared_params())

    # ---- parameters ----------------------------------------------------------------------

    def __getattr__(self, key: str) -> Any:
        # Parameters read as attributes: t.p, t.alpha. Only called when normal lookup fails.
        params = self.__dict__.get("_params")
        if params is not None and key in params:
            return params[key]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {key!r}")

    def get_params(self) -> dict[str, Any]:
        """Every parameter with its current value (defaults included)."""
        return dict(self._params)

    @property
    def apply_probability(self) -> float:
        return self._apply_p

    # ---- the contract ----------------------------------------------------------------------

    def make_params(self, data: Any, generator: Any) -> dict[str, Any]:
        """Draw this call's random parameters from ``generator`` (a CPU torch.Generator)."""
        return {}

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        """Apply the transform with drawn ``params``; must return new data."""
        raise NotImplementedError(f"{type(self).__name__} must implement apply()")

    def check_input(self, data: Any) -> None:
        """Raise ``InputError`` when ``data`` is not of a kind this transform accepts."""

    def __call__(
        self,
        *inputs: Any,
        generator: GeneratorLike = None,
        return_params: bool = False,
    ) -> Any:
        """Apply to one input (or to several, taken as a tuple: ``mixup(images, labels)``).

        ``generator`` is the only source of randomness: an int seed, a CPU torch.Generator, a
        numpy Generator or None (fresh OS entropy). With ``return_params=True`` the result is
        ``(output, params)``, and ``t.replay(data, params)`` gives the same output again.
        """
        if not inputs:
            raise InputError(f"{self.label()}: called without input")
        data = inputs[0] if len(inputs) == 1 else tuple(inputs)
        generator = as_generator(generator)
        if in_call():  # user code inside a policy step: a call of its own (augkit._checked)
            out, params = outside_calls(self.forward, data, generator)
        else:
            out, params = self.forward(data, generator)
        return (out, params) if return_params else out

    def forward(self, data: Any, generator: Any) -> tuple[Any, dict[str, Any]]:
        """Decide whether to apply, draw, apply: returns (output, params)."""
        self.check_input(data)
        prob = self._apply_p
        if prob < 1.0 and uniform(generator) >= prob:
            return data, {"applied": False}
        params = self._draw(data, generator)
        return self.apply(data, params), {"applied": True, **params}

    def _draw(self, data: Any, generator: Any) -> dict[str, Any]:
        make = type(self).make_params
        if make is Transform.make_params:  # draws nothing: no generator to make
            return {}
        return make(self, data, generator if self.counter_draws else as_torch(generator))

    # ---- the batch stage: every decision per item ---------------------------------------

    @classmethod
    def batch_only(cls) -> bool:
        """A transform of whole batches (mixup, cutmix: it may stand in ``batch`` only), drawn
        once per batch; every other transform acts on each item of a batch on its own."""
        return "sample" not in cls.levels

    def forward_items(self, batch: Any, generators: Sequence[Any],
                      active: Sequence[bool] | None = None) -> Any:
        """Item ``i`` of ``batch`` goes through this transform drawing from ``generators[i]``
        exactly as it would alone (:meth:`forward`): the same apply decision, the same drawn
        parameters, the same output. Items not ``active`` draw nothing and stay as they are.
        """
        self.check_input(batch)
        prob = self._apply_p
        if self.seed_only and type(generators) is ItemStreams and generators.vectorized:
            return self._seed_items(batch, generators, active)
        params: list[dict[str, Any] | None] = [None] * len(generators)
        for i, generator in enumerate(generators):
            if active is not None and not active[i]:
                continue
            if prob < 1.0 and uniform(generator) >= prob:
                continue
            params[i] = self.item_params(batch, i, generator)
        if all(p is None for p in params):
            return batch
        return self.apply_items(batch, params)

    def _seed_items(self, batch: Any, streams: ItemStreams,
                    active: Sequence[bool] | None) -> Any:
        """:meth:`forward_items` of a seed-only transform, every item's draws in one pass:
        the same decision (``uniform < p``) and the same seed each stream gives alone."""
        n = len(streams)
        chosen = np.ones(n, dtype=bool) if active is None else np.asarray(active, dtype=bool)
        prob = self._apply_p
        if prob < 1.0:
            u = (streams.draws(chosen) >> np.uint64(11)).astype(np.float64) * 2.0**-53
            chosen[chosen] = u < prob
        if not chosen.any():
            return batch
        seeds = np.zeros(n, dtype=np.int64)
        seeds[chosen] = streams.draws(chosen) & np.uint64(MASK63)
        return self.apply_seeds(batch, seeds, chosen)

    def apply_seeds(self, batch: Any, seeds: np.ndarray, chosen: np.ndarray) -> Any:
        """:meth:`apply_items` of a seed-only transform with ``{"seed": seeds[i]}`` for item
        ``i`` where ``chosen[i]``, else None: a transform may take the two arrays as they are
        instead of one dict per item."""
        params: list[dict[str, Any] | None] = [None] * len(seeds)
        for i, seed in zip(np.flatnonzero(chosen).tolist(), seeds[chosen].tolist(), strict=True):
            params[i] = {"seed": seed}
        return self.apply_items(batch, params)

    def item_params(self, batch: Any, index: int, generator: Any) -> dict[str, Any]:
        """The parameters item ``index`` of ``batch`` draws: :meth:`make_params` on the item
        alone (a transform whose draws do not look at the data may skip taking it out)."""
        return self._draw(_items.item_of(batch, index), generator)

    def apply_items(self, batch: Any, params: Sequence[dict[str, Any] | None]) -> Any:
        """:meth:`apply` to item ``i`` with ``params[i]`` (None: item ``i`` as it is), as a
        batch again. This takes the batch apart; a transform may do the same in one call."""
        items = _items.split_items(batch)
        out = [item if p is None else self.apply(item, p)
               for item, p in zip(items, params, strict=True)]
        return _items.join_items(out, batch)

    def replay(self, data: Any, params: dict[str, Any]) -> Any:
        """Apply again with the parameters a previous call returned."""
        if not params.get("applied", True):
            return data
        return self.apply(data, {k: v for k, v in params.items() if k != "applied"})

    # ---- fitted state (scalers and other transforms that learn statistics) ---------------

    def fitted_state(self) -> dict[str, Any] | None:
        """What a fit learned, as plain YAML-able data; None when there is nothing."""
        return None

    def load_fitted_state(self, state: dict[str, Any]) -> None:
        raise ParamError(f"{self.label()}: has no fitted state to load")

    # ---- serialisation -------------------------------------------------------------------

    def to_dict(self, *, include_state: bool = False) -> dict[str, Any]:
        """``{name: {param: value}}`` with only non-default YAML parameters: the policy form."""
        declared = self.declared_params()
        out: dict[str, Any] = {}
        for key, value in self._params.items():
            param = declared[key]
            if param.yaml and value != param.default:
                out[key] = _plain(value)
        if include_state:
            state = self.fitted_state()
            if state is not None:
                out["fitted_state"] = state
        return {self.label(): out}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        # Compare the parameters themselves, not to_dict(): a callable has no YAML form
        # but two transforms holding the same callable are equal.
        mine, theirs = self._params, other._params  # type: ignore[union-attr]
        return mine.keys() == theirs.keys() and all(
            _same_value(mine[k], theirs[k]) for k in mine)

    __hash__ = None  # type: ignore[assignment]


def _same_value(a: Any, b: Any) -> bool:
    """Equality for parameter values: tuples equal lists (as after a YAML round trip),
    containers compare element-wise (transforms by their own ==), anything whose == is
    elementwise or raises (arrays, tensors) only equals itself."""
    if a is b:
        return True
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_value(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except Exception:
        return False


def _plain(value: Any) -> Any:
    """Tuples -> lists, recursively, so to_dict() is exactly what YAML gives back."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Transform):
        return value.to_dict()
    return value
