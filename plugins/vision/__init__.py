"""Vision transforms: gaussian_blur, random_erasing, mixup, cutmix.

Kept light: the classes (and OpenCV, torchvision) load only when a name is used.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_LAZY = {
    "GaussianBlur": "augkit.plugins.vision.blur",
    "RandomErasing": "augkit.plugins.vision.erasing",
    "MixUp": "augkit.plugins.vision.mix",
    "CutMix": "augkit.plugins.vision.mix",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'augkit.plugins.vision' has no attribute {name!r}")
    return getattr(import_module(module), name)
