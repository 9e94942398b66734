"""The imbalance family's registry entries (light: imports nothing)."""

_TABLE = {"kinds": ["table"], "levels": ["dataset"]}
_OVER = "augkit.plugins.imbalance.oversamplers"
_COMBINED = "augkit.plugins.imbalance.combined"

TRANSFORMS: dict = {
    "smote": {"target": "augkit.plugins.imbalance.samplers:SMOTETransform", **_TABLE},
    "adasyn": {"target": "augkit.plugins.imbalance.samplers:ADASYNTransform", **_TABLE},
    "random_oversample": {"target": f"{_OVER}:RandomOverSampleTransform", **_TABLE},
    "smotenc": {"target": f"{_OVER}:SMOTENCTransform", **_TABLE},
    "smoten": {"target": f"{_OVER}:SMOTENTransform", **_TABLE},
    "borderline_smote": {"target": f"{_OVER}:BorderlineSMOTETransform", **_TABLE},
    "svm_smote": {"target": f"{_OVER}:SVMSMOTETransform", **_TABLE},
    "kmeans_smote": {"target": f"{_OVER}:KMeansSMOTETransform", **_TABLE},
    "smote_enn": {"target": f"{_COMBINED}:SMOTEENNTransform", **_TABLE},
    "smote_tomek": {"target": f"{_COMBINED}:SMOTETomekTransform", **_TABLE},
    "graph_smote": {"target": "augkit.plugins.imbalance.graph_smote:GraphSMOTE",
                    "kinds": ["graph"], "levels": ["dataset", "sample"]},
}
