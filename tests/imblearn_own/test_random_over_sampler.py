"""imbalanced-learn\'s own test_random_over_sampler.py, run on augkit\'s classes."""

from ._swap import load

globals().update(load("over_sampling/tests/test_random_over_sampler.py"))
