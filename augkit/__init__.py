"""augkit: data augmentation for graphs, imbalanced tables and images.

One registry of transform plugins, one composable pipeline, one YAML policy format::

    import augkit
    policy = augkit.load_policy("examples/policies/graph.yaml")
    view = policy(data, index=0)              # the sample stage, stream (seed, epoch 0, item 0)
    edge_dropout = augkit.make("edge_dropout", p=0.2)

Public names are imported lazily, so ``import augkit`` (and ``augkit list``) stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "list_transforms": "augkit.registry",
    "make": "augkit.registry",
    "register": "augkit.registry",
    "Transform": "augkit.transform",
    "Compose": "augkit.compose",
    "OneOf": "augkit.compose",
    "SomeOf": "augkit.compose",
    "RandomApply": "augkit.compose",
    "Views": "augkit.compose",
    "Policy": "augkit.policy",
    "load_policy": "augkit.policy",
    "AugkitError": "augkit.errors",
    "PolicyError": "augkit.errors",
    "InputError": "augkit.errors",
    "ParamError": "augkit.errors",
    "RegistryError": "augkit.errors",
    "ResamplingError": "augkit.errors",
    "balance": "augkit._balance",
    "release_buffers": "augkit._memory",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'augkit' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
