"""imbalanced-learn\'s own test_smote_nc.py, run on augkit\'s classes."""

from ._swap import load

globals().update(load("over_sampling/_smote/tests/test_smote_nc.py"))
