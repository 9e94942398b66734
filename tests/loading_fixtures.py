"""Datasets and policies shared by the loading tests and the distributed worker script.

Built in Python (not YAML) so a spawned process builds exactly the same thing."""

from __future__ import annotations

import torch

import augkit
from augkit import Policy
from augkit.params import Number, Param
from augkit.transform import Transform


class Jitter(Transform):
    """Adds Gaussian noise to a table row (a small sample-level table transform)."""

    name = "tests.jitter"
    kinds = ("table",)
    params = {"sigma": Param(Number(0.0), 0.1, "noise scale")}

    def make_params(self, data, generator):
        return {"noise": torch.randn(data.shape, generator=generator, dtype=torch.float64)}

    def apply(self, data, params):
        return data + (self.sigma * params["noise"]).to(data.dtype)


def table_dataset(n: int = 24):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, 5, generator=g), torch.arange(n) % 3


def table_policy() -> Policy:
    return Policy(sample=[Jitter(sigma=0.5)], seed=11)


def graph_dataset(n: int = 12):
    from torch_geometric.datasets import FakeDataset

    torch.manual_seed(0)  # FakeDataset draws from the global RNG: fixed once, here
    return list(FakeDataset(num_graphs=n, avg_num_nodes=20, num_channels=4,
                            edge_dim=2, num_classes=2))


def graph_policy() -> Policy:
    return Policy(sample=[augkit.make("edge_dropout", p=0.3),
                          augkit.make("feature_masking", p=0.2)], seed=5)


def image_dataset(n: int = 12):
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 3, 16, 16), generator=g, dtype=torch.uint8)
    return [(images[i], i % 2) for i in range(n)]


def image_policy() -> Policy:
    return Policy(sample=[augkit.make("gaussian_blur", sigma=[0.5, 2.0]),
                          augkit.make("random_erasing")], seed=3)


KINDS = {
    "table": (table_dataset, table_policy),
    "graph": (graph_dataset, graph_policy),
    "image": (image_dataset, image_policy),
}


def build(kind: str):
    """(AugmentedDataset, loader class) for a kind."""
    from augkit.dataset import AugmentedDataset

    make_data, make_policy = KINDS[kind]
    data = make_data()
    aug = AugmentedDataset(data if kind != "table" else data, make_policy())
    if kind == "graph":
        from torch_geometric.loader import DataLoader
    else:
        from torch.utils.data import DataLoader
    return aug, DataLoader


def flatten(item) -> list[torch.Tensor]:
    """Every tensor of an item, in a fixed order, for bit-for-bit comparison."""
    if isinstance(item, torch.Tensor):
        return [item]
    if isinstance(item, tuple | list):
        return [t for x in item for t in flatten(x)]
    if isinstance(item, int | float):
        return [torch.tensor(item)]
    # PyG Data
    return [item[k] for k in sorted(item.keys()) if isinstance(item[k], torch.Tensor)]
