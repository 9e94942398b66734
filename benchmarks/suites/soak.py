"""Soak: policies called many times in one process while the resident set is sampled, to show
that memory stays flat (see :mod:`augkit.benchmarks.soak` for the record and the rule).

Cases, each a policy called as a dataset does, ``policy(item, index=i, epoch=0)``:

- ``graph_policy``: the sample stage of examples/policies/graph.yaml (edge dropout, then one of
  node dropout, feature masking, degree-preserving rewiring, random-walk subgraph) on
  KarateClub and 15 small random graphs in turn: 1,000,000 calls.
- ``image_policy``: the sample stage of examples/policies/vision.yaml (blur, erasing) on one
  3x32x32 image: 100,000 calls.
- ``image_policy/recycled``: the same stage on a batch of 44 images of 3x128x128 (float32,
  over 8 MiB), whose outputs are written into augkit's recycled output buffers
  (``augkit/_memory.py``): 30,000 calls. The issue aims at 100,000, but on a shared 2-core
  machine that many take several times the few minutes a case should last; 30,000 is the
  largest count that fits there when the machine is busy.

``--quick`` runs each a few hundred to a few thousand times.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import torch

from augkit.benchmarks.case import Case, Soak

SUITE = "soak"
GRAPH_POLICY = {"augkit": 1, "seed": 0, "sample": [
    {"edge_dropout": {"p": 0.2, "undirected": "auto"}},
    {"one_of": {"weights": [2, 2, 1, 1], "transforms": [
        {"node_dropout": {"p": 0.1, "min_nodes": 1}},
        {"feature_masking": {"p": 0.2, "mode": "feature", "fill": "zero"}},
        {"edge_rewiring": {"method": "degree_preserving", "ratio": 0.2}},
        {"subgraph_sampling": {"method": "random_walk", "ratio": 0.8, "walk_length": 8}},
    ]}},
]}
IMAGE_POLICY = {"augkit": 1, "seed": 0, "sample": [
    {"gaussian_blur": {"sigma": [0.5, 3.0], "kernel_size": "auto", "p": 0.8}},
    {"random_erasing": {"scale": [0.02, 0.33], "ratio": [0.3, 3.3], "value": "random",
                        "count": 1, "p": 0.5}},
]}
GRAPH_TRANSFORMS = ("edge_dropout", "node_dropout", "feature_masking", "edge_rewiring",
                    "subgraph_sampling")
IMAGE_TRANSFORMS = ("gaussian_blur", "random_erasing")
BATCH = (44, 3, 128, 128)  # float32: 8.25 MiB, above augkit._memory.HUGE_OUTPUT_BYTES


def _graphs() -> list[Any]:
    from torch_geometric.datasets import KarateClub

    from augkit.benchmarks.suites.loader import make_graphs

    small = [g for nodes in (16, 24, 32) for g in make_graphs(5, nodes, degree=4, features=8,
                                                                seed=nodes)]
    return [KarateClub()[0], *small]


def _images(shape: tuple[int, ...]) -> list[Any]:
    return [torch.rand(shape, generator=torch.Generator().manual_seed(0))]


def _setup(policy: dict[str, Any], items: Any) -> Any:
    def setup() -> dict[str, Any]:
        from augkit.policy import load_policy

        return {"policy": load_policy(policy), "items": items(), "index": itertools.count()}

    return setup


def _call(state: dict[str, Any]) -> Any:
    """One dataset-style call: item ``i`` (cycling through the items), index ``i``."""
    i = next(state["index"])
    items = state["items"]
    return state["policy"](items[i % len(items)], index=i, epoch=0)


def _case(name: str, transforms: tuple[str, ...], calls: int, setup: Any, note: str,
          allowance: int = 4 << 20, requires: tuple[str, ...] = ()) -> Case:
    return Case(suite=SUITE, name=name, transforms=transforms, size=calls, size_unit="calls",
                items=1, unit="calls/s", setup=setup, run=_call, requires=requires, note=note,
                soak=Soak(calls=calls, allowance_bytes=allowance))


def cases(quick: bool, device: str) -> Iterator[Case]:
    if device != "cpu":  # the soak watches the process's resident set: CPU memory
        return
    yield _case("graph_policy", GRAPH_TRANSFORMS, 2_000 if quick else 1_000_000,
                _setup(GRAPH_POLICY, _graphs),
                "graph.yaml's sample stage on KarateClub and 15 random graphs of 16-32 nodes",
                requires=("torch_geometric",))
    yield _case("image_policy", IMAGE_TRANSFORMS, 2_000 if quick else 100_000,
                _setup(IMAGE_POLICY, lambda: _images((3, 32, 32))),
                "vision.yaml's sample stage on one 3x32x32 float image")
    # One more recycled buffer (whole 2 MiB buckets) for each of the stage's two outputs is
    # a step, not a leak.
    out_bytes = -(-4 * BATCH[0] * BATCH[1] * BATCH[2] * BATCH[3] // (2 << 20)) * (2 << 20)
    yield _case("image_policy/recycled", IMAGE_TRANSFORMS, 100 if quick else 30_000,
                _setup(IMAGE_POLICY, lambda: _images(BATCH)),
                "vision.yaml's sample stage on a batch of 44 3x128x128 float images, "
                "outputs in recycled buffers (the issue aims at 100,000 calls)",
                allowance=(4 << 20) + 2 * out_bytes)
