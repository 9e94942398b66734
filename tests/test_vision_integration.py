"""Vision integration: torchvision datasets and v2.Compose, DataLoader workers and seeds,
mixup/cutmix as collate_fn or after the loader, and the demo section."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

import augkit
from augkit.data import collate

torchvision = pytest.importorskip("torchvision")
from torchvision.transforms import v2  # noqa: E402

SAMPLE_POLICY = """
augkit: 1
seed: 11
sample:
  - gaussian_blur: {sigma: [0.5, 3.0]}
  - random_erasing: {value: random, scale: [0.05, 0.3]}
batch:
  - mixup: {alpha: 0.4, num_classes: 3}
"""


class SameImage(Dataset):
    """Every item is the same image: any difference between items comes from augmentation."""

    def __init__(self, transform, n: int = 8, numpy_out: bool = False) -> None:
        rng = np.random.default_rng(0)
        self.image = rng.integers(0, 256, (24, 28, 3), dtype=np.uint8)
        self.transform, self.n, self.numpy_out = transform, n, numpy_out

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        out = self.transform(self.image)
        out = out["image"] if isinstance(out, dict) else out
        return torch.from_numpy(np.ascontiguousarray(out)).permute(2, 0, 1), i % 3


def _items(loader) -> list[torch.Tensor]:
    return [img for images, _ in loader for img in images]


def test_as_transform_of_fake_data_and_inside_v2_compose():
    blur = augkit.make("gaussian_blur")
    pil_ds = torchvision.datasets.FakeData(size=3, image_size=(3, 20, 24), transform=blur)
    img, _ = pil_ds[0]
    assert img.size == (24, 20)  # PIL in, PIL out
    erasing = augkit.make("random_erasing", value="mean")
    ds = torchvision.datasets.FakeData(
        size=3, image_size=(3, 20, 24), transform=v2.Compose([v2.ToImage(), blur, erasing]))
    img, _ = ds[1]
    assert isinstance(img, torchvision.tv_tensors.Image) and img.shape == (3, 20, 24)
    assert img.dtype == torch.uint8
    plain = torchvision.datasets.FakeData(size=3, image_size=(3, 20, 24),
                                          transform=v2.PILToTensor())
    assert not torch.equal(plain[1][0], img)  # FakeData is deterministic per index


def test_image_folder_with_policy_and_collate(tmp_path: Path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls in ("cat", "dog", "eel"):
        (tmp_path / cls).mkdir()
        for k in range(4):
            Image.fromarray(rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)).save(
                tmp_path / cls / f"{k}.png")
    policy = augkit.load_policy(SAMPLE_POLICY)
    ds = torchvision.datasets.ImageFolder(
        tmp_path, transform=v2.Compose([v2.PILToTensor(), v2.ToDtype(torch.float32, scale=True),
                                        policy]))
    loader = DataLoader(ds, batch_size=4, shuffle=True, collate_fn=collate(policy),
                        generator=torch.Generator().manual_seed(0))
    batches = list(loader)
    assert len(batches) == 3
    for images, labels in batches:
        assert images.shape == (4, 3, 20, 20) and images.dtype == torch.float32
        assert labels.shape == (4, 3)
        torch.testing.assert_close(labels.sum(1), torch.ones(4))


@pytest.mark.parametrize("name", ["mixup", "cutmix"])
def test_collate_with_a_transform_and_after_the_loader(name):
    t = augkit.make(name, num_classes=3)
    ds = SameImage(lambda a: a, n=6)
    loader = DataLoader(ds, batch_size=3, collate_fn=collate(t))
    for images, labels in loader:
        assert images.dtype == torch.uint8 and labels.shape == (3, 3)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    policy = augkit.load_policy(f"augkit: 1\nbatch:\n  - {name}: {{num_classes: 3}}\n")
    for images, labels in DataLoader(ds, batch_size=3):
        images, labels = images.to(device), labels.to(device)
        out, soft = policy.apply_batch((images, labels))
        assert out.device == images.device and out.shape == images.shape
        torch.testing.assert_close(soft.sum(1), torch.ones(3, device=device))


def test_collate_rejects_other_objects():
    with pytest.raises(augkit.AugkitError, match="Policy or Transform"):
        collate(lambda b: b)


def test_workers_draw_different_augmentations():
    # Policy as a bare transform=: each worker has its own stream (process_stream), so the
    # same image at the same position of two workers is augmented differently.
    policy = augkit.load_policy(SAMPLE_POLICY)
    loader = DataLoader(SameImage(policy, n=8), batch_size=1, num_workers=2)
    items = _items(loader)
    # batches alternate between worker 0 and worker 1: compare k-th items of each worker
    for k in range(0, 8, 2):
        assert not torch.equal(items[k], items[k + 1])
    assert len({tuple(t.flatten().tolist()) for t in items}) == 8


def test_albumentations_seed_repeats_across_workers_augkit_does_not():
    A = pytest.importorskip("albumentations")
    albu = A.Compose([A.GaussianBlur(p=1.0), A.Erasing(p=1.0)], seed=0)

    def albu_call(image):
        return albu(image=image)["image"]

    items = _items(DataLoader(SameImage(albu_call, n=8), batch_size=1, num_workers=2))
    # albumentations 2.0.8: both workers replay one stream, so positions repeat pairwise
    assert all(torch.equal(items[k], items[k + 1]) for k in range(0, 8, 2))
    policy = augkit.load_policy(SAMPLE_POLICY)
    items = _items(DataLoader(SameImage(policy, n=8), batch_size=1, num_workers=2))
    assert not any(torch.equal(items[k], items[k + 1]) for k in range(0, 8, 2))


def _run(seed: int, num_workers: int = 2) -> list[tuple[torch.Tensor, torch.Tensor]]:
    policy = augkit.load_policy(SAMPLE_POLICY)
    loader = DataLoader(SameImage(policy, n=8), batch_size=4, shuffle=True,
                        num_workers=num_workers, collate_fn=collate(policy),
                        generator=torch.Generator().manual_seed(seed))
    return list(loader)


def test_same_loader_seed_same_batches():
    a, b, c = _run(5), _run(5), _run(6)
    assert all(torch.equal(x[0], y[0]) and torch.equal(x[1], y[1])
               for x, y in zip(a, b, strict=True))
    assert not all(torch.equal(x[0], y[0]) for x, y in zip(a, c, strict=True))
    for images, labels in a:
        assert images.shape == (4, 3, 24, 28) and labels.shape == (4, 3)


def test_demo_section(tmp_path: Path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("sklearn")
    from augkit.demo import policies_dir
    from augkit.plugins.vision import demo

    rows = demo.run(tmp_path, policies_dir())
    assert len(rows) == 2 and all(r.section == "vision" and r.per_second > 0 for r in rows)
    assert (tmp_path / rows[0].picture).stat().st_size > 10_000
    assert "china" in rows[0].data and "flower" in rows[0].data
