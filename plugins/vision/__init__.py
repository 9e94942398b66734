"""Vision transforms: gaussian_blur, random_erasing, mixup, cutmix.

Kept light: the classes (and OpenCV, torchvision) load only when a name is used.
"""

from __future__ import annotations

from augkit.lazy import lazy_attributes

_LAZY = {
    "GaussianBlur": "augkit.plugins.vision.blur",
    "RandomErasing": "augkit.plugins.vision.erasing",
    "MixUp": "augkit.plugins.vision.mix",
    "CutMix": "augkit.plugins.vision.mix",
}

__all__, __getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
