"""augkit's imbalance family: SMOTE, ADASYN, RandomOverSampler, SMOTENC, SMOTEN,
BorderlineSMOTE, SVMSMOTE, KMeansSMOTE, SMOTEENN and SMOTETomek (imbalanced-learn's, exactly,
with augkit's checks), graph_smote for minority nodes, and ``augkit.balance`` for minority graphs.

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
    "RandomOverSampler": "augkit.plugins.imbalance.oversamplers",
    "SMOTENC": "augkit.plugins.imbalance.oversamplers",
    "SMOTEN": "augkit.plugins.imbalance.oversamplers",
    "BorderlineSMOTE": "augkit.plugins.imbalance.oversamplers",
    "SVMSMOTE": "augkit.plugins.imbalance.oversamplers",
    "KMeansSMOTE": "augkit.plugins.imbalance.oversamplers",
    "RandomOverSampleTransform": "augkit.plugins.imbalance.oversamplers",
    "SMOTENCTransform": "augkit.plugins.imbalance.oversamplers",
    "SMOTENTransform": "augkit.plugins.imbalance.oversamplers",
    "BorderlineSMOTETransform": "augkit.plugins.imbalance.oversamplers",
    "SVMSMOTETransform": "augkit.plugins.imbalance.oversamplers",
    "KMeansSMOTETransform": "augkit.plugins.imbalance.oversamplers",
    "SMOTEENN": "augkit.plugins.imbalance.combined",
    "SMOTETomek": "augkit.plugins.imbalance.combined",
    "SMOTEENNTransform": "augkit.plugins.imbalance.combined",
    "SMOTETomekTransform": "augkit.plugins.imbalance.combined",
    "GraphSMOTE": "augkit.plugins.imbalance.graph_smote",
    "graph_smote": "augkit.plugins.imbalance.functional",
    "resolve_neighbours": "augkit.plugins.imbalance.functional",
}

__all__, __getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
