"""augkit on Ray Data (the ``ray`` extra: ``pip install 'augkit[ray]'``).

- :func:`fit_resample`: SMOTE, ADASYN and RandomOverSampler over a ``ray.data.Dataset``, equal
  to the in-memory result (``augkit.ray.resample``).
- :func:`augment`: a policy's sample stage over every row, row i as
  ``AugmentedDataset(...)[i]`` (``augkit.ray.offline``).

Ray is imported when one of them is first used, so ``augkit.ray.cli`` (the ``augkit
resample`` / ``augkit augment`` commands) loads without it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["augment", "fit_resample"]


def __getattr__(name: str) -> Any:
    if name == "fit_resample":
        from augkit.ray._engine import require_ray

        require_ray()
        from augkit.ray.resample import fit_resample

        return fit_resample
    if name == "augment":
        from augkit.ray._engine import require_ray

        require_ray()
        from augkit.ray.offline import augment

        return augment
    raise AttributeError(f"module 'augkit.ray' has no attribute {name!r}")
