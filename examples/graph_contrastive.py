"""GraphCL-style contrastive pre-training of a small GIN with augkit views, on the CPU.

Each graph of a mini-batch gets two augmented views from ``examples/policies/graph.yaml``
(edge dropout, then node dropout or feature masking) run as ``views: 2``; the loader of an
``AugmentedDataset`` collates them into two Batches, which go through a shared GIN encoder and
projection head, and the NT-Xent loss pulls the two views of a graph together. The data are
generated stochastic-block-model graphs (no download).

    python examples/graph_contrastive.py --steps 40
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import networkx as nx
import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import GINConv, global_add_pool

from augkit import load_policy
from augkit.data import AugmentedDataset
from augkit.plugins.graph import from_networkx

POLICY = Path(__file__).resolve().parent / "policies" / "graph.yaml"


def make_dataset(count: int, seed: int = 0) -> list:
    """SBM graphs of two kinds (assortative / disassortative), node features from degree."""
    g = torch.Generator().manual_seed(seed)
    graphs = []
    for i in range(count):
        sizes = [int(torch.randint(6, 14, (1,), generator=g)) for _ in range(2)]
        p_in, p_out = (0.6, 0.05) if i % 2 == 0 else (0.1, 0.5)
        nxg = nx.stochastic_block_model(sizes, [[p_in, p_out], [p_out, p_in]], seed=seed + i)
        data = from_networkx(nxg)
        deg = torch.bincount(data.edge_index[0], minlength=data.num_nodes).float()
        data.x = torch.stack([deg / 10, torch.ones_like(deg)], 1)
        data.y = torch.tensor([i % 2])
        graphs.append(data)
    return graphs


class GIN(nn.Module):
    def __init__(self, dim_in: int, hidden: int = 32, layers: int = 3) -> None:
        super().__init__()
        self.convs = nn.ModuleList()
        for i in range(layers):
            mlp = nn.Sequential(nn.Linear(dim_in if i == 0 else hidden, hidden), nn.ReLU(),
                                nn.Linear(hidden, hidden))
            self.convs.append(GINConv(mlp))
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))

    def forward(self, batch: Batch) -> torch.Tensor:
        h = batch.x
        for conv in self.convs:
            h = F.relu(conv(h, batch.edge_index))
        return self.head(global_add_pool(h, batch.batch, size=batch.num_graphs))


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, tau: float = 0.5) -> torch.Tensor:
    """SimCLR/GraphCL loss: each view's partner is the positive, the other 2B-2 negatives."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.t() / tau
    sim.fill_diagonal_(float("-inf"))
    b = z1.size(0)
    target = torch.cat([torch.arange(b, 2 * b), torch.arange(b)])
    return F.cross_entropy(sim, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--graphs", type=int, default=256, help="size of the generated dataset")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads; the model is tiny, so one avoids sync overhead")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    torch.manual_seed(0)  # model initialisation only; augmentations draw from the policy
    policy = load_policy(POLICY.read_text() + "views: 2\n")
    data = AugmentedDataset(make_dataset(args.graphs), policy)
    # Each batch is two PyG Batches, one per view; item i of epoch e always gets the same two
    # views and the order replays from the generator: replayable runs.
    loader = data.loader(args.batch_size, shuffle=True, generator=1, drop_last=True)
    if len(loader) == 0:
        parser.error(f"--graphs {args.graphs} makes no batch of --batch-size {args.batch_size}")
    model = GIN(dim_in=2)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    start = time.perf_counter()
    step, epoch = 0, 0
    while step < args.steps:
        loader.set_epoch(epoch)
        for b1, b2 in loader:
            loss = nt_xent(model(b1), model(b2))
            opt.zero_grad()
            loss.backward()
            opt.step()
            print(f"step {step:3d}  loss {loss.item():.4f}", flush=True)
            step += 1
            if step == args.steps:
                break
        epoch += 1
    print(f"{args.steps} steps in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
