"""The vision family's registry entries (light: importing this loads no backend library)."""

TRANSFORMS: dict = {
    "gaussian_blur": {"target": "augkit.plugins.vision.blur:GaussianBlur", "kinds": ["image"]},
    "random_erasing": {
        "target": "augkit.plugins.vision.erasing:RandomErasing",
        "kinds": ["image"],
    },
    "mixup": {"target": "augkit.plugins.vision.mix:MixUp", "kinds": ["image"]},
    "cutmix": {"target": "augkit.plugins.vision.mix:CutMix", "kinds": ["image"]},
}
