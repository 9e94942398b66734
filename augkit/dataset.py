"""The import path ``augkit.dataset.AugmentedDataset`` (the examples and benchmarks use it);
the class lives in ``augkit.data``."""

from augkit.data import AugmentedDataset

__all__ = ["AugmentedDataset"]
