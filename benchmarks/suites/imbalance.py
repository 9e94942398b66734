"""Imbalance suite: smote / adasyn and the samplers after them (random_oversample, smotenc,
smoten, borderline_smote, svm_smote, kmeans_smote, smote_enn, smote_tomek) through augkit
against imbalanced-learn called directly with the same parameters (the overhead of augkit's
checks and dispatch), graph_smote against a dense-adjacency
GraphSMOTE-style baseline (as in the original code: an N x N adjacency, the synthetic node's
row copied from its source row, nearest neighbour from a dense distance matrix), and
graph_smote's own size sweep (its log-log slope should be about 1). On CUDA only: smote /
adasyn on device tensors against imbalanced-learn on the CPU."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from augkit.benchmarks.case import Anchor, Case

SUITE = "imbalance"


def _table(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n rows, d features, classes 90% / 7% / 3%, as sklearn make_classification would give
    (drawn directly so setup stays fast)."""
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=[0.9, 0.07, 0.03])
    X = rng.standard_normal((n, d)) + 0.5 * y[:, None]
    return X, y


def _oversampler_cases(quick: bool) -> Iterable[Case]:
    n, d = (2_000, 8) if quick else (100_000, 32)
    for name, imb_name, key in (("smote", "SMOTE", "k_neighbors"),
                                ("adasyn", "ADASYN", "n_neighbors")):

        def setup(name: str = name) -> Any:
            import augkit

            X, y = _table(n, d)
            return augkit.make(name, random_state=0), X, y

        def run(state: Any) -> Any:
            t, X, y = state
            return t.fit_resample(X, y)

        def anchor(state: Any, imb_name: str = imb_name) -> Any:
            from imblearn import over_sampling

            _, X, y = state
            return getattr(over_sampling, imb_name)(random_state=0).fit_resample(X, y)

        yield Case(
            suite=SUITE, name=f"{name}/{n}x{d}", transforms=(name,), size=n, size_unit="rows",
            items=n, unit="rows/s", setup=setup, run=run,
            anchors=[Anchor(f"imbalanced-learn {imb_name}.fit_resample", anchor,
                            requires=("imblearn",), note="same result bit for bit",
                            goal_ratio=0.95)],
            requires=("imblearn", "sklearn"),
            note=f"{key}=5, 3 classes 90/7/3 %",
            goal="overhead <= 5% over imbalanced-learn at 1e5 x 32",
            # Long calls whose shared k-NN time is bimodal: a median of few rounds swings
            # on either side of the goal for a wrapper whose own overhead is small.
            min_rounds=15,
        )


def _binary_table(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n rows, d features, two classes 95 % / 5 %."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.05).astype(np.int64)
    X = rng.standard_normal((n, d)) + 0.5 * y[:, None]
    return X, y


def _mixed_table(n: int, d: int, n_cat: int) -> tuple[np.ndarray, np.ndarray]:
    """The binary table as an object array whose first n_cat columns are categories 0..4."""
    X, y = _binary_table(n, d)
    rng = np.random.default_rng(1)
    X = X.astype(object)
    for j in range(n_cat):
        X[:, j] = rng.integers(0, 5, n)
    return X, y


def _categorical_table(n: int, d: int) -> tuple[np.ndarray, np.ndarray]:
    """The binary table's labels with d categorical columns (5 categories each)."""
    _, y = _binary_table(n, 1)
    rng = np.random.default_rng(1)
    return (rng.integers(0, 5, (n, d)) + y[:, None]) % 5, y


# name, imbalanced-learn module and class, parameters, table, (n, d) full and quick, note.
# Sizes below 1e5 x 32 are where imbalanced-learn's own call takes a few seconds: SVMSMOTE
# fits an SVC on every row, SMOTEN and the cleaning steps (ENN, Tomek links) build k-NN
# graphs over all rows.
_MORE_SAMPLERS = (
    ("random_oversample", "over_sampling", "RandomOverSampler", {}, _binary_table,
     (100_000, 32), "plain copies"),
    ("random_oversample", "over_sampling", "RandomOverSampler", {"shrinkage": 0.5},
     _binary_table, (100_000, 32), "shrinkage=0.5 (smoothed bootstrap)"),
    ("smotenc", "over_sampling", "SMOTENC", {"categorical_features": [0, 1, 2, 3]},
     lambda n, d: _mixed_table(n, d, 4), (100_000, 32),
     "4 of 32 columns categorical (object array), k_neighbors=5"),
    ("smoten", "over_sampling", "SMOTEN", {}, _categorical_table, (50_000, 8),
     "8 categorical columns, 5 categories each, k_neighbors=5"),
    ("borderline_smote", "over_sampling", "BorderlineSMOTE", {}, _binary_table,
     (100_000, 32), "borderline-1, k_neighbors=5, m_neighbors=10"),
    ("svm_smote", "over_sampling", "SVMSMOTE", {}, _binary_table, (30_000, 32),
     "SVC(gamma='scale'), k_neighbors=5, m_neighbors=10"),
    ("kmeans_smote", "over_sampling", "KMeansSMOTE", {"cluster_balance_threshold": 0.0},
     _binary_table, (100_000, 32),
     "MiniBatchKMeans(8), k_neighbors=2, cluster_balance_threshold=0 (auto finds no cluster "
     "dense enough in this table)"),
    ("smote_enn", "combine", "SMOTEENN", {}, _binary_table, (20_000, 32),
     "SMOTE(k=5) then ENN(3) on every class"),
    ("smote_tomek", "combine", "SMOTETomek", {}, _binary_table, (20_000, 32),
     "SMOTE(k=5) then Tomek links on every class"),
)


def _more_sampler_cases(quick: bool) -> Iterable[Case]:
    for name, module, imb_name, params, table, full, note in _MORE_SAMPLERS:
        n, d = (2_000, 8) if quick else full

        def setup(name: str = name, params: dict = params, table: Any = table,
                  n: int = n, d: int = d) -> Any:
            import augkit

            X, y = table(n, d)
            return augkit.make(name, random_state=0, **params), X, y

        def run(state: Any) -> Any:
            t, X, y = state
            return t.fit_resample(X, y)

        def anchor(state: Any, module: str = module, imb_name: str = imb_name,
                   params: dict = params) -> Any:
            import importlib

            _, X, y = state
            cls = getattr(importlib.import_module(f"imblearn.{module}"), imb_name)
            return cls(random_state=0, **params).fit_resample(X, y)

        variant = "/shrinkage" if "shrinkage" in params else ""
        yield Case(
            suite=SUITE, name=f"{name}{variant}/{n}x{d}", transforms=(name,), size=n,
            size_unit="rows", items=n, unit="rows/s", setup=setup, run=run,
            anchors=[Anchor(f"imbalanced-learn {imb_name}.fit_resample", anchor,
                            requires=("imblearn",), note="same result bit for bit",
                            goal_ratio=0.95)],
            requires=("imblearn", "sklearn"),
            note=f"{note}; 2 classes 95/5 %",
            goal=">= 0.95x imbalanced-learn (the same result, no slower)",
        )


def _graph(n: int, seed: int = 0) -> Any:
    from augkit.plugins.imbalance.synthetic import imbalanced_sbm

    return imbalanced_sbm(n, avg_degree=10, class_fractions=(0.8, 0.15, 0.05),
                          train_fraction=0.2, seed=seed)


def dense_graphsmote(data: Any, seed: int = 0) -> tuple[Any, Any, Any]:
    """The original GraphSMOTE input-space oversampling (``src_smote``), in torch: per minority
    class, a dense distance matrix among its training nodes, the nearest one as partner, one
    interpolation; then a dense (N + M) x (N + M) adjacency whose new rows and columns are the
    source's. Brings each minority class up to the majority count, as augkit's 'auto'."""
    import torch

    n = data.num_nodes
    adj = torch.zeros(n, n)
    adj[data.edge_index[0], data.edge_index[1]] = 1.0
    g = torch.Generator().manual_seed(seed)
    train = torch.nonzero(data.train_mask).view(-1)
    y_train = data.y[train]
    counts = torch.bincount(y_train)
    chosen, feats = [], []
    for c in range(len(counts)):
        need = int(counts.max() - counts[c])
        if need == 0:
            continue
        members = train[y_train == c]
        x_c = data.x[members]
        dist = torch.cdist(x_c, x_c)
        dist.fill_diagonal_(float("inf"))
        partner = dist.argmin(dim=1)
        reps = torch.arange(need) % len(members)
        u = torch.rand(need, 1, generator=g)
        feats.append(x_c[reps] + u * (x_c[partner[reps]] - x_c[reps]))
        chosen.append(members[reps])
    src = torch.cat(chosen)
    m = len(src)
    new_adj = adj.new_zeros(n + m, n + m)
    new_adj[:n, :n] = adj
    new_adj[n:, :n] = adj[src, :]
    new_adj[:n, n:] = adj[:, src]
    new_adj[n:, n:] = adj[src, :][:, src]
    return torch.cat([data.x, torch.cat(feats)]), new_adj, src


def _graph_cases(quick: bool) -> Iterable[Case]:
    def run(data: Any) -> Any:
        import augkit

        return augkit.make("graph_smote", k_neighbors=5)(data, generator=0)

    # Against the dense baseline where its (N + M)^2 float32 matrix fits in memory.
    # Quick: 1,000 nodes leaves the 5 % class 10 training nodes, enough for k = 5.
    dense_sizes = (1_000,) if quick else (2_000, 5_000, 10_000, 20_000)
    for n in dense_sizes:
        yield Case(
            suite=SUITE, name="graph_smote/vs-dense", transforms=("graph_smote",),
            size=n, size_unit="nodes", items=n, unit="nodes/s",
            setup=lambda n=n: _graph(n), run=run,
            anchors=[Anchor("GraphSMOTE-style dense adjacency (src_smote)", dense_graphsmote,
                            requires=("torch",),
                            note="O(N^2) memory: out of reach at 1e6 nodes (4 TB)",
                            goal_ratio=1.0)],
            requires=("torch_geometric", "sklearn"),
            note="avg degree 10, classes 80/15/5 %, 20 % training nodes",
            goal="faster than the dense baseline at every size",
        )
    # graph_smote's own sweep: the log-log slope of time against nodes should be about 1.
    sweep = (1_000, 4_000) if quick else (10_000, 100_000, 1_000_000)
    for n in sweep:
        yield Case(
            suite=SUITE, name="graph_smote/sweep", transforms=("graph_smote",),
            size=n, size_unit="nodes", items=n, unit="nodes/s",
            setup=lambda n=n: _graph(n), run=run, anchors=[],
            requires=("torch_geometric", "sklearn"),
            note=f"{n * 10:.0e} edges",
            goal="log-log slope of time against nodes within 0.9..1.2",
            # The slope rests on the end points: the largest call gets more than the
            # 5 rounds its time budget allows.
            min_rounds=11,
        )


def _cuda_oversampler_cases(quick: bool) -> Iterable[Case]:
    """smote / adasyn on CUDA tensors (k-NN and interpolation on the device) against
    imbalanced-learn on the CPU on the same table as float32 numpy."""
    n, d = (20_000, 8) if quick else (1_000_000, 32)
    for name, imb_name in (("smote", "SMOTE"), ("adasyn", "ADASYN")):

        def setup(name: str = name) -> Any:
            import torch

            import augkit

            X, y = _table(n, d)
            X = X.astype(np.float32)
            Xt = torch.from_numpy(X).to("cuda")
            yt = torch.from_numpy(y).to("cuda")
            return augkit.make(name, random_state=0), Xt, yt, X, y

        def run(state: Any) -> Any:
            t, Xt, yt, _, _ = state
            return t.fit_resample(Xt, yt)

        def anchor(state: Any, imb_name: str = imb_name) -> Any:
            from imblearn import over_sampling

            _, _, _, X, y = state
            return getattr(over_sampling, imb_name)(random_state=0).fit_resample(X, y)

        yield Case(
            suite=SUITE, name=f"{name}/cuda", transforms=(name,), size=n, size_unit="rows",
            items=n, unit="rows/s", setup=setup, run=run, device="cuda",
            anchors=[Anchor(f"imbalanced-learn {imb_name}.fit_resample on the CPU (numpy)",
                            anchor, requires=("imblearn",),
                            note="same draws; neighbours may differ only where distances tie",
                            goal_ratio=20.0)],
            requires=("imblearn", "sklearn", "torch"),
            note="float32 CUDA tensors in and out, k=5, 3 classes 90/7/3 %",
            goal=">= 20x imbalanced-learn on the CPU",
            # Each anchor call takes seconds at 1e6 x 32: the fewest rounds the harness allows.
            min_rounds=1,
        )


def cases(quick: bool, device: str) -> Iterable[Case]:
    """The imbalance cases: on the CPU, augkit against imbalanced-learn and the dense
    GraphSMOTE baseline; on CUDA, smote / adasyn on device tensors against imbalanced-learn on
    the CPU."""
    if device == "cuda":
        yield from _cuda_oversampler_cases(quick)
        return
    yield from _oversampler_cases(quick)
    yield from _more_sampler_cases(quick)
    yield from _graph_cases(quick)
