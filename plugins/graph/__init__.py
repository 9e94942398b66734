"""augkit's graph family: node/edge dropout, feature masking, rewiring, subgraph sampling on
PyG ``Data`` and ``Batch``, and networkx conversion.

Kept light: nothing heavy (torch_geometric, networkx, numba) is imported until a name is used.
"""

from __future__ import annotations

from augkit.lazy import lazy_attributes

_LAZY = {
    "from_networkx": "augkit.plugins.graph.convert",
    "to_networkx": "augkit.plugins.graph.convert",
    "EdgeDropout": "augkit.plugins.graph.dropout",
    "NodeDropout": "augkit.plugins.graph.dropout",
    "FeatureMasking": "augkit.plugins.graph.masking",
    "EdgeRewiring": "augkit.plugins.graph.rewiring",
    "SubgraphSampling": "augkit.plugins.graph.sampling",
    "functional": "augkit.plugins.graph.functional",
}

__all__, __getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
