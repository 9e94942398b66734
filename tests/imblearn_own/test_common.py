"""imbalanced-learn\'s own test_common.py, run on augkit\'s classes."""

from ._swap import load

globals().update(load("over_sampling/tests/test_common.py"))
