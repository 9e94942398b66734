"""GraphMAE-style masked-attribute pre-training of a small GCN with augkit, on the CPU.

Every mini-batch goes through a policy's batch stage: ``feature_masking`` in ``node`` mode with
``fill: token`` and ``return_mask`` masks half the nodes of every graph (each graph with its own
draw) and returns ``node_mask``; the model writes its learned [MASK] token into those rows,
encodes, re-masks the code of the masked nodes, decodes and scores the reconstruction of the
masked features with GraphMAE's scaled cosine error. ``edge_adding`` adds a few edges inside
every graph. The graphs are generated (PyG's ``FakeDataset``, no download).

    python examples/graphmae_pretrain.py --steps 20
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.datasets import FakeDataset
from torch_geometric.loader import DataLoader
from torch_geometric.nn import GCNConv

from augkit import load_policy

FEATURES = 16
POLICY = {
    "augkit": 1,
    "seed": 0,
    "batch": [
        {"edge_adding": {"p": 0.1}},
        {"feature_masking": {"p": 0.5, "mode": "node", "fill": "token", "return_mask": True}},
    ],
}


class GraphMAE(nn.Module):
    """Encoder and decoder GCNs with a learned [MASK] token on the input and a re-mask token
    on the code."""

    def __init__(self, features: int, hidden: int = 32) -> None:
        super().__init__()
        self.mask_token = nn.Parameter(torch.zeros(features))
        self.encoder = GCNConv(features, hidden)
        self.encoder2 = GCNConv(hidden, hidden)
        self.remask = nn.Parameter(torch.zeros(hidden))
        self.decoder = GCNConv(hidden, features)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        x = torch.where(mask.unsqueeze(1), self.mask_token, x)  # the token where masked
        h = F.relu(self.encoder(x, edge_index))
        h = self.encoder2(h, edge_index)
        h = torch.where(mask.unsqueeze(1), self.remask, h)
        return self.decoder(h, edge_index)


def sce_loss(pred: torch.Tensor, target: torch.Tensor, alpha: float = 2.0) -> torch.Tensor:
    """GraphMAE's scaled cosine error."""
    cos = F.cosine_similarity(pred, target, dim=-1)
    return ((1 - cos) ** alpha).mean()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16)
    args = parser.parse_args()
    torch.manual_seed(0)
    dataset = FakeDataset(num_graphs=64, avg_num_nodes=20, num_channels=FEATURES)
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True)
    policy = load_policy(POLICY)
    model = GraphMAE(FEATURES)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    step = 0
    while step < args.steps:
        for batch in loader:
            indices = torch.arange(step * args.batch_size, (step + 1) * args.batch_size)
            view = policy.apply_batch(batch, indices=indices[:batch.num_graphs], epoch=0)
            mask = view.node_mask
            pred = model(view.x, view.edge_index, mask)
            loss = sce_loss(pred[mask], batch.x[mask])  # the original features of masked nodes
            opt.zero_grad()
            loss.backward()
            opt.step()
            print(f"step {step} masked {int(mask.sum())} loss {loss.item():.4f}")
            step += 1
            if step >= args.steps:
                break


if __name__ == "__main__":
    main()
