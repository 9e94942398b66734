"""Demo section "graph": examples/policies/graph.yaml on PyG's KarateClub and networkx's
les_miserables: node and edge counts before and after, graphs per second, and a before/after
picture (``graph_policy.png``) drawn with networkx and matplotlib (Agg)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from augkit.demo import Row
from augkit.policy import load_policy

PICTURE = "graph_policy.png"


def _rate(fn: Any, min_time: float = 0.3) -> float:
    """Calls per second of ``fn(k)`` over at least ``min_time`` seconds, after warm-up calls
    that take every branch of the policy once (the first call of a kernel compiles it)."""
    for k in range(16):
        fn(10**6 + k)
    calls, start = 0, time.perf_counter()
    while True:
        calls += 1
        fn(calls)  # a new index each call: a new draw, as in a loader
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return calls / elapsed


def _datasets() -> list[tuple[str, Any]]:
    import networkx as nx
    from torch_geometric.datasets import KarateClub

    from augkit.plugins.graph.convert import from_networkx

    miserables = from_networkx(nx.les_miserables_graph())
    # The policy masks x, and a networkx graph has no features: each node's degree is one.
    miserables.x = torch.bincount(miserables.edge_index[0],
                                  minlength=miserables.num_nodes).float().view(-1, 1)
    return [("PyG KarateClub", KarateClub()[0]), ("networkx les_miserables", miserables)]


def _counts(data: Any) -> str:
    # Undirected graphs store each pair twice: report pairs, as networkx would.
    return f"{data.num_nodes} nodes, {data.edge_index.size(1) // 2} edges"


def run(out_dir: Path, policies_dir: Path) -> list[Row]:
    path = Path(policies_dir) / "graph.yaml"
    policy = load_policy(path)
    rows, shown = [], []
    for name, data in _datasets():
        # A node_id column shows which original nodes survived (the policy compacts it).
        tagged = data.clone()
        tagged.node_id = torch.arange(data.num_nodes)
        after = policy(tagged, index=0)
        rate = _rate(lambda k, data=data: policy(data, index=k))
        shown.append((name, data, after))
        rows.append(Row("graph", name, path.name, _counts(data), _counts(after), rate,
                        "graphs/s", PICTURE))
    _draw(shown, Path(out_dir) / PICTURE)
    return rows


def _draw(shown: list[tuple[str, Any, Any]], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    from augkit.plugins.graph.convert import to_networkx

    fig, axes = plt.subplots(len(shown), 2, figsize=(10, 5 * len(shown)))
    for row, (name, before, after) in zip(axes, shown, strict=True):
        g0 = to_networkx(before)
        pos = nx.spring_layout(g0, seed=0)
        # Every surviving node is drawn where it was: relabel through the kept node ids.
        g1 = to_networkx(after, nodes=after.node_id.tolist())
        for ax, g, title in ((row[0], g0, "before"), (row[1], g1, "after")):
            nx.draw_networkx(g, pos={v: pos[v] for v in g.nodes}, ax=ax, node_size=40,
                             with_labels=False, width=0.6, node_color="#4477aa")
            ax.set_title(f"{name}: {title} ({g.number_of_nodes()} nodes, "
                         f"{g.number_of_edges()} edges)")
            ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(target, dpi=80)
    plt.close(fig)
