"""augkit's imbalance family: SMOTE and ADASYN (imbalanced-learn's, exactly, with augkit's
checks), graph_smote for minority nodes, and ``augkit.balance`` for minority graphs.

Importing this package imports neither sklearn nor imbalanced-learn: the names below load
their module on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "SMOTE": "augkit.plugins.imbalance.samplers",
    "ADASYN": "augkit.plugins.imbalance.samplers",
    "SMOTETransform": "augkit.plugins.imbalance.samplers",
    "ADASYNTransform": "augkit.plugins.imbalance.samplers",
    "GraphSMOTE": "augkit.plugins.imbalance.graph_smote",
    "graph_smote": "augkit.plugins.imbalance.functional",
    "resolve_neighbours": "augkit.plugins.imbalance.functional",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'augkit.plugins.imbalance' has no attribute {name!r}")
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return __all__
