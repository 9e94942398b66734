"""EfficientNet compound scaling (Tan & Le, 2019): depth, width and resolution grow together.

``depth = alpha**phi``, ``width = beta**phi``, ``resolution = gamma**phi`` under
``alpha * beta**2 * gamma**2 ~ 2`` (FLOPs roughly double per unit of ``phi``). Filters round to a
multiple of 8, never more than 10% below the unrounded value (the reference ``round_filters``),
and block repeats round up. The released B0..B7 models do not follow the formula exactly (their
coefficients were hand-tuned), so ``efficientnet_params`` is a table, not the formula.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from augkit.errors import ParamError

# EfficientNet-B0: stem, the seven MBConv stages and the head (filters); repeats per stage.
B0_FILTERS = (32, 16, 24, 40, 80, 112, 192, 320, 1280)
B0_REPEATS = (1, 2, 2, 3, 3, 4, 1)


@dataclass(frozen=True)
class EfficientNetParams:
    """One row of the released table: (width, depth, resolution, dropout)."""

    width: float
    depth: float
    resolution: int
    dropout: float


# The released table (efficientnet_builder.efficientnet_params), not the formula rounded.
_TABLE = {
    "efficientnet-b0": EfficientNetParams(1.0, 1.0, 224, 0.2),
    "efficientnet-b1": EfficientNetParams(1.0, 1.1, 240, 0.2),
    "efficientnet-b2": EfficientNetParams(1.1, 1.2, 260, 0.3),
    "efficientnet-b3": EfficientNetParams(1.2, 1.4, 300, 0.3),
    "efficientnet-b4": EfficientNetParams(1.4, 1.8, 380, 0.4),
    "efficientnet-b5": EfficientNetParams(1.6, 2.2, 456, 0.4),
    "efficientnet-b6": EfficientNetParams(1.8, 2.6, 528, 0.5),
    "efficientnet-b7": EfficientNetParams(2.0, 3.1, 600, 0.5),
}


def efficientnet_params(name: str) -> EfficientNetParams:
    """The released (width, depth, resolution, dropout) of ``efficientnet-b0`` .. ``-b7``
    (``b3`` and ``B3`` are accepted too)."""
    key = name.strip().lower()
    if not key.startswith("efficientnet-"):
        key = "efficientnet-" + key
    if key not in _TABLE:
        raise ParamError(
            f"efficientnet_params: got {name!r}; allowed: {', '.join(sorted(_TABLE))}",
            param="name", value=name,
        )
    return _TABLE[key]


def round_filters(filters: int, width: float, divisor: int = 8, min_depth: int | None = None
                  ) -> int:
    """``filters * width`` rounded to a multiple of ``divisor``, never below ``min_depth``
    (default ``divisor``) and never more than 10% below the unrounded value."""
    scaled = filters * width
    min_depth = min_depth or divisor
    new = max(min_depth, int(scaled + divisor / 2) // divisor * divisor)
    if new < 0.9 * scaled:  # rounding down by more than 10%: take the next multiple
        new += divisor
    return int(new)


def round_repeats(repeats: int, depth: float) -> int:
    """Block repeats scaled by ``depth``, rounded up."""
    return int(math.ceil(depth * repeats))


@dataclass(frozen=True)
class CompoundScaling:
    """Multipliers for ``phi`` and the rounded network they give."""

    phi: float
    depth: float  # alpha ** phi
    width: float  # beta ** phi
    resolution: float  # gamma ** phi
    image_size: int  # base_resolution * resolution, rounded to resolution_divisor
    filters: tuple[int, ...]
    repeats: tuple[int, ...]
    flops: float  # (alpha * beta**2 * gamma**2) ** phi: the FLOPs multiplier


def compound_scaling(
    phi: float,
    alpha: float = 1.2,
    beta: float = 1.1,
    gamma: float = 1.15,
    base_resolution: int = 224,
    base_filters: Sequence[int] = B0_FILTERS,
    base_repeats: Sequence[int] = B0_REPEATS,
    divisor: int = 8,
    resolution_divisor: int = 1,
) -> CompoundScaling:
    """Depth, width and resolution multipliers for compound coefficient ``phi`` and the
    rounded filters, repeats and image size they give.

    >>> s = compound_scaling(1)
    >>> round(s.depth, 4), round(s.width, 4), s.image_size, s.filters[0], s.repeats
    (1.2, 1.1, 258, 32, (2, 3, 3, 4, 4, 5, 2))
    """
    if phi < 0 or not all(c >= 1.0 for c in (alpha, beta, gamma)):
        raise ParamError(
            f"compound_scaling: got phi={phi!r}, alpha={alpha!r}, beta={beta!r}, "
            f"gamma={gamma!r}; allowed: phi >= 0 and coefficients >= 1"
        )
    depth, width, res = alpha**phi, beta**phi, gamma**phi
    size = base_resolution * res
    image_size = int(round(size / resolution_divisor)) * resolution_divisor
    return CompoundScaling(
        phi=phi,
        depth=depth,
        width=width,
        resolution=res,
        image_size=max(resolution_divisor, image_size),
        filters=tuple(round_filters(f, width, divisor) for f in base_filters),
        repeats=tuple(round_repeats(r, depth) for r in base_repeats),
        flops=(alpha * beta**2 * gamma**2) ** phi,
    )


def search_coefficients(
    flops_ratio: float = 2.0,
    grid: Sequence[float] | None = None,
    tol: float = 0.05,
) -> list[tuple[float, float, float]]:
    """Every (alpha, beta, gamma) from ``grid`` (each >= 1; default 1.0, 1.05, ..., 2.0) with
    ``|alpha * beta**2 * gamma**2 - flops_ratio| <= tol * flops_ratio``, nearest first.

    The EfficientNet paper's grid search step: the accuracy search itself needs a model, this
    lists the candidates that meet the FLOPs constraint.
    """
    values = np.round(np.arange(1.0, 2.0 + 1e-9, 0.05), 10) if grid is None else np.asarray(
        grid, dtype=np.float64
    )
    if values.ndim != 1 or values.size == 0 or np.any(values < 1.0):
        raise ParamError(f"search_coefficients: got grid={grid!r}; allowed: a non-empty "
                         "sequence of numbers >= 1", param="grid", value=grid)
    if flops_ratio <= 0 or tol < 0:
        raise ParamError(f"search_coefficients: got flops_ratio={flops_ratio!r}, tol={tol!r}; "
                         "allowed: flops_ratio > 0 and tol >= 0")
    a, b, g = np.meshgrid(values, values, values, indexing="ij")
    err = np.abs(a * b**2 * g**2 - flops_ratio)
    keep = err <= tol * flops_ratio + 1e-12
    order = np.argsort(err[keep], kind="stable")
    triples = np.stack([a[keep], b[keep], g[keep]], axis=1)[order]
    return [(float(x), float(y), float(z)) for x, y, z in triples]
