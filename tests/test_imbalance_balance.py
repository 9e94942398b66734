"""augkit.balance (augmented copies of minority graphs) and the class-balanced sampler."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import augkit
from augkit._balance import ClassBalancedSampler, resolve_sampling_strategy
from augkit.errors import InputError


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(1, 30), min_size=1, max_size=4), data=st.data())
def test_strategy_resolution_equals_imbalanced_learn(counts, data):
    utils = pytest.importorskip("imblearn.utils")
    y = np.repeat(np.arange(len(counts)) * 3, counts)
    classes = sorted(set(y.tolist()))
    form = data.draw(st.sampled_from(["auto", "minority", "not minority", "not majority", "all",
                                      "dict", "float", "callable"]))
    if form == "dict":
        strategy = {c: data.draw(st.integers(0, 40)) for c in
                    data.draw(st.lists(st.sampled_from(classes), unique=True, min_size=1))}
    elif form == "float":
        strategy = data.draw(st.floats(0.01, 1.0))
    elif form == "callable":
        strategy = lambda yy: {int(yy.min()): 50}  # noqa: E731
    else:
        strategy = form
    try:
        theirs = dict(utils.check_sampling_strategy(strategy, y, "over-sampling"))
    except ValueError:
        with pytest.raises(InputError):
            resolve_sampling_strategy(strategy, y)
        return
    assert resolve_sampling_strategy(strategy, y) == theirs


def _graphs(n=40, seed=0):
    pytest.importorskip("torch_geometric")
    from torch_geometric.data import Data

    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        nodes = 5 + i % 7
        ei = torch.randint(0, nodes, (2, 3 * nodes), generator=g)
        label = 0 if i < n * 0.75 else (1 if i < n * 0.9 else 2)
        out.append(Data(x=torch.randn(nodes, 4, generator=g), edge_index=ei,
                        y=torch.tensor([label])))
    return out


POLICY = "augkit: 1\nseed: 3\nsample:\n  - toy.add_noise: {scale: 0.5}\n"


def _x_policy(toys):
    # A sample policy over the graphs' x, built from the core's toy transform.
    from augkit.transform import Transform

    noise = toys["toy.add_noise"](scale=0.5)

    class OnX(Transform):
        name = "on_x"

        def make_params(self, data, generator):
            return noise.make_params(data.x, generator)

        def apply(self, data, params):
            out = data.clone()
            out.x = noise.apply(data.x, params)
            return out

    return OnX()


def test_balance_brings_minorities_up_reproducibly(toys):
    graphs = _graphs()
    before = [g.x.clone() for g in graphs]
    policy = _x_policy(toys)
    a = augkit.balance(graphs, policy=policy, seed=11)
    b = augkit.balance(graphs, policy=policy, seed=11)
    c = augkit.balance(graphs, policy=policy, seed=12)
    assert Counter(int(g.y) for g in a) == {0: 30, 1: 30, 2: 30}
    assert a.class_counts() == {0: 30, 1: 30, 2: 30}
    assert all(torch.equal(a[i].x, b[i].x) for i in range(len(a)))  # same seed, same data
    assert any(not torch.equal(a[i].x, c[i].x) for i in range(40, len(a)))
    assert all(a[i] is graphs[i] for i in range(40))  # originals first, untouched
    assert all(torch.equal(g.x, x) for g, x in zip(graphs, before, strict=True))
    copies = [a[i] for i in range(40, len(a))]
    sources = [graphs[int(s)] for s in a.sources[40:]]
    assert all(int(cp.y) == int(src.y) for cp, src in zip(copies, sources, strict=True))
    # Each copy is a fresh draw: two copies of one source differ.
    same = {}
    for i in range(40, len(a)):
        same.setdefault(int(a.sources[i]), []).append(a[i].x)
    pair = next(v for v in same.values() if len(v) > 1)
    assert not torch.equal(pair[0], pair[1])
    # A round of copies spreads over the whole class before repeating any item.
    for label in (1, 2):
        members = [i for i, g in enumerate(graphs) if int(g.y) == label]
        per_source = Counter(a.sources[40:].tolist())
        times = [per_source[i] for i in members]
        assert max(times) - min(times) <= 1


def test_balance_accepts_policies_strategies_and_labels(toys):
    graphs = _graphs()
    plain = augkit.balance(graphs, sampling_strategy={2: 10})
    assert plain.class_counts() == {0: 30, 1: 6, 2: 10}
    assert plain[45] is graphs[int(plain.sources[45])]  # no policy: plain copies
    policy = augkit.load_policy("augkit: 1\nseed: 4\nsample:\n  - toy.shift: {amount: 1.0}\n")
    pairs = [(torch.zeros(2), int(g.y)) for g in graphs]
    shifted = augkit.balance([p[0] for p in pairs], policy, labels=[p[1] for p in pairs],
                             sampling_strategy="minority")
    assert shifted.class_counts()[2] == 30
    assert torch.equal(shifted[len(shifted) - 1], torch.ones(2))
    with pytest.raises(InputError, match="single class"):
        augkit.balance(graphs[:10])
    with pytest.raises(InputError, match="one label per item"):
        augkit.balance(graphs, labels=[0, 1])


def test_balance_reads_pyg_dataset_labels_without_building_graphs():
    tg = pytest.importorskip("torch_geometric.datasets")
    ds = tg.FakeDataset(num_graphs=30, avg_num_nodes=6, num_classes=3, task="graph")
    out = augkit.balance(ds)
    counts = Counter(ds.y.tolist())
    assert set(out.class_counts().values()) == {max(counts.values())}


def test_balance_is_a_function_and_its_classes_are_public_in_data():
    import inspect

    from augkit import balance
    from augkit.data import BalancedDataset, ClassBalancedSampler

    assert inspect.isfunction(augkit.balance) and balance is augkit.balance
    out = balance([1, 2, 3], labels=[0, 0, 1])
    assert isinstance(out, BalancedDataset) and out.class_counts() == {0: 2, 1: 2}
    assert issubclass(ClassBalancedSampler, torch.utils.data.Sampler)


def test_sampler_balances_in_expectation():
    stats = pytest.importorskip("scipy.stats")
    labels = np.repeat([0, 1, 2], [900, 90, 10])
    sampler = ClassBalancedSampler(labels, num_samples=30_000, seed=1)
    idx = np.fromiter(iter(sampler), dtype=np.int64)
    per_class = np.bincount(labels[idx], minlength=3)
    assert stats.chisquare(per_class).pvalue > 1e-3  # uniform over classes
    within = np.bincount(idx[labels[idx] == 2] - 990, minlength=10)
    assert stats.chisquare(within).pvalue > 1e-3  # uniform within a class
    # The same test rejects a plain uniform draw: the check has teeth.
    plain = np.random.default_rng(0).integers(0, 1000, 30_000)
    assert stats.chisquare(np.bincount(labels[plain], minlength=3)).pvalue < 1e-6


def test_sampler_epochs_weights_and_loader():
    labels = torch.tensor([0] * 50 + [1] * 5)
    s = ClassBalancedSampler(labels, seed=2)
    first = list(s)
    assert list(s) == first and len(first) == len(s) == 55
    s.set_epoch(1)
    assert list(s) != first
    w = ClassBalancedSampler(labels, 2000, class_weights={0: 1.0, 1: 3.0})
    share = np.mean(labels.numpy()[w.indices()] == 1)
    assert 0.7 < share < 0.8
    loader = torch.utils.data.DataLoader(torch.arange(55), batch_size=11, sampler=s)
    assert sum(len(b) for b in loader) == 55
    with pytest.raises(InputError, match="one label per item"):
        ClassBalancedSampler(np.zeros((3, 2)))
