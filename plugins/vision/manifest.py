"""The vision family's registry entries (light: importing this loads no backend library)."""


def _entry(target: str, levels: list[str]) -> dict:
    return {"target": f"augkit.plugins.vision.{target}", "kinds": ["image"], "levels": levels}


TRANSFORMS: dict = {
    "gaussian_blur": _entry("blur:GaussianBlur", ["sample", "batch"]),
    "random_erasing": _entry("erasing:RandomErasing", ["sample", "batch"]),
    "mixup": _entry("mix:MixUp", ["batch"]),
    "cutmix": _entry("mix:CutMix", ["batch"]),
    "jigsaw": _entry("jigsaw:Jigsaw", ["sample", "batch"]),
    "patch_mask": _entry("patch_mask:PatchMask", ["sample", "batch"]),
    "rotation_pretext": _entry("rotation:RotationPretext", ["sample", "batch"]),
}
