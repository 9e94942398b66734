"""scikit-learn's own tests of ``StandardScaler`` and ``MinMaxScaler``, run on augkit's classes.

The test functions of ``sklearn/preprocessing/tests/test_data.py`` and ``test_common.py`` that
name either class are copied here with the module globals ``StandardScaler`` / ``MinMaxScaler``
swapped for augkit's (the module's helper functions too), and scaler instances or classes in
their ``parametrize`` lists swapped likewise; parameter sets naming only other estimators are
dropped. Set ``AUGKIT_OWN_TESTS_CLASSES=sklearn`` to run the same selection on scikit-learn's
classes (the baseline). With scikit-learn 1.9.1 both runs pass the same 246 tests and skip
the same 119 (array-API namespaces not installed or ``SCIPY_ARRAY_API`` unset, pandas cases,
sparse centring). With ``SCIPY_ARRAY_API=1`` the torch array-API cases run too and pass alike
(their torch-cuda cases need a working CUDA device).
"""

from __future__ import annotations

import inspect
import os
import re
import types
from typing import Any

import pytest
import sklearn.preprocessing as skp
from sklearn.conftest import global_dtype  # noqa: F401  (a fixture the copied tests take)

import augkit.scaling

# scikit-learn's test modules import what their version ships (1.9's import its callbacks).
own_data = pytest.importorskip("sklearn.preprocessing.tests.test_data")
own_common = pytest.importorskip("sklearn.preprocessing.tests.test_common")

_NAMES = ("StandardScaler", "MinMaxScaler")
_MENTION = re.compile(r"\b(?:StandardScaler|MinMaxScaler)\b")
_USE_SKLEARN = os.environ.get("AUGKIT_OWN_TESTS_CLASSES") == "sklearn"
_SWAP: dict[type, type] = {getattr(skp, n): getattr(augkit.scaling, n) for n in _NAMES}
_ParameterSet = type(pytest.param(None))


@pytest.fixture
def global_random_seed() -> int:
    # scikit-learn's conftest default when SKLEARN_TESTS_GLOBAL_RANDOM_SEED is unset.
    return 42


def _swap_value(value: Any) -> Any:
    if _USE_SKLEARN:
        return value
    if isinstance(value, type) and value in _SWAP:
        return _SWAP[value]
    if type(value) in _SWAP:
        return _SWAP[type(value)](**value.get_params())
    if isinstance(value, tuple):
        return tuple(_swap_value(v) for v in value)
    if isinstance(value, list):
        return [_swap_value(v) for v in value]
    return value


def _is_estimator(value: Any) -> bool:
    cls = value if isinstance(value, type) else type(value)
    return hasattr(cls, "fit") and cls.__module__.startswith("sklearn.")


def _flat(value: Any) -> list[Any]:
    if isinstance(value, _ParameterSet):
        return [x for v in value.values for x in _flat(v)]
    if isinstance(value, tuple | list):
        return [x for v in value for x in _flat(v)]
    return [value]


def _ours(value: Any) -> bool:
    return any((v if isinstance(v, type) else type(v)) in _SWAP for v in _flat(value))


def _swap_mark(mark: pytest.Mark) -> pytest.Mark | None:
    if mark.name != "parametrize":
        return mark
    names, values, *rest = mark.args
    values = list(values)
    if any(_is_estimator(v) for v in _flat(values)):
        # Parameter sets of other estimators (MaxAbsScaler, RobustScaler, ...) are not ours.
        values = [v for v in values if _ours(v)]
        if not values:
            return None
    swapped = []
    for v in values:
        if isinstance(v, _ParameterSet):
            swapped.append(pytest.param(*_swap_value(v.values), marks=v.marks, id=v.id))
        else:
            swapped.append(_swap_value(v))
    return pytest.mark.parametrize(names, swapped, *rest, **mark.kwargs).mark


def _patched_globals(module: types.ModuleType) -> dict[str, Any]:
    glb = dict(vars(module))
    if not _USE_SKLEARN:
        for name in _NAMES:
            glb[name] = getattr(augkit.scaling, name)
    # Helpers (and the tests) read the swapped names through these globals.
    for name, value in list(glb.items()):
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            glb[name] = _rebind(value, glb)
    return glb


def _rebind(f: types.FunctionType, glb: dict[str, Any]) -> types.FunctionType:
    g = types.FunctionType(f.__code__, glb, f.__name__, f.__defaults__, f.__closure__)
    g.__kwdefaults__ = f.__kwdefaults__
    g.__dict__.update(f.__dict__)
    g.__module__ = f.__module__
    return g


def _collect(module: types.ModuleType, prefix: str) -> dict[str, Any]:
    glb = _patched_globals(module)
    tests: dict[str, Any] = {}
    for name, f in vars(module).items():
        if not (name.startswith("test_") and isinstance(f, types.FunctionType)):
            continue
        if not _MENTION.search(inspect.getsource(f)):
            continue
        g = glb[name]
        marks = [_swap_mark(m) for m in getattr(f, "pytestmark", [])]
        if any(m is None for m in marks):
            continue
        g.pytestmark = [m for m in marks if m is not None]
        new = f"test_{prefix}__{name[len('test_'):]}"
        g.__name__ = g.__qualname__ = new
        tests[new] = g
    return tests


_COPIED = {**_collect(own_data, "data"), **_collect(own_common, "common")}
globals().update(_COPIED)


def test_the_copies_cover_both_classes() -> None:
    # A renamed class or module upstream would otherwise leave nothing selected, silently.
    assert len(_COPIED) >= 30
    for name in _NAMES:
        assert any(name in inspect.getsource(f) for f in _COPIED.values()), name
