"""The graph family's registry entries (light: imports nothing)."""

_LEVELS = ["sample", "batch"]


def _entry(target: str) -> dict:
    return {"target": f"augkit.plugins.graph.{target}", "kinds": ["graph"], "levels": _LEVELS}


TRANSFORMS: dict = {
    "edge_dropout": _entry("dropout:EdgeDropout"),
    "node_dropout": _entry("dropout:NodeDropout"),
    "feature_masking": _entry("masking:FeatureMasking"),
    "edge_rewiring": _entry("rewiring:EdgeRewiring"),
    "subgraph_sampling": _entry("sampling:SubgraphSampling"),
    "edge_adding": _entry("adding:EdgeAdding"),
    "node_shuffling": _entry("shuffling:NodeShuffling"),
    "feature_dropout": _entry("feature_dropout:FeatureDropout"),
    "graph_diffusion": _entry("diffusion:GraphDiffusion"),
}
