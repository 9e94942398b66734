"""The imbalance family's registry entries (light: imports nothing)."""

TRANSFORMS: dict = {
    "smote": {"target": "augkit.plugins.imbalance.samplers:SMOTETransform",
              "kinds": ["table"], "levels": ["dataset"]},
    "adasyn": {"target": "augkit.plugins.imbalance.samplers:ADASYNTransform",
               "kinds": ["table"], "levels": ["dataset"]},
    "graph_smote": {"target": "augkit.plugins.imbalance.graph_smote:GraphSMOTE",
                    "kinds": ["graph"], "levels": ["dataset", "sample"]},
}
