"""SimCLR-style contrastive training on torchvision FakeData, a few steps on the CPU.

Each item comes back as two augmented views (the policy has `views: 2`); an NT-Xent loss pulls
the two views of an image together. Run: python examples/simclr_fakedata.py --steps 30
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.datasets import FakeData
from torchvision.transforms import v2

from augkit import load_policy
from augkit.data import AugmentedDataset

POLICY = Path(__file__).parent / "policies" / "contrastive_images.yaml"


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5) -> torch.Tensor:
    """The SimCLR loss: each view must pick its partner among the 2B - 1 others."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.t() / temperature
    sim.fill_diagonal_(float("-inf"))
    n = z1.size(0)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    torch.manual_seed(0)  # model initialisation only; augmentation draws from augkit streams
    images = FakeData(size=256, image_size=(3, 32, 32), num_classes=10,
                      transform=v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]))
    data = AugmentedDataset(images, load_policy(POLICY))
    # Batches of two views per image; the order and the views replay from the seeds.
    loader = data.loader(args.batch_size, shuffle=True, generator=0, drop_last=True)
    encoder = nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 32),
    )
    opt = torch.optim.Adam(encoder.parameters(), lr=3e-3)
    step, epoch = 0, 0
    while step < args.steps:
        loader.set_epoch(epoch)
        for (view1, view2), _ in loader:
            loss = nt_xent(encoder(view1), encoder(view2))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 5 == 0 or step == args.steps - 1:
                print(f"step {step:3d}  loss {loss.item():.4f}")
            step += 1
            if step >= args.steps:
                break
        epoch += 1


if __name__ == "__main__":
    main()
