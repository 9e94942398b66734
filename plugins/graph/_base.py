"""``GraphTransform``: what the graph transforms share (kinds, levels, the input check, one
seed drawn per call, and the batch stage's per-graph seeds)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from augkit._checked import is_checked, mark_checked
from augkit.plugins.graph import _pyg, hetero
from augkit.plugins.graph._subset import check_graph
from augkit.random import draw_seed
from augkit.transform import Transform


class GraphTransform(Transform):
    """A transform of PyG ``Data`` or ``Batch`` (every graph of a Batch on its own, in one
    vectorized call) that never changes its input and draws one seed per call from the
    generator it is given. A transform whose own ``p`` is a rate spells its apply
    probability ``apply_p`` (``apply_key``).

    In the batch stage a subclass may implement :meth:`apply_graphs`: the whole Batch in one
    call with one seed per graph, each graph coming out as :meth:`apply` gives it alone."""

    kinds = ("graph",)
    levels = ("sample", "batch")
    counter_draws = True

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._per_type = bool(hetero.per_type_params(self))  # mappings: HeteroData only

    def check_input(self, data: Any) -> None:
        if self._per_type or hetero.is_hetero(data):
            hetero.check_input(self, data)
            return
        if not is_checked(data):  # an earlier step of this policy call checked or built it
            check_graph(data, self.label(), node_ids=self.reads_edge_ids())

    def reads_edge_ids(self) -> bool:
        """Whether this transform indexes with the node ids of ``edge_index``. Only then does
        its input check scan them (a pass over every edge), and only then is its output taken
        as checked by the next step of a policy call; a view of node features says False."""
        return True

    def _whole_check(self, data: Any) -> bool:
        """Whether ``data`` is (or this call's check makes it) checked in full, node ids too."""
        return self.reads_edge_ids() or is_checked(data)

    def forward(self, data: Any, generator: Any) -> tuple[Any, dict[str, Any]]:
        whole = self._whole_check(data)
        out, params = super().forward(data, generator)
        if whole:  # built from a checked graph: the next step of the call need not check it
            mark_checked(out)
        return out, params

    def forward_items(self, batch: Any, generators: Sequence[Any],
                      active: Sequence[bool] | None = None) -> Any:
        whole = self._whole_check(batch)
        out = super().forward_items(batch, generators, active)
        if whole:
            mark_checked(out)
        return out

    def make_params(self, data: Any, generator: Any) -> dict[str, Any]:
        return {"seed": draw_seed(generator)}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Seed-only while the draw is this class's own (a subclass may draw more).
        cls.seed_only = cls.make_params is GraphTransform.make_params

    def item_params(self, batch: Any, index: int, generator: Any) -> dict[str, Any]:
        # The draw does not read the graph, so it is not taken out of the Batch.
        if type(self).make_params is GraphTransform.make_params:
            return {"seed": draw_seed(generator)}
        return super().item_params(batch, index, generator)

    def apply_items(self, batch: Any, params: Sequence[dict[str, Any] | None]) -> Any:
        if not _pyg.is_batch(batch) or type(self).apply_graphs is GraphTransform.apply_graphs \
                or hetero.is_hetero(batch):  # HeteroData: graph by graph
            return super().apply_items(batch, params)
        dev = _pyg.device_of(batch)
        seeds = torch.tensor([0 if p is None else int(p["seed"]) for p in params],
                             dtype=torch.long).to(dev)
        applied = torch.tensor([p is not None for p in params], dtype=torch.bool).to(dev)
        return self.apply_graphs(batch, seeds, applied)

    def apply_seeds(self, batch: Any, seeds: np.ndarray, chosen: np.ndarray) -> Any:
        if not _pyg.is_batch(batch) or type(self).apply_graphs is GraphTransform.apply_graphs \
                or hetero.is_hetero(batch):  # HeteroData: graph by graph
            return super().apply_seeds(batch, seeds, chosen)
        dev = _pyg.device_of(batch)
        applied = torch.from_numpy(chosen)
        return self.apply_graphs(batch, torch.from_numpy(seeds).to(dev), applied.to(dev))

    def apply_graphs(self, batch: Any, seeds: torch.Tensor, applied: torch.Tensor) -> Any:
        """The Batch with graph ``g`` as :meth:`apply` gives it alone with seed ``seeds[g]``
        where ``applied[g]``, else as it is (``seeds``/``applied`` on the Batch's device)."""
        raise NotImplementedError(f"{type(self).__name__} has no per-graph batch path")
