"""One rank of the distributed test: `python -m tests.dist_worker KIND RANK WORLD PORT OUT`.

Loads the AugmentedDataset of KIND through a DistributedSampler for two epochs and saves
{(epoch, index): tensors} to OUT."""

from __future__ import annotations

import sys
from datetime import timedelta

import torch
import torch.distributed as dist
from torch.utils.data.distributed import DistributedSampler

from tests.loading_fixtures import build, flatten


def main(kind: str, rank: int, world: int, port: int, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world, timeout=timedelta(seconds=60))
    try:
        aug, loader_cls = build(kind)
        sampler = DistributedSampler(aug, num_replicas=world, rank=rank, shuffle=True, seed=0)
        results = {}
        for epoch in (0, 1):
            sampler.set_epoch(epoch)
            aug.set_epoch(epoch)
            for index in sampler:
                results[(epoch, int(index))] = flatten(aug[int(index)])
        torch.save(results, out)
        dist.barrier()
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    kind, rank, world, port, out = sys.argv[1:6]
    main(kind, int(rank), int(world), int(port), out)
