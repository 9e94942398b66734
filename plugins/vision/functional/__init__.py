"""Pure image kernels: one public function per operation, one private kernel per input type
(the torchvision v2 ``functional`` habit). No hidden state: the random parts (sigmas, boxes,
lambdas, partners) are drawn by the ``sample_*`` helpers from an explicit generator and passed
in, so every kernel is deterministic given its arguments.

Inputs:

- numpy ``HWC`` or ``HW`` (uint8 or float32, the albumentations convention), or ``NHWC``;
- torch ``CHW`` / ``NCHW`` (any leading dims), float or uint8, any device, ``tv_tensors.Image``;
- ``PIL.Image`` (converted through numpy and back).

Backends: numpy images go through OpenCV with exactly the kernel albumentations 2.0.8 builds, so
results equal albumentations' for the same parameters. CPU tensors also go through OpenCV, one
call per contiguous (H, W) plane: each call is a fused C kernel, faster than a batched torch
convolution (bench vision/gaussian_blur/torch-batch); a tensor autograd tracks takes the
torch convolution instead, to the same values. Other devices use batched torch ops (a
grouped convolution with one kernel per image, boxes as broadcast masks), with no Python loop
over the images.
"""

from augkit.plugins.vision.functional._images import count_images, image_size
from augkit.plugins.vision.functional.blur import (
    MAX_KERNEL_SIZE,
    MAX_SIGMA,
    gaussian_blur,
    gaussian_blur_some,
    gaussian_kernel1d,
    kernel_size_for,
)
from augkit.plugins.vision.functional.erasing import erase, erase_some, sample_erasing_boxes
from augkit.plugins.vision.functional.jigsaw import (
    jigsaw,
    maximal_permutations,
    min_hamming,
    tile_size,
)
from augkit.plugins.vision.functional.mix import (
    check_area,
    cutmix,
    mixup,
    sample_beta,
    sample_cutmix_boxes,
    to_soft_labels,
)
from augkit.plugins.vision.functional.patch_mask import (
    fill_patches,
    kept_patches,
    masked_count,
    patch_grid,
    patchify,
    sample_patch_masks,
)
from augkit.plugins.vision.functional.rotation import (
    RIGHT_ANGLES,
    rot90,
    rot90_each,
    rotations_of,
)

__all__ = [
    "MAX_KERNEL_SIZE",
    "MAX_SIGMA",
    "RIGHT_ANGLES",
    "check_area",
    "count_images",
    "cutmix",
    "erase",
    "erase_some",
    "fill_patches",
    "gaussian_blur",
    "gaussian_blur_some",
    "gaussian_kernel1d",
    "image_size",
    "jigsaw",
    "kept_patches",
    "kernel_size_for",
    "masked_count",
    "maximal_permutations",
    "min_hamming",
    "mixup",
    "patch_grid",
    "patchify",
    "rot90",
    "rot90_each",
    "rotations_of",
    "sample_beta",
    "sample_cutmix_boxes",
    "sample_erasing_boxes",
    "sample_patch_masks",
    "tile_size",
    "to_soft_labels",
]
