"""Numbers in parameters: non-finite values and ints beyond the float range are refused with a
ParamError when the transform is built; numpy scalars are accepted as the equal Python number."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import augkit
from augkit.errors import ParamError
from augkit.params import Choice, Interval, ListOf, Mapping, Number

from .conftest import AddNoise, Shift

INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize("bad", [INF, -INF, NAN, 10**400, -(10**400)])
@pytest.mark.parametrize("spec", [Number(), Number(0.0), Number(allow_inf=False)])
def test_number_refuses_non_finite_and_overflowing(spec, bad):
    with pytest.raises(ValueError, match="allowed: a number"):
        spec.check(bad)


def test_number_allows_infinity_only_when_its_spec_says_so():
    assert Number(0.0, allow_inf=True).check(INF) == INF
    with pytest.raises(ValueError):
        Number(0.0, allow_inf=True).check(-INF)  # still inside the bounds
    with pytest.raises(ValueError):
        Number(allow_inf=True).check(NAN)


@pytest.mark.parametrize("value", [[0.0, INF], [NAN, 1.0], (0.0, 10**400)])
def test_ranges_and_lists_refuse_non_finite_items(value):
    for spec in (Interval(Number()), ListOf(Number())):
        with pytest.raises(ValueError):
            spec.check(value)
    with pytest.raises(ValueError):
        Mapping().check({str(i): v for i, v in enumerate(value)})


@pytest.mark.parametrize("params", [
    {"alpha": INF}, {"alpha": 10**400}, {"p": 10**400}, {"p": INF},
])
def test_mixup_refuses_non_finite_parameters_when_built(params):
    given_before = dict(params)
    with pytest.raises(ParamError, match=r"^mixup\.(alpha|p): got .*; allowed: a number") as info:
        augkit.make("mixup", num_classes=2, **params)
    assert len(str(info.value)) < 200  # a 400-digit int does not flood the message
    assert params == given_before


@pytest.mark.parametrize("name,params", [
    ("gaussian_blur", {"sigma": INF}), ("gaussian_blur", {"sigma": [0.1, INF]}),
    ("random_erasing", {"ratio": [0.3, INF]}),
])
def test_vision_ranges_refuse_infinity(name, params):
    with pytest.raises(ParamError, match="got"):
        augkit.make(name, **params)


@pytest.mark.parametrize("weights", [[INF, 1.0], [NAN, 1.0], [1e308, 1e308]])
def test_one_of_weights_must_be_finite(weights):
    with pytest.raises(ParamError, match=r"^one_of\.weights: got"):
        augkit.make("one_of", transforms=[AddNoise(), AddNoise()], weights=weights)


@pytest.mark.parametrize("value", [np.float32(0.5), np.float64(0.25), np.int64(1), np.uint8(0)])
def test_numpy_scalars_are_stored_as_python_numbers(value):
    t = AddNoise(scale=value, p=value)
    for key in ("scale", "p"):
        stored = t.get_params()[key]
        assert type(stored) is float and stored == float(value)
    assert yaml.safe_load(yaml.safe_dump(t.to_dict())) == t.to_dict()


def test_numpy_scalars_in_ranges_choices_and_integers():
    assert Shift(amount=(np.float32(-1.0), np.float64(2.0))).get_params()["amount"] == (-1.0, 2.0)
    assert type(Interval(Number()).check(np.float32(0.5))[0]) is float
    assert Number(integer=True).check(np.int32(3)) == 3
    assert type(Number(integer=True).check(np.int32(3))) is int
    assert Choice(1, 2).check(np.int64(2)) == 2
    t = augkit.make("some_of", transforms=[AddNoise(), AddNoise()], n=np.int64(2))
    assert type(t.get_params()["n"]) is int


@pytest.mark.parametrize("value", [True, np.True_, np.float32(NAN), np.float64(INF)])
def test_numpy_booleans_and_non_finite_scalars_stay_refused(value):
    with pytest.raises(ParamError):
        AddNoise(scale=value)


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(10**500), 10**500))
def test_number_check_returns_a_finite_float_or_a_value_error(x):
    try:
        out = Number().check(x)
    except ValueError:
        assert isinstance(x, int) and abs(x) > 1e308 or not math.isfinite(x)
    else:
        assert type(out) is float and math.isfinite(out)
