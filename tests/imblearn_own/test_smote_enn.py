"""imbalanced-learn\'s own test_smote_enn.py, run on augkit\'s classes."""

from ._swap import load

globals().update(load("combine/tests/test_smote_enn.py"))
