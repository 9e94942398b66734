"""RotNet pretraining on scikit-learn's digits, a few steps on the CPU.

The batch stage's ``rotation_pretext`` turns each batch of images into ``(views, angles)``:
every digit turned by 0, 90, 180 or 270 degrees (drawn per image) and the index of its angle,
which a small CNN learns to predict. Evaluation uses ``all: true``: every rotation of each
held-out digit, labels 0..3. Run: python examples/rotnet_pretrain.py --steps 60
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

import augkit
from augkit.data import AugmentedDataset

POLICY = """
augkit: 1
seed: 0
batch:
  - rotation_pretext: {angles: [0, 90, 180, 270]}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    torch.manual_seed(0)  # model initialisation only; the rotations draw from augkit streams
    digits = torch.tensor(load_digits().images, dtype=torch.float32)[:, None] / 16.0
    train, held_out = list(digits[:1500]), digits[1500:]
    data = AugmentedDataset(train, augkit.load_policy(POLICY))
    loader = data.loader(args.batch_size, shuffle=True, generator=0, drop_last=True)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(32 * 4 * 4, 4),
    )
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    step, epoch = 0, 0
    while step < args.steps:
        loader.set_epoch(epoch)
        for views, angles in loader:
            loss = F.cross_entropy(model(views), angles)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 10 == 0 or step == args.steps - 1:
                print(f"step {step:3d} loss {loss.item():.4f}")
            step += 1
            if step == args.steps:
                break
        epoch += 1

    every, labels = augkit.make("rotation_pretext", all=True)(held_out)
    with torch.no_grad():
        accuracy = (model(every).argmax(1) == labels).float().mean().item()
    print(f"rotation accuracy on {len(held_out)} held-out digits x 4 angles: {accuracy:.3f}")


if __name__ == "__main__":
    main()
