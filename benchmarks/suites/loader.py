"""Loader: graphs per second through a torch DataLoader (PyG collate) with 0, 1 and 2
workers, a sample-level graph policy (``edge_dropout`` p=0.2) applied to every item.

augkit runs the policy through ``augkit.data.AugmentedDataset`` (a stream per item, so the
epoch is the same whatever the number of workers); the anchor is what PyG users write:
``dropout_edge`` inside the dataset's ``__getitem__``. The floor is the same loader with no
augmentation at all, so "× floor" is the slowdown augmentation costs the loader.

On CUDA the one case is the README's graph policy (examples/policies/graph.yaml) run as a
batch stage on 128-graph Batches already on the device, against the same policy per item in a
2-worker CPU loader.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import torch

from augkit.benchmarks.case import Anchor, Case

SUITE = "loader"
POLICY = {"augkit": 1, "seed": 0, "sample": [{"edge_dropout": {"p": 0.2}}]}
BATCH_SIZE = 32
GPU_BATCH_SIZE = 128
GRAPH_POLICY_TRANSFORMS = ("edge_dropout", "node_dropout", "feature_masking", "edge_rewiring",
                           "subgraph_sampling")


class MappedDataset(torch.utils.data.Dataset):
    """``fn(graphs[i])`` per item (``fn`` None: the graph itself), as PyG's ``transform=``."""

    def __init__(self, graphs: list[Any], fn: Callable[[Any], Any] | None = None) -> None:
        self.graphs, self.fn = graphs, fn

    def __len__(self) -> int:
        return len(self.graphs)

    def __getitem__(self, index: int) -> Any:
        item = self.graphs[index]
        return item if self.fn is None else self.fn(item)


def pyg_edge_dropout(data: Any) -> Any:
    """PyG's own route: ``dropout_edge`` on a shallow copy (global RNG, as PyG draws)."""
    from torch_geometric.utils import dropout_edge

    out = copy.copy(data)
    out.edge_index, _ = dropout_edge(data.edge_index, p=0.2, force_undirected=True)
    return out


def make_graphs(count: int, nodes: int, degree: int, features: int, seed: int = 0) -> list[Any]:
    """``count`` random undirected graphs (both directions stored, as PyG datasets do)."""
    from torch_geometric.data import Data
    from torch_geometric.utils import to_undirected

    g = torch.Generator()
    g.manual_seed(seed)
    graphs = []
    for _ in range(count):
        half = nodes * degree // 2
        ei = torch.randint(0, nodes, (2, half), generator=g)
        ei = to_undirected(ei[:, ei[0] != ei[1]], num_nodes=nodes)
        graphs.append(Data(x=torch.randn(nodes, features, generator=g), edge_index=ei,
                           y=torch.randint(0, 2, (1,), generator=g), num_nodes=nodes))
    return graphs


def _epoch(loader: Any) -> int:
    seen = 0
    for batch in loader:
        seen += int(batch.num_graphs)
    return seen


def _case(workers: int, count: int, nodes: int) -> Case:
    def loader_for(dataset: Any) -> Any:
        from torch_geometric.loader import DataLoader

        # Persistent workers: the timed epochs measure steady throughput, not process start-up
        # (the warm-up epoch pays that).
        return DataLoader(dataset, batch_size=BATCH_SIZE, shuffle=False, num_workers=workers,
                          persistent_workers=workers > 0)

    def setup() -> dict[str, Any]:
        from augkit.data import AugmentedDataset
        from augkit.policy import load_policy

        graphs = make_graphs(count, nodes, degree=8, features=16)
        return {
            "augkit": loader_for(AugmentedDataset(graphs, load_policy(POLICY))),
            "pyg": loader_for(MappedDataset(graphs, pyg_edge_dropout)),
            "plain": loader_for(MappedDataset(graphs)),
        }

    return Case(
        suite=SUITE, name=f"edge_dropout/workers={workers}", transforms=("edge_dropout",),
        size=count, size_unit="graphs", items=count, unit="graphs/s", setup=setup,
        run=lambda s: _epoch(s["augkit"]),
        anchors=[Anchor("PyG dropout_edge in Dataset.__getitem__",
                        lambda s: _epoch(s["pyg"]), requires=("torch_geometric",))],
        floor=lambda s: _epoch(s["plain"]), floor_label="the same loader, no augmentation",
        requires=("torch_geometric",),
        note=(f"one epoch of {count} graphs ({nodes} nodes, ~{nodes * 8} directed edges each), "
              f"batches of {BATCH_SIZE}, persistent workers; the floor is the loader without "
              "augmentation; peak memory is the main process's only"),
    )


def readme_graph_policy(stage: str) -> dict[str, Any]:
    """examples/policies/graph.yaml (the README's graph policy) with its steps in ``stage``."""
    from pathlib import Path

    import yaml

    path = Path(__file__).resolve().parents[2] / "examples" / "policies" / "graph.yaml"
    spec = yaml.safe_load(path.read_text())
    return {"augkit": 1, "seed": spec["seed"], stage: spec["sample"]}


def _batch_stage_case(quick: bool, device: str) -> Case:
    """The README's graph policy as a batch stage on collated Batches on ``device``, against the
    same policy per item in a 2-worker CPU loader (what a GPU batch stage replaces)."""
    batches, nodes = (2, 16) if quick else (8, 32)
    count = batches * GPU_BATCH_SIZE

    def setup() -> dict[str, Any]:
        from torch_geometric.data import Batch
        from torch_geometric.loader import DataLoader

        from augkit.data import AugmentedDataset
        from augkit.policy import load_policy

        graphs = make_graphs(count, nodes, degree=8, features=16)
        on_device = [Batch.from_data_list(graphs[i:i + GPU_BATCH_SIZE]).to(device)
                     for i in range(0, count, GPU_BATCH_SIZE)]

        def loader(dataset: Any) -> Any:
            return DataLoader(dataset, batch_size=GPU_BATCH_SIZE, num_workers=2,
                              persistent_workers=True)

        return {
            "batches": on_device, "epoch": 0,
            "stage": load_policy(readme_graph_policy("batch")),
            "per_item": loader(AugmentedDataset(graphs, load_policy(readme_graph_policy(
                "sample")))),
            "plain": loader(MappedDataset(graphs)),
        }

    def run(state: dict[str, Any]) -> Any:
        state["epoch"] += 1
        stage = state["stage"]
        size = GPU_BATCH_SIZE
        return [stage.apply_batch(b, indices=range(i * size, (i + 1) * size),
                                  epoch=state["epoch"])
                for i, b in enumerate(state["batches"])]

    return Case(
        suite=SUITE, name="graph_policy/batch_stage", transforms=GRAPH_POLICY_TRANSFORMS,
        size=count, size_unit="graphs", items=count, unit="graphs/s", setup=setup, run=run,
        anchors=[Anchor("the same policy per item, CPU loader with 2 workers",
                        lambda s: _epoch(s["per_item"]), requires=("torch_geometric",),
                        goal_ratio=20.0,
                        note="includes collation, which the batch stage's input already had")],
        floor=lambda s: _epoch(s["plain"]),
        floor_label="the 2-worker CPU loader without augmentation",
        device=device, requires=("torch_geometric",), goal=">= 20x the per-item CPU loader",
        note=(f"examples/policies/graph.yaml as the batch stage on {batches} Batches of "
              f"{GPU_BATCH_SIZE} graphs ({nodes} nodes, ~{nodes * 8} directed edges each) "
              f"already on {device}; every decision per graph"),
    )


def cases(quick: bool, device: str) -> Iterator[Case]:
    if device != "cpu":  # loader workers augment on the CPU; the device runs the batch stage
        yield _batch_stage_case(quick, device)
        return
    count, nodes = (64, 32) if quick else (1024, 64)
    # quick: 0 and 2 workers (each worker count starts its own processes: seconds here)
    for workers in ((0, 2) if quick else (0, 1, 2)):
        yield _case(workers, count, nodes)
