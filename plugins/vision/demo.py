"""Demo section "vision": examples/policies/vision.yaml on scikit-learn's sample images.

The sample stage (blur, erasing) runs per image on numpy HWC uint8, as in a loader worker; the
batch stage (mixup or cutmix) runs on an NCHW tensor batch with integer labels. A before/after
grid is saved as ``vision_policy.png``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from augkit.demo import Row
from augkit.policy import load_policy

PICTURE = "vision_policy.png"
VARIANTS = 3  # augmented versions shown per image


def _sample_images() -> tuple[list[np.ndarray], list[str]]:
    from sklearn.datasets import load_sample_images

    bunch = load_sample_images()
    names = [Path(f).stem for f in bunch.filenames]  # china, flower
    return [np.ascontiguousarray(img) for img in bunch.images], names


def _rate(fn, items: int, min_time: float = 0.3) -> float:
    """Items per second of ``fn()`` over at least ``min_time`` seconds (after one warm-up)."""
    fn()
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return calls * items / elapsed


def run(out_dir: Path, policies_dir: Path) -> list[Row]:
    path = Path(policies_dir) / "vision.yaml"
    policy = load_policy(path)
    images, names = _sample_images()
    h, w, c = images[0].shape
    data = f"sklearn sample images {'+'.join(names)} ({h}x{w}x{c} uint8)"

    # Sample stage: item i of epoch e draws from stream (seed, epoch, i), as in a loader.
    variants = [[policy(img, index=i, epoch=e) for e in range(VARIANTS)]
                for i, img in enumerate(images)]
    changed = np.mean([np.mean(v != img) for img, vs in zip(images, variants, strict=True)
                       for v in vs])
    counter = iter(range(10**9))

    def sample_step() -> None:
        k = next(counter)
        policy(images[k % len(images)], index=k)

    sample_rate = _rate(sample_step, 1)

    # Batch stage: the two images (and copies) as one NCHW batch with integer labels.
    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    labels = torch.arange(len(images))
    # Shown: the first batch index whose permutation pairs the two images (with two images,
    # half the draws pair each image with itself, which shows nothing).
    index = next(i for i in range(100)
                 if not torch.equal(policy.apply_batch((batch, labels), generator=i)[0], batch))
    mixed, soft = policy.apply_batch((batch, labels), generator=index)
    big = batch.repeat(8, 1, 1, 1)
    big_labels = labels.repeat(8)
    batch_rate = _rate(lambda: policy.apply_batch((big, big_labels), generator=1), big.shape[0])

    picture = _grid(images, names, variants, mixed, soft, Path(out_dir) / PICTURE)
    return [
        Row("vision", data, f"{path.name} sample (blur, erasing)", "2 originals",
            f"{VARIANTS} views each, {changed:.0%} of pixels changed", sample_rate,
            "images/s", picture),
        Row("vision", data, f"{path.name} batch (mixup | cutmix)",
            f"labels {labels.tolist()}",
            "soft labels " + ", ".join(f"[{a:.2f} {b:.2f}]" for a, b in soft.tolist()),
            batch_rate, "images/s", picture),
    ]


def _grid(images: list[np.ndarray], names: list[str], variants: list[list[np.ndarray]],
          mixed: torch.Tensor, soft: torch.Tensor, path: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 2 + VARIANTS
    fig, axes = plt.subplots(len(images), cols, figsize=(3 * cols, 2.3 * len(images)),
                             squeeze=False)
    for r, (img, name) in enumerate(zip(images, names, strict=True)):
        panels = [(img, f"{name}: original")]
        panels += [(v, f"sample stage, epoch {e}") for e, v in enumerate(variants[r])]
        weights = ", ".join(f"{x:.2f}" for x in soft[r].tolist())
        panels.append((mixed[r].permute(1, 2, 0).numpy(), f"batch stage: labels [{weights}]"))
        for ax, (pic, title) in zip(axes[r], panels, strict=True):
            ax.imshow(pic)
            ax.set_title(title, fontsize=8)
            ax.axis("off")
    fig.suptitle("augkit vision policy (examples/policies/vision.yaml)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path.name
