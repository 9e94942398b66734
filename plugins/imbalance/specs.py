"""Parameter specs shared by the imbalance transforms (light: no sklearn, no imblearn)."""

from __future__ import annotations

from typing import Any

import numpy as np

from augkit._balance import STRATEGY_NAMES
from augkit.params import AnyOf, Choice, Custom, Integer, Param

# numpy's RandomState (imbalanced-learn's random_state) takes seeds in [0, 2**32).
SEED_RANGE = 1 << 32


def _check_strategy(value: Any) -> Any:
    """The YAML-able forms plus, from Python, a callable (validated again by the sampler)."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        if 0.0 < float(value) <= 1.0:
            return float(value)
        raise ValueError(value)
    if isinstance(value, str):
        if value in STRATEGY_NAMES:
            return value
        raise ValueError(value)
    if isinstance(value, dict):
        out = {}
        for key, count in value.items():
            if isinstance(key, bool) or not isinstance(key, int | str | float | np.generic):
                raise ValueError(value)
            if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
                raise ValueError(value)
            out[key] = int(count)
        return out
    if callable(value):
        return value
    raise ValueError(value)


SAMPLING_STRATEGY = Custom(
    _check_strategy,
    "a float in (0, 1] (two classes: minority/majority ratio after resampling), one of "
    + ", ".join(STRATEGY_NAMES)
    + ", a mapping class -> number of samples after resampling, or (Python only, not YAML) "
    "a callable y -> such a mapping",
    {"anyOf": [
        {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        {"enum": list(STRATEGY_NAMES)},
        {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
    ]},
)


def neighbours_param(doc: str, default: int = 5) -> Param:
    return Param(AnyOf(Integer(1), Choice("auto")), default, doc)


