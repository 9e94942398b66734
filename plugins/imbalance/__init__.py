"""augkit's imbalance family: SMOTE and ADASYN (imbalanced-learn's, exactly, with augkit's
checks), graph_smote for minority nodes, and ``augkit.balance`` for minority graphs.

Importing this package imports neither sklearn nor imbalanced-learn: the names below load
their module on first use.
"""

from __future__ import annotations

from augkit.lazy import lazy_attributes

_LAZY = {
    "SMOTE": "augkit.plugins.imbalance.samplers",
    "ADASYN": "augkit.plugins.imbalance.samplers",
    "SMOTETransform": "augkit.plugins.imbalance.samplers",
    "ADASYNTransform": "augkit.plugins.imbalance.samplers",
    "GraphSMOTE": "augkit.plugins.imbalance.graph_smote",
    "graph_smote": "augkit.plugins.imbalance.functional",
    "resolve_neighbours": "augkit.plugins.imbalance.functional",
}

__all__, __getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
