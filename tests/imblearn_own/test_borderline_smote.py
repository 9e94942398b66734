"""imbalanced-learn\'s own test_borderline_smote.py, run on augkit\'s classes."""

from ._swap import load

globals().update(load("over_sampling/_smote/tests/test_borderline_smote.py"))
