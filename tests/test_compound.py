"""EfficientNet compound scaling: the released table, the rounding rules, the constraint."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from augkit.scaling import (
    compound_scaling,
    efficientnet_params,
    round_filters,
    round_repeats,
    search_coefficients,
)

# (width, depth, resolution, dropout) as released (ANCHORS.md), not the formula rounded.
RELEASED = {
    0: (1.0, 1.0, 224, 0.2), 1: (1.0, 1.1, 240, 0.2), 2: (1.1, 1.2, 260, 0.3),
    3: (1.2, 1.4, 300, 0.3), 4: (1.4, 1.8, 380, 0.4), 5: (1.6, 2.2, 456, 0.4),
    6: (1.8, 2.6, 528, 0.5), 7: (2.0, 3.1, 600, 0.5),
}


@pytest.mark.parametrize("b", range(8))
def test_released_table(b):
    p = efficientnet_params(f"efficientnet-b{b}")
    assert (p.width, p.depth, p.resolution, p.dropout) == RELEASED[b]
    assert efficientnet_params(f"B{b}") == p


def test_table_is_not_the_formula():
    # b1 by the formula would be 224 * 1.15 = 258 pixels; the release uses 240.
    assert compound_scaling(1).image_size == 258 != efficientnet_params("b1").resolution
    with pytest.raises(ValueError, match="efficientnet-b0"):
        efficientnet_params("efficientnet-b8")


def test_round_filters_known_architectures():
    base = (32, 16, 24, 40, 80, 112, 192, 320, 1280)
    # The channel counts of the released B4 (width 1.4) and B7 (width 2.0) networks.
    assert [round_filters(f, 1.4) for f in base] == [48, 24, 32, 56, 112, 160, 272, 448, 1792]
    assert [round_filters(f, 2.0) for f in base] == [64, 32, 48, 80, 160, 224, 384, 640, 2560]
    # B7 repeats (depth 3.1) round up
    assert [round_repeats(r, 3.1) for r in (1, 2, 2, 3, 3, 4, 1)] == [4, 7, 7, 10, 10, 13, 4]
    assert round_repeats(3, 1.2) == 4  # 3.6 -> 4: ceil, not round


@given(st.integers(1, 4096), st.floats(0.1, 8.0))
def test_round_filters_rule(filters, width):
    out = round_filters(filters, width)
    scaled = filters * width
    assert out % 8 == 0 and out >= 8
    assert out >= 0.9 * scaled  # never more than 10% below
    assert out <= max(8, scaled + 8)


def test_round_filters_ten_percent_bump():
    # 12 * 1.0 -> int(12 + 4) // 8 * 8 = 16; 9.6 -> 8 is 17% below 9.6, so it steps up to 16.
    assert round_filters(12, 0.8) == 16
    assert round_filters(20, 1.0) == 24


@pytest.mark.parametrize("phi", [0, 1, 2.5, 7])
def test_compound_scaling_multipliers(phi):
    s = compound_scaling(phi)
    assert s.depth == pytest.approx(1.2**phi) and s.width == pytest.approx(1.1**phi)
    assert s.resolution == pytest.approx(1.15**phi)
    assert s.image_size == round(224 * 1.15**phi)
    assert s.flops == pytest.approx((1.2 * 1.1**2 * 1.15**2) ** phi)
    assert s.filters == tuple(round_filters(f, s.width) for f in
                              (32, 16, 24, 40, 80, 112, 192, 320, 1280))
    assert s.repeats == tuple(math.ceil(s.depth * r) for r in (1, 2, 2, 3, 3, 4, 1))
    if phi == 0:
        assert s.filters[0] == 32 and s.repeats == (1, 2, 2, 3, 3, 4, 1)
    with pytest.raises(ValueError):
        compound_scaling(1, alpha=0.9)


def test_search_coefficients_constraint():
    found = search_coefficients(2.0, tol=0.05)
    assert found and all(min(c) >= 1.0 for c in found)
    errs = [abs(a * b**2 * g**2 - 2.0) for a, b, g in found]
    assert max(errs) <= 0.1 + 1e-9 and errs == sorted(errs)
    assert (1.2, 1.1, 1.15) in found  # the paper's choice meets the constraint (1.92)
    # a*b^2*g^2 = 4 on {1, 2, sqrt 2}: a=1 with (b^2, g^2) in (1,4) (4,1) (2,2); a=2 with
    # (1,2) (2,1); a = sqrt 2 never.
    exact = search_coefficients(4.0, grid=[1.0, 2.0, math.sqrt(2)], tol=0.0)
    assert len(exact) == 5 and all(abs(a * b * b * g * g - 4.0) < 1e-9 for a, b, g in exact)
    assert (1.0, 2.0, 1.0) in exact and (2.0, 1.0, math.sqrt(2)) in exact
    with pytest.raises(ValueError):
        search_coefficients(2.0, grid=[0.5, 1.0])
