"""Batch stage: many small graphs (MUTAG/PROTEINS-sized, 12-28 nodes, 7 features, edge
attributes) and image batches augmented per item, against what users run today.

- ``loader/*``: one epoch of 2000 graphs through augkit's loader (``AugmentedDataset.loader``,
  batches of 128, the policy's steps in ``batch:``, run on each collated Batch) against PyG's
  ``DataLoader`` over a dataset whose ``transform=`` calls ``dropout_edge`` + ``mask_feature``
  (+ the edge_attr gather) per graph. Both collate into the same Batch (augkit's loader takes
  a shorter path for plain ``Data``; the floor is PyG's loader without augmentation).
- ``augment/batch_stage``: the augmentation alone, per 1000 graphs: the batch stage on
  collated Batches against PyG's calls per graph.
- ``augment/per_item``: the ``transform=`` path, ``policy(graph, index=i)`` per graph, against
  the same PyG calls.
- ``images/batch_stage``: 256 images 224x224, ``[gaussian_blur, random_erasing, mixup]`` as a
  batch stage with per-image decisions, against kornia's ``AugmentationSequential`` with
  ``same_on_batch=False`` and its MixUp.

Every decision is per item on both sides (PyG's per-graph calls, kornia's per-image params).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from augkit.benchmarks.case import Anchor, Case

SUITE = "batch_stage"
P = 0.2
BATCH = 128
FEATURES = 7
EDGE_FEATURES = 4
SIMPLE = [{"edge_dropout": {"p": P}}, {"feature_masking": {"p": P, "mode": "feature"}}]


def small_graphs(count: int, seed: int = 0) -> list[Any]:
    """``count`` undirected graphs of 12-28 nodes (about 2.2 edges per node, both directions
    stored), 7 node features, 4 edge features and a graph label."""
    from torch_geometric.data import Data
    from torch_geometric.utils import to_undirected

    g = torch.Generator().manual_seed(seed)
    graphs = []
    for _ in range(count):
        n = int(torch.randint(12, 29, (), generator=g))
        ring = torch.arange(n)
        extra = torch.randint(0, n, (2, n // 5), generator=g)
        ei = torch.cat([torch.stack([ring, (ring + 1) % n]), extra], 1)
        ei = to_undirected(ei[:, ei[0] != ei[1]], num_nodes=n)
        graphs.append(Data(x=torch.randn(n, FEATURES, generator=g), edge_index=ei,
                           edge_attr=torch.randn(ei.size(1), EDGE_FEATURES, generator=g),
                           y=torch.randint(0, 2, (1,), generator=g)))
    return graphs


def pyg_transform(data: Any) -> Any:
    """What PyG users write per graph: dropout_edge (+ the edge_attr gather) and
    mask_feature, on a shallow copy."""
    import copy

    from torch_geometric.utils import dropout_edge, mask_feature

    out = copy.copy(data)
    out.edge_index, keep = dropout_edge(data.edge_index, p=P, force_undirected=True)
    out.edge_attr = data.edge_attr[keep]
    out.x, _ = mask_feature(data.x, p=P, mode="col")
    return out


def _readme_steps() -> list[Any]:
    from augkit.benchmarks.suites.loader import readme_graph_policy

    return readme_graph_policy("batch")["batch"]


def _policy(stage: str, steps: list[Any]) -> Any:
    from augkit.policy import load_policy

    return load_policy({"augkit": 1, "seed": 0, stage: steps})


class _Mapped(torch.utils.data.Dataset):
    def __init__(self, graphs: list[Any], fn: Any) -> None:
        self.graphs, self.fn = graphs, fn

    def __len__(self) -> int:
        return len(self.graphs)

    def __getitem__(self, index: int) -> Any:
        return self.fn(self.graphs[index])


def _epoch(loader: Any) -> int:
    return sum(int(batch.num_graphs) for batch in loader)


def _loader_case(name: str, steps: Any, count: int) -> Case:
    def setup() -> dict[str, Any]:
        from torch_geometric.loader import DataLoader

        from augkit.data import AugmentedDataset

        graphs = small_graphs(count)
        return {
            "augkit": AugmentedDataset(graphs, _policy("batch", steps())).loader(BATCH),
            "pyg": DataLoader(_Mapped(graphs, pyg_transform), batch_size=BATCH),
            "plain": DataLoader(graphs, batch_size=BATCH),
        }

    return Case(
        suite=SUITE, name=f"loader/{name}", transforms=("edge_dropout", "feature_masking"),
        size=count, size_unit="graphs", items=count, unit="graphs/s", setup=setup,
        run=lambda s: _epoch(s["augkit"]),
        anchors=[Anchor("PyG DataLoader, transform= dropout_edge + mask_feature per graph",
                        lambda s: _epoch(s["pyg"]), ("torch_geometric",), goal_ratio=3.0)],
        floor=lambda s: _epoch(s["plain"]), floor_label="PyG DataLoader, no augmentation",
        requires=("torch_geometric",), goal=">= 3x PyG's loader",
        note=f"{count} graphs of 12-28 nodes, batches of {BATCH}, workers 0; the policy's steps "
             "in batch: (per-graph decisions)",
    )


def _augment_cases(count: int) -> Iterator[Case]:
    def setup() -> dict[str, Any]:
        from torch_geometric.data import Batch

        graphs = small_graphs(count)
        return {"graphs": graphs, "epoch": 0,
                "batches": [Batch.from_data_list(graphs[i:i + BATCH])
                            for i in range(0, count, BATCH)],
                "batch_policy": _policy("batch", SIMPLE),
                "sample_policy": _policy("sample", SIMPLE)}

    def batch_stage(state: dict[str, Any]) -> Any:
        state["epoch"] += 1
        policy, epoch = state["batch_policy"], state["epoch"]
        return [policy.apply_batch(b, indices=range(i * BATCH, i * BATCH + int(b.num_graphs)),
                                   epoch=epoch) for i, b in enumerate(state["batches"])]

    def per_item(state: dict[str, Any]) -> Any:
        state["epoch"] += 1
        policy, epoch = state["sample_policy"], state["epoch"]
        return [policy(g, index=i, epoch=epoch) for i, g in enumerate(state["graphs"])]

    def pyg(state: dict[str, Any]) -> Any:
        return [pyg_transform(g) for g in state["graphs"]]

    common = {"suite": SUITE, "transforms": ("edge_dropout", "feature_masking"), "size": count,
              "size_unit": "graphs", "items": count, "unit": "graphs/s", "setup": setup,
              "requires": ("torch_geometric",)}
    yield Case(name="augment/batch_stage", run=batch_stage,
               anchors=[Anchor("PyG dropout_edge + mask_feature per graph", pyg,
                               ("torch_geometric",), goal_ratio=10.0)],
               goal=">= 10x PyG per graph",
               note=f"edge_dropout + feature_masking on Batches of {BATCH} already collated",
               **common)
    yield Case(name="augment/per_item", run=per_item,
               anchors=[Anchor("PyG dropout_edge + mask_feature per graph", pyg,
                               ("torch_geometric",), goal_ratio=1.5)],
               goal=">= 1.5x PyG per graph", note="policy(graph, index=i) per graph", **common)


def _images_case(quick: bool) -> Case:
    n, side = (16, 64) if quick else (256, 224)
    steps = [{"gaussian_blur": {"sigma": [0.5, 3.0]}}, {"random_erasing": {}},
             {"mixup": {"alpha": 0.2, "num_classes": 10}}]

    def setup() -> dict[str, Any]:
        g = torch.Generator().manual_seed(0)
        x = torch.randint(0, 256, (n, 3, side, side), generator=g, dtype=torch.uint8)
        return {"x": x.float() / 255, "y": torch.randint(0, 10, (n,), generator=g),
                "policy": _policy("batch", steps), "epoch": 0}

    def run(state: dict[str, Any]) -> Any:
        state["epoch"] += 1
        return state["policy"].apply_batch((state["x"], state["y"]), indices=range(n),
                                           epoch=state["epoch"])

    def kornia(state: dict[str, Any]) -> Any:
        pipe = state.get("kornia")
        if pipe is None:
            import kornia.augmentation as K

            pipe = state["kornia"] = (
                K.AugmentationSequential(
                    K.RandomGaussianBlur((13, 13), (0.5, 3.0), p=1.0),
                    K.RandomErasing(scale=(0.02, 0.33), ratio=(0.3, 3.3), p=1.0),
                    same_on_batch=False),
                K.RandomMixUpV2(lambda_val=(0.0, 1.0), p=1.0))
        images = pipe[0](state["x"])
        return pipe[1](images, state["y"])

    return Case(
        suite=SUITE, name="images/batch_stage",
        transforms=("gaussian_blur", "random_erasing", "mixup"), size=n, size_unit="images",
        items=n, unit="images/s", setup=setup, run=run,
        anchors=[Anchor("kornia AugmentationSequential(blur, erasing, same_on_batch=False) "
                        "+ RandomMixUpV2", kornia, ("kornia",), goal_ratio=4.0,
                        note="fixed 13x13 blur kernel")],
        goal=">= 4x kornia (CPU)",
        note="float32 NCHW; per-image sigma, box and apply decisions; mixup on the pair",
    )


def cases(quick: bool, device: str) -> Iterator[Case]:
    if device != "cpu":
        return
    count = 256 if quick else 2000
    yield _loader_case("edge_dropout+feature_masking", lambda: SIMPLE, count)
    yield _loader_case("readme_graph_policy", _readme_steps, count)
    yield from _augment_cases(256 if quick else 1000)
    yield _images_case(quick)
