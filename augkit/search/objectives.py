"""Objectives on bundled or generated data, small enough to train on a CPU in seconds.

Each is ``objective(policy, trial=None, *, seed=0, split="search") -> score`` (higher is
better). ``split="search"`` trains on part of the training data and scores on the rest (what a
study sees); ``split="test"`` trains on all of it and scores on held-out data the search never
saw. ``seed`` draws the data set's split (and the table's subsample) and the model's
initialisation. With a trial, per-epoch scores are reported, so a pruner can stop a trial.

- :func:`imbalance`: macro-F1 of a regularised logistic regression on scikit-learn's
  breast_cancer with the malignant class cut to a few rows; the policy's ``dataset`` stage
  resamples each training fold (stratified cross-validation, repeated: a few minority rows
  per fold make one split's score too noisy to rank policies by).
- :func:`graphs`: accuracy of a small GIN telling graphs with planted cliques from graphs with
  planted cycles, trained on few graphs whose node features are mostly noise (it memorises
  them unless regularised); the policy's ``sample`` stage augments each graph every epoch.
- :func:`images`: accuracy of a small CNN on scikit-learn's 8x8 digits from few images per
  class, some with a wrong label (it memorises them unless regularised); ``sample`` steps
  augment each image, ``batch`` steps (erasing, blur, mixup, cutmix) each batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from augkit.errors import ParamError
from augkit.policy import Policy

SPLITS = ("search", "test")


def _check(split: str, **counts: Any) -> None:
    """A ParamError unless ``split`` is one of SPLITS and every one of ``counts`` is an
    integer >= 1."""
    if split not in SPLITS:
        raise ParamError(f"split: got {split!r}; allowed: {', '.join(SPLITS)}", param="split")
    _check_counts(**counts)


def _check_counts(**counts: Any) -> None:
    """A ParamError naming the first of ``counts`` (epochs, training graphs) that is not an
    integer >= 1."""
    for name, value in counts.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ParamError(f"{name}: got {value!r}; allowed: an integer >= 1", param=name)


# ---- imbalanced table -------------------------------------------------------------------


def imbalance_data(seed: int = 0, minority: int = 30) -> tuple[Any, Any, Any, Any]:
    """breast_cancer with ``minority`` malignant rows kept (of 212), standardised, split in
    half (stratified): (X_train, y_train, X_test, y_test)."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(seed)
    malignant = np.flatnonzero(y == 0)
    keep = np.concatenate([np.flatnonzero(y == 1), rng.choice(malignant, minority, False)])
    X, y = X[keep], y[keep]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.5, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), y_train, scaler.transform(X_test), y_test


def _fit_score(policy: Policy, X: Any, y: Any, X_eval: Any, y_eval: Any) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    X_res, y_res = policy.fit_resample(X, y)
    model = LogisticRegression(C=0.05, max_iter=500).fit(np.asarray(X_res), np.asarray(y_res))
    return float(f1_score(y_eval, model.predict(X_eval), average="macro"))


def imbalance(policy: Policy, trial: Any = None, *, seed: int = 0,
              split: str = "search") -> float:
    """Macro-F1 (higher is better) of a regularised logistic regression after the policy's
    dataset stage."""
    _check(split)
    from sklearn.model_selection import RepeatedStratifiedKFold

    X, y, X_test, y_test = imbalance_data(seed)
    if split == "test":
        return _fit_score(policy, X, y, X_test, y_test)
    scores = []
    folds = RepeatedStratifiedKFold(n_splits=3, n_repeats=3, random_state=seed)
    for k, (fit, held) in enumerate(folds.split(X, y)):
        scores.append(_fit_score(policy, X[fit], y[fit], X[held], y[held]))
        if trial is not None:
            trial.report(float(np.mean(scores)), k)
            if trial.should_prune():
                _prune()
    return float(np.mean(scores))


def _prune() -> None:
    import optuna

    raise optuna.TrialPruned()


# ---- graphs -------------------------------------------------------------------------------


#: Standard-normal node feature columns next to the constant one in :func:`graph_data`.
NOISE_COLUMNS = 16
MOTIFS, MOTIF_NODES = 3, 6


def graph_data(seed: int = 0, count: int = 440) -> list[Any]:
    """``count`` graphs: a random tree with ``MOTIFS`` planted motifs of ``MOTIF_NODES`` nodes,
    cliques (class 1) or cycles (class 0), each joined to the tree by one edge. Node features:
    a constant and ``NOISE_COLUMNS`` noise columns, so only the structure tells the classes
    apart and the noise is there to be memorised."""
    import networkx as nx
    import torch
    from torch_geometric.data import Data
    from torch_geometric.utils import to_undirected

    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        label = i % 2
        g = nx.random_labeled_tree(int(rng.integers(12, 25)), seed=int(rng.integers(1 << 31)))
        for _ in range(MOTIFS):
            base = g.number_of_nodes()
            motif = nx.complete_graph if label else nx.cycle_graph
            g = nx.disjoint_union(g, motif(MOTIF_NODES))
            g.add_edge(int(rng.integers(base)), base)
        n = g.number_of_nodes()
        edges = torch.tensor(list(g.edges), dtype=torch.long).reshape(-1, 2).t()
        x = torch.cat([torch.ones(n, 1), torch.from_numpy(
            rng.normal(size=(n, NOISE_COLUMNS)).astype(np.float32))], dim=1)
        out.append(Data(x=x, edge_index=to_undirected(edges, num_nodes=n),
                        y=torch.tensor([label])))
    order = rng.permutation(count)
    return [out[i] for i in order]


def _gin(seed: int) -> Any:
    import torch
    from torch import nn
    from torch_geometric.nn import GINConv, global_add_pool

    torch.manual_seed(seed)

    class GIN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            mlp = lambda a, b: nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Linear(b, b))  # noqa: E731
            self.convs = nn.ModuleList([GINConv(mlp(NOISE_COLUMNS + 1, 32)), GINConv(mlp(32, 32))])
            self.head = nn.Linear(32, 2)

        def forward(self, batch: Any) -> Any:
            h = batch.x
            for conv in self.convs:
                h = torch.relu(conv(h, batch.edge_index))
            return self.head(global_add_pool(h, batch.batch))

    return GIN()


def graph_splits(seed: int = 0, train_size: int = 40) -> tuple[list[Any], list[Any], list[Any]]:
    """:func:`graph_data` cut into ``train_size`` training graphs, 200 validation graphs (what
    a search scores on) and 200 held-out graphs, disjoint."""
    _check_counts(train_size=train_size)
    data = graph_data(seed, count=train_size + 400)
    return data[:train_size], data[train_size:-200], data[-200:]


def graphs(policy: Policy, trial: Any = None, *, seed: int = 0, split: str = "search",
           epochs: int = 80, train_size: int = 40) -> float:
    """Accuracy (higher is better) of a GIN trained on ``train_size`` augmented graphs, scored
    on 200 validation graphs (``split="search"``) or 200 held-out ones (``split="test"``); a
    smaller validation set puts many policies at a score of 1 and leaves a search nothing to
    rank them by."""
    _check(split, epochs=epochs, train_size=train_size)
    import torch
    from torch_geometric.data import Batch

    train, valid, test = graph_splits(seed, train_size)
    evaluate = test if split == "test" else valid
    model = _gin(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    eval_batch = Batch.from_data_list(evaluate)
    g = torch.Generator().manual_seed(seed)
    accuracy = 0.0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(train), generator=g).tolist()
        for start in range(0, len(order), 20):
            items = [policy(train[i], index=i, epoch=epoch) for i in order[start:start + 20]]
            batch = policy.apply_batch(Batch.from_data_list(items),
                                       indices=torch.tensor(order[start:start + 20]),
                                       epoch=epoch)
            optimiser.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(batch), batch.y)
            loss.backward()
            optimiser.step()
        if (epoch + 1) % 20 == 0 or epoch + 1 == epochs:
            accuracy = _accuracy(model, eval_batch, eval_batch.y)
            if trial is not None:
                trial.report(accuracy, epoch)
                if trial.should_prune():
                    _prune()
    return accuracy


def _accuracy(model: Any, inputs: Any, labels: Any) -> float:
    import torch

    model.eval()
    with torch.no_grad():
        return float((model(inputs).argmax(1) == labels).float().mean())


# ---- images -------------------------------------------------------------------------------


def digits_data(seed: int = 0, per_class: int = 20,
                label_noise: float = 0.3) -> tuple[Any, Any, Any, Any, Any, Any]:
    """scikit-learn's digits as float tensors (N, 1, 8, 8) in [0, 1]: ``per_class`` training
    images per class, a ``label_noise`` share of their labels replaced by a random class,
    300 validation images, the rest held out (their labels untouched)."""
    import torch
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(y))
    train = np.concatenate([order[y[order] == c][:per_class] for c in range(10)])
    rest = np.setdiff1d(order, train)
    rest = rest[rng.permutation(len(rest))]
    valid, test = rest[:300], rest[300:]
    images = torch.from_numpy((X / 16.0).astype(np.float32)).reshape(-1, 1, 8, 8)
    labels = torch.from_numpy(y)
    y_train = labels[train].clone()
    noisy = torch.from_numpy(rng.random(len(train)) < label_noise)
    y_train[noisy] = torch.from_numpy(rng.integers(0, 10, int(noisy.sum())))
    return (images[train], y_train, images[valid], labels[valid], images[test],
            labels[test])


def _cnn(seed: int) -> Any:
    import torch
    from torch import nn

    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 16, 64), nn.ReLU(), nn.Linear(64, 10))


def images(policy: Policy, trial: Any = None, *, seed: int = 0, split: str = "search",
           epochs: int = 40) -> float:
    """Accuracy (higher is better) of a small CNN trained on few augmented digits with noisy
    labels."""
    _check(split, epochs=epochs)
    import torch
    import torch.nn.functional as F

    X, y, X_valid, y_valid, X_test, y_test = digits_data(seed)
    X_eval, y_eval = (X_test, y_test) if split == "test" else (X_valid, y_valid)
    model = _cnn(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.003)
    g = torch.Generator().manual_seed(seed)
    accuracy = 0.0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(y), generator=g)
        for start in range(0, len(order), 25):
            index = order[start:start + 25]
            inputs = torch.stack([policy(X[i], index=int(i), epoch=epoch) for i in index]) \
                if policy.sample else X[index]
            targets = F.one_hot(y[index], 10).float()
            if policy.batch:
                inputs, targets = policy.apply_batch((inputs, targets), indices=index,
                                                     epoch=epoch)
            optimiser.zero_grad()
            loss = F.cross_entropy(model(inputs), targets)
            loss.backward()
            optimiser.step()
        if (epoch + 1) % 10 == 0 or epoch + 1 == epochs:
            accuracy = _accuracy(model, X_eval, y_eval)
            if trial is not None:
                trial.report(accuracy, epoch)
                if trial.should_prune():
                    _prune()
    return accuracy


#: name -> objective, for the command line and the evidence script.
OBJECTIVES = {"imbalance": imbalance, "graphs": graphs, "images": images}
