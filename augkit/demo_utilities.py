"""``augkit demo`` section "utilities": feature scaling without leakage, the diffusion forward
process on a real photograph, and EfficientNet compound scaling next to the released table.

networkx, PyG, matplotlib and scikit-learn (optional extras) are imported by the rows that
use them."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from augkit.demo import Row
from augkit.diffusion import alphas_cumprod, q_sample
from augkit.policy import load_policy
from augkit.registry import make
from augkit.scaling import compound_scaling, efficientnet_params

SECTION = "utilities"


def _rate(fn: Any, items: int, repeats: int = 5) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return items * repeats / (time.perf_counter() - start)


def _karate() -> Any:
    """KarateClub (PyG's bundled copy) with four structural node features from networkx:
    degree, clustering, closeness, PageRank (the one-hot identity features say nothing)."""
    import networkx as nx
    from torch_geometric.datasets import KarateClub

    data = KarateClub()[0]
    g = nx.Graph()
    g.add_nodes_from(range(data.num_nodes))
    g.add_edges_from(data.edge_index.t().tolist())
    feats = [dict(g.degree()), nx.clustering(g), nx.closeness_centrality(g), nx.pagerank(g)]
    data.x = torch.tensor([[f[i] for f in feats] for i in range(data.num_nodes)],
                          dtype=torch.float32)
    return data


def _scaling_rows(policies_dir: Path) -> list[Row]:
    data = _karate()
    policy = load_policy(policies_dir / "utilities.yaml")
    policy.fit(data)
    scaler = policy.sample[0]
    train = data.train_mask
    scaled = scaler(data).x
    deg = data.x[:, 0]
    rows = [Row(
        SECTION, f"KarateClub {data.num_nodes} nodes, 4 structural features",
        "standardize (fit_on: train_mask)",
        f"degree mean {deg.mean():.2f} std {deg.std(unbiased=False):.2f}; "
        f"{int(train.sum())} train nodes",
        f"train nodes mean {scaled[train, 0].mean():+.2f} std "
        f"{scaled[train, 0].std(unbiased=False):.2f}; others {scaled[~train, 0].mean():+.2f}",
        _rate(lambda: scaler(data), 1, 200), "graphs/s",
    )]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fitted.yaml"
        policy.save(path)
        again = load_policy(path)
    same = torch.equal(again(data, index=0).x, policy(data, index=0).x)
    rows.append(Row(
        SECTION, "KarateClub", "utilities.yaml: save -> load_policy",
        "fitted mean/var as YAML floats",
        "reloaded policy output " + ("identical" if same else "DIFFERENT"),
        _rate(lambda: policy(data, index=1), 1, 200), "graphs/s",
    ))
    return rows


def _diffusion_row(out_dir: Path) -> Row:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.datasets import load_sample_image

    image = torch.from_numpy(np.array(load_sample_image("china.jpg"))).permute(2, 0, 1)
    x0 = image.float().div(127.5).sub(1.0)[None]  # [-1, 1], the DDPM convention
    steps = [0, 50, 150, 300, 500, 999]
    batch = x0.expand(len(steps), -1, -1, -1)
    gen = torch.Generator().manual_seed(0)
    xt = q_sample(batch, torch.tensor(steps), schedule="cosine", generator=gen)
    abar = alphas_cumprod("cosine")
    fig, axes = plt.subplots(1, len(steps), figsize=(3 * len(steps), 2.4))
    for ax, step, img in zip(axes, steps, xt, strict=True):
        ax.imshow(((img.clamp(-1, 1) + 1) / 2).permute(1, 2, 0).numpy())
        ax.set_title(f"t={step}  abar={abar[step]:.3f}", fontsize=9)
        ax.axis("off")
    fig.tight_layout()
    name = "utilities_diffusion_strip.png"
    fig.savefig(out_dir / name, dpi=80)
    plt.close(fig)
    noise = make("diffusion_noise", schedule="cosine")
    eight = x0.expand(8, -1, -1, -1).contiguous()
    rate = _rate(lambda: noise(eight, generator=0), 8, 3)
    corr = float(np.corrcoef(xt[-1].flatten().numpy(), x0.flatten().numpy())[0, 1])
    return Row(
        SECTION, f"china.jpg {tuple(x0.shape[1:])} float32",
        "diffusion_noise (cosine, T=1000)",
        "t = " + ", ".join(map(str, steps)),
        f"corr(x_999, x_0) = {corr:+.3f}; per-sample t in a batch",
        rate, "images/s", name,
    )


def _compound_row() -> Row:
    released = [efficientnet_params(f"b{b}").resolution for b in range(8)]
    formula = [compound_scaling(b).image_size for b in range(8)]
    return Row(
        SECTION, "EfficientNet B0..B7", "compound_scaling(phi=0..7)",
        "released px " + "/".join(map(str, released)),
        "formula px " + "/".join(map(str, formula)),
    )


def run(out_dir: Path, policies_dir: Path) -> list[Row]:
    """The utilities section: rows for the demo table; writes one PNG into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [*_scaling_rows(Path(policies_dir)), _diffusion_row(out_dir), _compound_row()]
