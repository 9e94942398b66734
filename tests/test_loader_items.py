"""AugmentedDataset.loader: batches with the batch stage applied per item, bit for bit the same
whatever the workers, and equal to the policy with every step in the sample stage."""

from __future__ import annotations

import pytest
import torch

import augkit
from augkit import Policy
from augkit.data import AugmentedDataset, collate
from augkit.errors import AugkitError

from .loading_fixtures import Jitter, flatten, graph_dataset, table_dataset

KINDS = ["graph", "image", "table"]
BATCH = 5
# A batch that cannot pickle out of a worker is lost and the loader would wait for it forever:
# the tests bound the wait, so such a bug fails instead of hanging.
def _wait(workers: int) -> dict:
    return {"timeout": 30} if workers else {}


def _images(n: int = 12) -> list:
    g = torch.Generator().manual_seed(1)
    images = torch.rand(n, 3, 12, 12, generator=g)  # float CHW
    return [(images[i], i % 3) for i in range(n)]


def _data(kind: str):
    return {"graph": graph_dataset, "image": _images, "table": table_dataset}[kind]()


def _steps(kind: str) -> tuple[list, list]:
    """(sample steps, batch steps) of a kind's policy; the batch steps take every decision
    per item (apply probabilities, a one_of's choice, drawn parameters)."""
    if kind == "graph":
        return ([augkit.make("edge_dropout", p=0.3)],
                [augkit.make("feature_masking", p=0.2),
                 augkit.make("one_of", transforms=[augkit.make("node_dropout", p=0.2),
                                                   augkit.make("edge_dropout", p=0.2)])])
    if kind == "image":
        return ([augkit.make("gaussian_blur", sigma=[0.5, 2.0])],
                [augkit.make("random_erasing", p=0.7)])
    return [Jitter(sigma=0.5)], [augkit.make("diffusion_noise", p=0.8)]


def _split_policy(kind: str) -> Policy:
    sample, batch = _steps(kind)
    return Policy(sample=sample, batch=batch, seed=4)


def _sample_only_policy(kind: str) -> Policy:
    sample, batch = _steps(kind)
    return Policy(sample=sample + batch, seed=4)


def _collated(items: list):
    if hasattr(items[0], "edge_index"):
        from torch_geometric.data import Batch

        return Batch.from_data_list(items)
    return torch.utils.data.default_collate(items)


def _expected(kind: str, epoch: int, order: list[int] | None = None) -> list[list]:
    """The sample-only policy's items, collated in batches of BATCH."""
    aug = AugmentedDataset(_data(kind), _sample_only_policy(kind))
    aug.set_epoch(epoch)
    order = list(range(len(aug))) if order is None else order
    return [flatten(_collated([aug[i] for i in order[j:j + BATCH]]))
            for j in range(0, len(order), BATCH)]


def _same(got: list[list], expected: list[list]) -> bool:
    return len(got) == len(expected) and all(
        len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
        for a, b in zip(got, expected, strict=True))


def _epoch(loader, epoch: int) -> list[list]:
    loader.set_epoch(epoch)
    return [flatten(batch) for batch in loader]


@pytest.mark.parametrize("kind", KINDS)
def test_batches_equal_sample_only_policy_for_any_workers(kind):
    expected = [_expected(kind, 0), _expected(kind, 1)]
    assert not _same(expected[0], expected[1])  # epochs differ
    aug = AugmentedDataset(_data(kind), _split_policy(kind))
    for workers in (0, 1, 2, 4):
        loader = aug.loader(BATCH, num_workers=workers, **_wait(workers))
        assert len(loader) == len(expected[1])
        assert _same(_epoch(loader, 1), expected[1]), workers
    persistent = aug.loader(BATCH, num_workers=2, persistent_workers=True, **_wait(1))
    for epoch in (0, 1, 0):  # each epoch replays, through the same workers
        assert _same(_epoch(persistent, epoch), expected[epoch]), epoch


@pytest.mark.parametrize("kind", KINDS)
def test_batch_stage_on_device_in_main_process_equals_worker_path(kind):
    aug = AugmentedDataset(_data(kind), _split_policy(kind))
    loader = aug.loader(BATCH, num_workers=1, device="cpu", **_wait(1))
    batches = list(loader)
    assert _same([flatten(b) for b in batches], _expected(kind, 0))
    if kind == "graph":
        from torch_geometric.data import Batch

        assert all(isinstance(b, Batch) for b in batches)
    else:
        assert all(isinstance(b, list) and len(b) == 2 for b in batches)  # default_collate's


def test_graph_batches_pickle_and_follow_batch():
    # A Batch that went through the batch stage comes out of workers (it pickles) as PyG's
    # own class, and follow_batch reaches PyG's collation.
    from torch_geometric.data import Batch

    aug = AugmentedDataset(graph_dataset(), _split_policy("graph"))
    batch = next(iter(aug.loader(BATCH, num_workers=1, follow_batch=["edge_attr"], **_wait(1))))
    assert type(batch).__name__ == "DataBatch"
    flat = AugmentedDataset(graph_dataset(), _sample_only_policy("graph"))
    expected = Batch.from_data_list([flat[i] for i in range(BATCH)], follow_batch=["edge_attr"])
    assert "edge_attr_batch" in batch.keys()
    assert _same([flatten(batch)], [flatten(expected)])


def test_shuffle_with_generator_replays():
    aug = AugmentedDataset(_data("table"), _split_policy("table"))
    runs = [[flatten(b) for b in aug.loader(BATCH, shuffle=True, generator=g)]
            for g in (7, torch.Generator().manual_seed(7), 8)]
    assert _same(runs[0], runs[1])
    assert not _same(runs[0], runs[2])
    assert not _same(runs[0], _expected("table", 0))  # shuffled
    # The same order gives the sample-only policy's items.
    flat = AugmentedDataset(_data("table"), _sample_only_policy("table"))
    assert _same(runs[0], [flatten(b) for b in flat.loader(BATCH, shuffle=True, generator=7)])


def test_batch_only_steps_same_for_any_workers():
    # mixup draws from the stream of the batch's item indices, not of the worker collating.
    policy = Policy(sample=[augkit.make("gaussian_blur")],
                    batch=[augkit.make("mixup", alpha=0.4, num_classes=3)], seed=2)
    aug = AugmentedDataset(_images(), policy)
    runs = [[flatten(b) for b in aug.loader(BATCH, num_workers=w, drop_last=True, **_wait(w))]
            for w in (0, 2)]
    assert _same(runs[0], runs[1])
    assert len(runs[0]) == len(_images()) // BATCH
    assert runs[0][0][1].shape == (BATCH, 3)  # soft labels


def test_keywords_reach_the_dataloader():
    aug = AugmentedDataset(_data("table"), _sample_only_policy("table"))
    backwards = list(range(len(aug)))[::-1]
    loader = aug.loader(BATCH, sampler=backwards, drop_last=True)
    assert len(loader) == len(aug) // BATCH
    assert _same([flatten(b) for b in loader], _expected("table", 0, backwards)[:len(loader)])


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"collate_fn": torch.utils.data.default_collate}, "collate_fn=: the loader collates"),
    ({"batch_sampler": [[0, 1]]}, "batch_sampler=: the loader batches by batch_size"),
    ({"shuffle": True, "sampler": [0, 1]}, "shuffle=True and sampler="),
    ({"pin_memroy": True}, "did you mean 'pin_memory'"),
    ({"generator": "seven"}, "an int seed or a torch.Generator"),
    ({"timeout": 5}, "timeout= with num_workers=0"),
])
def test_conflicting_keywords_are_refused(kwargs, words):
    aug = AugmentedDataset(_data("table"), _split_policy("table"))
    with pytest.raises(AugkitError, match="allowed") as info:
        aug.loader(BATCH, **kwargs)
    assert words in str(info.value)


def test_views_with_a_batch_stage_are_refused():
    sample, batch = _steps("graph")
    aug = AugmentedDataset(graph_dataset(), Policy(sample=sample, batch=batch, views=2))
    with pytest.raises(AugkitError, match="views and a batch stage; allowed"):
        aug.loader(BATCH)
    views = AugmentedDataset(graph_dataset(), Policy(sample=sample, views=2))
    first, second = next(iter(views.loader(BATCH)))  # one PyG Batch per view
    assert first.num_graphs == second.num_graphs == BATCH


@pytest.mark.parametrize("batch_size", [None, 0, True])
def test_batch_size_must_be_positive(batch_size):
    aug = AugmentedDataset(_data("table"), _split_policy("table"))
    with pytest.raises(AugkitError, match="batch_size"):
        aug.loader(batch_size)


def test_collate_on_graph_items_points_to_the_loader():
    policy = _split_policy("graph")
    graphs = graph_dataset()[:3]
    with pytest.raises(AugkitError, match=r"AugmentedDataset\(dataset, policy\)\.loader"):
        collate(policy)(graphs)
    from torch_geometric.data import Batch

    batch = collate(policy, Batch.from_data_list)(graphs)  # PyG's own collation works
    assert type(batch).__name__ == "DataBatch" and batch.num_graphs == 3
