"""imbalanced-learn's own test modules, loaded with augkit's classes in place of its own.

Each module is executed afresh from the installed wheel (the imported ``imblearn`` test
module is left alone) while ``imblearn.over_sampling`` and ``imblearn.combine`` hand out
augkit's classes under their own names, so every test function, fixture and parametrization
of the file (instances built at import included) runs against augkit's classes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

imblearn = pytest.importorskip("imblearn")

from augkit.plugins import imbalance as augkit_imbalance  # noqa: E402

#: The class names rebound in every loaded module.
SWAPPED = ("RandomOverSampler", "SMOTENC", "SMOTEN", "BorderlineSMOTE", "SVMSMOTE",
           "KMeansSMOTE", "SMOTEENN", "SMOTETomek", "SMOTE", "ADASYN")


# Tests that assert imbalanced-learn's exact wording where augkit raises its own error (still
# a ValueError, naming what is wrong and what is allowed): expected to fail, strictly.
_OWN_MESSAGE = "augkit's own ValueError message: "
DIFFERENCES = {
    "test_smotenc_check_target_type":
        _OWN_MESSAGE + "augkit checks that X and y have one length first, and the test's "
        "multilabel y has fewer rows than X",
    "test_smotenc_samplers_one_label": _OWN_MESSAGE + "'y has one class only (0.0)'",
    "test_smote_nc_categorical_features_auto_error":
        _OWN_MESSAGE + "augkit checks that X and y have one length first, and the test's X "
        "has 10 rows for 100 labels",
}


def load(relative: str) -> dict[str, Any]:
    """The test functions and fixtures of ``imblearn/<relative>``, run on augkit's classes."""
    path = Path(imblearn.__file__).parent / relative
    name = "augkit_imblearn_own." + relative.replace("/", ".").removesuffix(".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    from imblearn import combine, over_sampling

    with pytest.MonkeyPatch.context() as patch:
        for package in (over_sampling, combine):
            for cls in SWAPPED:
                if hasattr(package, cls):
                    patch.setattr(package, cls, getattr(augkit_imbalance, cls))
        spec.loader.exec_module(module)
    out = {}
    for key, value in vars(module).items():
        if key.startswith("test_") and callable(value):
            if key in DIFFERENCES:
                value = pytest.mark.xfail(strict=True, reason=DIFFERENCES[key])(value)
            out[key] = value
        elif type(value).__name__ == "FixtureFunctionDefinition":  # the file's fixtures
            out[key] = value
    out["test_classes_are_augkits"] = _swapped_check(module)
    return out


def _swapped_check(module: Any) -> Any:
    def test_classes_are_augkits() -> None:
        for cls in SWAPPED:
            if cls in vars(module):
                assert getattr(module, cls).__module__.startswith("augkit.")

    return test_classes_are_augkits
