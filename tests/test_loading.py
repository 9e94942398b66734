"""Reproducible augmentation at scale: bit-identical items across DataLoader workers and
distributed ranks; distinct streams per worker for a bare transform."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from augkit.data import AugmentedDataset

from .loading_fixtures import build, flatten, table_dataset, table_policy

ROOT = Path(__file__).resolve().parent.parent
KINDS = ["table", "graph", "image"]


def _equal(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def _loader_items(kind: str, num_workers: int, epoch: int, persistent: bool = False):
    aug, loader_cls = build(kind)
    aug.set_epoch(epoch)
    loader = loader_cls(aug, batch_size=4, shuffle=False, num_workers=num_workers,
                        persistent_workers=persistent and num_workers > 0)
    return [flatten(batch) for batch in loader]


@pytest.mark.parametrize("kind", KINDS)
def test_bit_identical_across_num_workers(kind):
    reference = _loader_items(kind, 0, epoch=1)
    for workers in (1, 2, 4):
        got = _loader_items(kind, workers, epoch=1)
        assert all(_equal(a, b) for a, b in zip(reference, got, strict=True)), workers
    other_epoch = _loader_items(kind, 0, epoch=2)
    assert not all(_equal(a, b) for a, b in zip(reference, other_epoch, strict=True))


def test_set_epoch_reaches_persistent_workers():
    aug, loader_cls = build("table")
    loader = loader_cls(aug, batch_size=6, num_workers=2, persistent_workers=True)
    seen = []
    for epoch in (0, 1):
        aug.set_epoch(epoch)
        seen.append(torch.cat([b[0] for b in loader]))
    aug0, _ = build("table")
    aug0.set_epoch(1)
    expected = torch.stack([aug0[i][0] for i in range(len(aug0))])
    assert torch.equal(seen[1], expected)
    assert not torch.equal(seen[0], seen[1])


def test_epoch_stays_shared_through_pickling():
    # What a spawned worker receives: the epoch view is rebuilt over the same shared memory.
    import pickle
    from multiprocessing.reduction import ForkingPickler

    aug, _ = build("table")
    assert aug.epoch == 0
    twin = pickle.loads(ForkingPickler.dumps(aug))
    aug.set_epoch(4)
    assert twin.epoch == 4
    twin.set_epoch(2)
    assert aug.epoch == 2


def test_item_equals_policy_with_index():
    X, y = table_dataset()
    policy = table_policy()
    aug = AugmentedDataset((X, y), policy)
    aug.set_epoch(3)
    x5, y5 = aug[5]
    assert torch.equal(x5, policy(X[5], index=5, epoch=3))
    assert y5 == y[5]
    assert torch.equal(X, table_dataset()[0])  # the input is untouched


class _Rows(torch.utils.data.Dataset):
    def __init__(self, policy):
        self.policy = policy

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return self.policy(torch.zeros(3))  # bare transform: no index, no generator


def test_bare_policy_gives_each_worker_its_own_stream():
    loader = torch.utils.data.DataLoader(_Rows(table_policy()), batch_size=1, num_workers=2,
                                         generator=torch.Generator().manual_seed(0))
    rows = torch.cat(list(loader))
    assert len({tuple(r.tolist()) for r in rows}) == len(rows)  # no repeats across workers
    again = torch.cat(list(torch.utils.data.DataLoader(
        _Rows(table_policy()), batch_size=1, num_workers=2,
        generator=torch.Generator().manual_seed(0))))
    assert torch.equal(rows, again)  # a seeded loader replays


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_ranks(kind: str, world: int, tmp_path: Path) -> dict:
    port = _free_port()
    outs = [tmp_path / f"{kind}-{world}-{r}.pt" for r in range(world)]
    # Gloo binds the interface of the hostname unless told: the test stays on loopback.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           "GLOO_SOCKET_IFNAME": "lo"}
    procs = [subprocess.Popen([sys.executable, "-m", "tests.dist_worker", kind, str(r),
                               str(world), str(port), str(outs[r])], cwd=ROOT, env=env)
             for r in range(world)]
    try:
        for p in procs:
            assert p.wait(timeout=600) == 0  # generous: a loaded machine imports torch slowly
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    per_rank = [torch.load(o, weights_only=False) for o in outs]
    return per_rank


@pytest.mark.parametrize("kind", KINDS)
def test_distributed_ranks_match_single_process(kind, tmp_path):
    ranks = _run_ranks(kind, 2, tmp_path)
    keys = [set(r) for r in ranks]
    assert not (keys[0] & keys[1])  # disjoint items
    aug, _ = build(kind)
    for results in ranks:
        for (epoch, index), tensors in results.items():
            aug.set_epoch(epoch)
            assert _equal(tensors, flatten(aug[index]))
    single = _run_ranks(kind, 1, tmp_path)[0]
    merged = {**ranks[0], **ranks[1]}
    for key, tensors in merged.items():
        assert _equal(tensors, single[key])
    rerun = _run_ranks(kind, 2, tmp_path)
    assert all(_equal(rerun[r][k], ranks[r][k]) for r in range(2) for k in ranks[r])


def test_image_and_table_items_never_import_torch_geometric():
    code = """
import sys, torch, augkit
from augkit.data import AugmentedDataset
imgs = [(torch.rand(3, 8, 8), i % 2) for i in range(4)]
ds = AugmentedDataset(imgs, augkit.Policy(sample=[augkit.make("gaussian_blur")], seed=1))
list(torch.utils.data.DataLoader(ds, batch_size=2))
X, y = torch.randn(6, 3), torch.arange(6) % 2
ds = AugmentedDataset((X, y), augkit.Policy(sample=[augkit.make("diffusion_noise")], seed=1))
list(torch.utils.data.DataLoader(ds, batch_size=2))
print("PYG", sorted(m for m in sys.modules if m.startswith("torch_geometric")))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "PYG []" in out.stdout
