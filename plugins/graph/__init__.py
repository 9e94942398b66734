"""augkit's graph family: node/edge dropout, feature masking, rewiring, subgraph sampling on
PyG ``Data`` and ``Batch``, and networkx conversion.

Kept light: nothing heavy (torch_geometric, networkx, numba) is imported until a name is used.
"""

from __future__ import annotations

import importlib
from typing import Any

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

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(target)
    return module if name == "functional" else getattr(module, name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
