"""``GraphTransform``: what the graph transforms share (kinds, levels, the input check, one
seed drawn per call)."""

from __future__ import annotations

from typing import Any

from augkit.plugins.graph._subset import check_graph
from augkit.random import draw_seed
from augkit.transform import Transform


class GraphTransform(Transform):
    """A transform of PyG ``Data`` or ``Batch`` (every graph of a Batch on its own, in one
    vectorized call) that never changes its input and draws one seed per call from the
    generator it is given. A transform whose own ``p`` is a rate spells its apply
    probability ``apply_p`` (``apply_key``)."""

    kinds = ("graph",)
    levels = ("sample", "batch")
    counter_draws = True

    def check_input(self, data: Any) -> None:
        check_graph(data, self.label())

    def make_params(self, data: Any, generator: Any) -> dict[str, Any]:
        return {"seed": draw_seed(generator)}
