"""A policy call checks its graph once: the first graph step checks the input and the steps
after it take what the earlier ones built as checked. A graph that user code built or changed,
and an output handed back to the user, are checked again."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch_geometric.data import Batch, Data

from augkit import Policy, make
from augkit.errors import InputError
from augkit.plugins.graph import _base
from augkit.transform import Transform


def _graph(n: int = 6) -> Data:
    ring = torch.arange(n)
    ei = torch.cat([torch.stack([ring, (ring + 1) % n]), torch.stack([(ring + 1) % n, ring])], 1)
    g = torch.Generator().manual_seed(n)
    return Data(x=torch.randn(n, 3, generator=g), edge_index=ei,
                edge_attr=torch.randn(ei.size(1), 2, generator=g))


def _steps() -> list[Transform]:
    return [make("edge_dropout", p=0.2), make("feature_masking", p=0.3),
            make("node_dropout", p=0.1)]


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The owner named by every structural check the graph transforms run."""
    seen: list[str] = []
    real = _base.check_graph

    def counting(data: Any, owner: str, **kw: Any) -> None:
        seen.append(owner)
        real(data, owner, **kw)

    monkeypatch.setattr(_base, "check_graph", counting)
    return seen


def test_a_policy_call_checks_its_graph_once(checks: list[str]) -> None:
    policy = Policy(sample=_steps(), seed=0)
    g = _graph()
    for i in range(4):
        policy(g, index=i)
    assert checks == ["edge_dropout"] * 4


def test_the_batch_stage_checks_its_batch_once(checks: list[str]) -> None:
    policy = Policy(batch=_steps(), seed=0)
    policy.apply_batch(Batch.from_data_list([_graph(5), _graph(7)]), indices=[0, 1])
    assert checks == ["edge_dropout"]


def test_a_broken_input_is_refused_by_the_first_step() -> None:
    g = _graph()
    g.edge_index = g.edge_index.clone()
    g.edge_index[0, 0] = 99
    with pytest.raises(InputError, match="edge_dropout: edge_index holds node id 99"):
        Policy(sample=_steps(), seed=0)(g, index=0)


def test_a_view_of_node_features_leaves_edge_ids_to_the_steps_that_index_with_them() -> None:
    """node_shuffling reads no edge ids, so it does not scan them and hands its output on
    unchecked: the step after it, which indexes with them, checks them itself."""
    g = _graph()
    g.edge_index = g.edge_index.clone()
    g.edge_index[0, 0] = 99
    out = make("node_shuffling")(g, generator=0)
    assert out.edge_index is g.edge_index
    policy = Policy(sample=[make("node_shuffling"), make("edge_dropout", p=0.2)], seed=0)
    with pytest.raises(InputError, match="edge_dropout: edge_index holds node id 99"):
        policy(g, index=0)
    with pytest.raises(InputError, match="feature_masking: edge_index holds node id 99"):
        make("feature_masking", target="edge_attr")(g, generator=0)


def test_an_output_handed_back_is_checked_again() -> None:
    policy = Policy(sample=_steps(), seed=0)
    out = policy(_graph(), index=0)
    out.edge_index = torch.tensor([[0], [50]])
    with pytest.raises(InputError, match="feature_masking: "):
        make("feature_masking").check_input(out)
    with pytest.raises(InputError, match="edge_dropout: "):
        policy(out, index=1)


class _Breaks(Transform):
    """User code inside a step: builds a graph with a transform call, then breaks it."""

    name = "tests.breaks_graph"
    kinds = ("graph",)

    def apply(self, data: Any, params: dict[str, Any]) -> Any:
        out = make("edge_dropout", p=0.0)(data, generator=0)
        out.edge_index = torch.tensor([[0], [50]])
        return out


def test_a_graph_that_user_code_built_and_changed_is_checked_again() -> None:
    policy = Policy(sample=[make("edge_dropout", p=0.1), _Breaks(), make("feature_masking")],
                    seed=0)
    with pytest.raises(InputError, match="feature_masking: "):
        policy(_graph(), index=0)
