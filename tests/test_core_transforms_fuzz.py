"""The core's own transforms (scalers, diffusion noise) on generated odd tables and tensors:
a correct output or an AugkitError, never another exception, and the input unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import augkit
from augkit.errors import AugkitError

DTYPES = (torch.float32, torch.float64, torch.float16, torch.int64, torch.bool)


@st.composite
def tables(draw):
    """(X, y) with 0-40 rows, 0-6 columns, any of several dtypes, NaN/inf sprinkled, numpy or
    torch, sometimes with a wrong-length y or a 1-D or 3-D X."""
    rows, cols = draw(st.integers(0, 40)), draw(st.integers(0, 6))
    dtype = draw(st.sampled_from(DTYPES))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn(rows, cols, generator=g, dtype=torch.float64) * 10
    if rows * cols and draw(st.booleans()):
        flat = x.view(-1)
        flat[draw(st.integers(0, rows * cols - 1))] = draw(
            st.sampled_from([float("nan"), float("inf"), -float("inf")]))
    x = x.to(dtype)
    shape = draw(st.sampled_from(["2d", "2d", "2d", "1d", "3d"]))
    if shape == "1d":
        x = x.reshape(-1)
    elif shape == "3d":
        x = x.reshape(rows, cols, 1)
    y = torch.arange(rows + draw(st.sampled_from([0, 0, 0, 1]))) % 2
    if draw(st.booleans()):
        return x.numpy(), y.numpy()
    return x, y


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return torch.equal(a, b) or (a.is_floating_point() and bool(
        (torch.isnan(a) == torch.isnan(b)).all()
        and (a.nan_to_num(0.0) == b.nan_to_num(0.0)).all()))


def _copy(v):
    return v.copy() if isinstance(v, np.ndarray) else v.clone()


@pytest.mark.parametrize("name", ["minmax_scale", "standardize"])
@given(data=tables(), fit_on=st.sampled_from(["all", "per_graph"]))
def test_scalers_on_odd_tables(name, data, fit_on):
    X, y = data
    before = (_copy(X), _copy(y))
    t = augkit.make(name, fit_on=fit_on)
    try:
        if fit_on == "all":
            t = t.fit((X, y))
        X2, y2 = t((X, y), generator=0)
    except AugkitError:
        pass
    else:
        assert tuple(X2.shape) == tuple(X.shape) and type(X2) is type(X)
    assert _same(X, before[0]) and _same(y, before[1])


@given(data=tables(), t=st.sampled_from([None, 0, 999, [0, 10]]))
def test_diffusion_noise_on_odd_tables_and_tensors(data, t):
    X, y = data
    before = (_copy(X), _copy(y))
    noise = augkit.make("diffusion_noise", t=t)
    for item in ((X, y), X if isinstance(X, torch.Tensor) else torch.from_numpy(X)):
        try:
            out = noise(item, generator=1)
        except AugkitError:
            continue
        got = out[0] if isinstance(out, tuple) else out
        assert tuple(got.shape) == tuple(item[0].shape if isinstance(item, tuple)
                                         else item.shape)
    assert _same(X, before[0]) and _same(y, before[1])
