"""``augkit demo`` section "imbalance": breast_cancer made imbalanced and resampled with
examples/policies/imbalance.yaml, and graph_smote on a generated imbalanced SBM graph."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import numpy as np

from augkit.demo import Row

SECTION = "imbalance"


def _counts(y: np.ndarray) -> str:
    return " ".join(f"{k}:{v}" for k, v in sorted(Counter(np.asarray(y).tolist()).items()))


def _imbalanced_breast_cancer(keep_malignant: int = 40, seed: int = 0
                              ) -> tuple[np.ndarray, np.ndarray]:
    """sklearn's breast_cancer (212 malignant = 0, 357 benign = 1) with only
    ``keep_malignant`` malignant rows kept, standardised."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(seed)
    malignant = np.flatnonzero(y == 0)
    keep = np.sort(np.concatenate([rng.choice(malignant, keep_malignant, replace=False),
                                   np.flatnonzero(y == 1)]))
    X, y = X[keep], y[keep]
    return (X - X.mean(0)) / X.std(0), y


def _picture(X: np.ndarray, X_res: np.ndarray, y_res: np.ndarray, graph_before: dict,
             graph_after: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(X)
    # A 2-D PCA fitted on the real rows: synthetic rows fall between real ones.
    mean = X.mean(0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    real = (X - mean) @ vt[:2].T
    fake = (X_res[n:] - mean) @ vt[:2].T
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    ax = axes[0]
    y = y_res[:n]
    ax.scatter(*real[y == 1].T, s=8, c="#9db4c0", label="benign (real)")
    ax.scatter(*real[y == 0].T, s=14, c="#c0392b", label="malignant (real)")
    ax.scatter(*fake.T, s=14, marker="x", c="#f39c12", label="malignant (SMOTE)")
    ax.set_title("breast_cancer, 40 malignant kept: PCA of real and synthetic rows")
    ax.legend(fontsize=8)
    ax = axes[1]
    classes = sorted(graph_before)
    width = 0.38
    pos = np.arange(len(classes))
    ax.bar(pos - width / 2, [graph_before[c] for c in classes], width, label="before")
    ax.bar(pos + width / 2, [graph_after[c] for c in classes], width, label="after graph_smote")
    ax.set_xticks(pos, [f"class {c}" for c in classes])
    ax.set_ylabel("training nodes")
    ax.set_title("imbalanced SBM graph: training nodes per class")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(out_dir: Path, policies_dir: Path) -> list[Row]:
    import augkit

    from .synthetic import imbalanced_sbm

    rows: list[Row] = []
    policy_path = Path(policies_dir) / "imbalance.yaml"
    policy = augkit.load_policy(policy_path)
    X, y = _imbalanced_breast_cancer()
    start = time.perf_counter()
    X_res, y_res = policy.fit_resample(X, y)
    elapsed = time.perf_counter() - start
    rows.append(Row(SECTION, f"breast_cancer {X.shape[0]}x{X.shape[1]} (made imbalanced)",
                    policy_path.name, _counts(y), _counts(y_res), len(y_res) / elapsed,
                    "rows/s", "imbalance.png"))

    graph = imbalanced_sbm(20_000, avg_degree=10, class_fractions=(0.8, 0.15, 0.05), seed=0)
    t = augkit.make("graph_smote", k_neighbors=5, edges="copy_source")
    start = time.perf_counter()
    out = t(graph, generator=0)
    elapsed = time.perf_counter() - start
    before = Counter(graph.y[graph.train_mask].tolist())
    after = Counter(out.y[out.train_mask].tolist())
    rows.append(Row(
        SECTION, f"SBM graph {graph.num_nodes} nodes, {graph.num_edges} edges",
        "graph_smote (k_neighbors 5, copy_source)",
        f"train {_counts(graph.y[graph.train_mask].numpy())}",
        f"train {_counts(out.y[out.train_mask].numpy())}; {out.num_nodes} nodes, "
        f"{out.num_edges} edges",
        graph.num_nodes / elapsed, "nodes/s", "imbalance.png"))
    _picture(X, X_res, y_res, dict(before), dict(after), Path(out_dir) / "imbalance.png")
    return rows
