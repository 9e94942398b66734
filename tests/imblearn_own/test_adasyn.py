"""imbalanced-learn\'s own test_adasyn.py, run on augkit\'s classes."""

from ._swap import load

globals().update(load("over_sampling/tests/test_adasyn.py"))
