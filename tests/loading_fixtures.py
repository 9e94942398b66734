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
    """Small random undirected graphs drawn from one explicit generator.

    Not PyG's FakeDataset: it draws node counts from Python's global `random`, so two
    processes (or two calls in one test session) would build different datasets."""
    from torch_geometric.data import Data
    from torch_geometric.utils import to_undirected

    g = torch.Generator().manual_seed(0)
    graphs = []
    for _ in range(n):
        num_nodes = int(torch.randint(15, 26, (1,), generator=g))
        src = torch.randint(0, num_nodes, (3 * num_nodes,), generator=g)
        dst = torch.randint(0, num_nodes, (3 * num_nodes,), generator=g)
        keep = src != dst
        edge_index = to_undirected(torch.stack([src[keep], dst[keep]]), num_nodes=num_nodes)
        graphs.append(Data(x=torch.randn(num_nodes, 4, generator=g), edge_index=edge_index,
                           edge_attr=torch.rand(edge_index.size(1), 2, generator=g),
                           y=torch.randint(0, 2, (1,), generator=g), num_nodes=num_nodes))
    return graphs


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
    from augkit.data import AugmentedDataset

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
