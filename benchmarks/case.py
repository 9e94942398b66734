"""What a benchmark suite declares: cases the harness times, interleaved against anchors.

A suite is a module ``augkit.benchmarks.suites.<family>`` (file
``benchmarks/suites/<family>.py``) with::

    SUITE = "graph"
    def cases(quick: bool, device: str) -> Iterable[Case]: ...

``setup`` builds the input once (not timed); ``run`` and each anchor's ``run`` take that state
and do one timed call. The harness synchronises CUDA before reading the clock, interleaves
augkit and anchors A B A B after a warm-up, and reports the median of at least 5 runs. A case
with ``soak`` is not timed against anything: its ``run`` is called ``Soak.calls`` times in a
row while the resident set is sampled (see :mod:`augkit.benchmarks.soak`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Anchor:
    """The library a user would pick instead, doing the same work."""

    label: str  # e.g. "PyG dropout_edge + edge_attr filter"
    run: Callable[[Any], Any]
    requires: tuple[str, ...] = ()  # import names; a missing one marks the anchor skipped
    note: str = ""  # e.g. "wrong on graphs stored as row > col"
    # Optional goal on the speed ratio augkit/anchor (anchor time / augkit time): the table
    # marks it met when ratio >= goal_ratio (1.0: "no slower than this anchor").
    goal_ratio: float | None = None


@dataclass(frozen=True)
class Soak:
    """Call a case's ``run`` many times in one process and watch the resident set (RSS)."""

    calls: int  # calls after the warm-up
    warmup: int = 0  # calls before the RSS baseline (0: a tenth of ``calls``, at least 1)
    samples: int = 100  # RSS readings, evenly spaced over ``calls``
    # RSS rise over the second half (see soak.verdict) that still counts as flat.
    allowance_bytes: int = 4 << 20


@dataclass
class Case:
    suite: str  # "graph", "imbalance", "vision", "utilities", "pipeline", "loader"
    name: str  # "edge_dropout/undirected"
    transforms: tuple[str, ...]  # registry names this case exercises
    size: int  # the swept size (edges, images, rows, nodes)
    size_unit: str  # "edges", "images", "rows", "nodes"
    items: int  # items per call, for throughput (often == size)
    unit: str  # throughput unit, e.g. "edges/s"
    setup: Callable[[], Any]
    run: Callable[[Any], Any]
    anchors: list[Anchor] = field(default_factory=list)
    device: str = "cpu"
    # A plain copy of the input into a preallocated buffer: how far from memory bandwidth.
    floor: Callable[[Any], Any] | None = None
    requires: tuple[str, ...] = ()  # import names augkit's side needs
    note: str = ""
    goal: str = ""  # what this case should show, in words (a column of the results table)
    floor_label: str = "copy into a preallocated buffer"  # what the floor does, if not a copy
    # Rounds this case runs at least (capped by the mode's max_runs): for long calls whose
    # times swing with the machine (fresh large outputs), where 5 rounds give unsteady medians.
    min_rounds: int = 0
    # Set: a soak instead of interleaved timing; ``run`` draws its own item and index.
    soak: Soak | None = None


def device_goal(device: str, *, cpu: float | None = None,
                cuda: float | None = None) -> float | None:
    """An anchor's goal ratio on ``device``: the issues set the goals per device (and on CUDA
    for the large sizes only, where launch overhead no longer decides); None records the row
    without a goal."""
    return cuda if device.startswith("cuda") else cpu
